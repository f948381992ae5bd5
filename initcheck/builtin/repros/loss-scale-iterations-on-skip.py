# A LossScaleOptimizer step skipped for a non-finite gradient must not advance the inner optimizer's step count.
import sys
import numpy as np
try: import tensorflow as tf
except ImportError: sys.exit(print("not applicable: needs TensorFlow (the finding is about tf.keras 2)"))
keras = tf.keras
if keras.backend.backend() != "tensorflow": sys.exit(print("not applicable: about the TensorFlow backend"))
V = getattr(keras, "Variable", tf.Variable)
w = V([0.1])
opt = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.Adam(0.01))
opt.apply_gradients([(tf.constant([1.0]), w)])
it1 = int(np.asarray(opt.inner_optimizer.iterations))
opt.apply_gradients([(tf.constant([np.nan], tf.float32), w)])
it2 = int(np.asarray(opt.inner_optimizer.iterations))
print(f"inner iterations after a finite step: {it1}; after a skipped (nan) step: {it2}; w = {np.asarray(w)}")
sys.exit(int(it2 != it1))
