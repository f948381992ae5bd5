"""Optimizer checks of the update rule itself: trajectories, defaults, fixed points, coupling, descent."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from hypothesis import strategies as st

from ...strategies import optimizer_cases
from .. import register_check
from ..evidence import Evidence, fail, ok
from .runner import (assert_unmoved, case_rng, constant_lrs, expect_reference, gradient_sequence, has,
                     initial_weights, run_keras, weight_decay_in_force)

__all__ = [
    "check_trajectory_matches_reference", "check_trajectory_at_defaults", "check_documented_defaults",
    "check_lr_zero_leaves_weights", "check_zero_gradient_leaves_weights", "check_elementwise",
    "check_small_step_decreases_quadratic",
]


@register_check(kind="optimizer", family="optimizer", applies=has("trajectory"),
                strategy=lambda spec: optimizer_cases(spec), examples=12)
def check_trajectory_matches_reference(spec: Any, case: dict) -> Evidence:
    """k >= 5 steps with gradients varied per coordinate and step equal the reference rule."""
    grads = gradient_sequence(case)
    run = run_keras(spec, case, grads)
    return expect_reference(spec, case, run.weights[-1], grads, constant_lrs(case), f"{case['steps']}-step trajectory",
                            history=run.weights)


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
    return expect_reference(spec, case, run.weights[-1], grads, constant_lrs(case), "trajectory at documented defaults",
                            history=run.weights)


@register_check(kind="optimizer", family="optimizer", applies=has("defaults"), examples=1)
def check_documented_defaults(spec: Any, case: dict) -> Evidence:
    """An optimizer built with no arguments has the documented default hyperparameters."""
    from ... import keras_compat as kc

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
        raise fail(f"defaults differ from the documentation: {sorted(wrong)}", case, **data, wrong=wrong)
    return ok("documented defaults hold", case, **data)


@register_check(kind="optimizer", family="optimizer", applies=has("lr_zero_fixed"),
                strategy=lambda spec: optimizer_cases(spec, steps=3), examples=4)
def check_lr_zero_leaves_weights(spec: Any, case: dict) -> Evidence:
    """With learning rate 0 the weights do not move (bit for bit)."""
    # Any weight decay drawn stays on: being scaled by the learning rate, it must not move either.
    return assert_unmoved(case, run_keras(spec, case, gradient_sequence(case), learning_rate=0.0), "learning rate 0")


@register_check(kind="optimizer", family="optimizer", applies=has("zero_grad_fixed"),
                strategy=lambda spec: optimizer_cases(spec, steps=3), examples=4)
def check_zero_gradient_leaves_weights(spec: Any, case: dict) -> Evidence:
    """From a fresh state, zero gradients leave the weights exactly where they are."""
    grads = [[np.zeros(tuple(s)) for s in case["shapes"]] for _ in range(int(case["steps"]))]
    # Weight decay moves weights by design whatever the gradient: switch it off.
    return assert_unmoved(case, run_keras(spec, case, grads, options={"weight_decay": 0.0}), "zero gradients")


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
    variables with m fresh optimizers, within the bound of two runs of the
    rule (each run within ``FACTOR * bound_impl`` of the exact rule).  This
    is what the batched seed ensemble (:mod:`initcheck.convergence.ensemble`)
    relies on; a rule that reads a norm, a factored moment or any statistic
    over the whole variable (LAMB's trust ratio, Adafactor) fails it.
    """
    from ... import keras_compat as kc

    grads = gradient_sequence(case)
    stacked = run_keras(spec, case, grads)
    w0 = initial_weights(case)[0]
    rows = []
    for i in range(w0.shape[0]):
        var = kc.variable(w0[i].astype(case["dtype"]), name="row")
        run = run_keras(spec, case, [[g[0][i]] for g in grads], variables=[var])
        rows.append(run.weights[-1][0])
    return expect_reference(spec, case, stacked.weights[-1], grads, constant_lrs(case),
                            f"one variable of {w0.shape[0]} rows vs {w0.shape[0]} separate variables",
                            extra={"tolerance": "two runs, each within the trajectory bound"}, between_runs=True,
                            expected=[np.stack(rows)])


@register_check(kind="optimizer", family="optimizer", applies=has("descent"),
                strategy=lambda spec: optimizer_cases(spec, steps=1, dtypes=["float64"]).map(
                    lambda c: dict(c, lr=1e-3)), examples=4)
def check_small_step_decreases_quadratic(spec: Any, case: dict) -> Evidence:
    """One small step (lr 1e-3) on a convex quadratic, far from its minimum, lowers the loss.

    Decoupled weight decay (``w -= lr * weight_decay * w`` before the update, checked on its own by
    ``check_weight_decay``) is not a descent step on the loss: it pulls toward 0, not toward the minimum, and
    outweighs the update once ``weight_decay * |w|`` exceeds the update's size.  So the loss after the step is
    compared with the loss at the decayed weights: what must lower the loss is the update the rule computes.
    """
    rng = case_rng(case, 3)
    w0 = initial_weights(case)
    curv = [rng.uniform(0.5, 2.0, size=w.shape) for w in w0]
    centre = [w + rng.choice([-1.0, 1.0], size=w.shape) * rng.uniform(0.5, 2.0, size=w.shape) for w in w0]

    def loss(ws: Sequence[np.ndarray]) -> float:
        return float(sum(0.5 * np.sum(h * (w - c) ** 2) for w, h, c in zip(ws, curv, centre)))

    grads = [[h * (w - c) for w, h, c in zip(w0, curv, centre)]]
    run = run_keras(spec, case, grads)
    wd = weight_decay_in_force(spec, case["hp"], case.get("weight_decay")) or 0.0
    decayed = [w * (1.0 - case["lr"] * wd) for w in run.weights[0]]
    before, after = loss(decayed), loss(run.weights[-1])
    data = {"loss_before": before, "loss_after": after, "weight_decay": wd,
            "loss_before_decay": loss(run.weights[0])}
    if not after < before:
        raise fail("a small step did not lower a convex loss" + (" (from the decayed weights)" if wd else ""),
                   case, **data)
    return ok("loss decreased", case, **data)
