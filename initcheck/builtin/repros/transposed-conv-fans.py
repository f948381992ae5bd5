# He-initialised Conv2DTranspose: Var(out)/Var(in) should be 2 (He et al. 2015) at the layer's true fan_in.
# Keras reads fan_in from kernel axis -2, which is `filters` for a transposed conv; and the true fan_in is in*k^2/s^2.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, to_numpy = tf.keras, np.asarray
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    to_numpy = keras.ops.convert_to_numpy
def ratio(c_in, filters, s, k=3):
    x = np.random.default_rng(0).standard_normal((4, 24, 24, c_in)).astype("float32")
    layer = keras.layers.Conv2DTranspose(filters, k, strides=s, use_bias=False, kernel_initializer=keras.initializers.HeNormal(seed=0))
    return float(to_numpy(layer(x))[:, 2 * k:-2 * k, 2 * k:-2 * k].var() / x.var())  # interior: no border effects
swap = ratio(128, 64, 1)
print(f"in=128, filters=64, stride 1: Var(out)/Var(in) = {swap:.3f} (He target 2.0; {swap / 2:.2f}x)")
for s in (1, 2, 3):
    r = ratio(64, 64, s)
    print(f"in=filters=64, stride {s}: Var(out)/Var(in) = {r:.3f} (He target 2.0; 2/s^2 = {2 / s**2:.3f})")
sys.exit(int(abs(swap / 2 - 1) > 0.25))
