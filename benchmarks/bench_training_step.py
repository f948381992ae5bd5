"""Training-step time: every built-in optimizer on the classic models, three modes.

Why: users pick an optimizer for speed as well as quality, and the price of
an optimizer only means something next to the cheapest possible step.  Each
group (model x batch x mode) therefore holds the raw bare-op SGD step
(``optimizer="raw"``) next to every Keras optimizer; ``ratios.py`` divides.

Timed region: one already-traced, already-compiled call ``step(x, y)`` plus
reading the loss back (``.numpy()``, so asynchronous work is included).  The
first call -- tracing, XLA compilation, slot creation -- happens before
timing; after timing we assert the Python body ran exactly once in the
``function``/``xla`` modes, i.e. nothing was retraced inside the timed region.

Default matrix (kept to minutes on a 2-core machine): the ``function`` mode
for every optimizer x model x batch; the ``eager`` and ``xla`` modes for every
optimizer on ``mlp64``/batch 32 and for ``SGD``/``Adam`` on every model and
batch; the raw step everywhere.  ``INITCHECK_BENCH_FULL=1`` times everything.

``test_fit_epoch`` / ``test_loop_epoch`` time ``model.fit`` over
:data:`FIT_BATCHES` batches against a custom ``tf.function`` loop over the same
``tf.data`` batches with the same optimizer (SGD), so their ratio is the cost
of Keras's training loop machinery (callbacks, data adapter, metrics).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

import models as M
from initcheck import keras_compat as kc

pytestmark = pytest.mark.skipif(kc.backend() != "tensorflow",
                                reason="TensorFlow's steps (tf.GradientTape, tf.function, XLA); the other backends' "
                                       "are in bench_backend_step.py")

#: Optimizers timed in every mode and on every model in the default matrix.
CORE_OPTIMIZERS = ("SGD", "Adam")
#: Batches per epoch in the fit-versus-loop comparison.
FIT_BATCHES = 8


def _step_cases() -> list:
    full = M.full_matrix()
    cases = []
    for mode in M.MODES:
        for model in M.MODEL_NAMES:
            for batch in M.BATCH_SIZES:
                cases.append(pytest.param(mode, model, batch, "raw", id=f"{mode}-{model}-b{batch}-raw"))
                for opt in M.benchmark_optimizer_names():
                    if (full or mode == "function" or opt in CORE_OPTIMIZERS
                            or (model, batch) == ("mlp64", 32)):
                        cases.append(pytest.param(mode, model, batch, opt, id=f"{mode}-{model}-b{batch}-{opt}"))
    return cases


def _first_call(call: Callable[[], Any], mode: str) -> None:
    """Trace/compile outside the timed region; an XLA failure becomes a recorded skip."""
    if mode != "xla":
        call()
        return
    try:
        call()
    except Exception as exc:  # XLA may lack a kernel for some op on this build
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        pytest.skip(f"XLA unavailable: {type(exc).__name__}: {first}")


_RAW_CACHE: dict = {}


def _raw_call(mode: str, model_name: str, batch: int) -> Callable[[], Any]:
    """The raw twin's traced step for (mode, model, batch), built once per session."""
    key = (mode, model_name, batch)
    if key not in _RAW_CACHE:
        x, y = M.synthetic_batch(model_name, batch)
        fn = M.wrap_mode(M.raw_step(M.build_raw_model(model_name), M.StepCounter()), mode)

        def call() -> Any:
            return fn(x, y).numpy()

        _first_call(call, mode)
        _RAW_CACHE[key] = call
    return _RAW_CACHE[key]


def _keras_call(mode: str, model_name: str, batch: int, optimizer: str) -> tuple[Callable[[], Any], Any, Any]:
    x, y = M.synthetic_batch(model_name, batch)
    counter = M.StepCounter()
    if optimizer == "raw":
        step = M.raw_step(M.build_raw_model(model_name), counter)
    else:
        model = M.build_keras_model(model_name)
        step = M.keras_step(model, M.make_optimizer(optimizer, model.trainable_variables), counter)
    fn = M.wrap_mode(step, mode)

    def call() -> Any:
        return fn(x, y).numpy()

    return call, fn, counter


@pytest.mark.parametrize("mode, model_name, batch, optimizer", _step_cases())
def test_train_step(benchmark: Any, mode: str, model_name: str, batch: int, optimizer: str) -> None:
    """One training step of ``optimizer`` (or the raw SGD twin) on ``model_name``.

    Besides the pytest-benchmark timing, two *paired* ratios are stored in
    ``extra_info`` (see :func:`models.paired_ratio`): against the raw step in
    the same mode (``paired_over_raw``) and, in the ``xla`` mode, against the
    same step under plain ``tf.function`` (``paired_over_function``).
    """
    call, fn, counter = _keras_call(mode, model_name, batch, optimizer)
    _first_call(call, mode)
    benchmark.group = f"train_step {model_name} b{batch} {mode}"
    benchmark.extra_info.update(kind="train_step", model=model_name, batch=batch, mode=mode,
                                optimizer=optimizer, keras_api=kc.keras_major())
    M.time_pedantic(benchmark, call)
    if optimizer != "raw":
        benchmark.extra_info["paired_over_raw"] = M.paired_ratio(call, _raw_call(mode, model_name, batch))
    if mode == "xla":
        twin, _, _ = _keras_call("function", model_name, batch, optimizer)
        twin()
        benchmark.extra_info["paired_over_function"] = M.paired_ratio(call, twin)
    if mode != "eager":
        assert counter.count == 1, f"step body ran {counter.count} times: retraced inside the timed region"
        assert fn.experimental_get_tracing_count() == 1


def _epoch_data(model_name: str, batch: int) -> Any:
    tf = kc.tf()
    x, y = M.synthetic_batch(model_name, batch * FIT_BATCHES, seed=1)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch, drop_remainder=True)


def _sgd() -> Any:
    return kc.optimizer_class("SGD")(learning_rate=M.SGD_LR)


FIT_CASES = [pytest.param(m, b, id=f"{m}-b{b}") for m in M.MODEL_NAMES for b in M.BATCH_SIZES]


def _loop_call(model_name: str, batch: int, ds: Any) -> tuple[Callable[[], Any], M.StepCounter]:
    model = M.build_keras_model(model_name)
    counter = M.StepCounter()
    fn = M.wrap_mode(M.keras_step(model, M.make_optimizer(_sgd(), model.trainable_variables), counter),
                     "function")

    def call() -> Any:
        loss = None
        for xb, yb in ds:
            loss = fn(xb, yb)
        return loss.numpy()

    return call, counter


@pytest.mark.parametrize("model_name, batch", FIT_CASES)
def test_fit_epoch(benchmark: Any, model_name: str, batch: int) -> None:
    """``model.fit`` for one epoch of :data:`FIT_BATCHES` batches (SGD, no XLA, no metrics).

    ``extra_info["paired_over_loop"]`` holds the paired ratio to the custom
    loop of :func:`test_loop_epoch` (alternating rounds, same load).
    """
    keras = kc.keras()
    ds = _epoch_data(model_name, batch)
    model = M.build_keras_model(model_name)
    model.compile(optimizer=_sgd(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=False)

    def call() -> Any:
        return model.fit(ds, epochs=1, verbose=0, shuffle=False)

    call()  # builds and traces train_function
    train_function = model.train_function
    benchmark.group = f"epoch {model_name} b{batch}"
    benchmark.extra_info.update(kind="fit_epoch", model=model_name, batch=batch, batches=FIT_BATCHES,
                                keras_api=kc.keras_major())
    M.time_pedantic(benchmark, call, max_iterations=1)
    loop, counter = _loop_call(model_name, batch, ds)
    loop()
    benchmark.extra_info["paired_over_loop"] = M.paired_ratio(call, loop, rounds=5, max_iterations=1)
    assert model.train_function is train_function, "fit rebuilt its train function inside the timed region"
    assert counter.count == 1


@pytest.mark.parametrize("model_name, batch", FIT_CASES)
def test_loop_epoch(benchmark: Any, model_name: str, batch: int) -> None:
    """A custom ``tf.function`` step looped in Python over the same batches (SGD)."""
    ds = _epoch_data(model_name, batch)
    call, counter = _loop_call(model_name, batch, ds)
    call()
    benchmark.group = f"epoch {model_name} b{batch}"
    benchmark.extra_info.update(kind="loop_epoch", model=model_name, batch=batch, batches=FIT_BATCHES,
                                keras_api=kc.keras_major())
    M.time_pedantic(benchmark, call, max_iterations=1)
    assert counter.count == 1, f"loop step traced {counter.count} times"
