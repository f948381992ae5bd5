# SGD(clipnorm=0.9, clipvalue=0.7): either reject the pair (ValueError) or apply both; never silently drop one.
import sys
import numpy as np
import tensorflow as tf
keras = tf.keras
V = getattr(keras, "Variable", tf.Variable)
try:
    opt = keras.optimizers.SGD(learning_rate=1.0, clipnorm=0.9, clipvalue=0.7)
except ValueError as e:
    print("rejected:", str(e).splitlines()[0][:120])
    sys.exit(0)
w = V([0.0, 0.0])
opt.apply_gradients([(tf.constant([3.0, 4.0]), w)])
step = -np.asarray(w)
print("accepted; applied step", step, "| norm only [0.54 0.72], value only [0.7 0.7], norm then value [0.54 0.7], value then norm [0.636 0.636]")
sys.exit(int(np.allclose(step, [0.54, 0.72]) or np.allclose(step, [0.7, 0.7])))
