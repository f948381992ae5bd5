"""Training steps on Keras 3's JAX and PyTorch backends, each beside its raw SGD twin.

The TensorFlow steps live in :mod:`models` (``tf.GradientTape`` under eager,
``tf.function`` and XLA).  Here the same three models (``mlp64``, ``mlp128``,
``cnn`` from :func:`models.build_keras_model`) train the way each backend's
Keras guide writes a custom training step:

* **JAX** (modes ``jax-eager`` and ``jax-jit``): a pure function of the
  model's and the optimizer's state, ``model.stateless_call`` under
  ``jax.value_and_grad``, then ``optimizer.stateless_apply``; ``jax-jit`` is
  that function under ``jax.jit``, ``jax-eager`` the same function op by op.
* **PyTorch** (modes ``torch-eager`` and ``torch-compile``): the model
  called on the batch, ``loss.backward()``, then ``optimizer.apply(grads,
  variables)`` under ``torch.no_grad()``; ``torch-compile`` wraps that step
  in ``torch.compile`` (TorchInductor, which needs a C++ compiler on CPU).

The raw twin (``optimizer="raw"``) is the same forward pass and gradient with
the update written as ``w - lr * g`` in the backend's own ops: the cheapest
step the backend can take, so ``optimizer step / raw step`` is the price of
the Keras optimizer, comparable across backends.

Every builder returns ``call()``: one step that blocks until the backend has
finished it (the loss read back as a Python float), after the caller's first
call has traced/compiled it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import models as M
from initcheck import keras_compat as kc

__all__ = ["BACKEND_MODES", "numpy_batch", "build_step"]

#: Modes timed on each non-TensorFlow backend (TensorFlow's are :data:`models.MODES`).
BACKEND_MODES: dict[str, tuple[str, ...]] = {"jax": ("jax-eager", "jax-jit"),
                                             "torch": ("torch-eager", "torch-compile")}


def numpy_batch(name: str, batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The batch of :func:`models.synthetic_batch` as NumPy arrays (float32 inputs, int32 labels)."""
    rng = np.random.default_rng(seed)
    shape = (28, 28, 1) if name == "cnn" else (784,)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    y = rng.integers(0, M.NUM_CLASSES, size=(batch,)).astype(np.int32)
    return x, y


def _loss(keras: Any, logits: Any, y: Any) -> Any:
    return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))


def _jax_step(model_name: str, batch: int, optimizer: str, jit: bool) -> Callable[[], float]:
    import jax

    keras = kc.keras()
    model = M.build_keras_model(model_name)
    x, y = (keras.ops.convert_to_tensor(a) for a in numpy_batch(model_name, batch))
    opt = None if optimizer == "raw" else M.make_optimizer(optimizer, model.trainable_variables)
    lr = M.SGD_LR

    def loss_fn(trainable: list, non_trainable: list, xb: Any, yb: Any) -> tuple[Any, list]:
        logits, non_trainable = model.stateless_call(trainable, non_trainable, xb, training=True)
        return _loss(keras, logits, yb), non_trainable

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state: tuple, xb: Any, yb: Any) -> tuple[tuple, Any]:
        trainable, non_trainable, opt_vars = state
        (loss, non_trainable), grads = grad_fn(trainable, non_trainable, xb, yb)
        if opt is None:
            trainable = [w - lr * g for w, g in zip(trainable, grads)]
        else:
            trainable, opt_vars = opt.stateless_apply(opt_vars, grads, trainable)
        return (trainable, non_trainable, opt_vars), loss

    fn = jax.jit(step) if jit else step
    state = [([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
              [v.value for v in opt.variables] if opt is not None else [])]

    def call() -> float:
        state[0], loss = fn(state[0], x, y)
        return float(loss)

    return call


def _torch_step(model_name: str, batch: int, optimizer: str, compiled: bool) -> Callable[[], float]:
    import torch

    keras = kc.keras()
    model = M.build_keras_model(model_name)
    x, y = (keras.ops.convert_to_tensor(a) for a in numpy_batch(model_name, batch))
    variables = list(model.trainable_variables)
    opt = None if optimizer == "raw" else M.make_optimizer(optimizer, variables)
    lr = M.SGD_LR

    def step(xb: Any, yb: Any) -> Any:
        for v in variables:
            v.value.grad = None
        loss = _loss(keras, model(xb, training=True), yb)
        loss.backward()
        grads = [v.value.grad for v in variables]
        with torch.no_grad():
            if opt is None:
                for v, g in zip(variables, grads):
                    v.value.sub_(lr * g)
            else:
                opt.apply(grads, variables)
        return loss

    if compiled:
        # Every case's step is a new closure of the same code object, and torch.compile stops compiling a code
        # object after torch._dynamo.config.recompile_limit (8) variants, running the rest eagerly: the ninth
        # compiled case of a session would time eager code.  A fresh dynamo state per case compiles each one.
        torch._dynamo.reset()
    fn = torch.compile(step) if compiled else step

    def call() -> float:
        return float(fn(x, y).detach())

    return call


def build_step(mode: str, model_name: str, batch: int, optimizer: str) -> Callable[[], float]:
    """One step of ``optimizer`` (a Keras optimizer class name, or ``"raw"``) in ``mode`` on this backend.

    Raises:
        ValueError: ``mode`` is not a mode of the backend Keras runs on.
    """
    backend = kc.backend()
    if mode not in BACKEND_MODES.get(backend, ()):
        raise ValueError(f"mode {mode!r} does not run on the {backend} backend; its modes: "
                         f"{BACKEND_MODES.get(backend, M.MODES)}")
    if backend == "jax":
        return _jax_step(model_name, batch, optimizer, jit=mode == "jax-jit")
    return _torch_step(model_name, batch, optimizer, compiled=mode == "torch-compile")
