"""Keras Orthogonal keeps the signal of a deep linear stack (slow: 50 QRs of 256 x 256 per replica)."""

from __future__ import annotations

import pytest

from common.assertions import assert_keeps_signal


@pytest.mark.parametrize("name", [pytest.param("Orthogonal", marks=pytest.mark.slow)])
def test_builtin_specs_keep_their_signal(name):
    assert_keeps_signal(name)
