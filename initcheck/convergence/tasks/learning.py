"""Learning problems: a fixed data set, a dense network, a stated target.

All data are drawn once from :data:`~initcheck.tasks.landscapes.TASK_SEED`
(NumPy only), so a task is the same on every run and every machine.

The deep narrow ReLU network is the task where initialization decides
everything: with ``L`` hidden ReLU layers of width ``n`` and i.i.d. kernels
of variance ``q / n``, the second moment of the pre-activations is
multiplied by ``q / 2`` per layer (He et al. 2015, eq. 10; Poole et al. 2016
mean-field recursion), so after ``L = 20`` layers it is ``(q/2)^20`` times
the input's: He (``q = 2``) keeps it, Glorot on square layers (``q = 1``)
shrinks it by ``2^-20 ~ 1e-6``, ``N(0, 0.01^2)`` (``q = 1.6e-3``) by
``1e-68`` (the output is a constant: no gradient reaches the early layers),
``N(0, 1)`` (``q = 16``) multiplies it by ``8^20 ~ 1e18`` (the loss
overflows float32 and the run diverges).
"""

from __future__ import annotations

import numpy as np

from . import LearningTask
from .landscapes import TASK_SEED

__all__ = ["xor", "spirals", "linear_regression", "logistic_regression", "deep_narrow_relu",
           "DEEP_DEPTH", "DEEP_WIDTH"]

DEEP_DEPTH = 30
DEEP_WIDTH = 16


def xor() -> LearningTask:
    """The four XOR points, a 2-8-1 tanh network, cross-entropy <= 0.1 (all four right)."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return LearningTask(
        name="xor", x=x, y=y, widths=(8, 1), activation="tanh", loss="bce", metric="loss", target=0.1,
        steps=2000, learning_rates={"sgd": 0.5, "momentum": 0.1, "adam": 0.05, "rmsprop": 0.01},
        description="XOR, 2-8-1 tanh, BCE <= 0.1",
    )


def spirals(points: int = 100, noise: float = 0.05) -> LearningTask:
    """Two interleaved spirals (Lang & Witbrock 1988), 2-32-32-1 tanh, training accuracy >= 0.95."""
    rng = np.random.default_rng([TASK_SEED, 2])
    t = np.linspace(0.25, 3.0 * np.pi, points)
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3.0 * np.pi)
    x = np.concatenate([arm, -arm]) + noise * rng.normal(size=(2 * points, 2))
    y = np.concatenate([np.zeros(points), np.ones(points)])[:, None]
    return LearningTask(
        name="spirals", x=x.astype(np.float32), y=y.astype(np.float32), widths=(32, 32, 1), activation="tanh",
        loss="bce", metric="accuracy", target=0.95, steps=3000,
        learning_rates={"sgd": 0.5, "momentum": 0.05, "adam": 0.01, "rmsprop": 0.003},
        description="two spirals, 2-32-32-1 tanh, accuracy >= 0.95",
    )


def linear_regression(n: int = 200, d: int = 10, sigma: float = 0.1) -> LearningTask:
    """``y = x w* + N(0, sigma^2)``, one linear layer, MSE <= 2 sigma^2 (the optimum is ~sigma^2)."""
    rng = np.random.default_rng([TASK_SEED, 3])
    x = rng.normal(size=(n, d))
    w = rng.normal(size=(d, 1))
    y = x @ w + sigma * rng.normal(size=(n, 1))
    return LearningTask(
        name="linear_regression", x=x.astype(np.float32), y=y.astype(np.float32), widths=(1,), activation="linear",
        loss="mse", metric="loss", target=2.0 * sigma**2, steps=500,
        learning_rates={"sgd": 0.1, "momentum": 0.02, "adam": 0.05, "rmsprop": 0.01},
        description=f"linear regression d={d}, MSE <= {2 * sigma**2:g}",
    )


def logistic_regression(n: int = 200, d: int = 10, flip: float = 0.05) -> LearningTask:
    """Labels ``[x w* > 0]`` with a fraction ``flip`` flipped; one sigmoid unit; accuracy >= 0.9."""
    rng = np.random.default_rng([TASK_SEED, 4])
    x = rng.normal(size=(n, d))
    w = rng.normal(size=(d, 1))
    y = (x @ w > 0).astype(np.float64)
    flips = rng.random(size=(n, 1)) < flip
    y = np.where(flips, 1.0 - y, y)
    return LearningTask(
        name="logistic_regression", x=x.astype(np.float32), y=y.astype(np.float32), widths=(1,),
        activation="linear", loss="bce", metric="accuracy", target=0.9, steps=500,
        learning_rates={"sgd": 0.5, "momentum": 0.1, "adam": 0.05, "rmsprop": 0.01},
        description=f"logistic regression d={d}, {flip:.0%} label noise, accuracy >= 0.9",
    )


def deep_narrow_relu(depth: int = DEEP_DEPTH, width: int = DEEP_WIDTH, n: int = 64, d: int = 4) -> LearningTask:
    """A depth-``depth`` width-``width`` ReLU network fitting a fixed teacher; MSE <= 0.1.

    The teacher is a 4-16-1 ReLU network with He-normal weights drawn from
    the task seed; its outputs are standardised (variance 1), so ``MSE <= 0.1``
    means 90 % of the variance explained.  Any student that starts with a
    collapsed (constant) output sits at ``MSE = 1``.
    """
    rng = np.random.default_rng([TASK_SEED, 5])
    x = rng.normal(size=(n, d))
    w1 = rng.normal(size=(d, 16)) * np.sqrt(2.0 / d)
    w2 = rng.normal(size=(16, 1)) * np.sqrt(1.0 / 16)
    y = np.maximum(x @ w1, 0.0) @ w2
    y = (y - y.mean()) / y.std()
    return LearningTask(
        name="deep_narrow_relu", x=x.astype(np.float32), y=y.astype(np.float32),
        widths=(width,) * depth + (1,), activation="relu", loss="mse", metric="loss", target=0.1, steps=1000,
        learning_rates={"sgd": 0.01, "momentum": 0.001, "adam": 0.001, "rmsprop": 0.001},
        description=f"{depth}x{width} ReLU fitting a 4-16-1 ReLU teacher, MSE <= 0.1",
        notes={"depth": depth, "width": width},
    )
