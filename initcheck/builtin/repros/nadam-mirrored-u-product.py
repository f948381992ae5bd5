# Nadam under tf.distribute.MirroredStrategy (two CPUs, each replica half the gradient) must train like one device.
import sys
import numpy as np
try: import tensorflow as tf
except ImportError: sys.exit(print("not applicable: needs TensorFlow (tf.distribute.MirroredStrategy)"))
keras = tf.keras
if keras.backend.backend() != "tensorflow": sys.exit(print("not applicable: about the TensorFlow backend"))
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
def train(strategy, replicas):
    with strategy.scope():
        w = getattr(keras, "Variable", tf.Variable)([0.1])
        opt = keras.optimizers.Nadam(learning_rate=0.01)  # documented defaults: beta_1 0.9, beta_2 0.999
        opt.build([w])
    for g in (0.3, -0.2, 0.05):
        strategy.run(tf.function(lambda: opt.apply_gradients([(tf.constant([g / replicas]), w)])))
    return float(np.asarray(w)[0])
one, two = train(tf.distribute.get_strategy(), 1), train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), 2)
print(f"Nadam, 3 steps: one device w = {one!r}; MirroredStrategy(2 CPUs) w = {two!r}; relative difference {abs(two - one) / abs(one):.2g}")
sys.exit(int(abs(two - one) > 1e-5 * abs(one)))
