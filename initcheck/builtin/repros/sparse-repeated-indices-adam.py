# An IndexedSlices gradient with repeated indices means their sum: Adam must match the dense gradient.
import sys
import numpy as np
try: import tensorflow as tf
except ImportError: sys.exit(print("not applicable: needs TensorFlow (tf.IndexedSlices)"))
keras = tf.keras
if keras.backend.backend() != "tensorflow": sys.exit(print("not applicable: needs the TensorFlow backend (tf.IndexedSlices)"))
V = getattr(keras, "Variable", tf.Variable)
g = tf.IndexedSlices(tf.ones((3, 3)), tf.constant([0, 0, 2]), tf.constant([4, 3]))
sparse, dense = V(tf.ones((4, 3))), V(tf.ones((4, 3)))
keras.optimizers.Adam(learning_rate=0.1).apply_gradients([(g, sparse)])
keras.optimizers.Adam(learning_rate=0.1).apply_gradients([(tf.convert_to_tensor(g), dense)])
print("row 0 with IndexedSlices [0, 0, 2]:", np.asarray(sparse)[0, 0], "| with the dense gradient:", np.asarray(dense)[0, 0])
sys.exit(int(not np.allclose(np.asarray(sparse), np.asarray(dense), atol=1e-6)))
