"""Does Keras 3 take the backend's *sparse* gradient in apply_gradients, as it takes tf.IndexedSlices on TensorFlow?

Plain Keras + NumPy (+ the backend's own sparse type), no initcheck.  One embedding-like variable (10 x 3,
float32); the gradient touches rows [1, 4, 7] (distinct rows: repeated rows are another matter, the
`sparse-duplicates` finding) with values g; the dense gradient is the same rows scattered.  For every
built-in optimizer at learning rate 0.1, two apply_gradients calls with the sparse gradient are compared
with two calls with the dense gradient, on fresh optimizers and variables:

* tensorflow: the sparse gradient is tf.IndexedSlices;
* torch: torch.sparse_coo_tensor (what torch.nn.Embedding(sparse=True) produces; torch's one sparse
  gradient type).  Keras's torch backend declares SUPPORTS_SPARSE_TENSORS = False
  (keras/src/backend/torch/core.py).

Exit 0: every optimizer's sparse steps equal its dense steps (rtol 1e-6).  Exit 1: one raised or differs.
Run: KERAS_BACKEND=torch python torch_sparse_gradient.py   (and KERAS_BACKEND=tensorflow to contrast)
"""
import sys
import warnings

import numpy as np
import keras

warnings.simplefilter("ignore")  # torch warns that sparse invariant checks are off
backend = keras.config.backend()
rows = np.array([1, 4, 7])
g = np.arange(1, 10, dtype=np.float32).reshape(3, 3) / 10
dense = np.zeros((10, 3), np.float32)
dense[rows] = g
w0 = np.linspace(-1, 1, 30, dtype=np.float32).reshape(10, 3)


def sparse_grad():
    if backend == "tensorflow":
        import tensorflow as tf
        return tf.IndexedSlices(tf.constant(g), tf.constant(rows, tf.int64), tf.constant([10, 3], tf.int64))
    if backend == "torch":
        import torch
        return torch.sparse_coo_tensor(torch.tensor(rows[None, :], dtype=torch.int64), torch.tensor(g), size=(10, 3))
    raise SystemExit(f"no sparse gradient type written for backend {backend}")


def run(name, grad):
    v = keras.Variable(w0.copy(), dtype="float32")
    opt = getattr(keras.optimizers, name)(0.1)
    for _ in range(2):
        opt.apply_gradients([(grad(), v)])
    return np.asarray(keras.ops.convert_to_numpy(v))


print(f"keras {keras.__version__}, backend {backend}")
bad = []
for name in ["SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Ftrl", "Lion", "Lamb",
             "Adafactor"]:
    want = run(name, lambda: keras.ops.convert_to_tensor(dense))
    try:
        have = run(name, sparse_grad)
    except Exception as exc:
        print(f"{name:10s} sparse gradient raised {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        bad.append(name)
        continue
    same = np.allclose(have, want, rtol=1e-6, atol=0)
    print(f"{name:10s} sparse steps {'equal' if same else 'DIFFER FROM'} the dense steps "
          f"(max abs diff {float(np.max(np.abs(have - want))):.3g})")
    if not same:
        bad.append(name)
print(f"{len(bad)} of 12 optimizers cannot take the sparse gradient: {', '.join(bad) or 'none'}")
sys.exit(1 if bad else 0)
