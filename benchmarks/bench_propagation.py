"""Cost of the propagation battery, and the measured-r table of docs/propagation.md.

Why: issue #4 asks that the whole propagation battery over the built-in
specs stays cheap enough for the default gate (about a minute or two), with
the time per spec known.  ``test_propagation_battery`` runs every
propagation check on every built-in spec it applies to, as the gate does
(:func:`initcheck.battery.run_one`, derandomized ``ci`` profile), and records
seconds per item in ``extra_info``.  ``test_simulator_pass`` times one
compiled forward/backward pass (depth 50, width 256, batch 64, 4 seeds,
float64) on weights already drawn, the part ``tf.function`` speeds up.

Run::

    .venv/bin/pytest benchmarks/bench_propagation.py --benchmark-only -q
    .venv/bin/python benchmarks/bench_propagation.py [cases]   # prints the r table

Verdicts are recorded, not asserted: that is the tests' business.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np
import pytest

CHECKS = ("check_signal_propagation", "check_signal_propagation_conv", "check_linear_isometry")


def _items() -> list:
    from initcheck.battery import plan
    from initcheck.builtin.initializers import builtin_specs

    return plan([(f"keras>{s.name}", s) for s in builtin_specs()], checks=list(CHECKS))


def run_battery() -> dict[str, Any]:
    """Run every propagation item once; seconds and status per item."""
    from initcheck.battery import run_one

    out = {}
    for item in _items():
        outcome = run_one(item)
        out[item.id] = {"status": outcome.status, "seconds": round(outcome.seconds, 2)}
    return out


def test_propagation_battery(benchmark: Any) -> None:
    result = benchmark.pedantic(run_battery, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info["items"] = result
    benchmark.extra_info["total_seconds"] = round(sum(v["seconds"] for v in result.values()), 1)


def test_simulator_pass(benchmark: Any) -> None:
    from initcheck.checks import _simulator as pg

    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 50, 256, 256)) * math.sqrt(2.0 / 256)
    pg.simulate(w, "relu", batch=64, data_seed=0)  # compile once
    benchmark.pedantic(pg.simulate, args=(w, "relu"), kwargs={"batch": 64, "data_seed": 1}, rounds=3,
                       iterations=1)


def r_table(cases: int = 3) -> list[dict[str, Any]]:
    """Measured r (over ``cases * SEEDS`` seeds) next to theory for each built-in spec x activation.

    Each case is the dense check itself with base seeds ``0..cases-1``; the
    per-seed statistics from the evidence are pooled.
    """
    from initcheck.battery import Item, run_check
    from initcheck.builtin.initializers import builtin_specs
    from initcheck.checks import all_checks

    check = all_checks()["check_signal_propagation"]
    rows = []
    for spec in builtin_specs():
        if not check.applies(spec):
            continue
        per: dict[str, dict[str, list[float]]] = {}
        ref: dict[str, Any] = {}
        start = time.perf_counter()
        for seed in range(cases):
            (ev,) = run_check(Item(f"keras>{spec.name}", spec, check), case={"seed": seed})
            for act, data in ev.data["activations"].items():
                slot = per.setdefault(act, {"forward": [], "backward": []})
                for d in slot:
                    slot[d].extend(data["per_seed"][d])
                ref[act] = data
        seconds = (time.perf_counter() - start) / cases
        for act, slot in per.items():
            k = ref[act]["n"]["depth"] - 1
            row = {"spec": spec.name, "activation": act, "seeds": len(slot["forward"]), "seconds_per_case": seconds}
            for d in ("forward", "backward"):
                r = np.exp(np.asarray(slot[d]) / k)
                row[d] = {"median": float(np.median(r)), "min": float(r.min()), "max": float(r.max()),
                          "theory": float(ref[act]["r_reference"][d]),
                          "theory_finite_width": math.exp(float(ref[act]["band"][d]["center"]) / k)}
            rows.append(row)
    return rows


def main(argv: list[str]) -> None:
    cases = int(argv[1]) if len(argv) > 1 else 3
    rows = r_table(cases) if cases > 0 else []
    print("| spec | activation | seeds | r forward median [min, max] | theory: mean field / width 256 "
          "| r backward median [min, max] | theory: mean field / width 256 | s / case |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        f, b = row["forward"], row["backward"]
        print(f"| {row['spec']} | {row['activation']} | {row['seeds']} | {f['median']:.4f} [{f['min']:.4f}, "
              f"{f['max']:.4f}] | {f['theory']:.4f} / {f['theory_finite_width']:.4f} | {b['median']:.4f} "
              f"[{b['min']:.4f}, {b['max']:.4f}] | {b['theory']:.4f} / {b['theory_finite_width']:.4f} | "
              f"{row['seconds_per_case']:.1f} |")
    start = time.perf_counter()
    result = run_battery()
    total = time.perf_counter() - start
    for key, value in result.items():
        print(f"{value['seconds']:7.2f}s {value['status']:8s} {key}")
    print(f"propagation battery over built-in specs: {total:.1f} s")


if __name__ == "__main__":
    main(sys.argv)
