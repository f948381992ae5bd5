"""The NumPy references against hand-derived values (no Keras involved)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initcheck.references.optimizers import RULES, clip_gradients, trajectory


def _one(rule, w, g, lr, hp, steps=1):
    return trajectory(RULES[rule], [np.array(w, float)], [[np.array(g, float)]] * steps, [lr] * steps, hp).final[0]


def test_sgd_plain_and_momentum():
    assert _one("sgd", [1.0], [2.0], 0.1, {"momentum": 0.0}) == pytest.approx([0.8])
    # v1 = -0.2, w1 = 0.8; v2 = 0.5*-0.2 - 0.2 = -0.3, w2 = 0.5
    assert _one("sgd", [1.0], [2.0], 0.1, {"momentum": 0.5}, steps=2) == pytest.approx([0.5])
    # nesterov: w1 = 1 + 0.5*(-0.2) - 0.2 = 0.7
    assert _one("sgd", [1.0], [2.0], 0.1, {"momentum": 0.5, "nesterov": True}) == pytest.approx([0.7])


def test_adam_epsilon_forms_first_step():
    hp = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1.0}
    # epsilon-hat: lr*sqrt(1-b2)/(1-b1) * (0.1 g)/(sqrt(0.001) g + eps)
    g = 2.0
    hat = 0.1 * math.sqrt(0.001) / 0.1 * (0.1 * g) / (math.sqrt(0.001) * g + 1.0)
    alg1 = 0.1 * g / (g + 1.0)
    assert _one("adam", [0.0], [g], 0.1, {**hp, "epsilon_form": "epsilon_hat"}) == pytest.approx([-hat])
    assert _one("adam", [0.0], [g], 0.1, {**hp, "epsilon_form": "epsilon"}) == pytest.approx([-alg1])


def test_amsgrad_uses_running_max():
    hp = {"beta_1": 0.0, "beta_2": 0.5, "epsilon": 0.0, "amsgrad": True}
    tr = trajectory(RULES["adam"], [np.zeros(1)], [[np.array([2.0])], [np.array([0.5])]], [1.0, 1.0], hp)
    # step 1: v1 = 2, w = -sqrt(0.5) * 2 / sqrt(2) = -1; step 2: v2 = 0.5*2 + 0.5*0.25 = 1.125 < 2,
    # so the running max 2 is used (plain Adam would use 1.125); alpha = sqrt(0.75)
    assert tr.final[0][0] == pytest.approx(-1.0 - math.sqrt(0.75) * 0.5 / math.sqrt(2.0))


def test_rmsprop_epsilon_placement_and_adagrad():
    hp = {"rho": 0.0, "epsilon": 1.0}
    assert _one("rmsprop", [0.0], [1.0], 1.0, hp) == pytest.approx([-1 / math.sqrt(2.0)])
    assert _one("rmsprop", [0.0], [1.0], 1.0, {**hp, "epsilon_placement": "outside_sqrt"}) == pytest.approx([-0.5])
    assert _one("adagrad", [0.0], [1.0], 1.0, {"initial_accumulator_value": 0.0, "epsilon": 1.0}) == \
        pytest.approx([-1 / math.sqrt(2.0)])


def test_ftrl_l1_zeroes_and_l2_convention():
    hp = {"learning_rate_power": -0.5, "initial_accumulator_value": 0.0, "l1_regularization_strength": 10.0}
    assert _one("ftrl", [3.0], [1.0], 1.0, hp) == pytest.approx([0.0])
    hp = {"learning_rate_power": -0.5, "initial_accumulator_value": 0.0, "l2_regularization_strength": 1.0}
    # n=1, sigma=1, z = 1 - 3 = -2; w = 2 / (1 + c)
    assert _one("ftrl", [3.0], [1.0], 1.0, {**hp, "ftrl_l2": "doubled"}) == pytest.approx([2 / 3])
    assert _one("ftrl", [3.0], [1.0], 1.0, {**hp, "ftrl_l2": "paper"}) == pytest.approx([1.0])


def test_lion_and_lamb_and_adadelta():
    assert _one("lion", [0.0, 0.0], [3.0, -0.1], 0.5, {"beta_1": 0.9, "beta_2": 0.99}) == pytest.approx([-0.5, 0.5])
    # LAMB first step: r = sign-ish (eps 0) so ||r|| = sqrt(n); ratio = ||w|| / ||r||
    w = _one("lamb", [3.0, 4.0], [1.0, -1.0], 0.1, {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 0.0})
    assert w == pytest.approx([3.0 - 0.1 * 5 / math.sqrt(2), 4.0 + 0.1 * 5 / math.sqrt(2)])
    d = _one("adadelta", [0.0], [1.0], 1.0, {"rho": 0.0, "epsilon": 1.0})
    assert d == pytest.approx([-1.0 / math.sqrt(2.0)])


def test_adafactor_factored_shapes_and_cap():
    hp = {"beta_2_decay": -0.8, "epsilon_1": 1e-30, "epsilon_2": 1e-3, "clip_threshold": 1.0}
    w = np.ones((2, 3))
    tr = trajectory(RULES["adafactor"], [w], [[np.ones((2, 3))]], [5.0], hp)
    # rho = min(5, 1) = 1; alpha = RMS(w) = 1; u = g/sqrt(V) = 1; RMS(u) = 1 -> w - 1
    assert tr.final[0] == pytest.approx(np.zeros((2, 3)))
    assert tr.states[0]["r"].shape == (2,) and tr.states[0]["c"].shape == (3,)


def test_clip_gradients():
    g = [np.array([3.0, 4.0]), np.array([0.0, 12.0])]
    a = clip_gradients(g, clipnorm=1.0)
    assert np.linalg.norm(a[0]) == pytest.approx(1.0) and np.linalg.norm(a[1]) == pytest.approx(1.0)
    b = clip_gradients(g, global_clipnorm=6.5)
    assert math.sqrt(sum(np.sum(x * x) for x in b)) == pytest.approx(6.5)
    assert clip_gradients(g, clipvalue=2.0)[1].tolist() == [0.0, 2.0]


def test_accumulation_equals_mean_step_and_ema():
    g1, g2 = np.array([1.0]), np.array([3.0])
    hp = {"momentum": 0.0}
    acc = trajectory(RULES["sgd"], [np.zeros(1)], [[g1], [g2]], [0.1, 0.1], hp, accumulation_steps=2)
    assert acc.weights[1][0][0] == 0.0 and acc.final[0][0] == pytest.approx(-0.2)
    ema = trajectory(RULES["sgd"], [np.zeros(1)], [[g1], [g1]], [1.0, 1.0], hp, ema_momentum=0.5)
    assert ema.ema[0][0] == pytest.approx(0.5 * -1.0 + 0.5 * -2.0)


def test_weight_decay_is_lr_scaled_and_masked():
    tr = trajectory(RULES["sgd"], [np.ones(1), np.ones(1)], [[np.zeros(1), np.zeros(1)]], [0.5], {"momentum": 0.0},
                    weight_decay=0.1, decay_mask=[True, False])
    assert tr.final[0][0] == pytest.approx(1 - 0.05) and tr.final[1][0] == 1.0


def test_reference_never_imports_tensorflow():
    import subprocess
    import sys

    code = ("import sys, initcheck.references.optimizers, initcheck.spec, initcheck.checks.optimizer;"
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
