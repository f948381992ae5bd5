# Adafactor(relative_step=False, learning_rate=2.0): documented, only relative_step=True adjusts the rate.
# First step, w = [1.0], g = [1.0]: update = lr * max(eps_2, RMS(w)) * sign(g) = 2.0; Keras uses min(lr, 1/sqrt(t)) = 1.0.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, const, V = tf.keras, tf.constant, getattr(tf.keras, "Variable", tf.Variable)
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    const, V = keras.ops.convert_to_tensor, keras.Variable
w = V([1.0])
keras.optimizers.Adafactor(learning_rate=2.0, relative_step=False).apply_gradients([(const([1.0]), w)])
step = 1.0 - float(np.asarray(w)[0])
print(f"Adafactor(lr=2.0, relative_step=False) first step: {step:.6f} (documented 2.0; min(lr, 1/sqrt(1)) = 1.0)")
sys.exit(int(abs(step - 2.0) > 1e-4))
