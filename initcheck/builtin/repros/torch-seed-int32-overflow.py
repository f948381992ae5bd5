# On torch a Python-int seed of 2**31 or more must draw or raise a clear error; Keras 3.5-3.13 raise torch's int32 RuntimeError.
import sys
import keras
if keras.backend.backend() != "torch":
    sys.exit(print(f"keras {keras.__version__}, backend {keras.backend.backend()}: about the torch backend (not applicable)"))
keras.initializers.GlorotUniform(seed=2**31 - 1)((4, 4))  # control: the largest int32 seed draws
outcomes = {}
for seed in (2**31, 2**32 + 5, -2**31 - 1):
    try:
        keras.initializers.GlorotUniform(seed=seed)((4, 4))
        outcomes[seed] = "draws"
    except (ValueError, TypeError, OverflowError) as exc:
        outcomes[seed] = f"clear {type(exc).__name__}"
    except RuntimeError as exc:
        outcomes[seed] = f"RuntimeError: {exc}"
print(f"keras {keras.__version__}: {outcomes}")
sys.exit(int(any(v.startswith("RuntimeError") for v in outcomes.values())))
