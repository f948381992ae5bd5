# Nadam saved after step 1 and restored into a fresh optimizer must take the same step 2 as uninterrupted Nadam.
import os, sys, tempfile
try: import tensorflow as tf
except ImportError: sys.exit(print("not applicable: needs TensorFlow (tf.train.Checkpoint)"))
keras, V = tf.keras, getattr(tf.keras, "Variable", tf.Variable)
def run(resume, grads=(tf.constant([1.0]), tf.constant([0.5]))):
    ws, opt = [V([0.1]), V([0.2])], keras.optimizers.Nadam(0.01)
    opt.apply_gradients(zip(grads, ws))
    if resume:  # save, then restore into fresh variables and a fresh optimizer
        path = tf.train.Checkpoint(opt=opt, w0=ws[0], w1=ws[1]).save(os.path.join(tempfile.mkdtemp(), "c"))
        ws, opt = [V([0.0]), V([0.0])], keras.optimizers.Nadam(0.01)
        tf.train.Checkpoint(opt=opt, w0=ws[0], w1=ws[1]).restore(path)
    opt.apply_gradients(zip(grads, ws))
    return float(ws[1].numpy()[0])
try:
    a, b = run(False), run(True)
except Exception as e:  # Keras 3.0.x optimizers are not tf.train.Checkpoint-able
    sys.exit(print("not applicable: optimizer cannot be checkpointed:", type(e).__name__, str(e).splitlines()[0][:120]))
print(f"second variable after 2 steps: uninterrupted {a!r}, resumed from checkpoint {b!r}")
sys.exit(int(abs(a - b) > 1e-6))
