"""``initcheck`` command: run the battery over registered plugins, list them.

    initcheck check [--select P] [--exclude P] [--check NAME ...] [--kind K]
                    [--profile ci|thorough] [--false-fail P] [--json FILE]
    initcheck check --select SPEC --check NAME --case JSON   # replay one case
    initcheck list
    initcheck findings [--affected] [--json] | --repro ID | --verify | --markdown

Exit status: 0 all passed (expected failures included), 1 a failure, an
error, an unexpected pass (strict) or a plugin load error, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, OrderedDict
from typing import Any, Optional, Sequence

from .battery import apply_budget, default_profile

__all__ = ["main", "build_parser"]

STATUSES = ("passed", "failed", "error", "xfailed", "xpassed", "skipped")
BAD = ("failed", "error", "xpassed")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="initcheck", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--select", default=None, metavar="PATTERNS",
                       help="comma-separated globs over spec names, e.g. 'keras>Glorot*,initcheck-example'")
        p.add_argument("--exclude", default=None, metavar="PATTERNS", help="comma-separated globs to drop")
        p.add_argument("--kind", choices=("initializer", "optimizer", "all"), default="all")

    chk = sub.add_parser("check", help="run the battery and print one line per spec")
    common(chk)
    chk.add_argument("--check", action="append", default=None, metavar="NAME",
                     help="only this check (repeatable), e.g. check_seed_contract")
    chk.add_argument("--case", default=None, metavar="JSON", help="replay one case (needs one --check)")
    chk.add_argument("--profile", choices=("ci", "thorough"), default=None)
    chk.add_argument("--seed", type=int, default=None, metavar="N",
                     help="seed a thorough run (each item's search from N and its id; env INITCHECK_SEED)")
    chk.add_argument("--false-fail", type=float, default=None, metavar="P", help="run false-fail budget (1e-6)")
    chk.add_argument("--false-pass", type=float, default=None, metavar="P", help="false-pass rate (1e-6)")
    chk.add_argument("--json", default=None, metavar="FILE", help="write every outcome and its evidence here")
    chk.add_argument("-v", "--verbose", action="store_true", help="print every failure's evidence")
    lst = sub.add_parser("list", help="list registered specs, their checks and load errors")
    common(lst)
    from .reports.tf_matrix import add_parser as _add_matrix

    _add_matrix(sub)
    from .reports.affected import add_parser as _add_findings

    _add_findings(sub)
    conv = sub.add_parser("convergence", help="initializer x optimizer x task success rates (the convergence matrix)")
    from .convergence.cli import add_arguments as _conv_args

    _conv_args(conv)
    return parser


def _load(args: argparse.Namespace) -> Any:
    from .registry import load_registry, parse_patterns

    kinds = ("initializer", "optimizer") if args.kind == "all" else (args.kind,)
    return load_registry(select=parse_patterns(args.select), exclude=parse_patterns(args.exclude), kinds=kinds)


def _cmd_list(args: argparse.Namespace) -> int:
    from .checks import checks_for

    registry = _load(args)
    for reg in registry.specs.values():
        names = ", ".join(c.name for c in checks_for(reg.spec))
        desc = getattr(reg.spec, "description", "")
        print(f"{reg.qualname:48s} {reg.kind:11s} {desc}")
        print(f"{'':48s} checks: {names}")
    for err in registry.errors:
        print(f"LOAD ERROR {err.label}: {err.error}")
    print(f"{len(registry.specs)} specs, {len(registry.errors)} load errors")
    return 1 if registry.errors else 0


def _cmd_check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import battery

    profile = args.profile or default_profile()
    case = None
    if args.case is not None:
        if not args.check or len(args.check) != 1:
            parser.error("--case replays one case: give exactly one --check")
        try:
            case = json.loads(args.case)
        except json.JSONDecodeError as exc:
            parser.error(f"--case is not valid JSON: {exc}")
        if not isinstance(case, dict):
            parser.error("--case must be a JSON object, e.g. '{\"shape\": [3, 4], \"dtype\": \"float32\", \"seed\": 0}'")
    if args.seed is not None:
        import os

        os.environ[battery.ENV_SEED] = str(args.seed)
    try:
        apply_budget(args.false_fail, args.false_pass)
    except ValueError as exc:
        parser.error(str(exc))
    registry = _load(args)
    try:
        items = battery.plan([(r.qualname, r.spec) for r in registry.specs.values()], profile, args.check)
    except ValueError as exc:
        parser.error(str(exc))
    if not items and not registry.errors:
        print("no spec matched (see `initcheck list`)", file=sys.stderr)
        return 1
    by_spec: "OrderedDict[str, list]" = OrderedDict()
    for it in items:
        by_spec.setdefault(it.qualname, []).append(it)
    outcomes = []
    totals: Counter = Counter()
    start = time.perf_counter()
    width = max((len(q) for q in by_spec), default=10)
    for n, (qual, spec_items) in enumerate(by_spec.items(), 1):
        counts: Counter = Counter()
        t0 = time.perf_counter()
        for k, it in enumerate(spec_items, 1):
            if sys.stderr.isatty():
                print(f"\r[{n}/{len(by_spec)}] {qual} {k}/{len(spec_items)} {it.check.name:40s}", end="",
                      file=sys.stderr, flush=True)
            outcome = battery.run_one(it, profile, case)
            outcomes.append(outcome)
            counts[outcome.status] += 1
        if sys.stderr.isatty():
            print("\r" + " " * (width + 60) + "\r", end="", file=sys.stderr)
        totals.update(counts)
        verdict = "FAIL" if any(counts[s] for s in BAD) else "ok"
        parts = "  ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
        print(f"{verdict:4s} {qual:{width}s}  {parts}  ({time.perf_counter() - t0:.1f}s)", flush=True)
        for o in (o for o in outcomes[-len(spec_items):] if o.status in BAD):
            text = o.message if args.verbose else o.message.split("\n")[0]
            print(f"     {o.status.upper()} {o.item.check.name}: {text}")
    for err in registry.errors:
        print(f"FAIL {err.label}: plugin failed to load: {err.error}")
    summary = ", ".join(f"{totals[s]} {s}" for s in STATUSES if totals[s]) or "nothing ran"
    seeded = f", seed {battery.run_seed()}" if profile == "thorough" and battery.run_seed() is not None else ""
    print(f"{len(by_spec)} specs, {len(items)} checks: {summary}; {len(registry.errors)} load errors "
          f"in {time.perf_counter() - start:.1f}s (profile {profile}{seeded})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            from . import keras_compat

            json.dump({"profile": profile, "versions": dict(keras_compat.versions()),
                       "outcomes": [{"spec": o.item.qualname, "check": o.item.check.name, "status": o.status,
                                     "seconds": round(o.seconds, 3), "message": o.message,
                                     "evidence": [e.to_dict() for e in o.evidence]} for o in outcomes],
                       "load_errors": [err.describe() for err in registry.errors]}, fh, indent=1)
    bad = any(totals[s] for s in BAD) or bool(registry.errors)
    return 1 if bad else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``initcheck`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "matrix":
        from .reports.tf_matrix import run

        return run(args)
    if args.command == "convergence":
        from .convergence.cli import run as _run_convergence

        return _run_convergence(args)
    if args.command == "findings":
        from .reports.affected import run as _run_findings

        return _run_findings(args)
    if args.command == "list":
        return _cmd_list(args)
    return _cmd_check(args, parser)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
