# gradient_accumulation_steps=2: documented, the weights move every 2nd call with the mean gradient.
# So after call 1 nothing (not even weight decay) may touch the weights.  (tf.keras where TensorFlow is installed.)
import sys
import numpy as np
try: import tensorflow as tf; keras = tf.keras
except ImportError: import keras  # Keras 3 on JAX or torch: the accumulation lives in the backend-neutral optimizer
try:
    opt = keras.optimizers.SGD(learning_rate=0.1, weight_decay=0.5, gradient_accumulation_steps=2)
except (TypeError, ValueError) as e:
    print("not applicable: gradient_accumulation_steps unsupported:", str(e).splitlines()[0][:100])
    sys.exit(0)
w = keras.Variable(np.array([1.0], dtype="float32"))
zero = keras.ops.convert_to_tensor(np.zeros(1, dtype="float32"))
opt.apply_gradients([(zero, w)])
after1 = float(np.asarray(keras.ops.convert_to_numpy(w))[0])
opt.apply_gradients([(zero, w)])
after2, its = float(np.asarray(keras.ops.convert_to_numpy(w))[0]), int(keras.ops.convert_to_numpy(opt.iterations))
print(f"backend {keras.backend.backend()}: w after micro-step 1: {after1!r} (documented 1.0); "
      f"after 2 calls: {after2!r} (documented 0.95); iterations = {its}")
sys.exit(int(after1 != 1.0))
