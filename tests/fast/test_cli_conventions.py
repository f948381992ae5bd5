"""#13 point 8: the command follows CLI and pytest conventions.

``initcheck --version``; exit statuses stated in ``--help`` and the README;
``-x``/``--maxfail``; ``--junitxml`` from the command; help text without raw
reStructuredText; ``--check`` says globs and repeats work; ini-file options for
select, exclude, profile and timeout (timeout: tests/fast/test_timeout.py).
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from common.plugin_site import FakeEP, only_entry_points, write_site
from initcheck import __version__
from initcheck.cli import EXIT_CODES, build_parser, main
from initcheck.laws import Normal
from initcheck.spec import InitializerSpec

README = Path(__file__).resolve().parents[2] / "README.md"


def _helps():
    parser = build_parser()
    yield "initcheck", parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub.format_help()


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"initcheck {__version__}"


def test_exit_codes_in_help_and_readme():
    helps = dict(_helps())
    readme = README.read_text()
    for code in EXIT_CODES:
        for where in ("initcheck", "check"):
            assert re.search(rf"^\s+{code}\s+\S", helps[where], re.M), (where, code)
        assert re.search(rf"\|\s*`?{code}`?\s*\|", readme), f"README states no exit status {code}"


def test_help_has_no_raw_restructuredtext():
    for name, text in _helps():
        for marker in ("``", ":func:", ":class:", ":mod:", ":data:"):
            assert marker not in text, (name, marker)


def test_check_help_says_globs_and_repeats():
    text = re.sub(r"\s+", " ", dict(_helps())["check"])
    assert "--check GLOB" in text and "glob" in text and "repeat it" in text


def _nan_spec(name):
    return InitializerSpec(name=name, factory=lambda seed: (lambda shape, dtype=None: np.full(
        tuple(shape), np.nan, dtype=dtype or "float32")), law=Normal(std=1.0), dtypes=("float32",),
        unseeded_repeat="any")


@pytest.mark.parametrize("flags, failures", [(["-x"], 1), (["--maxfail", "2"], 2), ([], 3)])
def test_exitfirst_and_maxfail(monkeypatch, capsys, flags, failures):
    only_entry_points(monkeypatch, [FakeEP("nans", "specs", obj=[_nan_spec(n) for n in "ABC"])])
    assert main(["check", "--select", "nans", *flags]) == 1
    out = capsys.readouterr().out
    assert out.count("FAILED check_output_contract") == failures
    assert ("stopping after" in out) == bool(flags)


def test_junitxml_from_the_command(monkeypatch, capsys, tmp_path):
    only_entry_points(monkeypatch, [FakeEP("nans", "specs", obj=[_nan_spec("A")])])
    path = tmp_path / "out" / "junit.xml"
    assert main(["check", "--select", "nans", "--junitxml", str(path)]) == 1
    suite = ET.parse(path).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) > 10
    assert int(suite.get("failures")) == 1 and int(suite.get("skipped")) == len(cases) - 1
    failed = [c for c in cases if c.find("failure") is not None]
    assert failed[0].get("name") == "test_battery[nans>A-check_output_contract]"
    # initcheck matrix reads it like pytest's own JUnit XML
    from initcheck.reports.tf_matrix import read_junit

    battery = read_junit(path)[3]
    assert battery["nans>A"]["failed"] == 1 and battery["nans>A"]["skipped"] == len(cases) - 1


def test_ini_file_options(pytester, monkeypatch):
    site = write_site(pytester.path, {
        "inipkg": ("inipkg", "SPECS = [QUICK, QUICK.__class__(**{**QUICK.__dict__, 'name': 'Other'})]",
                   "inipkg:SPECS")})
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    pytester.makeini("[pytest]\ninitcheck = true\ninitcheck_select = inipkg\ninitcheck_exclude = inipkg>Other\n"
                     "initcheck_profile = thorough\n")
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert "inipkg>Half-check_output_contract" in out and "inipkg>Other" not in out
    pytester.makeini("[pytest]\ninitcheck = true\ninitcheck_select = inipkg\ninitcheck_profile = fast\n")
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret != 0 and "initcheck profile 'fast'" in result.stderr.str()
