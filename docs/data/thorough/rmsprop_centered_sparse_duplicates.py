# RMSprop(centered=True) on an IndexedSlices gradient with a repeated index: Keras 3 (TensorFlow backend) raises.
# Found by the thorough profile (check_sparse_matches_dense, seed 3). Exit 1 when the crash is there.
# Keras 3.15.1 and 3.10.0 on TF 2.21.0: InvalidArgumentError (GatherV2 "indices[0] = 3 is not in [0, 3)");
# centered=False, or unique indices: no error; tf.keras 2.12: no error (it deduplicates sparse gradients first).
import sys
import numpy as np
import tensorflow as tf
import keras

v = keras.Variable(np.zeros((1, 1), np.float32))
opt = keras.optimizers.RMSprop(learning_rate=0.06, rho=0.001, centered=True)
g = tf.IndexedSlices(values=tf.constant(np.full((2, 1), 0.1, np.float32)), indices=tf.constant([0, 0], tf.int64),
                     dense_shape=tf.constant([1, 1], tf.int64))
try:
    opt.apply_gradients([(g, v)])
except tf.errors.InvalidArgumentError as exc:
    print("keras", keras.__version__, "raised:", str(exc).splitlines()[0][:160])
    sys.exit(1)
print("keras", keras.__version__, "ok:", v.numpy().ravel())
