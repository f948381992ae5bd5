# Keras 3 keras.random.truncated_normal and TruncatedNormal: "values more than two standard deviations from the
# mean are discarded and re-drawn", so no draw should fall outside (-2, 2) std. On the torch backend a value whose
# four candidates all fall outside (probability 0.0455**4 = 4.3e-6) keeps the first one: ~17 in 4e6 draws.
import sys
import numpy as np
import keras
if not str(keras.__version__).startswith("3"):
    sys.exit(0)  # Keras 2 has no torch backend
n = 4_000_000
x = np.asarray(keras.ops.convert_to_numpy(keras.random.truncated_normal((n,), stddev=1.0, seed=0)), np.float64)
y = np.asarray(keras.ops.convert_to_numpy(keras.initializers.TruncatedNormal(stddev=1.0, seed=0)((n // 1000, 1000))),
               np.float64)
out_x, out_y = int(np.sum(np.abs(x) >= 2)), int(np.sum(np.abs(y) >= 2))
print(f"backend {keras.config.backend()}: random.truncated_normal {out_x} of {n} outside (-2, 2), max |x| "
      f"{np.abs(x).max():.4f}; TruncatedNormal {out_y} outside, max |x| {np.abs(y).max():.4f}")
sys.exit(int(out_x > 0 or out_y > 0))
