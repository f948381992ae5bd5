# seed=0 is a seed: two GlorotUniform(seed=0) (or a config clone) must draw the same values.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras = tf.keras
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
a = keras.initializers.GlorotUniform(seed=0)
b = keras.initializers.GlorotUniform(seed=0)
c = keras.initializers.GlorotUniform.from_config(a.get_config())
same_b = np.array_equal(np.asarray(a((4, 4))), np.asarray(b((4, 4))))
same_c = np.array_equal(np.asarray(a((4, 4))), np.asarray(c((4, 4))))
print("seed stored:", a.get_config()["seed"], "| two instances equal:", same_b, "| config clone equal:", same_c)
sys.exit(int(not (same_b and same_c)))
