# Keras Ftrl docstring: w = (sgn(z) l1 - z) / ((beta + sqrt(n)) / alpha + lambda_2). One step, l1 = 0, l2 = 1.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, const, V = tf.keras, tf.constant, getattr(tf.keras, "Variable", tf.Variable)
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    const, V = keras.ops.convert_to_tensor, keras.Variable
w = V([0.5])
opt = keras.optimizers.Ftrl(learning_rate=0.5, initial_accumulator_value=0.25, l2_regularization_strength=1.0)
opt.apply_gradients([(const([1.0]), w)])
n0, g, w0, lr, l2 = 0.25, 1.0, 0.5, 0.5, 1.0
n = n0 + g * g
z = g - (np.sqrt(n) - np.sqrt(n0)) / lr * w0
doc, doubled = -z / (np.sqrt(n) / lr + l2), -z / (np.sqrt(n) / lr + 2 * l2)
got = float(np.asarray(w)[0])
print(f"Ftrl w after one step: Keras {got:.7f} | docstring (lambda_2) {doc:.7f} | with 2*lambda_2 {doubled:.7f}")
sys.exit(int(abs(got - doc) > 1e-6))
