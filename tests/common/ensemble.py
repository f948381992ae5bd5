"""The ensemble tests' shared setting: seeds, optimizers, and the equivalence they assert."""

from __future__ import annotations

from typing import Any

import numpy as np

from initcheck.convergence import ensemble as E

SEEDS = [0, 3, 11]

STEPS = 12

#: The default gate checks two rules (one stateless, one with two slots and a
#: step count); ``-m slow`` (tests/slow/test_ensemble.py) checks the other three.
GATE_OPTIMIZERS = ("adam", "sgd")

OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.05}),
    "momentum": ("SGD", {"learning_rate": 0.02, "momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.01}),
    "adagrad": ("Adagrad", {"learning_rate": 0.05}),
}


def small_deep_task() -> Any:
    """A 6-layer ReLU version of the deep task (same construction, cheaper)."""
    from initcheck.convergence.tasks.learning import deep_narrow_relu

    return deep_narrow_relu(depth=6, width=8)


def close(a: np.ndarray, b: np.ndarray, rtol: float = 2e-4, atol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


def assert_batched_equals_separate(task: Any, init: Any, key: str) -> None:
    """Same seeds, same optimizer: every loss of every step and every final weight agree to float32 tolerance."""
    name, hp = OPTIMIZERS[key]
    batched = E.train_learning_task(task, init, E.build_optimizer(name, **hp), SEEDS, steps=STEPS)
    separate = E.train_per_seed_keras(task, init, lambda: E.build_optimizer(name, **hp), SEEDS, steps=STEPS)
    assert batched.losses.shape == separate.losses.shape == (STEPS + 1, len(SEEDS))
    close(batched.losses, separate.losses)
    for got, want in zip(batched.params, separate.params):
        close(got, want, atol=1e-5)
    # The seeds really differ (otherwise equality would be trivially shared).
    assert np.ptp(batched.losses[0]) > 1e-3
