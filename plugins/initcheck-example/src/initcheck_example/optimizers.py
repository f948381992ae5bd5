"""An optimizer with a documented twist, and the spec that declares it.

``DecayedSGD`` is plain SGD whose step shrinks as ``1 / sqrt(t)``:

    w_t = w_{t-1} - learning_rate * g_t / sqrt(t),    t = 1, 2, ...

the step-size schedule of Zinkevich (2003), "Online Convex Programming and
Generalized Infinitesimal Gradient Ascent", Theorem 1.  It is written as a
Keras optimizer subclass that works on Keras 3 and on Keras 2 (tf_keras),
and inherits everything else (clipping, weight decay, EMA, accumulation,
checkpointing) from Keras's base class.

Nothing here is initcheck-specific except the :class:`OptimizerSpec` at the
bottom, with the NumPy reference rule next to it: the whole optimizer
battery comes from them.
"""

from __future__ import annotations

import numpy as np

from initcheck import LOSS_SCALE_SKIP_COUNTS, OptimizerSpec, Rule, early_keras3_findings, keras_compat, learning_rates

keras = keras_compat.keras()
# TensorFlow is fetched where it is used (see initializers.py).


@keras_compat.register_serializable(package="initcheck_example")
class DecayedSGD(keras.optimizers.Optimizer):
    """SGD with the step scaled by ``1 / sqrt(t)`` (t = iterations + 1).

    Args:
        learning_rate: A float, a schedule or a zero-argument callable.
        name: The optimizer's name.
        **kwargs: Keras's common optimizer options (``clipnorm``,
            ``weight_decay``, ``use_ema``, ...).
    """

    def __init__(self, learning_rate=0.01, name="DecayedSGD", **kwargs):
        if keras_compat.keras_major() >= 3:
            super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        else:  # Keras 2's base class takes the name first and builds the rate itself
            kwargs.setdefault("jit_compile", False)
            super().__init__(name=name, **kwargs)
            self._learning_rate = self._build_learning_rate(learning_rate)

    def update_step(self, gradient, variable, learning_rate=None):
        """``variable -= lr * g / sqrt(iterations + 1)`` (Keras 3 passes the rate, Keras 2 does not)."""
        tf = keras_compat.tf()
        lr = self.learning_rate if learning_rate is None else learning_rate
        if isinstance(gradient, tf.IndexedSlices):
            gradient = tf.convert_to_tensor(gradient)  # sums repeated indices
        dtype = variable.dtype
        t = tf.cast(self.iterations + 1, dtype)
        variable.assign_sub(tf.cast(lr, dtype) * tf.cast(gradient, dtype) / tf.sqrt(t))

    def build(self, var_list):
        """Keras's base ``build`` (EMA copies, index); no slots of its own."""
        if keras_compat.keras_major() >= 3:
            super().build(var_list)
            return
        # Keras 2 calls ``build`` on every ``apply_gradients`` and relies on the
        # subclass to mark it built; without the flag the EMA copies would be
        # re-created from the current weights at every step.
        if getattr(self, "_built", False):
            return
        super().build(var_list)
        self._built = True

    def get_config(self):
        """Keras 3's base config carries the learning rate; Keras 2's leaves it to subclasses."""
        config = super().get_config()
        if "learning_rate" not in config:
            config["learning_rate"] = self._serialize_hyperparameter(self._learning_rate)
        return config


def _init(w, hp):
    return {}


def decayed_sgd_step(w, g, state, lr, t, hp):
    """Zinkevich (2003): ``w - lr * g / sqrt(t)``."""
    return w - lr * g / np.sqrt(t)


DECAYED_SGD_RULE = Rule("decayed_sgd", _init, decayed_sgd_step, citation="Zinkevich 2003, Theorem 1",
                        uses_step_count=True)


def _factory(**kwargs):
    return DecayedSGD(**kwargs)


_TAGS = frozenset({
    "keras_object", "trajectory", "lr_zero_fixed", "zero_grad_fixed", "descent", "sparse", "weight_decay",
    "ema", "accumulation", "loss_scaling", "clipping", "lr_callable", "lr_schedule", "checkpoint",
    "distributed", "config", "defaults", "elementwise",
})

optimizer_specs = [
    OptimizerSpec(
        name="DecayedSGD",
        factory=_factory,
        rule=DECAYED_SGD_RULE,
        space={},
        defaults={"learning_rate": 0.01},
        tags=_TAGS,
        tag_versions={"accumulation": "keras>=3.0.2", "checkpoint": "keras!=3.0.*"},
        learning_rate=learning_rates(1e-4, 1.0),
        # Keras 2's LossScaleOptimizer advances `iterations` on a skipped step, so the
        # 1/sqrt(t) schedule runs one step ahead: the same finding as the built-in Adam.
        # and Keras's own early-3.x findings for the base-class features it inherits.
        expected_failures={**early_keras3_findings(_TAGS), "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS},
        description="SGD with a 1/sqrt(t) step (Zinkevich 2003), a Keras optimizer subclass",
        needs=("tf_ops",),  # written with TensorFlow ops: not applicable on JAX / torch
    ),
]
