"""Decoupled weight decay on a float64 variable: is the decay factor computed in float64?

Plain Keras + NumPy, no initcheck.  SGD(learning_rate=1e-4, weight_decay=0.01) (float32-exact values)
on a float64 variable w0 = [0.1, -0.98], gradient zero, one apply_gradients call.  The documented
decoupled decay is w <- w - lr * wd * w; in float64 that is w0 * (1 - 1e-6) to 1e-16 relative.

* tensorflow: keras/src/optimizers/base_optimizer.py `_apply_weight_decay` casts lr and wd to the
  variable's dtype and assigns w - w * wd * lr (float64).
* torch: keras/src/backend/torch/optimizers/torch_optimizer.py `_apply_weight_decay` multiplies the
  variables by `1 - self.weight_decay * self._get_current_learning_rate()`, a float32 tensor (the
  learning-rate variable's dtype): the factor 1 - 1e-6 is rounded to float32 (spacing 6e-8 near 1), so
  the decay lr*wd*w itself is off by a few percent.

Exit 0: the decay step lr*wd*w is the float64 rule to 1e-6 relative (float64 rounding gives ~1e-10).
Exit 1: it is not (a float32 factor gives ~1e-2).
Run: KERAS_BACKEND=torch python torch_weight_decay_float32.py   (KERAS_BACKEND=tensorflow to contrast)
"""
import sys

import numpy as np
import keras

lr, wd = float(np.float32(1e-4)), float(np.float32(0.01))
w0 = np.array([0.1, -0.98], dtype=np.float64)
v = keras.Variable(w0.copy(), dtype="float64")
opt = keras.optimizers.SGD(learning_rate=lr, weight_decay=wd)
opt.apply_gradients([(keras.ops.zeros((2,), dtype="float64"), v)])
have = np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64)
want = w0 - lr * wd * w0
rel = np.abs(have - want) / np.abs(want)
decay_err = np.abs((w0 - have) - lr * wd * w0) / np.abs(lr * wd * w0)
print(f"keras {keras.__version__}, backend {keras.config.backend()}, variable dtype {v.dtype}")
print(f"have {have.tolist()}\nwant {want.tolist()}")
print(f"relative error of w: {rel.max():.3g}; relative error of the decay step lr*wd*w: {decay_err.max():.3g}")
sys.exit(1 if decay_err.max() > 1e-6 else 0)
