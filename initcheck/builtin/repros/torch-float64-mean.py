# Keras 3 keras.ops.mean of a float64 tensor should be computed in float64. On the torch backend it is computed in
# float32 and cast back (its compute dtype comes from keras.backend.result_type, which maps float64 to float32 outside
# TensorFlow). Adafactor's float64 step goes through it (the RMS of the variable and of the update).
import sys
import numpy as np
import keras
if not str(keras.__version__).startswith("3"):
    sys.exit(0)  # Keras 2 has no torch backend
if keras.backend.standardize_dtype(keras.ops.zeros((1,), dtype="float64").dtype) != "float64":
    print(f"backend {keras.config.backend()}: float64 is not available (JAX without JAX_ENABLE_X64): not applicable")
    sys.exit(0)
x, ops, lr, g = np.array([0.1, 0.3, 0.7]), keras.ops, float(np.float32(1e-4)), np.array([1e-3, 2e-3, -3e-3])
mean_err = abs(float(ops.convert_to_numpy(ops.mean(ops.convert_to_tensor(x, dtype="float64")))) / x.mean() - 1)
w = keras.Variable(x.copy(), dtype="float64")
keras.optimizers.Adafactor(learning_rate=lr).apply_gradients([(ops.convert_to_tensor(g, dtype="float64"), w)])
u = g / np.sqrt(g * g + 1e-30)  # Shazeer & Stern 2018 as Keras writes it, step t = 1 (beta_2_t = 0), defaults
step = max(1e-3, np.sqrt(np.mean(x * x))) * min(lr, 1.0) * u / max(1.0, np.sqrt(np.mean(u * u)))
ada_err = float(np.max(np.abs((x - np.asarray(ops.convert_to_numpy(w))) / step - 1)))
print(f"backend {keras.config.backend()}: float64 mean off by {mean_err:.3g}; Adafactor's step off its formula by {ada_err:.3g}")
sys.exit(int(mean_err > 1e-12 or ada_err > 1e-10))
