"""Marginal distribution checks: each passes a correct object and catches a wrong one.

The power table (test_power_table.py) holds the rows with a named smallest
discrepancy; this file covers the rest of each marginal check's teeth:
malformed output (shape, non-finite values), the support at the dtype's
precision, tails, and low precision.  The layer checks are in
test_layers.py, the structured ones in test_structured.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from common.capabilities import needs
from common.doubles import exact, np_spec, scaled
from initcheck import stats
from initcheck.checks import _sampling
from initcheck.checks import distribution as dist
from initcheck.checks.evidence import CheckFailure
from initcheck.laws import Fans, Law, Normal, TruncatedNormal, Uniform

LOW = ("float16", "bfloat16")


@pytest.fixture(autouse=True)
def _fresh() -> None:
    stats.reset()
    _sampling.clear_cache()


def _caught(check, spec, case, match=None):
    """``check`` fails on ``spec`` and the failure is its own."""
    with pytest.raises(CheckFailure, match=match) as info:
        check(spec, case)
    assert info.value.evidence.check == check.__name__ and not info.value.evidence.passed
    return info.value.evidence


# --------------------------------------------------------------------------- malformed output

def test_wrong_shape_is_a_clear_failure() -> None:
    case = {"shape": [256, 512], "dtype": "float32", "seed": 0}
    spec = np_spec("bad", Normal(0.05), lambda rng, shape, law, fans: rng.standard_normal(shape[::-1]) * 0.05)
    _caught(dist.check_mean, spec, case, match="returned shape")
    assert dist.check_mean(np_spec("right", Normal(0.05), exact), case).passed


def test_non_finite_values_fail() -> None:
    def nan_sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        x = exact(rng, shape, law, fans)
        x.flat[3] = np.nan
        return x

    spec = np_spec("nan", Normal(0.05), nan_sampler)
    case = {"shape": [512, 512], "dtype": "float32", "seed": 0}
    _caught(dist.check_law_fit, spec, case, match="non-finite")
    _caught(dist.check_support, spec, case)


# --------------------------------------------------------------------------- support, tails, truncation

def test_truncation_is_exact_at_dtype_precision() -> None:
    law = TruncatedNormal.with_variance(0.01)
    right = np_spec("right", law, exact)
    case = {"shape": [512, 1024], "dtype": "float32", "seed": 3}
    ev = dist.check_support(right, case)
    lo, hi = ev.data["tests"][0]["expected"]["support_rounded_to_dtype"]
    assert hi == float(np.float32(law.support()[1]))

    def one_ulp_out(rng: np.random.Generator, shape: tuple, law_: Law, fans: Fans) -> np.ndarray:
        x = exact(rng, shape, law_, fans)
        x.flat[0] = float(np.nextafter(np.float32(law_.support()[1]), np.float32(1)))
        return x

    _caught(dist.check_support, np_spec("ulp", law, one_ulp_out), case, match="support")


def _grid_uniform(limits):
    """A sampler drawing like TensorFlow's float64 uniform: ``u = k 2^-52``, then ``u (b - a) + a``."""
    def sampler(rng: np.random.Generator, shape: tuple, law_: Law, fans: Fans) -> np.ndarray:
        a, b = limits(law_)
        k = rng.integers(0, 2 ** 52, size=shape, dtype=np.int64).astype(np.float64)  # exact below 2^53
        return (k * 2.0 ** -52) * (b - a) + a
    return sampler


@needs("float64")  # the structural test decodes float64 draws (JAX: only with JAX_ENABLE_X64=1)
def test_float64_limits_rounded_through_float32_are_caught() -> None:
    """check_support decodes a float64 draw: limits rounded through float32 fail on every case, exact ones pass.

    Keras 3's float64 uniform draws (FLOAT64_UNIFORM_LIMIT_FLOAT32) reach float32(L) > L with probability
    ~1e-8 per value: the count cannot see it; the structural test sees it whatever the seed and the case
    dtype (a float32 case still tests the spec's float64 draws).
    """
    law = Uniform.symmetric(0.009568319307746789)  # GlorotUniform at fan_in + fan_out = 65536
    f32 = _grid_uniform(lambda l: (float(np.float32(l.low)), float(np.float32(l.high))))
    same = _grid_uniform(lambda l: (l.low, l.high))
    for dtype, seed in (("float32", 0), ("float64", 11)):
        case = {"shape": [32768], "dtype": dtype, "seed": seed}
        ev = _caught(dist.check_support, np_spec("f32 limits", law, f32), case,
                     match="float64_limits_rounded_through_float32")
        limits = ev.data["tests"][-1]
        assert limits["observed"]["decoded_at_float32_limits"] == 1.0 and limits["observed"]["band_count"] == 0
        assert ev.data["tests"][0]["passed"]  # the count saw nothing: the band is too thin to hit
        ok = dist.check_support(np_spec("exact limits", law, same), case)
        assert ok.data["tests"][-1]["observed"]["verdict"] == "every value decoded at the law's limits"
        # A correct generator of another form (NumPy's 53-bit uniform) is not applicable, never failed.
        other = dist.check_support(np_spec("numpy", law, exact), case)
        assert other.data["tests"][-1]["observed"]["verdict"].startswith("not applicable")
    # Limits that are float32 numbers leave nothing to test; float32-only specs are not tested.
    half = Uniform.symmetric(0.5)
    ev = dist.check_support(np_spec("half", half, f32), {"shape": [4096], "dtype": "float64", "seed": 1})
    assert ev.data["tests"][-1]["observed"]["verdict"].startswith("limits are float32 numbers")
    ev = dist.check_support(np_spec("f32 only", law, f32, dtypes=("float32",)), {"shape": [4096], "dtype": "float32",
                                                                                  "seed": 1})
    assert len(ev.data["tests"]) == 1


def test_tails_pass_unbounded_laws_and_catch_outliers() -> None:
    right = np_spec("right", Normal(0.05), exact)
    case = {"shape": [512, 1024], "dtype": "float64", "seed": 4}
    assert dist.check_tails(right, case).passed

    def outliers(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        x = exact(rng, shape, law, fans)
        hit = rng.random(shape) < 5e-6
        x[hit] = 8 * 0.05
        return x

    _sampling.clear_cache()
    _caught(dist.check_tails, np_spec("outliers", Normal(0.05), outliers), case, match="tail count")


# --------------------------------------------------------------------------- low precision

def _seven_bit_uniform(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """What a generator filling 7 mantissa bits does: 128 equally spaced values."""
    k = rng.integers(0, 128, size=shape)
    return law.low + (law.high - law.low) * k / 128.0


@pytest.mark.parametrize("law", [Normal(0.05), TruncatedNormal.with_variance(0.0025), Uniform.symmetric(0.08)],
                         ids=["normal", "truncated", "uniform"])
def test_low_precision_passes_the_rounded_law(law: Law) -> None:
    spec = np_spec("right", law, exact, dtypes=LOW)
    ev = dist.check_low_precision(spec, {"shape": [256, 512], "dtype": "low", "seed": 5})
    assert ev.passed and ev.check == "check_low_precision"
    assert {t["test"] for t in ev.data["tests"]} >= {"dkwm_rounded_law_bfloat16", "support_exact_float16"}


def test_low_precision_catches_a_coarse_grid_and_a_scale_error() -> None:
    case = {"shape": [256, 512], "dtype": "low", "seed": 6}
    _caught(dist.check_low_precision, np_spec("grid", Uniform.symmetric(0.05), _seven_bit_uniform, dtypes=LOW),
            case, match="dkwm_rounded_law_(float16|bfloat16)")
    _sampling.clear_cache()
    _caught(dist.check_low_precision, np_spec("std", Normal(0.05), scaled(1.01), dtypes=LOW), case,
            match="variance_float16")
