# On the torch backend keras.random.truncated_normal -- and so every truncated-normal initializer -- must return the
# dtype it is asked for, like every other draw.  (Not applicable -- exit 0 -- on another backend.)
import sys
import keras
if keras.backend.backend() != "torch":
    sys.exit(print(f"keras {keras.__version__}, backend {keras.backend.backend()}: about the torch backend (not applicable)"))
asked = ("float16", "bfloat16", "float64")
got = {dt: str(keras.random.truncated_normal((4, 4), dtype=dt, seed=0).dtype).replace("torch.", "") for dt in asked}
he = str(keras.initializers.HeNormal(seed=0)((4, 4), dtype="float64").dtype).replace("torch.", "")
print(f"keras {keras.__version__}: truncated_normal(dtype=...) -> {got}; HeNormal(dtype='float64') -> {he}")
sys.exit(int(any(got[dt] != dt for dt in asked) or he != "float64"))
