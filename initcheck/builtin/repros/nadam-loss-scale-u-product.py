# Keras 3 Nadam inside a LossScaleOptimizer, stepped as Keras's JAX trainer steps it (stateless_apply under
# jax.jit), must train like Nadam.  (Not applicable -- exit 0 -- off JAX: run with KERAS_BACKEND=jax.)
import sys
import numpy as np
import keras
if keras.backend.backend() != "jax" or not hasattr(keras.optimizers, "LossScaleOptimizer"):
    sys.exit(print(f"keras {keras.__version__}, backend {keras.backend.backend()}: about Keras 3 on JAX (not applicable)"))
import jax
def train(wrapped):
    w, opt = keras.Variable(np.ones(3, dtype="float32")), keras.optimizers.Nadam(0.01, beta_1=0.25, beta_2=0.0, epsilon=1e-8)
    opt = keras.optimizers.LossScaleOptimizer(opt, initial_scale=1.0) if wrapped else opt
    opt.build([w])
    step = jax.jit(lambda opt_vars, train_vars, grads: opt.stateless_apply(opt_vars, grads, train_vars))
    train_vars, opt_vars = [w.value], [v.value for v in opt.variables]
    for _ in range(2):  # the same gradient twice
        train_vars, opt_vars = step(opt_vars, train_vars, [keras.ops.convert_to_tensor(np.array([1.0, -2.0, 0.5], "float32"))])
    return np.asarray(train_vars[0])
plain, wrapped = train(False), train(True)
print(f"keras {keras.__version__}, two jitted stateless steps: Nadam w = {plain}, LossScaleOptimizer(Nadam) w = {wrapped}")
sys.exit(int(not np.allclose(plain, wrapped, rtol=1e-6, atol=0)))
