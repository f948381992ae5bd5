# Orthogonal(dtype="bfloat16") should return a bfloat16 orthogonal matrix; TF's Qr op has no bfloat16 kernel.
import sys
import numpy as np
try:
    import tensorflow as tf
    keras, cast = tf.keras, tf.cast
except ImportError:  # Keras 3 on JAX or PyTorch without TensorFlow
    import keras
    cast = keras.ops.cast
try:
    w = keras.initializers.Orthogonal(seed=0)((4, 4), dtype="bfloat16")
except Exception as e:
    print("Orthogonal(seed=0)((4, 4), dtype='bfloat16') raised", type(e).__name__, str(e).splitlines()[0][:160])
    sys.exit(1)
w = np.asarray(cast(w, "float32"))
err = np.abs(w.T @ w - np.eye(4)).max()
print("bfloat16 Orthogonal returned; max |W^T W - I| =", err)
sys.exit(int(err > 0.05))
