"""Structured checks (orthogonality, Haar, spectrum): each passes a correct object and catches a wrong one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from common.doubles import exact, haar_sampler, np_spec, orthogonal_law, rows_correlated
from initcheck import stats
from initcheck.checks import _sampling
from initcheck.checks import structured
from initcheck.checks.evidence import CheckFailure
from initcheck.laws import Fans, Law, Normal, TruncatedNormal, Uniform


@pytest.fixture(autouse=True)
def _fresh() -> None:
    stats.reset()
    _sampling.clear_cache()


def _caught(check, spec, case, match=None):
    with pytest.raises(CheckFailure, match=match) as info:
        check(spec, case)
    assert info.value.evidence.check == check.__name__ and not info.value.evidence.passed
    return info.value.evidence


@pytest.mark.parametrize("shape", [[12, 5], [5, 12], [3, 4, 6], [2, 2, 3, 5]])
def test_orthogonality_in_both_orientations(shape: list[int]) -> None:
    good = np_spec("haar", orthogonal_law(2.5), haar_sampler(True), structured_law=True, ranks=(2, 3, 4))
    for dtype in ("float16", "float32", "float64"):
        ev = structured.check_orthogonality(good, {"shape": shape, "dtype": dtype, "seed": 1})
        assert ev.data["orientation"].startswith("Q^T Q" if math.prod(shape[:-1]) >= shape[-1] else "Q Q^T")

    def no_gain(rng: np.random.Generator, shape_: tuple, law: Law, fans: Fans) -> np.ndarray:
        return haar_sampler(True)(rng, shape_, law, fans) / law.gain

    _caught(structured.check_orthogonality,
            np_spec("nogain", orthogonal_law(2.5), no_gain, structured_law=True, ranks=(2, 3, 4)),
            {"shape": shape, "dtype": "float32", "seed": 1}, match="gain")


def test_haar_passes_sign_corrected_qr_and_angle_check_catches_uncorrected() -> None:
    good = np_spec("haar", orthogonal_law(1.0), haar_sampler(True), structured_law=True, ranks=(2,))
    bad = np_spec("qr", orthogonal_law(1.0), haar_sampler(False), structured_law=True, ranks=(2,))
    assert structured.check_haar(good, {"shape": [6, 3], "dtype": "float32", "seed": 0}).passed
    assert structured.check_haar_rotation_angle(good, {"seed": 0}).passed
    _caught(structured.check_haar_rotation_angle, bad, {"seed": 0}, match="2x2")


def test_spectrum_matches_marchenko_pastur_and_sees_correlated_rows() -> None:
    for law in (Normal(0.1), Uniform.symmetric(0.2), TruncatedNormal.with_variance(0.01)):
        spec = np_spec("iid", law, exact)
        assert structured.check_spectrum(spec, {"shape": [48, 20], "dtype": "float64", "seed": 3}).passed
    _caught(structured.check_spectrum, np_spec("corr", Normal(0.1), rows_correlated(0.3)),
            {"shape": [48, 20], "dtype": "float64", "seed": 3}, match="Marchenko-Pastur")
