"""#13 point 6: progress in CI logs, and a closing summary per check family.

Before: on a non-terminal nothing appeared until a spec finished (minutes for
a deep battery).  Now a throttled progress line per spec goes to stderr
(at most one per ``PROGRESS_EVERY`` seconds) and the run closes with counts
and time per check family.
"""

from __future__ import annotations

import re

from common.plugin_site import FakeEP, numpy_normal, only_entry_points
from initcheck import cli
from initcheck.laws import Normal
from initcheck.spec import InitializerSpec


def _spec(name):
    return InitializerSpec(name=name, factory=numpy_normal, law=Normal(std=1.0), dtypes=("float32",),
                           unseeded_repeat="any")


def test_throttled_progress_and_family_summary(monkeypatch, capsys):
    only_entry_points(monkeypatch, [FakeEP("prog", "specs", obj=[_spec("A"), _spec("B")])])
    monkeypatch.setattr(cli, "PROGRESS_EVERY", 0.0)  # every check, so the test needs no clock
    code = cli.main(["check", "--select", "prog", "--check", "check_output_contract", "--check", "check_mean",
                     "--check", "check_layer_variance_dense"])
    out, err = capsys.readouterr()
    assert code == 0, out
    progress = [line for line in err.splitlines() if line.startswith("... [")]
    assert progress and all(re.match(r"\.\.\. \[[12]/2\] prog>[AB]: check \d/3 \(check_\w+\), \d+s on this spec",
                                     line) for line in progress), progress
    assert {line.split()[2] for line in progress} == {"prog>A:", "prog>B:"}
    summary = out[out.index("by check family:"):]
    assert re.search(r"structural\s+2 passed\s+\(\d+\.\ds\)", summary), summary
    assert re.search(r"distribution\s+4 passed\s+\(\d+\.\ds\)", summary), summary


def test_progress_is_throttled(monkeypatch, capsys):
    only_entry_points(monkeypatch, [FakeEP("prog", "specs", obj=[_spec("A")])])
    monkeypatch.setattr(cli, "PROGRESS_EVERY", 3600.0)
    assert cli.main(["check", "--select", "prog", "--check", "check_output_contract"]) == 0
    out, err = capsys.readouterr()
    assert "... [" not in err  # nothing to say within the hour
    assert "ok   prog>A" in out
