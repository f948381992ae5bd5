"""``initcheck`` command: run the battery over registered plugins, list them.

    initcheck check [--select P] [--exclude P] [--check NAME ...] [--kind K]
                    [--profile ci|thorough] [--false-fail P] [--json FILE]
    initcheck check --select SPEC --check NAME --case JSON   # replay one case
    initcheck check ... --report DIR        # also write the HTML report (DIR/index.html)
    initcheck report results.json -o DIR    # the HTML report of a saved --json (runs nothing, no TensorFlow)
    initcheck list

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
from .reports.results import BAD, STATUSES

__all__ = ["main", "build_parser"]


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
    chk.add_argument("--false-fail", type=float, default=None, metavar="P", help="run false-fail budget (1e-6)")
    chk.add_argument("--false-pass", type=float, default=None, metavar="P", help="false-pass rate (1e-6)")
    chk.add_argument("--json", default=None, metavar="FILE", help="write every outcome and its evidence here")
    chk.add_argument("-v", "--verbose", action="store_true", help="print every failure's evidence")
    chk.add_argument("--report", default=None, metavar="DIR",
                     help="also write the HTML report (index.html, one page per spec, figures) into DIR")
    rep = sub.add_parser("report", help="write the HTML report of a saved `initcheck check --json` file")
    rep.add_argument("results", metavar="RESULTS_JSON", help="the file `initcheck check --json` wrote")
    rep.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write index.html into")
    lst = sub.add_parser("list", help="list registered specs, their checks and load errors")
    common(lst)
    from .reports.tf_matrix import add_parser as _add_matrix

    _add_matrix(sub)
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
    if args.report:
        _require_report(parser)
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
    print(f"{len(by_spec)} specs, {len(items)} checks: {summary}; {len(registry.errors)} load errors "
          f"in {time.perf_counter() - start:.1f}s (profile {profile})")
    if args.json or args.report:
        doc = _results(profile, outcomes, registry, time.perf_counter() - start)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1)
        if args.report:
            from .reports.html import render

            print(f"report: {render(doc, args.report)}")
    bad = any(totals[s] for s in BAD) or bool(registry.errors)
    return 1 if bad else 0


def _results(profile: str, outcomes: list, registry: Any, seconds: float) -> dict:
    """The run as the results document (:mod:`initcheck.reports.results`), shared with the pytest plugin."""
    from . import keras_compat, stats
    from .battery import expected_failure_for
    from .reports.results import outcome_record, results_document

    records = [outcome_record(o.item.qualname, o.item.check, o.status, o.seconds, o.message, o.evidence,
                              expected_failure_for(o.item) if o.status in ("xfailed", "xpassed") else None)
               for o in outcomes]
    return results_document(profile, keras_compat.versions(), records, [err.describe() for err in registry.errors],
                            seconds, stats.budget().describe())


def _require_report(parser: argparse.ArgumentParser) -> None:
    """Stop before running anything when the report's extra is missing."""
    from .reports.html import MissingExtra, require

    try:
        require()
    except MissingExtra as exc:
        parser.error(str(exc))


def _cmd_report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``initcheck report``: render a saved results document (imports no TensorFlow, runs no check)."""
    from .reports.results import read_results

    _require_report(parser)
    try:
        results = read_results(args.results)
    except ValueError as exc:
        parser.error(str(exc))
    from .reports.html import render

    print(f"report: {render(results, args.output)}")
    return 0


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
    if args.command == "list":
        return _cmd_list(args)
    if args.command == "report":
        return _cmd_report(args, parser)
    return _cmd_check(args, parser)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
