"""Speed of the optimizer battery (pytest-benchmark; never a timed assertion).

Run:  .venv/bin/pytest benchmarks/bench_optimizers.py --benchmark-only -p no:randomly

* ``test_bench_trajectory_adam``: one derandomized trajectory-check search
  (12 examples, 5 steps) on Adam -- the unit cost of the battery.
* ``test_bench_battery_builtin``: the whole optimizer battery over every
  built-in spec in the ``ci`` profile (one round; minutes, not seconds).
"""

from __future__ import annotations

import pytest

from initcheck.battery import Item, plan, run_one
from initcheck.builtin.optimizers import builtin_specs
from initcheck.checks import all_checks


def _battery() -> dict:
    specs = [(f"keras>{s.name}", s) for s in builtin_specs()]
    counts: dict = {}
    for item in plan(specs):
        if item.check.kind != "optimizer":
            continue
        status = run_one(item).status
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_bench_trajectory_adam(benchmark):
    spec = next(s for s in builtin_specs() if s.name == "Adam")
    item = Item("keras>Adam", spec, all_checks()["check_trajectory_matches_reference"])
    out = benchmark.pedantic(run_one, args=(item,), rounds=2, iterations=1)
    assert out.status == "passed"


@pytest.mark.slow
def test_bench_battery_builtin(benchmark):
    counts = benchmark.pedantic(_battery, rounds=1, iterations=1)
    assert counts.get("error", 0) == 0
