# A bfloat16 HeNormal draw should be the truncated normal rounded to bfloat16 (thousands of values), not 128 values.
# (Not applicable -- exit 0 -- on another backend: run with KERAS_BACKEND=jax.)
import sys
import numpy as np
import keras

backend = keras.backend.backend()  # keras.config does not exist in Keras 2
if backend != "jax":
    print(f"backend {backend}: the finding is about the JAX backend (not applicable)")
    sys.exit(0)
import ml_dtypes  # noqa: E402 (after the backend test: not every TensorFlow brings it)
shape = (1024, 1312)
bf = np.unique(np.asarray(keras.initializers.HeNormal(seed=1)(shape, dtype="bfloat16")).astype(np.float32)).size
rounded = np.unique(np.asarray(keras.initializers.HeNormal(seed=1)(shape, dtype="float32"))
                    .astype(ml_dtypes.bfloat16).astype(np.float32)).size
print(f"keras {keras.__version__}: HeNormal in bfloat16 takes {bf} distinct values; the float32 draw rounded to "
      f"bfloat16 takes {rounded}")
sys.exit(int(bf <= 256 < rounded))
