"""Orthogonal asked for float16: does it return a float16 matrix, as it does on TensorFlow?

Plain Keras + NumPy, no initcheck.  keras.initializers.Orthogonal(seed=0)((4, 4), dtype=dtype) for float16,
bfloat16, float32.  Orthogonal factorises a normal matrix drawn in the requested dtype with ops.qr
(keras/src/initializers/random_initializers.py); on torch that is torch.linalg.qr, whose CPU kernel
(geqrf) has no Half.  On TensorFlow float16 works and bfloat16 raises (the orthogonal-bf16-qr finding).

Exit 0: float16 works.  Exit 1: float16 raises or returns another dtype.
Run: KERAS_BACKEND=torch python torch_orthogonal_float16.py   (KERAS_BACKEND=tensorflow to contrast)
"""
import sys

import keras

print(f"keras {keras.__version__}, backend {keras.config.backend()}")
ok16 = False
for dtype in ("float16", "bfloat16", "float32"):
    try:
        out = keras.initializers.Orthogonal(seed=0)((4, 4), dtype=dtype)
        got = keras.backend.standardize_dtype(out.dtype)
        print(f"{dtype:9s} -> {got}")
        ok16 = ok16 or (dtype == "float16" and got == "float16")
    except Exception as exc:
        print(f"{dtype:9s} -> raised {type(exc).__name__}: {str(exc).splitlines()[0][:100]}")
sys.exit(0 if ok16 else 1)
