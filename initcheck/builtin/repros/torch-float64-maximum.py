# Keras 3 keras.ops.maximum of two float64 tensors should be float64, and SGD(lr=1e-4, clipnorm=0.05) on a float64
# gradient of norm 0.177 should step by exactly lr * 0.05 in float64. On the torch backend maximum returns float32.
import sys
import numpy as np
import keras
if not str(keras.__version__).startswith("3"):
    sys.exit(0)  # Keras 2 has no torch backend
if keras.backend.standardize_dtype(keras.ops.zeros((1,), dtype="float64").dtype) != "float64":
    print(f"backend {keras.config.backend()}: float64 is not available (JAX without JAX_ENABLE_X64): not applicable")
    sys.exit(0)
x = keras.ops.convert_to_tensor(np.array([2.0, 3.0]), dtype="float64")
dtype = keras.backend.standardize_dtype(keras.ops.maximum(x, x).dtype)
lr, c, w0 = float(np.float32(1e-4)), float(np.float32(0.05)), 0.10296768
v = keras.Variable(np.array([w0]), dtype="float64")
keras.optimizers.SGD(learning_rate=lr, clipnorm=c).apply_gradients(
    [(keras.ops.convert_to_tensor(np.array([0.17725309]), dtype="float64"), v)])
err = abs((w0 - float(keras.ops.convert_to_numpy(v)[0])) / (lr * c) - 1)
print(f"backend {keras.config.backend()}: maximum(float64, float64) is {dtype}; relative error of the clipped step {err:.3g}")
sys.exit(int(dtype != "float64" or err > 1e-9))
