"""Optimizer checks: the update is the documented rule, step after step, in every mode.

Each check draws a case (variable shapes, initial values, per-step and
per-coordinate gradients, hyperparameters, learning rate, dtype) with
Hypothesis, runs the Keras optimizer through :mod:`initcheck.keras_compat`,
runs the spec's NumPy reference rule in float64 on the *same* (dtype-rounded)
inputs, and compares.

Tolerance (derived from the dtype, not picked by feel).  For coordinate
``i`` after ``k`` steps::

    tol_i = C * k * eps(dtype) * (|w_i| + sum_t |dw_i,t|)  +  S * spread_i

* ``C = 32``: no rule here takes more than ~16 rounded operations per
  coordinate per step, each off by at most one ulp; the factor 2 covers the
  propagation of one step's error into the next step's slots.
* ``spread_i``: how far the float64 reference moves when every input and
  hyperparameter is perturbed by ``P = 4`` relative ulps of the dtype (two
  perturbed runs); ``S = 4``.  It is the rule's own condition number at this
  case -- large where the rule is ill-conditioned (``1 - beta^t`` with
  ``beta`` near 1, centered RMSprop's ``v - mean_g^2``) and negligible
  elsewhere -- so extreme hyperparameters neither fail spuriously nor loosen
  the comparison where the rule is well conditioned.

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

from ...references.optimizers import Trace, trajectory
from ..evidence import Evidence, fail, ok
from ..figure_data import trajectory_summary

__all__ = [
    "C_ULPS", "PERTURB_ULPS", "SPREAD_FACTOR", "KerasRun", "Reference", "initial_weights", "gradient_sequence",
    "case_rng", "run_keras", "reference_trace", "reference", "tolerance", "compare_to_reference",
    "expect_reference", "constant_lrs", "has", "assert_unmoved", "same_setting",
]

C_ULPS = 32.0
PERTURB_ULPS = 4.0
SPREAD_FACTOR = 4.0


# ================================================================== case data
def case_rng(case: Mapping[str, Any], salt: int = 0) -> np.random.Generator:
    """A NumPy generator for one purpose (``salt``) of a case: everything random in a case comes from its seed."""
    return np.random.default_rng([int(case["seed"]), salt])


def initial_weights(case: Mapping[str, Any]) -> list[np.ndarray]:
    """Initial variables, rounded to the case dtype (then held in float64)."""
    rng = case_rng(case, 1)
    dt = np.dtype(case["dtype"])
    return [rng.normal(0.0, 1.0, size=tuple(s)).astype(dt).astype(np.float64) for s in case["shapes"]]


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
        names = names or [f"var{i}" for i in range(len(case["shapes"]))]
        variables = [kc.variable(w.astype(case["dtype"]), name=n) for w, n in zip(initial_weights(case), names)]
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
    wd = _decay(spec, case["hp"], kw.pop("weight_decay", None))
    return trajectory(spec.rule, initial_weights(case), grads, lrs, hp, weight_decay=wd, **kw)


@dataclass
class Reference:
    """The reference run of a case and the per-coordinate tolerance of its final weights."""

    trace: Trace
    tolerances: list[np.ndarray]


def reference(spec: Any, case: Mapping[str, Any], grads: Any, lrs: Sequence[float], *, lr_computed: bool = False,
              tolerance_factor: float = 1.0, **kw: Any) -> Reference:
    """:func:`reference_trace` and :func:`tolerance` of one case (``kw``: trajectory options)."""
    trace = reference_trace(spec, case, grads, lrs, **dict(kw))
    tols = tolerance(spec, case, grads, lrs, trace, lr_computed=lr_computed, **dict(kw))
    return Reference(trace, [tolerance_factor * t for t in tols])


def _decay(spec: Any, hp: Mapping[str, Any], explicit: Optional[float]) -> Optional[float]:
    """The weight decay in force: an explicit option, else the drawn one, else the optimizer's default."""
    if explicit is not None:
        return explicit
    if hp.get("weight_decay") is not None:
        return float(hp["weight_decay"])
    return spec.default_weight_decay


# ================================================================== comparison with the reference
def tolerance(spec: Any, case: Mapping[str, Any], grads: Any, lrs: Sequence[float], trace: Trace,
              lr_computed: bool = False, **kw: Any) -> list[np.ndarray]:
    """Per-coordinate tolerance of the final weights (see the module docstring).

    ``lr_computed``: the learning rates come from a schedule, which Keras
    evaluates in float32 (its ``floatx``) whatever the weights' dtype, so
    they are perturbed by float32 ulps; drawn float learning rates are
    float32-exact and need no such term.
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
        wd = _decay(spec, pcase["hp"], kw2.pop("weight_decay", None))
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
    trace, tols = ref.trace, ref.tolerances
    own_rule = expected is None  # compared with the reference rule itself, not with another run
    expected = list(expected) if expected is not None else trace.final
    if reference_history is None:
        reference_history = trace.weights if history is not None and own_rule else [expected]
    worst, worst_at, excluded = 0.0, None, 0
    for i, (obs, exp, tol, tie) in enumerate(zip(observed, expected, tols, trace.ties)):
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
        if ratio.size and float(ratio.max()) > worst:
            worst = float(ratio.max())
            j = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            worst_at = (i, [int(x) for x in j], float(obs[j]), float(exp[j]), float(tol[j]))
    data = {"worst_error_over_tolerance": worst, "tie_coordinates_excluded": excluded,
            "tolerance_rule": f"{C_ULPS:g}*k*eps*(|w|+path) + {SPREAD_FACTOR:g}*spread({PERTURB_ULPS:g} ulps)",
            "conventions": dict(spec.conventions), "reference": spec.rule.citation, **(extra or {}),
            "figure": trajectory_summary(what, history or [observed], reference_history, tols, trace.ties)}
    if worst_at is not None:
        data["worst"] = {"variable": worst_at[0], "index": worst_at[1], "observed": worst_at[2],
                         "expected": worst_at[3], "tolerance": worst_at[4]}
    if worst > 1.0:
        raise fail(f"{what}: weights differ from the reference by {worst:.3g}x the tolerance", case, **data)
    return ok(f"{what}: within tolerance (worst {worst:.3g}x)", case, **data)


def expect_reference(spec: Any, case: Mapping[str, Any], observed: Sequence[np.ndarray], grads: Any,
                     lrs: Sequence[float], what: str, *, extra: Optional[dict] = None, lr_computed: bool = False,
                     tolerance_factor: float = 1.0, expected: Optional[Sequence[np.ndarray]] = None,
                     history: Optional[Sequence[Sequence[np.ndarray]]] = None, **kw: Any) -> Evidence:
    """The reference run and its tolerance for ``(grads, lrs, **kw)``, compared with ``observed``.

    The one comparison every optimizer check makes: ``kw`` are the
    trajectory options (clipping, decay, EMA, accumulation, learning-rate
    form); ``tolerance_factor`` widens the tolerance where a check states
    why (``check_elementwise``: two runs, each within one tolerance);
    ``history`` is the run's weights after every call (for the figure).
    """
    return compare_to_reference(spec, case, observed,
                                reference(spec, case, grads, lrs, lr_computed=lr_computed,
                                          tolerance_factor=tolerance_factor, **kw),
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


