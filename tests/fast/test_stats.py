"""initcheck.stats: the error-rate arithmetic is right, and its tests have teeth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from initcheck import stats


@pytest.fixture(autouse=True)
def _fresh_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INITCHECK_FALSE_FAIL", raising=False)
    monkeypatch.delenv("INITCHECK_FALSE_PASS", raising=False)
    stats.reset()
    yield
    stats.reset()


def test_default_budget_is_bonferroni_over_fixed_assertion_count() -> None:
    b = stats.budget()
    assert (b.false_fail, b.false_pass, b.max_assertions) == (1e-6, 1e-6, 20_000)
    assert b.alpha == pytest.approx(5e-11)
    assert b.beta == 1e-6


def test_configure_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert stats.configure(false_fail=1e-3).alpha == pytest.approx(1e-3 / 20_000)
    assert stats.configure(max_assertions=10).alpha == pytest.approx(1e-4)
    stats.reset()
    monkeypatch.setenv("INITCHECK_FALSE_FAIL", "2e-6")
    monkeypatch.setenv("INITCHECK_FALSE_PASS", "1e-3")
    assert stats.budget().false_fail == 2e-6 and stats.budget().beta == 1e-3


@pytest.mark.parametrize("bad", [0.0, 1.0, -1e-3, 2.0])
def test_configure_rejects_impossible_rates(bad: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.configure(false_fail=bad)


def test_bad_environment_value_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INITCHECK_FALSE_FAIL", "often")
    with pytest.raises(ValueError, match="INITCHECK_FALSE_FAIL"):
        stats.budget()


def test_dkwm_envelope_and_sizing_are_inverse() -> None:
    assert stats.dkwm_epsilon(1000, 0.05) == pytest.approx(math.sqrt(math.log(40) / 2000))
    a, b = 5e-11, 1e-6
    n = stats.dkwm_sample_size(0.01, a, b)
    assert stats.dkwm_min_discrepancy(n, a, b) <= 0.01 < stats.dkwm_min_discrepancy(n - 50, a, b)


def test_moment_sizing_is_inverse() -> None:
    a, b = 5e-11, 1e-6
    n = stats.mean_sample_size(0.01, a, b)
    assert stats.mean_min_shift(n, a, b) <= 0.01 < stats.mean_min_shift(n - 100, a, b)
    for kurt in (-1.2, -0.6366, 0.0, 3.0):
        n = stats.variance_sample_size(0.0199, kurt, a, b)
        assert stats.variance_min_relative_change(n, kurt, a, b) == pytest.approx(0.0199, rel=1e-4)


def test_default_plan_numbers() -> None:
    """The documented sample sizes (docs/statistics.md) follow from the default budget."""
    plan = stats.default_plan(0.0)
    assert plan.requirements["mean"] == pytest.approx(1.2824e6, rel=1e-3)
    assert plan.requirements["variance"] == pytest.approx(6.585e5, rel=1e-3)
    assert plan.requirements["ks"] == pytest.approx(3.828e5, rel=1e-3)
    assert plan.n_moments == plan.requirements["mean"]
    # Uniform needs fewer values for its variance: its kurtosis is -1.2.
    assert stats.default_plan(-1.2).requirements["variance"] < plan.requirements["variance"] / 2
    a, b = plan.alpha, plan.beta
    assert stats.binomial_min_excess(plan.n_tails, stats.TAIL_NULL_RATE, a, b) <= stats.EXCESS_RATE
    assert -math.log(b) / plan.n_tails <= stats.EXCESS_RATE  # an escape rate of 5e-6 cannot hide


def test_binomial_threshold_is_exact() -> None:
    for n, p0, alpha in [(10**6, 1e-7, 5e-11), (7 * 10**6, 2.5e-7, 5e-11), (1000, 0.01, 1e-3)]:
        k = stats.binomial_threshold(n, p0, alpha)
        assert st.binom.sf(k - 1, n, p0) <= alpha < st.binom.sf(k - 2, n, p0)


def test_binomial_min_excess_meets_beta() -> None:
    n, p0, a, b = 8_000_000, 2.5e-7, 5e-11, 1e-6
    d = stats.binomial_min_excess(n, p0, a, b)
    k = stats.binomial_threshold(n, p0, a)
    assert st.binom.cdf(k - 1, n, p0 + d) <= b
    assert st.binom.cdf(k - 1, n, p0 + 0.9 * d) > b


def test_binomial_ci_matches_scipy() -> None:
    lo, hi = stats.binomial_ci(3, 100)
    ref = st.binomtest(3, 100).proportion_ci(method="exact")
    assert (lo, hi) == pytest.approx((ref.low, ref.high))


def test_variance_standard_error_uses_kurtosis() -> None:
    """Monte Carlo: the spread of mean((x-mu)^2)/sigma^2 is sqrt((kappa+2)/n), not the normal sqrt(2/n)."""
    rng = np.random.default_rng(0)
    n, reps = 400, 4000
    v = (rng.uniform(-1, 1, size=(reps, n)) ** 2).mean(axis=1) / (1 / 3)
    assert v.std() == pytest.approx(stats.variance_se(n, -1.2), rel=0.05)
    assert v.std() < 0.75 * stats.variance_se(n, 0.0)


def test_tests_pass_correct_and_catch_wrong_samples() -> None:
    rng = np.random.default_rng(1)
    a, b = 5e-11, 1e-6
    x = rng.normal(0.0, 2.0, 400_000)
    law = st.norm(scale=2.0)
    assert stats.ks_test(x, law.cdf, a, b).passed
    assert stats.mean_test(x, 0.0, 2.0, a, b).passed
    assert stats.variance_test(x, 0.0, 4.0, 0.0, a, b).passed
    assert not stats.ks_test(x * 1.1, law.cdf, a, b).passed
    assert not stats.mean_test(x + 0.1, 0.0, 2.0, a, b).passed
    assert not stats.variance_test(x * 1.05, 0.0, 4.0, 0.0, a, b).passed
    res = stats.excess_count_test(0, 10**6, 1e-7, a, b, "edge")
    assert res.passed and not stats.excess_count_test(40, 10**6, 1e-7, a, b, "edge").passed


def test_ks_grid_uses_the_rounded_law() -> None:
    """bfloat16-rounded normal values pass against the rounded law; a continuous CDF misjudges them."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, 1_000_000).astype(np.float32).astype(ml_dtypes.bfloat16).astype(np.float64)
    values = np.unique(x)
    v16 = values.astype(np.float32).astype(ml_dtypes.bfloat16)
    up = np.nextafter(v16, np.asarray(np.inf, dtype=ml_dtypes.bfloat16)).astype(np.float64)
    down = np.nextafter(v16, np.asarray(-np.inf, dtype=ml_dtypes.bfloat16)).astype(np.float64)
    grid = (values, st.norm.cdf(0.5 * (values + up)), st.norm.cdf(0.5 * (values + down)))
    a, b = 5e-11, 1e-6
    rounded = stats.ks_test(x, st.norm.cdf, a, b, grid=grid)
    continuous = stats.ks_test(x, st.norm.cdf, a, b)
    assert rounded.passed
    assert rounded.statistic < continuous.statistic


# --------------------------------------------------------------------------- Clopper-Pearson (convergence seeds)

ALPHA = 5e-11
BETA = 1e-6


def test_clopper_pearson_closed_forms() -> None:
    """k = n and k = 0 have closed forms: lower = alpha^(1/n), upper = 1 - alpha^(1/n)."""
    for n in (16, 56, 128):
        assert stats.cp_lower(n, n, ALPHA) == pytest.approx(ALPHA ** (1 / n), rel=1e-9)
        assert stats.cp_upper(0, n, ALPHA) == pytest.approx(1 - ALPHA ** (1 / n), rel=1e-8)  # beta.ppf near 1
        assert stats.cp_upper(n, n, ALPHA) == 1.0 and stats.cp_lower(0, n, ALPHA) == 0.0
    lo, hi = stats.cp_interval(8, 16)
    assert lo < 0.5 < hi and lo == pytest.approx(1 - hi, rel=1e-9)


def test_sixteen_seeds_cannot_support_ninety_percent() -> None:
    """The arithmetic in docs/convergence.md: 16/16 certifies only >= 0.227 at alpha = 5e-11."""
    assert stats.cp_lower(16, 16, ALPHA) == pytest.approx(0.2275, abs=1e-3)
    assert stats.cp_lower(128, 128, ALPHA) < 0.9 < stats.cp_lower(256, 256, ALPHA)


def test_required_seeds_meets_both_error_rates() -> None:
    n = stats.required_seeds("trains", 0.9, 0.25, ALPHA, BETA)
    assert n == 53
    # the decision rule at n: fail iff the upper bound < 0.9, i.e. k <= c
    c = max(k for k in range(n + 1) if stats.cp_upper(k, n, ALPHA) < 0.9)
    assert st.binom.cdf(c, n, 0.9) <= ALPHA * 1.0001  # false fail at the claimed rate
    assert st.binom.sf(c, n, 0.25) <= BETA  # false pass at the named discrepancy
    assert stats.required_seeds("fails", 0.1, 0.75, ALPHA, BETA) == n  # mirror image
    with pytest.raises(ValueError):
        stats.required_seeds("trains", 0.5, 0.6, ALPHA, BETA)
