# He-initialised DepthwiseConv2D: each output sums k*k terms of ONE channel, so Var(out)/Var(in) should be 2.
# Keras counts fan_in = in_channels * k * k (kernel (k, k, in, multiplier)).
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, to_numpy = tf.keras, np.asarray
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    to_numpy = keras.ops.convert_to_numpy
x = np.random.default_rng(0).standard_normal((8, 16, 16, 64)).astype("float32")
layer = keras.layers.DepthwiseConv2D(3, use_bias=False, depthwise_initializer=keras.initializers.HeNormal(seed=0))
r = float(to_numpy(layer(x)).var() / x.var())
print(f"DepthwiseConv2D(3) on 64 channels, HeNormal: Var(out)/Var(in) = {r:.4f} (He target 2.0; {r / 2:.4f}x, 1/64 = {1 / 64:.4f})")
sys.exit(int(abs(r / 2 - 1) > 0.25))
