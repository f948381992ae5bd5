# Distinct integer seeds must draw distinct weights; Keras 3 on TensorFlow folds them (mod 2**32 in 3.0-3.4, 2**31 - 2 from 3.5).
import sys, numpy as np
try:
    from tensorflow import keras  # tf.keras
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
if keras.backend.backend() != "tensorflow": sys.exit(print("not applicable: about the TensorFlow backend"))
PAIRS = [(1, 2**31 - 1), (12345, 12345 + 2**31 - 2), (-1, 2**31 - 3), (7, 2**63 - 1),   # 2**31 - 2 apart (3.5+)
         (5, 5 + 2**32), (-1, 2**32 - 1)]                                                 # 2**32 apart (3.0-3.4)
draw = lambda cls, seed: np.asarray(getattr(keras.initializers, cls)(seed=seed)((4, 4), dtype="float32"))
same = [(cls, a, b) for cls in ("GlorotUniform", "RandomNormal", "TruncatedNormal", "Orthogonal")
        for a, b in PAIRS if np.array_equal(draw(cls, a), draw(cls, b))]
assert not np.array_equal(draw("GlorotUniform", 5), draw("GlorotUniform", 6))  # control: neighbours differ
try:
    numpy_seed = "same as int" if np.array_equal(draw("GlorotUniform", np.int64(5)), draw("GlorotUniform", 5)) else "different"
except Exception as exc:
    numpy_seed = f"{type(exc).__name__}"
print(f"identical draws for distinct seeds: {len(same)} of {4 * len(PAIRS)} pairs "
      f"{sorted({(a, b) for _, a, b in same})} | seed numpy.int64(5): {numpy_seed}")
sys.exit(int(bool(same)))
