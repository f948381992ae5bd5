# Keras 3 SGD(lr=1e-4, weight_decay=0.01) on a float64 variable, zero gradient: w should become w - lr*wd*w in float64.
# On the torch backend the factor 1 - wd*lr is a float32 tensor, so the decay step is off by ~1%. Run with KERAS_BACKEND=torch.
import sys
import numpy as np
import keras
if not str(keras.__version__).startswith("3"):
    sys.exit(0)  # Keras 2 has no torch backend
if keras.backend.standardize_dtype(keras.ops.zeros((1,), dtype="float64").dtype) != "float64":
    print(f"backend {keras.config.backend()}: float64 is not available (JAX without JAX_ENABLE_X64): not applicable")
    sys.exit(0)
lr, wd = float(np.float32(1e-4)), float(np.float32(0.01))
w0 = np.array([0.1, -0.98])
v = keras.Variable(w0.copy(), dtype="float64")
keras.optimizers.SGD(learning_rate=lr, weight_decay=wd).apply_gradients([(keras.ops.zeros((2,), dtype="float64"), v)])
have = np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64)
err = float(np.max(np.abs((w0 - have) - lr * wd * w0) / np.abs(lr * wd * w0)))
print(f"backend {keras.config.backend()}: relative error of the decay step {err:.3g} (float64 rounding: ~1e-10)")
sys.exit(int(err > 1e-6))
