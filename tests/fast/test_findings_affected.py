"""`initcheck findings --affected` lists exactly the findings whose checks `initcheck check` xfails.

Both read the same declarations, one from package metadata (no TensorFlow),
the other through the battery on the installed TensorFlow/Keras: this test
runs one declared (spec, check) pair per finding; tests/slow runs every pair.
"""

from __future__ import annotations

from common.findings_battery import compare_affected_with_battery


def test_affected_matches_the_battery_one_pair_per_finding(capsys, tmp_path):
    compare_affected_with_battery(capsys, tmp_path, lambda pairs: pairs[:1])
