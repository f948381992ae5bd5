"""Keras 3 LossScaleOptimizer(SGD) the way Keras's JAX trainer drives it: stateless_apply inside jax.jit.

Same three steps as loss_scale_eager.py (finite, inf, finite; SGD(0.1), initial_scale=8, growth 1000) on a
float32 variable of ones, gradients pre-multiplied by the current scale as a trainer's scaled loss gives them.
Expected (documented LossScaleOptimizer): w = 1 - 0.1 - 0.1 = 0.8, the inf step skipped, scale 8 -> 4.
Exit 0 when that holds, 1 otherwise (plain Keras + JAX + NumPy, no initcheck).
"""
import os
os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import jax
import keras

v = keras.Variable(np.ones(3, dtype="float32"), name="w")
opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=1000)
opt.build([v])


@jax.jit
def step(opt_vars, grads, train_vars):
    return opt.stateless_apply(opt_vars, grads, train_vars)


opt_vars = [x.value for x in opt.variables]
train_vars = [v.value]
scale = 8.0
for g in ([1.0, 1.0, 1.0], [np.inf, 1.0, 1.0], [1.0, 1.0, 1.0]):
    grads = [keras.ops.convert_to_tensor(np.asarray(g, dtype="float32") * scale)]
    train_vars, opt_vars = step(opt_vars, grads, train_vars)
    scale = float([np.asarray(a) for a, x in zip(opt_vars, opt.variables) if x.path.endswith("dynamic_scale")][0])
    print(f"  gradient {g}: w={np.asarray(train_vars[0])} scale={scale}")
w = np.asarray(train_vars[0])
print(f"backend={keras.config.backend()} keras={keras.__version__} jax={jax.__version__} jit stateless_apply: "
      f"w={w} scale={scale}")
raise SystemExit(0 if np.allclose(w, 0.8) and scale == 4.0 else 1)
