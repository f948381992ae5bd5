"""``initcheck`` command: run the battery over registered plugins, list them.

    initcheck check [--select P] [--exclude P] [--check GLOB ...] [--kind K]
                    [--profile ci|thorough] [--timeout S] [--json FILE] [--junitxml FILE] [-x | --maxfail N]
    initcheck check --select SPEC --check NAME --case JSON   # replay one case
    initcheck check ... --report DIR        # also write the HTML report (DIR/index.html)
    initcheck report results.json -o DIR    # the HTML report of a saved --json (runs nothing, no TensorFlow)
    initcheck list
    initcheck findings [--affected] [--json] | --repro ID | --verify | --markdown
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, OrderedDict
from typing import Any, Optional, Sequence

__all__ = ["main", "build_parser", "EXIT_CODES"]

#: Exit statuses of ``initcheck check`` (and ``list``), stated in ``--help`` and the README.
EXIT_CODES: dict[int, str] = {
    0: "every check passed or failed exactly as declared (expected failures); load errors outside the selection "
       "are warnings",
    1: "a check failed, errored or passed although declared to fail (strict), a plugin in the selection failed to "
       "load, or no spec matched",
    2: "bad usage (unknown option or check, invalid --case or rate)",
    130: "interrupted (Ctrl-C); the --json / --junitxml reports hold everything that ran",
}

#: Seconds between two progress lines on a non-terminal (CI logs).
PROGRESS_EVERY = 30.0


def _epilog() -> str:
    return "exit status:\n" + "\n".join(f"  {code:<4d}{text}" for code, text in EXIT_CODES.items())


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="initcheck", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_epilog(),
        description="Verify TensorFlow/Keras weight initializers and optimizers registered by installed plugins.")
    parser.add_argument("--version", action="version", version=f"initcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--select", default=None, metavar="PATTERNS",
                       help="comma-separated globs over spec names, or distribution names, e.g. "
                            "'keras>Glorot*,initcheck-example' (env INITCHECK_SELECT)")
        p.add_argument("--exclude", default=None, metavar="PATTERNS",
                       help="comma-separated globs of specs to drop; a distribution named whole is not imported "
                            "(env INITCHECK_EXCLUDE)")
        p.add_argument("--kind", choices=("initializer", "optimizer", "all"), default="all")

    chk = sub.add_parser("check", help="run the battery and print one line per spec",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_epilog())
    common(chk)
    chk.add_argument("--check", action="append", default=None, metavar="GLOB",
                     help="only checks matching this glob, e.g. 'check_seed_*'; repeat it for more")
    chk.add_argument("--case", default=None, metavar="JSON", help="replay one case (needs one --check)")
    chk.add_argument("--profile", choices=("ci", "thorough"), default=None,
                     help="ci: derandomized gate (default, env INITCHECK_PROFILE); thorough: 10x examples, "
                          "varied seeds")
    chk.add_argument("--seed", type=int, default=None, metavar="N",
                     help="seed a thorough run (each item's search from N and its id; env INITCHECK_SEED)")
    chk.add_argument("--false-fail", type=float, default=None, metavar="P", help="run false-fail budget (1e-6)")
    chk.add_argument("--false-pass", type=float, default=None, metavar="P", help="false-pass rate (1e-6)")
    chk.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                     help="time limit of one check (default 600, env INITCHECK_TIMEOUT, 0: none); a check past "
                          "it fails and the rest of its spec is blocked")
    chk.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                     help="worker processes, each running whole specs (default: the usable CPUs, env "
                          "INITCHECK_JOBS; 1: run in this process)")
    chk.add_argument("--json", default=None, metavar="FILE",
                     help="write every outcome and its evidence here, as the run goes")
    chk.add_argument("--junitxml", default=None, metavar="FILE", help="write a JUnit XML report, as the run goes")
    chk.add_argument("-x", "--exitfirst", action="store_const", const=1, dest="maxfail",
                     help="stop at the first failure")
    chk.add_argument("--maxfail", type=int, default=None, metavar="N", help="stop after N failures")
    chk.add_argument("-v", "--verbose", action="store_true", help="print every failure's whole evidence")
    chk.add_argument("--report", default=None, metavar="DIR",
                     help="also write the HTML report (index.html, one page per spec, figures) into DIR")
    rep = sub.add_parser("report", help="write the HTML report of a saved `initcheck check --json` file")
    rep.add_argument("results", metavar="RESULTS_JSON", help="the file `initcheck check --json` wrote")
    rep.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write index.html into")
    lst = sub.add_parser("list", help="list registered specs, their checks and load errors")
    common(lst)
    from .reports.tf_matrix import add_parser as _add_matrix

    _add_matrix(sub)
    from .reports.affected import add_parser as _add_findings

    _add_findings(sub)
    conv = sub.add_parser("convergence", help="initializer x optimizer x task success rates (the convergence matrix)")
    from .convergence.command import add_arguments as _conv_args

    _conv_args(conv)
    return parser


def _load(args: argparse.Namespace) -> Any:
    from .battery import load
    from .registry import parse_patterns

    kinds = ("initializer", "optimizer") if args.kind == "all" else (args.kind,)
    return load(select=parse_patterns(args.select), exclude=parse_patterns(args.exclude), kinds=kinds)


def _print_warnings(warnings: Sequence[Any]) -> None:
    for warn in warnings:
        print(f"WARNING {warn.label}: plugin outside the selection failed to load (not counted): {warn.error}",
              file=sys.stderr)


def _cmd_list(args: argparse.Namespace) -> int:
    from . import keras_compat
    from .checks import checks_for

    def label(check: Any) -> str:  # a check this backend cannot run says so here too
        return check.name + (f" [not applicable on {keras_compat.backend()}]"
                             if check.needs and keras_compat.capability_missing(check.needs) else "")

    registry = _load(args)
    for reg in registry.specs.values():
        names = ", ".join(label(c) for c in checks_for(reg.spec))
        desc = getattr(reg.spec, "description", "")
        print(f"{reg.qualname:48s} {reg.kind:11s} {desc}")
        print(f"{'':48s} checks: {names}")
    for err in registry.errors:
        print(f"LOAD ERROR {err.label}: {err.error}")
    _print_warnings(registry.warnings)
    print(f"{len(registry.specs)} specs, {len(registry.errors)} load errors, {len(registry.warnings)} warnings")
    return 1 if registry.errors else 0


class _Progress:
    """One line per spec on a terminal (rewritten); a throttled line on anything else (CI logs)."""

    def __init__(self, total_specs: int):
        self.tty = sys.stderr.isatty()
        self.total = total_specs
        self.last = time.monotonic()

    def update(self, n: int, qual: str, k: int, count: int, check: str, spec_start: float) -> None:
        now = time.monotonic()
        if self.tty:
            print(f"\r[{n}/{self.total}] {qual} {k}/{count} {check:40s}", end="", file=sys.stderr, flush=True)
        elif now - self.last >= PROGRESS_EVERY:
            self.last = now
            print(f"... [{n}/{self.total}] {qual}: check {k}/{count} ({check}), {now - spec_start:.0f}s on this spec",
                  file=sys.stderr, flush=True)

    def clear(self, width: int) -> None:
        if self.tty:
            print("\r" + " " * (width + 60) + "\r", end="", file=sys.stderr)
        self.last = time.monotonic()


class _InterruptUntilHeard:
    """Ctrl-C that cannot be lost: once SIGINT arrives, it is raised again every second until the run hears it.

    Python raises ``KeyboardInterrupt`` wherever the main thread happens to
    be; code that swallows it there (a bare ``except:`` in a plugin or a
    library import, a ``__del__`` or gc callback, whose exceptions Python
    ignores) would leave the run going -- with a hanging check, forever.  So
    the handler keeps a thread re-sending SIGINT to the process until the
    battery loop's ``except KeyboardInterrupt`` calls :meth:`heard`.  Only
    in the main thread; elsewhere Python's default handling stays.
    """

    def __init__(self) -> None:
        self._pending = self._heard = False
        self._previous: Any = None
        self._installed = False

    def install(self) -> None:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        self._installed = True

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._heard:  # a repeat that crossed heard(): the run is already writing its reports
            return
        if not self._pending:
            import threading

            self._pending = True
            threading.Thread(target=self._repeat, name="initcheck-ctrl-c", daemon=True).start()
        raise KeyboardInterrupt

    def _repeat(self) -> None:
        import os
        import signal

        while True:
            time.sleep(1.0)
            if not self._pending:
                return
            os.kill(os.getpid(), signal.SIGINT)

    def heard(self) -> None:
        """The run caught the interrupt: stop repeating it (and ignore a repeat already on its way)."""
        self._heard = True
        self._pending = False

    def uninstall(self) -> None:
        self._pending = False
        if self._installed:
            import signal

            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


def _cmd_check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import battery
    from .battery import BAD, STATUSES, apply_budget, default_profile, default_timeout

    start = time.perf_counter()  # the run's seconds include loading and planning (in the workers or here)
    battery.reset_run_state()  # one run per command (main() may be called more than once in a process)
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
    if args.seed is not None:
        import os

        os.environ[battery.ENV_SEED] = str(args.seed)
    if args.maxfail is not None and args.maxfail < 1:
        parser.error("--maxfail must be at least 1")
    try:
        apply_budget(args.false_fail, args.false_pass)
        timeout = default_timeout() if args.timeout is None else args.timeout
    except ValueError as exc:
        parser.error(str(exc))
    if timeout < 0:
        parser.error("--timeout must be >= 0 (0: no limit)")
    jobs = _requested_jobs(args, parser)
    try:
        battery.check_patterns(args.check)
    except ValueError as exc:
        parser.error(str(exc))
    with_records = bool(args.json or args.report)
    options = _run_options(args, profile, case, timeout, with_records)
    pool = _early_pool(options, jobs)
    try:
        planned = pool.planned() if pool is not None else None
    except BaseException:  # Ctrl-C while the workers load
        pool.close()
        raise
    if planned is not None:  # the workers loaded and planned: this process imports no plugin
        spec_names = [qualname for qualname, _ in planned.specs]
        errors, warnings, versions, items = planned.errors, planned.warnings, planned.versions, planned.items()
    else:  # one process, or no worker lived to plan: load here, as a one-process run does
        if pool is not None:
            pool.close()
            pool = None
        registry = _load(args)
        items = battery.plan([(r.qualname, r.spec) for r in registry.specs.values()], profile, args.check)
        spec_names, errors, warnings, versions = list(registry.specs), registry.errors, registry.warnings, None
    _print_warnings(warnings)
    if not items and not errors:
        if pool is not None:
            pool.close()
        if spec_names and args.check:
            print(f"no check of {', '.join(args.check)} applies to the selected spec(s) "
                  f"{', '.join(sorted(spec_names))} on this Keras (a spec's checks: `initcheck list`)",
                  file=sys.stderr)
        else:
            print("no spec matched (see `initcheck list`)", file=sys.stderr)
        return 1
    by_spec: "OrderedDict[str, list]" = OrderedDict()
    for it in items:
        by_spec.setdefault(it.qualname, []).append(it)
    json_out = junit = None
    header = _header(profile, timeout, versions) if (args.json or args.report) else {}
    if args.json:
        from .reports.results import JsonStream

        json_out = JsonStream(args.json, header)
    if args.junitxml:
        from .reports.results import JUnitStream

        junit = JUnitStream(args.junitxml)
    records: Optional[list] = [] if args.report else None
    totals: Counter = Counter()
    families: "OrderedDict[str, Counter]" = OrderedDict()
    family_seconds: Counter = Counter()
    width = max((len(q) for q in by_spec), default=10)
    progress = _Progress(len(by_spec))
    interrupted = False
    n_bad = 0
    events = _events(by_spec, options, pool, jobs)
    counts: "dict[str, Counter]" = {}
    spec_start: dict[str, float] = {}
    bad_outcomes: "dict[str, list]" = {}
    noted: "dict[str, list]" = {}  # not applicable on this backend: said, never silent
    n_done = 0
    ctrl_c = _InterruptUntilHeard()
    try:
        ctrl_c.install()
        for ev in events:
            qual = ev.qualname
            if qual not in spec_start:
                spec_start[qual] = time.perf_counter()
                counts[qual], bad_outcomes[qual], noted[qual] = Counter(), [], []
            if ev.kind == "running":
                if ev.check:
                    progress.update(n_done + 1, qual, ev.index, ev.count, ev.check, spec_start[qual])
                continue
            if ev.kind == "done":
                n_done += 1
                progress.clear(width)
                _print_spec(qual, width, counts[qual], time.perf_counter() - spec_start[qual], bad_outcomes[qual],
                            args.verbose, STATUSES, BAD, noted[qual])
                continue
            outcome = ev.outcome
            counts[qual][outcome.status] += 1
            families.setdefault(outcome.family, Counter())[outcome.status] += 1
            family_seconds[outcome.family] += outcome.seconds
            if outcome.record is not None:
                if json_out:
                    json_out.add(outcome.record)
                if records is not None:
                    records.append(outcome.record)
            if junit:
                junit.add(qual, outcome.check, outcome.status, outcome.seconds, outcome.message)
            if outcome.status == "not_applicable" or (outcome.status in ("passed", "xpassed")
                                                       and "not run (not applicable" in (outcome.message or "")):
                noted[qual].append(outcome)
            if outcome.status in BAD:
                bad_outcomes[qual].append(outcome)
                n_bad += 1
                if args.maxfail and n_bad >= args.maxfail:
                    progress.clear(width)
                    _print_spec(qual, width, counts[qual], time.perf_counter() - spec_start[qual],
                                bad_outcomes[qual], args.verbose, STATUSES, BAD, noted[qual])
                    print(f"stopping after {n_bad} failure(s) (--maxfail {args.maxfail})")
                    break
    except KeyboardInterrupt:
        ctrl_c.heard()
        interrupted = True
        progress.clear(width)
        print("\ninterrupted (Ctrl-C): the reports hold everything that ran", file=sys.stderr)
    finally:
        events.close()  # stops the worker processes, if any
        if pool is not None:  # also when no event was ever asked for
            pool.close()
    for spec_counts in counts.values():  # every outcome that was reported, finished specs or not
        totals.update(spec_counts)
    ctrl_c.uninstall()
    for err in errors:
        print(f"FAIL {err.label}: plugin failed to load: {err.error}")
    if families:
        print("by check family:")
        for family, c in families.items():
            parts = ", ".join(f"{c[s]} {s}" for s in STATUSES if c[s])
            print(f"  {family:13s} {parts}  ({family_seconds[family]:.1f}s)")
    summary = ", ".join(f"{totals[s]} {s}" for s in STATUSES if totals[s]) or "nothing ran"
    seeded = f", seed {battery.run_seed()}" if profile == "thorough" and battery.run_seed() is not None else ""
    print(f"{len(by_spec)} specs, {len(items)} checks: {summary}; {len(errors)} load errors"
          f"{f', {len(warnings)} load warnings' if warnings else ''} "
          f"in {time.perf_counter() - start:.1f}s (profile {profile}{seeded})")
    elapsed = time.perf_counter() - start
    if json_out:
        json_out.close([e.describe() for e in errors], [w.describe() for w in warnings],
                       interrupted=interrupted, seconds=elapsed)
    if junit:
        junit.close(interrupted=interrupted)
    if args.report and records is not None:  # an interrupted run's report shows what ran
        from .reports.html import render

        doc = dict(header, outcomes=records, seconds=round(elapsed, 2),
                   load_errors=[e.describe() for e in errors],
                   load_warnings=[w.describe() for w in warnings], interrupted=interrupted,
                   complete=not interrupted)
        print(f"report: {render(doc, args.report)}")
    if interrupted:
        return 130
    bad = any(totals[s] for s in BAD) or bool(errors)
    return 1 if bad else 0


def _requested_jobs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Worker processes asked for: ``--jobs``, else ``INITCHECK_JOBS``, else the usable CPUs (bad values: usage)."""
    from .battery.workers import default_jobs

    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        return args.jobs if args.jobs is not None else default_jobs()
    except ValueError as exc:
        parser.error(str(exc))


def _run_options(args: argparse.Namespace, profile: str, case: Optional[dict], timeout: float,
                 with_records: bool) -> Any:
    """The run's options, as every runner (this process or a worker) plans and runs with them."""
    from .battery.workers import RunOptions
    from .registry import parse_patterns

    kinds = ("initializer", "optimizer") if args.kind == "all" else (args.kind,)
    return RunOptions(select=parse_patterns(args.select), exclude=parse_patterns(args.exclude), kinds=kinds,
                      profile=profile, checks=args.check, case=case, timeout=timeout, false_fail=args.false_fail,
                      false_pass=args.false_pass, with_records=with_records)


def _early_pool(options: Any, jobs: int) -> Any:
    """The run's worker processes, started before anything is loaded (``None``: the run stays in this process).

    A replayed case runs here; so does a run that can select one spec only (``--select`` naming specs
    exactly, ``ns>Name``), and never more workers than such names.
    """
    from .battery.workers import WorkerPool, worker_threads
    from .registry import exact_selection

    if options.case is not None or jobs <= 1:
        return None
    exact = exact_selection(options.select)
    if exact is not None:
        jobs = min(jobs, len(exact))
        if jobs <= 1:
            return None
    options.threads = worker_threads(jobs)
    return WorkerPool(options, jobs)


def _events(by_spec: "OrderedDict[str, list]", options: Any, pool: Any, jobs: int) -> Any:
    """The run's events: from the worker pool, or in this process (one job, or no worker lived to plan)."""
    from .battery.workers import run_in_process, run_in_workers, worker_threads

    if pool is not None:
        return pool.run(by_spec)
    jobs = 1 if options.case is not None else max(1, min(jobs, len(by_spec)))
    if jobs <= 1:
        return run_in_process(by_spec, options)
    options.threads = worker_threads(jobs)
    return run_in_workers(by_spec, options, jobs)


def _print_spec(qual: str, width: int, counts: Counter, seconds: float, bad_outcomes: list, verbose: bool,
                statuses: Sequence[str], bad: Sequence[str], noted: Sequence[Any] = ()) -> None:
    verdict = "FAIL" if any(counts[s] for s in bad) else "ok"
    parts = "  ".join(f"{counts[s]} {s}" for s in statuses if counts[s])
    print(f"{verdict:4s} {qual:{width}s}  {parts}  ({seconds:.1f}s)", flush=True)
    for o in noted:  # not run on this backend (the whole check, or some of its cases): said, never silent
        label = "NOT APPLICABLE" if o.status == "not_applicable" else f"{o.status.upper()}, SOME CASES NOT RUN"
        print(f"     {label} {o.check}: {o.message.splitlines()[-1].strip() if o.status == 'xpassed' else o.message}")
    for o in bad_outcomes:
        lines = o.message.split("\n")
        text = o.message if verbose else lines[0]
        print(f"     {o.status.upper()} {o.check}: {text}")
        if not verbose or "reproduce:" not in o.message:
            print(f"       replay: {o.reproduce}")
def _header(profile: str, timeout: float, versions: Optional[dict] = None) -> dict:
    """The results document's header (:mod:`initcheck.reports.results`; the pytest plugin builds the same).

    ``versions``: as a worker found them (else read here, which imports TensorFlow/Keras).
    """
    from . import keras_compat, stats
    from .reports.results import results_document

    if versions is None:
        versions = keras_compat.versions()
    doc = results_document(profile, versions, [], [], budget=stats.budget().describe())
    doc["timeout"] = timeout
    return doc


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
        from .convergence.command import run as _run_convergence

        return _run_convergence(args)
    if args.command == "findings":
        from .reports.affected import run as _run_findings

        return _run_findings(args)
    if args.command == "list":
        return _cmd_list(args)
    if args.command == "report":
        return _cmd_report(args, parser)
    return _cmd_check(args, parser)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
