"""Propagation checks: does the initializer keep signals alive through depth?

Glorot, He and LeCun chose their variances so that, for the activation each
was designed for, the forward signal and the backward gradient neither vanish
nor explode through many layers.  These checks test that claim directly for
every spec that declares designed-for activations (``spec.activations``),
selected by capability: tag ``iid`` or ``structured``, a supported rank, and
at least one activation with a propagation reference
(:data:`initcheck.references.propagation.THEORY_ACTIVATIONS`).

* ``check_signal_propagation`` - a dense stack (depth 50, width 256, zero
  biases, float64, ``N(0, 1)`` inputs) built from the spec's factory.
* ``check_signal_propagation_conv`` - a circular 1-D convolution stack
  (kernel ``(3, 128, 128)``, receptive field 3, depth 50).
* ``check_linear_isometry`` - specs whose law is orthogonal and that declare
  ``linear``: the end-to-end Jacobian of a deep linear stack has every
  singular value equal to ``gain ** L`` (Saxe et al. 2014).

**What is asserted.**  The statistic is the per-input log ratio
``ln(q_L / q_1)`` (forward; ``q_l`` the mean squared pre-activation) and
``ln(G_1 / G_L)`` (backward; ``G_l`` the mean squared gradient w.r.t. the
pre-activations), averaged over a batch and over :data:`SEEDS` independent
seeds.  The *reference* is the mean-field curve of the activation's design
variance (:data:`initcheck.references.propagation.DESIGN_SIGMA_W2`: linear 1, ReLU 2,
tanh 1, SELU 1), solved numerically from the recursion, plus the
finite-width drift; the band around it is ``z_{1-alpha/2}`` times the
finite-width standard deviation bound ``sqrt(Var / S)`` (derivation in
:mod:`initcheck.references.propagation` and docs/propagation.md).  For ReLU and linear
the reference is flat (``r = 1``); for tanh at ``sigma_w^2 = 1`` there is no
non-zero fixed point and the reference is the critical power-law curve
(``q_l ~ 1/(2l)``); for SELU the forward reference is the fixed point
``q* = 1`` and the backward reference grows by ``chi = 1.0716`` per layer,
the known gradient growth of SELU networks at LeCun initialization, which the
evidence reports next to the measured value.

A case draws the weights once and measures each designed-for activation on
them: two assertions (forward, backward) per activation, each at
``budget().alpha / (2 * number of activations)``; the false-pass rate ``budget().beta`` is stated for
the smallest detectable shift of the total log ratio (``detectable``,
``detectable_ratio`` per layer in the evidence).  The mean-field curve at the
spec's *own* declared variance is reported too, to explain a failure (e.g.
Glorot + ReLU: declared ``sigma_w^2 = 1``, predicted ``r = 0.5``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import stats
from ..references import propagation as ref_prop
from ..strategies import MAX_SEED
from . import register_check
from ._simulator import draw_stack, end_to_end_singular_values, simulate
from .evidence import Evidence, fail, ok
from .figure_data import propagation_controls

__all__ = [
    "check_signal_propagation",
    "check_signal_propagation_conv",
    "check_linear_isometry",
    "DEPTH",
    "WIDTH",
    "BATCH",
    "SEEDS",
    "CONV",
    "ISOMETRY_TOLERANCE",
    "measure_activation",
]

#: Dense stack: depth, width, inputs per seed, independent seeds.
DEPTH, WIDTH, BATCH, SEEDS = 50, 256, 64, 4
#: Conv stack: depth, kernel size, channels, positions (circular), inputs per seed, seeds.
CONV = {"depth": 50, "kernel": 3, "channels": 128, "positions": 16, "batch": 8, "seeds": 3}
#: Largest ``|ln(s / gain**L)|`` accepted for an orthogonal linear stack: float64
#: rounding of 50 products of 128 x 128 orthogonal matrices is ~1e-13; 1e-9 leaves
#: room for a QR done in float64 and is still 7 orders below any real defect
#: (a non-orthogonal 256-wide matrix has singular values spread by O(1)).
ISOMETRY_TOLERANCE = 1e-9

#: A kernel of the wrong shape or dtype makes these checks meaningless.
_CONTRACT = ("check_output_contract",)


def _theory_activations(spec: Any) -> list[str]:
    return [a for a in spec.activations if a in ref_prop.THEORY_ACTIVATIONS]


def _applies_dense(spec: Any) -> bool:
    return (bool(_theory_activations(spec)) and (spec.has("iid") or spec.has("structured"))
            and 2 in spec.ranks and WIDTH >= spec.min_size)


def _applies_conv(spec: Any) -> bool:
    return (bool(_theory_activations(spec)) and (spec.has("iid") or spec.has("structured"))
            and 3 in spec.ranks and CONV["channels"] >= spec.min_size)


def _strategy(spec: Any) -> Any:
    # The case is a base seed; every designed-for activation is measured on
    # the same draw (a replayed case may add "activation" to narrow it).
    return st.fixed_dictionaries({"seed": st.integers(0, MAX_SEED)})


def _dtype(spec: Any) -> str:
    """The widest dtype the spec offers that the backend has (no float64 on JAX without x64)."""
    from .. import keras_compat

    for dt in ("float64", "float32", "float16", "bfloat16"):
        if dt in spec.dtypes and keras_compat.dtype_missing(dt) is None:
            return dt
    return "float32" if keras_compat.dtype_missing("float64") else "float64"


def _budget() -> tuple[float, float]:
    b = stats.budget()
    return float(b.alpha), float(b.beta)


def _declared_sigma_w2(spec: Any, shape: tuple[int, ...]) -> float:
    """``fan_in * Var(W)`` from the spec's *declared* law (for explanations only)."""
    try:
        law = spec.law_for(shape)
        return float(law.variance()) * float(spec.fans(shape).fan_in)
    except Exception:  # a law without a variance: nothing to explain with
        return float("nan")


def measure_activation(spec: Any, activation: str, seed: int, weights: np.ndarray, widths: list[float],
                       batch: int, positions: int = 0, assertions: int = 2,
                       dependent_terms: bool = False) -> tuple[bool, str, dict]:
    """Simulate one activation on drawn weights and compare with the design reference.

    Returns ``(passed, message, data)``; each of the two directions is one
    assertion at ``budget().alpha / assertions``.  Public so tests and the
    benchmark run exactly the check's logic on hand-made weights.
    """
    act = activation
    depth = weights.shape[1]
    seeds = weights.shape[0]
    alpha, beta = _budget()
    alpha_each = alpha / assertions
    sim = simulate(weights, act, batch=batch, data_seed=seed, positions=positions)
    ref_sw2 = ref_prop.DESIGN_SIGMA_W2[act]
    ref = ref_prop.mean_field(act, ref_sw2, depth)
    fl = ref_prop.fluctuation(ref, widths, dependent_terms=dependent_terms)
    bands = {
        "forward": stats.band(fl.forward_mean, fl.forward_var, seeds, depth, alpha_each, beta),
        "backward": stats.band(fl.backward_mean, fl.backward_var, seeds, depth, alpha_each, beta),
    }
    observed = {"forward": float(np.mean(sim.forward)), "backward": float(np.mean(sim.backward))}
    shape = tuple(weights.shape[2:])
    declared = _declared_sigma_w2(spec, shape)
    try:
        predicted = ref_prop.mean_field(act, declared, depth).ratios()
    except (OverflowError, ValueError, ZeroDivisionError, KeyError):
        predicted = {"forward": float("nan"), "backward": float("nan")}
    k = depth - 1
    measured = sim.ratios()
    reference_r = ref.ratios()
    data: dict[str, Any] = {
        "statistic": "mean over seeds and inputs of ln(q_L/q_1) (forward) and ln(G_1/G_L) (backward)",
        "observed": observed,
        "per_seed": {"forward": sim.forward, "backward": sim.backward},
        "r_measured": measured,
        "r_reference": reference_r,
        "reference_sigma_w2": ref_sw2,
        "declared_sigma_w2": declared,
        "r_predicted_at_declared_variance": predicted,
        "band": {d: bands[d].as_dict() for d in bands},
        "threshold": {d: [bands[d].center - bands[d].half_width, bands[d].center + bands[d].half_width]
                      for d in bands},
        "alpha": alpha_each,
        "beta": beta,
        "n": {"seeds": seeds, "batch": batch, "depth": depth, "kernel_shape": list(shape),
              "positions": positions},
        "width_sum_beta": fl.beta,
        "smallest_detectable": {d: {"total_log_ratio": bands[d].detectable,
                                    "per_layer_ratio_factor": bands[d].detectable_ratio} for d in bands},
        "curves": {
            "layer": list(range(1, depth + 1)),
            "log_q_measured": np.mean(sim.log_q, axis=0),
            "log_q_reference": np.log(ref.q),
            "log_grad_measured": np.mean(sim.log_g, axis=0),
            "log_grad_reference": ref.log_grad,
        },
        "simulate_seconds": sim.seconds,
    }
    bad = [d for d in ("forward", "backward") if not bands[d].contains(observed[d])]
    if bad:
        parts = []
        for d in bad:
            value = observed[d]
            r = math.exp(value / k) if math.isfinite(value) else value
            what = ("non-finite" if not math.isfinite(value)
                    else ("grows" if value > bands[d].center else "decays"))
            parts.append(f"{d} signal {what}: r = {r:.4g} per layer, design reference "
                         f"{reference_r[d]:.4g} (band on ln ratio {bands[d].center:.3g} +- "
                         f"{bands[d].half_width:.3g}, observed {value:.4g}); mean field at the declared "
                         f"variance sigma_w^2 = {declared:.4g} predicts r = {predicted[d]:.4g}")
        return False, f"with {act} through {depth} layers: " + "; ".join(parts), data
    return True, (f"with {act}: r = {measured['forward']['r']:.4f} forward, {measured['backward']['r']:.4f} "
                  f"backward (reference {reference_r['forward']:.4f}, {reference_r['backward']:.4f})"), data


def _run(spec: Any, case: dict, shape: tuple[int, ...], depth: int, seeds: int, widths: list[float],
         batch: int, positions: int = 0) -> Evidence:
    """Draw once, measure every designed-for activation (or ``case["activation"]``), one verdict."""
    acts = [case["activation"]] if case.get("activation") else _theory_activations(spec)
    start = time.perf_counter()
    weights = draw_stack(spec.factory, shape, depth, seeds, case["seed"], dtype=_dtype(spec))
    drawn = time.perf_counter() - start
    _finite_or_fail(case, weights)
    results = {}
    failures = []
    messages = []
    for act in acts:
        passed, msg, data = measure_activation(spec, act, case["seed"], weights, widths, batch, positions,
                                               assertions=2 * len(acts), dependent_terms=positions > 0)
        results[act] = data
        messages.append(msg)
        if not passed:
            failures.append(msg)
    data = {"activations": results, "assertions": 2 * len(acts), "draw_seconds": drawn,
            "seconds": time.perf_counter() - start, "figure": propagation_controls(results, depth)}
    if failures:
        raise fail(" | ".join(failures), case, **data)
    return ok("; ".join(messages), case, **data)


@register_check(kind="initializer", family="propagation", applies=_applies_dense, strategy=_strategy,
                examples=1, statistical=True, depends_on=_CONTRACT)
def check_signal_propagation(spec: Any, case: dict) -> Evidence:
    """A deep dense stack keeps forward signal and gradients as the design activation's theory says.

    One case draws the weights once and measures every designed-for
    activation on them (``case["activation"]`` restricts it to one).
    """
    return _run(spec, case, (WIDTH, WIDTH), DEPTH, SEEDS,
                [float(WIDTH)] * (DEPTH - 1), BATCH)


@register_check(kind="initializer", family="propagation", applies=_applies_conv, strategy=_strategy,
                examples=1, statistical=True, depends_on=_CONTRACT)
def check_signal_propagation_conv(spec: Any, case: dict) -> Evidence:
    """A deep circular conv1d stack (receptive field 3) keeps signals as the theory says.

    The mean-field recursion is the dense one with ``fan_in = k * c_in``
    (Xiao et al. 2018).  Finite-width bands use the channel count as the
    width and give the positions no credit: each output channel is an
    independent quadratic form ``w^T M w`` of the previous layer, whose
    relative variance is at most that of a single unit
    (``2 tr(M^2) / tr(M)^2 <= 2``); the activation term is bounded as if all
    positions were one; the two terms, coupled by the spatial covariance,
    are combined by Cauchy-Schwarz (``dependent_terms``).  Measured (48 seeds,
    Gaussian weights, ReLU): sd 1.33 against this bound's 1.95 (the bound
    without Cauchy-Schwarz, 1.38, was nearly tight, so it is not used).
    """
    shape = (CONV["kernel"], CONV["channels"], CONV["channels"])
    return _run(spec, case, shape, CONV["depth"], CONV["seeds"],
                [float(CONV["channels"])] * (CONV["depth"] - 1), CONV["batch"], positions=CONV["positions"])


def _finite_or_fail(case: dict, weights: np.ndarray) -> None:
    if not np.all(np.isfinite(weights)):
        raise fail("the initializer returned non-finite weights", case,
                   nonfinite=int(np.sum(~np.isfinite(weights))))


def _applies_isometry(spec: Any) -> bool:
    if not (spec.has("structured") and "linear" in spec.activations and 2 in spec.ranks):
        return False
    try:
        return spec.law_for((8, 8)).kind == "orthogonal"
    except Exception:  # an invalid law is reported by the spec checks
        return False


@register_check(kind="initializer", family="propagation", applies=_applies_isometry,
                strategy=lambda spec: st.fixed_dictionaries({"seed": st.integers(0, MAX_SEED)}), examples=1,
                depends_on=_CONTRACT)
def check_linear_isometry(spec: Any, case: dict) -> Evidence:
    """A deep linear stack of orthogonal kernels is an exact isometry times ``gain ** L``.

    The Jacobian of ``x -> x W_1 ... W_L`` is the product itself; a product of
    orthogonal matrices is orthogonal, so every singular value equals
    ``gain ** L`` (Saxe et al. 2014).  Deterministic up to float64 rounding
    (:data:`ISOMETRY_TOLERANCE`); no statistical budget is used.
    """
    depth, width = DEPTH, 128
    law = spec.law_for((width, width))
    gain = float(law.gain)
    weights = draw_stack(spec.factory, (width, width), depth, 1, case["seed"], dtype=_dtype(spec))[0]
    _finite_or_fail(case, weights[None])
    sv = end_to_end_singular_values(weights)
    dev = np.abs(np.log(sv) - depth * math.log(gain))
    worst = float(np.max(dev))
    tol = ISOMETRY_TOLERANCE if _dtype(spec) == "float64" else 1e-9 + depth * 8 * float(
        np.finfo(np.float32 if _dtype(spec) == "float32" else np.float16).eps)
    data = {"depth": depth, "width": width, "gain": gain, "expected_singular_value": gain ** depth,
            "singular_value_min": float(sv.min()), "singular_value_max": float(sv.max()),
            "max_abs_log_deviation": worst, "threshold": tol, "dtype": _dtype(spec)}
    if not worst <= tol:
        raise fail(f"end-to-end singular values span [{sv.min():.6g}, {sv.max():.6g}], expected all "
                   f"{gain ** depth:.6g} (max |ln deviation| {worst:.3g} > {tol:.3g})", case, **data)
    return ok(f"all {width} singular values = gain^{depth} within {worst:.2g} (log)", case, **data)
