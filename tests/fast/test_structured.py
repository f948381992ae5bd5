"""The structured checks' theory: the exact spectral second moment (no initializer involved)."""

from __future__ import annotations

import numpy as np
import pytest

from initcheck.checks import structured


def test_exact_spectral_second_moment() -> None:
    """The finite-size formula against a Monte Carlo average (uniform entries, kurtosis -1.2)."""
    rng = np.random.default_rng(0)
    m, k = 7, 4
    w = rng.uniform(-1, 1, size=(20000, m, k))
    g = np.einsum("rij,ril->rjl", w, w)
    mc = float(np.mean(np.sum(g * g, axis=(1, 2))))
    assert mc == pytest.approx(structured.spectral_second_moment(m, k, 1 / 3, -1.2), rel=0.01)
