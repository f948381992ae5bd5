"""Keras 3 LossScaleOptimizer(SGD): eager apply_gradients with a finite, then a non-finite gradient (plain Keras)."""
import numpy as np
import keras

v = keras.Variable(np.ones(3, dtype="float32"), name="w")
opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=1000)
try:
    for g in ([1.0, 1.0, 1.0], [np.inf, 1.0, 1.0], [1.0, 1.0, 1.0]):
        opt.apply_gradients([(keras.ops.convert_to_tensor(np.asarray(g, dtype="float32")), v)])
    print(f"backend={keras.config.backend()} ok: w={np.asarray(v)} scale={float(np.asarray(opt.dynamic_scale))}")
except Exception as exc:
    print(f"backend={keras.config.backend()} {type(exc).__name__}: {str(exc)[:300]}")
    raise SystemExit(1)
