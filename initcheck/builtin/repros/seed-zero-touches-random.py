# A seeded initializer must not consume Python's global `random` state.
import random
import sys
try:
    import tensorflow as tf
    keras = tf.keras
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
random.seed(1234)
before = random.getstate()
init = keras.initializers.GlorotUniform(seed=0)
init((4, 4))
touched = random.getstate() != before
print("GlorotUniform(seed=0) created and called; global random state advanced:", touched, "| stored seed:", init.get_config()["seed"])
sys.exit(int(touched))
