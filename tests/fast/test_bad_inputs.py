"""The bad-input table of docs/plugin-authors.md: every row is run here, and its cells are checked.

For each row the test builds the bad plugin next to a good one, runs
``initcheck check`` the way a user would (in this process, the entry points
replaced; the Ctrl-C row runs in a subprocess), and asserts what the table
says: the text the user sees (the backquoted phrase of the "what you see"
cell), the exit status, and that the good plugin still ran.  A row of the
table without a scenario here, or a scenario without a row, fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from common.plugin_site import FakeEP, numpy_normal, only_entry_points, sleeper
from initcheck.cli import main
from initcheck.laws import Constant, Normal
from initcheck.spec import InitializerSpec

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugin-authors.md"


def _good():
    return InitializerSpec(name="Half", factory=lambda seed: (lambda shape, dtype=None: np.full(
        tuple(shape), 0.5, dtype=dtype or "float32")), law=Constant(0.5), tags=frozenset({"deterministic"}),
        seeded_repeat="any", dtypes=("float32",))


def _spec(name, factory=numpy_normal, **kw):
    kw.setdefault("dtypes", ("float32",))
    return InitializerSpec(name=name, factory=factory, law=kw.pop("law", Normal(std=1.0)), unseeded_repeat="any",
                           **kw)


def _returns(fn):
    return lambda seed: (lambda shape, dtype=None: fn(tuple(shape), dtype or "float32"))


def _raising_factory(seed):
    raise RuntimeError("factory exploded")


#: Row name (first cell of the table) -> entry points of the bad plugin.
SCENARIOS = {
    "negative std": lambda: [FakeEP("bad", "s", obj=_spec("NegStd", law=Normal(std=-1.0)))],
    "unknown tag": lambda: [FakeEP("bad", "s", obj=_spec("Typo", tags=frozenset({"iid", "seded"})))],
    "factory raises": lambda: [FakeEP("bad", "s", obj=_spec("Raises", factory=_raising_factory))],
    "NaN values": lambda: [FakeEP("bad", "s", obj=_spec("NaNs", factory=_returns(lambda s, d: np.full(s, np.nan, d))))],
    "wrong shape": lambda: [FakeEP("bad", "s", obj=_spec("Shape", factory=_returns(lambda s, d: np.zeros(s + (1,), d))))],
    "wrong dtype": lambda: [FakeEP("bad", "s", obj=_spec("Dtype", factory=_returns(lambda s, d: np.zeros(s, "float64"))))],
    "missing module": lambda: [FakeEP("bad", "s", exc=ModuleNotFoundError("No module named 'bad_dependency'"))],
    "not a spec": lambda: [FakeEP("bad", "s", obj=42)],
    "duplicate across entry points": lambda: [FakeEP("bad", "s", obj=_spec("Same", namespace="shared")),
                                              FakeEP("bad-too", "s", obj=_spec("Same", namespace="shared"))],
    "hang": lambda: [FakeEP("bad", "s", obj=_spec("Sleeps", factory=sleeper(30)))],
}


def table() -> dict[str, dict[str, str]]:
    """The rows of the bad-input table: ``{bad input: {"see": ..., "exit": ..., "rest": ..., "test": ...}}``."""
    text = DOC.read_text()
    start = text.index("| bad input |")
    rows = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = {"see": cells[1], "exit": cells[2], "rest": cells[3], "test": cells[4]}
    return rows


def test_every_row_has_a_scenario():
    rows = table()
    assert set(rows) == set(SCENARIOS) | {"Ctrl-C"}, set(rows) ^ (set(SCENARIOS) | {"Ctrl-C"})
    for name, row in rows.items():
        assert re.search(r"`[^`]+`", row["see"]), f"row {name!r}: no backquoted phrase of what the user sees"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_row(name, monkeypatch, capsys):
    row = table()[name]
    only_entry_points(monkeypatch, [FakeEP("good", "s", obj=[_good()]), *SCENARIOS[name]()])
    code = main(["check", "--timeout", "2" if name == "hang" else "600"])
    out, err = capsys.readouterr()
    assert str(code) == row["exit"].strip("`"), out + err
    for phrase in re.findall(r"`([^`]+)`", row["see"]):
        assert phrase in out + err, (phrase, out + err)
    assert "ok   good>Half" in out, out  # the rest of the run continued
    assert "the rest ran" in row["rest"]


def test_ctrl_c_row_is_the_interrupt_test():
    row = table()["Ctrl-C"]
    assert row["exit"] == "`130`" and "test_interrupted_or_killed_run_leaves_a_valid_partial_report" in row["test"]
    from fast import test_timeout

    assert hasattr(test_timeout, "test_interrupted_or_killed_run_leaves_a_valid_partial_report")
