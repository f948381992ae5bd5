"""The power table: each named wrong initializer is caught by the default gate.

The rows (:mod:`common.power_table`) pair a spec whose law is the *correct*
one with a deliberately wrong NumPy sampler and name the check that must
catch it.  Each row here runs on one case seed: the wrong sampler fails the
check (by design -- its discrepancy is at least what the check guarantees to
catch at its sample size -- and in practice), the correct one passes.
tests/slow/test_power_table_rates.py measures the detection rate over ten
more seeds.  The table is printed with ``-s`` and written to
``$INITCHECK_POWER_TABLE`` when that is set.
"""

from __future__ import annotations

import json
import os

import pytest

from common.power_table import IDS, ROWS, SEEDS, Row, run_row

_RECORD: list[dict] = []


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_wrong_initializer_is_caught(row: Row) -> None:
    _RECORD.append(run_row(row, SEEDS))


def test_power_table_is_complete_and_recorded() -> None:
    """Runs last in this module: prints the table, writes it where asked."""
    if len(_RECORD) < len(ROWS):
        pytest.skip("run the whole module to assemble the table")
    lines = [f"{'wrong initializer':58s} {'check':22s} {'n':>9s} {'discrep.':>9s} {'detect>=':>9s} caught"]
    for r in _RECORD:
        lines.append(f"{r['wrong initializer']:58s} {r['check']:22s} {r['n']:9d} {r['discrepancy']:9.3g} "
                     f"{r['smallest detectable (1-beta)']:9.3g} {r['caught']}")
    print("\n" + "\n".join(lines))
    out = os.environ.get("INITCHECK_POWER_TABLE")
    if out:
        with open(out, "w") as fh:
            json.dump(_RECORD, fh, indent=1)
    assert all(r["caught"] == f"{len(SEEDS)}/{len(SEEDS)}" for r in _RECORD)
