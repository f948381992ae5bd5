"""Dependence between the entries of one kernel: partners chosen by design, and partners at random.

"i.i.d." promises more than a marginal law and uncorrelated rows
(``check_independence``, lag 1 along each axis).  Realistic bugs pair
entries that lie far apart: a "variance reduction" that makes the second half
of the kernel minus the first (antithetic copies), a block drawn once and
tiled, a smoothing leak at a stride no axis has, magnitudes reused with fresh
signs, one random scale shared by the whole kernel.

* ``check_pair_dependence`` -- a designed set of pairings (:func:`pairings`:
  neighbours, halves and quarters along every axis; power-of-two strides,
  halves, quarters and tile periods of the flattened kernel), each tested on
  ``x`` (the sum of centred products: linear dependence, copies, mirrors,
  tiles) and on ``|x|`` (agreement of the magnitudes about their median:
  dependence that lives only in magnitudes); for a law centred at 0 also the
  exact mirror pairs ``x_i = -x_j`` anywhere in the sample (the ties of
  ``|x|`` that are not ties of ``x``; sure to catch 0.008 % of the entries
  mirrored in float64, 23 % in float32, whose null allows chance mirrors).
* ``check_rank_independence`` -- every entry paired with a random partner, an
  exact rank-table test: dependence shared by all pairs of entries, of any
  shape, which no designed offset singles out.

Both run through the distribution family's runner (:func:`.distribution._marginal`)
on the pools the marginal checks draw: no extra draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from scipy import optimize as _opt

from .. import stats
from ..dtypes import atom_cap
from ..laws import Law
from ..strategies import derive_seed
from . import register_check
from ._sampling import Pool
from .distribution import EXAMPLES, _case_strategy, _marginal, iid_high
from .evidence import Evidence

__all__ = ["Pairing", "pairings", "check_pair_dependence", "check_rank_independence", "RANK_BINS"]

#: Rank classes per coordinate of the rank table (``RANK_BINS^2`` cells).
RANK_BINS = 8
#: ``derive_seed(case_seed, MATCHING_PATH)`` seeds the random matching of the rank test.
MATCHING_PATH = 0x7A1


@dataclass(frozen=True)
class Pairing:
    """Entries ``i`` and ``i + offset`` along ``axis`` (within its lines), or over the flattened kernel (``None``)."""

    name: str
    offset: int
    axis: Optional[int]
    why: str


def pairings(shape: tuple[int, ...]) -> list[Pairing]:
    """The designed pairings of a kernel of ``shape`` (flattened in C order, ``L`` entries).

    * along each axis: neighbours, half and a quarter of the axis apart
      (rows, columns and channels tiled or mirrored);
    * over the flattened kernel: every power-of-two stride up to ``L / 2``
      (the halves and quarters of a power-of-two kernel; strides such as 64
      that no axis has), ``L // 2``, ``ceil(L / 2)``, ``L // 4``,
      ``ceil(L / 4)`` and ``3L // 4`` (antithetic halves, tiled blocks).

    Every pairing is a union of paths ``i, i + d, i + 2d, ...``: a forest,
    which the sign-symmetry bound of :func:`initcheck.stats.pair_product_test`
    needs.  A pairing equal to an earlier one is dropped.
    """
    shape = tuple(int(s) for s in shape)
    size = math.prod(shape) if shape else 1
    inner = [math.prod(shape[a + 1:]) for a in range(len(shape))]
    seen: set = set()
    out: list[Pairing] = []

    def add(name: str, offset: int, axis: Optional[int], why: str) -> None:
        limit = size if axis is None else shape[axis]
        if not 1 <= offset < limit:
            return
        # the leading axis' lines cover the kernel: an offset along it is a flat stride
        key = ("flat", offset) if axis is None else ("flat", offset * inner[0]) if axis == 0 else (axis, offset)
        if key not in seen:
            seen.add(key)
            out.append(Pairing(name, int(offset), axis, why))

    for a, s in enumerate(shape):
        add(f"axis{a}_lag1", 1, a, "neighbours along the axis")
        add(f"axis{a}_half", s // 2, a, "half the axis apart (halves tiled or mirrored)")
        add(f"axis{a}_quarter", s // 4, a, "a quarter of the axis apart (quarters tiled)")
    d = 1
    while 2 * d <= size:
        add(f"flat_stride_{d}", d, None, "power-of-two stride of the flattened kernel")
        d *= 2
    add("flat_half", size // 2, None, "second half against the first (antithetic or tiled halves)")
    add("flat_half_ceil", -(-size // 2), None, "period ceil(L/2): a half block tiled")
    add("flat_quarter", size // 4, None, "quarters of the flattened kernel")
    add("flat_quarter_ceil", -(-size // 4), None, "period ceil(L/4): a quarter block tiled")
    add("flat_three_quarters", (3 * size) // 4, None, "first quarter against the last")
    return out


def _views(arr: np.ndarray, shape: tuple[int, ...], p: Pairing) -> tuple[np.ndarray, np.ndarray]:
    """Left and right members of every pair of ``p`` in a stack ``(draws, *shape)`` (views, no copy)."""
    k = arr.shape[0]
    if p.axis is None:
        flat = arr.reshape(k, -1)
        return flat[:, :-p.offset], flat[:, p.offset:]
    outer = k * math.prod(shape[:p.axis])
    v = arr.reshape(outer, shape[p.axis], -1)
    return v[:, :-p.offset, :], v[:, p.offset:, :]


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    sub = "ij,ij->" if a.ndim == 2 else "ijk,ijk->"
    return float(np.einsum(sub, a, b))


def _symmetric(law: Law) -> bool:
    """Is the law symmetric about its mean (the sign-symmetry bound applies)?"""
    dist, c = law.dist(), law.mean()
    q = np.asarray(dist.ppf([0.01, 0.1, 0.3, 0.45]), dtype=np.float64)
    return bool(np.allclose(dist.cdf(2 * c - q), 1 - np.array([0.01, 0.1, 0.3, 0.45]), rtol=0, atol=1e-12))


def _abs_median(law: Law) -> float:
    """The law's median of ``|X - mean|``."""
    dist, c = law.dist(), law.mean()
    if _symmetric(law):
        return float(dist.ppf(0.75)) - c
    hi = float(max(abs(dist.ppf(1e-9) - c), abs(dist.isf(1e-9) - c)))
    return float(_opt.brentq(lambda m: float(dist.cdf(c + m) - dist.cdf(c - m)) - 0.5, 0.0, hi))


def _designed(spec: Any, case: dict, pool: Pool, n: int, law: Law, b: Any) -> tuple[list, dict]:
    shape = tuple(int(s) for s in case["shape"])
    design = pairings(shape)
    center = law.mean()
    mirrors = center == 0.0
    k = 2 * len(design) + int(mirrors)
    a_each = b.alpha / k
    y = pool.stack(n) - center
    y2 = y * y
    u = np.where(np.abs(y) > _abs_median(law), np.float32(1), np.float32(-1))
    variance = None if _symmetric(law) else law.variance()
    results = []
    for p in design:
        left, right = _views(y, shape, p)
        s_xy = _dot(left, right)
        s_aa = _dot(*_views(y2, shape, p))
        pairs = left.size
        where = {"offset": p.offset, "axis": p.axis, "why": p.why}
        results.append(stats.pair_product_test(f"pairs_x_{p.name}", s_xy, s_aa, pairs, a_each, b.beta,
                                               variance=variance,
                                               observed={"correlation": s_xy / (pairs * law.variance()), **where}))
        agree = (pairs + _dot(*_views(u, shape, p))) / 2.0
        results.append(stats.sign_agreement_test(f"pairs_abs_{p.name}", int(round(agree)), pairs, a_each, b.beta,
                                                 observed=where))
    extra: dict[str, Any] = {"pairings": len(design), "alpha_split": k, "center": center}
    if mirrors:
        ties = pool.ties(stats.default_plan(law.excess_kurtosis()).requirements["atoms"])
        cap = atom_cap(law, case["dtype"])
        c, _ = stats.multiplicity_threshold(ties.n, lambda j: cap.log_moment(j, ties.n), b.alpha)
        results.append(stats.mirror_test(ties, cap, a_each, b.beta, truncate=c - 1))
    else:
        extra["mirror_pairs"] = "not tested: the law is not centred at 0"
    return results, extra


def _rank(spec: Any, case: dict, pool: Pool, n: int, law: Law, b: Any) -> tuple[list, dict]:
    stack = pool.stack(n)
    flat = stack.reshape(stack.shape[0], -1)
    size = flat.shape[1] - flat.shape[1] % 2
    rng = np.random.default_rng(derive_seed(int(case["seed"]), MATCHING_PATH))
    perm = rng.permutation(flat.shape[1])[:size]
    left, right = flat[:, perm[0::2]].reshape(-1), flat[:, perm[1::2]].reshape(-1)
    pairs = left.size - left.size % RANK_BINS
    table = np.bincount(stats.rank_classes(left[:pairs], RANK_BINS, rng) * RANK_BINS
                        + stats.rank_classes(right[:pairs], RANK_BINS, rng), minlength=RANK_BINS ** 2)
    result = stats.rank_table_test(table.reshape(RANK_BINS, RANK_BINS), b.alpha, b.beta)
    return [result], {"matching": f"numpy.random.default_rng(derive_seed(case_seed, {MATCHING_PATH})): a "
                                  "permutation pairs the entries, two more order the ties of each coordinate",
                      "alpha_split": RANK_BINS ** 2}


def _dependence(plan: stats.Plan) -> int:
    return plan.requirements["dependence"]


def _register() -> Any:
    return register_check(kind="initializer", family="distribution", applies=iid_high, strategy=_case_strategy,
                          examples=EXAMPLES, statistical=True)


@_register()
def check_pair_dependence(spec: Any, case: dict) -> Evidence:
    """Designed partners are independent: halves, quarters, strides, tiles, on ``x`` and on ``|x|``.

    ``alpha`` is split over ``2 x pairings`` (+ 1 for the mirror count of a
    law centred at 0).  On ``x``: the sign-symmetry bound of
    :func:`initcheck.stats.pair_product_test`, sure (``1 - beta``) to catch a
    correlation of 0.01 between partners on half of the kernel's entries at
    the planned ``n`` (0.0071 on neighbours, 0.014 on a quarter); on ``|x|``:
    an exact binomial count, sure to catch a quadrant association of 0.0097 on
    half the entries.  Antithetic halves (correlation -1), tiles (+1) and
    magnitudes copied with fresh signs are far beyond that.
    """
    return _marginal(spec, case, _dependence, _designed, "pair dependence")


@_register()
def check_rank_independence(spec: Any, case: dict) -> Evidence:
    """Entries paired at random are independent (exact hypergeometric cells of an 8 x 8 rank table).

    Sees any dependence shared by all pairs of entries of a kernel -- a
    random scale or offset drawn once per kernel, non-monotone links -- that
    no designed offset singles out; sure to catch a Gaussian-copula
    correlation of about 0.025 between all pairs at the planned ``n``.
    """
    return _marginal(spec, case, _dependence, _rank, "rank independence")
