"""Tests that exercise a TensorFlow-only capability directly, outside the battery.

The battery reports such a check "not applicable on <backend>: needs <capability>" (keras_compat.CAPABILITIES);
a test that calls the same machinery by hand is skipped on that backend with the very same reason, so
``KERAS_BACKEND=jax pytest`` says what it did not run and why.  Only a capability the installed backend lacks
skips: on TensorFlow these tests always run.
"""

from __future__ import annotations

import pytest

from initcheck import keras_compat as kc


def needs(*capabilities: str) -> pytest.MarkDecorator:
    """``@needs("tf_distribute")``: skip where the backend lacks a capability, with the battery's reason."""
    reason = kc.capability_missing(capabilities)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def dtype_or_float32(dtype: str) -> str:
    """``dtype``, or float32 where the backend cannot hold it (float64 on JAX without x64)."""
    return "float32" if kc.dtype_missing(dtype) else dtype
