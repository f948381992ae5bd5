"""Every registered check has teeth: a row of table.py naming a wrong double it catches, a right object it
passes, and the tests under tests/teeth that run them.

The node ids are checked against what pytest collects from tests/teeth in a
subprocess (``-m ""``: tests marked slow count too), so a renamed or
deleted teeth test breaks this test, not the table silently.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from initcheck.checks import all_checks

from .table import LAYER_KINDS, OPTIMIZER_BUGS, TABLE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def teeth_node_ids() -> set[str]:
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "", "-p", "no:cacheprovider",
                          "-p", "no:xdist", "tests/teeth"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    ids = {line.strip() for line in run.stdout.splitlines() if "::" in line}
    assert len(ids) > len(TABLE) / 2, run.stdout[-2000:]
    return ids


def test_every_registered_check_has_a_row() -> None:
    registered = set(all_checks())
    assert len(registered) >= 57
    missing = sorted(registered - {row.check for row in TABLE})
    assert not missing, f"checks without teeth (add a wrong double, a right one and a row in table.py): {missing}"


def test_no_row_names_an_unknown_check() -> None:
    unknown = sorted({row.check for row in TABLE} - set(all_checks()))
    assert not unknown, f"table.py names checks that are not registered: {unknown}"


def test_every_named_teeth_test_exists(teeth_node_ids: set[str]) -> None:
    named = {row.catches for row in TABLE} | {row.passes for row in TABLE}
    assert all(n.startswith("tests/teeth/test_") for n in named), sorted(n for n in named
                                                                        if not n.startswith("tests/teeth/"))
    absent = sorted(named - teeth_node_ids)
    assert not absent, f"table.py names teeth tests that pytest does not collect: {absent}"


def test_rows_are_complete_and_distinct() -> None:
    for row in TABLE:
        assert all(row), row
    dupes = [key for key, n in Counter((r.check, r.wrong, r.catches) for r in TABLE).items() if n > 1]
    assert not dupes, dupes


def test_layer_kinds_and_optimizer_bugs_match_their_sources() -> None:
    """The written-out lists of the table follow what they describe (a new layer kind or planted bug needs a row)."""
    from common.optimizer_bugs import CASES
    from initcheck.checks.layers import LAYER_KINDS as KINDS

    assert set(LAYER_KINDS) == set(KINDS)
    assert [(c[0], c[3]) for c in CASES] == [(check, bug) for check, bug, _ in OPTIMIZER_BUGS]
