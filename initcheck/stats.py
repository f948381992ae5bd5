"""All error-rate arithmetic of initcheck in one place.

Why one module: a statistical assertion is only as good as the two rates
behind it -- how often it fails a *correct* initializer (false fail) and how
large a discrepancy it is *sure* to catch (false pass).  Existing suites pick
tolerances by feel (Keras: ``atol=0.1`` on 500 samples; PyTorch: several KS
tests at ``p > 1e-4`` with no power analysis).  Here every check asks this
module for its threshold *and* for the sample size that makes a named
discrepancy detectable, and writes both into its evidence.

The budget
    The whole run may false-fail with probability at most ``false_fail``
    (default 1e-6).  It is split by Bonferroni over ``max_assertions``
    (default 20 000) statistical check runs, so each check run gets
    ``alpha = false_fail / max_assertions`` (5e-11 by default) whatever
    subset of the battery is selected: a failure reproduces in isolation with
    the same threshold.  A check that makes ``k`` sub-assertions gives each
    ``alpha / k``.  ``false_pass`` (default 1e-6) is the probability that a
    check misses the *named smallest discrepancy* at the planned size.

The tests
    * CDF fit: Dvoretzky-Kiefer-Wolfowitz with Massart's constant,
      ``P(sup|F_n - F| > eps) <= 2 exp(-2 n eps^2)``, valid for every ``n``
      and every (also discrete) ``F``; envelope ``sqrt(ln(2/delta) / (2n))``.
      A true sup-distance ``D`` is caught with probability ``>= 1 - beta``
      when ``D >= eps(alpha) + eps(beta)`` (the sizing of TensorFlow
      Probability's ``statistical_testing`` module).
    * Mean and scale: z-tests with the law's *known* moments.  The variance
      estimator ``V = mean((x - mu)^2)`` has standard error
      ``sigma^2 sqrt((kappa + 2)/n)`` for excess kurtosis ``kappa`` (no
      normality assumed).  The normal approximation is used far in the tail
      (z ~ 6.6); by Cramer's moderate-deviation theorem its relative error is
      ``O(z^3 / sqrt(n))``, a few percent of the tail probability at the
      planned ``n >= 4e5`` -- the calibration test measures it.
    * Rare events (escaped/clamped values, outliers): exact binomial tails
      (``scipy.stats.binom``); KS cannot see five values in a million.
    * Success rates over seeds (convergence): exact Clopper-Pearson bounds
      (beta quantiles, :func:`cp_upper`, :func:`cp_lower`) and the number of seeds that separates a
      claimed rate from a named smallest discrepancy (:func:`required_seeds`).
    * Means of independent replicas (signal propagation): a two-sided
      normal band with its power statement (:func:`band`).
    * Exact ties among the draws (atoms, lost resolution, exact mirrors):
      bounds under the null "no value is more probable than the larger of
      one step of a full-mantissa fixed-point generator and its dtype cell
      under the law" (:func:`multiplicity_test`, :func:`resolution_tests`,
      :func:`mirror_test`): union and Bernstein bounds on Poissonised
      counts, no approximation.
    * Dependence between paired entries: a sign-symmetry (Hoeffding) bound
      on the sum of products (:func:`pair_product_test`), exact binomial
      counts of agreeing magnitude classes (:func:`sign_agreement_test`) and
      exact hypergeometric cells of a rank table (:func:`rank_table_test`).

Sizes used by default (alpha = 5e-11, beta = 1e-6): see :func:`default_plan`
and docs/statistics.md.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

import numpy as np
from scipy import stats as _st

__all__ = [
    "env_number",
    "Budget",
    "configure",
    "budget",
    "reset",
    "TestResult",
    "Plan",
    "default_plan",
    "z_two_sided",
    "z_one_sided",
    "dkwm_epsilon",
    "dkwm_min_discrepancy",
    "dkwm_sample_size",
    "mean_min_shift",
    "mean_sample_size",
    "variance_se",
    "variance_min_relative_change",
    "variance_sample_size",
    "std_error_to_variance_change",
    "binomial_threshold",
    "binomial_min_excess",
    "binomial_sample_size",
    "binomial_ci",
    "cp_upper",
    "cp_lower",
    "cp_interval",
    "required_seeds",
    "Band",
    "band",
    "ks_statistic",
    "ks_statistic_grid",
    "ks_test",
    "mean_test",
    "variance_test",
    "excess_count_test",
    "Ties",
    "tie_counts",
    "bernstein_deviation",
    "multiplicity_threshold",
    "atom_min_mass",
    "atom_sample_size",
    "multiplicity_test",
    "resolution_tests",
    "mirror_test",
    "pair_product_test",
    "sign_agreement_test",
    "rank_classes",
    "rank_table_test",
    "dependence_sample_size",
    "MEAN_SHIFT",
    "STD_RELATIVE",
    "KS_DISCREPANCY",
    "EXCESS_RATE",
    "TAIL_NULL_RATE",
    "ATOM_MASS",
    "PAIR_CORRELATION",
    "PLANNED_PAIRINGS",
]

ENV_FALSE_FAIL = "INITCHECK_FALSE_FAIL"
ENV_FALSE_PASS = "INITCHECK_FALSE_PASS"

#: Named smallest discrepancies the default gate is *sure* (1 - beta) to catch.
MEAN_SHIFT: float = 0.01        #: mean shift, in units of the law's std
STD_RELATIVE: float = 0.01      #: relative error of the std (1 %)
KS_DISCREPANCY: float = 0.01    #: sup-distance between true and promised CDF
EXCESS_RATE: float = 5e-6       #: extra rate of clamped / escaped / outlying values
TAIL_NULL_RATE: float = 2.5e-7  #: design rate of the "extreme" region under the law (covers a 2^-23 edge atom x2)
ATOM_MASS: float = 2e-5         #: mass of one atom anywhere (a clip, a saturation, a fallback value) sure to be caught
PAIR_CORRELATION: float = 0.01  #: correlation between designed partners (on half a kernel's entries) sure to be caught
PLANNED_PAIRINGS: int = 64      #: sub-assertions the dependence plan is sized for (2 statistics x 32 pairings)


N = TypeVar("N", int, float)


def env_number(name: str, parse: Callable[[str], N], default: N, *, minimum: Optional[N] = None,
               what: str = "a number") -> N:
    """``parse(os.environ[name])`` (``int`` or ``float``), or ``default`` when it is unset or blank.

    The one reader of every ``INITCHECK_*`` number (the time limit, the number of jobs, the error
    budget's rates): a value that does not parse, or is below ``minimum`` (inclusive), is a
    ``ValueError`` that names the variable and says what it must be (``what``).
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = parse(text)
    except ValueError:
        raise ValueError(f"{name} must be {what}, got {text!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {what}, got {text!r}")
    return value


def _env_float(name: str, default: float) -> float:
    return env_number(name, float, default, what="a rate such as 1e-6")


def _check_rate(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and 0.0 < float(value) < 1.0):
        raise ValueError(f"{name} must be a probability strictly between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Budget:
    """The run's error-rate budget.

    Attributes:
        false_fail: Probability that the whole run fails some correct object.
        false_pass: Per check run, probability of missing the named smallest
            discrepancy at the planned sample size.
        max_assertions: How many statistical check runs the budget is split
            over (Bonferroni); fixed so thresholds do not depend on selection.
    """

    false_fail: float = 1e-6
    false_pass: float = 1e-6
    max_assertions: int = 20_000

    @property
    def alpha(self) -> float:
        """Per-check-run false-fail rate (Bonferroni share)."""
        return self.false_fail / self.max_assertions

    @property
    def beta(self) -> float:
        """Per-check-run false-pass rate for the named discrepancy."""
        return self.false_pass

    def describe(self) -> dict[str, float]:
        return {"false_fail_run": self.false_fail, "false_pass": self.false_pass,
                "max_assertions": self.max_assertions, "alpha": self.alpha, "beta": self.beta}


_BUDGET: Optional[Budget] = None


def budget() -> Budget:
    """The active budget (environment variables give the defaults)."""
    global _BUDGET
    if _BUDGET is None:
        _BUDGET = Budget(
            false_fail=_check_rate(ENV_FALSE_FAIL, _env_float(ENV_FALSE_FAIL, 1e-6)),
            false_pass=_check_rate(ENV_FALSE_PASS, _env_float(ENV_FALSE_PASS, 1e-6)),
        )
    return _BUDGET


def configure(false_fail: Optional[float] = None, false_pass: Optional[float] = None,
              max_assertions: Optional[int] = None) -> Budget:
    """Change the budget (pytest options and the CLI call this); returns it."""
    global _BUDGET
    cur = budget()
    ff = cur.false_fail if false_fail is None else _check_rate("false_fail", false_fail)
    fp = cur.false_pass if false_pass is None else _check_rate("false_pass", false_pass)
    ma = cur.max_assertions if max_assertions is None else int(max_assertions)
    if ma < 1:
        raise ValueError(f"max_assertions must be >= 1, got {max_assertions!r}")
    _BUDGET = Budget(ff, fp, ma)
    _plan_cache.clear()
    return _BUDGET


def reset() -> None:
    """Back to the defaults (re-read from the environment)."""
    global _BUDGET
    _BUDGET = None
    _plan_cache.clear()


# --------------------------------------------------------------------------- quantiles

def z_two_sided(alpha: float) -> float:
    """``z`` with ``P(|Z| > z) = alpha`` for a standard normal ``Z``."""
    return float(_st.norm.isf(alpha / 2.0))


def z_one_sided(beta: float) -> float:
    """``z`` with ``P(Z > z) = beta``."""
    return float(_st.norm.isf(beta))


# --------------------------------------------------------------------------- DKWM / KS

def dkwm_epsilon(n: int, delta: float) -> float:
    """DKWM envelope: ``P(sup|F_n - F| > eps) <= delta`` for ``eps = sqrt(ln(2/delta)/(2n))``."""
    return math.sqrt(math.log(2.0 / delta) / (2.0 * n))


def dkwm_min_discrepancy(n: int, alpha: float, beta: float) -> float:
    """Smallest sup-distance between true and promised CDF caught w.p. ``>= 1 - beta``.

    If the true CDF ``G`` has ``sup|G - F| = D``, then with probability
    ``>= 1 - beta`` the empirical CDF is within ``eps(beta)`` of ``G``, so
    ``sup|F_n - F| >= D - eps(beta)``; it exceeds the threshold ``eps(alpha)``
    whenever ``D > eps(alpha) + eps(beta)``.
    """
    return dkwm_epsilon(n, alpha) + dkwm_epsilon(n, beta)


def dkwm_sample_size(discrepancy: float, alpha: float, beta: float) -> int:
    """The ``n`` making a sup-distance ``discrepancy`` detectable (inverse of the above)."""
    root = math.sqrt(math.log(2.0 / alpha) / 2.0) + math.sqrt(math.log(2.0 / beta) / 2.0)
    return int(math.ceil((root / discrepancy) ** 2))


def ks_statistic(sample: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> tuple[float, float]:
    """Two-sided KS distance of ``sample`` to a continuous ``cdf``; returns (D, argmax x)."""
    x = np.sort(np.asarray(sample, dtype=np.float64).ravel())
    n = x.size
    f = np.asarray(cdf(x), dtype=np.float64)
    upper = np.arange(1, n + 1) / n - f
    lower = f - np.arange(0, n) / n
    iu, il = int(np.argmax(upper)), int(np.argmax(lower))
    if upper[iu] >= lower[il]:
        return float(upper[iu]), float(x[iu])
    return float(lower[il]), float(x[il])


def ks_statistic_grid(sample: np.ndarray, cdf_at_upper: np.ndarray, cdf_at_lower: np.ndarray,
                      values: np.ndarray) -> tuple[float, float]:
    """KS distance to a *discrete* law on the grid ``values`` (sorted unique values seen).

    For a quantised dtype, the law as the dtype can represent it puts on each
    representable ``v`` the mass of its rounding cell ``(lo(v), hi(v)]``.
    ``cdf_at_upper[i] = F(hi(v_i))`` is the rounded law's CDF at ``v_i`` and
    ``cdf_at_lower[i] = F(lo(v_i))`` its left limit.  Between observed values
    both CDFs are flat or the empirical is flat, so checking both sides of
    every observed value gives the supremum over the observed support; values
    of the grid never observed are covered because the empirical CDF is
    constant there and the law's CDF is monotone.
    """
    x = np.asarray(sample, dtype=np.float64).ravel()
    n = x.size
    counts = np.searchsorted(np.sort(x), values, side="right")
    before = np.concatenate([[0], counts[:-1]])
    d_up = np.abs(counts / n - cdf_at_upper)
    d_lo = np.abs(before / n - cdf_at_lower)
    iu, il = int(np.argmax(d_up)), int(np.argmax(d_lo))
    if d_up[iu] >= d_lo[il]:
        return float(d_up[iu]), float(values[iu])
    return float(d_lo[il]), float(values[il])


# --------------------------------------------------------------------------- moments

def mean_min_shift(n: int, alpha: float, beta: float) -> float:
    """Smallest mean shift (in std units) caught w.p. ``>= 1 - beta`` by the two-sided z-test."""
    return (z_two_sided(alpha) + z_one_sided(beta)) / math.sqrt(n)


def mean_sample_size(shift: float, alpha: float, beta: float) -> int:
    """``n`` for which a mean shift of ``shift`` std is caught w.p. ``>= 1 - beta``."""
    return int(math.ceil(((z_two_sided(alpha) + z_one_sided(beta)) / shift) ** 2))


def variance_se(n: int, kurtosis: float) -> float:
    """Relative standard error of ``mean((x - mu)^2)``: ``sqrt((kappa + 2) / n)``.

    ``Var((x - mu)^2) = mu_4 - sigma^4 = sigma^4 (kappa + 2)`` with ``kappa``
    the excess kurtosis: exact for any law with a finite fourth moment.
    """
    return math.sqrt((kurtosis + 2.0) / n)


def variance_min_relative_change(n: int, kurtosis: float, alpha: float, beta: float) -> float:
    """Smallest relative variance change ``|v/v0 - 1|`` caught w.p. ``>= 1 - beta``.

    Under the alternative the estimator's spread is ``(1 + d)`` times larger
    (same kurtosis); detection needs ``d >= z_a s + z_b s (1 + d)``, i.e.
    ``d = s (z_a + z_b) / (1 - z_b s)``, with ``s = sqrt((kappa+2)/n)``.
    """
    s = variance_se(n, kurtosis)
    za, zb = z_two_sided(alpha), z_one_sided(beta)
    if zb * s >= 1:
        return math.inf
    return s * (za + zb) / (1.0 - zb * s)


def variance_sample_size(relative_change: float, kurtosis: float, alpha: float, beta: float) -> int:
    """``n`` for which a relative variance change is caught w.p. ``>= 1 - beta``."""
    za, zb = z_two_sided(alpha), z_one_sided(beta)
    s = relative_change / (za + zb + zb * relative_change)
    return int(math.ceil((kurtosis + 2.0) / s ** 2))


def std_error_to_variance_change(relative_std_error: float) -> float:
    """A std off by ``r`` (either way) changes the variance by at least ``2r - r^2``."""
    r = relative_std_error
    return min(1.0 - (1.0 - r) ** 2, (1.0 + r) ** 2 - 1.0)


# --------------------------------------------------------------------------- binomial

def binomial_threshold(n: int, p0: float, alpha: float) -> int:
    """Smallest ``k`` with ``P(Binom(n, p0) >= k) <= alpha``: reject when count >= k."""
    if p0 <= 0:
        return 1
    k = int(_st.binom.isf(alpha, n, p0)) + 1
    # isf returns the smallest k with sf(k) <= alpha, and sf(k) = P(X > k).
    while k > 1 and _st.binom.sf(k - 2, n, p0) <= alpha:
        k -= 1
    while _st.binom.sf(k - 1, n, p0) > alpha:
        k += 1
    return k


def binomial_min_excess(n: int, p0: float, alpha: float, beta: float) -> float:
    """Smallest extra rate ``d`` with ``P(Binom(n, p0 + d) < k_alpha) <= beta``.

    ``P(Bin(n, p) <= k - 1) = 1 - I_p(k, n - k + 1)`` (the regularized
    incomplete beta function), so the smallest such ``p`` is the beta quantile
    ``B^{-1}(1 - beta; k, n - k + 1)``: exact, one call.
    """
    k = binomial_threshold(n, p0, alpha)
    if k > n:
        return math.inf
    return max(0.0, float(_st.beta.isf(beta, k, n - k + 1)) - p0)


def binomial_sample_size(p0: float, excess: float, alpha: float, beta: float) -> int:
    """Smallest ``n`` (to 1 %) at which an extra rate ``excess`` over ``p0`` is caught."""
    lo, hi = 1, 16
    while binomial_min_excess(hi, p0, alpha, beta) > excess:
        lo, hi = hi, hi * 2
    while hi - lo > max(1, lo // 100):
        mid = (lo + hi) // 2
        if binomial_min_excess(mid, p0, alpha, beta) <= excess:
            hi = mid
        else:
            lo = mid
    return hi


def cp_upper(k: int, n: int, alpha: float) -> float:
    """One-sided upper Clopper-Pearson bound: ``P(rate <= bound) >= 1 - alpha`` (Clopper & Pearson 1934).

    The exact bound is a beta quantile, ``B^{-1}(1 - alpha; k + 1, n - k)``
    (1 when ``k = n``); computed with ``isf`` so it keeps full relative
    precision at the run's tiny per-assertion ``alpha`` (root-finding on
    binomial tails, as ``binomtest(...).proportion_ci`` does, loses it below
    ``alpha ~ 1e-10`` and collapses near ``1e-17``).
    """
    k, n = int(k), int(n)
    if k >= n:
        return 1.0
    return float(_st.beta.isf(alpha, k + 1, n - k))


def cp_lower(k: int, n: int, alpha: float) -> float:
    """One-sided lower Clopper-Pearson bound: ``P(rate >= bound) >= 1 - alpha``; ``B^{-1}(alpha; k, n - k + 1)``."""
    k, n = int(k), int(n)
    if k <= 0:
        return 0.0
    return float(_st.beta.ppf(alpha, k, n - k + 1))


def binomial_ci(count: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval for a rate: the one-sided bounds at ``(1 - level) / 2`` each."""
    a = (1.0 - level) / 2.0
    return cp_lower(count, n, a), cp_upper(count, n, a)


def cp_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval at confidence ``level`` (same as :func:`binomial_ci`)."""
    return binomial_ci(k, n, level)


def required_seeds(claim: str, p0: float, p1: float, alpha: float, beta: float, max_seeds: int = 4096) -> int:
    """Fewest seeds S for which the exact test of ``claim`` has both error rates.

    * ``"trains"`` (rate ``>= p0``): fail when ``k <= c`` with
      ``P(Bin(S, p0) <= c) <= alpha``; need ``P(Bin(S, p1) > c) <= beta``
      for the named discrepancy ``p1 < p0``.
    * ``"fails"`` / ``"diverges"`` (rate ``<= p0``): the mirror image, ``p1 > p0``.

    Raises:
        ValueError: If no ``S <= max_seeds`` suffices.
    """
    binom = _st.binom
    if claim == "trains":
        if not p1 < p0:
            raise ValueError(f"'trains' needs p1 < p0, got p0={p0}, p1={p1}")
        q0, q1 = p0, p1
    else:
        if not p1 > p0:
            raise ValueError(f"'{claim}' needs p1 > p0, got p0={p0}, p1={p1}")
        q0, q1 = 1.0 - p0, 1.0 - p1  # count the complementary event
    for n in range(1, max_seeds + 1):
        c = int(binom.ppf(alpha, n, q0))
        while c >= 0 and binom.cdf(c, n, q0) > alpha:
            c -= 1
        if c < 0:
            continue
        if binom.sf(c, n, q1) <= beta:
            return n
    raise ValueError(f"no S <= {max_seeds} separates {p0} from {p1} at alpha={alpha}, beta={beta}")


@dataclass(frozen=True)
class Band:
    """Acceptance band for a mean of independent replicas.

    Attributes:
        center: Expected statistic under the reference.
        half_width: ``z_{1 - alpha/2} * sd``.
        sd: Upper bound on the statistic's standard deviation.
        alpha, beta: False-fail rate; false-pass rate at ``detectable``.
        detectable: Smallest shift caught with probability ``1 - beta``;
            ``detectable_ratio`` is that shift spread over ``depth - 1``
            layers of a log ratio (``exp(detectable / (depth - 1))``).
    """

    center: float
    half_width: float
    sd: float
    alpha: float
    beta: float
    detectable: float
    detectable_ratio: float

    def contains(self, value: float) -> bool:
        return math.isfinite(value) and abs(value - self.center) <= self.half_width

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in ("center", "half_width", "sd", "alpha", "beta", "detectable",
                                              "detectable_ratio")}


def band(mean: float, var: float, seeds: int, depth: int, alpha: float, beta: float) -> Band:
    """Two-sided normal band for a mean of ``seeds`` independent replicas of variance ``var``.

    A false fail needs a deviation of ``z_{1-alpha/2}`` standard deviations;
    a shift of ``(z_{1-alpha/2} + z_{1-beta}) * sd`` lands outside the band
    with probability at least ``1 - beta``.  (Signal propagation: the
    per-input log ratio is a sum of ``depth - 1`` independent factors, so it
    is asymptotically normal, Hanin 2018.)
    """
    sd = math.sqrt(max(var, 0.0) / seeds)
    za = float(_st.norm.isf(alpha / 2))
    zb = float(_st.norm.isf(beta))
    det = (za + zb) * sd
    return Band(mean, za * sd, sd, alpha, beta, det, math.exp(det / max(depth - 1, 1)))


# --------------------------------------------------------------------------- results

@dataclass
class TestResult:
    """One statistical assertion: what was measured and what it can see.

    ``smallest_detectable`` is the discrepancy (in the unit named by
    ``discrepancy_unit``) caught with probability ``>= 1 - beta`` at this
    ``n``; the evidence of every check quotes it.
    """

    __test__ = False  # not a pytest class

    name: str
    statistic: float
    threshold: float
    passed: bool
    n: int
    alpha: float
    beta: float
    smallest_detectable: float
    discrepancy_unit: str
    observed: dict[str, Any] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.name, "statistic": self.statistic, "threshold": self.threshold,
            "passed": self.passed, "n": self.n, "alpha": self.alpha, "beta": self.beta,
            "smallest_detectable": self.smallest_detectable, "discrepancy_unit": self.discrepancy_unit,
            "observed": self.observed, "expected": self.expected,
        }


def ks_test(sample: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray], alpha: float, beta: float,
            *, grid: Optional[tuple[np.ndarray, np.ndarray, np.ndarray]] = None) -> TestResult:
    """DKWM test of ``sample`` against ``cdf`` (or the rounded law ``grid``)."""
    n = int(np.asarray(sample).size)
    if grid is None:
        d, where = ks_statistic(sample, cdf)
    else:
        values, up, lo = grid
        d, where = ks_statistic_grid(sample, up, lo, values)
    eps = dkwm_epsilon(n, alpha)
    return TestResult("dkwm_ks", d, eps, d <= eps, n, alpha, beta, dkwm_min_discrepancy(n, alpha, beta),
                      "sup |F_true - F_law|", observed={"sup_distance": d, "at": where})


def mean_test(sample: np.ndarray, mean: float, std: float, alpha: float, beta: float) -> TestResult:
    """Two-sided z-test of the sample mean against the law's mean (std known)."""
    x = np.asarray(sample, dtype=np.float64).ravel()
    n = x.size
    m = float(x.mean())
    z = (m - mean) / (std / math.sqrt(n))
    thr = z_two_sided(alpha)
    return TestResult("mean_z", abs(z), thr, abs(z) <= thr, n, alpha, beta, mean_min_shift(n, alpha, beta),
                      "mean shift / law std", observed={"mean": m, "shift_in_std": (m - mean) / std,
                                                       "std": float(x.std()), "min": float(x.min()),
                                                       "max": float(x.max())},
                      expected={"mean": mean, "std": std})


def variance_test(sample: np.ndarray, mean: float, variance: float, kurtosis: float,
                  alpha: float, beta: float) -> TestResult:
    """Two-sided z-test of ``mean((x - mu)^2)`` against the law's variance, kurtosis known."""
    x = np.asarray(sample, dtype=np.float64).ravel()
    n = x.size
    v = float(np.mean((x - mean) ** 2))
    s = variance_se(n, kurtosis)
    z = (v / variance - 1.0) / s
    thr = z_two_sided(alpha)
    return TestResult("variance_z", abs(z), thr, abs(z) <= thr, n, alpha, beta,
                      variance_min_relative_change(n, kurtosis, alpha, beta), "|var/var_law - 1|",
                      observed={"variance": v, "std": math.sqrt(v), "std_ratio": math.sqrt(v / variance),
                                "min": float(x.min()), "max": float(x.max())},
                      expected={"variance": variance, "std": math.sqrt(variance), "excess_kurtosis": kurtosis})


def excess_count_test(count: int, n: int, p0: float, alpha: float, beta: float, what: str) -> TestResult:
    """Exact binomial test: more than ``Binom(n, p0)`` allows in a rare region?"""
    k = binomial_threshold(n, p0, alpha)
    lo, hi = binomial_ci(count, n)
    return TestResult(f"binomial_{what}", float(count), float(k), count < k, n, alpha, beta,
                      binomial_min_excess(n, p0, alpha, beta), f"extra rate of {what} values",
                      observed={"count": int(count), "rate": count / n, "rate_ci95": [lo, hi]},
                      expected={"rate": p0, "mean_count": p0 * n, "reject_at_count": k})


# --------------------------------------------------------------------------- exact ties: atoms, resolution, mirrors
#
# The null (every test below): the draws are independent and no value v is
# more probable than qbar(v) = max(2^-p, F(cell(v))), cell(v) its
# round-to-nearest cell in the dtype, F the law, p the dtype's mantissa bits.
# It holds for the law rounded to the dtype and for every generator that
# fills the p mantissa bits of [1, 2) (the standard uniform construction)
# and maps them monotonically; it fails for anything with fewer random bits
# or with atoms.  ``cap`` is its description (:class:`initcheck.dtypes.AtomCap`):
# ``cap.expect(g, n)`` = E_law[g(n qbar(X))], ``cap.log_moment(j, n)`` =
# log E_law[(n qbar(X))^j].  With mu_v = n pi_v <= mubar(v) = n qbar(v),
# sum_v mu_v^j <= n E[mubar^(j-1)] bounds every moment used.


@dataclass(frozen=True)
class Ties:
    """Multiplicities of the values of a sample, compared in their own dtype (``-0.0 == 0.0``).

    Attributes:
        n: Number of values.
        values: The distinct values, sorted.
        counts: How often each occurs.
    """

    n: int
    values: np.ndarray
    counts: np.ndarray

    @property
    def distinct(self) -> int:
        return int(self.counts.size)

    @property
    def ties(self) -> int:
        """Pairs of equal values, ``sum C(N_v, 2)``."""
        c = self.counts.astype(np.int64)
        return int(np.sum(c * (c - 1) // 2))

    @property
    def max_multiplicity(self) -> int:
        return int(self.counts.max()) if self.counts.size else 0

    def top(self, k: int = 5) -> list[list[float]]:
        """The ``k`` most repeated values with their multiplicities (``[[value, count], ...]``)."""
        if not self.counts.size:
            return []
        idx = np.argpartition(-self.counts, min(k, self.counts.size - 1))[:k]
        idx = idx[np.argsort(-self.counts[idx], kind="stable")]
        return [[float(self.values[i]), int(self.counts[i])] for i in idx]


def tie_counts(draws: Any) -> Ties:
    """The :class:`Ties` of the values of ``draws`` (arrays, compared in their own dtype), from one sort."""
    x = np.concatenate([np.asarray(d).reshape(-1) for d in draws])
    np.add(x, x.dtype.type(0), out=x)  # -0.0 + 0.0 = +0.0: a signed zero is one value
    x.sort()
    starts = np.concatenate(([0], np.flatnonzero(x[1:] != x[:-1]) + 1))
    counts = np.diff(np.append(starts, x.size))
    return Ties(int(x.size), x[starts], counts)


def bernstein_deviation(variance: float, bound: float, delta: float) -> float:
    """``s`` with ``exp(-s^2 / (2 (V + b s / 3))) = delta``: a sum of independent terms with variance ``V``
    and deviations at most ``b`` exceeds its mean by ``s`` with probability ``<= delta`` (Bernstein)."""
    ell = math.log(1.0 / delta)
    return bound * ell / 3.0 + math.sqrt((bound * ell / 3.0) ** 2 + 2.0 * variance * ell)


def multiplicity_threshold(n: int, log_moment: Callable[[int], float], alpha: float) -> tuple[int, float]:
    """Smallest ``K`` with ``n E[mubar^(K-1)] / K! <= alpha``, and that bound on ``P(M >= K)``.

    ``log_moment(j)`` is ``log E[mubar(X)^j]`` (``cap.log_moment(j, n)``).
    ``P(M >= K) <= sum_v P(Bin(n, pi_v) >= K) <= sum_v (n pi_v)^K / K!
    <= n E[mubar(X)^(K-1)] / K!`` (union bound, ``P(Bin >= K) <= C(n, K) p^K``,
    the cap): exact, for every generator of the null.
    """
    k = 2
    while True:
        log_bound = math.log(n) + log_moment(k - 1) - math.lgamma(k + 1)
        if log_bound <= math.log(alpha) or k > 100_000:
            return k, math.exp(log_bound)
        k += 1


def atom_min_mass(n: int, k: int, beta: float) -> float:
    """Smallest atom mass ``a`` with ``P(Bin(n, a) >= k) >= 1 - beta``: its own count alone reaches ``k``."""
    return float(_st.beta.isf(beta, k, n - k + 1))


def atom_sample_size(mass: float, alpha: float, beta: float, bits: int = 23) -> int:
    """Smallest ``n`` (to 1 %) at which an atom of ``mass`` is caught w.p. ``>= 1 - beta``.

    Planned where the null allows the most ties among the dtypes the checks
    run on: every value capped at ``2^-bits`` with float32's 23 bits (the
    threshold ``K`` grows with ``n``; float64's bound is far lower).
    """
    def smallest(n: int) -> float:
        k, _ = multiplicity_threshold(n, lambda j: j * math.log(n * 2.0 ** -bits), alpha)
        return atom_min_mass(n, k, beta)

    lo, hi = 16, 32
    while smallest(hi) > mass:
        lo, hi = hi, hi * 2
    while hi - lo > max(1, lo // 100):
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if smallest(mid) <= mass else (mid, hi)
    return hi


def _null_text(cap: Any) -> str:
    return (f"every value has probability <= max(2^-{cap.bits}, its {cap.dtype} rounding cell under the law) "
            "(the law rounded to the dtype, or a generator filling the dtype's mantissa bits)")


def multiplicity_test(ties: Ties, cap: Any, alpha: float, beta: float) -> TestResult:
    """Atoms: the largest number of draws equal to one value, against the null's bound (exact).

    Power: an atom of mass ``a`` anywhere (a clamp, a saturation, a constant
    fallback) puts ``Bin(n, a)`` draws on one value; caught with probability
    ``>= 1 - beta`` for ``a >= smallest_detectable``.
    """
    n = ties.n
    k, bound = multiplicity_threshold(n, lambda j: cap.log_moment(j, n), alpha)
    m = ties.max_multiplicity
    return TestResult("max_multiplicity", float(m), float(k - 1), m < k, n, alpha, beta, atom_min_mass(n, k, beta),
                      "mass of one atom (any value)",
                      observed={"max_multiplicity": m, "most_repeated": ties.top(), "ties": ties.ties,
                                "distinct": ties.distinct},
                      expected={"reject_at_multiplicity": k, "bound_P_reject": bound,
                                "mean_ties_rounded_law": 0.5 * n * (n - 1) * cap.rounded,
                                "mean_ties_null_bound": 0.5 * n * cap.expect(lambda mu: mu, n), "null": _null_text(cap)})


def _truncated_poisson_moments(mu: float, c: int) -> tuple[float, float]:
    """Mean and variance of ``C(min(N, c), 2)`` for ``N ~ Poisson(mu)`` (exact finite sum)."""
    k = np.arange(c + 1)
    probs = np.append(_st.poisson.pmf(k[:-1], mu), _st.poisson.sf(c - 1, mu))
    y = k * (k - 1) / 2.0
    m = float(np.dot(probs, y))
    return m, max(float(np.dot(probs, y * y)) - m * m, 0.0)


def _bits_caught(n: int, bits: int, c: int, ties_threshold: float, distinct_threshold: float,
                 beta: float) -> tuple[int, int, int]:
    """For fixed-point generators with ``q`` random bits (``2^q`` atoms of ``2^-q``): the largest ``q`` caught
    w.p. ``>= 1 - beta`` by the truncated tie count, by the distinct count, and by one or the other for every
    ``q' <= q`` (lower- and upper-tail Bernstein on Poissonised counts, doubled)."""
    b = c * (c - 1) / 2.0
    by_ties, by_distinct, both = -1, -1, 0
    for q in range(1, bits + 1):
        atoms, mu = 2.0 ** q, n * 2.0 ** -q
        m1, v1 = _truncated_poisson_moments(mu, c)
        s = atoms * m1 - ties_threshold
        t_ok = s > 0 and 2.0 * math.exp(-s * s / (2.0 * (atoms * v1 + b * s / 3.0))) <= beta
        pe = -math.expm1(-mu)
        s = distinct_threshold - atoms * pe
        d_ok = s > 0 and 2.0 * math.exp(-s * s / (2.0 * (atoms * pe * (1.0 - pe) + s / 3.0))) <= beta
        by_ties = q if t_ok else by_ties
        by_distinct = q if d_ok else by_distinct
        if (t_ok or d_ok) and both == q - 1:
            both = q
    return by_ties, by_distinct, both


def resolution_tests(ties: Ties, cap: Any, alpha: float, beta: float, truncate: int) -> list[TestResult]:
    """Lost resolution: too many tied pairs or too few distinct values for the dtype (``alpha / 2`` each).

    * ``T_c = sum_v C(min(N_v, c), 2)``, the tied pairs with each value's
      multiplicity truncated at ``c`` (atoms are :func:`multiplicity_test`'s
      business).  ``{T_c >= t}`` grows with the number of draws, so its
      probability is at most twice that under Poissonised counts (Mitzenmacher
      & Upfal, *Probability and Computing*, Cor. 5.11), where the per-value
      terms are independent, in ``[0, C(c, 2)]``, with mean ``<= mu_v^2 / 2``
      and variance ``<= mu_v^3 + mu_v^2 / 2``: Bernstein at ``alpha / 4``.
    * ``D`` = the number of distinct values: ``E D >= n E[(1 - e^-mubar) /
      mubar]``, a sum of independent indicators (variance ``<= n``) after
      Poissonisation of the decreasing event; lower-tail Bernstein, doubled.
      ``T_c`` saturates for very coarse generators (a normal computed in
      bfloat16 has ~4 400 values); ``D`` does not.

    Power: a fixed-point generator with ``q`` random bits is caught with
    probability ``>= 1 - beta`` for every ``q <= p*``; ``smallest_detectable``
    is the number of bits lost, ``p - p*``.
    """
    n, c = ties.n, int(truncate)
    b = c * (c - 1) / 2.0
    cnt = np.minimum(ties.counts, c).astype(np.int64)
    tc = int(np.sum(cnt * (cnt - 1) // 2))
    mean = 0.5 * n * cap.expect(lambda mu: mu, n)
    var = n * cap.expect(lambda mu: mu * mu + mu / 2.0, n)
    t = mean + bernstein_deviation(var, b, alpha / 4.0)
    d_low = n * cap.expect(lambda mu: -np.expm1(-mu) / mu, n)
    s_d = bernstein_deviation(float(n), 1.0, alpha / 4.0)
    by_ties, by_distinct, both = _bits_caught(n, cap.bits, c, t, d_low - s_d, beta)
    lost = float(cap.bits - both)
    unit = (f"random bits lost below {cap.bits} (a fixed-point generator with up to {both} bits is caught; "
            f"ties alone: {by_ties}, distinct values alone: {by_distinct})")
    common = {"null": _null_text(cap), "bits_caught": both}
    ties_result = TestResult(
        "truncated_ties", float(tc), t, tc < t, n, alpha / 2.0, beta, lost, unit,
        observed={"truncated_ties": tc, "ties": ties.ties, "ratio_to_null_mean": tc / mean if mean > 0 else math.inf},
        expected={"null_mean_bound": mean, "null_sd_bound": math.sqrt(var), "truncate_at": c,
                  "mean_ties_rounded_law": 0.5 * n * (n - 1) * cap.rounded, **common})
    deficit = d_low - ties.distinct
    distinct_result = TestResult(
        "distinct_values", deficit, s_d, deficit < s_d, n, alpha / 2.0, beta, lost, unit,
        observed={"distinct": ties.distinct, "deficit_below_null_bound": deficit},
        expected={"null_mean_lower_bound": d_low, "reject_at_or_below": d_low - s_d, **common})
    return [ties_result, distinct_result]


def mirror_test(ties: Ties, cap: Any, alpha: float, beta: float, truncate: int) -> TestResult:
    """Exact mirrors: too many pairs of draws ``x_i = -x_j != 0`` (sign-flipped copies; a law centred at 0).

    ``C = sum_{v > 0} min(N_v, t) min(N_{-v}, t)``: the ties of ``|x|`` that
    are not ties of ``x``.  Under the null, Poissonised (doubled):
    ``E C <= (1/2) sum mu_v^2 <= n E[mubar] / 2``, ``Var C <= (n/2)
    E[mubar (1 + mubar)^2]``, terms in ``[0, t^2]``: Bernstein at ``alpha / 2``;
    no symmetry of the generator assumed.  Power: a fraction ``phi`` of
    entries paired with exact negatives adds ``phi n / 2``; caught for sure at
    ``phi >= 2 threshold / n`` (``inf`` when above 1: float32, whose null
    allows millions of chance mirrors at this ``n``).
    """
    n, c = ties.n, int(truncate)
    zero_lo, zero_hi = np.searchsorted(ties.values, 0, "left"), np.searchsorted(ties.values, 0, "right")
    pos, pos_count = ties.values[zero_hi:], ties.counts[zero_hi:]
    neg, neg_count = -ties.values[:zero_lo][::-1], ties.counts[:zero_lo][::-1]
    mirrors = 0
    if pos.size and neg.size:
        j = np.minimum(np.searchsorted(pos, neg), pos.size - 1)
        hit = np.flatnonzero(pos[j] == neg)
        mirrors = int(np.sum(np.minimum(neg_count[hit], c) * np.minimum(pos_count[j[hit]], c)))
    mean = 0.5 * n * cap.expect(lambda mu: mu, n)
    var = 0.5 * n * cap.expect(lambda mu: mu * (1.0 + mu) ** 2, n)
    t = mean + bernstein_deviation(var, float(c * c), alpha / 2.0)
    phi = 2.0 * t / n
    return TestResult("mirror_pairs", float(mirrors), t, mirrors < t, n, alpha, beta, phi if phi <= 1 else math.inf,
                      "fraction of entries that are exact sign-flipped copies of others",
                      observed={"mirror_pairs_truncated": mirrors},
                      expected={"null_mean_bound": mean, "null_sd_bound": math.sqrt(var), "truncate_at": c,
                                "null": _null_text(cap)})


# --------------------------------------------------------------------------- dependence between paired entries

def dependence_sample_size(correlation: float, sub_assertions: int, alpha: float, beta: float) -> int:
    """Values for which every pairing of at least half of them catches ``correlation`` w.p. ``>= 1 - beta``.

    A pairing of ``N`` pairs tested at ``alpha / k`` with the sign-symmetry
    threshold ``z_H = sqrt(2 ln(2k / alpha))`` catches a correlation ``rho``
    when ``rho sqrt(N) >= z_H + z_beta`` (leading order); ``N = n / 2``.
    """
    z_h = math.sqrt(2.0 * math.log(2.0 * sub_assertions / alpha))
    return int(math.ceil(2.0 * ((z_h + z_one_sided(beta)) / correlation) ** 2))


def pair_product_test(name: str, products_sum: float, squares_sum: float, pairs: int, alpha: float, beta: float,
                      *, variance: Optional[float] = None, observed: Optional[dict] = None) -> TestResult:
    """Paired entries uncorrelated: ``S = sum (x_i - c)(x_j - c)`` over a forest of pairs.

    Symmetric law (``variance`` not given): the signs of ``x - c`` are fair
    coins independent of the magnitudes, and along a forest (every designed
    pairing is a union of paths ``i, i + d, i + 2d, ...``) their products are
    i.i.d. fair coins, so given the magnitudes ``S`` is a Rademacher sum with
    weights ``a = |x_i - c||x_j - c|``: ``P(|S| >= z sqrt(sum a^2)) <=
    2 exp(-z^2 / 2)`` (Hoeffding) at every ``n``, no moment used.  A generator
    symmetric only up to its last bit makes the statistic a self-normalised
    martingale sum, asymptotically N(0, 1), whose tail at this threshold is
    20-50 times below ``alpha``.  Other laws: the z-test of the normalised sum
    with the law's variance (normal approximation, as the lag-1 test).

    Power: a correlation ``rho`` between paired entries is caught w.p.
    ``>= 1 - beta`` when ``rho >= (z + z_beta) / sqrt(N)`` (leading order).
    """
    if variance is None:
        thr = math.sqrt(2.0 * math.log(2.0 / alpha))
        stat = abs(products_sum) / math.sqrt(squares_sum) if squares_sum > 0 else 0.0
        bound = "sign symmetry (Hoeffding), exact for a symmetric generator"
    else:
        thr = z_two_sided(alpha)
        stat = abs(products_sum) / (variance * math.sqrt(pairs))
        bound = "normal approximation (law not symmetric)"
    return TestResult(name, stat, thr, stat < thr, pairs, alpha, beta, (thr + z_one_sided(beta)) / math.sqrt(pairs),
                      "correlation of paired entries", observed=dict(observed or {}),
                      expected={"correlation": 0.0, "bound": bound})


def sign_agreement_test(name: str, agreements: int, pairs: int, alpha: float, beta: float,
                        observed: Optional[dict] = None) -> TestResult:
    """Pairs whose two entries fall on the same side of the median of ``|x - c|``: ``Bin(pairs, 1/2)`` (exact).

    Under independence each entry is above the law's median of ``|X - c|``
    with probability 1/2 (up to one dtype cell, below 1e-6 of a standard
    deviation of the count), and along a forest of pairs the agreement
    indicators are i.i.d. fair coins.  Two-sided exact binomial test.  Power:
    a quadrant association (Blomqvist's beta) ``gamma = 2 P(agree) - 1`` of the
    magnitudes is caught w.p. ``>= 1 - beta`` when ``gamma >= (z + z_beta) /
    sqrt(N)``: dependence that lives only in magnitudes (shared scales,
    ``|x|`` copied with fresh signs).
    """
    lo = int(_st.binom.ppf(alpha / 2.0, pairs, 0.5))
    hi = int(_st.binom.isf(alpha / 2.0, pairs, 0.5)) + 1
    while lo >= 0 and _st.binom.cdf(lo, pairs, 0.5) > alpha / 2.0:
        lo -= 1
    gamma = 2.0 * agreements / pairs - 1.0
    stat = abs(agreements - pairs / 2.0)
    return TestResult(name, stat, (hi - 1) - pairs / 2.0, lo < agreements < hi, pairs, alpha, beta,
                      (z_two_sided(alpha) + z_one_sided(beta)) / math.sqrt(pairs),
                      "quadrant association of |x - c| between paired entries",
                      observed={"agreements": int(agreements), "gamma": gamma, **dict(observed or {})},
                      expected={"agreements": pairs / 2.0, "accept_open_interval": [lo, hi]})


def rank_classes(values: np.ndarray, bins: int, rng: np.random.Generator) -> np.ndarray:
    """Rank class (``0 .. bins - 1``, ``len(values) / bins`` values each) of every value; ``len(values)`` a
    multiple of ``bins``.

    Equal values straddling a class boundary are split in an order drawn from
    ``rng``: the class vector of i.i.d. values is then exchangeable, ties or
    not, and two coordinates classed with independent orders are independent
    under the null -- what makes :func:`rank_table_test`'s cells exactly
    hypergeometric.  One partition finds the boundary values; a value strictly
    between two of them has its class by comparison, and only the (few)
    values equal to a boundary value are ordered at random.
    """
    size = values.size
    per = size // bins
    kth = [per * j for j in range(1, bins)]
    cuts = np.partition(values, kth)[kth]
    cls = np.searchsorted(cuts, values, side="left").astype(np.int64)
    for cut in np.unique(cuts):
        members = rng.permutation(np.flatnonzero(values == cut))
        below = int(np.count_nonzero(values < cut))
        cls[members] = (below + np.arange(members.size)) // per
    return cls


def rank_table_test(table: np.ndarray, alpha: float, beta: float) -> TestResult:
    """Independence of random pairs through a ``b x b`` table of rank classes (exact hypergeometric cells).

    Both coordinates of ``N`` pairs are cut into ``b`` rank classes of ``N/b``
    values; with the margins fixed, each cell count is hypergeometric
    ``(N, N/b, N/b)`` under independence whatever the marginal law.  Reject
    when a cell leaves its two-sided interval at ``alpha / b^2``.  Power: a
    cell whose mass differs from ``1/b^2`` by ``delta`` is caught w.p.
    ``>= 1 - beta`` above ``smallest_detectable`` (binomial normal
    approximation); ``rho_gaussian_min`` is the correlation of a Gaussian
    copula with that excess in its corner cell.
    """
    bins = table.shape[0]
    n = int(table.sum())
    per = n // bins
    a_cell = alpha / (bins * bins)
    hg = _st.hypergeom(n, per, per)
    lo, hi = int(hg.ppf(a_cell / 2.0)), int(hg.isf(a_cell / 2.0)) + 1
    while lo >= 0 and hg.cdf(lo) > a_cell / 2.0:
        lo -= 1
    p0 = 1.0 / bins ** 2
    delta = (hi - n * p0) / n + z_one_sided(beta) * math.sqrt(p0 * (1 - p0) / n)
    zq = float(_st.norm.ppf(1.0 / bins))

    def corner(rho: float) -> float:
        return float(_st.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([zq, zq])) - p0

    lo_r, hi_r = 0.0, 0.99
    for _ in range(30):
        mid = 0.5 * (lo_r + hi_r)
        lo_r, hi_r = (lo_r, mid) if corner(mid) >= delta else (mid, hi_r)
    worst = int(np.argmax(np.abs(table - n * p0)))
    stat = float(np.max(np.abs(table - n * p0)))
    return TestResult("rank_table", stat, float(max(hi - 1 - n * p0, n * p0 - lo - 1)),
                      bool(np.all((table > lo) & (table < hi))), n, alpha, beta, delta,
                      f"mass excess of one cell of the {bins}x{bins} rank table",
                      observed={"worst_cell": [worst // bins, worst % bins], "worst_count": int(table.flat[worst]),
                                "min": int(table.min()), "max": int(table.max())},
                      expected={"cell_mean": n * p0, "accept_open_interval": [lo, hi], "rho_gaussian_min": hi_r})


# --------------------------------------------------------------------------- plans

@dataclass(frozen=True)
class Plan:
    """Planned sample sizes of the default gate, from the active budget.

    Attributes:
        n_moments: values for the mean, variance and KS tests (one pooled
            sample): the largest of the three requirements.
        n_tails: values for the binomial count of clamped / escaped /
            outlying values.
        requirements: each test's own requirement, for the evidence and docs
            (``atoms``: values for the exact-tie counts, :func:`atom_sample_size`;
            ``dependence``: values for the designed pairings and the rank
            table, :func:`dependence_sample_size`).
    """

    n_moments: int
    n_tails: int
    requirements: dict[str, int]
    alpha: float
    beta: float


_plan_cache: dict[tuple, Plan] = {}


def default_plan(kurtosis: float = 0.0, *, alpha: Optional[float] = None, beta: Optional[float] = None,
                 splits: int = 1) -> Plan:
    """Sample sizes that make the named discrepancies detectable.

    Args:
        kurtosis: Excess kurtosis of the law (sets the variance test's size).
        alpha, beta: Override the budget's per-check rates.
        splits: Number of sub-assertions sharing ``alpha`` inside one check.
    """
    b = budget()
    a = (b.alpha if alpha is None else alpha) / splits
    be = b.beta if beta is None else beta
    key = (round(kurtosis, 6), a, be)
    if key not in _plan_cache:
        req = {
            "mean": mean_sample_size(MEAN_SHIFT, a, be),
            "variance": variance_sample_size(std_error_to_variance_change(STD_RELATIVE), kurtosis, a, be),
            "ks": dkwm_sample_size(KS_DISCREPANCY, a, be),
            "tails": binomial_sample_size(TAIL_NULL_RATE, EXCESS_RATE, a, be),
            "atoms": atom_sample_size(ATOM_MASS, a, be),
            "dependence": dependence_sample_size(PAIR_CORRELATION, PLANNED_PAIRINGS, a, be),
        }
        _plan_cache[key] = Plan(max(req["mean"], req["variance"], req["ks"]), req["tails"], req, a, be)
    return _plan_cache[key]
