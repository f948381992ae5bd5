"""The power table's detection rate: every row is caught for each of ten more case seeds (slow)."""

from __future__ import annotations

import pytest

from common.power_table import IDS, ROWS, SLOW_SEEDS, Row, run_row


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_detection_rate_over_seeds(row: Row) -> None:
    """On demand: every row is caught for each of ten more case seeds."""
    run_row(row, SLOW_SEEDS)
