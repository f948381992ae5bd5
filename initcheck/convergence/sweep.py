"""The convergence matrix: every initializer x optimizer x task, as table rows."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .cells import MATRIX_OPTIMIZERS, CellResult, run_cell, spec_label

__all__ = ["sweep", "normal_spec", "render_markdown"]


def normal_spec(std: float) -> Any:
    """A control spec: Keras ``RandomNormal(0, std)`` with its law (``N(0, 1)``, ``N(0, 0.01)``...)."""
    from .. import keras_compat as kc
    from ..laws import Normal
    from ..spec import InitializerSpec

    def factory(seed: Optional[int]) -> Any:
        return kc.initializer_class("RandomNormal")(mean=0.0, stddev=std, seed=seed)

    return InitializerSpec(name=f"N(0,{std:g})", factory=factory, law=Normal(std=std), namespace="control",
                           description=f"N(0, {std:g}^2) control")


def sweep(specs: Optional[Iterable[Any]] = None, optimizers: Optional[Iterable[str]] = None,
           tasks: Optional[Iterable[str]] = None, seeds: int = 16, *, include_controls: bool = True,
           include_landscapes: bool = True, progress: Optional[Callable[[str], None]] = None,
           on_row: Optional[Callable[[dict[str, Any]], None]] = None) -> list[dict[str, Any]]:
    """Every initializer x optimizer x learning task (plus optimizer x landscape) as table rows.

    Args:
        specs: Initializer specs (default: the built-in ones, plus the
            ``N(0, 1)`` and ``N(0, 0.01)`` controls when ``include_controls``).
        optimizers: Keys of :data:`MATRIX_OPTIMIZERS` (default all four).
        tasks: Learning task names (default all).
        seeds: Seeds per cell.
        progress: Called with one line per finished cell.
        on_row: Called with each row as soon as its cell finishes (stream
            a long run to a file so that a stopped run keeps its cells).

    Returns:
        One dict per cell (see :meth:`CellResult.row`).
    """
    from .tasks import landscape_tasks, learning_tasks

    if specs is None:
        from ..builtin.initializers import builtin_specs

        specs = list(builtin_specs())
        if include_controls:
            specs += [normal_spec(1.0), normal_spec(0.01)]
    opts = list(optimizers or MATRIX_OPTIMIZERS)
    task_names = list(tasks or learning_tasks())
    rows = []
    for tname in task_names:
        for spec in specs:
            for key in opts:
                try:
                    cell = run_cell(spec, key, tname, seeds, cache=False)
                except Exception as exc:  # one broken plugin must not take the matrix down
                    rows.append(_error_row(spec, key, tname, seeds, exc))
                    if progress:
                        progress(f"{tname} {spec_label(spec)} {key}: ERROR {type(exc).__name__}: {exc}")
                    if on_row:
                        on_row(rows[-1])
                    continue
                rows.append(cell.row())
                if progress:
                    progress(_progress_line(cell))
                if on_row:
                    on_row(rows[-1])
    if include_landscapes:
        for task in landscape_tasks().values():
            for key in opts:
                cell = run_cell(None, key, task, seeds, cache=False)
                rows.append(cell.row())
                if progress:
                    progress(_progress_line(cell))
                if on_row:
                    on_row(rows[-1])
    return rows


def _error_row(spec: Any, key: str, task: str, seeds: int, exc: Exception) -> dict[str, Any]:
    return {"initializer": spec_label(spec), "optimizer": key, "task": task, "seeds": seeds, "successes": 0,
            "diverged": 0, "stalled": 0, "rate": float("nan"), "ci95_low": float("nan"), "ci95_high": float("nan"),
            "median_steps": None, "seconds": 0.0, "optimizer_detail": key,
            "error": f"{type(exc).__name__}: {exc}"}


def _progress_line(cell: CellResult) -> str:
    lo, hi = cell.interval()
    return (f"{cell.task:20s} {cell.initializer:42s} {cell.optimizer:9s} {cell.successes:3d}/{cell.n:<3d} "
            f"[{lo:.2f}, {hi:.2f}] diverged={cell.diverged} median_steps={cell.median_steps} ({cell.seconds:.1f}s)")


def render_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The matrix as a markdown table (95 % two-sided Clopper-Pearson intervals)."""
    lines = ["| task | initializer | optimizer | success | 95% CI | diverged | median steps |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['task']} | {r['initializer']} | {r['optimizer']} | error: {r['error'][:80]} | | | |")
            continue
        med = "-" if r["median_steps"] is None else f"{r['median_steps']:.0f}"
        lines.append(f"| {r['task']} | {r['initializer']} | {r.get('optimizer_detail') or r['optimizer']} | "
                     f"{r['successes']}/{r['seeds']} | [{r['ci95_low']:.2f}, {r['ci95_high']:.2f}] | "
                     f"{r['diverged']} | {med} |")
    return "\n".join(lines)
