"""The simulator the propagation checks measure with (``keras.ops``, float64, any backend).

Stacks of weights drawn from an initializer (:func:`draw_stack`), pushed
forward and backward in one pass over all seeds (:func:`simulate`): dense
layers or a circular 1-D convolution.  It measures the per-layer mean
squared pre-activations and gradients that
:mod:`initcheck.references.propagation` predicts.  Written in backend-neutral
``keras.ops``, run eagerly; the backend-specific pieces (the vector-Jacobian
product: ``GradientTape`` or ``jax.vjp``; float64 on JAX: ``float64_scope``
and ``float64_ops``) come from :mod:`initcheck.keras_compat`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..strategies import derive_seed

__all__ = ["Simulation", "simulate", "draw_stack", "end_to_end_singular_values"]


def draw_stack(factory: Callable[[Optional[int]], Any], shape: Sequence[int], depth: int, seeds: int,
               base_seed: int, dtype: str = "float64") -> np.ndarray:
    """Weights ``factory(seed)(shape, dtype)`` for ``seeds x depth`` layers, as float64.

    Layer ``l`` of replica ``r`` gets its own seed ``derive_seed(base_seed, r, l)``,
    as a model gives each layer its own initializer instance.
    """
    from .. import keras_compat as kc

    out = np.empty((seeds, depth) + tuple(shape), dtype=np.float64)
    for s in range(seeds):
        for l in range(depth):
            out[s, l] = np.asarray(kc.to_numpy(factory(derive_seed(base_seed, s, l))(tuple(shape), dtype=dtype)),
                                   dtype=np.float64)
    return out


@dataclass
class Simulation:
    """Measured curves, per seed, averaged over the batch in log space.

    Attributes:
        log_q: ``(S, L)`` mean over inputs of ``ln q_l(input)``.
        log_g: ``(S, L)`` mean over inputs of ``ln(G_l / G_L)(input)``.
        forward: ``(S,)`` per-seed statistic ``mean_inputs ln(q_L / q_1)``.
        backward: ``(S,)`` per-seed ``mean_inputs ln(G_1 / G_L)``.
        seconds: Wall time of the pass (weights drawn already).
    """

    log_q: np.ndarray
    log_g: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def ratios(self) -> dict[str, Any]:
        """Per-layer geometric ratios: seed-averaged (log space), median and spread."""
        k = max(self.log_q.shape[1] - 1, 1)
        out = {}
        for name, stat in (("forward", self.forward), ("backward", self.backward)):
            r = np.exp(stat / k)
            out[name] = {"r": float(math.exp(float(np.mean(stat)) / k)), "median": float(np.median(r)),
                         "min": float(np.min(r)), "max": float(np.max(r))}
        return out


@functools.lru_cache(maxsize=None)
def _tf_graph_pass(activation: str, conv: bool, kernel: int) -> Any:
    """The same pass as a TensorFlow graph (``tf.function`` with while-loops), used on the TensorFlow backend.

    Keras 2 (tf.keras) has no ``keras.ops``, and on TensorFlow the graph loop is faster than the eager pass
    (propagation checks of HeNormal, GlorotUniform and Orthogonal: 15.1 s against 23.9 s); the two passes agree
    (tests/fast/test_propagation.py runs the backend-neutral one on JAX in CI).
    """
    from .. import keras_compat as kc

    tf = kc.tf()
    acts = {"linear": lambda x: x, "relu": tf.nn.relu, "tanh": tf.math.tanh, "selu": tf.nn.selu}
    phi = acts[activation]

    def log_mean_square(h: Any) -> Any:
        # ln mean(h^2) over units (and positions), per input, safe from overflow.
        axes = list(range(2, len(h.shape)))
        m = tf.reduce_max(tf.abs(h), axis=axes, keepdims=True)
        m = tf.where(m > 0, m, tf.ones_like(m))
        return 2.0 * tf.math.log(tf.reshape(m, tf.shape(h)[:2])) + tf.math.log(
            tf.reduce_mean(tf.square(h / m), axis=axes))

    def layer(a: Any, w: Any) -> Any:
        if not conv:
            return tf.matmul(a, w)  # (S, B, n) @ (S, n, n)
        # Circular 1-D cross-correlation as tf.nn.conv1d computes it, done as a
        # batched matmul over seeds: patch element t*c_in + i is a[p + t - k//2, i].
        half = kernel // 2
        patches = tf.concat([tf.roll(a, shift=half - t, axis=2) for t in range(kernel)], axis=-1)
        wk = tf.reshape(w, (tf.shape(w)[0], -1, tf.shape(w)[-1]))  # dynamic: shapes relax on retrace
        s, b, p = tf.shape(patches)[0], tf.shape(patches)[1], tf.shape(patches)[2]
        out = tf.matmul(tf.reshape(patches, (s, b * p, -1)), wk)
        return tf.reshape(out, (s, b, p, -1))

    # One trace per (activation, conv, kernel): every dimension is left free, so widths, depths, batches and
    # seed counts never retrace (TensorFlow warned about retracing on every `initcheck check` before).
    rank = 4 if conv else 3
    spec = [tf.TensorSpec([None] * rank, tf.float64), tf.TensorSpec([None] * (rank + 1), tf.float64),
            tf.TensorSpec([None] * rank, tf.float64)]

    @tf.function(input_signature=spec)
    def run(x: Any, weights: Any, cot: Any) -> Any:
        # Loops are tf.range loops (graph while-loops), so tracing cost does
        # not grow with depth.  The backward pass re-applies one layer under a
        # GradientTape and asks TensorFlow for the vector-Jacobian product:
        # TensorFlow's own derivatives of phi and of the layer, no hand-written
        # phi'.
        depth = tf.shape(weights)[1]
        hs = tf.TensorArray(x.dtype, size=depth)
        log_q = tf.TensorArray(x.dtype, size=depth)
        a = x
        for l in tf.range(depth):
            h = layer(a, weights[:, l])
            hs = hs.write(l, h)
            log_q = log_q.write(l, log_mean_square(h))
            a = phi(h)
        log_g = tf.TensorArray(x.dtype, size=depth)
        log_g = log_g.write(depth - 1, log_mean_square(cot))
        d = cot
        for l in tf.range(depth - 2, -1, -1):
            h = hs.read(l)
            with tf.GradientTape() as tape:
                tape.watch(h)
                out = layer(phi(h), weights[:, l + 1])
            d = tape.gradient(out, h, output_gradients=d)
            log_g = log_g.write(l, log_mean_square(d))
        # (L, S, B) -> (S, B, L)
        return tf.transpose(log_q.stack(), (1, 2, 0)), tf.transpose(log_g.stack(), (1, 2, 0))

    # Trace now, once: each (activation, conv, kernel) is its own graph (TensorFlow's frequent-tracing detector
    # counts their first traces as "retracing"; keras_compat.tf() filters that one warning).
    run.get_concrete_function()
    return run


@functools.lru_cache(maxsize=None)
def _pass_for(activation: str, conv: bool, kernel: int, backend: str) -> Any:
    """The forward and backward pass for all seeds at once, in ``keras.ops``, run eagerly.

    Eager on every backend: the pass is 50 large batched matmuls forward and
    49 vector-Jacobian products back, so op dispatch is small beside the
    arithmetic; a ``tf.function`` of this unrolled Python loop took 7-15 s to
    trace against 3-5 s for an eager pass (TensorFlow 2.21, 2 loaded cores).
    ``backend`` keys the cache only.
    """
    from .. import keras_compat as kc

    ops = kc.float64_ops()
    acts = {"linear": lambda x: x, "relu": ops.relu, "tanh": ops.tanh, "selu": ops.selu}
    phi = acts[activation]

    def log_mean_square(h: Any) -> Any:
        # ln mean(h^2) over units (and positions), per input, safe from overflow.
        axes = tuple(range(2, len(h.shape)))
        m = ops.max(ops.abs(h), axis=axes, keepdims=True)
        m = ops.where(m > 0, m, ops.ones_like(m))
        return 2.0 * ops.log(ops.reshape(m, ops.shape(h)[:2])) + ops.log(ops.mean(ops.square(h / m), axis=axes))

    def layer(a: Any, w: Any) -> Any:
        if not conv:
            return ops.matmul(a, w)  # (S, B, n) @ (S, n, n)
        # Circular 1-D cross-correlation as conv1d computes it, done as a batched
        # matmul over seeds: patch element t*c_in + i is a[p + t - k//2, i].
        half = kernel // 2
        patches = ops.concatenate([ops.roll(a, shift=half - t, axis=2) for t in range(kernel)], axis=-1)
        s, b, p = ops.shape(patches)[0], ops.shape(patches)[1], ops.shape(patches)[2]
        wk = ops.reshape(w, (s, -1, ops.shape(w)[-1]))
        out = ops.matmul(ops.reshape(patches, (s, b * p, -1)), wk)
        return ops.reshape(out, (s, b, p, -1))

    def run(x: Any, weights: Any, cot: Any) -> Any:
        # A Python loop over the layers (the depth is a static shape).  The
        # backward pass re-applies one layer and asks the backend's autodiff
        # for the vector-Jacobian product (keras_compat.vjp): the backend's own
        # derivatives of phi and of the layer, no hand-written phi'.
        depth = int(weights.shape[1])
        hs, log_q = [], []
        a = x
        for l in range(depth):
            h = layer(a, weights[:, l])
            hs.append(h)
            log_q.append(log_mean_square(h))
            a = phi(h)
        log_g = [None] * depth
        log_g[depth - 1] = log_mean_square(cot)
        d = cot
        for l in range(depth - 2, -1, -1):
            w_next = weights[:, l + 1]
            d = kc.vjp(lambda h, w_next=w_next: layer(phi(h), w_next), hs[l], d)
            log_g[l] = log_mean_square(d)
        # (L, S, B) -> (S, B, L)
        return ops.transpose(ops.stack(log_q), (1, 2, 0)), ops.transpose(ops.stack(log_g), (1, 2, 0))

    return run


def simulate(weights: np.ndarray, activation: str, batch: int, data_seed: int, positions: int = 0) -> Simulation:
    """Push ``N(0, 1)`` inputs through stacks of ``weights`` and back.

    Args:
        weights: ``(S, L, n, n)`` dense kernels (Keras layout ``(in, out)``) or
            ``(S, L, k, c, c)`` conv kernels (Keras layout ``(k, in, out)``).
        activation: One of :data:`THEORY_ACTIVATIONS`.
        batch: Inputs per seed.
        data_seed: Seed of the inputs and the backward cotangents.
        positions: Sequence length for conv kernels (circular padding).

    The backward pass backpropagates a ``N(0, I)`` cotangent from the last
    pre-activation with the backend's autodiff.  The pass computes in float64
    on every backend (on JAX inside ``jax.enable_x64``: the simulator is the
    instrument, the same everywhere; the weights were drawn before, outside it).
    """
    import time

    from .. import keras_compat as kc

    rng = np.random.default_rng(int(data_seed))
    s, depth = weights.shape[:2]
    conv = weights.ndim == 5
    if conv:
        k, c = weights.shape[2], weights.shape[3]
        x = rng.standard_normal((s, batch, positions, c))
        cot = rng.standard_normal((s, batch, positions, weights.shape[4]))
    else:
        k = 1
        x = rng.standard_normal((s, batch, weights.shape[2]))
        cot = rng.standard_normal((s, batch, weights.shape[3]))
    if kc.backend() == "tensorflow":
        tf = kc.tf()
        run = _tf_graph_pass(activation, conv, int(k))
        start = time.perf_counter()
        log_q, log_g = run(*(tf.constant(np.asarray(v, dtype=np.float64)) for v in (x, weights, cot)))
        log_q, log_g = log_q.numpy(), log_g.numpy()
    else:
        ops = kc.keras().ops
        run = _pass_for(activation, conv, int(k), kc.backend())
        start = time.perf_counter()
        with kc.float64_scope():
            tensors = [ops.convert_to_tensor(np.asarray(v, dtype=np.float64), dtype="float64")
                       for v in (x, weights, cot)]
            log_q, log_g = run(*tensors)
            log_q, log_g = kc.to_numpy(log_q), kc.to_numpy(log_g)
    seconds = time.perf_counter() - start
    if log_q.dtype != np.float64:
        raise RuntimeError(f"the propagation simulator computed in {log_q.dtype}, not float64")
    log_g = log_g - log_g[..., -1:]
    fwd = np.mean(log_q[..., -1] - log_q[..., 0], axis=1)
    bwd = np.mean(log_g[..., 0], axis=1)
    return Simulation(log_q=log_q.mean(axis=1), log_g=log_g.mean(axis=1), forward=fwd, backward=bwd,
                      seconds=seconds)


def end_to_end_singular_values(weights: np.ndarray) -> np.ndarray:
    """Singular values of ``W_1 W_2 ... W_L`` (one stack ``(L, n, n)``): the Jacobian of a linear net."""
    j = np.eye(weights.shape[1])
    for w in weights:
        j = j @ w
    return np.linalg.svd(j, compute_uv=False)
