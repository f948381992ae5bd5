"""Optimization landscapes: where the optimizer alone decides.

* An ill-conditioned convex quadratic ``f(x) = x^T H x / 2`` in 100
  dimensions, ``H = Q diag(lambda) Q^T`` with ``Q`` a Haar-random rotation
  and 90 eigenvalues uniform in (0, 1), 10 uniform in (30, 60) (condition
  number in the thousands): plain gradient descent must keep its step below
  ``2 / lambda_max`` yet crawls along the small eigenvalues (Nocedal &
  Wright, *Numerical Optimization*, 2nd ed., ch. 3.3).
* Rosenbrock (1960), ``f = (a - x)^2 + b (y - x^2)^2`` with ``a = 1``,
  ``b = 100``: minimum 0 at ``(1, 1)`` at the end of a curved flat valley.
* Beale (1958), ``f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 +
  (2.625 - x + xy^3)^2``: minimum 0 at ``(3, 0.5)``, steep walls elsewhere.

Losses are written against the TensorFlow module passed in, so importing
this module imports no TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Landscape

__all__ = ["ill_conditioned_quadratic", "rosenbrock", "beale", "quadratic_hessian", "TASK_SEED"]

#: Seed of every fixed random choice of the tasks (data sets, rotations).
TASK_SEED = 20240531


def quadratic_hessian(dim: int = 100, n_small: int = 90, seed: int = TASK_SEED) -> tuple[np.ndarray, np.ndarray]:
    """``(H, eigenvalues)`` of the ill-conditioned quadratic (fixed by ``seed``)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0.0, 1.0, size=n_small)
    large = rng.uniform(30.0, 60.0, size=dim - n_small)
    lam = np.concatenate([small, large])
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)))
    q = q * np.sign(np.diag(r))  # Haar-distributed rotation (Mezzadri 2007)
    h = (q * lam) @ q.T
    return 0.5 * (h + h.T), lam


def _start(center: np.ndarray, scale: float, salt: int):
    def start(seed: int) -> np.ndarray:
        rng = np.random.default_rng([salt, int(seed)])
        return (center + scale * rng.normal(size=center.shape)).astype(np.float32)

    return start


def ill_conditioned_quadratic() -> Landscape:
    """100-dim quadratic, eigenvalues 90 in (0, 1) and 10 in (30, 60); start ``x0 ~ N(0, I)``.

    Target ``f <= 0.5`` (from ``E f(x0) = tr(H)/2`` of about 250): the large
    eigen-directions must be solved and most of the small ones reduced.
    """
    h, lam = quadratic_hessian()
    h32 = h.astype(np.float32)

    def loss(x: Any, tf: Any) -> Any:
        return 0.5 * tf.reduce_sum(x * tf.matmul(x, tf.constant(h32)), axis=-1)

    return Landscape(
        name="quadratic", dim=100, loss=loss, start=_start(np.zeros(100), 1.0, 1), target=0.5, steps=1000,
        learning_rates={"sgd": 0.03, "momentum": 0.01, "adam": 0.05, "rmsprop": 0.01},
        minimum=np.zeros(100), description="x^T H x / 2, 100 dims, eigenvalues 90 in (0,1) + 10 in (30,60)",
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    """Rosenbrock from ``(-1.2, 1) + N(0, 0.1^2)``; target ``f <= 1e-3``."""

    def loss(x: Any, tf: Any) -> Any:
        u, v = x[..., 0], x[..., 1]
        return (a - u) ** 2 + b * (v - u * u) ** 2

    return Landscape(
        name="rosenbrock", dim=2, loss=loss, start=_start(np.array([-1.2, 1.0]), 0.1, 2), target=1e-3, steps=3000,
        learning_rates={"sgd": 1e-3, "momentum": 5e-4, "adam": 0.02, "rmsprop": 1e-3},
        minimum=np.array([a, a * a]), description=f"Rosenbrock a={a:g}, b={b:g}",
    )


def beale() -> Landscape:
    """Beale from ``(1, 1) + N(0, 0.1^2)``; target ``f <= 1e-3``."""

    def loss(x: Any, tf: Any) -> Any:
        u, v = x[..., 0], x[..., 1]
        return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v * v) ** 2 + (2.625 - u + u * v * v * v) ** 2

    return Landscape(
        name="beale", dim=2, loss=loss, start=_start(np.array([1.0, 1.0]), 0.1, 3), target=1e-3, steps=3000,
        learning_rates={"sgd": 0.01, "momentum": 0.002, "adam": 0.01, "rmsprop": 0.002},
        minimum=np.array([3.0, 0.5]), description="Beale",
    )
