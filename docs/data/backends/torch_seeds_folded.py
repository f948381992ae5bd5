"""Do two distinct integer seeds draw the same weights?  Keras 3 on torch folds seeds modulo 2**32.

Plain Keras + NumPy, no initcheck.  GlorotUniform(seed=s)((64, 32)) for the pairs (0, 2**32), (5, 5 + 2**32),
(1, 2**33 + 1).  keras/src/backend/torch/random.py seeds a torch.Generator with
`manual_seed(int(first_seed + second_seed) & 0xFFFFFFFF)`, so seeds congruent modulo 2**32 draw identical weights.
On TensorFlow Keras 3.5+ folds modulo 2**31 - 2 instead (the `seeds-folded` finding), so these pairs differ there
(0 and 2**31 - 2 collide on TensorFlow; not on torch).

Exit 0: every pair draws different weights.  Exit 1: a pair draws identical weights.
Run: KERAS_BACKEND=torch python torch_seeds_folded.py   (KERAS_BACKEND=tensorflow to contrast)
"""
import sys

import numpy as np
import keras


def draw(seed):
    return np.asarray(keras.ops.convert_to_numpy(keras.initializers.GlorotUniform(seed=seed)((64, 32))))


print(f"keras {keras.__version__}, backend {keras.config.backend()}")
same = []
for a, b in [(0, 2**32), (5, 5 + 2**32), (1, 2**33 + 1), (0, 2**31 - 2)]:
    equal = bool(np.array_equal(draw(a), draw(b)))
    print(f"seeds {a} and {b}: {'IDENTICAL' if equal else 'different'}")
    if equal and (b - a) % 2**32 == 0:
        same.append((a, b))
sys.exit(1 if same else 0)
