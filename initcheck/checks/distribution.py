"""Distribution checks for i.i.d. initializer specs: the marginal law of the values.

What each check sees (use each test for what it sees):

* ``check_law_fit`` -- the whole CDF (DKWM/KS), blind to rare outliers and
  weak on scale errors.
* ``check_variance`` / ``check_mean`` -- scale and location against the law's
  known moments (no normality assumed: the law's kurtosis sets the error).
* ``check_support`` -- no value outside the law's support rounded to the
  dtype (exact: a correct initializer never fails it).
* ``check_tails`` -- exact binomial count of values in the extreme region
  (edge cells of a bounded law, far tails of an unbounded one): five clamped
  values in a million are invisible to KS but not to this count.
* ``check_independence`` -- lag-1 correlation along every kernel axis: a
  kernel of the right marginal law whose rows are correlated.
* ``check_atoms`` -- no value repeats more often than a generator of the law
  in this dtype allows (exact): atoms anywhere -- a clamp where truncation was
  meant, saturation, a constant fallback -- too light for KS and away from
  the edges the tail count sees.
* ``check_resolution`` -- no more tied pairs and no fewer distinct values than
  the dtype's full mantissa gives (exact): values drawn or computed in
  bfloat16/float16 and cast up, uniforms built from too few random bits.
* ``check_low_precision`` -- float16/bfloat16 against the law *as the dtype
  can represent it* (the rounded law), with the support exact at the dtype.

Dependence between entries is :mod:`.dependence`'s business.

The kernels real Keras layers build are checked in :mod:`.layers`.

Every marginal check runs the same way (:func:`_marginal`, which the
dependence checks use too): the law at the case's shape, the run's budget,
the planned sample size (:func:`initcheck.stats.default_plan`), the pooled
values of the case (:mod:`._sampling`), one or more statistics, then pass or
fail with the evidence -- ``n``, threshold, ``alpha``, ``beta`` and the
smallest discrepancy guaranteed detectable at that ``n``.  The family's
checks share one case strategy (:func:`_case_strategy`) and one number of
examples, so the derandomized gate draws the same cases for all of them and
every statistic reads the same pools.  No TensorFlow import at module level.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from .. import stats
from ..dtypes import (HIGH_PRECISION, LOW_PRECISION, MANTISSA_BITS, UNIFORM_GRID_BITS, UNIT_ROUNDOFF,
                      affine_grid_fit, atom_cap, narrow_share, neighbours, parameter_rounding_band_ks, round_to,
                      rounded_bounds, rounded_law_grid)
from ..laws import Fans, Law, Uniform
from ..strategies import big_kernel_cases
from . import register_check
from ._sampling import Pool, case_shape, finite_values, pooled
from .evidence import Evidence, ok, statistical_verdict
from .figure_data import histogram_summary

__all__ = [
    "law_at", "extreme_region", "iid_high", "float64_limits_result",
    "check_law_fit", "check_variance", "check_mean", "check_support", "check_tails", "check_independence",
    "check_atoms", "check_resolution", "check_low_precision", "EXAMPLES",
]

#: Examples of every check of the family in the ``ci`` profile (one number, so that they share their cases).
EXAMPLES = 2


# --------------------------------------------------------------------------- applicability and cases

def _high(spec: Any) -> list[str]:
    return [d for d in spec.dtypes if d in HIGH_PRECISION]


def _low(spec: Any) -> list[str]:
    return [d for d in spec.dtypes if d in LOW_PRECISION]


def iid_high(spec: Any) -> bool:
    """An i.i.d. spec with a float32 or float64 dtype: the marginal checks apply."""
    return spec.has("iid") and bool(_high(spec))


def _case_strategy(spec: Any) -> Any:
    """The family's cases (one strategy for every check: derandomized alike, they share their pools)."""
    return big_kernel_cases(spec, _high(spec))


def _low_case_strategy(spec: Any) -> Any:
    return big_kernel_cases(spec, ["float32"]).map(lambda c: {**c, "dtype": "low"})


def law_at(spec: Any, shape: tuple[int, ...], fans: Optional[Fans] = None) -> Law:
    """The spec's law at ``shape``, with ``fans`` given (layer oracle) or by the spec's convention."""
    if fans is None or isinstance(spec.law, Law):
        return spec.law_for(tuple(shape))
    return spec.law(tuple(shape), fans)


# --------------------------------------------------------------------------- the one runner

#: A statistic of a marginal check: ``(spec, case, pool, n, law, budget) -> (results, extra evidence)``.
Statistic = Callable[[Any, dict, Pool, int, Law, Any], tuple[list, dict]]


def _marginal(spec: Any, case: dict, size: Callable[[stats.Plan], int], statistic: Statistic,
              what: str) -> Evidence:
    """Law -> budget -> plan -> pooled values -> statistic -> pass or fail, for one case."""
    shape = case_shape(case)
    law = law_at(spec, shape)
    b = stats.budget()
    plan = stats.default_plan(law.excess_kurtosis())
    n = size(plan)
    pool = pooled(spec, shape, case["dtype"], case["seed"])
    results, extra = statistic(spec, case, pool, n, law, b)
    data = {"law": str(law), "law_parameters": law.describe(), "seeds": pool.seeds_used(n),
            "dtype": case["dtype"], "shape": list(shape), "planned_n": dict(plan.requirements),
            "named_discrepancies": {"mean_shift_std": stats.MEAN_SHIFT, "std_relative": stats.STD_RELATIVE,
                                    "ks_sup_distance": stats.KS_DISCREPANCY, "extra_rate": stats.EXCESS_RATE},
            **extra}
    return statistical_verdict(results, case, data, what)


def _on_values(test: Callable[[np.ndarray, Law, Any], stats.TestResult]) -> Statistic:
    """A statistic of the finite pooled values; its evidence keeps their histogram, ECDF and QQ figure."""

    def statistic(spec: Any, case: dict, pool: Pool, n: int, law: Law, b: Any) -> tuple[list, dict]:
        _, x = finite_values(spec, case, n)
        return [test(x, law, b)], {"figure": histogram_summary(x, law)}

    return statistic


_ks = _on_values(lambda x, law, b: stats.ks_test(x, law.cdf, b.alpha, b.beta))
_variance = _on_values(lambda x, law, b: stats.variance_test(x, law.mean(), law.variance(), law.excess_kurtosis(),
                                                             b.alpha, b.beta))
_mean = _on_values(lambda x, law, b: stats.mean_test(x, law.mean(), math.sqrt(law.variance()), b.alpha, b.beta))


def _support(spec: Any, case: dict, pool: Pool, n: int, law: Law, b: Any) -> tuple[list, dict]:
    draws = pool.native(n)
    band = _float32_band(law, case["dtype"])
    results = [_support_result(draws, law, case["dtype"], b.beta, exclude=band)]
    if band is not None:
        results.append(_band_result(draws, law, band, b.beta))
    limits = float64_limits_result(spec, case, law, b.alpha)
    if limits is not None:
        results.append(limits)
    missing = _float64_limits_missing(spec, law)
    return results, ({"float64_limits": missing} if missing else {})


def _float64_limits_missing(spec: Any, law: Law) -> Optional[str]:
    """Why the float64-limits test of a uniform spec with float64 cannot run here (JAX without x64), or ``None``."""
    from .. import keras_compat

    if not isinstance(law, Uniform) or "float64" not in getattr(spec, "dtypes", ()):
        return None
    return keras_compat.dtype_missing("float64")


def _tails(spec: Any, case: dict, pool: Pool, n: int, law: Law, b: Any) -> tuple[list, dict]:
    region, p0, desc = extreme_region(law, case["dtype"])
    scan = _scan(pool.native(n), region)
    res = stats.excess_count_test(scan["count"], scan["n"], p0, b.alpha, b.beta, "extreme")
    res.observed.update({"min": scan["min"], "max": scan["max"], "first_extreme": scan["first"]})
    return [res], {"extreme_region": desc}


def _lag1(spec: Any, case: dict, pool: Pool, n: int, law: Law, b: Any) -> tuple[list, dict]:
    shape = case_shape(case)
    stack = pool.stack(n) - law.mean()
    axes = [a for a, s in enumerate(shape) if s >= 2]
    a_each = b.alpha / len(axes)
    thr = stats.z_two_sided(a_each)
    results = []
    for a in axes:
        ax = a + 1
        left = np.take(stack, np.arange(shape[a] - 1), axis=ax)
        right = np.take(stack, np.arange(1, shape[a]), axis=ax)
        pairs = left.size
        corr = float(np.sum(left * right) / (pairs * law.variance()))
        z = corr * math.sqrt(pairs)
        results.append(stats.TestResult(
            f"lag1_correlation_axis{a}", abs(z), thr, abs(z) <= thr, pairs, a_each, b.beta,
            (thr + stats.z_one_sided(b.beta)) / math.sqrt(pairs), "lag-1 correlation (approx.)",
            observed={"correlation": corr}, expected={"correlation": 0.0}))
    return results, {"axes": axes}


def _atoms_n(plan: stats.Plan) -> int:
    return plan.requirements["atoms"]


def _atoms(spec: Any, case: dict, pool: Pool, n: int, law: Law, b: Any) -> tuple[list, dict]:
    return [stats.multiplicity_test(pool.ties(n), atom_cap(law, case["dtype"]), b.alpha, b.beta)], {}


def _resolution(spec: Any, case: dict, pool: Pool, n: int, law: Law, b: Any) -> tuple[list, dict]:
    ties, cap = pool.ties(n), atom_cap(law, case["dtype"])
    k, _ = stats.multiplicity_threshold(ties.n, lambda j: cap.log_moment(j, ties.n), b.alpha)
    results = stats.resolution_tests(ties, cap, b.alpha, b.beta, truncate=k - 1)
    return results, {"alpha_split": 2, "representable_in_narrower_dtypes": narrow_share(pool.native(1)[0], case["dtype"])}


# --------------------------------------------------------------------------- marginal-law checks

def _register(*, examples: int = EXAMPLES) -> Callable[[Callable], Callable]:
    return register_check(kind="initializer", family="distribution", applies=iid_high, strategy=_case_strategy,
                          examples=examples, statistical=True)


@_register()
def check_law_fit(spec: Any, case: dict) -> Evidence:
    """Pooled draws follow the law's CDF (DKWM envelope at the planned n)."""
    return _marginal(spec, case, lambda plan: plan.requirements["ks"], _ks, "CDF fit")


@_register()
def check_variance(spec: Any, case: dict) -> Evidence:
    """The variance about the law's mean matches the law's (kurtosis-aware z-test)."""
    return _marginal(spec, case, lambda plan: plan.n_moments, _variance, "scale")


@_register()
def check_mean(spec: Any, case: dict) -> Evidence:
    """The sample mean matches the law's mean (z-test, std known)."""
    return _marginal(spec, case, lambda plan: plan.n_moments, _mean, "location")


@_register()
def check_support(spec: Any, case: dict) -> Evidence:
    """No value lies outside the law's support rounded to the dtype (exact; truncation honoured).

    A correct initializer never fails this (false-fail rate 0); an escape
    rate ``r`` is missed with probability ``(1 - r)^n <= exp(-r n)``.  For a
    uniform law on a spec that offers float64, a second, structural test
    (:func:`float64_limits_result`) sees escapes far too rare to count: limits
    rounded through float32 (a band of mass ~1e-8 beyond the limit).
    """
    return _marginal(spec, case, lambda plan: plan.n_tails, _support, "support")


@_register()
def check_tails(spec: Any, case: dict) -> Evidence:
    """Clamped, escaped or outlying values are no more frequent than the law allows (exact binomial)."""
    return _marginal(spec, case, lambda plan: plan.n_tails, _tails, "tail count")


@_register()
def check_independence(spec: Any, case: dict) -> Evidence:
    """Neighbouring entries along every kernel axis are uncorrelated.

    For i.i.d. entries with mean ``mu`` and variance ``s^2``, the products
    ``(x_i - mu)(x_j - mu)`` of adjacent pairs are pairwise uncorrelated with
    mean 0 and variance ``s^4``; their normalised sum is ``N(0, 1)`` by the
    CLT for m-dependent sequences.  One z-test per axis of size >= 2,
    ``alpha`` split over the axes.  Detects a lag-1 correlation ``rho`` of
    about ``(z_a + z_b) / sqrt(pairs)`` (a kernel whose rows are correlated).
    """
    if not any(s >= 2 for s in case_shape(case)):
        return ok("no axis of size >= 2: nothing to correlate", case, law=str(law_at(spec, case_shape(case))))
    return _marginal(spec, case, lambda plan: plan.n_moments, _lag1, "independence")


@_register()
def check_atoms(spec: Any, case: dict) -> Evidence:
    """No value repeats more often than the law in this dtype allows (exact bound on the largest multiplicity).

    The null: no value is more probable than the larger of its dtype cell
    under the law and one step ``2^-p`` of a generator filling the ``p``
    mantissa bits (:class:`initcheck.dtypes.AtomCap`).  The largest
    multiplicity ``M`` among the planned values (``stats.ATOM_MASS``: an
    atom of 2e-5 is sure to be caught, ~1.9 M values) exceeds ``K - 1`` with
    probability ``<= n E[(n qbar)^(K-1)] / K! <= alpha``; an atom of mass ``a``
    is caught w.p. ``>= 1 - beta`` once ``P(Bin(n, a) >= K) >= 1 - beta``
    (the evidence states that ``a`` at the ``n`` used).
    """
    return _marginal(spec, case, _atoms_n, _atoms, "atoms")


@_register()
def check_resolution(spec: Any, case: dict) -> Evidence:
    """The values carry the dtype's resolution: not too many tied pairs, not too few distinct values (exact).

    Two bounds under the null of :func:`check_atoms` (``alpha / 2`` each): the
    tied pairs with multiplicities truncated below the atom threshold, and the
    number of distinct values (:func:`initcheck.stats.resolution_tests`).  A
    fixed-point generator with one random bit fewer than float32's 23 (13
    fewer than float64's 52) is caught w.p. ``>= 1 - beta``; values computed
    in bfloat16 or float16 and cast up, far more so.
    """
    return _marginal(spec, case, _atoms_n, _resolution, "resolution")


# --------------------------------------------------------------------------- exact counts in the draws' dtype

def _scan(draws: list[np.ndarray], mask_of: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
    """Count, per draw and in the draw's own precision, the values a mask selects.

    Comparisons run in float32 (float64 for float64 draws): every bound used
    is representable in the draw's dtype, so the comparison is exact.
    """
    count, n, lo, hi, first = 0, 0, math.inf, -math.inf, []
    for d in draws:
        x = d.astype(np.float64 if d.dtype == np.float64 else np.float32, copy=False).reshape(-1)
        finite = np.isfinite(x)
        mask = mask_of(x) | ~finite
        c = int(mask.sum())
        count += c
        n += x.size
        if c and len(first) < 5:
            first += [float(v) for v in x[mask][: 5 - len(first)]]
        if finite.any():
            lo, hi = min(lo, float(x[finite].min())), max(hi, float(x[finite].max()))
    return {"count": count, "n": n, "min": lo, "max": hi, "first": first}



def _float32_band(law: Law, dtype: str) -> Optional[tuple[float, float, float, float]]:
    """``(lo32, lo, hi, hi32)`` for a float64 uniform law whose limits are not float32 numbers, else ``None``:
    the bands ``[lo32, lo)`` and ``(hi, hi32]`` where limits rounded through float32 put values."""
    if dtype != "float64" or not isinstance(law, Uniform):
        return None
    lo, hi = float(law.low), float(law.high)
    lo32, hi32 = float(np.float32(lo)), float(np.float32(hi))
    if lo32 >= lo and hi32 <= hi:
        return None
    return (min(lo32, lo), lo, hi, max(hi32, hi))


def _in_band(x: np.ndarray, band: tuple[float, float, float, float]) -> np.ndarray:
    lo32, lo, hi, hi32 = band
    return ((x >= lo32) & (x < lo)) | ((x > hi) & (x <= hi32))


def _support_result(draws: list[np.ndarray], law: Law, dtype: str, beta: float,
                    exclude: Optional[tuple[float, float, float, float]] = None) -> stats.TestResult:
    """The exact count of values outside the support (or not finite).  With ``exclude`` (the float32 band of a
    float64 uniform law), values in the band are left to :func:`_band_result`, so each escape is one part."""
    lo_d, hi_d = rounded_bounds(law, dtype)
    if exclude is None:
        scan = _scan(draws, lambda x: (x < lo_d) | (x > hi_d))
    else:
        scan = _scan(draws, lambda x: ((x < lo_d) | (x > hi_d)) & ~_in_band(x, exclude))
    count, n = scan["count"], scan["n"]
    expected = {"support": list(law.support()), "support_rounded_to_dtype": [lo_d, hi_d], "dtype": dtype}
    if exclude is not None:
        expected["band_counted_apart"] = [[exclude[0], exclude[1]], [exclude[2], exclude[3]]]
    return stats.TestResult(
        "support_exact", float(count), 0.0, count == 0, n, 0.0, beta, -math.log(beta) / n,
        "rate of values outside the support (any count > 0 fails)",
        observed={"outside_or_non_finite": count, "min": scan["min"], "max": scan["max"],
                  "first_outside": scan["first"]},
        expected=expected,
    )


def _band_result(draws: list[np.ndarray], law: Law, band: tuple[float, float, float, float],
                 beta: float) -> stats.TestResult:
    """The exact count of values in the float32 band of a float64 uniform law (outside the support, within the
    float32-rounded limits): the symptom of limits rounded through float32, counted as its own part."""
    scan = _scan(draws, lambda x: _in_band(x, band) & np.isfinite(x))
    count, n = scan["count"], scan["n"]
    return stats.TestResult(
        "support_float32_band", float(count), 0.0, count == 0, n, 0.0, beta, -math.log(beta) / n,
        "rate of values between the law's limits and their float32 roundings (any count > 0 fails)",
        observed={"in_float32_band": count, "first_in_band": scan["first"]},
        expected={"band": [[band[0], band[1]], [band[2], band[3]]], "band_mass_under_law": 0.0},
    )


def float64_limits_result(spec: Any, case: dict, law: Law, alpha: float) -> Optional[stats.TestResult]:
    """Are the float64 draws made at the law's limits, or at limits rounded through float32?

    Why a structural test.  A generator that computes its float64 draws
    from ``float32(low)``, ``float32(high)`` (Keras 3's TensorFlow backend:
    ``tf.cast`` of a Python float makes a float32 tensor first) puts the mass
    ``|float32(high) - high| / (high - low)``, about 1e-8, in the band
    ``(high, float32(high)]`` (and likewise below ``low``): values the law
    forbids.  The exact count of :func:`_support_result` is right but blind
    there -- at n ~ 1e7 a band of mass 1e-8 is seen with probability 0.1,
    i.e. only by seed luck (a thorough run once did: 0.00956831949172695 above
    the GlorotUniform limit 0.009568319307746789).  No sample size a check can
    afford changes that.

    What it tests.  Uniform generators map a raw draw ``u = k 2^-52`` to
    ``fl(fl(u (high - low)) + low)`` (TensorFlow's ``stateless_uniform``).
    Each float64 value of one draw of the case's kernel (its shape and seed,
    in float64 whatever the case's dtype) is decoded against two hypotheses
    (:func:`~initcheck.dtypes.affine_grid_fit`): the law's limits (within
    one ulp each) and the float32-rounded limits.  A generator of that form
    reproduces *every* value bit for bit at the limits it really used.

    Verdict.  Fails only when the float32-rounded limits reproduce every
    value and the law's limits do not.  Power: such a generator is caught
    with probability 1 whatever the seed and n, at every case whose limits
    are not float32 numbers (the ``ci`` profile included).  False fail: a
    correct generator of another form would have to land on the float32
    hypothesis's grid by coincidence at every value; the probability of that
    is computed from the values (``log10_false_fail``; below ``10^-8000`` at
    n = 2^15) and the test fails only where it is below the check's
    ``alpha``.  A generator of another form passes the test as *not
    applicable* (reported): the exact count still stands.  Limits that are
    float32 numbers leave nothing to test.  ``None`` for other laws and
    specs without float64, and where float64 is not available (JAX without
    ``JAX_ENABLE_X64=1``; ``check_support`` reports why in its evidence).
    """
    if not isinstance(law, Uniform) or "float64" not in getattr(spec, "dtypes", ()):
        return None
    if _float64_limits_missing(spec, law):  # no float64 draw on this backend (JAX without x64): reported
        return None
    lo, hi = float(law.low), float(law.high)
    lo32, hi32 = float(np.float32(lo)), float(np.float32(hi))
    x = pooled(spec, case_shape(case), "float64", case["seed"]).native(1)[0]
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    x = x[np.isfinite(x)]
    n = int(x.size)
    band = int(np.sum(_in_band(x, (lo32, lo, hi, hi32))))
    law_fit = 0.0
    for a in (lo, float(np.nextafter(lo, -np.inf)), float(np.nextafter(lo, np.inf))):
        for c in (hi, float(np.nextafter(hi, np.inf)), float(np.nextafter(hi, -np.inf))):
            law_fit = max(law_fit, float(affine_grid_fit(x, a, c)[0].mean()) if n else 0.0)
    rel = max(abs(hi32 - hi), abs(lo32 - lo)) / (hi - lo)
    observed: dict[str, Any] = {"values": n, "decoded_at_law_limits": law_fit, "band_count": band,
                                "float32_limits": [lo32, hi32]}
    if lo32 == lo and hi32 == hi:
        f32_hits, log10_chance, applicable = 0, 0.0, "limits are float32 numbers: nothing to test"
    else:
        hit, log10_chance = affine_grid_fit(x, lo32, hi32)
        f32_hits = int(hit.sum())
        observed["decoded_at_float32_limits"] = f32_hits / n if n else 0.0
        if law_fit == 1.0:
            applicable = "every value decoded at the law's limits"
        elif f32_hits == n:
            applicable = "every value decoded at the float32-rounded limits"
        else:
            applicable = (f"not applicable: the generator is not u*(high-low)+low on a 2^-{UNIFORM_GRID_BITS} grid "
                          "at either limits (the exact count stands)")
    observed["log10_false_fail"] = log10_chance
    observed["verdict"] = applicable
    failed = n > 0 and law_fit < 1.0 and f32_hits == n and log10_chance < math.log10(alpha)
    return stats.TestResult(
        "float64_limits_rounded_through_float32", float(f32_hits if law_fit < 1.0 else 0), float(n - 1), not failed,
        n, 10.0 ** max(log10_chance, -300.0), 0.0, rel,
        "relative rounding of a limit through float32 (decoded from every value; caught with probability 1)",
        observed=observed,
        expected={"limits": [lo, hi], "band": [[lo32, lo], [hi, hi32]], "band_mass_under_law": 0.0},
    )


def extreme_region(law: Law, dtype: str) -> tuple[Callable[[np.ndarray], np.ndarray], float, dict[str, Any]]:
    """The law's "extreme" region, its probability under the law, and a description.

    A finite support bound contributes its edge cell -- the values equal to
    the bound rounded to ``dtype`` -- with the larger of the rounded law's
    cell mass and one step ``2^-p`` of a ``p``-mantissa-bit fixed-point
    generator (standard uniform generators fill the mantissa of ``[1, 2)``
    and hit the lower bound with that probability).  An infinite side
    contributes the tail beyond the quantile of mass ``TAIL_NULL_RATE / 2``.
    """
    lo, hi = law.support()
    dist = law.dist()
    atom = 2.0 ** -MANTISSA_BITS[dtype]
    parts: list[Callable[[np.ndarray], np.ndarray]] = []
    p0 = 0.0
    desc: dict[str, Any] = {}
    if math.isfinite(lo):
        lo_d = round_to(lo, dtype)
        _, nxt = neighbours(np.array([lo_d]), dtype)
        p = max(float(dist.cdf(0.5 * (lo_d + nxt[0]))), atom)
        parts.append(lambda x, v=lo_d: x <= v)
        desc["lower"] = {"edge_value": lo_d, "p0": p}
    else:
        t = float(dist.ppf(stats.TAIL_NULL_RATE / 2))
        p = stats.TAIL_NULL_RATE / 2
        parts.append(lambda x, v=t: x < v)
        desc["lower"] = {"tail_below": t, "p0": p}
    p0 += p
    if math.isfinite(hi):
        hi_d = round_to(hi, dtype)
        prv, _ = neighbours(np.array([hi_d]), dtype)
        p = max(float(dist.sf(0.5 * (hi_d + prv[0]))), atom)
        parts.append(lambda x, v=hi_d: x >= v)
        desc["upper"] = {"edge_value": hi_d, "p0": p}
    else:
        t = float(dist.isf(stats.TAIL_NULL_RATE / 2))
        p = stats.TAIL_NULL_RATE / 2
        parts.append(lambda x, v=t: x > v)
        desc["upper"] = {"tail_above": t, "p0": p}
    p0 += p
    return (lambda x: parts[0](x) | parts[1](x)), p0, desc



# --------------------------------------------------------------------------- low precision

@register_check(kind="initializer", family="distribution",
                applies=lambda spec: spec.has("iid") and bool(_low(spec)), strategy=_low_case_strategy,
                examples=1, statistical=True)
def check_low_precision(spec: Any, case: dict) -> Evidence:
    """float16/bfloat16 draws follow the law *as the dtype represents it* (rounded law).

    For each low-precision dtype of the spec: the support is exact at the
    dtype (bounds rounded to nearest), the empirical CDF is compared with the
    rounded law's CDF on the representable grid (DKWM), and the variance with
    the law's (the rounding changes it by ~ulp^2/12, below 1e-5 relative,
    far under the test's resolution).
    """
    shape = case_shape(case)
    law = law_at(spec, shape)
    b = stats.budget()
    dtypes = _low(spec)
    k = 2 * len(dtypes)
    a_each = b.alpha / k
    plan = stats.default_plan(law.excess_kurtosis(), alpha=a_each)
    n = plan.n_moments
    results: list[stats.TestResult] = []
    seeds_used: dict[str, Any] = {}
    for dtype in dtypes:
        pool = pooled(spec, shape, dtype, case["seed"])
        sup = _support_result(pool.native(n), law, dtype, b.beta)
        if not sup.passed:
            results.append(sup)
            break
        x = pool.values(n)
        seeds_used[dtype] = pool.seeds_used(n)
        sup.name = f"support_exact_{dtype}"
        u = UNIT_ROUNDOFF[dtype]
        ks = stats.ks_test(x, law.cdf, a_each, b.beta, grid=rounded_law_grid(law, x, dtype))
        ks.name = f"dkwm_rounded_law_{dtype}"
        band_ks = parameter_rounding_band_ks(law, u)
        ks.threshold += band_ks
        ks.passed = ks.statistic <= ks.threshold
        ks.smallest_detectable += band_ks
        ks.expected["parameter_rounding_band"] = band_ks
        var = stats.variance_test(x, law.mean(), law.variance(), law.excess_kurtosis(), a_each, b.beta)
        se = stats.variance_se(var.n, law.excess_kurtosis())
        band_var = (1.0 + u) ** 2 - 1.0
        rel = var.observed["variance"] / law.variance() - 1.0
        var.name = f"variance_{dtype}"
        var.statistic, var.threshold = abs(rel), var.threshold * se + band_var
        var.passed = var.statistic <= var.threshold
        var.smallest_detectable += band_var
        var.discrepancy_unit = "|var/var_law - 1| (z-test widened by the parameter rounding band)"
        var.expected["parameter_rounding_band"] = band_var
        results += [sup, ks, var]
    data = {"law": str(law), "law_parameters": law.describe(), "seeds": seeds_used, "dtypes": dtypes,
            "shape": list(shape), "alpha_split": k}
    return statistical_verdict(results, case, data, "low-precision law")
