# HeNormal EinsumDense("ab,bcd->acd"): each output sums the 128 `b` inputs, so Var(kernel) should be 2/128.
# Before Keras 3.15 VarianceScaling takes fans from the raw 3-D kernel shape (fan_in = 4 * 128).
import sys
import numpy as np
try:
    import tensorflow as tf
    keras = tf.keras
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
layer = keras.layers.EinsumDense("ab,bcd->acd", output_shape=(4, 64), kernel_initializer=keras.initializers.HeNormal(seed=0))
layer(np.zeros((1, 128), "float32"))
k = np.asarray(layer.kernel)
r = k.var() / (2 / 128)
z = (r - 1) / np.sqrt(1.6 / k.size)              # truncated normal (+-2 sd): kurtosis ~2.6
print(f"EinsumDense kernel {k.shape}, HeNormal: Var = {r:.3f}x the law at fan_in = 128 (z = {z:.0f})")
sys.exit(int(abs(r - 1) > 0.1))
