"""`initcheck findings --affected` against the battery on every declared (spec, check) pair (slow)."""

from __future__ import annotations

from common.findings_battery import compare_affected_with_battery


def test_affected_matches_the_battery_on_every_declared_pair(capsys, tmp_path):
    compare_affected_with_battery(capsys, tmp_path, lambda pairs: pairs)
