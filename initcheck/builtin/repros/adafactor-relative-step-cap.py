# Adafactor(relative_step=False, learning_rate=2.0): documented, only relative_step=True adjusts the rate.
# First step, w = [1.0], g = [1.0]: update = lr * max(eps_2, RMS(w)) * sign(g) = 2.0; Keras uses min(lr, 1/sqrt(t)) = 1.0.
import sys
import numpy as np
import tensorflow as tf
keras = tf.keras
w = getattr(keras, "Variable", tf.Variable)([1.0])
keras.optimizers.Adafactor(learning_rate=2.0, relative_step=False).apply_gradients([(tf.constant([1.0]), w)])
step = 1.0 - float(np.asarray(w)[0])
print(f"Adafactor(lr=2.0, relative_step=False) first step: {step:.6f} (documented 2.0; min(lr, 1/sqrt(1)) = 1.0)")
sys.exit(int(abs(step - 2.0) > 1e-4))
