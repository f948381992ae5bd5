# Documented: learning_rate may be "a callable that takes no arguments".
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, const, V = tf.keras, tf.constant, getattr(tf.keras, "Variable", tf.Variable)
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    const, V = keras.ops.convert_to_tensor, keras.Variable
w = V([1.0])
opt = keras.optimizers.SGD(learning_rate=lambda: 0.5)
try:
    opt.apply_gradients([(const([1.0]), w)])
except TypeError as e:
    print("SGD(learning_rate=lambda: 0.5).apply_gradients raised TypeError:", e)
    sys.exit(1)
print("zero-argument callable accepted; w =", np.asarray(w))
sys.exit(int(not np.allclose(np.asarray(w), [0.5])))
