"""Fans: Keras's shape convention (initcheck.laws) and the layer oracle (initcheck.checks.layers),
written from the layers' semantics, independent of Keras."""

from __future__ import annotations

import subprocess
import sys

import pytest

from initcheck.checks.layers import (CONVENTIONS, conv_fans, conv_transpose_fans, dense_fans, depthwise_fans,
                                     einsum_fans, recurrent_fans)
from initcheck.laws import Fans, shape_fans


def test_keras_convention_unchanged() -> None:
    assert shape_fans(()) == Fans(1, 1)
    assert shape_fans((7,)) == Fans(7, 7)
    assert shape_fans((3, 5)) == Fans(3, 5)
    assert shape_fans((3, 3, 16, 32)) == Fans(144, 288)


def test_dense_and_conv_agree_with_keras() -> None:
    assert dense_fans((64, 128)) == shape_fans((64, 128)) == Fans(64, 128)
    for shape in [(5, 8, 16), (3, 3, 8, 16), (2, 3, 3, 8, 16)]:
        assert conv_fans(shape) == shape_fans(shape)


def test_transposed_conv_swaps_keras_fans() -> None:
    """Kernel (*k, filters, in_channels): the true fan_in counts input channels (last axis)."""
    shape = (3, 3, 16, 64)  # 64 input channels -> 16 filters
    assert conv_transpose_fans(shape) == Fans(64 * 9, 16 * 9)
    assert shape_fans(shape) == Fans(16 * 9, 64 * 9)
    assert conv_transpose_fans(shape, strides=(2, 2)).fan_in == 64 * 9 / 4
    square = (3, 3, 32, 32)
    assert conv_transpose_fans(square) == shape_fans(square)  # fan_avg and square kernels: no difference


def test_depthwise_has_no_sum_over_channels() -> None:
    shape = (3, 3, 32, 2)
    assert depthwise_fans(shape) == Fans(9, 18)
    assert shape_fans(shape).fan_in == 9 * 32  # Keras counts the 32 input channels
    assert depthwise_fans((3, 3, 1, 2)) == shape_fans((3, 3, 1, 2))


def test_einsum_fans_from_the_equation() -> None:
    # Multi-head attention projections (Vaswani et al. 2017) as EinsumDense.
    assert einsum_fans("abc,cde->abde", (64, 8, 16)) == Fans(64, 128)
    assert einsum_fans("abcd,cde->abe", (8, 16, 64)) == Fans(128, 64)
    assert einsum_fans("ab,bc->ac", (5, 7)) == dense_fans((5, 7))
    # An axis in input, kernel and output is parallel: neither fan.
    assert einsum_fans("abc,bcd->abd", (4, 6, 9)) == Fans(6, 9)
    with pytest.raises(ValueError, match="does not match"):
        einsum_fans("ab,bc->ac", (5, 7, 3))
    with pytest.raises(ValueError, match="input,kernel->output"):
        einsum_fans("abc", (1,))


def test_recurrent_kernels_are_per_gate() -> None:
    assert recurrent_fans((32, 4 * 64), gates=4) == Fans(32, 64)
    assert recurrent_fans((32, 3 * 64), gates=3) == Fans(32, 64)
    assert recurrent_fans((32, 64), gates=1) == shape_fans((32, 64))
    with pytest.raises(ValueError, match="multiple"):
        recurrent_fans((32, 10), gates=4)


def test_every_convention_is_written_down() -> None:
    for key in ("dense", "conv", "conv_transpose", "depthwise", "pointwise", "einsum", "embedding", "recurrent"):
        assert CONVENTIONS[key]


def test_oracle_imports_no_tensorflow() -> None:
    code = ("import sys, initcheck.laws, initcheck.checks.layers; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
