"""``initcheck convergence``: run (or re-render) the convergence matrix from the command line."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence

from .cells import MATRIX_OPTIMIZERS
from .sweep import normal_spec, render_markdown, sweep

__all__ = ["add_arguments", "run", "main"]


def add_arguments(parser: Any) -> None:
    """The options of ``initcheck convergence`` (and ``python -m initcheck.convergence``)."""
    parser.add_argument("--select", default=None, metavar="PATTERNS",
                        help="initializer specs from the registry (plugins included), comma-separated globs; "
                             "default: every built-in initializer")
    parser.add_argument("--exclude", default=None, metavar="PATTERNS", help="comma-separated globs to drop")
    parser.add_argument("--tasks", nargs="*", default=None, metavar="TASK",
                        help="learning tasks (default all: deep_narrow_relu, linear_regression, "
                             "logistic_regression, spirals, xor)")
    parser.add_argument("--optimizers", nargs="*", default=None, choices=sorted(MATRIX_OPTIMIZERS))
    parser.add_argument("--seeds", type=int, default=16, help="seeds per cell (default 16)")
    parser.add_argument("--no-controls", action="store_true", help="leave out the N(0, 1) and N(0, 0.01) controls")
    parser.add_argument("--no-landscapes", action="store_true", help="skip the optimizer-only landscapes")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a markdown table")
    parser.add_argument("--jsonl", default=None, metavar="FILE",
                        help="append each cell's row to FILE as it finishes (for plotting, or to keep a long run)")
    parser.add_argument("--svg", default=None, metavar="FILE",
                        help="write a success-rate heatmap (one panel per task) to FILE (.svg, or .png by its "
                             "suffix; needs matplotlib: pip install \"initcheck[report]\")")
    parser.add_argument("--from-jsonl", default=None, metavar="FILE",
                        help="train nothing: print (and plot) the rows of an earlier --jsonl run")


def run(args: Any) -> int:
    """Run the matrix the parsed ``args`` describe; print it; exit status 0 unless a cell errored."""
    import json
    import sys

    from .tasks import learning_tasks

    problem = _heatmap_problem(args.svg)
    if problem:
        print(f"initcheck convergence: {problem}", file=sys.stderr)
        return 2
    if args.from_jsonl:
        from .heatmap import read_jsonl

        rows = read_jsonl(args.from_jsonl)
        return _emit(rows, args)
    if args.seeds < 1:
        print(f"initcheck convergence: --seeds must be >= 1, got {args.seeds}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.tasks or ()) - set(learning_tasks()))
    if unknown:
        print(f"initcheck convergence: unknown task(s) {unknown}; known: {sorted(learning_tasks())}", file=sys.stderr)
        return 2
    specs = None
    if args.select or args.exclude:
        from ..registry import load_registry, parse_patterns

        reg = load_registry(select=parse_patterns(args.select), exclude=parse_patterns(args.exclude),
                            kinds=("initializer",))
        for err in reg.errors:
            print(f"initcheck convergence: load error: {err}", file=sys.stderr)
        # Label each spec by its qualified name (``initcheck-example>small_normal``).
        specs = [dataclasses.replace(r.spec, namespace=r.qualname.rsplit(">", 1)[0]) for r in reg.specs.values()]
        if not specs:
            print(f"initcheck convergence: no initializer spec matches {args.select!r}", file=sys.stderr)
            return 2
    elif args.no_controls:
        from ..builtin.initializers import builtin_specs

        specs = list(builtin_specs())
    if specs is not None and not args.no_controls:
        specs += [normal_spec(1.0), normal_spec(0.01)]
    sink = open(args.jsonl, "a", encoding="utf-8") if args.jsonl else None

    def stream(row: dict[str, Any]) -> None:
        if sink:
            sink.write(json.dumps(row) + "\n")
            sink.flush()

    try:
        rows = sweep(specs=specs, optimizers=args.optimizers, tasks=args.tasks, seeds=args.seeds,
                     include_landscapes=not args.no_landscapes,
                     progress=lambda line: print(line, file=sys.stderr, flush=True), on_row=stream)
    finally:
        if sink:
            sink.close()
    return _emit(rows, args)


def _heatmap_problem(path: Optional[str]) -> str:
    """Why ``--svg path`` cannot be written (checked before any training), or ``""``."""
    import importlib.util
    import os

    from .heatmap import FORMATS

    if not path:
        return ""
    if os.path.splitext(path)[1].lower() not in FORMATS:
        return f"--svg {path}: the heatmap is written as {' or '.join(FORMATS)}, chosen by the file's suffix"
    if importlib.util.find_spec("matplotlib") is None:
        return "--svg needs matplotlib: pip install \"initcheck[report]\""
    return ""


def _emit(rows: list[dict[str, Any]], args: Any) -> int:
    import json

    if args.svg:
        from .heatmap import write

        write(rows, args.svg)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(render_markdown(rows))
    return 1 if any(r.get("error") for r in rows) else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m initcheck.convergence`` (same as ``initcheck convergence``).

    Example: ``python -m initcheck.convergence --tasks xor deep_narrow_relu --seeds 16``.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="initcheck convergence",
                                     description="initializer x optimizer x task success-rate matrix")
    add_arguments(parser)
    return run(parser.parse_args(argv))
