"""Keras 3 GlorotUniform(seed=0) in float64: how many random bits do the draws carry? (plain Keras + NumPy)"""
import numpy as np
import keras

x = np.asarray(keras.initializers.GlorotUniform(seed=0)((32768, 58), dtype="float64"))
n = x.size
as32 = x.astype(np.float32).astype(np.float64)
print(f"backend={keras.config.backend()} keras={keras.__version__} dtype={x.dtype} n={n}")
print(f"distinct values: {np.unique(x).size}  (n = {n})")
print(f"values exactly representable in float32: {np.mean(as32 == x):.4f}")
# exit 1 when the float64 draws are only float32 values (the difference is present)
raise SystemExit(1 if np.all(as32 == x) else 0)
