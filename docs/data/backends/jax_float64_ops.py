"""Keras 3 on JAX computes some keras.ops in float32 for float64 inputs, even with JAX_ENABLE_X64=1 (plain Keras).

keras/src/backend/common/dtypes.py result_type maps float64 to float32 on JAX (BIT64_TO_BIT32_DTYPE,
"to be aligned with JAX's default behavior"), and ops.tanh / ops.mean compute in result_type(x.dtype, float).
Run with JAX_ENABLE_X64=1 KERAS_BACKEND=jax; exit 1 when an op loses float64 (dtype or precision), 0 otherwise.
"""
import numpy as np
import keras

h = np.random.default_rng(1).standard_normal((64, 256)) * 3
x = keras.ops.convert_to_tensor(h, dtype="float64")
lost = False
for name, got, want in (("tanh", keras.ops.tanh(x), np.tanh(h)), ("mean", keras.ops.mean(x, axis=1), h.mean(axis=1)),
                        ("sum / n", keras.ops.sum(x, axis=1) / 256, h.mean(axis=1)), ("log", keras.ops.log(keras.ops.abs(x)), np.log(np.abs(h)))):
    err = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - want) / np.maximum(np.abs(want), 1.0)))
    dtype = keras.backend.standardize_dtype(got.dtype)
    bad = dtype != "float64" or err > 1e-12
    lost |= bad and name in ("tanh", "mean")
    print(f"backend={keras.config.backend()} input {keras.backend.standardize_dtype(x.dtype)}: ops.{name}: dtype {dtype}, max error (relative, floor 1) {err:.2g}"
          f"{'  <- not float64' if bad else ''}")
raise SystemExit(int(lost))
