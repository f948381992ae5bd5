"""The power table's rows: each named wrong initializer, the check that must catch it, and how.

Every row pairs a spec whose law is the *correct* one with a deliberately
wrong NumPy sampler (:mod:`common.doubles`), names the check that must catch
it, and :func:`run_row` asserts two things:

* by design -- the double's discrepancy is at least the smallest discrepancy
  the check is sure (probability >= 1 - beta = 1 - 1e-6) to catch at the
  sample size it used, read from the check's own evidence;
* in practice -- the check raises :class:`CheckFailure` on it (stamped with
  the check's name), for every case seed given; the correct sampler passes
  the same check on the same case.

tests/teeth runs every row on one seed; tests/slow measures the detection
rate over ten more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from scipy import stats as st

from initcheck import stats
from initcheck.checks import _sampling, dependence, seeds
from initcheck.checks import distribution as dist
from initcheck.checks import structured
from initcheck.checks.evidence import CheckFailure
from initcheck.laws import Normal, TruncatedNormal, Uniform, truncated_normal_std_ratio

from .doubles import (SEED_MAPS, Sampler, clipped, corrupted, equicorrelated, exact, fans_swapped, haar_sampler,
                      no_truncation_correction, normal_fan_law, np_spec, orthogonal_law, receptive_field_ignored,
                      rows_correlated, scaled, shifted, stride_correlated, truncated_at, truncated_fan_law,
                      uniform_bits, uniform_same_variance)

#: Case seeds per row in the default gate; ``-m slow`` measures the detection rate over more.
SEEDS = (0,)
SLOW_SEEDS = tuple(range(1, 11))


def sup_cdf_distance(a: Any, b: Any) -> float:
    """``sup_x |F_a(x) - F_b(x)|`` on a fine grid (the discrepancy a KS test sees)."""
    x = np.linspace(-6, 6, 400_001)
    return float(np.abs(a.cdf(x) - b.cdf(x)).max())


@dataclass(frozen=True)
class Row:
    name: str
    law: Any
    wrong: Sampler
    check: Callable
    case: dict
    discrepancy: float           # the double's discrepancy, in the unit of the check's evidence
    test_index: int = 0          # which sub-test of the evidence states the smallest detectable
    structured_law: bool = False
    test_name: str = ""          # or: the sub-test of that name
    seed_map: Any = None         # the double's seed mangling (np_spec(seed_map=...))


STD = 0.05
NORMAL = Normal(std=STD)
TRUNC = TruncatedNormal.with_variance(STD ** 2)
UNIF = Uniform.symmetric(math.sqrt(3) * STD)
BIG = [256, 512]

ROWS = [
    Row("std off by +1%", NORMAL, scaled(1.01), dist.check_variance, {"shape": BIG, "dtype": "float32"},
        1.01 ** 2 - 1),
    Row("std off by -1%", NORMAL, scaled(0.99), dist.check_variance, {"shape": BIG, "dtype": "float32"},
        1 - 0.99 ** 2),
    Row("fan_in/fan_out swapped (64 x 1024)", normal_fan_law(2.0, "fan_in"), fans_swapped(2.0, "fan_in"),
        dist.check_variance, {"shape": [64, 1024], "dtype": "float32"}, 1 - 64 / 1024),
    Row("missing truncated-normal correction (x0.8796)", truncated_fan_law(1.0, "fan_avg"),
        no_truncation_correction, dist.check_variance, {"shape": BIG, "dtype": "float32"},
        1 - truncated_normal_std_ratio(2.0) ** 2),
    Row("uniform instead of normal, equal variance", NORMAL, uniform_same_variance, dist.check_law_fit,
        {"shape": BIG, "dtype": "float32"},
        sup_cdf_distance(st.norm(), st.uniform(-math.sqrt(3), 2 * math.sqrt(3)))),
    Row("truncation at +-3 sigma instead of +-2 sigma", TRUNC, truncated_at(3.0), dist.check_law_fit,
        {"shape": BIG, "dtype": "float32"},
        sup_cdf_distance(st.truncnorm(-2, 2, scale=1 / truncated_normal_std_ratio(2)),
                         st.truncnorm(-3, 3, scale=1 / truncated_normal_std_ratio(3)))),
    Row("mean shifted by 0.01 sigma", NORMAL, shifted(0.01), dist.check_mean, {"shape": BIG, "dtype": "float32"},
        0.01),
    Row("5 per million clamped to the support edge (uniform)", UNIF, corrupted(5e-6, "clamp"), dist.check_tails,
        {"shape": BIG, "dtype": "float32"}, 5e-6),
    Row("5 per million clamped to the support edge (truncated normal)", TRUNC, corrupted(5e-6, "clamp"),
        dist.check_tails, {"shape": BIG, "dtype": "float32"}, 5e-6),
    Row("5 per million escaped beyond the support", TRUNC, corrupted(5e-6, "escape"), dist.check_support,
        {"shape": BIG, "dtype": "float32"}, 5e-6),
    Row("receptive field ignored (conv 3x3x64x128)", normal_fan_law(2.0, "fan_in"), receptive_field_ignored(2.0),
        dist.check_variance, {"shape": [3, 3, 64, 128], "dtype": "float32"}, 8.0),
    Row("orthogonal without the sign correction (not Haar)", orthogonal_law(1.0), haar_sampler(False),
        structured.check_haar, {"shape": [16, 8], "dtype": "float32"}, 0.5, structured_law=True),
    Row("right marginal, rows correlated (rho = 0.05)", NORMAL, rows_correlated(0.05), dist.check_independence,
        {"shape": BIG, "dtype": "float32"}, 0.05),
]



def gaussian_corner_excess(rho: float, bins: int = dependence.RANK_BINS) -> float:
    """Mass excess of the lower-left cell of the ``bins x bins`` rank table of a Gaussian copula ``rho``."""
    z = float(st.norm.ppf(1.0 / bins))
    return float(st.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([z, z])) - 1.0 / bins ** 2


# The blind spots of issue #14: one row per class, its discrepancy in the unit of the check's evidence.
ROWS += [
    Row("clip at +-3 sigma (atoms of 0.135 % at the cuts)", NORMAL, clipped(3.0), dist.check_atoms,
        {"shape": BIG, "dtype": "float32"}, float(st.norm.sf(3.0))),
    Row("uniform from 16 random bits (7 bits lost)", UNIF, uniform_bits(16), dist.check_resolution,
        {"shape": BIG, "dtype": "float32"}, 23 - 16),
    Row("correlation 0.05 at flat stride 64", NORMAL, stride_correlated(64, 0.05), dependence.check_pair_dependence,
        {"shape": BIG, "dtype": "float32"}, 0.05 / (1 + 0.05 ** 2), test_name="pairs_x_flat_stride_64"),
    Row("all entries of a kernel correlated 0.1 (one shared component)", NORMAL, equicorrelated(0.1),
        dependence.check_rank_independence, {"shape": [64, 64], "dtype": "float32"}, gaussian_corner_excess(0.1)),
    Row("seed folded modulo 1000", NORMAL, exact, seeds.check_seed_collisions,
        {"shape": [4, 4], "dtype": "float32"}, 1.0, seed_map=SEED_MAPS["seed % 1000"]),
]

IDS = [r.name for r in ROWS]


def _smallest(evidence: Any, row: Row) -> tuple[float, int]:
    tests = evidence.data["tests"]
    t = next(t for t in tests if t["test"] == row.test_name) if row.test_name else tests[row.test_index]
    return float(t["smallest_detectable"]), int(t["n"])


def run_row(row: Row, seeds: tuple[int, ...]) -> dict:
    """Catch the wrong sampler on every seed, pass the right one; the row's record for the table."""
    stats.reset()
    wrong = np_spec("wrong", row.law, row.wrong, structured_law=row.structured_law, ranks=(2, 3, 4),
                    seed_map=row.seed_map)
    right = np_spec("right", row.law, haar_sampler(True) if row.structured_law else exact,
                    structured_law=row.structured_law, ranks=(2, 3, 4))
    caught = 0
    for seed in seeds:
        case = {**row.case, "seed": seed}
        _sampling.clear_cache()
        with pytest.raises(CheckFailure) as info:
            row.check(wrong, case)
        ev = info.value.evidence
        assert ev.check == row.check.__name__ and not ev.passed, ev.check
        assert ev.data.get("tests"), "a failure must carry the statistic, threshold and n"
        caught += 1
    # The correct initializer passes the same check on the same case.
    _sampling.clear_cache()
    good = row.check(right, {**row.case, "seed": seeds[0]})
    assert good.passed and good.check == row.check.__name__
    smallest_ok, n_ok = _smallest(good, row)
    # For check_haar (KS on entry (0, 0)) the unsigned QR puts all its mass on one sign: distance 0.5.
    assert row.discrepancy >= smallest_ok, (
        f"{row.name}: discrepancy {row.discrepancy} below the guaranteed {smallest_ok} at n={n_ok}")
    print(f"\n{row.name}: caught {caught}/{len(seeds)}")
    return {"wrong initializer": row.name, "check": row.check.__name__, "n": n_ok,
            "discrepancy": row.discrepancy, "smallest detectable (1-beta)": smallest_ok,
            "design false-pass": stats.budget().beta, "alpha": stats.budget().alpha,
            "caught": f"{caught}/{len(seeds)}"}
