"""The built-in specs, looked up once per process.

Built once and shared, so that every test module sees the *same* spec
objects: convergence cells are cached by the identity of the initializer's
factory (:func:`initcheck.convergence.run_cell`), so two modules asking for
HeNormal share its trained 56-seed cell instead of training it twice.
Nothing is imported before the first call (the optimizer specs read the
installed Keras).
"""

from __future__ import annotations

import functools
from typing import Any


@functools.lru_cache(maxsize=None)
def initializer_specs() -> dict[str, Any]:
    """``{name: spec}`` of the built-in initializer specs."""
    from initcheck.builtin.initializers import builtin_specs

    return {s.name: s for s in builtin_specs()}


def initializer(name: str) -> Any:
    return initializer_specs()[name]


@functools.lru_cache(maxsize=None)
def optimizer_specs() -> dict[str, Any]:
    """``{name: spec}`` of the built-in optimizer specs of the installed Keras."""
    from initcheck.builtin.optimizers import builtin_specs

    return {s.name: s for s in builtin_specs()}


def optimizer(name: str) -> Any:
    return optimizer_specs()[name]


@functools.lru_cache(maxsize=None)
def convergence_specs() -> dict[str, Any]:
    """The built-in initializers plus the N(0, 1) and N(0, 0.01^2) controls (``N1``, ``N001``)."""
    from initcheck.convergence import normal_spec

    out = dict(initializer_specs())
    out["N1"] = normal_spec(1.0)
    out["N001"] = normal_spec(0.01)
    return out
