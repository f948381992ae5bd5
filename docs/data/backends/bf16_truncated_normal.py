"""HeNormal in bfloat16 against the truncated normal law rounded to bfloat16 (plain Keras + NumPy + SciPy).

HeNormal(seed=1)((1024, 1312), dtype="bfloat16") -- 1 343 488 values, the sample size of initcheck's
check_low_precision -- is compared with the law it promises, rounded to bfloat16: a truncated normal
N(0, s^2) cut at +-2 s, s = sqrt(2 / 1024) / 0.87962566103423978.  The rounded law's CDF is computed exactly at
every bfloat16 number (the mass of the normal between midpoints), so the statistic is the Kolmogorov distance
of the draw's ECDF from it, taken at the bfloat16 atoms.  The same for the float32 draw rounded to bfloat16
(what a draw in float32 followed by one rounding gives).  The DKWM bound at alpha = 1e-6 is
sqrt(ln(2 / 1e-6) / (2 n)) = 0.0033 (initcheck's threshold 0.0041 uses its own split of the error budget).

Exit 1 when the bfloat16 draw is farther than that bound from the rounded law, 0 otherwise.
"""
import math
import sys

import keras
import ml_dtypes
import numpy as np
from scipy import stats

shape, fan_in = (1024, 1312), 1024
s = math.sqrt(2.0 / fan_in) / 0.87962566103423978
law = stats.truncnorm(-2.0, 2.0, loc=0.0, scale=s)
n = shape[0] * shape[1]
bound = math.sqrt(math.log(2 / 1e-6) / (2 * n))


def distance_from_rounded_law(x_bf16: np.ndarray) -> tuple[float, int]:
    atoms, counts = np.unique(x_bf16.astype(np.float32), return_counts=True)
    ecdf = np.cumsum(counts) / x_bf16.size
    # CDF of the rounded law at each atom: mass below the midpoint to the next bfloat16 number.
    nxt = np.nextafter(atoms.astype(ml_dtypes.bfloat16), np.array(np.inf, dtype=ml_dtypes.bfloat16)).astype(np.float64)
    upper = (atoms.astype(np.float64) + nxt) / 2
    lower_prev = np.concatenate([[-np.inf], upper[:-1]])
    cdf = law.cdf(upper)
    cdf_prev = law.cdf(lower_prev)
    d = max(np.max(np.abs(ecdf - cdf)), np.max(np.abs(np.concatenate([[0.0], ecdf[:-1]]) - cdf_prev)))
    return float(d), int(atoms.size)


init = keras.initializers.HeNormal(seed=1)
bf = np.asarray(init(shape, dtype="bfloat16")).reshape(-1)
f32 = np.asarray(keras.initializers.HeNormal(seed=1)(shape, dtype="float32")).reshape(-1).astype(ml_dtypes.bfloat16)
d_bf, k_bf = distance_from_rounded_law(bf)
d_32, k_32 = distance_from_rounded_law(f32)
print(f"backend={keras.config.backend()} keras={keras.__version__} n={n} DKWM bound (alpha 1e-6) {bound:.4f}")
print(f"  HeNormal draw in bfloat16:             distance {d_bf:.4f}, {k_bf} distinct values")
print(f"  HeNormal draw in float32, then bf16:   distance {d_32:.4f}, {k_32} distinct values")
sys.exit(int(d_bf > bound))
