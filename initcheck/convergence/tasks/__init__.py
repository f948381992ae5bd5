"""Toy tasks for the convergence checks: small, deterministic, with a stated target.

Three families, each a plain description that the batched ensemble
(:mod:`initcheck.convergence.ensemble`) trains:

* :class:`Landscape` -- an optimization landscape ``f(x)`` (ill-conditioned
  quadratic, Rosenbrock, Beale).  There is no network, so no initializer:
  each seed draws its own starting point from the task's stated law.
* :class:`LearningTask` -- a fixed data set and a fully connected network
  (XOR, two spirals, linear and logistic regression, a deep narrow ReLU
  network fitting a teacher).  Every kernel comes from the initializer under
  test; biases start at zero (the Keras ``Dense`` default).
* The digits data set (:func:`initcheck.tasks.digits.load_digits_28`), which
  the classic recipes (:mod:`initcheck.tasks.recipes`) train as real Keras
  models.

Every task is deterministic: the data set is drawn from a fixed task seed,
so two runs of the same (initializer, optimizer, task, seeds) cell see the
same numbers.  Importing this package imports no TensorFlow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import numpy as np

__all__ = [
    "Landscape",
    "LearningTask",
    "Task",
    "builtin_tasks",
    "get_task",
    "learning_tasks",
    "landscape_tasks",
    "OPTIMIZER_KEYS",
]

#: The optimizer settings of the convergence matrix, keyed as tasks key their learning rates.
OPTIMIZER_KEYS: tuple[str, ...] = ("sgd", "momentum", "adam", "rmsprop")


@dataclass(frozen=True)
class Landscape:
    """An optimization landscape: minimise ``f(x)`` from a seeded start.

    Args:
        name: Task id.
        dim: Number of coordinates of ``x``.
        loss: ``loss(x, tf) -> (S,)`` for a batch ``x`` of shape ``(S, dim)``,
            written with the TensorFlow module passed in (no import here).
        start: ``start(seed) -> (dim,)`` float array: the seed's starting point.
        target: Success when ``f(x) <= target``.
        steps: Step budget.
        learning_rates: ``{optimizer key: learning rate}`` for the matrix.
        divergence: A loss above this counts as divergence (as do NaN/inf).
        minimum: The known minimiser, for the docs and tests.
        description: One line.
    """

    name: str
    dim: int
    loss: Callable[[Any, Any], Any]
    start: Callable[[int], np.ndarray]
    target: float
    steps: int
    learning_rates: Mapping[str, float]
    divergence: float = 1e12
    minimum: Optional[np.ndarray] = None
    description: str = ""

    kind = "landscape"
    metric = "loss"

    def initial_params(self, seeds: list[int]) -> list[np.ndarray]:
        """``[x0]`` with ``x0`` of shape ``(S, dim)``: each seed's start."""
        return [np.stack([np.asarray(self.start(int(s)), dtype=np.float32) for s in seeds])]


@dataclass(frozen=True)
class LearningTask:
    """A supervised problem on a fixed data set, learnt by a dense network.

    Args:
        name: Task id.
        x: Inputs ``(N, d)`` (float32).
        y: Targets: ``(N, 1)`` floats (``mse``), ``(N, 1)`` in {0, 1}
            (``bce``) or ``(N,)`` integer classes (``ce``).
        widths: Layer widths after the input, the last being the output.
        activation: Hidden activation (``relu``, ``tanh`` or ``linear``).
        loss: ``mse``, ``bce`` (sigmoid logits) or ``ce`` (softmax logits).
        metric: ``loss`` (success when the training loss ``<= target``) or
            ``accuracy`` (success when the training accuracy ``>= target``).
        target: See ``metric``.
        steps: Step budget (full-batch gradient steps).
        learning_rates: ``{optimizer key: learning rate}`` for the matrix.
        divergence: A loss above this counts as divergence (as do NaN/inf).
        description: One line.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    widths: tuple[int, ...]
    activation: str
    loss: str
    metric: str
    target: float
    steps: int
    learning_rates: Mapping[str, float]
    divergence: float = 1e12
    description: str = ""
    notes: Mapping[str, Any] = field(default_factory=dict)

    kind = "learning"

    @property
    def input_dim(self) -> int:
        return int(self.x.shape[1])

    def kernel_shapes(self) -> list[tuple[int, int]]:
        """``(fan_in, fan_out)`` of every Dense kernel, input to output."""
        dims = [self.input_dim, *self.widths]
        return [(dims[i], dims[i + 1]) for i in range(len(dims) - 1)]

    @property
    def depth(self) -> int:
        """Number of hidden layers."""
        return len(self.widths) - 1


Task = Any  # Landscape | LearningTask


def landscape_tasks() -> dict[str, Landscape]:
    """The optimization landscapes, by name."""
    from .landscapes import beale, ill_conditioned_quadratic, rosenbrock

    out = [ill_conditioned_quadratic(), rosenbrock(), beale()]
    return {t.name: t for t in out}


def learning_tasks() -> dict[str, LearningTask]:
    """The learning problems, by name."""
    from .learning import deep_narrow_relu, linear_regression, logistic_regression, spirals, xor

    out = [xor(), spirals(), linear_regression(), logistic_regression(), deep_narrow_relu()]
    return {t.name: t for t in out}


@functools.lru_cache(maxsize=1)
def _builtin_tasks() -> dict[str, Any]:
    return {**landscape_tasks(), **learning_tasks()}


def builtin_tasks() -> dict[str, Any]:
    """Every built-in landscape and learning task, by name (built once per process)."""
    return dict(_builtin_tasks())


def get_task(name: str) -> Any:
    """A built-in task by name; a clear error listing the known ones."""
    tasks = builtin_tasks()
    if name not in tasks:
        raise LookupError(f"unknown task {name!r}; known: {sorted(tasks)}")
    return tasks[name]
