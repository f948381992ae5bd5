"""check_pair_dependence and check_rank_independence catch hidden dependence and pass independent entries.

The wrong doubles have the right marginal law (most of them exactly) and
pass the lag-1 check of today; their entries depend on partners far away
(antithetic halves, a tiled block, a leak at stride 64, magnitudes copied or
correlated with fresh signs) or all on one shared quantity per kernel.  The
correct twins: the exact NumPy sampler of a symmetric law, and of a
non-symmetric one (the normal-approximation path of the test on ``x``).
"""

from __future__ import annotations

import pytest
from scipy import stats as sst

from common.assertions import caught, passes
from common.doubles import (antithetic_half, equicorrelated, exact, magnitudes_correlated, magnitudes_shared,
                            np_spec, shared_scale, stride_correlated, tiled_quarter)
from initcheck import stats
from initcheck.checks import _sampling, dependence
from initcheck.laws import Normal, ScipyLaw, Uniform

NORMAL = Normal(std=0.05)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    stats.reset()
    _sampling.clear_cache()


def _failed_tests(check, spec, case) -> set[str]:
    return {t["test"] for t in caught(check, spec, case).data["tests"] if not t["passed"]}


def _passes(check, spec, case) -> dict:
    return passes(check, spec, case).data


# On a 256 x 512 kernel the flattened half and quarter are offsets along axis 0 (the pairing keeps that name).
PAIRED = [
    ("antithetic second half", antithetic_half, "pairs_x_axis0_half"),
    ("quarter block tiled", tiled_quarter, "pairs_x_axis0_quarter"),
    ("correlation 0.05 at stride 64", stride_correlated(64, 0.05), "pairs_x_flat_stride_64"),
    ("magnitudes copied half a kernel away", magnitudes_shared, "pairs_abs_axis0_half"),
    ("magnitudes correlated 0.3 half a kernel away", magnitudes_correlated(0.3), "pairs_abs_axis0_half"),
]


@pytest.mark.parametrize("name, sampler, where", PAIRED, ids=[p[0] for p in PAIRED])
def test_designed_pairings_catch_distant_partners(name: str, sampler, where: str) -> None:
    case = {"shape": [256, 512], "dtype": "float32", "seed": 5}
    assert where in _failed_tests(dependence.check_pair_dependence, np_spec("wrong", NORMAL, sampler), case)
    _passes(dependence.check_pair_dependence, np_spec("right", NORMAL, exact), case)


def test_exact_mirrors_are_counted_in_float64_on_any_shape() -> None:
    """A rank-3 kernel whose flattened second half mirrors the first: the mirror count sees it too."""
    case = {"shape": [3, 96, 200], "dtype": "float64", "seed": 8}
    failed = _failed_tests(dependence.check_pair_dependence, np_spec("wrong", NORMAL, antithetic_half), case)
    assert {"mirror_pairs", "pairs_x_flat_half"} <= failed
    data = _passes(dependence.check_pair_dependence, np_spec("right", NORMAL, exact), case)
    assert any(t["test"] == "mirror_pairs" for t in data["tests"])


def test_non_symmetric_and_bounded_laws_pass() -> None:
    """Correct but unusual: a skewed law (z-test path, no mirror count) and a uniform."""
    case = {"shape": [128, 300], "dtype": "float64", "seed": 2}
    skewed = ScipyLaw(sst.gamma(2.0, scale=0.02))
    data = _passes(dependence.check_pair_dependence, np_spec("gamma", skewed, exact), case)
    assert "normal approximation" in data["tests"][0]["expected"]["bound"] and "mirror_pairs" in data
    _passes(dependence.check_pair_dependence, np_spec("uniform", Uniform.symmetric(0.1), exact), case)
    _passes(dependence.check_rank_independence, np_spec("gamma", skewed, exact), case)


SHARED = [("one random scale per kernel", shared_scale), ("one shared component per kernel", equicorrelated(0.1))]


@pytest.mark.parametrize("name, sampler", SHARED, ids=[s[0] for s in SHARED])
def test_rank_table_catches_dependence_shared_by_all_pairs(name: str, sampler) -> None:
    case = {"shape": [64, 64], "dtype": "float32", "seed": 4}
    assert _failed_tests(dependence.check_rank_independence, np_spec("wrong", NORMAL, sampler), case) == {"rank_table"}
    data = _passes(dependence.check_rank_independence, np_spec("right", NORMAL, exact), case)
    assert data["tests"][0]["expected"]["rho_gaussian_min"] < 0.03


def test_pairings_are_forests_and_cover_axes_halves_quarters_strides() -> None:
    shape = (5, 357, 23)  # 41 055 entries: the flattened halves and quarters are no axis offsets
    design = dependence.pairings(shape)
    names = {p.name for p in design}
    assert {"axis1_half", "axis2_quarter", "flat_stride_64", "flat_half", "flat_quarter_ceil"} <= names
    inner = 357 * 23  # an offset along the leading axis is a flat stride of whole rows: never listed twice
    flat = [p.offset * (inner if p.axis == 0 else 1) for p in design if p.axis in (None, 0)]
    assert len(flat) == len(set(flat)) and len(names) == len(design)
    assert all(1 <= p.offset < (41055 if p.axis is None else shape[p.axis]) for p in design)
