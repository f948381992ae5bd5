"""Batched ensembles: S seeds of one cell trained together in one compiled graph.

Why: a success *rate* needs tens of seeds per (initializer, optimizer,
task) cell, and S separate ``model.fit`` calls pay S times the Python,
tracing and dispatch overhead of a tiny network.  Here every weight is one
variable with a leading seed axis -- a kernel is ``(S, fan_in, fan_out)``,
a bias ``(S, 1, fan_out)`` -- the forward pass is a batched matmul, and the
loss handed to the optimizer is the *sum* of the S per-seed losses.  Since
seed ``s``'s loss depends only on slice ``s``, the gradient of the sum
restricted to slice ``s`` is exactly seed ``s``'s own gradient, and an
*element-wise* optimizer (SGD, momentum, Adam, RMSprop, Adagrad, ...)
updates every slice as S separate optimizers would.  The whole training
loop (all steps) runs inside one ``tf.function`` (XLA-compiled by default)
on TensorFlow; on JAX it is one ``jax.lax.scan`` of ``jax.value_and_grad``
and the optimizer's ``stateless_apply`` under ``jax.jit``; on PyTorch an
eager loop of ``torch.autograd.grad`` and ``apply_gradients``.  The seed
axis is batched in the tensors themselves (batched matmuls), so no
``vmap`` is needed on any backend; the per-seed losses are written in
``keras.ops`` off TensorFlow (:func:`_mlp_loss_and_metric_ops`).

What breaks the equivalence is any optimizer whose update of one entry
reads other entries of the same variable: a per-variable or global gradient
norm (``clipnorm``, ``global_clipnorm``), a trust ratio (LAMB), factored
second moments (Adafactor), orthogonalised updates (Muon), a shared dynamic
loss scale.  :func:`elementwise_capability` refuses those with an error that
says what to do; :func:`run_cell` can fall back to a per-seed loop instead.

Seeds.  Kernel ``l`` of ensemble member ``s`` is drawn by the initializer
built for seed ``derive_seed(seed_s, l)`` (:func:`initcheck.strategies.derive_seed`,
initcheck's one seed scheme), so layers of the same shape
get different values (a seeded Keras initializer returns the *same* values
on every call).  Data are identical across seeds (full-batch training), so
the seed only chooses the initial weights -- and, for landscapes, the start.

Element-wise capability is read from the optimizer's spec: pass it, or build
the optimizer with :func:`build_optimizer` (from a spec, or a built-in spec's
name), which remembers the spec it built from.

This module imports TensorFlow (or JAX, or PyTorch) lazily through :mod:`initcheck.keras_compat`.
"""

from __future__ import annotations

import functools
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import keras_compat as kc
from ..strategies import derive_seed

__all__ = [
    "Trajectories",
    "NonElementwiseOptimizer",
    "elementwise_capability",
    "build_optimizer",
    "initial_kernels",
    "CompiledEnsemble",
    "train_params",
    "learning_params",
    "learning_trainer",
    "landscape_trainer",
    "landscape_namespace",
    "train_learning_task",
    "train_landscape",
    "train_per_seed_keras",
    "keras_reference_model",
]

#: Spec tags meaning "one entry's update reads other entries" (refused).
NON_ELEMENTWISE_TAGS: frozenset = frozenset({"non_elementwise", "layerwise", "factored", "orthogonalized"})

#: Instance options that couple the entries of a variable (or all variables).
COUPLING_OPTIONS: tuple[str, ...] = ("clipnorm", "global_clipnorm")


class NonElementwiseOptimizer(ValueError):
    """The optimizer's update couples entries, so a batched ensemble is not S separate runs."""


def elementwise_capability(optimizer: Any, spec: Any = None) -> tuple[bool, str]:
    """Can ``optimizer`` train a batched ensemble exactly like S separate models?

    Decided by capability, in this order: the spec's tags (``elementwise``
    accepts, :data:`NON_ELEMENTWISE_TAGS` refuse); coupling options set on
    the instance (``clipnorm``, ``global_clipnorm``: a norm over the whole
    variable mixes the seeds); a loss-scale wrapper (one shared scale).  The
    spec is ``spec``, else the one :func:`build_optimizer` built the optimizer
    from; the ``elementwise`` tag is verified by ``check_elementwise``.

    Returns:
        ``(ok, reason)``.
    """
    cls = type(optimizer).__name__
    if spec is None:
        spec = _spec_of(optimizer)
    tags = set(getattr(spec, "tags", ()) or ())
    bad = tags & NON_ELEMENTWISE_TAGS
    if bad:
        return False, f"its spec declares {sorted(bad)}"
    for opt in COUPLING_OPTIONS:
        if getattr(optimizer, opt, None) not in (None, 0, 0.0):
            return False, f"{opt}={getattr(optimizer, opt)} clips by a norm over whole variables, mixing the seeds"
    if hasattr(optimizer, "inner_optimizer") or hasattr(optimizer, "dynamic_scale") or hasattr(optimizer, "loss_scale"):
        return False, "a loss-scale optimizer shares one dynamic scale across all seeds"
    if "elementwise" in tags:
        return True, f"its spec ({getattr(spec, 'name', '?')}) declares 'elementwise'"
    return False, (f"{type(optimizer).__module__}.{cls} is not known to be element-wise: pass its spec, or build it "
                   "with build_optimizer from one; tag the spec 'elementwise' if each entry's update reads only "
                   "that entry's gradient and state")


#: The spec each optimizer made by :func:`build_optimizer` came from.
_BUILT_FROM: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _spec_of(optimizer: Any) -> Any:
    try:
        return _BUILT_FROM.get(optimizer)
    except TypeError:  # not weak-referenceable or not hashable: nothing recorded
        return None


@functools.lru_cache(maxsize=1)
def _builtin_specs_by_name() -> dict:
    """The built-in optimizer specs of the installed Keras, by spec name (``"Adam"`` -> ``keras>Adam``)."""
    from ..builtin.optimizers import builtin_specs

    return {spec.name: spec for spec in builtin_specs()}


def build_optimizer(optimizer: Any, learning_rate: Optional[float] = None, **hparams: Any) -> Any:
    """A fresh optimizer from a spec (``factory(**hp)``), a built-in spec's name (``"Adam"``) or an instance.

    A fresh object per cell matters: Keras optimizers keep per-variable state.
    An optimizer built from a spec remembers it, so :func:`elementwise_capability`
    reads that spec's tags.
    """
    kwargs = dict(hparams)
    if learning_rate is not None:
        kwargs["learning_rate"] = learning_rate
    if isinstance(optimizer, str):
        spec = _builtin_specs_by_name().get(optimizer)
        if spec is None:
            raise LookupError(f"no built-in optimizer spec named {optimizer!r}; known: "
                              f"{sorted(_builtin_specs_by_name())} (or pass a spec)")
        optimizer = spec
    if hasattr(optimizer, "apply_gradients"):
        if kwargs:
            raise ValueError("pass hyperparameters with a spec or its name, not with a built optimizer")
        return optimizer
    factory = getattr(optimizer, "factory", None)
    if callable(factory):
        built = factory(**kwargs)
        try:
            _BUILT_FROM[built] = optimizer
        except TypeError:  # an optimizer that cannot be weakly referenced: capability must be passed
            pass
        return built
    raise TypeError(f"expected an optimizer spec (factory(**hparams)), a built-in spec's name or an optimizer, "
                    f"got {optimizer!r}")


def _make_initializer(init: Any, seed: int) -> Any:
    factory = getattr(init, "factory", None)
    if callable(factory):  # an InitializerSpec
        return factory(seed)
    return init(seed)  # a bare factory(seed) -> initializer


def initial_kernels(init: Any, shapes: Sequence[tuple[int, int]], seeds: Sequence[int]) -> list[np.ndarray]:
    """``[(S, fan_in, fan_out)]``: kernel ``l`` of member ``s`` from ``init`` at ``derive_seed(seed, layer)``.

    Args:
        init: An initializer spec (``factory(seed)``) or a ``factory(seed)``.
        shapes: Kernel shapes, input to output.
        seeds: Ensemble seeds.
    """
    out = []
    for layer, shape in enumerate(shapes):
        slices = []
        for s in seeds:
            value = kc.to_numpy(_make_initializer(init, derive_seed(s, layer))(tuple(shape), dtype="float32"))
            if value.shape != tuple(shape):
                raise ValueError(f"initializer returned shape {value.shape} for kernel shape {tuple(shape)}")
            slices.append(value.astype(np.float32))
        out.append(np.stack(slices))
    return out


@dataclass
class Trajectories:
    """Per-step records of an ensemble run.

    Attributes:
        losses: ``(steps + 1, S)``: row ``t`` is the training loss after ``t``
            updates (row 0 at the initial weights).
        metrics: ``(steps + 1, S)``: the task's success metric, same rows.
        params: Final values, seed axis first.
        seeds: The ensemble's seeds.
        seconds: Wall time of the training call (tracing included).
    """

    losses: np.ndarray
    metrics: np.ndarray
    params: list[np.ndarray]
    seeds: list[int]
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


class CompiledEnsemble:
    """A compiled training loop for seed-batched parameters of fixed shapes.

    Compiling (tracing + XLA) costs seconds; the loop itself is often
    cheaper.  One object is therefore reused for every cell that shares
    the task, the optimizer setting, the number of seeds and the budget: a
    :meth:`run` assigns the new initial values to the same variables and
    restores the optimizer's freshly built state (slots, iteration count)
    from a snapshot, so each run is exactly a fresh training.

    Args:
        shapes: Shapes of the parameters, seed axis first.
        per_seed_loss: ``f(params) -> (S,)`` tensor, seed ``s``'s loss
            reading only slice ``s`` of every parameter; or a pair
            ``(loss, metric)`` of such tensors computed from one forward
            pass (then ``per_seed_metric`` must be left out).
        optimizer: A fresh Keras optimizer instance (built here).
        steps: Number of updates per run.
        per_seed_metric: ``f(params) -> (S,)`` success metric (default: the loss).
        spec: The optimizer's spec, if any (for :func:`elementwise_capability`).
        jit: XLA-compile the loop (TensorFlow: `jit_compile`; JAX: `jax.jit`; ignored on PyTorch).
        check_elementwise: Refuse optimizers that couple entries.

    Raises:
        NonElementwiseOptimizer: When the optimizer couples entries.
    """

    def __init__(self, shapes: Sequence[tuple[int, ...]], per_seed_loss: Callable[[list[Any]], Any],
                 optimizer: Any, steps: int, *, per_seed_metric: Optional[Callable[[list[Any]], Any]] = None,
                 spec: Any = None, jit: bool = True, check_elementwise: bool = True) -> None:
        if check_elementwise:
            ok, reason = elementwise_capability(optimizer, spec)
            if not ok:
                raise NonElementwiseOptimizer(
                    f"cannot train a batched ensemble with {type(optimizer).__name__}: {reason}. "
                    "Use the per-seed loop (run_cell(..., fallback='loop')) or an element-wise optimizer.")
        self.shapes = [tuple(int(d) for d in s) for s in shapes]
        self.steps = int(steps)
        self.n_seeds = self.shapes[0][0]
        self.backend = kc.backend()
        self.optimizer = optimizer
        both = _loss_and_metric(per_seed_loss, per_seed_metric)
        if self.backend == "tensorflow":
            self._fn = self._tf_loop(both, jit)
        else:
            keras = kc.keras()
            self.variables = [keras.Variable(np.zeros(s, np.float32), dtype="float32") for s in self.shapes]
            optimizer.build(self.variables)
            self._fresh = [kc.to_numpy(v) for v in optimizer.variables]
            make = _jax_loop if self.backend == "jax" else _torch_loop
            self._fn = make(self.variables, optimizer, both, self.steps, jit)

    def _tf_loop(self, both: Callable[[list[Any]], Any], jit: bool) -> Callable[[], Any]:
        """The whole loop in one ``tf.function`` (XLA when ``jit``): ``GradientTape`` and ``apply_gradients``."""
        tf = kc.tf()
        optimizer = self.optimizer
        self.variables = [tf.Variable(tf.zeros(s, tf.float32)) for s in self.shapes]
        optimizer.build(self.variables)
        self._fresh = [kc.to_numpy(v) for v in optimizer.variables]
        variables = self.variables
        n = self.steps

        def body() -> Any:
            losses = tf.TensorArray(tf.float32, size=n + 1)
            metrics = tf.TensorArray(tf.float32, size=n + 1)
            for i in tf.range(n):
                with tf.GradientTape() as tape:
                    per, metric = both(variables)
                    total = tf.reduce_sum(per)
                grads = tape.gradient(total, variables)
                losses = losses.write(i, per)
                metrics = metrics.write(i, tf.cast(metric, tf.float32))
                optimizer.apply_gradients(zip(grads, variables))
            per, metric = both(variables)
            losses = losses.write(n, per)
            metrics = metrics.write(n, tf.cast(metric, tf.float32))
            return losses.stack(), metrics.stack()

        return tf.function(body, jit_compile=jit, autograph=True)

    def run(self, params0: Sequence[np.ndarray]) -> Trajectories:
        """Train from ``params0`` (seed axis first) with a fresh optimizer state."""
        if [tuple(np.shape(p)) for p in params0] != self.shapes:
            raise ValueError(f"parameter shapes {[np.shape(p) for p in params0]} != compiled {self.shapes}")
        for var, value in zip(self.variables, params0):
            var.assign(np.asarray(value, dtype=np.float32))
        for var, value in zip(self.optimizer.variables, self._fresh):
            var.assign(value)
        start = time.perf_counter()
        losses, metrics = self._fn()
        losses, metrics = kc.to_numpy(losses), kc.to_numpy(metrics)
        seconds = time.perf_counter() - start
        shape = (self.steps + 1, self.n_seeds)
        return Trajectories(losses=losses.reshape(shape), metrics=metrics.reshape(shape),
                            params=[kc.to_numpy(v) for v in self.variables], seeds=[], seconds=seconds)


def _loss_and_metric(per_seed_loss: Callable[[list[Any]], Any],
                     per_seed_metric: Optional[Callable[[list[Any]], Any]]) -> Callable[[list[Any]], Any]:
    """``params -> (loss, metric)``: one call of ``per_seed_loss`` when it returns both (one forward pass),
    else the loss and ``per_seed_metric`` (or the loss again, as the metric, without a second evaluation)."""

    def both(params: list[Any]) -> tuple[Any, Any]:
        out = per_seed_loss(params)
        if isinstance(out, tuple):
            if per_seed_metric is not None:
                raise ValueError("per_seed_loss returned (loss, metric) and per_seed_metric was given too; "
                                 "give the metric one way")
            return out
        return out, (out if per_seed_metric is None else per_seed_metric(params))

    return both


def _jax_loop(variables: list[Any], optimizer: Any, both: Callable[[list[Any]], Any], steps: int,
              jit: bool) -> Callable[[], Any]:
    """The whole loop as one ``jax.lax.scan`` (``jax.jit``-compiled when ``jit``).

    Each step: ``jax.value_and_grad`` of the summed per-seed losses (the
    metric rides along as auxiliary output of the same forward pass), then
    the optimizer's own ``stateless_apply`` (Keras 3's documented JAX
    training path), its state carried by the scan.  The final weights are
    written back to ``variables``.
    """
    import jax

    def total(params: list[Any]) -> Any:
        per, metric = both(params)
        return jax.numpy.sum(per), (per, jax.numpy.asarray(metric, dtype="float32"))

    def step(carry: Any, _: Any) -> Any:
        params, state = carry
        (_, record), grads = jax.value_and_grad(total, has_aux=True)(params)
        params, state = optimizer.stateless_apply(state, grads, params)
        return (params, state), record

    def loop(params: list[Any], state: list[Any]) -> Any:
        (params, state), (losses, metrics) = jax.lax.scan(step, (params, state), None, length=steps)
        _, (per, metric) = total(params)
        losses = jax.numpy.concatenate([losses, per[None]], axis=0)
        metrics = jax.numpy.concatenate([metrics, metric[None]], axis=0)
        return params, losses, metrics

    compiled = jax.jit(loop) if jit else loop

    def run() -> Any:
        params, losses, metrics = compiled([v.value for v in variables], [v.value for v in optimizer.variables])
        for var, value in zip(variables, params):
            var.assign(value)
        return losses, metrics

    return run


def _torch_loop(variables: list[Any], optimizer: Any, both: Callable[[list[Any]], Any], steps: int,
                jit: bool) -> Callable[[], Any]:
    """The loop run eagerly on PyTorch: ``torch.autograd.grad`` of the summed per-seed losses, then
    ``optimizer.apply_gradients`` (``jit`` is ignored: Keras's eager torch path is what users run).  The metric
    comes from the same forward pass as the loss.

    One intra-op thread while it runs: the ensemble's ops are tiny batched matmuls (16 x 16 kernels), where
    torch's thread pool costs more than it gains -- 50 steps of the 30-layer ReLU ensemble took 2.4 s with one
    thread and 12-17 s with two on this 2-core machine under load.  The thread count is not part of what is
    checked (it can change the summation order of a float32 reduction, nothing more).
    """
    import torch

    def record(per: Any, metric: Any, losses: list[Any], metrics: list[Any]) -> None:
        losses.append(per.detach().clone())
        metrics.append(torch.as_tensor(metric, dtype=torch.float32).detach().clone())

    def run() -> Any:
        losses: list[Any] = []
        metrics: list[Any] = []
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for _ in range(steps):
                params = [v.value for v in variables]
                with torch.enable_grad():
                    per, metric = both(params)
                    grads = torch.autograd.grad(torch.sum(per), params)
                record(per, metric, losses, metrics)
                optimizer.apply_gradients(zip(grads, variables))
            with torch.no_grad():
                record(*both([v.value for v in variables]), losses, metrics)
        finally:
            torch.set_num_threads(threads)
        return torch.stack(losses), torch.stack(metrics)

    return run


def train_params(params0: Sequence[np.ndarray], per_seed_loss: Callable[[list[Any]], Any],
                 optimizer: Any, steps: int, *, per_seed_metric: Optional[Callable[[list[Any]], Any]] = None,
                 spec: Any = None, jit: bool = True, check_elementwise: bool = True) -> Trajectories:
    """Train seed-batched parameters with one optimizer in one compiled loop (see :class:`CompiledEnsemble`)."""
    trainer = CompiledEnsemble([np.shape(p) for p in params0], per_seed_loss, optimizer, steps,
                               per_seed_metric=per_seed_metric, spec=spec, jit=jit,
                               check_elementwise=check_elementwise)
    return trainer.run(params0)


# ------------------------------------------------------------------ learning tasks

def _activation(name: str, relu: Callable[[Any], Any], tanh: Callable[[Any], Any],
                sigmoid: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A task's hidden activation by name, from the backend's own ``relu``/``tanh``/``sigmoid``."""
    table = {"relu": relu, "tanh": tanh, "linear": lambda h: h, "sigmoid": sigmoid}
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; known: {sorted(table)}")
    return table[name]


def _mlp_logits(x: Any, act: Callable[[Any], Any], n_layers: int,
                matmul: Callable[[Any, Any], Any]) -> Callable[[list[Any]], Any]:
    """``params -> (S, N, out)`` logits of the seed-batched MLP ``[kernel_0, bias_0, kernel_1, ...]`` on ``x``."""

    def logits(params: list[Any]) -> Any:
        h = x[None]
        for layer in range(n_layers):
            h = matmul(h, params[2 * layer]) + params[2 * layer + 1]
            if layer < n_layers - 1:
                h = act(h)
        return h

    return logits


def _mlp_loss_and_metric(task: Any) -> Callable[[list[Any]], tuple[Any, Any]]:
    """``params -> (per-seed loss, per-seed metric)`` of a learning task for seed-batched weights, both from one
    forward pass."""
    if kc.backend() != "tensorflow":
        return _mlp_loss_and_metric_ops(task)
    tf = kc.tf()
    x = tf.constant(task.x, dtype=tf.float32)
    y = tf.constant(task.y)
    act = _activation(task.activation, relu=tf.nn.relu, tanh=tf.tanh, sigmoid=tf.sigmoid)
    logits = _mlp_logits(x, act, len(task.widths), tf.matmul)

    def loss_and_acc(params: list[Any]) -> tuple[Any, Any]:
        z = logits(params)
        if task.loss == "mse":
            loss = tf.reduce_mean(tf.square(z - tf.cast(y, tf.float32)[None]), axis=[1, 2])
            return loss, loss
        if task.loss == "bce":
            yy = tf.broadcast_to(tf.cast(y, tf.float32)[None], tf.shape(z))
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=yy, logits=z), axis=[1, 2])
            acc = tf.reduce_mean(tf.cast(tf.equal(tf.cast(z > 0, tf.float32), yy), tf.float32), axis=[1, 2])
            return loss, acc
        if task.loss == "ce":
            yy = tf.broadcast_to(tf.cast(y, tf.int32)[None], tf.shape(z)[:2])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yy, logits=z), axis=1)
            acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(z, axis=-1, output_type=tf.int32), yy), tf.float32),
                                 axis=1)
            return loss, acc
        raise ValueError(f"unknown loss {task.loss!r}")

    return loss_and_acc


def _mlp_loss_and_metric_ops(task: Any) -> Callable[[list[Any]], tuple[Any, Any]]:
    """:func:`_mlp_loss_and_metric` in ``keras.ops`` (JAX, PyTorch): the same network, the same losses, written
    from their formulas -- sigmoid cross-entropy ``max(z, 0) - z y + log(1 + exp(-|z|))``, softmax
    cross-entropy ``logsumexp(z) - z_y`` -- as TensorFlow's fused ops compute them."""
    ops = kc.keras().ops
    x = ops.convert_to_tensor(np.asarray(task.x, dtype=np.float32))
    y_np = np.asarray(task.y)
    act = _activation(task.activation, relu=ops.relu, tanh=ops.tanh, sigmoid=ops.sigmoid)
    logits = _mlp_logits(x, act, len(task.widths), ops.matmul)

    def loss_and_acc(params: list[Any]) -> tuple[Any, Any]:
        z = logits(params)
        if task.loss == "mse":
            loss = ops.mean(ops.square(z - ops.convert_to_tensor(y_np.astype(np.float32))[None]), axis=(1, 2))
            return loss, loss
        if task.loss == "bce":
            yy = ops.convert_to_tensor(y_np.astype(np.float32))[None]
            per = ops.relu(z) - z * yy + ops.log1p(ops.exp(-ops.abs(z)))
            loss = ops.mean(per, axis=(1, 2))
            acc = ops.mean(ops.cast(ops.equal(ops.cast(z > 0, "float32"), yy), "float32"), axis=(1, 2))
            return loss, acc
        if task.loss == "ce":
            yy = ops.convert_to_tensor(y_np.astype(np.int32))
            picked = ops.take_along_axis(z, ops.broadcast_to(yy[None, :, None], (z.shape[0], z.shape[1], 1)), axis=-1)
            loss = ops.mean(ops.logsumexp(z, axis=-1) - picked[..., 0], axis=1)
            acc = ops.mean(ops.cast(ops.equal(ops.cast(ops.argmax(z, axis=-1), "int32"), yy[None]), "float32"),
                           axis=1)
            return loss, acc
        raise ValueError(f"unknown loss {task.loss!r}")

    return loss_and_acc


class _OpsAsTF:
    """The three TensorFlow names a landscape's ``loss(x, tf)`` uses, from ``keras.ops`` (JAX, PyTorch)."""

    def __init__(self) -> None:
        self._ops = kc.keras().ops

    def reduce_sum(self, x: Any, axis: Any = None) -> Any:
        return self._ops.sum(x, axis=axis)

    def matmul(self, a: Any, b: Any) -> Any:
        return self._ops.matmul(a, b)

    def constant(self, value: Any, dtype: Any = None) -> Any:
        return self._ops.convert_to_tensor(np.asarray(value), dtype=dtype)


def landscape_namespace() -> Any:
    """What a landscape's ``loss(x, tf)`` gets as ``tf``: TensorFlow itself on the TensorFlow backend, elsewhere
    ``keras.ops`` behind the few TensorFlow names the landscapes use (:class:`_OpsAsTF`)."""
    return kc.tf() if kc.backend() == "tensorflow" else _OpsAsTF()


def learning_params(task: Any, init: Any, seeds: Sequence[int]) -> list[np.ndarray]:
    """Initial ``[kernel_0, bias_0, kernel_1, ...]`` for every seed (biases zero)."""
    kernels = initial_kernels(init, task.kernel_shapes(), seeds)
    out: list[np.ndarray] = []
    for k in kernels:
        out += [k, np.zeros((k.shape[0], 1, k.shape[2]), dtype=np.float32)]
    return out


def learning_trainer(task: Any, optimizer: Any, n_seeds: int, *, steps: Optional[int] = None, spec: Any = None,
                     jit: bool = True, check_elementwise: bool = True) -> CompiledEnsemble:
    """A compiled loop for ``task``'s network with ``n_seeds`` members (reusable across initializers)."""
    shapes: list[tuple[int, ...]] = []
    for fan_in, fan_out in task.kernel_shapes():
        shapes += [(n_seeds, fan_in, fan_out), (n_seeds, 1, fan_out)]
    return CompiledEnsemble(shapes, _mlp_loss_and_metric(task), optimizer, steps or task.steps, spec=spec,
                            jit=jit, check_elementwise=check_elementwise)


def landscape_trainer(task: Any, optimizer: Any, n_seeds: int, *, steps: Optional[int] = None, spec: Any = None,
                      jit: bool = True, check_elementwise: bool = True) -> CompiledEnsemble:
    """A compiled loop minimising a landscape from ``n_seeds`` starts."""
    tf = landscape_namespace()

    def loss_fn(params: list[Any]) -> Any:
        return task.loss(params[0], tf)

    return CompiledEnsemble([(n_seeds, task.dim)], loss_fn, optimizer, steps or task.steps, spec=spec, jit=jit,
                            check_elementwise=check_elementwise)


def train_learning_task(task: Any, init: Any, optimizer: Any, seeds: Sequence[int], *, steps: Optional[int] = None,
                        spec: Any = None, jit: bool = True, check_elementwise: bool = True) -> Trajectories:
    """Train ``task``'s network from ``init`` for every seed at once.

    Args:
        task: A :class:`~initcheck.tasks.LearningTask`.
        init: An initializer spec or ``factory(seed)`` for every kernel.
        optimizer: A fresh Keras optimizer instance.
        seeds: Ensemble seeds.
        steps: Defaults to the task's budget.
    """
    trainer = learning_trainer(task, optimizer, len(seeds), steps=steps, spec=spec, jit=jit,
                               check_elementwise=check_elementwise)
    traj = trainer.run(learning_params(task, init, seeds))
    traj.seeds = [int(s) for s in seeds]
    return traj


def train_landscape(task: Any, optimizer: Any, seeds: Sequence[int], *, steps: Optional[int] = None,
                    spec: Any = None, jit: bool = True, check_elementwise: bool = True) -> Trajectories:
    """Minimise a landscape from every seed's start at once."""
    trainer = landscape_trainer(task, optimizer, len(seeds), steps=steps, spec=spec, jit=jit,
                                check_elementwise=check_elementwise)
    traj = trainer.run(task.initial_params(list(seeds)))
    traj.seeds = [int(s) for s in seeds]
    return traj


# ------------------------------------------------------------------ the naive loop

def keras_reference_model(task: Any, init: Any, seed: int) -> Any:
    """One ordinary Keras model of ``task``'s network for one seed (kernels at ``derive_seed(seed, layer)``)."""
    keras = kc.keras()
    inp = keras.Input(shape=(task.input_dim,))
    h = inp
    for layer, width in enumerate(task.widths):
        last = layer == len(task.widths) - 1
        h = keras.layers.Dense(width, activation=None if last else task.activation,
                               kernel_initializer=_make_initializer(init, derive_seed(seed, layer)),
                               bias_initializer="zeros")(h)
    return keras.Model(inp, h)


def _keras_loss(task: Any) -> Any:
    keras = kc.keras()
    if task.loss == "mse":
        return keras.losses.MeanSquaredError()
    if task.loss == "bce":
        return keras.losses.BinaryCrossentropy(from_logits=True)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def train_per_seed_keras(task: Any, init: Any, make_optimizer: Callable[[], Any], seeds: Sequence[int], *,
                         steps: Optional[int] = None) -> Trajectories:
    """The naive way: one Keras model and one ``model.fit`` per seed.

    Full-batch, unshuffled, one epoch per step, so ``history["loss"][t]`` is
    the loss after ``t`` updates -- the same quantity as
    :attr:`Trajectories.losses` row ``t``.  Used as the reference that the
    batched ensemble must reproduce, and as the baseline of the speed-up
    benchmark.
    """
    n = steps or task.steps
    losses, finals = [], []
    start = time.perf_counter()
    for s in seeds:
        model = keras_reference_model(task, init, int(s))
        model.compile(optimizer=make_optimizer(), loss=_keras_loss(task))
        hist = model.fit(task.x, task.y, batch_size=len(task.x), epochs=n, shuffle=False, verbose=0)
        final = float(model.evaluate(task.x, task.y, batch_size=len(task.x), verbose=0))
        losses.append(list(hist.history["loss"]) + [final])
        weights = model.get_weights()  # [k0, b0, k1, b1, ...]
        finals.append(weights)
    seconds = time.perf_counter() - start
    arr = np.asarray(losses, dtype=np.float64).T
    params = [np.stack([f[i] if i % 2 == 0 else f[i][None] for f in finals]) for i in range(len(finals[0]))]
    return Trajectories(losses=arr, metrics=arr.copy(), params=params, seeds=[int(s) for s in seeds],
                        seconds=seconds)
