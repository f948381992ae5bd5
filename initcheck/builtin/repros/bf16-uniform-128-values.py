# bfloat16 RandomUniform(-0.05, 0.05): the uniform law rounded to bfloat16 takes thousands of values; TF draws 128.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, cast = tf.keras, tf.cast
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    cast = keras.ops.cast
w = keras.initializers.RandomUniform(-0.05, 0.05, seed=0)((1000, 1000), dtype="bfloat16")
got = len(np.unique(np.asarray(cast(w, "float32"))))
ref = np.random.default_rng(0).uniform(-0.05, 0.05, 1000 * 1000)
want = len(np.unique(np.asarray(cast(cast(ref, "bfloat16"), "float32"))))
print(f"distinct bfloat16 values in 1e6 draws: Keras {got}, uniform law rounded to bfloat16 {want}")
sys.exit(int(got < want / 2))
