"""Signal propagation checks: built-in specs pass, deliberately wrong pairings fail (the issue's negative controls).

* ``check_signal_propagation``: He + ReLU, Glorot + linear/tanh, LeCun +
  SELU and a NumPy Laplace law with He's variance pass; Glorot, N(0, 0.01^2)
  and N(0, 1) declared for ReLU, and tanh at gain 5/3, fail;
* ``check_signal_propagation_conv``: He + ReLU passes, Glorot + ReLU fails;
* ``check_linear_isometry``: Keras Orthogonal passes, a Gaussian spec that
  claims the orthogonal law fails.

The theory and the simulator are tested in tests/fast/test_propagation.py;
the Orthogonal spec's (slow) pass is in tests/slow.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import pytest

from common import builtins
from common.assertions import assert_keeps_signal
from common.doubles import declared_for, keras_spec, laplace_he, small_normal_for_relu
from initcheck.battery import Item, run_check
from initcheck.checks import all_checks
from initcheck.checks.evidence import CheckFailure


def run(spec, check="check_signal_propagation", case=None):
    return run_check(Item(f"test>{spec.name}", spec, all_checks()[check]), case=case)


def _fails(spec, check="check_signal_propagation"):
    with pytest.raises(CheckFailure) as info:
        run(spec, check)
    assert info.value.evidence.check == check and not info.value.evidence.passed
    return info.value.evidence


@pytest.mark.parametrize("name", ["HeNormal", "GlorotUniform", "LecunNormal"])
def test_builtin_specs_keep_their_signal(name):
    assert_keeps_signal(name)


def test_unusual_but_correct_laplace_he_passes():
    """A correct but unusual initializer passes: i.i.d. Laplace entries (excess kurtosis 3) with He's
    variance 2 / fan_in, drawn by NumPy (not a Keras object), declared for ReLU."""
    (ev,) = run(laplace_he())
    assert ev.passed
    assert ev.data["activations"]["relu"]["r_measured"]["forward"]["r"] == pytest.approx(1.0, abs=0.03)


def test_builtin_conv_variant_passes():
    """Conv check passes for He + ReLU (kernel (3, 128, 128), fan_in = 384)."""
    (ev,) = run(builtins.initializer("HeUniform"), "check_signal_propagation_conv")
    assert ev.passed and ev.data["activations"]["relu"]["n"]["kernel_shape"] == [3, 128, 128]


def test_negative_control_glorot_relu_vanishes():
    """Glorot + ReLU is flagged: r ~ 0.5 per layer both ways, as mean field predicts at sigma_w^2 = 1."""
    ev = _fails(declared_for(builtins.initializer("GlorotUniform"), "Glorot-for-relu", "relu"))
    data = ev.data["activations"]["relu"]
    assert "forward signal decays" in ev.message and "backward signal decays" in ev.message
    assert data["r_measured"]["forward"]["r"] == pytest.approx(0.5, abs=0.02)
    assert data["r_predicted_at_declared_variance"]["forward"] == pytest.approx(0.5, abs=1e-6)


def test_negative_control_glorot_relu_conv_vanishes():
    """The conv variant flags Glorot + ReLU too (fan_avg = fan_in for square conv kernels)."""
    ev = _fails(declared_for(builtins.initializer("GlorotNormal"), "Glorot-for-relu", "relu"),
                "check_signal_propagation_conv")
    assert ev.data["activations"]["relu"]["r_measured"]["forward"]["r"] == pytest.approx(0.5, abs=0.03)


def test_negative_control_small_normal_relu_vanishes():
    """N(0, 0.01^2) + ReLU (the classic recipe's custom initializer, example plugin) is flagged: at
    width 256, sigma_w^2 = 0.0256, r = 0.0128 per layer."""
    ev = _fails(small_normal_for_relu())
    data = ev.data["activations"]["relu"]
    assert "decays" in ev.message
    assert data["r_predicted_at_declared_variance"]["forward"] == pytest.approx(0.0128, rel=1e-6)
    assert data["r_measured"]["forward"]["r"] == pytest.approx(0.0128, rel=0.05)


def test_negative_control_standard_normal_relu_explodes():
    """N(0, 1) + ReLU is flagged: sigma_w^2 = 256, r = 128 per layer (still finite in float64)."""
    ev = _fails(keras_spec("StdNormal-relu", "RandomNormal", ("relu",), mean=0.0, stddev=1.0))
    data = ev.data["activations"]["relu"]
    assert "forward signal grows" in ev.message and "backward signal grows" in ev.message
    assert data["r_measured"]["forward"]["r"] == pytest.approx(128, rel=0.05)


def test_negative_control_tanh_gain_five_thirds_gradients_grow():
    """tanh with gain 5/3 (sigma_w^2 = 25/9, chaotic phase) is flagged: gradients grow (r_back ~ 1.2)."""
    from initcheck.builtin.initializers import variance_scaling_spec

    spec = declared_for(variance_scaling_spec(25 / 9, "fan_in", "untruncated_normal"), "tanh-gain-5_3", "tanh")
    ev = _fails(spec)
    data = ev.data["activations"]["tanh"]
    assert "backward signal grows" in ev.message
    assert data["r_measured"]["backward"]["r"] > 1.15
    assert data["r_predicted_at_declared_variance"]["backward"] == pytest.approx(
        data["r_measured"]["backward"]["r"], abs=0.02)


def test_isometry_check_passes_orthogonal_and_catches_gaussian():
    """check_linear_isometry: Keras Orthogonal is an exact isometry (singular values = gain^L);
    a spec claiming an orthogonal law but drawing Gaussian entries is caught."""
    (ev,) = run(builtins.initializer("Orthogonal"), "check_linear_isometry")
    if ev.data["dtype"] == "float64":
        assert ev.data["max_abs_log_deviation"] < 1e-12
    else:  # no float64 on this backend (JAX without JAX_ENABLE_X64=1): float32 draws, float32 rounding
        from initcheck import keras_compat as kc

        assert kc.dtype_missing("float64") and ev.data["dtype"] == "float32"
        assert ev.data["max_abs_log_deviation"] < 50 * 8 * float(np.finfo(np.float32).eps)
    fake = dataclasses.replace(builtins.initializer("Orthogonal"), name="NotOrthogonal",
                               factory=builtins.initializer("GlorotNormal").factory)
    ev = _fails(fake, "check_linear_isometry")
    assert ev.data["max_abs_log_deviation"] > 1.0
