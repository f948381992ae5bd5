# Keras 3 LossScaleOptimizer applied eagerly on the JAX backend must update like its inner optimizer.
# (Not applicable -- exit 0 -- on another backend: run with KERAS_BACKEND=jax.)
import sys
import numpy as np
import keras

backend = keras.backend.backend()  # keras.config does not exist in Keras 2
if backend != "jax":
    print(f"backend {backend}: the finding is about the JAX backend (not applicable)")
    sys.exit(0)
w = keras.Variable(np.ones(3, dtype="float32"), name="w")
opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=1000)
try:
    opt.apply_gradients([(keras.ops.convert_to_tensor(np.full(3, 8.0, dtype="float32")), w)])
except Exception as exc:
    print(f"keras {keras.__version__}, eager apply_gradients: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    sys.exit(1)
print(f"keras {keras.__version__}, eager apply_gradients: w = {np.asarray(w)} (expected 0.9)")
sys.exit(int(not np.allclose(np.asarray(w), 0.9)))
