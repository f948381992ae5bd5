# On torch, distinct integer seeds must draw distinct weights; Keras 3.0-3.4 and 3.14+ seed torch's generator modulo 2**32.
import sys, numpy as np
import keras
if keras.backend.backend() != "torch":
    sys.exit(print(f"keras {keras.__version__}, backend {keras.backend.backend()}: about the torch backend (not applicable)"))
PAIRS = [(5, 5 + 2**32), (-1, 2**32 - 1), (0, 2**32)]
draw = lambda cls, seed: np.asarray(getattr(keras.initializers, cls)(seed=seed)((4, 4), dtype="float32"))
assert not np.array_equal(draw("GlorotUniform", 5), draw("GlorotUniform", 6))  # control: neighbours differ
same, raised = [], []
for cls in ("GlorotUniform", "RandomNormal", "TruncatedNormal", "Orthogonal"):
    for a, b in PAIRS:
        try:
            if np.array_equal(draw(cls, a), draw(cls, b)):
                same.append((cls, a, b))
        except RuntimeError as exc:  # 3.5-3.13: wide seeds raise instead (torch-seed-int32-overflow)
            raised.append(f"{cls}({b}): {exc}")
print(f"keras {keras.__version__}: identical draws for {len(same)} of {4 * len(PAIRS)} pairs "
      f"{sorted({(a, b) for _, a, b in same})}; {len(raised)} raised{' e.g. ' + raised[0] if raised else ''}")
sys.exit(int(bool(same)))
