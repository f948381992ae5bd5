"""Training-step time on Keras 3's JAX and PyTorch backends, beside each backend's raw SGD step.

The same question as ``bench_training_step.py`` (what does a Keras optimizer
cost over the cheapest step the backend can take?) on the other backends,
with the steps of :mod:`backend_steps`: ``jax-eager`` / ``jax-jit``
(``model.stateless_call`` + ``optimizer.stateless_apply``, under ``jax.jit``
or not) and ``torch-eager`` / ``torch-compile`` (``loss.backward()`` +
``optimizer.apply``, under ``torch.compile`` or not).  Results carry the same
``extra_info`` keys as the TensorFlow steps (``kind="train_step"``, ``mode``,
``model``, ``batch``, ``optimizer``, ``paired_over_raw``), so ``ratios.py``
puts them in the same tables, one table per mode.

Run it under the backend::

    KERAS_BACKEND=jax pytest benchmarks/bench_backend_step.py --benchmark-only --benchmark-json=.benchmarks/jax.json
    KERAS_BACKEND=torch pytest benchmarks/bench_backend_step.py --benchmark-only --benchmark-json=.benchmarks/torch.json

Under TensorFlow this file has nothing to time (``bench_training_step.py``
does it); under another backend ``bench_training_step.py`` skips.

Default subset: both modes for every optimizer on ``mlp64`` / batch 32, and
for ``SGD`` / ``Adam`` on every model and batch; ``INITCHECK_BENCH_FULL=1``
times every optimizer x model x batch.  A mode that cannot compile here
(``torch.compile`` without a working C++ toolchain, an op XLA lacks) is a
recorded skip with the error, like the TensorFlow XLA mode.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

import backend_steps as B
import models as M
from initcheck import keras_compat as kc

BACKEND = kc.backend()
pytestmark = pytest.mark.skipif(BACKEND not in B.BACKEND_MODES,
                                reason=f"the {BACKEND} backend's steps are timed by bench_training_step.py")

#: Optimizers timed on every model and batch in the default subset.
CORE_OPTIMIZERS = ("SGD", "Adam")


def _cases() -> list:
    if BACKEND not in B.BACKEND_MODES:
        return []
    full = M.full_matrix()
    cases = []
    for mode in B.BACKEND_MODES[BACKEND]:
        for model in M.MODEL_NAMES:
            for batch in M.BATCH_SIZES:
                cases.append(pytest.param(mode, model, batch, "raw", id=f"{mode}-{model}-b{batch}-raw"))
                for opt in M.benchmark_optimizer_names():
                    if full or opt in CORE_OPTIMIZERS or (model, batch) == ("mlp64", 32):
                        cases.append(pytest.param(mode, model, batch, opt, id=f"{mode}-{model}-b{batch}-{opt}"))
    return cases


def _first(mode: str, model_name: str, batch: int, optimizer: str) -> Callable[[], float]:
    """Build and run the step once (tracing, compilation, slot creation); a compile failure is a recorded skip."""
    try:
        call = B.build_step(mode, model_name, batch, optimizer)
        call()
    except Exception as exc:
        if mode.endswith("-eager"):
            raise  # the plain step must work: a failure here is a finding, not a skip
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        pytest.skip(f"{mode} unavailable for {optimizer} on {model_name}: {type(exc).__name__}: {first}")
    return call


_RAW: dict = {}


def _raw(mode: str, model_name: str, batch: int) -> Callable[[], float]:
    key = (mode, model_name, batch)
    if key not in _RAW:
        _RAW[key] = _first(mode, model_name, batch, "raw")
    return _RAW[key]


@pytest.mark.parametrize("mode, model_name, batch, optimizer", _cases())
def test_backend_train_step(benchmark: Any, mode: str, model_name: str, batch: int, optimizer: str) -> None:
    """One training step of ``optimizer`` (or the raw SGD twin) on this backend, in ``mode``."""
    call = _raw(mode, model_name, batch) if optimizer == "raw" else _first(mode, model_name, batch, optimizer)
    benchmark.group = f"train_step {model_name} b{batch} {mode}"
    benchmark.extra_info.update(kind="train_step", model=model_name, batch=batch, mode=mode, optimizer=optimizer,
                                backend=BACKEND, keras_api=kc.keras_major())
    M.time_pedantic(benchmark, call)
    if optimizer != "raw":
        benchmark.extra_info["paired_over_raw"] = M.paired_ratio(call, _raw(mode, model_name, batch))
    loss = call()
    assert loss == loss and abs(loss) < 1e6, f"the step's loss is {loss}: the timed step is not training"
