"""Old heuristic tolerance vs the running error bound, on the cases the battery draws.

Run (a script, not a pytest benchmark)::

    python benchmarks/tolerance_bounds.py [--profile ci|thorough] [--select 'keras>Adam']
        [--check check_clipping ...] [--json out.jsonl]
    python benchmarks/tolerance_bounds.py --select 'keras>Adam' \\
        --check check_clipping --case '{"clip": ...}'          # replay one case
    python benchmarks/tolerance_bounds.py --teeth         # the planted bugs

For every comparison the optimizer checks make (Keras vs the reference, or
two Keras runs) it records the worst error over the new tolerance, over the
old heuristic ``32*k*eps*(|w|+path) + 4*spread``, over the raw bound
(``bound_ratio``), and the median and maximum of new/old tolerance over the
coordinates.  A coordinate's tolerance is the smallest error the check
detects there, so new/old is the change in the smallest detectable error.
The verdicts are the new tolerance's (the battery runs as usual); the old
one is only measured.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="ci", choices=("ci", "thorough"))
    parser.add_argument("--select", default="keras>*,initcheck-example>*")
    parser.add_argument("--check", action="append", default=None)
    parser.add_argument("--case", default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--teeth", action="store_true", help="the teeth tests' planted bugs instead of the battery")
    args = parser.parse_args(argv)

    from initcheck import battery
    from initcheck.registry import load_registry, parse_patterns

    rows, current = instrument()
    if args.teeth:
        return teeth(rows, current)

    registry = load_registry(select=parse_patterns(args.select), exclude=None, kinds=("optimizer",))
    items = battery.plan([(r.qualname, r.spec) for r in registry.specs.values()], args.profile, args.check)
    items = [it for it in items if it.check.name != "check_mirrored_strategy" or args.check]
    case = json.loads(args.case) if args.case else None
    statuses: dict = {}
    t0 = time.perf_counter()
    for it in items:
        current["spec"], current["check"] = it.qualname, it.check.name
        start = len(rows)
        out = battery.run_one(it, args.profile, case)
        statuses[out.status] = statuses.get(out.status, 0) + 1
        for row in rows[start:]:
            row["status"] = out.status
        if out.status in ("failed", "error", "xpassed"):
            print(f"{out.status.upper()} {it.qualname} {it.check.name}: {out.message.splitlines()[0]}", flush=True)
            for ev in out.evidence:
                print("   case:", json.dumps(ev.case, sort_keys=True), flush=True)
    elapsed = time.perf_counter() - t0
    if case is not None:
        for row in rows:
            print(json.dumps({k: v for k, v in row.items() if k != "case"}, sort_keys=True))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, sort_keys=True, default=str) + "\n")
    summarize(rows)
    print(f"{len(items)} items: {statuses} in {elapsed:.1f}s (profile {args.profile}; both tolerances computed)")
    return 0


_MODULES = ("initcheck.checks.optimizer.runner", "initcheck.checks.optimizer.rules", "initcheck.checks.optimizer.modes")


def instrument() -> tuple:
    """Wrap the checks' ``tolerance`` and ``compare_to_reference`` to record both tolerances per comparison."""
    import importlib

    from initcheck.checks.evidence import CheckFailure
    from initcheck.checks.optimizer import runner as oc

    rows: list[dict] = []
    current: dict = {}
    real_tolerance = oc.tolerance
    real_compare = oc.compare_to_reference

    def tolerance(spec, case, grads, lrs, trace, lr_computed=False, grad_ulps=0.0, grad_err=None, **kw):
        tols = real_tolerance(spec, case, grads, lrs, trace, lr_computed, grad_ulps, grad_err, **kw)
        old = oc.heuristic_tolerance(spec, case, grads, lrs, trace, lr_computed, **kw)
        tols.old = old
        if tols.ema is not None:
            tols.ema.old = old
        real_between = tols.between_runs

        def between_runs():
            b = real_between()
            b.old = [2.0 * t for t in old]  # the former comparisons of two runs used twice the tolerance
            return b

        tols.between_runs = between_runs
        return tols

    def compare(spec, case, observed, ref, what, extra=None, expected=None):
        tols, trace = ref.tolerances, ref.trace
        old = getattr(tols, "old", None)
        exp_list = list(expected) if expected is not None else trace.final
        if old is not None:
            e_new = e_old = 0.0
            ratios = []
            for obs, exp, t_new, t_old, tie in zip(observed, exp_list, tols, old, trace.ties):
                obs = np.asarray(obs, dtype=np.float64)
                ok = ~tie & np.isfinite(exp)
                if not ok.any():
                    continue
                err = np.abs(obs - exp)[ok]
                tn, to = np.asarray(t_new)[ok], np.asarray(t_old)[ok]
                e_new = max(e_new, float(np.max(err / np.maximum(tn, 1e-300))))
                e_old = max(e_old, float(np.max(err / np.maximum(to, 1e-300))))
                ratios.append(tn / np.maximum(to, 1e-300))
            r = np.concatenate(ratios) if ratios else np.array([np.nan])
            current["last"] = {"spec": current.get("spec"), "what": what, "dtype": case.get("dtype"),
                               "err_over_new": e_new, "err_over_old": e_old,
                               "new_over_old_median": float(np.median(r)), "new_over_old_max": float(np.max(r)),
                               "new_over_old_min": float(np.min(r)), "rule": getattr(tols, "rule", ""),
                               "case": dict(case)}
        try:
            ev = real_compare(spec, case, observed, ref, what, extra, expected)
        except CheckFailure as failure:
            if "last" in current:
                current["last"]["bound_ratio"] = failure.evidence.data.get("bound_ratio")
            raise
        finally:
            if "last" in current:
                row = current.pop("last")
                row["check"] = current.get("check")
                rows.append(row)
        row["bound_ratio"] = ev.data.get("bound_ratio")
        return ev

    for name in _MODULES:
        mod = importlib.import_module(name)
        if hasattr(mod, "tolerance"):
            mod.tolerance = tolerance
        if hasattr(mod, "compare_to_reference"):
            mod.compare_to_reference = compare
    return rows, current


def teeth(rows: list, current: dict) -> int:
    """The teeth tests' planted bugs on their explicit gate cases: worst error over new and old tolerance.

    A coordinate's tolerance is the smallest error the check detects there,
    so ``err/new`` and ``err/old`` say by how much each tolerance catches the
    bug (> 1: caught).
    """
    import os

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
    from common import builtins
    from common.doubles import wrong_optimizer
    from common.optimizer_bugs import CASES, explicit_case

    from initcheck.checks import all_checks
    from initcheck.checks.evidence import CheckFailure

    print(f"{'check':38s} {'bug':20s} {'err/new tol':>12s} {'err/old tol':>12s} {'bound_ratio':>12s}")
    for check, spec_name, cls_fn, bug, fixed in CASES:
        if check in ("check_mirrored_strategy", "check_checkpoint_resume"):
            continue  # a separate process / bit-identical comparison: no tolerance involved
        if not all_checks()[check].applies(builtins.optimizer(spec_name)):
            continue
        case = explicit_case(check, spec_name)
        wrong = wrong_optimizer(spec_name, cls_fn, bug, **fixed)
        current["spec"], current["check"] = f"teeth>{bug}", check
        start = len(rows)
        caught = False
        try:
            all_checks()[check].func(wrong, case)
        except CheckFailure:
            caught = True
        mine = rows[start:]
        new = max((r["err_over_new"] for r in mine), default=float("nan"))
        old = max((r["err_over_old"] for r in mine), default=float("nan"))
        br = max((r.get("bound_ratio") or 0.0 for r in mine), default=float("nan"))
        print(f"{check:38s} {bug:20s} {new:12.4g} {old:12.4g} {br:12.4g}  {'caught' if caught else 'MISSED'}")
    return 0


def summarize(rows: list) -> None:
    """Per (spec, check) and pooled: comparisons, worst err/new, worst err/old, new/old median and max."""
    passing = [r for r in rows if r.get("status") == "passed"]
    if not passing:
        print("no passing comparisons recorded")
        return
    med = np.array([r["new_over_old_median"] for r in passing])
    mx = np.array([r["new_over_old_max"] for r in passing])
    br = np.array([r["bound_ratio"] for r in passing if r.get("bound_ratio") is not None])
    print(f"passing comparisons: {len(passing)}")
    print(f"  new/old tolerance, per-comparison median: median {np.median(med):.3g}, "
          f"max {np.max(med):.3g}; per-comparison max: median {np.median(mx):.3g}, max {np.max(mx):.3g}")
    print(f"  worst err/new tolerance {max(r['err_over_new'] for r in passing):.3g}; "
          f"worst err/old {max(r['err_over_old'] for r in passing):.3g}; "
          f"bound_ratio max {br.max() if br.size else float('nan'):.3g}")
    by: dict = {}
    for r in passing:
        by.setdefault((r["spec"], r["check"]), []).append(r)
    print(f"  {'spec':30s} {'check':38s} {'n':>3s} {'med new/old':>11s} {'max new/old':>11s} {'err/new':>8s} {'err/old':>8s}")
    for (spec, check), rs in sorted(by.items()):
        print(f"  {spec:30s} {check:38s} {len(rs):3d} {np.median([r['new_over_old_median'] for r in rs]):11.3g} "
              f"{max(r['new_over_old_max'] for r in rs):11.3g} {max(r['err_over_new'] for r in rs):8.3g} "
              f"{max(r['err_over_old'] for r in rs):8.3g}")


if __name__ == "__main__":
    sys.exit(main())
