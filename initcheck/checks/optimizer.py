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
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np
from hypothesis import strategies as st

from ..evidence import CheckFailure, Evidence
from ..optimizer_spec import float32_exact
from ..references.optimizers import Trace, trajectory
from . import register_check

__all__ = [
    "compare_to_reference",
    "tolerance",
    "optimizer_cases",
    "run_keras",
    "C_ULPS",
    "PERTURB_ULPS",
    "SPREAD_FACTOR",
]

C_ULPS = 32.0
PERTURB_ULPS = 4.0
SPREAD_FACTOR = 4.0
K_STEPS = 5
MAX_ELEMENTS = 24


# ================================================================== case drawing
def _shapes(min_rank: int) -> Any:
    return st.integers(min_rank, 3).flatmap(
        lambda r: st.lists(st.integers(1, 4), min_size=r, max_size=r)).filter(
        lambda s: int(np.prod(s)) <= MAX_ELEMENTS)


def optimizer_cases(spec: Any, *, steps: int = K_STEPS, n_vars: tuple[int, int] = (1, 2),
                    extra: Optional[Mapping[str, Any]] = None, hp: Optional[Mapping[str, Any]] = None,
                    dtypes: Optional[Sequence[str]] = None) -> Any:
    """Cases ``{"shapes", "dtype", "seed", "grad_scale", "lr", "hp", "steps", ...}``.

    Gradients are drawn from ``seed`` (varied per coordinate and per step,
    with scales spanning 1e-3..1e2 and some exact zeros), so a case is small
    JSON that replays exactly.
    """
    fields = {
        "shapes": st.lists(_shapes(spec.min_rank), min_size=n_vars[0], max_size=n_vars[1]),
        "dtype": st.sampled_from(list(dtypes or spec.dtypes)),
        "seed": st.integers(0, 2**31 - 1),
        "grad_scale": st.sampled_from([1e-3, 0.1, 1.0, 10.0, 100.0]),
        "lr": spec.learning_rate_strategy(),
        "hp": spec.hyperparameter_strategy(hp),
        "steps": st.just(steps),
    }
    for key, value in dict(extra or {}).items():
        fields[key] = value if isinstance(value, st.SearchStrategy) else st.just(value)
    return st.fixed_dictionaries(fields).map(lambda c: _cap_float32_betas(spec, c))


#: Largest beta a float32 case uses for rules with bias corrections.
FLOAT32_BETA_CAP = float(np.float32(0.999))


def _cap_float32_betas(spec: Any, case: dict) -> dict:
    """In float32, cap ``beta_1``/``beta_2`` at 0.999 for rules with ``1 - beta^t`` corrections.

    ``1 - beta^t`` loses ``log10(1 / (1 - beta))`` of float32's ~7 digits to
    cancellation: at beta = 0.9999 the correction carries a ~1e-3 relative
    error that no implementation can avoid, so such cases test the dtype, not
    the rule.  float64 cases keep betas up to 0.9999.
    """
    if case["dtype"] != "float32" or not spec.rule.uses_step_count:
        return case
    hp = dict(case["hp"])
    for key in ("beta_1", "beta_2"):
        if isinstance(hp.get(key), float) and hp[key] > FLOAT32_BETA_CAP:
            hp[key] = FLOAT32_BETA_CAP
    return dict(case, hp=hp)


def _rng(case: Mapping[str, Any], salt: int = 0) -> np.random.Generator:
    return np.random.default_rng([int(case["seed"]), salt])


def initial_weights(case: Mapping[str, Any]) -> list[np.ndarray]:
    """Initial variables, rounded to the case dtype (then held in float64)."""
    rng = _rng(case, 1)
    dt = np.dtype(case["dtype"])
    return [rng.normal(0.0, 1.0, size=tuple(s)).astype(dt).astype(np.float64) for s in case["shapes"]]


def gradient_sequence(case: Mapping[str, Any], n: Optional[int] = None) -> list[list[np.ndarray]]:
    """Per-step gradients: per-coordinate log-uniform magnitudes, random signs, ~10% exact zeros."""
    rng = _rng(case, 2)
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


# ================================================================= Keras runner
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
    from .. import keras_compat as kc

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
    hp = spec.reference_hp(case["hp"])
    wd = _decay(spec, case["hp"], kw.pop("weight_decay", None))
    return trajectory(spec.rule, initial_weights(case), grads, lrs, hp, weight_decay=wd, **kw)


def _decay(spec: Any, hp: Mapping[str, Any], explicit: Optional[float]) -> Optional[float]:
    """The weight decay in force: an explicit option, else the drawn one, else the optimizer's default."""
    if explicit is not None:
        return explicit
    if hp.get("weight_decay") is not None:
        return float(hp["weight_decay"])
    return spec.default_weight_decay


# ================================================================== tolerance
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


def compare_to_reference(check: str, spec: Any, case: Mapping[str, Any], observed: Sequence[np.ndarray],
                         trace: Trace, tols: Sequence[np.ndarray], what: str, extra: Optional[dict] = None,
                         expected: Optional[Sequence[np.ndarray]] = None) -> Evidence:
    """Compare final weights coordinate-wise; raise :class:`CheckFailure` with evidence on a miss."""
    expected = list(expected) if expected is not None else trace.final
    worst, worst_at, excluded = 0.0, None, 0
    for i, (obs, exp, tol, tie) in enumerate(zip(observed, expected, tols, trace.ties)):
        obs = np.asarray(obs, dtype=np.float64)
        if obs.shape != exp.shape:
            _fail(check, spec, case, f"{what}: variable {i} has shape {obs.shape}, expected {exp.shape}", extra)
        excluded += int(tie.sum())
        ok = ~tie
        err = np.where(ok, np.abs(obs - exp), 0.0)
        bad = ~np.isfinite(obs) & ok & np.isfinite(exp)
        ratio = np.where(ok, err / np.maximum(tol, 1e-300), 0.0)
        ratio = np.where(bad, np.inf, ratio)
        ratio = np.nan_to_num(ratio, nan=np.inf)
        if ratio.size and float(ratio.max()) > worst:
            worst = float(ratio.max())
            j = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            worst_at = (i, [int(x) for x in j], float(obs[j]), float(exp[j]), float(tol[j]))
    data = {"worst_error_over_tolerance": worst, "tie_coordinates_excluded": excluded,
            "tolerance_rule": f"{C_ULPS:g}*k*eps*(|w|+path) + {SPREAD_FACTOR:g}*spread({PERTURB_ULPS:g} ulps)",
            "conventions": dict(spec.conventions), "reference": spec.rule.citation, **(extra or {})}
    if worst_at is not None:
        data["worst"] = {"variable": worst_at[0], "index": worst_at[1], "observed": worst_at[2],
                         "expected": worst_at[3], "tolerance": worst_at[4]}
    if worst > 1.0:
        raise CheckFailure(Evidence(check, spec.name, False,
                                    f"{what}: weights differ from the reference by {worst:.3g}x the tolerance",
                                    dict(case), data))
    return Evidence(check, spec.name, True, f"{what}: within tolerance (worst {worst:.3g}x)", dict(case), data)


def _fail(check: str, spec: Any, case: Mapping[str, Any], message: str, data: Optional[dict] = None) -> None:
    raise CheckFailure(Evidence(check, spec.name, False, message, dict(case), dict(data or {})))


def _const_lrs(case: Mapping[str, Any], n: Optional[int] = None) -> list[float]:
    return [float(case["lr"])] * (n or int(case["steps"]))


def _has(tag: str) -> Callable[[Any], bool]:
    return lambda spec: spec.has(tag)


# ============================================================== the checks
@register_check(kind="optimizer", family="optimizer", applies=_has("trajectory"),
                strategy=lambda spec: optimizer_cases(spec), examples=12)
def check_trajectory_matches_reference(spec: Any, case: dict) -> Evidence:
    """k >= 5 steps with gradients varied per coordinate and step equal the reference rule."""
    grads = gradient_sequence(case)
    run = run_keras(spec, case, grads)
    lrs = _const_lrs(case)
    trace = reference_trace(spec, case, grads, lrs)
    tols = tolerance(spec, case, grads, lrs, trace)
    return compare_to_reference("check_trajectory_matches_reference", spec, case, run.weights[-1], trace, tols,
                                f"{case['steps']}-step trajectory")


def _default_cases(spec: Any) -> Any:
    hp = {k: v for k, v in spec.defaults.items() if k in spec.rule.hyperparameters}
    lr = spec.defaults.get("learning_rate", 0.001)
    return optimizer_cases(spec, hp=hp, dtypes=["float32"]).map(lambda c: dict(c, lr=float(np.float32(lr))))


@register_check(kind="optimizer", family="optimizer", applies=lambda s: s.has("defaults") and s.has("trajectory"),
                strategy=_default_cases, examples=4)
def check_trajectory_at_defaults(spec: Any, case: dict) -> Evidence:
    """At the documented defaults (the classic recipe's settings) the trajectory equals the reference."""
    grads = gradient_sequence(case)
    run = run_keras(spec, case, grads, options={})
    lrs = _const_lrs(case)
    trace = reference_trace(spec, case, grads, lrs)
    tols = tolerance(spec, case, grads, lrs, trace)
    return compare_to_reference("check_trajectory_at_defaults", spec, case, run.weights[-1], trace, tols,
                                "trajectory at documented defaults")


@register_check(kind="optimizer", family="optimizer", applies=_has("defaults"), examples=1)
def check_documented_defaults(spec: Any, case: dict) -> Evidence:
    """An optimizer built with no arguments has the documented default hyperparameters."""
    from .. import keras_compat as kc

    opt = spec.factory()
    config = kc.get_config(opt)
    wrong = {}
    for key, want in spec.defaults.items():
        have = config.get(key, getattr(opt, key, None))
        if isinstance(have, dict):  # a serialized schedule or variable
            wrong[key] = (have, want)
            continue
        if isinstance(want, bool) or want is None or isinstance(want, str):
            if have != want:
                wrong[key] = (have, want)
        elif have is None or not math.isclose(float(have), float(want), rel_tol=1e-6):
            wrong[key] = (have, want)
    data = {"defaults": dict(spec.defaults), "config": {k: config.get(k) for k in spec.defaults}}
    if wrong:
        _fail("check_documented_defaults", spec, case,
              f"defaults differ from the documentation: {sorted(wrong)}", {**data, "wrong": wrong})
    return Evidence("check_documented_defaults", spec.name, True, "documented defaults hold", case, data)


@register_check(kind="optimizer", family="optimizer", applies=_has("lr_zero_fixed"),
                strategy=lambda spec: optimizer_cases(spec, steps=3), examples=4)
def check_lr_zero_leaves_weights(spec: Any, case: dict) -> Evidence:
    """With learning rate 0 the weights do not move (bit for bit)."""
    grads = gradient_sequence(case)
    # Any weight decay drawn stays on: being scaled by the learning rate, it must not move either.
    run = run_keras(spec, case, grads, learning_rate=0.0)
    moved = [float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(run.weights[-1], run.weights[0])]
    if any(m != 0.0 or not math.isfinite(m) for m in moved):
        _fail("check_lr_zero_leaves_weights", spec, case, "learning rate 0 moved the weights",
              {"max_move_per_variable": moved})
    return Evidence("check_lr_zero_leaves_weights", spec.name, True, "lr 0 leaves weights", case,
                    {"max_move_per_variable": moved})


@register_check(kind="optimizer", family="optimizer", applies=_has("zero_grad_fixed"),
                strategy=lambda spec: optimizer_cases(spec, steps=3), examples=4)
def check_zero_gradient_leaves_weights(spec: Any, case: dict) -> Evidence:
    """From a fresh state, zero gradients leave the weights exactly where they are."""
    grads = [[np.zeros(tuple(s)) for s in case["shapes"]] for _ in range(int(case["steps"]))]
    # Weight decay moves weights by design whatever the gradient: switch it off.
    run = run_keras(spec, case, grads, options={"weight_decay": 0.0})
    moved = [float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(run.weights[-1], run.weights[0])]
    if any(m != 0.0 or not math.isfinite(m) for m in moved):
        _fail("check_zero_gradient_leaves_weights", spec, case, "zero gradients moved the weights",
              {"max_move_per_variable": moved})
    return Evidence("check_zero_gradient_leaves_weights", spec.name, True, "zero gradients leave weights", case,
                    {"max_move_per_variable": moved})


def _elementwise_cases(spec: Any) -> Any:
    """One variable of shape ``(m, *s)``, m = 2..3 rows (think: m seeds of one model stacked)."""
    return optimizer_cases(spec, steps=4, n_vars=(1, 1)).flatmap(
        lambda c: st.integers(2, 3).map(lambda m: dict(c, shapes=[[m] + list(c["shapes"][0])])))


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("elementwise") and s.has("trajectory"), strategy=_elementwise_cases,
                examples=3)
def check_elementwise(spec: Any, case: dict) -> Evidence:
    """An optimizer tagged ``elementwise`` treats the rows of a stacked variable as separate variables.

    Training one ``(m, *s)`` variable equals training its m rows as m
    variables with m fresh optimizers, to twice the trajectory tolerance.
    This is what the batched seed ensemble (``initcheck.ensemble``) relies
    on; a rule that reads a norm, a factored moment or any statistic over
    the whole variable (LAMB's trust ratio, Adafactor) fails it.
    """
    from .. import keras_compat as kc

    grads = gradient_sequence(case)
    stacked = run_keras(spec, case, grads)
    w0 = initial_weights(case)[0]
    rows = []
    for i in range(w0.shape[0]):
        var = kc.variable(w0[i].astype(case["dtype"]), name="row")
        run = run_keras(spec, case, [[g[0][i]] for g in grads], variables=[var])
        rows.append(run.weights[-1][0])
    lrs = _const_lrs(case)
    trace = reference_trace(spec, case, grads, lrs)
    tols = [2.0 * t for t in tolerance(spec, case, grads, lrs, trace)]
    return compare_to_reference("check_elementwise", spec, case, stacked.weights[-1], trace, tols,
                                f"one variable of {w0.shape[0]} rows vs {w0.shape[0]} separate variables",
                                {"tolerance": "2x the trajectory tolerance"}, expected=[np.stack(rows)])


@register_check(kind="optimizer", family="optimizer", applies=_has("descent"),
                strategy=lambda spec: optimizer_cases(spec, steps=1, dtypes=["float64"]).map(
                    lambda c: dict(c, lr=1e-3)), examples=4)
def check_small_step_decreases_quadratic(spec: Any, case: dict) -> Evidence:
    """One small step (lr 1e-3) on a convex quadratic, far from its minimum, lowers the loss."""
    rng = _rng(case, 3)
    w0 = initial_weights(case)
    curv = [rng.uniform(0.5, 2.0, size=w.shape) for w in w0]
    centre = [w + rng.choice([-1.0, 1.0], size=w.shape) * rng.uniform(0.5, 2.0, size=w.shape) for w in w0]

    def loss(ws: Sequence[np.ndarray]) -> float:
        return float(sum(0.5 * np.sum(h * (w - c) ** 2) for w, h, c in zip(ws, curv, centre)))

    grads = [[h * (w - c) for w, h, c in zip(w0, curv, centre)]]
    run = run_keras(spec, case, grads)
    before, after = loss(run.weights[0]), loss(run.weights[-1])
    data = {"loss_before": before, "loss_after": after}
    if not after < before:
        _fail("check_small_step_decreases_quadratic", spec, case, "a small step did not lower a convex loss", data)
    return Evidence("check_small_step_decreases_quadratic", spec.name, True, "loss decreased", case, data)


def _sparse_cases(spec: Any) -> Any:
    def rows(c: dict) -> Any:
        n = int(c["shapes"][0][0])
        return st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n + 2)
    base = optimizer_cases(spec, steps=3, n_vars=(1, 1)).filter(lambda c: len(c["shapes"][0]) >= 1)
    return base.flatmap(lambda c: st.lists(rows(c), min_size=int(c["steps"]), max_size=int(c["steps"])).map(
        lambda idx: dict(c, indices=idx)))


def _slices(case: Mapping[str, Any], grads_dense_rows: list[np.ndarray], s: int) -> tuple[Any, np.ndarray]:
    """IndexedSlices for step ``s`` (repeated indices allowed) and the equivalent dense gradient."""
    from .. import keras_compat as kc

    shape = tuple(case["shapes"][0])
    idx = list(case["indices"][s])
    values = grads_dense_rows[s][: len(idx)]
    dense = np.zeros(shape)
    for r, v in zip(idx, values):
        dense[r] += v
    return kc.indexed_slices(values.astype(case["dtype"]), idx, shape), dense.astype(case["dtype"]).astype(np.float64)


def _row_values(case: Mapping[str, Any]) -> list[np.ndarray]:
    rng = _rng(case, 4)
    shape = tuple(case["shapes"][0])
    out = []
    for s in range(int(case["steps"])):
        n = len(case["indices"][s])
        v = rng.normal(0, 1, size=(n,) + shape[1:]) * float(case["grad_scale"])
        out.append(v.astype(case["dtype"]).astype(np.float64))
    return out


@register_check(kind="optimizer", family="optimizer", applies=_has("sparse"), strategy=_sparse_cases, examples=6)
def check_sparse_matches_dense(spec: Any, case: dict) -> Evidence:
    """IndexedSlices gradients (indices repeated, unsorted) give the result of the summed dense gradient."""
    rows = _row_values(case)
    pairs = [_slices(case, rows, s) for s in range(int(case["steps"]))]
    sparse_run = run_keras(spec, case, [[p[0]] for p in pairs])
    dense = [[p[1]] for p in pairs]
    dense_run = run_keras(spec, case, dense)
    lrs = _const_lrs(case)
    trace = reference_trace(spec, case, dense, lrs)
    tols = tolerance(spec, case, dense, lrs, trace)
    compare_to_reference("check_sparse_matches_dense", spec, case, dense_run.weights[-1], trace, tols,
                         "dense run (control)")
    return compare_to_reference("check_sparse_matches_dense", spec, case, sparse_run.weights[-1], trace, tols,
                                "sparse (IndexedSlices) run", expected=dense_run.weights[-1])


def _clip_cases(spec: Any) -> Any:
    return optimizer_cases(spec, steps=4, n_vars=(2, 2), extra={
        "clip": st.sampled_from(["clipnorm", "clipvalue", "global_clipnorm"]),
        "threshold": st.sampled_from([0.05, 0.3, 1.0]).map(float32_exact),
        "sparse_first": st.booleans(),
    })


def rejected_clip_combinations() -> list[tuple[str, str]]:
    """Pairs of clipping options the installed Keras documents as exclusive.

    Keras 3: "Only one of clipnorm, clipvalue and global_clipnorm can be
    set"; Keras 2: "At most one of clipnorm and global_clipnorm can be set".
    """
    from .. import keras_compat as kc

    if kc.keras_major() >= 3:
        return [("clipnorm", "clipvalue"), ("clipnorm", "global_clipnorm"), ("clipvalue", "global_clipnorm")]
    return [("clipnorm", "global_clipnorm")]


@register_check(kind="optimizer", family="optimizer", applies=_has("clipping"), strategy=_clip_cases, examples=6)
def check_clipping(spec: Any, case: dict) -> Evidence:
    """clipnorm / clipvalue / global_clipnorm clip as documented (dense and sparse); conflicts are rejected."""
    from .. import keras_compat as kc

    for a, b in rejected_clip_combinations():
        try:
            spec.build(case["lr"], case["hp"], **{a: 1.0, b: 1.0})
        except ValueError:
            continue
        _fail("check_clipping", spec, case, f"conflicting options {a} and {b} were accepted",
              {"documented": "only one of them may be set"})
    grads = gradient_sequence(case)
    keras_grads: list[list[Any]] = [list(g) for g in grads]
    if case["sparse_first"] and len(case["shapes"][0]) >= 1:
        # Step 0's first gradient as IndexedSlices over all rows (each once).
        g0 = grads[0][0]
        keras_grads[0][0] = kc.indexed_slices(g0.astype(case["dtype"]), list(range(g0.shape[0])), g0.shape)
    option = {case["clip"]: case["threshold"]}
    run = run_keras(spec, case, keras_grads, options=option)
    lrs = _const_lrs(case)
    trace = reference_trace(spec, case, grads, lrs, **option)
    tols = tolerance(spec, case, grads, lrs, trace, **option)
    return compare_to_reference("check_clipping", spec, case, run.weights[-1], trace, tols,
                                f"{case['clip']}={case['threshold']}")


def _lr_cases(spec: Any) -> Any:
    forms = [f for f, tag in (("callable", "lr_callable"), ("exponential", "lr_schedule"),
                              ("piecewise", "lr_schedule")) if spec.has(tag)]
    return optimizer_cases(spec, steps=5, extra={"form": st.sampled_from(forms or ["float"]),
                                                 "decay_rate": st.sampled_from([0.5, 0.9]).map(float32_exact)})


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("trajectory") and (s.has("lr_callable") or s.has("lr_schedule")),
                strategy=_lr_cases, examples=6)
def check_learning_rate_forms(spec: Any, case: dict) -> Evidence:
    """A zero-argument callable and a schedule give the rule at each step's rate; schedules advance per iteration."""
    from .. import keras_compat as kc

    lr0, n = float(case["lr"]), int(case["steps"])
    form = case["form"]
    if form == "callable":
        lr: Any = lambda: lr0  # noqa: E731 - the documented zero-argument callable form
        lrs = [lr0] * n
    elif form == "exponential":
        # Keras docs: initial_learning_rate * decay_rate ** (step / decay_steps)
        lr = kc.learning_rate_schedule("exponential", lr0, decay_steps=2, decay_rate=case["decay_rate"])
        lrs = [float(np.float32(lr0 * case["decay_rate"] ** (s / 2.0))) for s in range(n)]
    elif form == "piecewise":
        # Keras docs: values[0] while step <= boundaries[0], then values[1], ...
        values = [lr0, float(np.float32(lr0 * case["decay_rate"]))]
        lr = kc.learning_rate_schedule("piecewise", lr0, boundaries=[1], values=values)
        lrs = [values[0] if s <= 1 else values[1] for s in range(n)]
    else:
        lr, lrs = lr0, [lr0] * n
    hp = dict(case["hp"])
    grads = gradient_sequence(case)
    run = run_keras(spec, case, grads, learning_rate=lr)
    ref_case = dict(case, hp={**hp, "_lr_is_callable": form != "float"})
    trace = reference_trace(spec, ref_case, grads, lrs)
    tols = tolerance(spec, ref_case, grads, lrs, trace, lr_computed=form in ("exponential", "piecewise"))
    return compare_to_reference("check_learning_rate_forms", spec, case, run.weights[-1], trace, tols,
                                f"learning rate as {form}", {"learning_rates": lrs})


def _wd_cases(spec: Any) -> Any:
    return optimizer_cases(spec, steps=4, n_vars=(2, 2), extra={
        "weight_decay": st.sampled_from([0.01, 0.1, 0.5]).map(float32_exact), "exclude": st.booleans()})


@register_check(kind="optimizer", family="optimizer", applies=lambda s: s.has("weight_decay") and s.has("trajectory"),
                strategy=_wd_cases, examples=6)
def check_weight_decay(spec: Any, case: dict) -> Evidence:
    """weight_decay follows the decoupled, lr-scaled convention and honours exclude_from_weight_decay."""
    grads = gradient_sequence(case)
    wd = float(case["weight_decay"])
    names = ["kernel_a", "bias_b"]

    def exclude(opt: Any, variables: list) -> None:
        if case["exclude"]:
            opt.exclude_from_weight_decay(var_names=["bias"])

    run = run_keras(spec, case, grads, options={"weight_decay": wd}, names=names, before_first=exclude)
    lrs = _const_lrs(case)
    mask = [True, not case["exclude"]]
    trace = reference_trace(spec, case, grads, lrs, weight_decay=wd, decay_mask=mask)
    tols = tolerance(spec, case, grads, lrs, trace, weight_decay=wd, decay_mask=mask)
    return compare_to_reference("check_weight_decay", spec, case, run.weights[-1], trace, tols,
                                f"weight_decay={wd} (bias excluded: {case['exclude']})",
                                {"decay_convention": "w -= lr * weight_decay * w before the update"})


def _ema_cases(spec: Any) -> Any:
    return optimizer_cases(spec, steps=5, extra={
        "ema_momentum": st.sampled_from([0.0, 0.5, 0.9, 0.99]).map(float32_exact),
        "overwrite": st.sampled_from([None, 2, 3])})


@register_check(kind="optimizer", family="optimizer", applies=lambda s: s.has("ema") and s.has("trajectory"),
                strategy=_ema_cases, examples=5)
def check_ema(spec: Any, case: dict) -> Evidence:
    """use_ema keeps ema = m*ema + (1-m)*w (start as the Keras version defines it) and overwrites every N steps."""
    from .. import keras_compat as kc

    grads = gradient_sequence(case)
    opts = {"use_ema": True, "ema_momentum": case["ema_momentum"], "ema_overwrite_frequency": case["overwrite"]}
    run = run_keras(spec, case, grads, options=opts)
    lrs = _const_lrs(case)
    kw = {"ema_momentum": case["ema_momentum"], "ema_overwrite_frequency": case["overwrite"],
          "ema_start": "initial" if kc.ema_starts_at_initial_weights() else "first_update"}
    trace = reference_trace(spec, case, grads, lrs, **kw)
    tols = tolerance(spec, case, grads, lrs, trace, **kw)
    compare_to_reference("check_ema", spec, case, run.weights[-1], trace, tols, "weights with EMA overwrite")
    ema = kc.ema_values(run.optimizer, run.variables)
    return compare_to_reference("check_ema", spec, case, ema, trace, tols, "moving average of the weights",
                                expected=trace.ema)


def _acc_cases(spec: Any) -> Any:
    # Weight decay in every case where the optimizer has it: decay (and clipping) belong to
    # the update step only, the part of the contract early Keras 3 releases broke.
    decay = [float32_exact(0.1)] if spec.has("weight_decay") else [None]
    return optimizer_cases(spec, steps=6, extra={
        "micro": st.sampled_from([2, 3]), "clipnorm": st.sampled_from([None, 0.5]),
        "weight_decay": st.sampled_from(decay)})


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("accumulation") and s.has("trajectory"), strategy=_acc_cases, examples=5)
def check_accumulation_matches_mean_step(spec: Any, case: dict) -> Evidence:
    """k accumulated micro-steps equal one step on their mean gradient (clipping and decay applied once)."""
    grads = gradient_sequence(case)
    k = int(case["micro"])
    opts = {"gradient_accumulation_steps": k, "clipnorm": case["clipnorm"], "weight_decay": case["weight_decay"]}
    run = run_keras(spec, case, grads, options=opts)
    lrs = _const_lrs(case)
    kw = {"accumulation_steps": k, "clipnorm": case["clipnorm"], "weight_decay": case["weight_decay"]}
    trace = reference_trace(spec, case, grads, lrs, **kw)
    tols = tolerance(spec, case, grads, lrs, trace, **kw)
    # Between updates the weights must not move at all.
    for s in range(len(grads)):
        if (s + 1) % k != 0:
            for a, b in zip(run.weights[s + 1], run.weights[s]):
                if not np.array_equal(a, b):
                    _fail("check_accumulation_matches_mean_step", spec, case,
                          f"weights moved on micro-step {s + 1}, which is not an update step", {})
    return compare_to_reference("check_accumulation_matches_mean_step", spec, case, run.weights[-1], trace, tols,
                                f"{len(grads)} calls with gradient_accumulation_steps={k}",
                                {"updates": trace.updates})


def _ls_cases(spec: Any) -> Any:
    return optimizer_cases(spec, steps=4, extra={
        "scale": st.sampled_from([1.0, 2.0, 1024.0, 32768.0]).map(float), "bad_step": st.integers(0, 3),
        "bad": st.sampled_from(["inf", "-inf", "nan"])})


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("loss_scaling") and s.has("trajectory"), strategy=_ls_cases, examples=5)
def check_loss_scaling(spec: Any, case: dict) -> Evidence:
    """A loss-scale wrapper equals the inner optimizer on finite gradients and skips non-finite steps."""
    from .. import keras_compat as kc

    grads = gradient_sequence(case)
    scale = float(case["scale"])
    inner = spec.build(case["lr"], case["hp"])
    lso = kc.loss_scale_optimizer(inner, initial_scale=scale, dynamic_growth_steps=1000)
    unscales = kc.loss_scale_unscales_in_apply()
    bad = {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}[case["bad"]]
    fed, kept = [], []
    current = scale
    for s, g in enumerate(grads):
        step = [x * (current if unscales else 1.0) for x in g]
        if s == case["bad_step"]:
            step[0] = step[0].copy()
            step[0].flat[0] = bad
            current = max(current / 2.0, kc.loss_scale_floor())  # halves after a non-finite step
        else:
            kept.append(g)
        fed.append(step)
    run = run_keras(spec, case, fed, optimizer=lso)
    skipped = run.weights[case["bad_step"] + 1]
    before = run.weights[case["bad_step"]]
    if not all(np.array_equal(a, b) for a, b in zip(skipped, before)):
        _fail("check_loss_scaling", spec, case, f"a {case['bad']} gradient was applied instead of skipped", {})
    have_scale = kc.loss_scale_value(lso)
    if have_scale != current:
        _fail("check_loss_scaling", spec, case, f"loss scale is {have_scale}, documented dynamic scale {current}",
              {"initial_scale": scale})
    lrs = _const_lrs(case, len(kept))
    trace = reference_trace(spec, case, kept, lrs)
    tols = tolerance(spec, case, kept, lrs, trace)
    return compare_to_reference("check_loss_scaling", spec, case, run.weights[-1], trace, tols,
                                f"loss-scaled run (scale {scale}, {case['bad']} at step {case['bad_step']})",
                                {"unscaled_inside_apply": unscales, "final_scale": have_scale})


def _ck_cases(spec: Any) -> Any:
    # At least two variables: a resumed model always has several, and state shared across
    # variables (Keras 2 Nadam's u-product cache) only shows with more than one.
    return optimizer_cases(spec, steps=6, n_vars=(2, 3), extra={"split": st.integers(1, 5),
                                                 "decay_rate": st.sampled_from([0.5, 0.9]).map(float32_exact)})


@register_check(kind="optimizer", family="optimizer", applies=_has("checkpoint"), strategy=_ck_cases, examples=3)
def check_checkpoint_resume(spec: Any, case: dict) -> Evidence:
    """Train k steps, save, restore into a fresh optimizer and variables, continue: identical to uninterrupted."""
    from .. import keras_compat as kc

    grads = gradient_sequence(case)
    split = int(case["split"])

    def schedule() -> Any:
        if spec.has("lr_schedule"):
            return kc.learning_rate_schedule("exponential", float(case["lr"]), decay_steps=2,
                                             decay_rate=case["decay_rate"])
        return case["lr"]

    whole = run_keras(spec, case, grads, learning_rate=schedule())
    first = run_keras(spec, case, grads[:split], learning_rate=schedule())
    with tempfile.TemporaryDirectory() as tmp:
        prefix = kc.checkpoint_save(os.path.join(tmp, "ck"), first.optimizer, first.variables)
        fresh_vars = [kc.variable(np.zeros(tuple(s), dtype=case["dtype"]), name=f"var{i}")
                      for i, s in enumerate(case["shapes"])]
        fresh = spec.build(schedule(), case["hp"])
        kc.checkpoint_restore(prefix, fresh, fresh_vars)
    iters = kc.optimizer_iterations(fresh)
    if iters != split:
        _fail("check_checkpoint_resume", spec, case, f"restored iterations={iters}, saved after {split} steps", {})
    second = run_keras(spec, case, grads[split:], optimizer=fresh, variables=fresh_vars)
    diffs = [float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(second.weights[-1], whole.weights[-1])]
    data = {"max_abs_difference": diffs, "split": split}
    if any(d != 0.0 for d in diffs):
        _fail("check_checkpoint_resume", spec, case, "resumed training differs from uninterrupted training", data)
    return Evidence("check_checkpoint_resume", spec.name, True, "resume is bit-identical", case, data)


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("distributed") and s.has("trajectory"),
                strategy=lambda spec: optimizer_cases(spec, steps=3, n_vars=(1, 1), dtypes=["float32"]).map(
                    lambda c: dict(c, grad_scale=1.0, lr=max(c["lr"], float32_exact(0.01)))), examples=1)
def check_mirrored_strategy(spec: Any, case: dict) -> Evidence:
    """Under MirroredStrategy on two logical CPUs (gradients summed over replicas) the result equals one device.

    One example in the gate (a strategy is costly); the case is drawn with
    unit gradients and a learning rate of at least 0.01 so that the update
    dwarfs the float32 tolerance and a wrong replica reduction shows.  The
    two replicas' parts of each gradient have opposite signs (replica 0
    gets ``-u g``, replica 1 ``(1 + u) g``, u in [0.25, 1]), so applying
    one replica's part, or the mean, differs from the sum even for rules
    that normalise the gradient's scale (Adam, RMSprop, Lion, Adafactor).
    """
    from .. import keras_compat as kc

    if not kc.ensure_logical_cpus(2):
        raise RuntimeError("MirroredStrategy check needs two logical CPUs, but TensorFlow was initialised before "
                           f"they could be configured ({kc._LOGICAL_CPUS.get('how')}); run it in a fresh process")
    tf = kc.tf()
    grads = gradient_sequence(case)
    single = run_keras(spec, case, grads)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        var = kc.variable(initial_weights(case)[0].astype(case["dtype"]), name="var0")
        opt = spec.build(case["lr"], case["hp"])
        opt.build([var])
    rng = _rng(case, 5)
    for g in grads:
        g0 = g[0].astype(case["dtype"])
        part = (-g0 * rng.uniform(0.25, 1.0, size=g0.shape)).astype(case["dtype"])
        halves = [part, (g0 - part).astype(case["dtype"])]
        per_replica = strategy.experimental_distribute_values_from_function(
            lambda ctx, halves=halves: tf.constant(halves[ctx.replica_id_in_sync_group]))

        def replica_fn(grad: Any) -> None:
            opt.apply_gradients([(grad, var)])

        try:
            strategy.run(tf.function(replica_fn), args=(per_replica,))
        except Exception as exc:  # an optimizer that breaks the replica protocol fails the check
            _fail("check_mirrored_strategy", spec, case,
                  f"applying gradients under MirroredStrategy raised {type(exc).__name__}: {str(exc)[:300]}", {})
    have = kc.to_numpy(var).astype(np.float64)
    lrs = _const_lrs(case)
    trace = reference_trace(spec, case, grads, lrs)
    tols = tolerance(spec, case, grads, lrs, trace)
    return compare_to_reference("check_mirrored_strategy", spec, case, [have], trace, tols,
                                "MirroredStrategy(2 CPUs) vs one device", expected=single.weights[-1])


@register_check(kind="optimizer", family="optimizer", applies=_has("config"),
                strategy=lambda spec: optimizer_cases(spec, steps=2), examples=3)
def check_config_round_trip(spec: Any, case: dict) -> Evidence:
    """from_config(get_config()) keeps the class and every hyperparameter, and trains the same."""
    from .. import keras_compat as kc

    opt = spec.build(case["lr"], case["hp"])
    config = kc.get_config(opt)
    clone = kc.from_config(opt, config)
    if type(clone) is not type(opt):
        _fail("check_config_round_trip", spec, case, f"class changed: {type(opt).__name__} -> {type(clone).__name__}")
    again = kc.get_config(clone)
    missing = [k for k in case["hp"] if k not in config]
    changed = {k: (config[k], again.get(k)) for k in config if k != "name" and not _same(config[k], again.get(k))}
    data = {"config": config, "missing": missing, "changed": changed}
    if missing or changed:
        _fail("check_config_round_trip", spec, case, "the config round trip lost or changed hyperparameters", data)
    for key, value in case["hp"].items():
        if not _same(config[key], value):
            _fail("check_config_round_trip", spec, case, f"config[{key!r}]={config[key]!r} but built with {value!r}",
                  data)
    grads = gradient_sequence(case)
    a = run_keras(spec, case, grads, optimizer=opt)
    b = run_keras(spec, case, grads, optimizer=clone)
    if not all(np.array_equal(x, y) for x, y in zip(a.weights[-1], b.weights[-1])):
        _fail("check_config_round_trip", spec, case, "the rebuilt optimizer trains differently", data)
    return Evidence("check_config_round_trip", spec.name, True, "config round trip exact", case, data)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b) or (math.isnan(float(a)) and math.isnan(float(b)))
        except (TypeError, ValueError):
            return False
    return a == b
