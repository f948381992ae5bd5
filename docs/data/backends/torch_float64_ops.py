"""Keras 3 on PyTorch computes ops.matmul and ops.mean in float32 for float64 inputs (plain Keras).

keras/src/backend/common/dtypes.py result_type maps float64 to float32 on every backend but TensorFlow
(BIT64_TO_BIT32_DTYPE); the torch ops.matmul casts both operands to that type and ops.mean computes in it.
Every other op the propagation simulator uses keeps float64.  Run with KERAS_BACKEND=torch; exit 1 when
matmul or mean loses float64 (dtype or precision), 0 otherwise.
"""
import numpy as np
import keras

ops = keras.ops
h = np.random.default_rng(1).standard_normal((4, 64, 128)) * 3
x = ops.convert_to_tensor(h, dtype="float64")
cases = (("matmul", ops.matmul(x, ops.transpose(x, (0, 2, 1))), h @ h.transpose(0, 2, 1)),
         ("mean", ops.mean(x, axis=2), h.mean(axis=2)), ("sum / n", ops.sum(x, axis=2) / 128, h.mean(axis=2)),
         ("tanh", ops.tanh(x), np.tanh(h)), ("relu", ops.relu(x), np.maximum(h, 0)),
         ("log", ops.log(ops.abs(x)), np.log(np.abs(h))), ("max", ops.max(ops.abs(x), axis=2), np.abs(h).max(axis=2)),
         ("roll", ops.roll(x, 1, axis=2), np.roll(h, 1, axis=2)))
lost = False
for name, got, want in cases:
    err = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - want) / np.maximum(np.abs(want), 1.0)))
    dtype = keras.backend.standardize_dtype(got.dtype)
    bad = dtype != "float64" or err > 1e-12
    lost |= bad and name in ("matmul", "mean")
    print(f"backend={keras.config.backend()} input float64: ops.{name}: dtype {dtype}, max error (relative, floor 1) "
          f"{err:.2g}{'  <- not float64' if bad else ''}")
raise SystemExit(int(lost))
