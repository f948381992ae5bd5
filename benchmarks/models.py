"""The classic recipe's models, their raw-TensorFlow twins, and training steps to time.

Why both: a user choosing an optimizer wants to know what it costs *per step*
compared with the cheapest possible step.  The raw twin computes the same
forward pass, the same loss and the same backward pass with bare TensorFlow
ops (``tf.matmul``, ``tf.nn.conv2d``, ``tf.nn.max_pool2d``,
``tf.nn.sparse_softmax_cross_entropy_with_logits``) and applies plain SGD with
``assign_sub``, so ``keras step / raw step`` is the overhead of Keras plus the
optimizer's own arithmetic.

The three models (the "classic recipe" of the MNIST tutorials):

* ``mlp64``:  784 -> Dense(64, relu) -> Dense(10)
* ``mlp128``: 784 -> Dense(128, relu) -> Dense(10)
* ``cnn``:    28x28x1 -> Conv2D(32, 3x3, relu) -> MaxPool(2x2) -> Flatten -> Dense(10)

Everything Keras-specific goes through :mod:`initcheck.keras_compat`, so the
same code runs on Keras 3 and on Keras 2 (``TF_USE_LEGACY_KERAS=1``).
Inputs are synthetic (seeded normal pixels, uniform labels): speed does not
depend on the pixel values, and the benchmarks must run offline.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
import time
from typing import Any, Callable

import numpy as np

from initcheck import keras_compat as kc

__all__ = [
    "MODEL_NAMES",
    "BATCH_SIZES",
    "MODES",
    "WRAPPERS",
    "RawModel",
    "StepCounter",
    "build_keras_model",
    "build_raw_model",
    "synthetic_batch",
    "keras_step",
    "raw_step",
    "wrap_mode",
    "benchmark_optimizer_names",
    "make_optimizer",
    "full_matrix",
    "time_pedantic",
    "paired_ratio",
]

MODEL_NAMES: tuple[str, ...] = ("mlp64", "mlp128", "cnn")
BATCH_SIZES: tuple[int, ...] = (32, 128)
#: Execution modes: plain eager, ``tf.function``, ``tf.function(jit_compile=True)``.
MODES: tuple[str, ...] = ("eager", "function", "xla")
#: Public optimizer classes that are wrappers or bases, not update rules of their own.
WRAPPERS: frozenset = frozenset({"Optimizer", "LossScaleOptimizer", "MultiOptimizer", "OptimizerMap"})
NUM_CLASSES = 10
#: Learning rate of the raw SGD baseline and of the ``fit`` comparison.
SGD_LR = 0.01


def _input_shape(name: str) -> tuple[int, ...]:
    if name == "cnn":
        return (28, 28, 1)
    if name in ("mlp64", "mlp128"):
        return (784,)
    raise ValueError(f"unknown model {name!r}; expected one of {MODEL_NAMES}")


def build_keras_model(name: str, seed: int = 0) -> Any:
    """The Keras model ``name`` (logits output), weights drawn with ``seed``."""
    keras = kc.keras()
    kc.set_global_seed(seed)
    inp = keras.Input(shape=_input_shape(name))
    if name == "cnn":
        h = keras.layers.Conv2D(32, (3, 3), activation="relu")(inp)
        h = keras.layers.MaxPooling2D((2, 2))(h)
        h = keras.layers.Flatten()(h)
    else:
        h = keras.layers.Dense(64 if name == "mlp64" else 128, activation="relu")(inp)
    out = keras.layers.Dense(NUM_CLASSES)(h)
    return keras.Model(inp, out, name=name)


@dataclass
class RawModel:
    """A model as a list of ``tf.Variable`` and a forward function of bare ops."""

    name: str
    variables: list
    forward: Callable[[Any], Any]


def build_raw_model(name: str, seed: int = 0) -> RawModel:
    """The raw twin of :func:`build_keras_model` with the *same* initial weights.

    The weights are copied from a freshly built Keras model so the two start
    from the same point; the computation after that uses no Keras.
    """
    tf = kc.tf()
    weights = [np.asarray(kc.to_numpy(v)) for v in build_keras_model(name, seed).trainable_variables]
    variables = [tf.Variable(w, name=f"{name}_w{i}") for i, w in enumerate(weights)]

    if name == "cnn":
        kernel, bias, w_out, b_out = variables

        def forward(x: Any) -> Any:
            h = tf.nn.relu(tf.nn.conv2d(x, kernel, strides=1, padding="VALID") + bias)
            h = tf.nn.max_pool2d(h, ksize=2, strides=2, padding="VALID")
            h = tf.reshape(h, (tf.shape(h)[0], -1))
            return tf.matmul(h, w_out) + b_out
    else:
        w1, b1, w2, b2 = variables

        def forward(x: Any) -> Any:
            return tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2

    return RawModel(name, variables, forward)


def synthetic_batch(name: str, batch: int, seed: int = 0) -> tuple[Any, Any]:
    """A float32 input batch and int32 labels shaped for model ``name``."""
    tf = kc.tf()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + _input_shape(name)).astype(np.float32)
    y = rng.integers(0, NUM_CLASSES, size=(batch,)).astype(np.int32)
    return tf.constant(x), tf.constant(y)


class StepCounter:
    """Counts Python executions of a step body.

    Under ``tf.function`` the Python body runs only while tracing, so after
    many timed calls ``count == 1`` proves the timed region held no retrace.
    """

    def __init__(self) -> None:
        self.count = 0

    def tick(self) -> None:
        self.count += 1


def _loss(logits: Any, y: Any) -> Any:
    tf = kc.tf()
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def keras_step(model: Any, optimizer: Any, counter: StepCounter) -> Callable[[Any, Any], Any]:
    """A custom training step: forward, loss, gradients, ``optimizer.apply_gradients``.

    The loss is the same bare-op cross-entropy as the raw step, so the ratio
    to :func:`raw_step` measures the model call and the optimizer only.
    """
    tf = kc.tf()
    variables = list(model.trainable_variables)

    def step(x: Any, y: Any) -> Any:
        counter.tick()
        with tf.GradientTape() as tape:
            loss = _loss(model(x, training=True), y)
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return step


def raw_step(raw: RawModel, counter: StepCounter, lr: float = SGD_LR) -> Callable[[Any, Any], Any]:
    """The same step with bare ops and plain SGD: ``w -= lr * g``."""
    tf = kc.tf()

    def step(x: Any, y: Any) -> Any:
        counter.tick()
        with tf.GradientTape() as tape:
            loss = _loss(raw.forward(x), y)
        grads = tape.gradient(loss, raw.variables)
        for v, g in zip(raw.variables, grads):
            v.assign_sub(lr * g)
        return loss

    return step


def wrap_mode(step: Callable[[Any, Any], Any], mode: str) -> Callable[[Any, Any], Any]:
    """``step`` as run in ``mode`` (``eager``, ``function`` or ``xla``)."""
    tf = kc.tf()
    if mode == "eager":
        return step
    if mode == "function":
        return tf.function(step, jit_compile=False)
    if mode == "xla":
        return tf.function(step, jit_compile=True)
    raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")


def benchmark_optimizer_names() -> list[str]:
    """Every optimizer class of the installed Keras that has an update rule of its own.

    Taken from the installed Keras (not from a fixed list) so a new release's
    optimizer is timed without an edit; wrappers and bases are left out
    (:data:`WRAPPERS`).
    """
    return [n for n in kc.public_optimizer_names() if n not in WRAPPERS]


def make_optimizer(name_or_optimizer: Any, variables: list) -> Any:
    """``keras.optimizers.<name>()`` with its defaults (or a given optimizer), built on ``variables``.

    Built eagerly so that slot variables are not created inside a trace.
    """
    opt = kc.optimizer_class(name_or_optimizer)() if isinstance(name_or_optimizer, str) else name_or_optimizer
    opt.build(list(variables))
    return opt


def full_matrix() -> bool:
    """``INITCHECK_BENCH_FULL=1``: time every case, not the default subset."""
    return os.environ.get("INITCHECK_BENCH_FULL", "") == "1"


def time_pedantic(benchmark: Any, call: Callable[[], Any], *, round_seconds: float = 0.05,
                  max_iterations: int = 20, warmup_rounds: int = 1) -> dict:
    """Time ``call`` with pytest-benchmark after it has already run once.

    The caller runs ``call`` once first (tracing, compilation, slot creation
    happen there, outside the timed region).  When ``max_iterations > 1`` one
    more untimed call measures its duration and sets ``iterations`` so a
    round lasts about ``round_seconds`` (short calls are timed in batches,
    which keeps timer resolution out of the result).  Slow calls get fewer
    rounds so the whole suite stays within minutes on a small machine.

    Returns:
        The rounds/iterations used (also stored in ``benchmark.extra_info``).
    """
    iterations, one = 1, None
    if max_iterations > 1:
        start = time.perf_counter()
        call()
        one = max(time.perf_counter() - start, 1e-6)
        iterations = int(min(max_iterations, max(1, round(round_seconds / one))))
    # More rounds for short calls: on a shared machine noise only adds time,
    # and the minimum over more rounds is less contaminated; it costs little.
    rounds = 3 if one is None or one >= 0.05 else (5 if one >= 0.01 else 10)
    benchmark.extra_info.update({"rounds": rounds, "iterations": iterations, "warmup_rounds": warmup_rounds})
    benchmark.pedantic(call, rounds=rounds, iterations=iterations, warmup_rounds=warmup_rounds)
    return {"rounds": rounds, "iterations": iterations}


def paired_ratio(call_a: Callable[[], Any], call_b: Callable[[], Any], *, rounds: int = 9,
                 round_seconds: float = 0.05, max_iterations: int = 20) -> dict:
    """Time ``a`` and ``b`` in alternating rounds; the ratio ``a / b`` robust to load drift.

    Why: two benchmarks timed minutes apart on a shared machine see
    different loads, so the ratio of their separate timings can be off by a
    factor of several.  Here each round times ``a`` then ``b`` (the order
    alternates from round to round) with the same iteration count, so both
    see the same load.  The estimate used in the tables is ``ratio_of_mins``
    (best round of ``a`` over best round of ``b``: noise only adds time, so
    each minimum is the least contaminated); the median and the range of the
    per-round ratios are recorded too and show how far to trust it.  Both
    calls must already be traced/compiled.
    """
    def clock(call: Callable[[], Any], n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            call()
        return (time.perf_counter() - start) / n

    one = max(min(clock(call_a, 1) for _ in range(3)), min(clock(call_b, 1) for _ in range(3)), 1e-6)
    n = int(min(max_iterations, max(1, round(round_seconds / one))))
    ta: list[float] = []
    tb: list[float] = []
    for r in range(rounds):
        if r % 2 == 0:
            ta.append(clock(call_a, n))
            tb.append(clock(call_b, n))
        else:
            tb.append(clock(call_b, n))
            ta.append(clock(call_a, n))
    ratios = sorted(a / b for a, b in zip(ta, tb))
    return {"rounds": rounds, "iterations": n, "median_ratio": ratios[len(ratios) // 2],
            "ratio_min": ratios[0], "ratio_max": ratios[-1], "ratio_of_mins": min(ta) / min(tb),
            "a_min_s": min(ta), "b_min_s": min(tb)}
