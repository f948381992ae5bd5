# SGD(clipnorm=0.9, clipvalue=0.7): either reject the pair (ValueError) or apply both; never silently drop one.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, const, V = tf.keras, tf.constant, getattr(tf.keras, "Variable", tf.Variable)
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    const, V = keras.ops.convert_to_tensor, keras.Variable
try:
    opt = keras.optimizers.SGD(learning_rate=1.0, clipnorm=0.9, clipvalue=0.7)
except ValueError as e:
    print("rejected:", str(e).splitlines()[0][:120])
    sys.exit(0)
w = V([0.0, 0.0])
opt.apply_gradients([(const([3.0, 4.0]), w)])
step = -np.asarray(w)
print("accepted; applied step", step, "| norm only [0.54 0.72], value only [0.7 0.7], norm then value [0.54 0.7], value then norm [0.636 0.636]")
sys.exit(int(np.allclose(step, [0.54, 0.72]) or np.allclose(step, [0.7, 0.7])))
