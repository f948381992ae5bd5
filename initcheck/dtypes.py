"""Floating-point dtypes: their grids, their roundoff, and a law rounded to them.

A check that compares values with a law, or a Keras update with a float64
reference, must know what the dtype can represent: the support's bounds
rounded to the dtype, the cell of the real line each representable value
collects, the unit roundoff that a parameter held in the dtype carries.
All of that lives here, in NumPy (``ml_dtypes`` for bfloat16), without
TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

__all__ = [
    "FLOAT_DTYPES",
    "HIGH_PRECISION",
    "LOW_PRECISION",
    "UNIT_ROUNDOFF",
    "UNIFORM_GRID_BITS",
    "affine_grid_fit",
    "MANTISSA_BITS",
    "np_dtype",
    "machine_epsilon",
    "round_to",
    "float32_exact",
    "neighbours",
    "rounded_bounds",
    "rounded_law_grid",
    "parameter_rounding_band_ks",
    "AtomCap",
    "atom_cap",
    "narrow_share",
]

#: The floating dtypes an initializer may be asked for.
FLOAT_DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")
#: Dtypes whose rounding is far below any statistical resolution of the checks.
HIGH_PRECISION: tuple[str, ...] = ("float32", "float64")
#: Dtypes whose grid is coarse enough to matter (the law is rounded to it).
LOW_PRECISION: tuple[str, ...] = ("float16", "bfloat16")
#: Unit roundoff per dtype: a value held in the dtype is off by up to this, relatively.
UNIT_ROUNDOFF: dict[str, float] = {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8, "float32": 2.0 ** -24,
                                   "float64": 2.0 ** -53}
#: Mantissa bits (without the hidden bit) per dtype: the resolution of a fixed-point generator.
MANTISSA_BITS: dict[str, int] = {"float16": 10, "bfloat16": 7, "float32": 23, "float64": 52}


def np_dtype(dtype: str) -> Any:
    """The NumPy dtype of ``dtype`` (``ml_dtypes.bfloat16`` for bfloat16)."""
    if dtype == "bfloat16":
        import ml_dtypes  # a dependency of initcheck (TF 2.13 does not bring it)

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def machine_epsilon(dtype: str) -> float:
    """Distance from 1 to the next representable value (``2 * UNIT_ROUNDOFF``)."""
    return 2.0 * UNIT_ROUNDOFF[dtype]


def round_to(x: float, dtype: str) -> float:
    """``x`` rounded to nearest in ``dtype``, as a Python float (infinities kept).

    bfloat16 goes through float32 first, as TensorFlow casts Python floats.
    """
    if not math.isfinite(x):
        return x
    return float(np.asarray(np.float64(x)).astype(np.float32 if dtype == "bfloat16" else np.float64)
                 .astype(np_dtype(dtype)).astype(np.float64))


def float32_exact(x: float) -> float:
    """``x`` rounded to the nearest float32, as a Python float.

    Hyperparameters are drawn float32-exact so a float32 optimizer and the
    float64 reference start from the *same* number; otherwise ``1 - beta^t``
    for ``beta`` near 1 differs by the rounding of ``beta`` alone.
    """
    return float(np.float32(x))


def neighbours(values: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Previous and next representable values of ``values`` (float64 in, float64 out)."""
    t = np_dtype(dtype)
    v = values.astype(t)
    up = np.nextafter(v, np.asarray(np.inf, dtype=t)).astype(np.float64)
    down = np.nextafter(v, np.asarray(-np.inf, dtype=t)).astype(np.float64)
    return down, up


def rounded_bounds(law: Any, dtype: str) -> tuple[float, float]:
    """The law's support bounds rounded to nearest in ``dtype`` (infinite bounds kept)."""
    lo, hi = law.support()
    return round_to(lo, dtype), round_to(hi, dtype)


def rounded_law_grid(law: Any, sample: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The law rounded to ``dtype`` at the values seen: ``(values, F(hi cell), F(lo cell))``.

    A representable ``v`` collects the law's mass on its round-to-nearest
    cell ``(mid(prev v, v), mid(v, next v)]``.
    """
    values = np.unique(sample)
    down, up = neighbours(values, dtype)
    hi = 0.5 * (values + up)
    lo = 0.5 * (values + down)
    cdf = law.dist().cdf
    return values, np.asarray(cdf(hi), dtype=np.float64), np.asarray(cdf(lo), dtype=np.float64)


def parameter_rounding_band_ks(law: Any, u: float) -> float:
    """``sup_x |F((x - mu)/(1 + u) + mu) - F(x)|``: the CDF moved by a scale parameter rounded by ``u``."""
    dist = law.dist()
    mu = law.mean()
    q = np.asarray(dist.ppf(np.linspace(1e-6, 1 - 1e-6, 4001)), dtype=np.float64)
    f = dist.cdf(q)
    return float(max(np.abs(dist.cdf((q - mu) / (1 + u) + mu) - f).max(),
                     np.abs(dist.cdf((q - mu) * (1 + u) + mu) - f).max()))


@dataclass(frozen=True)
class AtomCap:
    """How probable one value of ``dtype`` may be under a law: the null of the exact-tie checks.

    Every floating-point generator is discrete.  The null allows each value
    ``v`` a probability up to ``qbar(v) = max(2^-bits, F(cell(v)))``: its
    round-to-nearest cell under the law ``F`` (the law rounded to the dtype),
    or one step of a generator filling the ``bits`` mantissa bits of ``[1, 2)``
    and mapping them monotonically (TensorFlow's float32 uniforms take exactly
    ``2^23`` values of ``2^-23`` each).  ``weights`` and ``qbar`` are a
    quadrature of the law with the cap at each node (one node when the cap
    is ``2^-bits`` everywhere, as for every law centred near 0: exact).

    Attributes:
        dtype, bits: The dtype and its mantissa bits.
        weights: Probability weights of the nodes (sum 1).
        qbar: The cap at each node.
        rounded: ``E_law[F(cell(X))]``, the chance that two draws of the law
            rounded to the dtype are equal (the ideal generator's tie rate).
    """

    dtype: str
    bits: int
    weights: np.ndarray
    qbar: np.ndarray
    rounded: float

    @property
    def constant(self) -> bool:
        return self.qbar.size == 1

    def expect(self, g: Callable[[np.ndarray], np.ndarray], n: int) -> float:
        """``E_law[g(n qbar(X))]``."""
        return float(np.dot(self.weights, g(n * self.qbar)))

    def log_moment(self, j: int, n: int) -> float:
        """``log E_law[(n qbar(X))^j]`` (no overflow for large ``j``)."""
        logs = np.log(self.weights) + j * np.log(n * self.qbar)
        top = float(logs.max())
        return top + math.log(float(np.sum(np.exp(logs - top))))


def atom_cap(law: Any, dtype: str, bits: Optional[int] = None, nodes: int = 4096) -> AtomCap:
    """The :class:`AtomCap` of ``law`` in ``dtype`` (``bits`` defaults to the dtype's mantissa bits).

    ``F(cell(x)) <= f(x) spacing(x) <= |x| f(x) 2^-bits`` (a cell is at most
    one spacing wide, the spacing at most ``|x| 2^-bits``), so when ``|x| f(x)``
    stays below 1/2 on the law's quantiles the cap is ``2^-bits`` everywhere
    (uniform on ``[-L, L]``: 1/2 at the edges; normal: 0.24; the 2-sigma
    truncated normal: 0.25).  Otherwise the cap is evaluated at ``nodes``
    equal-probability quantiles, with a 1 % margin on the cell mass.
    """
    p = MANTISSA_BITS[dtype] if bits is None else int(bits)
    dist = law.dist()
    u = (np.arange(nodes) + 0.5) / nodes
    x = np.asarray(dist.ppf(u), dtype=np.float64)
    f = np.asarray(dist.pdf(x), dtype=np.float64)
    spacing = np.spacing(np.abs(x).astype(np_dtype(dtype))).astype(np.float64)
    cell = f * spacing
    step = 2.0 ** -p
    if float(np.max(np.abs(x) * f)) <= 0.5:
        return AtomCap(dtype, p, np.ones(1), np.array([step]), float(cell.mean()))
    return AtomCap(dtype, p, np.full(nodes, 1.0 / nodes), np.maximum(step, 1.01 * cell), float(cell.mean()))


def narrow_share(values: np.ndarray, dtype: str, sample: int = 65_536) -> dict[str, float]:
    """Share of (up to ``sample``) non-zero ``values`` exactly representable in each dtype narrower than ``dtype``.

    A diagnostic for lost resolution: about ``2^-(p - p')`` for values that
    fill ``dtype``'s ``p`` mantissa bits, 1.0 for values computed in the
    narrower dtype (``p'`` bits) and cast up.
    """
    x = np.asarray(values).reshape(-1)[:sample]
    x = x[x != 0].astype(np.float64)
    if not x.size:
        return {}
    out = {}
    with np.errstate(over="ignore"):
        for d in (d for d in FLOAT_DTYPES if MANTISSA_BITS[d] < MANTISSA_BITS.get(dtype, 0)):
            rounded = x.astype(np.float32 if d == "bfloat16" else np_dtype(d)).astype(np_dtype(d))
            out[d] = float(np.mean(rounded.astype(np.float64) == x))
    return out


#: Random mantissa bits of a float64 uniform draw ``u`` in ``[0, 1)`` from TensorFlow's (stateless)
#: generators: ``u = k 2^-52`` (the 52 mantissa bits of a number in ``[1, 2)``, minus 1).
UNIFORM_GRID_BITS = 52


def affine_grid_fit(x: np.ndarray, low: float, high: float, bits: int = UNIFORM_GRID_BITS) -> tuple[np.ndarray, float]:
    """Which float64 values are *exactly* ``fl(fl(k 2^-bits * fl(high - low)) + low)`` for an integer k.

    That is how a uniform generator maps its raw draw ``u = k 2^-bits`` to
    ``[low, high)`` (TensorFlow's ``stateless_uniform``: ``u * (maxval -
    minval) + minval``, two IEEE roundings).  A draw made at limits
    ``(low, high)`` is reproduced bit for bit; one made at other limits is
    reproduced only by coincidence.

    Returns:
        ``(hit, log10_chance)``: the mask of reproduced values, and
        ``log10`` of the probability that *all* of ``x`` would be reproduced
        by coincidence if they came from elsewhere -- each value's float64
        neighbourhood holds one image point per grid step ``(high - low)
        2^-bits``, i.e. a share ``min(1, ulp(x) / step)`` of the floats there.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    width = np.float64(high) - np.float64(low)
    step = float(width) * 2.0 ** -bits
    with np.errstate(all="ignore"):
        k_hat = np.round((x - low) / width * 2.0 ** bits)
        hit = np.zeros(x.shape, dtype=bool)
        for off in (-2.0, -1.0, 0.0, 1.0, 2.0):
            k = k_hat + off
            inside = (k >= 0) & (k < 2.0 ** bits)
            hit |= inside & ((k * 2.0 ** -bits) * width + np.float64(low) == x)
        share = np.minimum(1.0, np.spacing(np.abs(x)) / step) if step > 0 else np.ones_like(x)
        log10_chance = float(np.sum(np.log10(np.maximum(share, 1e-300))))
    return hit, log10_chance
