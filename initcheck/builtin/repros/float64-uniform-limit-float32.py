# float64 RandomUniform / GlorotUniform: the limits go through float32, so draws reach float32(L) > L.
import sys
import numpy as np
try: import tensorflow as tf
except ImportError: sys.exit(print("not applicable: about the TensorFlow backend (TensorFlow is not installed)"))
keras = tf.keras
if keras.backend.backend() != "tensorflow": sys.exit(print("not applicable: about the TensorFlow backend"))
L = 0.009568319307746789                    # GlorotUniform limit for fan_in + fan_out = 65536
L32 = float(np.float32(L))                  # 0.009568319655954838 > L
draw = lambda lo, hi: np.asarray(keras.initializers.RandomUniform(lo, hi, seed=1)((65520, 16), dtype="float64"))
exact, rounded = draw(-L, L), draw(-L32, L32)
glorot = np.asarray(keras.initializers.GlorotUniform(seed=1)((65520, 16), dtype="float64"))
same = np.array_equal(exact, rounded)
print(f"L={L!r} float32(L)={L32!r} max|draw|={float(np.abs(exact).max())!r}")
print("RandomUniform(-L, L) == RandomUniform(-float32(L), float32(L)) with the same seed:", same)
print("GlorotUniform((65520, 16)) == RandomUniform(-float32(L), float32(L)) with the same seed:", np.array_equal(glorot, rounded))
narrow = np.asarray(keras.initializers.RandomUniform(1.0, 1.0 + 2**-25, seed=0)((1000,), dtype="float64"))
print("RandomUniform(1, 1 + 2**-25) float64: distinct values", len(np.unique(narrow)), "(float32 rounds both limits to 1.0)")
sys.exit(int(same or len(np.unique(narrow)) == 1))
