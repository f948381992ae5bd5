"""CPU seconds of the main job (``initcheck check`` on every registered spec), split by check family.

Why CPU and not wall time: the shared machines this project is measured on
run at a load of 10-16 on 2 cores, where wall time is several times the CPU
time and varies from minute to minute; the CPU time a run consumes does not.

It runs exactly what ``initcheck check`` runs (:func:`initcheck.battery.plan`
over the registry, :func:`initcheck.battery.run_one` in the ``ci`` profile, spec
after spec) and charges each outcome the process CPU time (all threads,
TensorFlow's included) spent in it; a dependency run on first use
(``check_output_contract``) is charged to the check that triggered it, as in
the CLI's timings.  The layer checks and the checks of issue #14 are shown as
their own rows inside their family.

    python benchmarks/main_job_cpu.py [--json FILE] [--select PATTERNS] [--check NAME ...]

``--check`` runs only the named checks (in the battery's order, so a check
listed before another draws the pools they share, as in the whole run).

The figures in docs/performance.md ("The main job") come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict

#: Rows shown inside a family: checks grouped by what they test (the rest of the family is "marginal" etc.).
GROUPS = {
    "check_layer_": "distribution: layers",
    "check_atoms": "distribution: atoms and resolution",
    "check_resolution": "distribution: atoms and resolution",
    "check_pair_dependence": "distribution: dependence",
    "check_rank_independence": "distribution: dependence",
    "check_seed_collisions": "structural: seed collisions",
}


def group_of(check: str, family: str) -> str:
    for prefix, group in GROUPS.items():
        if check.startswith(prefix):
            return group
    return family + (": marginal" if family == "distribution" else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", default=None, help="write the per-outcome CPU times here")
    parser.add_argument("--select", default=None, help="comma-separated spec globs (default: every spec)")
    parser.add_argument("--check", action="append", default=None, help="only this check (repeatable)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    from initcheck import battery
    from initcheck.registry import load_registry, parse_patterns

    registry = load_registry(select=parse_patterns(args.select))
    items = battery.plan([(r.qualname, r.spec) for r in registry.specs.values()], "ci", checks=args.check)
    setup = time.process_time() - start_cpu
    rows, cpu, count, statuses = [], Counter(), Counter(), defaultdict(Counter)
    for item in items:
        t0 = time.process_time()
        outcome = battery.run_one(item, "ci")
        spent = time.process_time() - t0
        group = group_of(item.check.name, item.check.family)
        cpu[group] += spent
        count[group] += 1
        statuses[group][outcome.status] += 1
        rows.append({"spec": item.qualname, "check": item.check.name, "family": item.check.family,
                     "group": group, "status": outcome.status, "cpu_seconds": round(spent, 3)})
    total = time.process_time() - start_cpu
    print(f"{'family (group)':40s} {'outcomes':>8s} {'CPU s':>8s}  statuses")
    for group in sorted(cpu):
        print(f"{group:40s} {count[group]:8d} {cpu[group]:8.1f}  {dict(statuses[group])}")
    print(f"{'imports, registry, plan':40s} {'':8s} {setup:8.1f}")
    print(f"{'total (process CPU)':40s} {len(rows):8d} {total:8.1f}  wall {time.perf_counter() - start_wall:.0f} s, "
          f"load average at end {os.getloadavg()[0]:.1f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"total_cpu_seconds": total, "setup_cpu_seconds": setup, "by_group": dict(cpu),
                       "outcomes": rows}, fh, indent=1)
    return 1 if any(r["status"] in ("failed", "error", "xpassed") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
