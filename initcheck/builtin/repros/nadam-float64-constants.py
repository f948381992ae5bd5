# Nadam on a float64 variable: its momentum schedule mu_t = beta_1 * (1 - 0.5 * 0.96**t) should be float64.
# One step, float32-exact inputs (beta_1 = beta_2 = 0.5, epsilon = 2**-20, lr = 0.125, w = 0.1, g = 0.003).
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, const, V = tf.keras, tf.constant, getattr(tf.keras, "Variable", tf.Variable)
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    const, V = keras.ops.convert_to_tensor, keras.Variable
w = V(np.array([0.1]), dtype="float64")
keras.optimizers.Nadam(0.125, beta_1=0.5, beta_2=0.5, epsilon=2**-20).apply_gradients([(const([0.003], "float64"), w)])
def nadam_step(d, d_product, b=0.5, g=0.003, lr=0.125, eps=2**-20):  # t = 1; d: the 0.96 in mu_1, mu_2; d_product: in mu_1 of the product
    u1, u2, p1 = b * (1 - 0.5 * d), b * (1 - 0.5 * d**2), b * (1 - 0.5 * d_product)
    m_hat = u2 * (1 - b) * g / (1 - p1 * u2) + (1 - u1) * g / (1 - p1)
    return lr * m_hat / (np.sqrt((1 - b) * g * g / (1 - b)) + eps)
f32, got, doc = float(np.float32(0.96)), 0.1 - float(np.asarray(w)[0]), float(nadam_step(0.96, 0.96))
print(f"step: Keras {got!r} | documented (0.96 in float64) {doc!r} | relative error {abs(got / doc - 1):.2e}")
print(f"with float32(0.96) everywhere {float(nadam_step(f32, f32))!r} | in mu_t only {float(nadam_step(f32, 0.96))!r}")
sys.exit(int(abs(got / doc - 1) > 1e-12))
