"""Each optimizer check catches a deliberately wrong optimizer, and passes the correct one.

The wrong optimizers are Keras optimizer subclasses with one planted bug
each (epsilon sign, epsilon inside the root, missing bias correction,
momentum applied twice, weight decay not scaled by the learning rate, sparse
gradients densified wrongly, a step counter that a checkpoint does not
restore).  They work on Keras 3 and on Keras 2 (tf_keras).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import types

import pytest

from initcheck import keras_compat as kc
from initcheck.battery import Item, expected_failure_for, run_check
from initcheck.builtin.optimizers import ACCUMULATION_EVERY_CALL, CLIP_CONFLICT_ACCEPTED, builtin_specs
from initcheck.checks import all_checks
from initcheck.evidence import CheckFailure
from initcheck.testing import xfail_where

SPECS = {s.name: s for s in builtin_specs()}


def _slot(opt, slots, variable):
    """The slot of ``variable`` in the list ``slots`` (Keras 3 / Keras 2 private index)."""
    if hasattr(opt, "_get_variable_index"):
        return slots[opt._get_variable_index(variable)]
    return slots[opt._index_dict[opt._var_key(variable)]]


def _dense(tf, gradient):
    return tf.convert_to_tensor(gradient) if isinstance(gradient, tf.IndexedSlices) else gradient


def broken_adam_class():
    tf = kc.tf()
    base = kc.optimizer_class("Adam")

    class BrokenAdam(base):
        """Adam with one planted bug (``bug``)."""

        def __init__(self, bug, **kwargs):
            super().__init__(**kwargs)
            self._bug = bug
            self._hidden = types.SimpleNamespace(step=None)  # not tracked: not checkpointed

        def apply_gradients(self, grads_and_vars, *args, **kwargs):
            out = super().apply_gradients(grads_and_vars, *args, **kwargs)
            if self._hidden.step is None:
                self._hidden.step = tf.Variable(0, dtype="int64", trainable=False)
            self._hidden.step.assign_add(1)
            return out

        def update_step(self, gradient, variable, learning_rate=None):
            lr = self.learning_rate if learning_rate is None else learning_rate
            dt = variable.dtype
            g = tf.cast(_dense(tf, gradient), dt)
            lr = tf.cast(lr, dt)
            if self._bug == "hidden_step" and self._hidden.step is not None:
                t = tf.cast(self._hidden.step + 1, dt)
            else:
                t = tf.cast(self.iterations + 1, dt)
            b1, b2, eps = tf.cast(self.beta_1, dt), tf.cast(self.beta_2, dt), tf.cast(self.epsilon, dt)
            m = _slot(self, self._momentums, variable)
            v = _slot(self, self._velocities, variable)
            m.assign(b1 * m + (1 - b1) * g)
            v.assign(b2 * v + (1 - b2) * g * g)
            alpha = lr * tf.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            if self._bug == "eps_sign":
                variable.assign_sub(alpha * m / (tf.sqrt(v) - eps))
            elif self._bug == "eps_inside":
                variable.assign_sub(alpha * m / tf.sqrt(v + eps))
            elif self._bug == "no_bias_correction":
                variable.assign_sub(lr * m / (tf.sqrt(v) + eps))
            else:
                variable.assign_sub(alpha * m / (tf.sqrt(v) + eps))

    return BrokenAdam


def broken_sgd_class():
    tf = kc.tf()
    base = kc.optimizer_class("SGD")

    class BrokenSGD(base):
        """SGD with one planted bug (``bug``)."""

        def __init__(self, bug, **kwargs):
            super().__init__(**kwargs)
            self._bug = bug

        def apply_gradients(self, grads_and_vars, *args, **kwargs):
            if self._bug == "replica_mean" and tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context():
                # Wrong: averages the replicas' gradients (Keras documents a sum).
                n = tf.distribute.get_strategy().num_replicas_in_sync
                grads_and_vars = [(g / n, v) for g, v in grads_and_vars]
            return super().apply_gradients(grads_and_vars, *args, **kwargs)

        def _apply_weight_decay(self, variables):
            if self._bug != "decay_unscaled" or self.weight_decay is None:
                return super()._apply_weight_decay(variables)
            for variable in variables:
                if self._use_weight_decay(variable):
                    variable.assign(variable - variable * tf.cast(self.weight_decay, variable.dtype))

        def update_step(self, gradient, variable, learning_rate=None):
            lr = self.learning_rate if learning_rate is None else learning_rate
            dt = variable.dtype
            if isinstance(gradient, tf.IndexedSlices) and self._bug == "sparse_sorted":
                # Wrong densification: indices sorted, values left in their order.
                idx = tf.sort(gradient.indices)
                gradient = tf.IndexedSlices(gradient.values, idx, gradient.dense_shape)
            g = tf.cast(_dense(tf, gradient), dt)
            lr = tf.cast(lr, dt)
            if self.momentum == 0:
                variable.assign_sub(lr * g)
                return
            mom = tf.cast(self.momentum, dt)
            vel = _slot(self, self.momentums, variable)
            vel.assign(mom * vel - lr * g)
            if self._bug == "momentum_twice":
                variable.assign_add(vel + mom * vel)
            elif self.nesterov:
                variable.assign_add(mom * vel - lr * g)
            else:
                variable.assign_add(vel)

    return BrokenSGD


def _wrong(spec_name, cls_fn, bug, **fixed):
    cls = cls_fn()
    spec = SPECS[spec_name]

    def factory(**kwargs):
        kwargs.update(fixed)
        if kc.keras_major() < 3:
            kwargs.setdefault("jit_compile", False)
        return cls(bug=bug, **kwargs)

    return dataclasses.replace(spec, factory=factory, expected_failures={})


CASES = [
    # (check, spec, class, bug, fixed options)
    ("check_trajectory_matches_reference", "Adam", broken_adam_class, "eps_sign", {}),
    ("check_trajectory_matches_reference", "Adam", broken_adam_class, "eps_inside", {}),
    ("check_trajectory_matches_reference", "Adam", broken_adam_class, "no_bias_correction", {}),
    ("check_trajectory_at_defaults", "Adam", broken_adam_class, "no_bias_correction", {}),
    ("check_trajectory_matches_reference", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_weight_decay", "SGD", broken_sgd_class, "decay_unscaled", {}),
    ("check_sparse_matches_dense", "SGD", broken_sgd_class, "sparse_sorted", {}),
    ("check_checkpoint_resume", "Adam", broken_adam_class, "hidden_step", {}),
    ("check_clipping", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_learning_rate_forms", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_ema", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_loss_scaling", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_mirrored_strategy", "SGD", broken_sgd_class, "replica_mean", {}),
]


_HP = {"Adam": {"beta_1": 0.5, "beta_2": 0.875, "epsilon": 1.0, "amsgrad": False},
       "SGD": {"momentum": 0.875, "nesterov": False}}

#: Extra case fields each check's strategy draws (explicit values for the fast gate).
_EXTRA = {
    "check_trajectory_matches_reference": {},
    "check_trajectory_at_defaults": {"dtype": "float32", "lr": 0.0010000000474974513,
                                     "hp": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}},
    "check_weight_decay": {"shapes": [[3, 2], [2]], "weight_decay": 0.125, "exclude": True, "steps": 4},
    "check_sparse_matches_dense": {"shapes": [[3, 2]], "steps": 3, "indices": [[2, 0, 2], [1, 0], [0, 2, 1]]},
    "check_checkpoint_resume": {"steps": 6, "split": 2, "decay_rate": 0.5},
    "check_clipping": {"shapes": [[3, 2], [2]], "clip": "clipnorm", "threshold": 0.25, "sparse_first": False,
                       "steps": 4},
    "check_learning_rate_forms": {"form": "exponential", "decay_rate": 0.5},
    "check_ema": {"ema_momentum": 0.5, "overwrite": None},
    "check_loss_scaling": {"scale": 2.0, "bad_step": 1, "bad": "nan", "steps": 4},
    "check_mirrored_strategy": {"shapes": [[4]], "dtype": "float32", "steps": 3},
}


def _explicit_case(check, spec_name):
    case = {"shapes": [[3, 2]], "dtype": "float64", "seed": 3, "grad_scale": 1.0, "lr": 0.125,
            "hp": dict(_HP[spec_name]), "steps": 5}
    case.update(_EXTRA[check])
    return case


def _isolated(check: str, request) -> bool:
    """Run a MirroredStrategy teeth case in a process of its own; True when it was.

    A collective op that fails (the deliberately broken replica reduction does)
    aborts TensorFlow's collective executor for the rest of the process, so
    every later MirroredStrategy in that process would fail too.
    """
    if check != "check_mirrored_strategy" or os.environ.get("INITCHECK_TEETH_CHILD"):
        return False
    env = dict(os.environ, INITCHECK_TEETH_CHILD="1")
    nodeid = f"{request.node.path}::{request.node.name}"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          "-m", "", nodeid], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    return True


@pytest.mark.parametrize("check,spec_name,cls_fn,bug,fixed", CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_wrong_optimizer_is_caught(check, spec_name, cls_fn, bug, fixed, request):
    """Fast gate: one explicit case per (check, bug) -- the wrong optimizer fails, the right one passes."""
    _needs_capability(check, spec_name)
    if _isolated(check, request):
        return
    case = _explicit_case(check, spec_name)
    wrong = _wrong(spec_name, cls_fn, bug, **fixed)
    with pytest.raises(CheckFailure) as info:
        run_check(Item(f"teeth>{bug}", wrong, all_checks()[check]), case=case)
    assert info.value.evidence.check == check
    assert not info.value.evidence.passed
    right = Item(f"keras>{spec_name}", SPECS[spec_name], all_checks()[check])
    if expected_failure_for(right) is None:  # the control: the correct optimizer passes the same case
        run_check(right, case=case)
    # else: this Keras has a declared finding on the check (the gate's strict xfail covers it),
    # so the correct optimizer is no control here; the wrong one was still caught above.


def _needs_capability(check: str, spec_name: str) -> None:
    """Skip where the installed Keras lacks the capability the check exercises (the spec's tag range says so)."""
    if not all_checks()[check].applies(SPECS[spec_name]):
        pytest.skip(f"{check} does not apply to {spec_name} on this Keras (a capability outside its tag range)")


@pytest.mark.slow
@pytest.mark.parametrize("check,spec_name,cls_fn,bug,fixed", CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_wrong_optimizer_is_found_by_search(check, spec_name, cls_fn, bug, fixed, request):
    """Slow: the derandomized Hypothesis search of the gate finds each bug by itself."""
    _needs_capability(check, spec_name)
    if _isolated(check, request):
        return
    wrong = _wrong(spec_name, cls_fn, bug, **fixed)
    with pytest.raises(CheckFailure) as info:
        run_check(Item(f"teeth>{bug}", wrong, all_checks()[check]))
    assert info.value.evidence.check == check


@pytest.mark.parametrize("check", ["check_trajectory_matches_reference", "check_checkpoint_resume"])
def test_correct_subclass_passes(check):
    """The same subclass with no bug passes: the failures above come from the bugs, not the subclassing."""
    _needs_capability(check, "Adam")
    ok = _wrong("Adam", broken_adam_class, "none")
    ok = dataclasses.replace(ok, space={**ok.space, "amsgrad": False})  # the subclass implements plain Adam
    run_check(Item("teeth>none", ok, all_checks()[check]))


@xfail_where(ACCUMULATION_EVERY_CALL)
def test_accumulation_catches_wrong_step_count():
    """A reference that counts micro-steps (not updates) disagrees with Keras's accumulation: the check can fail."""
    if not SPECS["Adam"].has("accumulation"):
        pytest.skip("gradient_accumulation_steps needs Keras 3 (declared by the spec's tag range)")
    from initcheck.checks import optimizer as oc

    spec = SPECS["Adam"]
    case = {"shapes": [[3]], "dtype": "float64", "seed": 1, "grad_scale": 1.0, "lr": 0.125,
            "hp": {"beta_1": 0.5, "beta_2": 0.75, "epsilon": 1.0, "amsgrad": False}, "steps": 6, "micro": 2,
            "clipnorm": None, "weight_decay": None}
    oc.check_accumulation_matches_mean_step(spec, case)  # the correct reference passes
    original = oc.trajectory

    def micro_counting(*args, **kwargs):
        kwargs["step_count"] = "calls"
        return original(*args, **kwargs)

    oc.trajectory = micro_counting
    try:
        with pytest.raises(CheckFailure):
            oc.check_accumulation_matches_mean_step(spec, case)
    finally:
        oc.trajectory = original


@xfail_where(CLIP_CONFLICT_ACCEPTED)
def test_conflicting_clip_options_are_rejected_by_keras():
    from initcheck.checks.optimizer import rejected_clip_combinations

    for a, b in rejected_clip_combinations():
        with pytest.raises(ValueError):
            SPECS["SGD"].build(0.1, {}, **{a: 1.0, b: 1.0})


def test_clip_check_catches_accepted_conflict():
    """An optimizer that accepts clipnorm together with global_clipnorm fails check_clipping."""
    sgd = kc.optimizer_class("SGD")

    def lenient(**kwargs):
        if kwargs.get("clipnorm") and kwargs.get("global_clipnorm"):
            kwargs.pop("global_clipnorm")
        return sgd(**kwargs)

    wrong = dataclasses.replace(SPECS["SGD"], factory=lenient)
    with pytest.raises(CheckFailure):
        run_check(Item("teeth>lenient", wrong, all_checks()["check_clipping"]))


def test_defaults_check_catches_wrong_default():
    adam = kc.optimizer_class("Adam")
    wrong = dataclasses.replace(SPECS["Adam"], factory=lambda **kw: adam(**{"beta_2": 0.99, **kw}))
    with pytest.raises(CheckFailure):
        all_checks()["check_documented_defaults"].func(wrong, {})


def _sgd_variant(update):
    """A spec for SGD whose update step is replaced by ``update(gradient, variable, lr)``."""
    sgd = kc.optimizer_class("SGD")

    class Variant(sgd):
        def update_step(self, gradient, variable, learning_rate=None):
            lr = self.learning_rate if learning_rate is None else learning_rate
            update(_dense(kc.tf(), gradient), variable, lr)

    def factory(**kw):
        if kc.keras_major() < 3:
            kw.setdefault("jit_compile", False)
        return Variant(**kw)

    return dataclasses.replace(SPECS["SGD"], factory=factory)


@pytest.mark.parametrize("check", ["check_lr_zero_leaves_weights", "check_zero_gradient_leaves_weights"])
def test_invariant_checks_catch_a_drifting_optimizer(check):
    """An optimizer that moves every weight by +0.01 per step whatever lr and g are is caught on every case."""
    tf = kc.tf()
    drifting = _sgd_variant(lambda g, v, lr: v.assign_add(tf.ones_like(v) * tf.cast(0.01, v.dtype)))
    with pytest.raises(CheckFailure):
        run_check(Item("teeth>drift", drifting, all_checks()[check]))


def test_descent_check_catches_an_ascending_optimizer():
    """``w += lr * g`` raises a convex quadratic on every case (a constant drift would only on some)."""
    tf = kc.tf()
    ascending = _sgd_variant(lambda g, v, lr: v.assign_add(tf.cast(lr, v.dtype) * tf.cast(g, v.dtype)))
    with pytest.raises(CheckFailure):
        run_check(Item("teeth>ascent", ascending, all_checks()["check_small_step_decreases_quadratic"]))


@pytest.mark.parametrize("coupled", ["Adafactor", "Lamb"])
def test_elementwise_check_catches_a_coupling_rule_tagged_elementwise(coupled):
    """Adafactor (factored moments, RMS clipping) and LAMB (per-variable trust ratio) claimed element-wise fail."""
    if coupled not in SPECS:
        pytest.skip(f"{coupled} is not in this Keras (the spec list follows kc.public_optimizer_names())")
    spec = SPECS[coupled]
    claimed = dataclasses.replace(spec, tags=(spec.tags - {"factored", "layerwise"}) | {"elementwise"},
                                  expected_failures={})
    case = {"shapes": [[3, 4]], "dtype": "float64", "seed": 5, "grad_scale": 1.0, "lr": 0.125,
            "hp": dict(SPECS[coupled].defaults, learning_rate=None), "steps": 4}
    case["hp"].pop("learning_rate")
    with pytest.raises(CheckFailure, match="rows vs 3 separate variables"):
        all_checks()["check_elementwise"].func(claimed, case)


def test_elementwise_check_passes_an_elementwise_rule_on_the_same_case():
    case = {"shapes": [[3, 4]], "dtype": "float64", "seed": 5, "grad_scale": 1.0, "lr": 0.125,
            "hp": dict(_HP["Adam"]), "steps": 4}
    assert all_checks()["check_elementwise"].func(SPECS["Adam"], case).passed
