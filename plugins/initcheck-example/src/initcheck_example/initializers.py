"""Two initializers and the specs that declare what they promise.

* ``small_normal``: the custom initializer of the classic TF2 recipe,
  ``tf.random.normal(shape, stddev=0.01)`` written as a plain function.  It
  takes no seed, so its spec does not claim the seed contract.
* ``LaplaceLecun``: a Keras initializer subclass with ``get_config``: i.i.d.
  Laplace entries with LeCun's variance ``1 / fan_in`` (Laplace with scale
  ``b`` has variance ``2 b**2``), drawn by inverting the Laplace CDF on
  stateless uniforms so that a seed reproduces its values.

Nothing here is initcheck-specific except the two ``InitializerSpec``s at the
bottom: the whole battery comes from them.
"""

from __future__ import annotations

import math

from scipy import stats

from initcheck import InitializerSpec, Normal, ScipyLaw, keras_compat, shape_fans

keras = keras_compat.keras()
# TensorFlow is fetched where it is used: on Keras's JAX or PyTorch backend this module still imports (its specs
# are listed, and their checks say that they need TensorFlow) and imports no TensorFlow.


def small_normal(shape, dtype=None):
    """The classic recipe's initializer: ``N(0, 0.01**2)``."""
    tf = keras_compat.tf()
    return tf.random.normal(shape, stddev=0.01, dtype=dtype or "float32")


@keras_compat.register_serializable(package="initcheck_example")
class LaplaceLecun(keras.initializers.Initializer):
    """I.i.d. Laplace entries with variance ``1 / fan_in``.

    Args:
        seed: An int makes every call return the same values; ``None`` draws
            fresh values on every call.
    """

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None, **kwargs):
        tf = keras_compat.tf()
        dtype = tf.as_dtype(dtype or "float32")
        fan_in = shape_fans(tuple(shape)).fan_in
        b = math.sqrt(1.0 / (2.0 * max(1.0, fan_in)))
        if self.seed is None:
            u = tf.random.uniform(shape, -0.5, 0.5, dtype="float64")
        else:
            u = tf.random.stateless_uniform(shape, seed=[int(self.seed), 7], minval=-0.5, maxval=0.5,
                                            dtype="float64")
        x = -b * tf.sign(u) * tf.math.log1p(-2.0 * tf.abs(u))
        return tf.cast(x, dtype)

    def get_config(self):
        return {"seed": self.seed}


def _laplace_law(shape, fans):
    return ScipyLaw(stats.laplace(scale=math.sqrt(1.0 / (2.0 * max(1.0, fans.fan_in)))))


SMALL_NORMAL = InitializerSpec(
    name="small_normal",
    factory=lambda seed: small_normal,
    law=Normal(std=0.01),
    tags=frozenset({"iid"}),
    unseeded_repeat="different",
    description="classic recipe: tf.random.normal(shape, stddev=0.01), unseeded plain function",
    needs=("tf_ops",),  # written with TensorFlow ops: not applicable on JAX / torch
)

LAPLACE_LECUN = InitializerSpec(
    name="LaplaceLecun",
    factory=lambda seed: LaplaceLecun(seed=seed),
    law=_laplace_law,
    activations=("linear",),
    tags=frozenset({"iid", "seeded", "keras_object", "saveable"}),
    seeded_repeat="same",
    unseeded_repeat="different",
    # Fans come from the kernel shape, as Keras's own VarianceScaling computes them: one line says so,
    # and the layer checks verify that consequence on the layers whose true fans differ.
    fan_convention="shape",
    description="Laplace, Var = 1 / fan_in (Keras initializer subclass)",
    needs=("tf_ops",),  # written with TensorFlow ops: not applicable on JAX / torch
)


def initializer_specs():
    """Entry point ``initcheck.initializers``: the specs of this package."""
    return [SMALL_NORMAL, LAPLACE_LECUN]
