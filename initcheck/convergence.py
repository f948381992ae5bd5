"""Convergence: success rates of (initializer, optimizer, task) cells, and declared expectations.

A *cell* trains S seeds of one (initializer, optimizer, task) triple
together (:mod:`initcheck.ensemble`) and classifies every seed:

* ``success`` -- the task's metric reached its target within the step budget
  (``steps_to_target`` = number of updates taken when it first did);
* ``diverged`` -- otherwise, and the loss became NaN/inf or exceeded the
  task's divergence level (reported as such, never a crash);
* ``stalled`` -- neither.

The success rate comes with Clopper-Pearson intervals (Clopper & Pearson
1934; exact beta quantiles).  An :class:`Expectation` is declared data --
"variance gain ``q = fan_in * E[w^2]`` in [1.6, 2.5] trains the deep narrow
ReLU net with SGD in >= 90 % of seeds" -- selected by the spec's law,
never by its name.  Its decision is an exact one-sided binomial test at
the run's per-assertion false-fail rate ``alpha``
(:func:`initcheck.stats.budget`): a "trains" claim fails only when the
upper one-sided ``1 - alpha`` Clopper-Pearson bound falls below the
claimed rate, so a true claim fails with probability ``<= alpha``; the
number of seeds comes from :func:`required_seeds`, so a named smallest
discrepancy (the true rate being ``p1`` instead) is caught with probability
``>= 1 - beta``.  See docs/convergence.md for the arithmetic.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import numpy as np

__all__ = [
    "OptimizerSetting",
    "MATRIX_OPTIMIZERS",
    "CellResult",
    "Expectation",
    "EXPECTATIONS",
    "Decision",
    "cp_upper",
    "cp_lower",
    "cp_interval",
    "required_seeds",
    "variance_gain",
    "run_cell",
    "classify",
    "decide",
    "verify_expectation",
    "expectations_for",
    "compare_cells",
    "matrix",
    "render_markdown",
    "normal_spec",
    "clear_cache",
]


# ------------------------------------------------------------------ statistics

def cp_upper(k: int, n: int, alpha: float) -> float:
    """One-sided upper Clopper-Pearson bound: ``P(rate <= bound) >= 1 - alpha``."""
    from scipy.stats import beta as _beta

    if k >= n:
        return 1.0
    return float(_beta.ppf(1.0 - alpha, k + 1, n - k))


def cp_lower(k: int, n: int, alpha: float) -> float:
    """One-sided lower Clopper-Pearson bound: ``P(rate >= bound) >= 1 - alpha``."""
    from scipy.stats import beta as _beta

    if k <= 0:
        return 0.0
    return float(_beta.ppf(alpha, k, n - k + 1))


def cp_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval at confidence ``level``."""
    a = (1.0 - level) / 2.0
    return cp_lower(k, n, a), cp_upper(k, n, a)


def required_seeds(claim: str, p0: float, p1: float, alpha: float, beta: float, max_seeds: int = 4096) -> int:
    """Fewest seeds S for which the exact test of ``claim`` has both error rates.

    * ``"trains"`` (rate ``>= p0``): fail when ``k <= c`` with
      ``P(Bin(S, p0) <= c) <= alpha``; need ``P(Bin(S, p1) > c) <= beta``
      for the named discrepancy ``p1 < p0``.
    * ``"fails"`` / ``"diverges"`` (rate ``<= p0``): the mirror image, ``p1 > p0``.

    Raises:
        ValueError: If no ``S <= max_seeds`` suffices.
    """
    from scipy.stats import binom

    if claim == "trains":
        if not p1 < p0:
            raise ValueError(f"'trains' needs p1 < p0, got p0={p0}, p1={p1}")
        q0, q1 = p0, p1
    else:
        if not p1 > p0:
            raise ValueError(f"'{claim}' needs p1 > p0, got p0={p0}, p1={p1}")
        q0, q1 = 1.0 - p0, 1.0 - p1  # count the complementary event
    for n in range(1, max_seeds + 1):
        c = int(binom.ppf(alpha, n, q0))
        while c >= 0 and binom.cdf(c, n, q0) > alpha:
            c -= 1
        if c < 0:
            continue
        if binom.sf(c, n, q1) <= beta:
            return n
    raise ValueError(f"no S <= {max_seeds} separates {p0} from {p1} at alpha={alpha}, beta={beta}")


# ------------------------------------------------------------------ optimizers

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


# ------------------------------------------------------------------ cells

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


_CACHE: dict[tuple, tuple[Any, CellResult]] = {}
_TRAINERS: dict[tuple, Any] = {}


def clear_cache() -> None:
    """Forget cached cells and compiled trainers."""
    _CACHE.clear()
    _TRAINERS.clear()


def _spec_label(init: Any) -> str:
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
        label = _spec_label(init) if task.kind == "learning" else "(task start)"
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
        initializer=_spec_label(init) if task.kind == "learning" else "(task start)", optimizer=setting.key,
        task=task.name, seeds=seeds, status=status, steps_to_target=to_target,
        final_loss=[float(v) for v in losses[-1]], seconds=time.perf_counter() - start,
        optimizer_detail=setting.describe(task),
    )
    if cache:
        _CACHE[key] = (source, result)  # holding ``source`` keeps its id from being reused
    return result


# ------------------------------------------------------------------ expectations

def variance_gain(spec: Any, shape: tuple[int, int]) -> Optional[float]:
    """``q = fan_in * E[w^2]`` of ``spec``'s law for a ``shape`` kernel, or ``None``.

    For a ReLU layer the second moment of the pre-activations is multiplied
    by ``q / 2`` (He et al. 2015, eq. 10), so ``q = 2`` is the critical
    value.  Defined for zero-mean random laws (i.i.d. or orthogonal);
    deterministic laws (constants, identity) get ``None`` and no
    variance-keyed expectation.
    """
    if not (spec.has("iid") or spec.has("structured")):
        return None
    law = spec.law_for(tuple(shape))
    try:
        mean, var = float(law.mean()), float(law.variance())
    except NotImplementedError:
        return None
    if not (math.isfinite(mean) and math.isfinite(var)) or abs(mean) > 1e-12:
        return None
    return spec.fans(tuple(shape)).fan_in * var


@dataclass(frozen=True)
class Expectation:
    """A declared claim about every spec whose law falls in a variance-gain range.

    Args:
        name: Id (appears in evidence and ``-k``).
        task: Built-in task name.
        optimizer: Key of :data:`MATRIX_OPTIMIZERS`.
        gain: ``(low, high)`` range of :func:`variance_gain` on the task's
            hidden kernel shape.
        claim: ``"trains"`` (success rate ``>= p0``), ``"fails"`` (success
            rate ``<= p0``) or ``"diverges"`` (divergence rate ``>= p0``).
        p0: The claimed rate.
        p1: The named smallest discrepancy the check must catch with
            probability ``>= 1 - beta`` (sets the number of seeds).
        gate: Run in the default gate (else only ``thorough``).
        why: The theory behind the claim, with its citation.
    """

    name: str
    task: str
    optimizer: str
    gain: tuple[float, float]
    claim: str
    p0: float
    p1: float
    gate: bool = False
    why: str = ""

    def applies(self, spec: Any) -> bool:
        from .tasks import get_task

        task = get_task(self.task)
        shapes = task.kernel_shapes()
        hidden = shapes[len(shapes) // 2]
        q = variance_gain(spec, hidden)
        return q is not None and self.gain[0] <= q <= self.gain[1]

    def seeds(self, alpha: float, beta: float) -> int:
        """S from the power analysis, rounded up to a multiple of 8."""
        if self.claim == "diverges":
            n = required_seeds("trains", self.p0, self.p1, alpha, beta)
        else:
            n = required_seeds(self.claim, self.p0, self.p1, alpha, beta)
        return int(math.ceil(n / 8.0) * 8)


_DEEP_WHY = ("ReLU layers multiply the pre-activation second moment by q/2 (He et al. 2015, eq. 10); "
             "over 20 layers (q/2)^20 decides whether signal and gradient survive")

#: Declared expectations on the deep narrow ReLU task (hidden kernels 16x16).
EXPECTATIONS: tuple[Expectation, ...] = (
    Expectation("critical_gain_sgd_trains", "deep_narrow_relu", "sgd", (1.6, 2.5), "trains", 0.9, 0.25, gate=True,
                why="q = 2 (He) keeps the signal at every depth; " + _DEEP_WHY),
    Expectation("unit_gain_sgd_stalls", "deep_narrow_relu", "sgd", (0.8, 1.2), "fails", 0.1, 0.75,
                why="q = 1 (Glorot/LeCun/orthogonal on square ReLU layers) shrinks the signal by 2^-20; "
                    + _DEEP_WHY),
    Expectation("unit_gain_adam_rescues", "deep_narrow_relu", "adam", (0.8, 1.2), "trains", 0.9, 0.25,
                why="Adam divides each gradient by its own RMS (Kingma & Ba 2015), undoing the 2^-10 "
                    "gradient shrinkage that stalls SGD"),
    Expectation("tiny_gain_sgd_stalls", "deep_narrow_relu", "sgd", (0.0, 0.05), "fails", 0.1, 0.75,
                why="q <= 0.05 shrinks the signal by >= 40^20: the output is a constant"),
    Expectation("tiny_gain_adam_stalls", "deep_narrow_relu", "adam", (0.0, 0.01), "fails", 0.1, 0.75,
                why="q <= 0.01: the gradient of early layers underflows; no rescaling brings it back"),
    Expectation("huge_gain_sgd_diverges", "deep_narrow_relu", "sgd", (6.0, math.inf), "diverges", 0.9, 0.25,
                why="q >= 6 multiplies the signal by >= 3^20 ~ 3.5e9: loss and gradients overflow"),
)


def expectations_for(spec: Any, profile: str = "ci") -> list[Expectation]:
    """Declared expectations whose variance-gain range holds ``spec`` (gate ones only in ``ci``)."""
    return [e for e in EXPECTATIONS if (e.gate or profile == "thorough") and e.applies(spec)]


@dataclass
class Decision:
    """The verdict of an expectation on a cell, with its error rates."""

    expectation: str
    claim: str
    passed: bool
    count: int
    n: int
    p0: float
    p1: float
    alpha: float
    beta: float
    bound: float
    bound_kind: str
    certified: float
    message: str
    cell: dict[str, Any] = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation, "claim": self.claim, "statistic": self.count, "n": self.n,
            "claimed_rate": self.p0, "smallest_detectable": self.p1, "alpha": self.alpha, "beta": self.beta,
            "threshold": self.bound, "threshold_kind": self.bound_kind, "certified_bound": self.certified,
            "cell": self.cell,
        }


def decide(claim: str, count: int, n: int, p0: float, p1: float, alpha: float, beta: float,
           name: str = "") -> Decision:
    """Exact one-sided Clopper-Pearson decision on ``count`` of ``n``.

    ``trains``: fail iff the upper ``1 - alpha`` bound on the success rate is
    below ``p0``.  ``fails`` / ``diverges``: ``count`` is the number of
    successes (``fails``) or divergences (``diverges``); fail iff the lower
    (``fails``) bound exceeds ``p0`` or the upper (``diverges``) bound is
    below ``p0``.  ``certified`` is the other-side bound: the rate the data
    *positively* support at the same ``alpha``.
    """
    if claim in ("trains", "diverges"):
        bound = cp_upper(count, n, alpha)
        passed = bound >= p0
        certified = cp_lower(count, n, alpha)
        kind = "upper"
        what = "success" if claim == "trains" else "divergence"
        msg = (f"{what} rate {count}/{n}: one-sided upper CP bound {bound:.3g} at alpha={alpha:.2g} "
               f"{'reaches' if passed else 'is below'} the claimed {p0:g}; certified >= {certified:.3g}")
    elif claim == "fails":
        bound = cp_lower(count, n, alpha)
        passed = bound <= p0
        certified = cp_upper(count, n, alpha)
        kind = "lower"
        msg = (f"success rate {count}/{n}: one-sided lower CP bound {bound:.3g} at alpha={alpha:.2g} "
               f"{'stays within' if passed else 'exceeds'} the claimed <= {p0:g}; certified <= {certified:.3g}")
    else:
        raise ValueError(f"unknown claim {claim!r}; expected trains, fails or diverges")
    return Decision(name, claim, passed, count, n, p0, p1, alpha, beta, bound, kind, certified, msg)


def verify_expectation(spec: Any, expectation: Expectation, *, alpha: Optional[float] = None,
                       beta: Optional[float] = None, seeds: Optional[int] = None) -> Decision:
    """Run the cell an expectation needs (S from the power analysis) and decide it."""
    from .stats import budget

    b = budget()
    alpha = b.alpha if alpha is None else alpha
    beta = b.beta if beta is None else beta
    n = seeds or expectation.seeds(alpha, beta)
    cell = run_cell(spec, expectation.optimizer, expectation.task, n)
    count = cell.diverged if expectation.claim == "diverges" else cell.successes
    d = decide(expectation.claim, count, cell.n, expectation.p0, expectation.p1, alpha, beta, expectation.name)
    d.cell = cell.row()
    return d


def compare_cells(better: CellResult, worse: CellResult, alpha: float) -> tuple[bool, dict[str, Any]]:
    """Is ``better``'s success rate above ``worse``'s at ``alpha``?

    Yes when the lower one-sided bound of ``better`` exceeds the upper
    one-sided bound of ``worse``, each at ``alpha / 2`` (so the claim is
    wrong with probability ``<= alpha``).
    """
    lo = cp_lower(better.successes, better.n, alpha / 2.0)
    hi = cp_upper(worse.successes, worse.n, alpha / 2.0)
    return lo > hi, {"better": better.row(), "worse": worse.row(), "better_lower": lo, "worse_upper": hi,
                     "alpha": alpha}


# ------------------------------------------------------------------ the matrix

def normal_spec(std: float) -> Any:
    """A control spec: Keras ``RandomNormal(0, std)`` with its law (``N(0, 1)``, ``N(0, 0.01)``...)."""
    from . import keras_compat as kc
    from .laws import Normal
    from .spec import InitializerSpec

    def factory(seed: Optional[int]) -> Any:
        return kc.initializer_class("RandomNormal")(mean=0.0, stddev=std, seed=seed)

    return InitializerSpec(name=f"N(0,{std:g})", factory=factory, law=Normal(std=std), namespace="control",
                           description=f"N(0, {std:g}^2) control")


def matrix(specs: Optional[Iterable[Any]] = None, optimizers: Optional[Iterable[str]] = None,
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
        from .builtin.initializers import builtin_specs

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
                        progress(f"{tname} {_spec_label(spec)} {key}: ERROR {type(exc).__name__}: {exc}")
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
    return {"initializer": _spec_label(spec), "optimizer": key, "task": task, "seeds": seeds, "successes": 0,
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
                        help="write a success-rate heatmap (one panel per task) to FILE")
    parser.add_argument("--from-jsonl", default=None, metavar="FILE",
                        help="train nothing: print (and plot) the rows of an earlier --jsonl run")


def run(args: Any) -> int:
    """Run the matrix the parsed ``args`` describe; print it; exit status 0 unless a cell errored."""
    import json
    import sys

    from .tasks import learning_tasks

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
        from .registry import load_registry, parse_patterns

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
        from .builtin.initializers import builtin_specs

        specs = list(builtin_specs())
    if specs is not None and not args.no_controls:
        specs += [normal_spec(1.0), normal_spec(0.01)]
    sink = open(args.jsonl, "a", encoding="utf-8") if args.jsonl else None

    def stream(row: dict[str, Any]) -> None:
        if sink:
            sink.write(json.dumps(row) + "\n")
            sink.flush()

    try:
        rows = matrix(specs=specs, optimizers=args.optimizers, tasks=args.tasks, seeds=args.seeds,
                      include_landscapes=not args.no_landscapes,
                      progress=lambda line: print(line, file=sys.stderr, flush=True), on_row=stream)
    finally:
        if sink:
            sink.close()
    return _emit(rows, args)


def _emit(rows: list[dict[str, Any]], args: Any) -> int:
    import json

    if args.svg:
        from .heatmap import write_svg

        write_svg(rows, args.svg)
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
