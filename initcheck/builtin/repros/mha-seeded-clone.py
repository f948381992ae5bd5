# MultiHeadAttention with a seeded kernel_initializer: query, key and value kernels should be independent draws.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras = tf.keras
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8, kernel_initializer=keras.initializers.HeNormal(seed=3))
x = np.zeros((1, 4, 16), "float32")
mha(x, x)
q, k, v = (np.asarray(w).ravel() for w in [w for w in mha.weights if "kernel" in w.name][:3])
print("corr(query, key) =", round(float(np.corrcoef(q, k)[0, 1]), 4), "corr(query, value) =", round(float(np.corrcoef(q, v)[0, 1]), 4))
print("query == key == value kernels:", np.array_equal(q, k) and np.array_equal(q, v))
sys.exit(int(np.array_equal(q, k) or np.array_equal(q, v)))
