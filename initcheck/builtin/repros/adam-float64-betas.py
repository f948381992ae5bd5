# Adam() on a float64 variable: the documented betas 0.9 and 0.999 should enter in float64.
# Keras updates the moments with the Python floats (1 - beta) but casts beta itself through float32 for the bias corrections.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, const, V = tf.keras, tf.constant, getattr(tf.keras, "Variable", tf.Variable)
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    const, V = keras.ops.convert_to_tensor, keras.Variable
w = V(np.array([0.1]), dtype="float64")
keras.optimizers.Adam(learning_rate=0.125).apply_gradients([(const([0.003], "float64"), w)])
def adam_step(b1, b2, c1, c2, lr=0.125, g=0.003, eps=1e-7):  # documented epsilon-hat form, t = 1; c = betas of the corrections
    return lr * np.sqrt(1 - c2) / (1 - c1) * ((1 - b1) * g) / (np.sqrt((1 - b2) * g * g) + eps)
got = 0.1 - float(np.asarray(w)[0])
doc = float(adam_step(0.9, 0.999, 0.9, 0.999))
f32 = float(adam_step(0.9, 0.999, float(np.float32(0.9)), float(np.float32(0.999))))
print(f"step: Keras {got!r} | documented (float64) {doc!r} | bias corrections with float32(beta) {f32!r}")
print(f"relative error vs documented {abs(got / doc - 1):.2e}; vs float32-beta corrections {abs(got / f32 - 1):.2e}")
sys.exit(int(abs(got / doc - 1) > 1e-9))
