# Keras 3 combines a float64 tensor with a Python float in float64 (a Python scalar is weakly typed). On the torch
# backend keras.ops.add / subtract / multiply / power first make the Python float a float32 tensor, so 1 - beta_2 =
# 1 - float32(0.001) is rounded before it scales a float64 moment (Lamb's float64 second moment).
import sys
import numpy as np
import keras
if not str(keras.__version__).startswith("3"):
    sys.exit(0)  # Keras 2 has no torch backend
if keras.backend.standardize_dtype(keras.ops.zeros((1,), dtype="float64").dtype) != "float64":
    print(f"backend {keras.config.backend()}: float64 is not available (JAX without JAX_ENABLE_X64): not applicable")
    sys.exit(0)
x, c, ops = np.array([1.0, 3.0]), 1.0 - float(np.float32(0.001)), keras.ops  # c = 0.99899999995..., not a float32
t = ops.convert_to_tensor(x, dtype="float64")
errors = {op.__name__: float(np.max(np.abs(np.asarray(ops.convert_to_numpy(op(t, c))) - ref) / np.abs(ref)))
          for op, ref in [(ops.add, x + c), (ops.subtract, x - c), (ops.multiply, x * c), (ops.power, x ** c)]}
print(f"backend {keras.config.backend()}: relative error of float64 op Python float: "
      + ", ".join(f"{k} {e:.3g}" for k, e in errors.items()) + " (float64 rounding: ~1e-16)")
sys.exit(int(max(errors.values()) > 1e-12))
