# A model whose Dense layer uses the Identity initializer must save and load.
import os
import sys
import tempfile
try:
    import tensorflow as tf
    keras = tf.keras
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, kernel_initializer=keras.initializers.Identity())])
path = os.path.join(tempfile.mkdtemp(), "m.keras")
model.save(path)
try:
    keras.models.load_model(path)
except Exception as e:
    print("load_model failed:", type(e).__name__, str(e).replace("\n", " ")[:200])
    sys.exit(1)
print("saved and loaded a model using Identity()")
