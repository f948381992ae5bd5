# Under MirroredStrategy the replicas' gradients are summed before the update (replica r sends r + 1: sum 3).
import sys
import numpy as np
try: import tensorflow as tf
except ImportError: sys.exit(print("not applicable: needs TensorFlow (tf.distribute.MirroredStrategy)"))
keras = tf.keras
if keras.backend.backend() != "tensorflow": sys.exit(print("not applicable: about the TensorFlow backend"))
tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    w = getattr(keras, "Variable", tf.Variable)([0.0])
    opt = keras.optimizers.SGD(learning_rate=1.0)
@tf.function
def step():
    r = tf.distribute.get_replica_context().replica_id_in_sync_group
    opt.apply_gradients([(tf.cast([r + 1], tf.float32), w)])
strategy.run(step)
got = float(np.asarray(w)[0])
print(f"SGD(1.0), two replicas with gradients 1 and 2: w = {got} (summed: -3.0)")
sys.exit(int(got != -3.0))
