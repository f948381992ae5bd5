"""Cells: S seeds of one (initializer, optimizer, task) triple, trained and classified.

A *cell* trains S seeds together (:mod:`.ensemble`) and classifies every seed:

* ``success`` -- the task's metric reached its target within the step budget
  (``steps_to_target`` = number of updates taken when it first did);
* ``diverged`` -- otherwise, and the loss became NaN/inf or exceeded the
  task's divergence level (reported as such, never a crash);
* ``stalled`` -- neither.

The success rate comes with Clopper-Pearson intervals
(:func:`initcheck.stats.cp_interval`).  An optimizer of a cell is an
:class:`OptimizerSetting`: a built-in optimizer spec's name (``"Adam"``) or a
spec, plus hyperparameters, the learning rate coming from the task.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ..stats import cp_interval

__all__ = ["OptimizerSetting", "MATRIX_OPTIMIZERS", "CellResult", "run_cell", "classify", "clear_cache",
           "spec_label", "loss_curves"]


@dataclass(frozen=True)
class OptimizerSetting:
    """An optimizer of the matrix: a Keras class (or spec) plus hyperparameters.

    The learning rate comes from the task (``task.learning_rates[key]``)
    unless ``learning_rate`` is set, because one learning rate cannot suit
    both Rosenbrock and XOR.

    Args:
        key: ``sgd``, ``momentum``, ``adam``, ``rmsprop`` or your own.
        optimizer: Keras class name or an optimizer spec (``factory(**hp)``).
        hparams: Extra hyperparameters (``momentum=0.9``).
        learning_rate: Fixed learning rate overriding the task's.
    """

    key: str
    optimizer: Any
    hparams: Mapping[str, Any] = field(default_factory=dict)
    learning_rate: Optional[float] = None

    def ident(self) -> tuple:
        """A hashable identity (caches key on it)."""
        opt = self.optimizer if isinstance(self.optimizer, str) else id(self.optimizer)
        return (self.key, opt, tuple(sorted((k, repr(v)) for k, v in dict(self.hparams).items())), self.learning_rate)

    def lr_for(self, task: Any) -> float:
        if self.learning_rate is not None:
            return float(self.learning_rate)
        rates = dict(getattr(task, "learning_rates", {}))
        if self.key not in rates:
            raise LookupError(f"task {task.name!r} declares no learning rate for optimizer {self.key!r}; "
                              f"it has {sorted(rates)} -- pass OptimizerSetting(learning_rate=...)")
        return float(rates[self.key])

    def build(self, task: Any) -> Any:
        from .ensemble import build_optimizer

        return build_optimizer(self.optimizer, learning_rate=self.lr_for(task), **dict(self.hparams))

    @property
    def spec(self) -> Any:
        return None if isinstance(self.optimizer, str) else self.optimizer

    def describe(self, task: Any = None) -> str:
        name = self.optimizer if isinstance(self.optimizer, str) else getattr(self.optimizer, "name", "?")
        hp = dict(self.hparams)
        if task is not None:
            hp = {"learning_rate": self.lr_for(task), **hp}
        return f"{name}({', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in hp.items())})"


#: The four optimizers of the matrix.
MATRIX_OPTIMIZERS: dict[str, OptimizerSetting] = {
    "sgd": OptimizerSetting("sgd", "SGD"),
    "momentum": OptimizerSetting("momentum", "SGD", {"momentum": 0.9}),
    "adam": OptimizerSetting("adam", "Adam"),
    "rmsprop": OptimizerSetting("rmsprop", "RMSprop"),
}


def _setting(optimizer: Any) -> OptimizerSetting:
    if isinstance(optimizer, OptimizerSetting):
        return optimizer
    if isinstance(optimizer, str) and optimizer in MATRIX_OPTIMIZERS:
        return MATRIX_OPTIMIZERS[optimizer]
    raise LookupError(f"unknown optimizer {optimizer!r}; pass an OptimizerSetting or one of {sorted(MATRIX_OPTIMIZERS)}")


@dataclass
class CellResult:
    """One (initializer, optimizer, task) cell over S seeds."""

    initializer: str
    optimizer: str
    task: str
    seeds: list[int]
    status: list[str]
    steps_to_target: list[Optional[int]]
    final_loss: list[float]
    seconds: float
    optimizer_detail: str = ""
    #: A few seeds' loss curves (:func:`loss_curves`), for the report's figures; not part of :meth:`row`.
    curves: Optional[dict] = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def successes(self) -> int:
        return self.status.count("success")

    @property
    def diverged(self) -> int:
        return self.status.count("diverged")

    @property
    def stalled(self) -> int:
        return self.status.count("stalled")

    @property
    def rate(self) -> float:
        return self.successes / self.n

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        return cp_interval(self.successes, self.n, level)

    @property
    def median_steps(self) -> Optional[float]:
        done = [s for s in self.steps_to_target if s is not None]
        return float(np.median(done)) if done else None

    def row(self) -> dict[str, Any]:
        lo, hi = self.interval()
        return {
            "initializer": self.initializer, "optimizer": self.optimizer, "task": self.task, "seeds": self.n,
            "successes": self.successes, "diverged": self.diverged, "stalled": self.stalled,
            "rate": self.rate, "ci95_low": lo, "ci95_high": hi, "median_steps": self.median_steps,
            "seconds": round(self.seconds, 2), "optimizer_detail": self.optimizer_detail,
        }


def classify(task: Any, losses: np.ndarray, metrics: np.ndarray) -> tuple[list[str], list[Optional[int]]]:
    """Per-seed status and steps-to-target from ``(steps + 1, S)`` records."""
    if getattr(task, "metric", "loss") == "accuracy":
        reached = metrics >= task.target
    else:
        reached = np.isfinite(losses) & (losses <= task.target)
    bad = ~np.isfinite(losses) | (np.abs(np.nan_to_num(losses, nan=np.inf)) > task.divergence)
    status, steps = [], []
    for s in range(losses.shape[1]):
        hit = np.flatnonzero(reached[:, s])
        if hit.size:
            status.append("success")
            steps.append(int(hit[0]))
        else:
            status.append("diverged" if bad[:, s].any() else "stalled")
            steps.append(None)
    return status, steps


#: Loss curves a cell keeps: at most this many seeds, at most this many steps each.
CURVE_SEEDS, CURVE_STEPS = 8, 100


def loss_curves(losses: np.ndarray, status: Sequence[str], target: Optional[float]) -> Optional[dict]:
    """The loss curves of a few seeds of a cell (``losses``: ``(steps + 1, S)``), bounded for a figure.

    Failing seeds first (up to half), then successes: a figure of a mixed
    cell shows both.  ``target`` is the loss to reach (``None`` for a task
    judged on accuracy).  ``None`` when the losses are not a 2-D array.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 2 or not losses.size:
        return None
    steps = np.unique(np.linspace(0, losses.shape[0] - 1, min(CURVE_STEPS, losses.shape[0])).round().astype(int))
    bad = [s for s, st in enumerate(status) if st != "success"]
    good = [s for s, st in enumerate(status) if st == "success"]
    pick = (bad[:CURVE_SEEDS // 2] + good)[:CURVE_SEEDS] if bad else good[:CURVE_SEEDS]

    def curve(s: int) -> list:
        return [float(f"{v:.4g}") if np.isfinite(v) else None for v in losses[steps, s]]

    return {"steps": [int(s) for s in steps], "losses": [curve(s) for s in pick], "status": [status[s] for s in pick],
            "seeds": pick, "target": None if target is None else float(target)}


_CACHE: dict[tuple, tuple[Any, CellResult]] = {}
_TRAINERS: dict[tuple, Any] = {}


def clear_cache() -> None:
    """Forget cached cells and compiled trainers."""
    _CACHE.clear()
    _TRAINERS.clear()


def spec_label(init: Any) -> str:
    """``namespace>name`` of an initializer spec (its name alone without a namespace)."""
    if init is None:
        return "-"
    ns = getattr(init, "namespace", None)
    name = getattr(init, "name", None) or getattr(init, "__name__", repr(init))
    return f"{ns}>{name}" if ns else str(name)


def run_cell(init: Any, optimizer: Any, task: Any, seeds: Sequence[int] | int = 16, *, steps: Optional[int] = None,
             fallback: str = "refuse", jit: bool = True, cache: bool = True) -> CellResult:
    """Train one cell over ``seeds`` (an int ``S`` means seeds ``0..S-1``).

    Args:
        init: Initializer spec (or ``factory(seed)``); ignored by landscapes.
        optimizer: An :class:`OptimizerSetting` or a key of :data:`MATRIX_OPTIMIZERS`.
        task: A task object or a built-in task name.
        seeds: The seeds or their number.
        steps: Override the task's step budget.
        fallback: ``"refuse"`` raises
            :class:`~initcheck.ensemble.NonElementwiseOptimizer` for a
            coupling optimizer; ``"loop"`` trains seed by seed instead.
        jit: XLA-compile the training loop.
        cache: Reuse an identical cell computed earlier in this process.
    """
    from . import ensemble
    from .tasks import get_task

    if isinstance(task, str):
        task = get_task(task)
    setting = _setting(optimizer)
    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    # The trajectories depend on the initializer only through its factory, so
    # two specs sharing a factory share a cell (the label is the caller's).
    source = getattr(init, "factory", init)
    key = (id(source), setting.ident(), task.name, id(task), tuple(seeds), steps, jit)
    if cache and key in _CACHE:
        hit = _CACHE[key][1]
        label = spec_label(init) if task.kind == "learning" else "(task start)"
        return dataclasses.replace(hit, initializer=label)
    start = time.perf_counter()

    def train(ss: list[int], check: bool) -> Any:
        tkey = (task.name, id(task), setting.ident(), len(ss), steps, jit, check)
        trainer = _TRAINERS.get(tkey)
        if trainer is None:
            make = ensemble.landscape_trainer if task.kind == "landscape" else ensemble.learning_trainer
            trainer = make(task, setting.build(task), len(ss), steps=steps, spec=setting.spec, jit=jit,
                           check_elementwise=check)
            _TRAINERS[tkey] = trainer
        if task.kind == "landscape":
            return trainer.run(task.initial_params(ss))
        return trainer.run(ensemble.learning_params(task, init, ss))

    try:
        trajs = [train(seeds, True)]
    except ensemble.NonElementwiseOptimizer:
        if fallback != "loop":
            raise
        trajs = [train([s], False) for s in seeds]
    losses = np.concatenate([t.losses for t in trajs], axis=1)
    metrics = np.concatenate([t.metrics for t in trajs], axis=1)
    status, to_target = classify(task, losses, metrics)
    result = CellResult(
        initializer=spec_label(init) if task.kind == "learning" else "(task start)", optimizer=setting.key,
        task=task.name, seeds=seeds, status=status, steps_to_target=to_target,
        final_loss=[float(v) for v in losses[-1]], seconds=time.perf_counter() - start,
        optimizer_detail=setting.describe(task),
        curves=loss_curves(losses, status, None if getattr(task, "metric", "loss") != "loss" else task.target),
    )
    if cache:
        _CACHE[key] = (source, result)  # holding ``source`` keeps its id from being reused
    return result


