"""Each optimizer check catches a deliberately wrong optimizer, and passes the correct one.

The wrong optimizers (:mod:`common.doubles`) are Keras optimizer subclasses
with one planted bug each (epsilon sign, epsilon inside the root, missing
bias correction, momentum applied twice, weight decay not scaled by the
learning rate, sparse gradients densified wrongly, a step counter that a
checkpoint does not restore, a config that forgets a hyperparameter, an
update that drifts or ascends).  They work on Keras 3 and on Keras 2
(tf_keras).  The planted bugs and their explicit cases are in
:mod:`common.optimizer_bugs`; tests/slow/test_optimizer_search.py lets the
gate's own search find each one.
"""

from __future__ import annotations

import dataclasses

import pytest

from common import builtins
from common.capabilities import dtype_or_float32, needs
from common.doubles import (broken_adam_class, broken_sgd_class, forgetful_sgd_class, optimizer_of_class, sgd_variant,
                            tensor_ops, wrong_optimizer)
from common.optimizer_bugs import CASES, HP, IDS, explicit_case, needs_capability, run_isolated
from initcheck import keras_compat as kc
from initcheck.battery import Item, expected_failure_for, run_check
from initcheck.builtin.findings import ACCUMULATION_EVERY_CALL, CLIP_CONFLICT_ACCEPTED
from initcheck.checks import all_checks
from initcheck.checks.evidence import CheckFailure
from initcheck.testing import xfail_where


def _caught(spec, check, case=None, label="teeth>wrong", match=None):
    """``check`` fails on ``spec`` (searched, or on ``case``) and the failure is its own."""
    with pytest.raises(CheckFailure, match=match) as info:
        run_check(Item(label, spec, all_checks()[check]), case=case)
    assert info.value.evidence.check == check and not info.value.evidence.passed
    return info.value.evidence


def _passes(spec_name, check, case=None):
    """The built-in spec passes ``check`` (searched, or on ``case``) unless a finding is declared for it here."""
    right = Item(f"keras>{spec_name}", builtins.optimizer(spec_name), all_checks()[check])
    if expected_failure_for(right) is not None:
        return  # this Keras has a declared finding on the check (the gate's strict xfail covers it)
    evidence = run_check(right, case=case)
    assert evidence and all(e.passed and e.check == check for e in evidence)


@pytest.mark.parametrize("check,spec_name,cls_fn,bug,fixed", CASES, ids=IDS)
def test_wrong_optimizer_is_caught(check, spec_name, cls_fn, bug, fixed, request):
    """Fast gate: one explicit case per (check, bug) -- the wrong optimizer fails, the right one passes."""
    needs_capability(check, spec_name)
    if run_isolated(check, request):
        return
    right = Item(f"keras>{spec_name}", builtins.optimizer(spec_name), all_checks()[check])
    declared = expected_failure_for(right)
    case = explicit_case(check, spec_name)
    if declared is not None and any(d.backends for d in declared.items):
        # A backend's declared finding fails this check on the correct optimizer too (JAX: loss scaling in eager
        # apply_gradients).  The wrong one must fail in a part the declaration does not cover (JAX: the jitted
        # stateless_apply path), and the correct one only as declared.
        wrong = _caught(wrong_optimizer(spec_name, cls_fn, bug, **fixed), check, case, label=f"teeth>{bug}")
        if declared.matches(wrong.message, wrong.data):
            pytest.xfail(f"{check} fails on keras>{spec_name} on the {kc.backend()} backend for a declared "
                         f"finding only, so a wrong optimizer cannot be told apart here: {declared.reason}")
        assert declared.uncovered(wrong.message, wrong.data)
        with pytest.raises(CheckFailure) as info:
            run_check(right, case=case)
        assert declared.matches(info.value.evidence.message, info.value.evidence.data), info.value.evidence.message
        return
    _caught(wrong_optimizer(spec_name, cls_fn, bug, **fixed), check, case, label=f"teeth>{bug}")
    _passes(spec_name, check, case)  # the control: the correct optimizer passes the same case


@pytest.mark.parametrize("check", ["check_trajectory_matches_reference", "check_checkpoint_resume",
                                   "check_weights_file_resume"])
def test_correct_subclass_passes(check):
    """The same subclass with no bug passes: the failures above come from the bugs, not the subclassing."""
    needs_capability(check, "Adam")
    ok = wrong_optimizer("Adam", broken_adam_class, "none")
    ok = dataclasses.replace(ok, space={**ok.space, "amsgrad": False})  # the subclass implements plain Adam
    run_check(Item("teeth>none", ok, all_checks()[check]))


def test_loss_scaling_reports_a_jitted_run_that_cannot_trace_beside_the_eager_part():
    """JAX: an optimizer whose update cannot be traced fails the jitted path as a part of its own, next to the eager
    part (which traces too, inside LossScaleOptimizer's jax.lax.cond): the check fails naming both parts, and the
    jitted one is a failure no declaration covers."""
    if kc.capability_missing(("jax_stateless_jit",)):
        pytest.skip(kc.capability_missing(("jax_stateless_jit",)))
    base = kc.optimizer_class("SGD")

    class Untraceable(base):
        def update_step(self, gradient, variable, learning_rate):
            if bool(kc.keras().ops.any(gradient > 1e9)):  # a Python branch on a traced value
                return
            super().update_step(gradient, variable, learning_rate)

    spec = optimizer_of_class("SGD", Untraceable)
    right = Item("keras>SGD", builtins.optimizer("SGD"), all_checks()["check_loss_scaling"])
    declared = expected_failure_for(right)
    ev = _caught(spec, "check_loss_scaling", explicit_case("check_loss_scaling", "SGD"))
    assert "apply_gradients: raised" in ev.message and "stateless_apply under jax.jit: the run: raised" in ev.message
    assert any(m.startswith("stateless_apply under jax.jit: the run") for m in declared.uncovered(ev.message, ev.data))


def test_config_round_trip_catches_a_forgotten_hyperparameter():
    """An SGD whose get_config drops ``momentum`` is rebuilt at momentum 0: caught; Keras's SGD passes."""
    needs_capability("check_config_round_trip", "SGD")
    case = explicit_case("check_config_round_trip", "SGD")
    ev = _caught(optimizer_of_class("SGD", forgetful_sgd_class("momentum")), "check_config_round_trip", case)
    assert ev.data["missing"] == ["momentum"]
    _passes("SGD", "check_config_round_trip", case)


@xfail_where(ACCUMULATION_EVERY_CALL)
def test_accumulation_catches_wrong_step_count(monkeypatch):
    """A reference that counts micro-steps (not updates) disagrees with Keras's accumulation: the check can fail."""
    needs_capability("check_accumulation_matches_mean_step", "Adam")
    from initcheck.checks.optimizer import modes, runner

    spec = builtins.optimizer("Adam")
    case = {"shapes": [[3]], "dtype": dtype_or_float32("float64"), "seed": 1, "grad_scale": 1.0, "lr": 0.125,
            "hp": {"beta_1": 0.5, "beta_2": 0.75, "epsilon": 1.0, "amsgrad": False}, "steps": 6, "micro": 2,
            "clipnorm": None, "weight_decay": None}
    assert modes.check_accumulation_matches_mean_step(spec, case).passed  # the correct reference passes
    original = runner.trajectory

    def micro_counting(*args, **kwargs):
        kwargs["step_count"] = "calls"
        return original(*args, **kwargs)

    monkeypatch.setattr(runner, "trajectory", micro_counting)
    with pytest.raises(CheckFailure) as info:
        modes.check_accumulation_matches_mean_step(spec, case)
    assert info.value.evidence.check == "check_accumulation_matches_mean_step"


@xfail_where(CLIP_CONFLICT_ACCEPTED)
def test_conflicting_clip_options_are_rejected_by_keras():
    from initcheck.checks.optimizer.modes import rejected_clip_combinations

    for a, b in rejected_clip_combinations():
        with pytest.raises(ValueError):
            builtins.optimizer("SGD").build(0.1, {}, **{a: 1.0, b: 1.0})


def test_clip_check_catches_accepted_conflict():
    """An optimizer that accepts clipnorm together with global_clipnorm fails check_clipping."""
    sgd = kc.optimizer_class("SGD")

    def lenient(**kwargs):
        if kwargs.get("clipnorm") and kwargs.get("global_clipnorm"):
            kwargs.pop("global_clipnorm")
        return sgd(**kwargs)

    _caught(dataclasses.replace(builtins.optimizer("SGD"), factory=lenient), "check_clipping", label="teeth>lenient")


def test_defaults_check_catches_wrong_default():
    """An Adam whose beta_2 defaults to 0.99 fails check_documented_defaults; Keras's Adam passes."""
    adam = kc.optimizer_class("Adam")
    wrong = dataclasses.replace(builtins.optimizer("Adam"), factory=lambda **kw: adam(**{"beta_2": 0.99, **kw}))
    _caught(wrong, "check_documented_defaults")
    _passes("Adam", "check_documented_defaults")


@pytest.mark.parametrize("check", ["check_lr_zero_leaves_weights", "check_zero_gradient_leaves_weights"])
def test_invariant_checks_catch_a_drifting_optimizer(check):
    """An optimizer that moves every weight by +0.01 per step whatever lr and g are is caught on every case;
    Keras's SGD passes."""
    t = tensor_ops()
    drifting = sgd_variant(lambda g, v, lr: v.assign_add(t.ones_like(v) * t.cast(0.01, v.dtype)))
    _caught(drifting, check, label="teeth>drift")
    _passes("SGD", check)


@needs("float64")  # every case of check_small_step_decreases_quadratic is float64
def test_descent_check_catches_an_ascending_optimizer():
    """``w += lr * g`` raises a convex quadratic on every case (a constant drift would only on some);
    Keras's SGD passes."""
    t = tensor_ops()
    ascending = sgd_variant(lambda g, v, lr: v.assign_add(t.cast(lr, v.dtype) * t.cast(g, v.dtype)))
    _caught(ascending, "check_small_step_decreases_quadratic", label="teeth>ascent")
    _passes("SGD", "check_small_step_decreases_quadratic")


#: Thorough seed 2 (TF 2.21, Keras 3.15.1) drew it: AdamW, weight_decay 0.5, one step at lr 1e-3 with beta_2 0
#: (an update of ~lr): the decay w -= lr * wd * w pulled |w| > 2 away from the minimum by more than the update moved
#: it toward, so the loss rose (0.78225 -> 0.78229) on a correct optimizer.
_DECAY_OUTWEIGHS_UPDATE = {"dtype": "float64", "grad_scale": 0.001, "lr": 0.001, "seed": 8306, "shapes": [[1]],
                           "steps": 1, "hp": {"amsgrad": False, "beta_1": 0.0, "beta_2": 0.0,
                                              "epsilon": 9.99999993922529e-09, "weight_decay": 0.5}}


@needs("float64")
def test_descent_check_judges_the_update_from_the_decayed_weights():
    """Decoupled weight decay is not a descent step on the loss; the check compares the loss after the step with
    the loss at the decayed weights.  The case that failed AdamW passes, and an ascending update is still caught
    with the same decay."""
    if "AdamW" in builtins.optimizer_specs():
        _passes("AdamW", "check_small_step_decreases_quadratic", case=_DECAY_OUTWEIGHS_UPDATE)
    t = tensor_ops()
    ascending = sgd_variant(lambda g, v, lr: v.assign_add(t.cast(lr, v.dtype) * t.cast(g, v.dtype)))
    case = dict(_DECAY_OUTWEIGHS_UPDATE, hp={"weight_decay": 0.5})
    evidence = _caught(ascending, "check_small_step_decreases_quadratic", case=case, label="teeth>ascent",
                       match="from the decayed weights")
    assert evidence.data["weight_decay"] == 0.5


@pytest.mark.parametrize("coupled", ["Adafactor", "Lamb"])
def test_elementwise_check_catches_a_coupling_rule_tagged_elementwise(coupled):
    """Adafactor (factored moments, RMS clipping) and LAMB (per-variable trust ratio) claimed element-wise fail."""
    specs = builtins.optimizer_specs()
    if coupled not in specs:
        pytest.skip(f"{coupled} is not in this Keras (the spec list follows kc.public_optimizer_names())")
    spec = specs[coupled]
    claimed = dataclasses.replace(spec, tags=(spec.tags - {"factored", "layerwise"}) | {"elementwise"},
                                  expected_failures={})
    case = {"shapes": [[3, 4]], "dtype": "float64", "seed": 5, "grad_scale": 1.0, "lr": 0.125,
            "hp": dict(spec.defaults, learning_rate=None), "steps": 4}
    case["hp"].pop("learning_rate")
    with pytest.raises(CheckFailure, match="rows vs 3 separate variables") as info:
        all_checks()["check_elementwise"].func(claimed, case)
    assert info.value.evidence.check == "check_elementwise"


def test_elementwise_check_passes_an_elementwise_rule_on_the_same_case():
    case = {"shapes": [[3, 4]], "dtype": "float64", "seed": 5, "grad_scale": 1.0, "lr": 0.125,
            "hp": dict(HP["Adam"]), "steps": 4}
    assert all_checks()["check_elementwise"].func(builtins.optimizer("Adam"), case).passed


def test_multi_part_checks_report_every_part():
    """Checks of several independent properties run them all (issue #14): one failure never hides another.

    SGD applying momentum twice fails the dense control of check_sparse_matches_dense while its sparse run
    still agrees with its dense run; SGD sorting sparse indices fails only the sparse part.  Each failure
    names its part (so a declaration can match the part it expects) and the evidence lists every part.
    (The sparse half needs TensorFlow's IndexedSlices: off TensorFlow only the clipping half runs.)
    """
    if kc.capability_missing(all_checks()["check_sparse_matches_dense"].needs) is None:
        case = explicit_case("check_sparse_matches_dense", "SGD")
        ev = _caught(wrong_optimizer("SGD", broken_sgd_class, "momentum_twice"), "check_sparse_matches_dense", case,
                     match=r"dense run \(control\)")
        assert [(p["part"], p["passed"]) for p in ev.data["parts"]] == [("dense run (control)", False),
                                                                        ("sparse (IndexedSlices) run", True)]
        assert "1 of 2 parts failed; passed: sparse (IndexedSlices) run" in ev.message
        ev = _caught(wrong_optimizer("SGD", broken_sgd_class, "sparse_sorted"), "check_sparse_matches_dense", case,
                     match=r"sparse \(IndexedSlices\) run")
        assert [(p["part"], p["passed"]) for p in ev.data["parts"]] == [("dense run (control)", True),
                                                                        ("sparse (IndexedSlices) run", False)]
    # The clipping part fails while every rejection part still runs and passes.
    case = explicit_case("check_clipping", "SGD")
    ev = _caught(wrong_optimizer("SGD", broken_sgd_class, "momentum_twice"), "check_clipping", case,
                 match="clipnorm=0.25")
    assert ev.data["parts"][-1]["part"] == "clipnorm=0.25" and not ev.data["parts"][-1]["passed"]
    others = ev.data["parts"][:-1]
    assert others, "check_clipping tests the option combinations besides the clip itself"
    # Rejecting a conflicting pair (Keras 3) does not depend on the update rule, so those parts pass -- except on
    # Keras 3.0-3.2.0, which accept clipvalue beside a norm clip (the declared clip-conflict-accepted finding;
    # clipnorm with global_clipnorm still raises): there those fail with that finding's message.  Keras 2's "allowed combinations apply both clips" part compares with the reference
    # and sees the bug too.
    import re

    from initcheck.builtin.findings import CLIP_CONFLICT_ACCEPTED

    rejections = [p for p in others if p["part"].endswith(" rejected")]
    if CLIP_CONFLICT_ACCEPTED.applies(kc.versions_from_metadata()):
        assert all(p["passed"] or re.search(CLIP_CONFLICT_ACCEPTED.match, p["message"]) for p in rejections)
        assert any(not p["passed"] for p in rejections)
    else:
        assert all(p["passed"] for p in rejections)
