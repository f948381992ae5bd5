# gradient_accumulation_steps=2: documented, the weights move every 2nd call with the mean gradient.
# So after call 1 nothing (not even weight decay) may touch the weights.
import sys
import numpy as np
try: import tensorflow as tf
except ImportError: sys.exit(print("not applicable: about the TensorFlow backend (TensorFlow is not installed)"))
keras = tf.keras
if keras.backend.backend() != "tensorflow": sys.exit(print("not applicable: about the TensorFlow backend"))
try:
    opt = keras.optimizers.SGD(learning_rate=0.1, weight_decay=0.5, gradient_accumulation_steps=2)
except (TypeError, ValueError) as e:
    print("not applicable: gradient_accumulation_steps unsupported:", str(e).splitlines()[0][:100])
    sys.exit(0)
w = getattr(keras, "Variable", tf.Variable)([1.0])
opt.apply_gradients([(tf.constant([0.0]), w)])
after1 = float(np.asarray(w)[0])
opt.apply_gradients([(tf.constant([0.0]), w)])
after2, its = float(np.asarray(w)[0]), int(np.asarray(opt.iterations))
print(f"w after micro-step 1: {after1!r} (documented 1.0); after 2 calls: {after2!r} (documented 0.95); iterations = {its}")
sys.exit(int(after1 != 1.0))
