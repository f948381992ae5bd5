"""keras.random.truncated_normal: are all draws inside the documented two standard deviations?

Plain Keras + NumPy, no initcheck.  Draws 4 000 000 values of keras.random.truncated_normal(stddev=1, seed=0) and
of keras.initializers.TruncatedNormal(stddev=1, seed=0) and counts |x| >= 2.  The documentation: "values more
than two standard deviations from the mean are discarded and re-drawn".

* torch: keras/src/backend/torch/random.py truncated_normal draws 4 candidates per value and keeps the first one
  inside (-2, 2); when none of the 4 is (probability 0.0455**4 = 4.3e-6), `valid.max(-1)` returns index 0 and the
  out-of-range first candidate is kept.  Expected ~17 per 4e6 draws.
* tensorflow: tf.random.stateless_truncated_normal re-draws until inside; 0 outside.

Exit 0: no draw outside.  Exit 1: some draw outside (the difference is there).
Run: KERAS_BACKEND=torch python torch_truncated_normal_outside.py   (KERAS_BACKEND=tensorflow to contrast)
"""
import sys

import numpy as np
import keras

n = 4_000_000
x = np.asarray(keras.ops.convert_to_numpy(keras.random.truncated_normal((n,), stddev=1.0, seed=0)), np.float64)
y = np.asarray(keras.ops.convert_to_numpy(keras.initializers.TruncatedNormal(stddev=1.0, seed=0)((n // 1000, 1000))),
               np.float64)
out_x, out_y = int(np.sum(np.abs(x) >= 2)), int(np.sum(np.abs(y) >= 2))
print(f"keras {keras.__version__}, backend {keras.config.backend()}")
print(f"random.truncated_normal: {out_x} of {n} outside (-2, 2), max |x| {np.abs(x).max():.4f}; expected if "
      f"4 candidates are tried: {n * 0.0455 ** 4:.1f}")
print(f"initializers.TruncatedNormal: {out_y} of {n} outside, max |x| {np.abs(y).max():.4f}")
sys.exit(1 if out_x or out_y else 0)
