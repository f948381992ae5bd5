# GlorotUniform LSTM/GRU kernels: each gate is an (in, units) matrix, so Var should be 2/(in + units).
# Keras builds one (in, gates*units) kernel and counts fan_out = gates * units.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras = tf.keras
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
bad = False
for cls, gates in ((keras.layers.LSTM, 4), (keras.layers.GRU, 3)):
    layer = cls(64, kernel_initializer=keras.initializers.GlorotUniform(seed=0))
    layer(np.zeros((1, 1, 128), "float32"))
    k = np.asarray(layer.cell.kernel)
    r = k.var() / (2 / (128 + 64))
    z = (r - 1) / np.sqrt(0.8 / k.size)          # sample variance of a uniform: relative sd sqrt(0.8/n)
    print(f"{cls.__name__}(64) on 128 inputs, kernel {k.shape}: Var = {r:.3f}x 2/(in+units), z = {z:.0f}")
    bad |= abs(r - 1) > 0.1
sys.exit(int(bad))
