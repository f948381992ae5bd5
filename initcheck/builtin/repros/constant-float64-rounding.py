# Constant(-0.3) asked for float64 should hold the float64 value -0.3, not float32(-0.3).
import sys
import numpy as np
try:
    import tensorflow as tf
    keras = tf.keras
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
v = float(np.asarray(keras.initializers.Constant(-0.3)((1,), dtype="float64"))[0])
print("Constant(-0.3)((1,), dtype='float64') ->", repr(v), "| float32(-0.3) =", repr(float(np.float32(-0.3))))
sys.exit(int(v != -0.3))
