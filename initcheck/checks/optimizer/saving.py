"""Resume through Keras's own weights file: the optimizer's state survives ``save_weights`` / ``load_weights``.

``check_checkpoint_resume`` saves with ``tf.train.Checkpoint``, which only
TensorFlow has.  Keras 3 saves an optimizer's state on every backend through
its own format: a compiled model's ``.weights.h5`` holds the model's
variables *and* its optimizer's (iteration count, learning rate, slots), and
``load_weights`` restores them into a model whose optimizer is built.  That
is how a user resumes training on JAX or PyTorch, so
``check_weights_file_resume`` checks it there and on TensorFlow alike: train
``k`` steps, save, load into a fresh model and a fresh optimizer, train the
remaining steps, and compare with an uninterrupted run bit for bit (the same
arithmetic runs in both, so any difference is state that was not saved or
not restored: an untracked step counter, a slot left out of
``variables``, a restored iteration count the update does not read).

Keras 3 only: Keras 2's HDF5 weights file holds no optimizer state.
"""

from __future__ import annotations

import functools
import os
import tempfile
from typing import Any

import numpy as np

from .. import register_check
from ..evidence import Evidence, fail, ok
from .modes import _ck_cases, resume_learning_rate
from .runner import gradient_sequence, initial_weights, run_keras

__all__ = ["check_weights_file_resume", "holder_model"]


def _keras3(spec: Any) -> bool:
    """The spec saves state (``checkpoint`` tag) and the Keras in use is Keras 3 (read from metadata)."""
    from ... import keras_compat as kc

    if not spec.has("checkpoint"):
        return False
    version = kc.versions_from_metadata().get("keras") or "0"
    return version.split(".")[0].isdigit() and int(version.split(".")[0]) >= 3


@functools.lru_cache(maxsize=None)
def _holder_class() -> type:
    from ... import keras_compat as kc

    keras = kc.keras()

    class Holder(keras.Model):
        """A model that is nothing but the case's variables (what a real model's kernels are to its optimizer)."""

        def __init__(self, shapes: list, dtype: str, **kw: Any) -> None:
            super().__init__(**kw)
            self.held = [self.add_weight(shape=tuple(int(d) for d in s), initializer="zeros", dtype=dtype,
                                         name=f"var{i}") for i, s in enumerate(shapes)]
            self.built = True  # the weights exist: save_weights refuses an unbuilt model

        def call(self, inputs: Any) -> Any:
            return inputs

    return Holder


def holder_model(case: dict, optimizer: Any, initial: bool) -> Any:
    """A compiled model holding the case's variables (initial weights, or zeros to be loaded into)."""
    from ... import keras_compat as kc

    model = _holder_class()(case["shapes"], case["dtype"])
    if initial:
        for var, w in zip(model.trainable_variables, initial_weights(case)):
            var.assign(w.astype(case["dtype"]))
    model.compile(optimizer=optimizer)
    optimizer.build(model.trainable_variables)  # load_weights fills a built optimizer's variables
    kc.to_numpy(model.trainable_variables[0])  # materialised before saving (lazy backends)
    return model


@register_check(kind="optimizer", family="optimizer", applies=_keras3, strategy=_ck_cases, examples=1)
def check_weights_file_resume(spec: Any, case: dict) -> Evidence:
    """Train k steps, ``save_weights`` (model + optimizer), ``load_weights`` into fresh ones, continue: identical."""
    from ... import keras_compat as kc

    grads = gradient_sequence(case)
    split = int(case["split"])
    whole = run_keras(spec, case, grads, learning_rate=resume_learning_rate(spec, case))
    first_opt = spec.build(resume_learning_rate(spec, case), case["hp"])
    first = holder_model(case, first_opt, initial=True)
    run_keras(spec, case, grads[:split], optimizer=first_opt, variables=first.trainable_variables)
    fresh_opt = spec.build(resume_learning_rate(spec, case), case["hp"])
    fresh = holder_model(case, fresh_opt, initial=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "resume.weights.h5")
        first.save_weights(path)
        fresh.load_weights(path)
    iters = kc.optimizer_iterations(fresh_opt)
    data: dict = {"split": split, "restored_iterations": iters, "file": "model.save_weights(*.weights.h5)"}
    if iters != split:
        raise fail(f"load_weights restored the optimizer's iterations as {iters}, saved after {split} steps",
                   case, **data)
    second = run_keras(spec, case, grads[split:], optimizer=fresh_opt, variables=fresh.trainable_variables)
    diffs = [float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(second.weights[-1], whole.weights[-1])]
    data["max_abs_difference"] = diffs
    if any(d != 0.0 for d in diffs):
        raise fail("training resumed from the weights file differs from uninterrupted training", case, **data)
    return ok("resume from the weights file is bit-identical", case, **data)
