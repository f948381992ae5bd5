"""check_atoms and check_resolution catch their classes of wrong initializer and pass the correct twins.

Atoms: values piled on a few points (a clip where truncation was meant, an
outlier guard, saturation at the support's edges, a constant fallback).
Lost resolution: values computed in bfloat16/float16 (or float64 values
computed in float32) and cast up, uniforms from too few random bits.  The
correct twins are the exact NumPy samplers (the law rounded to the dtype) and
the generator the null is built to accept: a uniform from the dtype's full
mantissa bits on a fixed-point grid (TensorFlow's construction), which has
about five times the rounded law's ties in float32.
"""

from __future__ import annotations

import pytest

from common.assertions import caught, passes
from common.doubles import clipped, computed_in, constant_fallback, exact, np_spec, saturated, uniform_bits
from initcheck import stats
from initcheck.checks import _sampling
from initcheck.checks import distribution as dist
from initcheck.laws import Normal, TruncatedNormal, Uniform

DTYPES = ("float32", "float64")
NORMAL, TRUNC, UNIF = Normal(std=0.05), TruncatedNormal(std=0.05, cut=2.0), Uniform.symmetric(0.0866)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    stats.reset()
    _sampling.clear_cache()


def _case(dtype: str, seed: int = 11) -> dict:
    return {"shape": [256, 512], "dtype": dtype, "seed": seed}


def _caught(check, spec, case) -> dict:
    return caught(check, spec, case).data


def _passes(check, spec, case) -> dict:
    return passes(check, spec, case).data


ATOMS = [
    ("clip at +-3 sigma", NORMAL, clipped(3.0)),
    ("clip where truncation at 2 sigma was meant", TRUNC, clipped(2.0)),
    ("0.1 % constant fallback", UNIF, constant_fallback(1e-3)),
    ("0.05 % saturation at each edge", UNIF, saturated(1e-3)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, law, sampler", ATOMS, ids=[a[0] for a in ATOMS])
def test_atoms_are_caught_and_the_exact_sampler_passes(name: str, law, sampler, dtype: str) -> None:
    data = _caught(dist.check_atoms, np_spec("wrong", law, sampler), _case(dtype))
    test = data["tests"][0]
    assert test["test"] == "max_multiplicity" and test["statistic"] > test["threshold"]
    _passes(dist.check_atoms, np_spec("right", law, exact), _case(dtype))


RESOLUTION = [
    ("normal computed in bfloat16", NORMAL, computed_in("bfloat16"), DTYPES),
    ("normal computed in float16", NORMAL, computed_in("float16"), DTYPES),
    ("uniform from 16 random bits", UNIF, uniform_bits(16), DTYPES),
    ("float64 normal computed in float32", NORMAL, computed_in("float32"), ("float64",)),
    ("float64 uniform from 32 random bits", UNIF, uniform_bits(32), ("float64",)),
]


@pytest.mark.parametrize("name, law, sampler, dtypes", RESOLUTION, ids=[r[0] for r in RESOLUTION])
def test_lost_resolution_is_caught_and_the_exact_sampler_passes(name: str, law, sampler, dtypes) -> None:
    for dtype in dtypes:
        _sampling.clear_cache()
        data = _caught(dist.check_resolution, np_spec("wrong", law, sampler), _case(dtype))
        assert not all(t["passed"] for t in data["tests"])
        _passes(dist.check_resolution, np_spec("right", law, exact), _case(dtype))


@pytest.mark.parametrize("dtype, bits", [("float32", 23), ("float64", 52)])
def test_a_full_mantissa_fixed_point_uniform_passes(dtype: str, bits: int) -> None:
    """Correct but unusual: 2^p equally likely values (5x the rounded law's ties in float32) is the null's edge."""
    spec = np_spec("fixed-point", UNIF, uniform_bits(bits))
    for check in (dist.check_atoms, dist.check_resolution):
        data = _passes(check, spec, _case(dtype, seed=3))
    if dtype == "float32":
        ties = data["tests"][0]
        assert ties["statistic"] > 4 * ties["expected"]["mean_ties_rounded_law"]


def test_the_evidence_states_the_smallest_atom_and_the_bits_caught() -> None:
    data = _passes(dist.check_atoms, np_spec("right", NORMAL, exact), _case("float32"))
    atom = data["tests"][0]
    assert atom["smallest_detectable"] <= stats.ATOM_MASS and atom["n"] >= stats.default_plan().requirements["atoms"]
    data = _passes(dist.check_resolution, np_spec("right", NORMAL, exact), _case("float64"))
    assert {t["test"] for t in data["tests"]} == {"truncated_ties", "distinct_values"}
    assert data["tests"][0]["expected"]["bits_caught"] >= 32  # a float64 from 32 random bits is caught
    assert data["representable_in_narrower_dtypes"]["float32"] < 1e-3
