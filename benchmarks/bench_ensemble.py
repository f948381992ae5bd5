"""Batched ensemble vs the naive per-seed loop (one Keras model and one ``model.fit`` per seed).

Run: ``.venv/bin/pytest benchmarks/bench_ensemble.py --benchmark-only``

Three ways to train the same S seeds of one cell for the same steps:

* ``per_seed_fit`` -- the naive loop: S Keras models, S ``model.fit`` calls
  (full batch, one epoch per step);
* ``batched_cold`` -- one batched ensemble built and XLA-compiled for this
  cell alone (tracing and compilation included);
* ``batched_warm`` -- the compiled loop reused, as the matrix reuses it for
  every initializer of a (task, optimizer) column.

The speed-up target (>= 10x) is read from the benchmark table; it is never
a timed assertion in tests.
"""

from __future__ import annotations

import pytest

from initcheck.convergence import ensemble as E
from initcheck.convergence.tasks import get_task

pytestmark = pytest.mark.filterwarnings("ignore")

S = 16
CASES = {"xor": 300, "deep_narrow_relu": 100}


@pytest.fixture(scope="module")
def he():
    from initcheck.builtin.initializers import builtin_specs

    return {s.name: s for s in builtin_specs()}["HeNormal"]


def _adam():
    return E.build_optimizer("Adam", learning_rate=0.001)


@pytest.mark.parametrize("task_name", sorted(CASES))
def test_per_seed_fit(benchmark, he, task_name):
    task, steps = get_task(task_name), CASES[task_name]
    benchmark.group = f"{task_name}, S={S}, {steps} steps"
    result = benchmark.pedantic(lambda: E.train_per_seed_keras(task, he, _adam, list(range(S)), steps=steps),
                                rounds=1, iterations=1)
    assert result.losses.shape == (steps + 1, S)


@pytest.mark.parametrize("task_name", sorted(CASES))
def test_batched_cold(benchmark, he, task_name):
    task, steps = get_task(task_name), CASES[task_name]
    benchmark.group = f"{task_name}, S={S}, {steps} steps"
    result = benchmark.pedantic(lambda: E.train_learning_task(task, he, _adam(), list(range(S)), steps=steps),
                                rounds=2, iterations=1)
    assert result.losses.shape == (steps + 1, S)


@pytest.mark.parametrize("task_name", sorted(CASES))
def test_batched_warm(benchmark, he, task_name):
    task, steps = get_task(task_name), CASES[task_name]
    benchmark.group = f"{task_name}, S={S}, {steps} steps"
    trainer = E.learning_trainer(task, _adam(), S, steps=steps)
    params = E.learning_params(task, he, list(range(S)))
    trainer.run(params)  # compile once
    result = benchmark.pedantic(lambda: trainer.run(params), rounds=3, iterations=1)
    assert result.losses.shape == (steps + 1, S)
