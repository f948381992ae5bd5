"""keras.ops.maximum of float64 tensors, and clipnorm on a float64 gradient: do they stay float64?

Plain Keras + NumPy, no initcheck.  SGD(learning_rate=1e-4, clipnorm=0.05) (float32-exact values) on a
float64 variable w0 = [0.10296768], one gradient [0.17725309] (norm above the threshold, so it is
clipped to norm 0.05): the documented step is w0 - lr * 0.05 exactly in float64.  Also prints the dtype of
`keras.ops.maximum(float64 tensor, 0.05)`, the operation that loses the precision.

* tensorflow: the clipped gradient stays float64; the step is exact.
* torch: BaseOptimizer._clip_by_norm divides by `ops.maximum(l2norm, self.clipnorm)`; the torch backend's
  maximum promotes with keras.src.backend.common.dtypes.result_type(float64, float), which maps float64 to
  float32 outside TensorFlow (BIT64_TO_BIT32_DTYPE, "aligned with JAX's default"), so the divisor -- and
  the clipped gradient's value -- are rounded to float32.

Exit 0: every op above is float64 and the step is the float64 rule (relative error of the step lr * 0.05 below 1e-9; float64 rounding of
w - step alone is ~1e-12 of it).  Exit 1: it is not (float32 rounding is ~1e-8 of it).
Run: KERAS_BACKEND=torch python torch_float64_clipnorm.py   (KERAS_BACKEND=tensorflow to contrast)
"""
import sys

import numpy as np
import keras

lr, c = float(np.float32(1e-4)), float(np.float32(0.05))
w0 = np.array([0.10296768], dtype=np.float64)
g = np.array([0.17725309], dtype=np.float64)
v = keras.Variable(w0.copy(), dtype="float64")
keras.optimizers.SGD(learning_rate=lr, clipnorm=c).apply_gradients(
    [(keras.ops.convert_to_tensor(g, dtype="float64"), v)])
have = np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64)
want = w0 - lr * c
rel = float(np.max(np.abs(have - want) / np.abs(want)))
step_err = float(np.max(np.abs((w0 - have) - lr * c) / (lr * c)))
x = keras.ops.convert_to_tensor(np.array([2.0, 3.0]), dtype="float64")
sd = keras.backend.standardize_dtype
kinds = {"maximum(x, x)": sd(keras.ops.maximum(x, x).dtype), "minimum(x, x)": sd(keras.ops.minimum(x, x).dtype),
         f"maximum(x, {c})": sd(keras.ops.maximum(x, c).dtype), "divide(x, x)": sd(keras.ops.divide(x, x).dtype),
         "keras.backend.result_type('float64', 'float64')": keras.backend.result_type("float64", "float64")}
print(f"keras {keras.__version__}, backend {keras.config.backend()}")
for k, v in kinds.items():
    print(f"{k} with float64 x: {v}")
print(f"have {have.tolist()}\nwant {want.tolist()}\nrelative error of w: {rel:.3g}; of the step: {step_err:.3g}")
sys.exit(1 if step_err > 1e-9 or set(kinds.values()) != {"float64"} else 0)
