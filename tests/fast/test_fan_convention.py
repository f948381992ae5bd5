"""#13 point 1: a correct shape-fan initializer is green with one line, and the consequence is verified.

Before: an initializer computing fans from the kernel shape (as Keras and most
plugins do) failed 8 layer checks, and the remedy was 8 hand-copied
ExpectedFailures.  Now ``fan_convention="shape"`` says it once; the layer
checks verify that the variance matches the law at the *shape* fans and report
the difference to the true fans as an expected failure with the measured
ratio; matching neither is a real failure; without the declaration the strict
failure names the one-line remedy.  Transposed convolutions are judged at
strides 1 and 2.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from common.plugin_site import dtype_name, numpy_normal, shape_fan_uniform
from initcheck import battery
from initcheck.builtin.findings import FAN_TRANSPOSE, MHA_SEEDED_CLONE, SHAPE_FANS
from initcheck.checks import all_checks
from initcheck.checks.layers import SHAPE_REMEDY, conv_transpose_fans, layer_check_name
from initcheck.laws import Uniform
from initcheck.spec import InitializerSpec

#: The layer kinds whose true fans differ from the kernel-shape fans for a fan_in law.
SHAPE_CONSEQUENCES = ("conv1d_transpose", "conv2d_transpose", "conv3d_transpose", "depthwise_conv2d",
                      "separable_conv2d", "einsum_dense", "multi_head_attention")
AGREE = ("dense", "conv1d", "conv2d", "conv3d", "embedding", "lstm", "gru", "simple_rnn")
MHA_INDEPENDENCE = "check_layer_independence_multi_head_attention"


def lecun_uniform(shape, fans):
    return Uniform.symmetric(math.sqrt(3.0 / max(1.0, fans.fan_in)))


def spec_of(factory, **kw):
    kw.setdefault("tags", frozenset({"iid", "seeded"}))
    return InitializerSpec(name=kw.pop("name", "ShapeFan"), factory=factory, law=lecun_uniform,
                           dtypes=("float32",), unseeded_repeat="any", **kw)


def run(spec, check):
    """The check alone (no prerequisites: what is tested here is the layer check, and a spec's contract may fail as
    declared somewhere -- HeNormal's on torch in Keras 3.0-3.1 -- which would block it)."""
    item = battery.Item("doubles>" + spec.name, spec, all_checks("initializer")[check])
    return battery.run_one(item, timeout=300, check_dependencies=False)


@pytest.fixture(autouse=True)
def _fresh():
    battery.reset_run_state()


def test_declared_shape_convention_turns_each_consequence_into_an_evidenced_xfail():
    spec = spec_of(shape_fan_uniform, fan_convention="shape")
    for kind in SHAPE_CONSEQUENCES:
        outcome = run(spec, layer_check_name(kind))
        assert outcome.status == "xfailed", (kind, outcome.message)
        assert "as fan_convention='shape' declares" in outcome.message and SHAPE_FANS.reason in outcome.message
        ratios = outcome.evidence[0].data["ratio_to_true_fan_law"]
        assert any(abs(r - 1.0) > 0.4 for r in ratios.values()), ratios  # the measured ratio is in the evidence
    for kind in AGREE:
        assert run(spec, layer_check_name(kind)).status == "passed", kind
    mha = run(spec, MHA_INDEPENDENCE)
    assert mha.status == "xfailed" and "are identical" in mha.message and MHA_SEEDED_CLONE.reason in mha.message


def test_without_the_declaration_the_strict_failure_names_the_remedy():
    spec = spec_of(shape_fan_uniform)
    assert spec.fan_convention == "layer"
    for kind in ("conv2d_transpose", "depthwise_conv2d", "einsum_dense"):
        outcome = run(spec, layer_check_name(kind))
        assert outcome.status == "failed" and SHAPE_REMEDY in outcome.message, outcome.message
    assert run(spec, layer_check_name("dense")).status == "passed"


def test_shape_declaration_does_not_waive_a_wrong_scale():
    spec = spec_of(lambda seed: shape_fan_uniform(seed, scale=3.0), fan_convention="shape", name="ThreeTimes")
    for kind in ("conv2d_transpose", "dense"):
        outcome = run(spec, layer_check_name(kind))
        assert outcome.status == "failed", (kind, outcome.message)
    assert "matches the law at neither" in run(spec, layer_check_name("conv2d_transpose")).message


def _stride1_true_fans(seed):
    """Knows a transposed kernel (*k, out, in) has fan_in = in * prod(k) -- but only at stride 1."""
    def init(shape, dtype=None):
        fan_in = shape[-1] * math.prod(shape[:-2])
        limit = math.sqrt(3.0 / fan_in)
        return np.random.default_rng(seed).uniform(-limit, limit, size=tuple(shape)).astype(dtype_name(dtype))

    return init


def test_transposed_kinds_are_judged_at_strides_1_and_2():
    assert conv_transpose_fans((3, 3, 64, 128)).fan_in == 128 * 9
    assert conv_transpose_fans((3, 3, 64, 128), (2, 2)).fan_in == 128 * 9 / 4
    assert conv_transpose_fans((3, 3, 64, 128), (2, 2)).fan_out == 64 * 9  # each input feeds out * k^2 outputs
    outcome = run(spec_of(_stride1_true_fans, name="Stride1Only"), layer_check_name("conv2d_transpose"))
    assert outcome.status == "failed"
    first = outcome.message.split("\n")[0]
    assert "kernel@stride2" in first and "kernel@stride1" not in first, first
    tests = {t["test"]: t for t in outcome.evidence[0].data["tests"]}
    assert tests["variance_z_kernel@stride1"]["passed"]
    assert tests["variance_z_kernel@stride2"]["observed"]["ratio_to_oracle_variance"] == pytest.approx(0.25, rel=0.1)
    # The finding states both measured figures (stride 1 doubles, stride 2 halves He's signal variance).
    assert "stride 1 doubles" in FAN_TRANSPOSE.evidence and "stride 2 halves" in FAN_TRANSPOSE.evidence


def _correlated(seed):
    calls = [0]

    def init(shape, dtype=None):
        calls[0] += 1
        base = np.random.default_rng(seed).normal(size=tuple(shape))
        noise = np.random.default_rng([seed, calls[0]]).normal(size=tuple(shape))
        return (math.sqrt(0.5) * base + math.sqrt(0.5) * noise).astype(dtype_name(dtype))

    return init


def test_mha_correlated_but_not_identical_is_a_real_failure():
    from initcheck.laws import Normal

    spec = InitializerSpec(name="Correlated", factory=_correlated, law=Normal(std=1.0), dtypes=("float32",),
                           unseeded_repeat="any", seeded_repeat="any")
    outcome = run(spec, MHA_INDEPENDENCE)
    assert outcome.status == "failed" and "are identical" not in outcome.message, outcome.message


def test_mha_identical_kernels_of_an_unseeded_spec_are_a_real_failure():
    from initcheck.laws import Normal

    spec = InitializerSpec(name="SameEveryTime", factory=lambda seed: numpy_normal(7), law=Normal(std=1.0),
                           tags=frozenset({"iid"}), dtypes=("float32",), unseeded_repeat="same")
    outcome = run(spec, MHA_INDEPENDENCE)
    assert outcome.status == "failed" and "tag the spec 'seeded'" in outcome.message


def test_keras_convention_name_is_a_deprecated_alias_of_layer():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = spec_of(shape_fan_uniform, fan_convention="keras")
    assert spec.fan_convention == "layer"
    assert any(issubclass(w.category, DeprecationWarning) and "'shape'" in str(w.message) for w in caught)


def test_builtin_keeps_its_explicit_evidenced_finding():
    from initcheck.builtin.initializers import builtin_specs

    he = next(s for s in builtin_specs() if s.name == "HeNormal")
    assert he.fan_convention == "layer" and he.expected_failure("check_layer_variance_conv2d_transpose") is FAN_TRANSPOSE
    outcome = run(he, "check_layer_variance_conv2d_transpose")
    assert outcome.status == "xfailed" and FAN_TRANSPOSE.reason in outcome.message
