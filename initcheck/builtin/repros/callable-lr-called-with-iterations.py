# Documented: learning_rate may be "a callable that takes no arguments".
import sys
import numpy as np
import tensorflow as tf
keras = tf.keras
V = getattr(keras, "Variable", tf.Variable)
w = V([1.0])
opt = keras.optimizers.SGD(learning_rate=lambda: 0.5)
try:
    opt.apply_gradients([(tf.constant([1.0]), w)])
except TypeError as e:
    print("SGD(learning_rate=lambda: 0.5).apply_gradients raised TypeError:", e)
    sys.exit(1)
print("zero-argument callable accepted; w =", np.asarray(w))
sys.exit(int(not np.allclose(np.asarray(w), [0.5])))
