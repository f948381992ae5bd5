"""initcheck.dtypes: rounding to a dtype, its neighbours, and the law rounded to its grid (NumPy only)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st

from initcheck import dtypes
from initcheck.laws import TruncatedNormal, Uniform


def test_round_to_nearest_and_float32_exact() -> None:
    assert dtypes.round_to(0.1, "float64") == 0.1
    assert dtypes.round_to(0.1, "float32") == float(np.float32(0.1))
    assert dtypes.round_to(0.1, "float16") == float(np.float16(0.1))
    assert dtypes.round_to(1 + 2.0 ** -9, "bfloat16") == 1.0  # 7 mantissa bits: the half-ulp rounds to even
    assert dtypes.round_to(float("inf"), "float16") == float("inf")
    assert dtypes.float32_exact(0.1) == float(np.float32(0.1))
    assert dtypes.machine_epsilon("float32") == float(np.finfo(np.float32).eps)
    assert dtypes.machine_epsilon("float16") == float(np.finfo(np.float16).eps)


@pytest.mark.parametrize("dtype", dtypes.FLOAT_DTYPES)
def test_neighbours_are_the_adjacent_representable_values(dtype: str) -> None:
    values = np.array([-1.0, 0.5, 1.0, 3.0])
    down, up = dtypes.neighbours(values, dtype)
    eps = dtypes.machine_epsilon(dtype)
    assert np.all(down < values) and np.all(up > values)
    assert up[2] - 1.0 == pytest.approx(eps)  # next above 1 is 1 + eps
    assert 1.0 - down[2] == pytest.approx(eps / 2)  # next below 1 is 1 - eps/2


def test_rounded_bounds_of_a_truncated_law() -> None:
    law = TruncatedNormal.with_variance(0.01)
    lo, hi = dtypes.rounded_bounds(law, "float16")
    assert hi == float(np.float16(law.support()[1])) and lo == -hi
    assert dtypes.rounded_bounds(Uniform(-0.5, 0.5), "float32") == (-0.5, 0.5)


def test_rounded_law_grid_collects_each_value_s_rounding_cell() -> None:
    """A bfloat16 value v collects the law's mass on (mid(prev v, v), mid(v, next v)]; the cells tile the line."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    from initcheck.laws import Normal

    x = np.random.default_rng(0).normal(0, 1, 100_000).astype(np.float32).astype(ml_dtypes.bfloat16)
    values, hi, lo = dtypes.rounded_law_grid(Normal(1.0), x.astype(np.float64), "bfloat16")
    assert np.all(np.diff(values) > 0) and np.all(hi > lo)
    # adjacent representable values seen in the sample share a cell boundary
    down, up = dtypes.neighbours(values, "bfloat16")
    adjacent = up[:-1] == values[1:]
    assert np.allclose(hi[:-1][adjacent], lo[1:][adjacent])
    assert hi[-1] == pytest.approx(st.norm.cdf(0.5 * (values[-1] + up[-1])))
