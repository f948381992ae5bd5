# RMSprop(centered=True) on an IndexedSlices gradient with a repeated index must not raise (the rows mean their sum).
# Exit 1 when it raises InvalidArgumentError (Keras 3, TensorFlow backend); 0 otherwise (tf.keras 2 deduplicates).
import sys
import numpy as np
try: import tensorflow as tf
except ImportError: sys.exit(print("not applicable: needs TensorFlow (tf.IndexedSlices)"))
keras = tf.keras
if keras.backend.backend() != "tensorflow": sys.exit(print("not applicable: about the TensorFlow backend"))
where = f"keras {getattr(keras, '__version__', '(tf.keras)')}, tensorflow {tf.__version__}"
v = getattr(keras, "Variable", tf.Variable)(np.zeros((1, 1), np.float32))
opt = keras.optimizers.RMSprop(learning_rate=0.06, rho=0.001, centered=True)
g = tf.IndexedSlices(values=tf.constant(np.full((2, 1), 0.1, np.float32)), indices=tf.constant([0, 0], tf.int64),
                     dense_shape=tf.constant([1, 1], tf.int64))
try:
    opt.apply_gradients([(g, v)])
except tf.errors.InvalidArgumentError as exc:
    print(where, "RMSprop(centered=True), indices [0, 0]: InvalidArgumentError:", str(exc).splitlines()[0][-60:])
    sys.exit(1)
print(where, "RMSprop(centered=True), indices [0, 0]: w =", np.asarray(v).ravel())
sys.exit(0)
