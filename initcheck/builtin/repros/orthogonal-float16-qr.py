# Orthogonal(dtype="float16") raises on JAX and PyTorch (their CPU QR has no float16); TensorFlow's Qr has one.
# Exit 1 when the call raises, 0 when it returns an orthogonal float16 matrix.
import sys

import keras
import numpy as np

try:
    w = keras.initializers.Orthogonal(seed=0)((4, 4), dtype="float16")
except Exception as e:  # the finding: the float16 QR is missing
    print(f"{keras.backend.backend()}: Orthogonal float16 raises {type(e).__name__}: {str(e)[:200]}")
    sys.exit(1)
w = np.asarray(w, dtype=np.float32)
print(f"{keras.backend.backend()}: float16 Orthogonal returned, max |W^T W - I| = {np.abs(w.T @ w - np.eye(4)).max():.2g}")
