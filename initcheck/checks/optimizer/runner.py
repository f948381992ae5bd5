"""Optimizer checks: the update is the documented rule, step after step, in every mode.

Each check draws a case (variable shapes, initial values, per-step and
per-coordinate gradients, hyperparameters, learning rate, dtype) with
Hypothesis, runs the Keras optimizer through :mod:`initcheck.keras_compat`,
runs the spec's NumPy reference rule in float64 on the *same* (dtype-rounded)
inputs, and compares.

Tolerance: an error bound that holds by construction.  The reference rule
is run a second time on :class:`~initcheck.references.error_bounds.Bounded`
numbers, which carry a running forward-error bound through every operation
of the rule (:mod:`initcheck.references.error_bounds` states the rules and
the model).  For coordinate ``i``::

    tol_i = FACTOR * bound_impl_i + bound_ref_i

``bound_impl``: how far an evaluation of the rule in the case dtype can be
from the exact rule on the same inputs; ``bound_ref``: the same for the
float64 reference.  ``FACTOR = 2`` covers other evaluation orders and
forms (sums of at most three terms in any order, products in any grouping,
one extra rounding per operation); interpolations ``b m + (1 - b) g`` are
bounded in all three of their usual forms, Keras's ``m + (g - m)(1 - b)``
included.  Two runs of the rule compared with each other (sparse vs dense,
MirroredStrategy vs one device, stacked vs separate rows) are each within
``FACTOR * bound_impl`` of the exact rule: ``2 * FACTOR * bound_impl``
(:meth:`Tolerances.between_runs`).  The evidence reports ``bound_ratio`` =
worst error over ``bound_impl + bound_ref``, i.e. how much of the factor a
run used.  A rule whose code the bound cannot follow (a plugin's reference
calling ``float()`` on a tracked number, an operation without an error
rule) falls back to the former heuristic (:func:`heuristic_tolerance`), and
the evidence says so.

Where a sign decides (Lion at ``c = 0``) the reference marks the coordinate
as a tie and it is excluded (the count is reported).  With epsilon up to 10
in the space, a misplaced or sign-flipped epsilon moves the trajectory by far
more than this tolerance (the teeth tests show it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from ...references.error_bounds import FACTOR, POW_ULPS, trajectory_bounds
from ...references.optimizers import Trace, trajectory
from ..evidence import Evidence, fail, ok
from ..figure_data import trajectory_summary

__all__ = [
    "C_ULPS", "PERTURB_ULPS", "SPREAD_FACTOR", "KerasRun", "Reference", "initial_weights", "fresh_variables",
    "gradient_sequence", "case_rng", "run_keras", "reference_trace", "reference", "tolerance", "heuristic_tolerance", "Tolerances",
    "LR_SCHEDULE_ULPS", "CLIP_RESCALE_ULPS", "REPLICA_SUM_ULPS", "compare_to_reference",
    "expect_reference", "constant_lrs", "has", "assert_unmoved", "same_setting", "weight_decay_in_force",
]

#: Constants of the former heuristic tolerance (:func:`heuristic_tolerance`, the fallback).
C_ULPS = 32.0
PERTURB_ULPS = 4.0
SPREAD_FACTOR = 4.0
#: Error of a learning rate that a Keras schedule computes in float32, in float32 unit roundoffs:
#: ``rate ** (step / decay_steps)`` (a library pow, POW_ULPS), times the initial rate (1), and the
#: check's own rounding of the exact schedule value to float32 (1), plus one for the division.
LR_SCHEDULE_ULPS = POW_ULPS + 3.0
#: Gradient error (ulps of the dtype) of an implementation that rescales every gradient by the
#: clipping factor ``c / max(norm, c)`` (two roundings, 1 when not clipped), or by Keras's global
#: ``c * min(1 / norm, 1 / c)`` (three).
CLIP_RESCALE_ULPS = 3.0
#: Gradient error of a MirroredStrategy run: the replicas' parts ``p`` and ``fl(g - p)`` summed
#: again (``u |g - p| + u |g| <= 3 u |g|`` for ``|p| <= |g|``).
REPLICA_SUM_ULPS = 3.0


# ================================================================== case data
def case_rng(case: Mapping[str, Any], salt: int = 0) -> np.random.Generator:
    """A NumPy generator for one purpose (``salt``) of a case: everything random in a case comes from its seed."""
    return np.random.default_rng([int(case["seed"]), salt])


def initial_weights(case: Mapping[str, Any]) -> list[np.ndarray]:
    """Initial variables, rounded to the case dtype (then held in float64)."""
    rng = case_rng(case, 1)
    dt = np.dtype(case["dtype"])
    return [rng.normal(0.0, 1.0, size=tuple(s)).astype(dt).astype(np.float64) for s in case["shapes"]]


def fresh_variables(case: Mapping[str, Any], names: Optional[Sequence[str]] = None) -> list:
    """Backend variables holding :func:`initial_weights` in the case dtype, named ``var0, var1...`` by default."""
    from ... import keras_compat as kc

    names = names or [f"var{i}" for i in range(len(case["shapes"]))]
    return [kc.variable(w.astype(case["dtype"]), name=n) for w, n in zip(initial_weights(case), names)]


def gradient_sequence(case: Mapping[str, Any], n: Optional[int] = None) -> list[list[np.ndarray]]:
    """Per-step gradients: per-coordinate log-uniform magnitudes, random signs, ~10% exact zeros."""
    rng = case_rng(case, 2)
    dt = np.dtype(case["dtype"])
    out = []
    for _ in range(n or int(case["steps"])):
        step = []
        for s in case["shapes"]:
            shape = tuple(s)
            mag = 10.0 ** rng.uniform(-1.5, 0.5, size=shape) * float(case["grad_scale"])
            g = mag * rng.choice([-1.0, 1.0], size=shape) * (rng.random(shape) > 0.1)
            step.append(g.astype(dt).astype(np.float64))
        out.append(step)
    return out


# ================================================================== the Keras runner
@dataclass
class KerasRun:
    """Weights after every call and the optimizer used."""

    weights: list[list[np.ndarray]]
    optimizer: Any
    variables: list


def run_keras(spec: Any, case: Mapping[str, Any], grads: Sequence[Sequence[Any]], *,
              learning_rate: Any = None, options: Optional[Mapping[str, Any]] = None,
              optimizer: Any = None, variables: Optional[list] = None,
              names: Optional[Sequence[str]] = None, before_first: Optional[Callable[[Any, list], None]] = None
              ) -> KerasRun:
    """Run the spec's optimizer on fresh variables (or the given ones) for ``len(grads)`` calls."""
    from ... import keras_compat as kc

    if variables is None:
        variables = fresh_variables(case, names)
    if optimizer is None:
        lr = case["lr"] if learning_rate is None else learning_rate
        optimizer = spec.build(lr, case["hp"], **dict(options or {}))
    if before_first is not None:
        before_first(optimizer, variables)
    history = [[kc.to_numpy(v).astype(np.float64) for v in variables]]
    for g in grads:
        kc.apply_gradients(optimizer, [_as_dtype(x, case["dtype"]) for x in g], variables)
        history.append([kc.to_numpy(v).astype(np.float64) for v in variables])
    return KerasRun(history, optimizer, variables)


def _as_dtype(g: Any, dtype: str) -> Any:
    if isinstance(g, np.ndarray):
        return g.astype(dtype)
    return g


def reference_trace(spec: Any, case: Mapping[str, Any], grads: Any, lrs: Sequence[float], **kw: Any) -> Trace:
    """The reference rule's run on the case's (dtype-rounded) inputs, in float64."""
    hp = spec.reference_hp(case["hp"])
    wd = weight_decay_in_force(spec, case["hp"], kw.pop("weight_decay", None))
    return trajectory(spec.rule, initial_weights(case), grads, lrs, hp, weight_decay=wd, **kw)


class Reference:
    """The reference run of a case and the per-coordinate tolerance of its final weights.

    ``tolerances`` may be given as a function computing them: the error
    bound is then computed only when a comparison needs it (two runs that
    agree bit for bit need no tolerance).
    """

    def __init__(self, trace: Trace, tolerances: "Tolerances | Callable[[], Tolerances]"):
        self.trace = trace
        self._tolerances = tolerances

    @property
    def tolerances(self) -> "Tolerances":
        if callable(self._tolerances):
            self._tolerances = self._tolerances()
        return self._tolerances


def reference(spec: Any, case: Mapping[str, Any], grads: Any, lrs: Sequence[float], *, lr_computed: bool = False,
              between_runs: bool = False, grad_ulps: float = 0.0, grad_err: Any = None, **kw: Any) -> Reference:
    """:func:`reference_trace` and :func:`tolerance` of one case (``kw``: trajectory options).

    ``between_runs``: the tolerance compares two runs of the rule with each
    other (:meth:`Tolerances.between_runs`), not a run with the reference.
    """
    trace = reference_trace(spec, case, grads, lrs, **dict(kw))

    def tols() -> Tolerances:
        t = tolerance(spec, case, grads, lrs, trace, lr_computed=lr_computed, grad_ulps=grad_ulps,
                      grad_err=grad_err, **dict(kw))
        return t.between_runs() if between_runs else t

    return Reference(trace, tols)


def weight_decay_in_force(spec: Any, hp: Mapping[str, Any], explicit: Optional[float]) -> Optional[float]:
    """The weight decay in force: an explicit option, else the drawn one, else the optimizer's default."""
    if explicit is not None:
        return explicit
    if hp.get("weight_decay") is not None:
        return float(hp["weight_decay"])
    return spec.default_weight_decay


# ================================================================== tolerance
class Tolerances(list):
    """Per-variable tolerance arrays, with the bounds they were built from.

    Attributes:
        impl, ref: Per-variable bounds (implementation in the case dtype; the
            float64 reference), ``None`` for the heuristic fallback.
        ema: Tolerances of the weights' moving average (``None`` without EMA).
        rule: The ``tolerance_rule`` string for the evidence.
        raw: The unscaled bound (``impl + ref``) for ``bound_ratio``.
    """

    def __init__(self, tols: Sequence[np.ndarray], rule: str, *, impl: Optional[list] = None,
                 ref: Optional[list] = None, raw: Optional[list] = None, ema: Optional["Tolerances"] = None):
        super().__init__(tols)
        self.rule, self.impl, self.ref, self.raw, self.ema = rule, impl, ref, raw, ema

    def between_runs(self) -> "Tolerances":
        """Two implementations of the rule, each within ``FACTOR * bound`` of it: ``2 * FACTOR * bound``."""
        if self.impl is None:
            return Tolerances([2.0 * t for t in self], self.rule + "; x2 between two runs")
        return Tolerances([2.0 * FACTOR * i for i in self.impl], self.rule + "; between two runs: 2*F*bound_impl",
                          impl=self.impl, ref=[np.zeros_like(r) for r in self.impl],
                          raw=[2.0 * i for i in self.impl])


def tolerance(spec: Any, case: Mapping[str, Any], grads: Any, lrs: Sequence[float], trace: Trace,
              lr_computed: bool = False, grad_ulps: float = 0.0, grad_err: Any = None, **kw: Any) -> Tolerances:
    """Per-coordinate tolerance of the final weights: ``FACTOR * bound_impl + bound_ref`` (module docstring).

    ``lr_computed``: the learning rates come from a schedule, which Keras
    evaluates in float32 (its ``floatx``) whatever the weights' dtype, so
    each carries :data:`LR_SCHEDULE_ULPS` float32 roundoffs; drawn float
    learning rates are float32-exact.  ``grad_ulps``: extra error of the
    gradients the implementation received (ulps of the dtype); ``grad_err``:
    absolute gradient errors per step and variable.  With
    ``clipnorm``/``global_clipnorm`` the gradients get
    :data:`CLIP_RESCALE_ULPS` more.
    """
    hp = spec.reference_hp(case["hp"])
    bkw = dict(kw)
    wd = weight_decay_in_force(spec, case["hp"], bkw.pop("weight_decay", None))
    if bkw.get("clipnorm") or bkw.get("global_clipnorm"):
        grad_ulps += CLIP_RESCALE_ULPS
    try:
        tb = trajectory_bounds(spec.rule, initial_weights(case), grads, lrs, hp, case["dtype"],
                               lr_ulps=LR_SCHEDULE_ULPS if lr_computed else 0.0, grad_ulps=grad_ulps,
                               grad_err=grad_err, weight_decay=wd, **bkw)
    except Exception as exc:  # a rule the bound cannot follow: say so and use the heuristic
        tols = heuristic_tolerance(spec, case, grads, lrs, trace, lr_computed, **kw)
        rule = (f"heuristic {C_ULPS:g}*k*eps*(|w|+path) + {SPREAD_FACTOR:g}*spread({PERTURB_ULPS:g} ulps) "
                f"(no error bound: {type(exc).__name__}: {str(exc)[:120]})")
        return Tolerances(tols, rule, ema=Tolerances(tols, rule) if trace.ema is not None else None)
    rule = f"{FACTOR:g}*bound_impl({case['dtype']}) + bound_ref(float64), running error bound"
    tols = [FACTOR * i + r for i, r in zip(tb.impl, tb.ref)]
    ema = None
    if tb.ema_impl is not None:
        ema = Tolerances([FACTOR * i + r for i, r in zip(tb.ema_impl, tb.ema_ref)], rule, impl=tb.ema_impl,
                         ref=tb.ema_ref, raw=[i + r for i, r in zip(tb.ema_impl, tb.ema_ref)])
    return Tolerances(tols, rule, impl=tb.impl, ref=tb.ref, raw=[i + r for i, r in zip(tb.impl, tb.ref)], ema=ema)


def heuristic_tolerance(spec: Any, case: Mapping[str, Any], grads: Any, lrs: Sequence[float], trace: Trace,
                        lr_computed: bool = False, **kw: Any) -> list[np.ndarray]:
    """The former heuristic: ``32*k*eps*(|w|+path) + 4*spread`` (fallback, and the power comparison).

    ``spread``: how far the float64 reference moves when every input and
    hyperparameter is perturbed by 4 relative ulps of the dtype (two runs).
    It is not a bound: Keras's incremental moment updates at ``beta_2`` near
    0 exceed it (thorough profile, Adam float32).  ``lr_computed``:
    schedules are perturbed by float32 ulps (Keras evaluates them in float32).
    """
    eps = float(np.finfo(np.dtype(case["dtype"])).eps)
    k = max(1, len(trace.weights) - 1)
    tols = []
    for i in range(len(trace.final)):
        path = sum(np.abs(trace.weights[s + 1][i] - trace.weights[s][i]) for s in range(k))
        tols.append(C_ULPS * k * eps * (np.abs(trace.final[i]) + path))
    spreads = _spread(spec, case, grads, lrs, trace, eps, lr_computed, **kw)
    return [t + SPREAD_FACTOR * s for t, s in zip(tols, spreads)]


def _spread(spec: Any, case: Mapping[str, Any], grads: Any, lrs: Sequence[float], trace: Trace, eps: float,
            lr_computed: bool, **kw: Any) -> list[np.ndarray]:
    spread = [np.zeros_like(w) for w in trace.final]
    for sign, salt in ((1.0, 11), (-1.0, 12)):
        rng = np.random.default_rng([int(case["seed"]), salt])

        def jitter(x: Any) -> Any:
            if isinstance(x, bool) or not isinstance(x, (float, np.ndarray)):
                return x
            return x * (1.0 + sign * PERTURB_ULPS * eps * rng.uniform(0.5, 1.0, size=np.shape(x)))

        hp = {k: jitter(v) if isinstance(v, float) else v for k, v in case["hp"].items()}
        pcase = dict(case, hp=hp)
        if callable(grads):
            pgrads: Any = grads
        else:
            pgrads = [[jitter(g) for g in step] for step in grads]
        # Schedules are evaluated in float32 (Keras's floatx) whatever the weights' dtype.
        lr_eps = float(np.finfo(np.float32).eps) if lr_computed else eps
        plrs = [float(x) * (1.0 + sign * PERTURB_ULPS * lr_eps * rng.uniform(0.5, 1.0)) for x in lrs]
        kw2 = {k: (float(jitter(float(v))) if isinstance(v, float) else v) for k, v in kw.items()}
        w0 = [jitter(w) for w in initial_weights(case)]
        hp_ref = spec.reference_hp(pcase["hp"])
        wd = weight_decay_in_force(spec, pcase["hp"], kw2.pop("weight_decay", None))
        with np.errstate(all="ignore"):
            other = trajectory(spec.rule, w0, pgrads, plrs, hp_ref, weight_decay=wd, **kw2)
        spread = [np.maximum(s, np.nan_to_num(np.abs(o - f), nan=np.inf))
                  for s, o, f in zip(spread, other.final, trace.final)]
    return spread


def compare_to_reference(spec: Any, case: Mapping[str, Any], observed: Sequence[np.ndarray], ref: Reference,
                         what: str, extra: Optional[dict] = None,
                         expected: Optional[Sequence[np.ndarray]] = None, *,
                         history: Optional[Sequence[Sequence[np.ndarray]]] = None,
                         reference_history: Optional[Sequence[Sequence[np.ndarray]]] = None) -> Evidence:
    """Compare final weights coordinate-wise with the reference (or ``expected``) within its tolerance.

    Raises :class:`~initcheck.checks.evidence.CheckFailure` with the worst
    coordinate in the evidence on a miss.  ``history`` (the weights after
    every call, ``KerasRun.weights``) and ``reference_history`` (default: the
    reference rule's own, when comparing with it) give the evidence its
    per-call error curve (figure data); they never change the verdict.
    """
    trace = ref.trace
    own_rule = expected is None  # compared with the reference rule itself, not with another run
    expected = list(expected) if expected is not None else trace.final
    if len(observed) == len(expected) and all(
            np.shape(o) == np.shape(e) and np.array_equal(np.asarray(o, dtype=np.float64), e)
            for o, e in zip(observed, expected)):
        # Bit for bit the expected weights: no tolerance to compute (two runs of one rule often agree).
        return ok(f"{what}: identical to the expected weights", case, worst_error_over_tolerance=0.0,
                  tie_coordinates_excluded=int(sum(int(t.sum()) for t in trace.ties)), bound_ratio=0.0,
                  tolerance_rule="identical bit for bit: no tolerance needed", conventions=dict(spec.conventions),
                  reference=spec.rule.citation, **(extra or {}))
    tols = ref.tolerances
    worst, worst_at, excluded, worst_bound = 0.0, None, 0, 0.0
    raw = getattr(tols, "raw", None) or [None] * len(tols)
    for i, (obs, exp, tol, tie, bnd) in enumerate(zip(observed, expected, tols, trace.ties, raw)):
        obs = np.asarray(obs, dtype=np.float64)
        if obs.shape != exp.shape:
            raise fail(f"{what}: variable {i} has shape {obs.shape}, expected {exp.shape}", case, **dict(extra or {}))
        excluded += int(tie.sum())
        kept = ~tie
        err = np.where(kept, np.abs(obs - exp), 0.0)
        bad = ~np.isfinite(obs) & kept & np.isfinite(exp)
        ratio = np.where(kept, err / np.maximum(tol, 1e-300), 0.0)
        ratio = np.where(bad, np.inf, ratio)
        ratio = np.nan_to_num(ratio, nan=np.inf)
        if bnd is not None and ratio.size:
            braw = np.where(kept, err / np.maximum(bnd, 1e-300), 0.0)
            braw = np.nan_to_num(np.where(bad, np.inf, braw), nan=np.inf)
            worst_bound = max(worst_bound, float(braw.max()))
        if ratio.size and float(ratio.max()) > worst:
            worst = float(ratio.max())
            j = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            worst_at = (i, [int(x) for x in j], float(obs[j]), float(exp[j]), float(tol[j]))
    data = {"worst_error_over_tolerance": worst, "tie_coordinates_excluded": excluded,
            "tolerance_rule": getattr(tols, "rule", "given tolerances"),
            "conventions": dict(spec.conventions), "reference": spec.rule.citation, **(extra or {})}
    if getattr(tols, "raw", None) is not None:
        data["bound_ratio"] = worst_bound
    if reference_history is None:
        reference_history = trace.weights if history is not None and own_rule else [expected]
    # Figure data (the report's per-call error curve); only where tolerances were computed: a bit-identical
    # result passed above without them and has no curve to draw.
    data["figure"] = trajectory_summary(what, history or [observed], reference_history, tols, trace.ties)
    if worst_at is not None:
        data["worst"] = {"variable": worst_at[0], "index": worst_at[1], "observed": worst_at[2],
                         "expected": worst_at[3], "tolerance": worst_at[4]}
    if worst > 1.0:
        raise fail(f"{what}: weights differ from the reference by {worst:.3g}x the tolerance", case, **data)
    return ok(f"{what}: within tolerance (worst {worst:.3g}x)", case, **data)


def expect_reference(spec: Any, case: Mapping[str, Any], observed: Sequence[np.ndarray], grads: Any,
                     lrs: Sequence[float], what: str, *, extra: Optional[dict] = None, lr_computed: bool = False,
                     between_runs: bool = False, grad_ulps: float = 0.0, grad_err: Any = None,
                     expected: Optional[Sequence[np.ndarray]] = None,
                     history: Optional[Sequence[Sequence[np.ndarray]]] = None, **kw: Any) -> Evidence:
    """The reference run and its tolerance for ``(grads, lrs, **kw)``, compared with ``observed``.

    The one comparison every optimizer check makes: ``kw`` are the
    trajectory options (clipping, decay, EMA, accumulation, learning-rate
    form); ``between_runs`` compares two runs of the rule with each other
    (``expected`` is the other run), each within its bound of the rule;
    ``grad_ulps`` / ``grad_err`` are errors of the gradients the
    implementation received (see :func:`tolerance`); ``history`` is the
    run's weights after every call (for the figure; never the verdict).
    """
    return compare_to_reference(spec, case, observed,
                                reference(spec, case, grads, lrs, lr_computed=lr_computed, between_runs=between_runs,
                                          grad_ulps=grad_ulps, grad_err=grad_err, **kw),
                                what, extra, expected, history=history)


def constant_lrs(case: Mapping[str, Any], n: Optional[int] = None) -> list[float]:
    """The case's learning rate at each of its ``steps`` (or ``n``) calls."""
    return [float(case["lr"])] * (n or int(case["steps"]))


def has(tag: str) -> Callable[[Any], bool]:
    """``applies`` predicate: the spec carries capability ``tag`` (on the installed Keras)."""
    return lambda spec: spec.has(tag)


def assert_unmoved(case: Mapping[str, Any], run: "KerasRun", what: str) -> Evidence:
    """The weights after the run equal the initial ones bit for bit (lr 0, zero gradients)."""
    moved = [float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(run.weights[-1], run.weights[0])]
    if any(m != 0.0 or not math.isfinite(m) for m in moved):
        raise fail(f"{what} moved the weights", case, max_move_per_variable=moved)
    return ok(f"{what} leaves the weights", case, max_move_per_variable=moved)


def same_setting(a: Any, b: Any) -> bool:
    """Two config values are the same setting (floats compared as floats, NaN equal to NaN)."""
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b) or (math.isnan(float(a)) and math.isnan(float(b)))
        except (TypeError, ValueError):
            return False
    return a == b


