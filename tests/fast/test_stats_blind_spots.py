"""The error-rate arithmetic of the exact-tie and dependence tests (initcheck.stats, initcheck.dtypes.atom_cap).

Design figures at the default budget (docs/statistics.md), the bounds against
small simulations at a measurable alpha (each test's false-fail rate is at
most its alpha; the wrong generator of its class is caught), and the
distribution-free claims (a signed zero is one value; the rank table's cells
are hypergeometric whatever the marginal law).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sst

from initcheck import stats
from initcheck.dtypes import atom_cap, narrow_share
from initcheck.laws import Normal, TruncatedNormal, Uniform

ALPHA, BETA = 5e-11, 1e-6


def test_default_sizes_and_guarantees() -> None:
    req = stats.default_plan().requirements
    assert req["atoms"] == 1_900_544 and req["dependence"] == 3_032_033
    f32, f64 = atom_cap(Normal(std=0.05), "float32"), atom_cap(Normal(std=0.05), "float64")
    assert f32.constant and f64.constant
    k32, _ = stats.multiplicity_threshold(8_716_288, lambda j: f32.log_moment(j, 8_716_288), ALPHA)
    k64, _ = stats.multiplicity_threshold(8_716_288, lambda j: f64.log_moment(j, 8_716_288), ALPHA)
    assert (k32, k64) == (20, 3)  # the prototype's figures at n_tails
    assert stats.atom_min_mass(8_716_288, 20, BETA) == pytest.approx(5.60e-6, rel=1e-2)
    n = req["atoms"]
    k, _ = stats.multiplicity_threshold(n, lambda j: f32.log_moment(j, n), ALPHA)
    assert stats.atom_min_mass(n, k, BETA) <= stats.ATOM_MASS


def test_the_cap_is_general_where_the_law_is_peaked_in_its_dtype() -> None:
    cap = atom_cap(Uniform(1.0, 1.5), "float32")  # spacing 2^-23 on [1, 2): a cell holds 2 x 2^-23
    assert not cap.constant and cap.qbar.max() == pytest.approx(2.0 ** -22 * 1.01)
    assert atom_cap(TruncatedNormal(std=0.05, cut=2.0), "float32").rounded < 2.0 ** -23


def test_ties_compare_in_the_dtype_and_a_signed_zero_is_one_value() -> None:
    x = np.array([0.0, -0.0, 1.5, 1.5, 1.5, -2.0], dtype=np.float32)
    t = stats.tie_counts([x[:3], x[3:]])
    assert (t.n, t.distinct, t.ties, t.max_multiplicity) == (6, 3, 4, 3)
    assert t.top(1) == [[1.5, 3]]


def _fixed_point(rng: np.random.Generator, bits: int, n: int) -> np.ndarray:
    return ((rng.integers(0, 2 ** bits, size=n) + 0.5) / 2.0 ** bits * 2 - 1).astype(np.float32)


def test_tie_tests_hold_their_alpha_and_catch_fewer_bits_and_atoms() -> None:
    """A 12-bit generator at n = 3000 (mubar = 0.73) is the null's edge; 9 bits, or a 1 % atom, are not."""
    alpha, n, reps = 0.05, 3000, 200
    cap = atom_cap(Uniform(-1.0, 1.0), "float32", bits=12)
    k, _ = stats.multiplicity_threshold(n, lambda j: cap.log_moment(j, n), alpha)
    rng = np.random.default_rng(0)

    def verdicts(sample: np.ndarray) -> tuple[bool, bool, bool]:
        t = stats.tie_counts([sample])
        res = stats.resolution_tests(t, cap, alpha, BETA, truncate=k - 1)
        return (stats.multiplicity_test(t, cap, alpha, BETA).passed, res[0].passed, res[1].passed)

    null = np.array([verdicts(_fixed_point(rng, 12, n)) for _ in range(reps)])
    assert (~null).mean(axis=0).max() <= alpha
    coarse = np.array([verdicts(_fixed_point(rng, 9, n)) for _ in range(20)])
    assert not coarse[:, 1].any()
    atom = _fixed_point(rng, 12, n)
    atom[:30] = 0.125
    assert not verdicts(atom)[0]


def test_mirror_count_sees_sign_flipped_copies_in_float64() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(200_000) * 0.05
    cap = atom_cap(Normal(std=0.05), "float64")
    assert stats.mirror_test(stats.tie_counts([x]), cap, ALPHA, BETA, truncate=2).passed
    x[100_000:100_200] = -x[:200]
    r = stats.mirror_test(stats.tie_counts([x]), cap, ALPHA, BETA, truncate=2)
    assert not r.passed and r.statistic == 200


def test_pair_product_test_is_conservative_and_powerful() -> None:
    alpha, n, reps = 0.01, 20_000, 300
    rng = np.random.default_rng(2)
    fails = 0
    for _ in range(reps):
        y = rng.standard_normal(n)
        r = stats.pair_product_test("x", float(y[:-1] @ y[1:]), float((y[:-1] ** 2) @ (y[1:] ** 2)), n - 1, alpha, BETA)
        fails += not r.passed
    assert fails / reps <= alpha + 3 * math.sqrt(alpha / reps)
    z = rng.standard_normal(n + 1)
    y = (z[1:] + 0.2 * z[:-1]) / math.sqrt(1.04)  # lag-1 correlation 0.19
    r = stats.pair_product_test("x", float(y[:-1] @ y[1:]), float((y[:-1] ** 2) @ (y[1:] ** 2)), n - 1, alpha, BETA)
    assert not r.passed and r.smallest_detectable < 0.19


def test_sign_agreement_interval_is_exact() -> None:
    pairs, alpha = 1000, 1e-3
    r = stats.sign_agreement_test("abs", 500, pairs, alpha, BETA)
    lo, hi = r.expected["accept_open_interval"]
    assert sst.binom.cdf(lo, pairs, 0.5) <= alpha / 2 < sst.binom.cdf(lo + 1, pairs, 0.5)
    assert sst.binom.sf(hi - 1, pairs, 0.5) <= alpha / 2 < sst.binom.sf(hi - 2, pairs, 0.5)
    assert not stats.sign_agreement_test("abs", hi, pairs, alpha, BETA).passed
    assert stats.sign_agreement_test("abs", hi - 1, pairs, alpha, BETA).passed


def test_rank_table_cells_are_hypergeometric_whatever_the_law() -> None:
    """Under independence the rejection rate stays below alpha for a skewed law with ties."""
    alpha, bins, n, reps = 0.05, 8, 4096, 200
    rng = np.random.default_rng(3)
    fails = 0
    for _ in range(reps):
        a, b = np.round(rng.gamma(1.5, size=(2, n)), 1)  # ties on purpose, dozens at every class boundary
        cls_a, cls_b = stats.rank_classes(a, bins, rng), stats.rank_classes(b, bins, rng)
        assert np.all(np.bincount(cls_a) == n // bins)
        table = np.bincount(cls_a * bins + cls_b, minlength=bins * bins).reshape(bins, bins)
        fails += not stats.rank_table_test(table, alpha, BETA).passed
    assert fails / reps <= alpha


def test_binomial_min_excess_is_the_beta_quantile() -> None:
    n, p0 = 8_716_288, 2.5e-7
    d = stats.binomial_min_excess(n, p0, ALPHA, BETA)
    k = stats.binomial_threshold(n, p0, ALPHA)
    assert sst.binom.cdf(k - 1, n, p0 + d) == pytest.approx(BETA, rel=1e-6)
    assert stats.binomial_sample_size(stats.TAIL_NULL_RATE, stats.EXCESS_RATE, ALPHA, BETA) == 8_716_288


def test_narrow_share_reads_the_low_mantissa_bits() -> None:
    rng = np.random.default_rng(4)
    full = rng.standard_normal(10_000).astype(np.float32)
    assert narrow_share(full, "float32")["bfloat16"] < 0.01
    import ml_dtypes

    coarse = full.astype(ml_dtypes.bfloat16).astype(np.float32)
    assert narrow_share(coarse, "float32")["bfloat16"] == 1.0
