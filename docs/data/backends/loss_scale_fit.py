"""Keras 3 LossScaleOptimizer(SGD) in model.fit on JAX (the trainer's jitted step), plain Keras + NumPy.

A bias-free Dense(1) from 3 inputs, weights ones, MSE; one batch, two epochs.  Keras's trainer scales the loss
(LossScaleOptimizer.scale_loss) and the optimizer unscales: the weights after fit must equal plain SGD's.
Exit 0 when they do (and the scale stayed 8: no non-finite step), 1 otherwise.
"""
import os
os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import keras

x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], dtype="float32")
y = np.array([[1.0], [-1.0]], dtype="float32")


def trained(optimizer):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, shuffle=False)
    return model.get_weights()[0].ravel()


plain = trained(keras.optimizers.SGD(0.01))
lso = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.01), initial_scale=8.0, dynamic_growth_steps=1000)
scaled = trained(lso)
scale = float(np.asarray(lso.dynamic_scale))
print(f"backend={keras.config.backend()} keras={keras.__version__} fit: plain SGD w={plain} loss-scaled w={scaled} "
      f"scale={scale}")
raise SystemExit(0 if np.allclose(plain, scaled, rtol=1e-6) and scale == 8.0 else 1)
