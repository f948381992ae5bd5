"""Distribution checks for i.i.d. initializer specs.

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
* ``check_low_precision`` -- float16/bfloat16 against the law *as the dtype
  can represent it* (the rounded law), with the support exact at the dtype.
* ``check_layer_variance_<kind>`` -- the kernel a real Keras layer builds
  with the initializer, against the law evaluated at the layer's *true* fans
  (:mod:`initcheck.fans`), not at Keras's shape convention.

Sample sizes come from :func:`initcheck.stats.default_plan`; every evidence
states ``n``, the threshold, ``alpha``, ``beta`` and the smallest discrepancy
guaranteed detectable at that ``n``.  Values are pooled over seeded draws of
the case's kernel shape (:class:`Pool`).  No TensorFlow import at module level.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import stats
from ..cases import seeds
from ..evidence import CheckFailure, Evidence
from ..fans import (Fans, conv_fans, conv_transpose_fans, dense_fans, depthwise_fans, einsum_fans, keras_fans,
                    recurrent_fans)
from ..laws import Law
from . import register_check

__all__ = [
    "Pool", "pooled", "derived_seed", "draw_kernel", "clear_cache", "big_kernel_cases", "rounded_bounds",
    "rounded_law_grid", "LAYER_KINDS", "LAYER_VARIANCE_CHANGE", "law_at",
    "check_law_fit", "check_variance", "check_mean", "check_support", "check_tails", "check_independence",
    "check_low_precision",
]

HIGH_PRECISION = ("float32", "float64")
LOW_PRECISION = ("float16", "bfloat16")
#: Unit roundoff per dtype: a law parameter held in the dtype is off by up to this, relatively.
UNIT_ROUNDOFF = {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8, "float32": 2.0 ** -24, "float64": 2.0 ** -53}
#: Mantissa bits (without the hidden bit) per dtype: the resolution of a fixed-point generator.
MANTISSA_BITS = {"float16": 10, "bfloat16": 7, "float32": 23, "float64": 52}


_MAX_SEED = 2**31 - 1


def derived_seed(seed: int, index: int) -> int:
    """Seed of the ``index``-th pooled draw: the case seed itself, then a SeedSequence spawn."""
    if index == 0:
        return int(seed)
    state = np.random.SeedSequence([int(seed), int(index), 0x1C4EC4]).generate_state(1, dtype=np.uint32)
    return int(state[0]) & _MAX_SEED


def draw_kernel(spec: Any, shape: tuple[int, ...], dtype: str, seed: Optional[int], *, check: str = "") -> np.ndarray:
    """One call ``spec.factory(seed)(shape, dtype=dtype)`` as a NumPy array (dtype kept)."""
    from .. import keras_compat as kc

    init = spec.factory(seed)
    out = kc.to_numpy(init(tuple(shape), dtype=dtype))
    if tuple(out.shape) != tuple(shape):
        raise CheckFailure(Evidence(check=check or "sampling", spec=spec.name, passed=False,
                                    message=f"initializer returned shape {tuple(out.shape)} for requested {tuple(shape)}",
                                    case={"shape": list(shape), "dtype": dtype, "seed": seed}))
    return out


class Pool:
    """Independent seeded draws of one (spec, shape, dtype, seed)."""

    def __init__(self, spec: Any, shape: tuple[int, ...], dtype: str, seed: int):
        self.spec, self.shape, self.dtype, self.seed = spec, tuple(int(s) for s in shape), dtype, int(seed)
        self.size = max(1, math.prod(self.shape))
        self.draws: list[np.ndarray] = []

    def ensure(self, n: int, check: str = "") -> None:
        need = math.ceil(n / self.size)
        while len(self.draws) < need:
            i = len(self.draws)
            self.draws.append(draw_kernel(self.spec, self.shape, self.dtype, derived_seed(self.seed, i), check=check))

    def stack(self, n: int, check: str = "") -> np.ndarray:
        """At least ``n`` values as a float64 array ``(draws, *shape)`` (whole draws only)."""
        self.ensure(n, check)
        k = math.ceil(n / self.size)
        out = np.empty((k,) + self.shape, dtype=np.float64)
        for i, d in enumerate(self.draws[:k]):
            out[i] = d
        return out

    def values(self, n: int, check: str = "") -> np.ndarray:
        """At least ``n`` values, flat, float64."""
        return self.stack(n, check).reshape(-1)

    def native(self, n: int, check: str = "") -> list[np.ndarray]:
        """The draws holding at least ``n`` values, in the initializer's own dtype (no copy)."""
        self.ensure(n, check)
        return self.draws[:math.ceil(n / self.size)]

    def seeds_used(self, n: int) -> dict[str, Any]:
        k = math.ceil(n / self.size)
        return {"case_seed": self.seed, "draws": k, "seed_derivation": "derived_seed(case_seed, i), i < draws"}


_CACHE: "OrderedDict[tuple, Pool]" = OrderedDict()
_CACHE_SIZE = 2


def pooled(spec: Any, shape: tuple[int, ...], dtype: str, seed: int) -> Pool:
    """The (cached) pool of a case."""
    key = (id(spec), spec.name, tuple(int(s) for s in shape), dtype, int(seed))
    pool = _CACHE.get(key)
    if pool is None or pool.spec is not spec:
        pool = Pool(spec, shape, dtype, seed)
        _CACHE[key] = pool
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return pool


def clear_cache() -> None:
    """Drop cached pools (tests and benchmarks call it to time fresh draws)."""
    _CACHE.clear()


# --------------------------------------------------------------------------- cases

def big_kernel_cases(spec: Any, dtypes: Sequence[str], min_log2: int = 15, max_log2: int = 18) -> Any:
    """Cases whose kernels hold ``2^min_log2 .. 2^max_log2`` values, ranks from ``spec.ranks``.

    Large kernels keep the number of pooled initializer calls small (each
    call costs milliseconds in Keras); the leading (receptive-field) axes
    stay small like real conv kernels, the last two carry the size.
    """
    from hypothesis import strategies as st

    ms = max(1, spec.min_size)

    @st.composite
    def shapes(draw: Any) -> list[int]:
        rank = draw(st.sampled_from(sorted(spec.ranks)))
        total = 2 ** draw(st.integers(min_log2, max_log2))
        if rank == 1:
            return [max(ms, total)]
        dims = [draw(st.integers(ms, max(ms, 5))) for _ in range(rank - 2)]
        lead = math.prod(dims)
        a = draw(st.integers(ms, max(ms, 512)))
        b = max(ms, math.ceil(total / (lead * a)))
        return dims + [a, b]

    return st.fixed_dictionaries({"shape": shapes(), "dtype": st.sampled_from(list(dtypes)), "seed": seeds()})


def _high(spec: Any) -> list[str]:
    return [d for d in spec.dtypes if d in HIGH_PRECISION]


def _low(spec: Any) -> list[str]:
    return [d for d in spec.dtypes if d in LOW_PRECISION]


def _iid_high(spec: Any) -> bool:
    return spec.has("iid") and bool(_high(spec))


def _case_strategy(spec: Any) -> Any:
    return big_kernel_cases(spec, _high(spec))


def _low_case_strategy(spec: Any) -> Any:
    return big_kernel_cases(spec, ["float32"]).map(lambda c: {**c, "dtype": "low"})


# --------------------------------------------------------------------------- helpers

def law_at(spec: Any, shape: tuple[int, ...], fans: Optional[Fans] = None) -> Law:
    """The spec's law at ``shape``, with ``fans`` given (layer oracle) or by the spec's convention."""
    if fans is None or isinstance(spec.law, Law):
        return spec.law_for(tuple(shape))
    return spec.law(tuple(shape), fans)


def _fail_or_pass(check: str, spec: Any, case: dict, results: list[stats.TestResult], law: Law,
                  extra: Optional[dict] = None, what: str = "") -> Evidence:
    failed = [r for r in results if not r.passed]
    b = stats.budget()
    data: dict[str, Any] = {
        "law": str(law),
        "law_parameters": law.describe(),
        "tests": [r.to_dict() for r in results],
        "alpha_per_check": b.alpha,
        "budget_share": 1.0 / b.max_assertions,
        "budget": b.describe(),
    }
    if extra:
        data.update(extra)
    if failed:
        r = failed[0]
        msg = (f"{what or check}: {r.name} statistic {r.statistic:.6g} > threshold {r.threshold:.6g} at n={r.n} "
               f"(false-fail rate {r.alpha:.3g}); observed {_short(r.observed)} vs expected {_short(r.expected)}")
        raise CheckFailure(Evidence(check, spec.name, False, msg, dict(case), data))
    guaranteed = "; ".join(f"{r.name}: {r.discrepancy_unit} >= {r.smallest_detectable:.4g} caught w.p. >= "
                           f"1-{r.beta:.2g}" for r in results)
    return Evidence(check, spec.name, True, f"{what or check} passed at n={results[0].n if results else 0}; "
                    f"guaranteed detectable: {guaranteed}", dict(case), data)


def _short(d: dict) -> str:
    return ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items()
                     if not isinstance(v, (list, dict)))


def _shape(case: dict) -> tuple[int, ...]:
    return tuple(int(s) for s in case["shape"])


def rounded_bounds(law: Law, dtype: str) -> tuple[float, float]:
    """The support's bounds rounded to nearest in ``dtype`` (infinite bounds kept)."""
    lo, hi = law.support()
    return _round(lo, dtype), _round(hi, dtype)


def _np_dtype(dtype: str) -> Any:
    if dtype == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def _round(x: float, dtype: str) -> float:
    if not math.isfinite(x):
        return x
    return float(np.asarray(np.float64(x)).astype(np.float32 if dtype == "bfloat16" else np.float64)
                 .astype(_np_dtype(dtype)).astype(np.float64))


def _neighbours(values: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Previous and next representable values of ``values`` (float64 in, float64 out)."""
    t = _np_dtype(dtype)
    v = values.astype(t)
    up = np.nextafter(v, np.asarray(np.inf, dtype=t)).astype(np.float64)
    down = np.nextafter(v, np.asarray(-np.inf, dtype=t)).astype(np.float64)
    return down, up


def _scale_band_ks(law: Law, u: float) -> float:
    """``sup_x |F((x - mu)/(1 + u) + mu) - F(x)|``: the CDF moved by a scale parameter rounded by ``u``."""
    dist = law.dist()
    mu = law.mean()
    q = np.asarray(dist.ppf(np.linspace(1e-6, 1 - 1e-6, 4001)), dtype=np.float64)
    f = dist.cdf(q)
    return float(max(np.abs(dist.cdf((q - mu) / (1 + u) + mu) - f).max(),
                     np.abs(dist.cdf((q - mu) * (1 + u) + mu) - f).max()))


def rounded_law_grid(law: Law, sample: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The law rounded to ``dtype`` at the values seen: ``(values, F(hi cell), F(lo cell))``.

    A representable ``v`` collects the law's mass on its round-to-nearest
    cell ``(mid(prev v, v), mid(v, next v)]``.
    """
    values = np.unique(sample)
    down, up = _neighbours(values, dtype)
    hi = 0.5 * (values + up)
    lo = 0.5 * (values + down)
    cdf = law.dist().cdf
    return values, np.asarray(cdf(hi), dtype=np.float64), np.asarray(cdf(lo), dtype=np.float64)


# --------------------------------------------------------------------------- marginal-law checks

def _values(check: str, spec: Any, case: dict, n: int) -> tuple[Pool, np.ndarray]:
    pool = pooled(spec, _shape(case), case["dtype"], case["seed"])
    x = pool.values(n, check)
    bad = ~np.isfinite(x)
    if bad.any():
        raise CheckFailure(Evidence(check, spec.name, False,
                                    f"{int(bad.sum())} non-finite value(s) among n={x.size} pooled draws",
                                    dict(case), {"n": x.size, "non_finite": int(bad.sum()),
                                                 "seeds": pool.seeds_used(n)}))
    return pool, x


def _common(pool: Pool, n: int, case: dict, law: Law, plan: stats.Plan) -> dict[str, Any]:
    return {"seeds": pool.seeds_used(n), "dtype": case["dtype"], "shape": list(_shape(case)),
            "planned_n": dict(plan.requirements), "named_discrepancies": {
                "mean_shift_std": stats.MEAN_SHIFT, "std_relative": stats.STD_RELATIVE,
                "ks_sup_distance": stats.KS_DISCREPANCY, "extra_rate": stats.EXCESS_RATE}}


@register_check(kind="initializer", family="distribution", applies=_iid_high, strategy=_case_strategy,
                examples=2, statistical=True)
def check_law_fit(spec: Any, case: dict) -> Evidence:
    """Pooled draws follow the law's CDF (DKWM envelope at the planned n)."""
    law = law_at(spec, _shape(case))
    b = stats.budget()
    plan = stats.default_plan(law.excess_kurtosis())
    n = plan.requirements["ks"]
    pool, x = _values("check_law_fit", spec, case, n)
    res = stats.ks_test(x, law.cdf, b.alpha, b.beta)
    return _fail_or_pass("check_law_fit", spec, case, [res], law, _common(pool, n, case, law, plan), "CDF fit")


@register_check(kind="initializer", family="distribution", applies=_iid_high, strategy=_case_strategy,
                examples=2, statistical=True)
def check_variance(spec: Any, case: dict) -> Evidence:
    """The variance about the law's mean matches the law's (kurtosis-aware z-test)."""
    law = law_at(spec, _shape(case))
    b = stats.budget()
    plan = stats.default_plan(law.excess_kurtosis())
    n = plan.n_moments
    pool, x = _values("check_variance", spec, case, n)
    res = stats.variance_test(x, law.mean(), law.variance(), law.excess_kurtosis(), b.alpha, b.beta)
    return _fail_or_pass("check_variance", spec, case, [res], law, _common(pool, n, case, law, plan), "scale")


@register_check(kind="initializer", family="distribution", applies=_iid_high, strategy=_case_strategy,
                examples=2, statistical=True)
def check_mean(spec: Any, case: dict) -> Evidence:
    """The sample mean matches the law's mean (z-test, std known)."""
    law = law_at(spec, _shape(case))
    b = stats.budget()
    plan = stats.default_plan(law.excess_kurtosis())
    n = plan.n_moments
    pool, x = _values("check_mean", spec, case, n)
    res = stats.mean_test(x, law.mean(), math.sqrt(law.variance()), b.alpha, b.beta)
    return _fail_or_pass("check_mean", spec, case, [res], law, _common(pool, n, case, law, plan), "location")


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


def _support_result(draws: list[np.ndarray], law: Law, dtype: str, beta: float) -> stats.TestResult:
    lo_d, hi_d = rounded_bounds(law, dtype)
    scan = _scan(draws, lambda x: (x < lo_d) | (x > hi_d))
    count, n = scan["count"], scan["n"]
    return stats.TestResult(
        "support_exact", float(count), 0.0, count == 0, n, 0.0, beta, -math.log(beta) / n,
        "rate of values outside the support (any count > 0 fails)",
        observed={"outside_or_non_finite": count, "min": scan["min"], "max": scan["max"],
                  "first_outside": scan["first"]},
        expected={"support": list(law.support()), "support_rounded_to_dtype": [lo_d, hi_d], "dtype": dtype},
    )


@register_check(kind="initializer", family="distribution", applies=_iid_high, strategy=_case_strategy,
                examples=2, statistical=True)
def check_support(spec: Any, case: dict) -> Evidence:
    """No value lies outside the law's support rounded to the dtype (exact; truncation honoured).

    A correct initializer never fails this (false-fail rate 0); an escape
    rate ``r`` is missed with probability ``(1 - r)^n <= exp(-r n)``.
    """
    law = law_at(spec, _shape(case))
    b = stats.budget()
    plan = stats.default_plan(law.excess_kurtosis())
    n = plan.n_tails
    pool = pooled(spec, _shape(case), case["dtype"], case["seed"])
    res = _support_result(pool.native(n, "check_support"), law, case["dtype"], b.beta)
    return _fail_or_pass("check_support", spec, case, [res], law, _common(pool, n, case, law, plan), "support")


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
        lo_d = _round(lo, dtype)
        _, nxt = _neighbours(np.array([lo_d]), dtype)
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
        hi_d = _round(hi, dtype)
        prv, _ = _neighbours(np.array([hi_d]), dtype)
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


@register_check(kind="initializer", family="distribution", applies=_iid_high, strategy=_case_strategy,
                examples=2, statistical=True)
def check_tails(spec: Any, case: dict) -> Evidence:
    """Clamped, escaped or outlying values are no more frequent than the law allows (exact binomial)."""
    law = law_at(spec, _shape(case))
    b = stats.budget()
    plan = stats.default_plan(law.excess_kurtosis())
    n = plan.n_tails
    pool = pooled(spec, _shape(case), case["dtype"], case["seed"])
    region, p0, desc = extreme_region(law, case["dtype"])
    scan = _scan(pool.native(n, "check_tails"), region)
    res = stats.excess_count_test(scan["count"], scan["n"], p0, b.alpha, b.beta, "extreme")
    res.observed.update({"min": scan["min"], "max": scan["max"], "first_extreme": scan["first"]})
    extra = _common(pool, n, case, law, plan)
    extra["extreme_region"] = desc
    return _fail_or_pass("check_tails", spec, case, [res], law, extra, "tail count")


@register_check(kind="initializer", family="distribution", applies=_iid_high, strategy=_case_strategy,
                examples=2, statistical=True)
def check_independence(spec: Any, case: dict) -> Evidence:
    """Neighbouring entries along every kernel axis are uncorrelated.

    For i.i.d. entries with mean ``mu`` and variance ``s^2``, the products
    ``(x_i - mu)(x_j - mu)`` of adjacent pairs are pairwise uncorrelated with
    mean 0 and variance ``s^4``; their normalised sum is ``N(0, 1)`` by the
    CLT for m-dependent sequences.  One z-test per axis of size >= 2,
    ``alpha`` split over the axes.  Detects a lag-1 correlation ``rho`` of
    about ``(z_a + z_b) / sqrt(pairs)`` (a kernel whose rows are correlated).
    """
    shape = _shape(case)
    law = law_at(spec, shape)
    b = stats.budget()
    plan = stats.default_plan(law.excess_kurtosis())
    n = plan.n_moments
    pool = pooled(spec, shape, case["dtype"], case["seed"])
    stack = pool.stack(n, "check_independence") - law.mean()
    axes = [a for a, s in enumerate(shape) if s >= 2]
    results = []
    if not axes:
        return Evidence("check_independence", spec.name, True, "no axis of size >= 2: nothing to correlate",
                        dict(case), {"law": str(law)})
    a_each = b.alpha / len(axes)
    thr = stats.z_two_sided(a_each)
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
    extra = _common(pool, n, case, law, plan)
    extra["axes"] = axes
    return _fail_or_pass("check_independence", spec, case, results, law, extra, "independence")


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
    shape = _shape(case)
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
        sub = {**case, "dtype": dtype}
        pool = pooled(spec, shape, dtype, case["seed"])
        sup = _support_result(pool.native(n, "check_low_precision"), law, dtype, b.beta)
        if not sup.passed:
            results.append(sup)
            break
        x = pool.values(n, "check_low_precision")
        seeds_used[dtype] = pool.seeds_used(n)
        sup.name = f"support_exact_{dtype}"
        u = UNIT_ROUNDOFF[dtype]
        ks = stats.ks_test(x, law.cdf, a_each, b.beta, grid=rounded_law_grid(law, x, dtype))
        ks.name = f"dkwm_rounded_law_{dtype}"
        band_ks = _scale_band_ks(law, u)
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
    extra = {"seeds": seeds_used, "dtypes": dtypes, "shape": list(shape), "alpha_split": k}
    return _fail_or_pass("check_low_precision", spec, case, results, law, extra, "low-precision law")


# --------------------------------------------------------------------------- layer-aware variance

#: Relative variance error the layer checks are sure (1 - beta) to catch.  The
#: drawn configs make every fan confusion change the variance by more: channel
#: ratios >= 2 (transposed convs: x2 or x1/2), >= 64 input channels
#: (depthwise: x1/64 or less), recurrent gates (fan_avg GRU with in <= 4 units:
#: x0.71 at worst; LSTM x0.63).  A law at the wrong fans by such factors cannot
#: hide; smaller errors are the marginal checks' job (1 % std).
LAYER_VARIANCE_CHANGE = 0.25
_MAX_BUILDS = 60
#: Channel ranges per conv rank, large enough that a few builds reach the planned n.
_CONV_CHANNELS = {1: (24, 48), 2: (16, 32), 3: (8, 16)}


@dataclass(frozen=True)
class LayerKind:
    """One Keras layer kind: how to build it and the oracle fans of its kernels.

    ``build(keras, initializer, params)`` returns ``{label: kernel array}``;
    ``oracle(label, shape, params)`` returns the kernel's true fans.
    """

    name: str
    ranks: tuple[int, ...]
    params: Callable[[], Any]
    build: Callable[[Any, Any, dict], dict]
    oracle: Callable[[str, tuple, dict], Fans]
    convention: str


def _weights(layer: Any) -> dict[str, Any]:
    from .. import keras_compat as kc

    out = {}
    for w in layer.weights:
        path = str(getattr(w, "path", None) or w.name).split(":")[0]
        out[path] = kc.to_numpy(w).astype(np.float64)
    return out


def _find(weights: dict[str, Any], *names: str, parent: Optional[str] = None) -> np.ndarray:
    for name in names:
        for path, value in weights.items():
            parts = path.split("/")
            if parts[-1] == name and (parent is None or (len(parts) > 1 and parts[-2] == parent)):
                return value
    raise LookupError(f"no weight named {names} (parent {parent}) among {sorted(weights)}")


def _ratio_pair(st: Any, lo: int, hi: int) -> Any:
    """(a, b) with one a multiple >= 2 of the other, either order (so fans differ)."""
    return st.tuples(st.integers(lo, hi), st.integers(2, 4), st.booleans()).map(
        lambda t: (t[0], t[0] * t[1]) if t[2] else (t[0] * t[1], t[0]))


def _conv_kind(rank: int, transpose: bool) -> LayerKind:
    def params() -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries({"k": st.lists(st.integers(2, 4 if rank < 3 else 3), min_size=rank,
                                                    max_size=rank),
                                      "channels": _ratio_pair(st, *_CONV_CHANNELS[rank]), "seed": seeds()})

    def build(keras: Any, init: Any, p: dict) -> dict:
        cin, cout = p["channels"]
        names = {1: "Conv1D", 2: "Conv2D", 3: "Conv3D"}
        cls = getattr(keras.layers, names[rank] + ("Transpose" if transpose else ""))
        layer = cls(cout, tuple(p["k"]), kernel_initializer=init, use_bias=False)
        layer.build((None,) + (8,) * rank + (cin,))
        return {"kernel": _find(_weights(layer), "kernel")}

    def oracle(label: str, shape: tuple, p: dict) -> Fans:
        return conv_transpose_fans(shape) if transpose else conv_fans(shape)

    name = f"conv{rank}d" + ("_transpose" if transpose else "")
    return LayerKind(name, (rank + 2,), params, build, oracle, "conv_transpose" if transpose else "conv")


def _dense_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"units": _ratio_pair(st, 48, 128), "seed": seeds()})


def _dense_build(keras: Any, init: Any, p: dict) -> dict:
    n_in, n_out = p["units"]
    layer = keras.layers.Dense(n_out, kernel_initializer=init, use_bias=False)
    layer.build((None, n_in))
    return {"kernel": _find(_weights(layer), "kernel")}


def _depthwise_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"k": st.lists(st.integers(3, 4), min_size=2, max_size=2),
                                  "cin": st.integers(64, 256), "mult": st.integers(1, 3), "seed": seeds()})


def _depthwise_build(keras: Any, init: Any, p: dict) -> dict:
    layer = keras.layers.DepthwiseConv2D(tuple(p["k"]), depth_multiplier=p["mult"], depthwise_initializer=init,
                                         use_bias=False)
    layer.build((None, 8, 8, p["cin"]))
    return {"depthwise_kernel": _find(_weights(layer), "depthwise_kernel", "kernel")}


def _separable_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"k": st.lists(st.integers(3, 4), min_size=2, max_size=2),
                                  "cin": st.integers(128, 256), "mult": st.integers(1, 2), "cout": st.integers(32, 64),
                                  "seed": seeds()})


def _separable_build(keras: Any, init: Any, p: dict) -> dict:
    layer = keras.layers.SeparableConv2D(p["cout"], tuple(p["k"]), depth_multiplier=p["mult"],
                                         depthwise_initializer=init, pointwise_initializer=init, use_bias=False)
    layer.build((None, 8, 8, p["cin"]))
    w = _weights(layer)
    return {"depthwise_kernel": _find(w, "depthwise_kernel"), "pointwise_kernel": _find(w, "pointwise_kernel")}


def _separable_oracle(label: str, shape: tuple, p: dict) -> Fans:
    return depthwise_fans(shape) if label == "depthwise_kernel" else conv_fans(shape)


_EINSUM = "ab,bcd->acd"


def _einsum_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"b": st.integers(64, 128), "c": st.integers(2, 8), "d": st.integers(32, 64),
                                  "seed": seeds()})


def _einsum_build(keras: Any, init: Any, p: dict) -> dict:
    layer = keras.layers.EinsumDense(_EINSUM, output_shape=(p["c"], p["d"]), kernel_initializer=init)
    layer.build((None, p["b"]))
    return {"kernel": _find(_weights(layer), "kernel")}


def _mha_params() -> Any:
    from hypothesis import strategies as st

    # Seed 0 is left to the seed-contract checks: Keras 3.0-3.1 treat it as unseeded, which
    # would turn this layer check into a second test of that finding.
    return st.fixed_dictionaries({"heads": st.integers(2, 8), "key_dim": st.integers(16, 32),
                                  "model": st.integers(64, 128), "seed": seeds().filter(lambda s: s != 0)})


def _mha_build(keras: Any, init: Any, p: dict) -> dict:
    layer = keras.layers.MultiHeadAttention(num_heads=p["heads"], key_dim=p["key_dim"], kernel_initializer=init)
    x = np.zeros((1, 2, p["model"]), dtype=np.float32)
    layer(x, x)
    w = _weights(layer)
    return {"query_kernel": _find(w, "kernel", parent="query"),
            "output_kernel": _find(w, "kernel", parent="attention_output")}


def _mha_oracle(label: str, shape: tuple, p: dict) -> Fans:
    # query: "abc,cde->abde" kernel (model, heads, key_dim); output: "abcd,cde->abe" kernel (heads, key_dim, model)
    eq = "abc,cde->abde" if label == "query_kernel" else "abcd,cde->abe"
    return einsum_fans(eq, shape)


def _embedding_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"units": _ratio_pair(st, 48, 128), "seed": seeds()})


def _embedding_build(keras: Any, init: Any, p: dict) -> dict:
    vocab, dim = p["units"]
    layer = keras.layers.Embedding(vocab, dim, embeddings_initializer=init)
    layer.build((None, 3))
    return {"embeddings": _find(_weights(layer), "embeddings")}


def _rnn_kind(cls_name: str, gates: int) -> LayerKind:
    def params() -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries({"units": _ratio_pair(st, 32, 96), "seed": seeds()})

    def build(keras: Any, init: Any, p: dict) -> dict:
        n_in, units = p["units"]
        layer = getattr(keras.layers, cls_name)(units, kernel_initializer=init)
        layer.build((None, 3, n_in))
        return {"kernel": _find(_weights(layer), "kernel")}

    def oracle(label: str, shape: tuple, p: dict) -> Fans:
        return recurrent_fans(shape, gates)

    return LayerKind(cls_name.lower() if cls_name != "SimpleRNN" else "simple_rnn", (2,), params, build, oracle,
                     "recurrent")


LAYER_KINDS: dict[str, LayerKind] = {k.name: k for k in [
    LayerKind("dense", (2,), _dense_params, _dense_build, lambda l, s, p: dense_fans(s), "dense"),
    _conv_kind(1, False), _conv_kind(2, False), _conv_kind(3, False),
    LayerKind("depthwise_conv2d", (4,), _depthwise_params, _depthwise_build, lambda l, s, p: depthwise_fans(s),
              "depthwise"),
    LayerKind("separable_conv2d", (4,), _separable_params, _separable_build, _separable_oracle,
              "depthwise+pointwise"),
    _conv_kind(1, True), _conv_kind(2, True), _conv_kind(3, True),
    LayerKind("einsum_dense", (3,), _einsum_params, _einsum_build,
              lambda l, s, p: einsum_fans(_EINSUM, s), "einsum"),
    LayerKind("multi_head_attention", (3,), _mha_params, _mha_build, _mha_oracle, "einsum"),
    LayerKind("embedding", (2,), _embedding_params, _embedding_build, lambda l, s, p: dense_fans(s), "embedding"),
    _rnn_kind("LSTM", 4), _rnn_kind("GRU", 3), _rnn_kind("SimpleRNN", 1),
]}


_WRAPPER: dict[int, Any] = {}


def _cloneable(keras: Any, init: Any) -> Any:
    """A plain callable initializer wrapped so layers that clone initializers can use it.

    ``MultiHeadAttention`` clones its initializers with
    ``type(init).from_config(init.get_config())``, which a plain
    ``init(shape, dtype=None)`` callable (a legal Keras initializer) lacks.
    The wrapper's config holds the callable itself, so the clone draws the
    same values: the variance measured is the callable's.
    """
    if hasattr(init, "get_config") and hasattr(type(init), "from_config"):
        return init
    key = id(keras)
    if key not in _WRAPPER:
        base = keras.initializers.Initializer

        class CallableInitializer(base):  # type: ignore[misc, valid-type]
            def __init__(self, fn: Any) -> None:
                self.fn = fn

            def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Any:
                return self.fn(shape, dtype=dtype)

            def get_config(self) -> dict:
                return {"fn": self.fn}

        _WRAPPER[key] = CallableInitializer
    return _WRAPPER[key](init)


def run_layer_variance(kind: LayerKind, spec: Any, case: dict) -> Evidence:
    """Build ``kind`` with the spec's initializer (pooled over seeds) and test each kernel's variance."""
    from .. import keras_compat as kc

    keras = kc.keras()
    check = f"check_layer_variance_{kind.name}"
    b = stats.budget()
    seed = int(case["seed"])
    pools: dict[str, list[np.ndarray]] = {}
    builds = 0
    need: Optional[dict[str, int]] = None
    laws: dict[str, Law] = {}
    while builds < _MAX_BUILDS:
        kernels = kind.build(keras, _cloneable(keras, spec.factory(derived_seed(seed, builds))), case)
        builds += 1
        for label, value in kernels.items():
            pools.setdefault(label, []).append(value)
        if need is None:
            a_each = b.alpha / len(kernels)
            need = {}
            for label, value in kernels.items():
                shp = tuple(value.shape)
                laws[label] = law_at(spec, shp, kind.oracle(label, shp, case))
                need[label] = stats.variance_sample_size(LAYER_VARIANCE_CHANGE, laws[label].excess_kurtosis(),
                                                         a_each, b.beta)
        if all(sum(v.size for v in pools[label]) >= need[label] for label in need):
            break
    assert need is not None
    a_each = b.alpha / len(need)
    results = []
    detail: dict[str, Any] = {}
    for label, values in pools.items():
        x = np.concatenate([v.ravel() for v in values])
        shp = tuple(values[0].shape)
        law = laws[label]
        fans = kind.oracle(label, shp, case)
        res = stats.variance_test(x, law.mean(), law.variance(), law.excess_kurtosis(), a_each, b.beta)
        res.name = f"variance_z_{label}"
        kfans = keras_fans(shp)
        keras_law = law_at(spec, shp)
        res.expected.update({"oracle_fans": [fans.fan_in, fans.fan_out],
                             "keras_convention_fans": [kfans.fan_in, kfans.fan_out],
                             "variance_at_keras_fans": keras_law.variance()})
        res.observed["ratio_to_oracle_variance"] = res.observed["variance"] / law.variance()
        results.append(res)
        detail[label] = {"shape": list(shp), "law_at_oracle_fans": str(law), "law_at_keras_fans": str(keras_law)}
    failed = [r for r in results if not r.passed]
    data = {"layer": kind.name, "convention": kind.convention, "builds": builds, "kernels": detail,
            "tests": [r.to_dict() for r in results], "alpha_per_check": b.alpha,
            "budget_share": 1.0 / b.max_assertions, "named_relative_variance_change": LAYER_VARIANCE_CHANGE,
            "seeds": {"case_seed": seed, "builds": builds, "seed_derivation": "derived_seed(case_seed, i)"}}
    if failed:
        r = failed[0]
        raise CheckFailure(Evidence(check, spec.name, False,
                                    f"{kind.name} {r.name}: variance {r.observed['variance']:.6g} is "
                                    f"{r.observed['ratio_to_oracle_variance']:.4g} x the law at the layer's true fans "
                                    f"{r.expected['oracle_fans']} ({r.expected['variance']:.6g}); Keras's shape "
                                    f"convention fans {r.expected['keras_convention_fans']} give "
                                    f"{r.expected['variance_at_keras_fans']:.6g}; z={r.statistic:.4g} > "
                                    f"{r.threshold:.4g} at n={r.n}", dict(case), data))
    return Evidence(check, spec.name, True, f"{kind.name} kernel variance matches the law at the true fans",
                    dict(case), data)


def _layer_applies(kind: LayerKind) -> Callable[[Any], bool]:
    def applies(spec: Any) -> bool:
        return spec.has("iid") and "float32" in spec.dtypes and all(r in spec.ranks for r in kind.ranks)

    return applies


def _register_layer_checks() -> None:
    for kind in LAYER_KINDS.values():
        def check(spec: Any, case: dict, _kind: LayerKind = kind) -> Evidence:
            return run_layer_variance(_kind, spec, case)

        check.__name__ = f"check_layer_variance_{kind.name}"
        check.__qualname__ = check.__name__
        check.__doc__ = (f"A {kind.name} layer's kernel has the law's variance at the layer's true fans "
                         f"({kind.convention} convention).")
        globals()[check.__name__] = check
        register_check(kind="initializer", family="distribution", applies=_layer_applies(kind),
                       strategy=lambda spec, _k=kind: _k.params(), examples=1, statistical=True)(check)


_register_layer_checks()
__all__ += [f"check_layer_variance_{k}" for k in LAYER_KINDS]


@register_check(kind="initializer", family="distribution", applies=_layer_applies(LAYER_KINDS["multi_head_attention"]),
                strategy=lambda spec: _mha_params(), examples=1, statistical=True)
def check_layer_independence_multi_head_attention(spec: Any, case: dict) -> Evidence:
    """The query, key and value kernels of one MultiHeadAttention layer are independent draws.

    The three kernels have the same shape ``(model, heads, key_dim)``; for
    independent i.i.d. kernels the sample correlation ``r`` of two of them
    satisfies ``r sqrt(n) ~ N(0, 1)`` (products of independent centred
    entries are uncorrelated with variance ``s^4``).  One z-test per pair,
    ``alpha / 3`` each; a correlation of about ``(z_a + z_b) / sqrt(n)`` is
    caught (identical kernels have ``r = 1``).
    """
    from .. import keras_compat as kc

    keras = kc.keras()
    b = stats.budget()
    layer = keras.layers.MultiHeadAttention(num_heads=case["heads"], key_dim=case["key_dim"],
                                            kernel_initializer=_cloneable(keras, spec.factory(int(case["seed"]))))
    x = np.zeros((1, 2, case["model"]), dtype=np.float32)
    layer(x, x)
    w = _weights(layer)
    kernels = {name: _find(w, "kernel", parent=name) for name in ("query", "key", "value")}
    shape = tuple(kernels["query"].shape)
    law = law_at(spec, shape, _mha_oracle("query_kernel", shape, case))
    a_each = b.alpha / 3
    thr = stats.z_two_sided(a_each)
    results = []
    for p, q in (("query", "key"), ("query", "value"), ("key", "value")):
        u = kernels[p].ravel() - law.mean()
        v = kernels[q].ravel() - law.mean()
        n = u.size
        r = float(np.sum(u * v) / math.sqrt(np.sum(u * u) * np.sum(v * v)))
        z = r * math.sqrt(n)
        results.append(stats.TestResult(
            f"correlation_{p}_{q}", abs(z), thr, abs(z) <= thr, n, a_each, b.beta,
            (thr + stats.z_one_sided(b.beta)) / math.sqrt(n), "correlation between two kernels (approx.)",
            observed={"correlation": r, "identical": bool(np.array_equal(kernels[p], kernels[q]))},
            expected={"correlation": 0.0}))
    return _fail_or_pass("check_layer_independence_multi_head_attention", spec, case, results, law,
                         {"layer": "multi_head_attention", "kernel_shape": list(shape)}, "MHA kernel independence")


__all__ += ["check_layer_independence_multi_head_attention"]
