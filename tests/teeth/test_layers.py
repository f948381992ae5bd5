"""Layer checks: each layer kind's variance check catches a wrong kernel law and passes the right one.

* every kind (``check_layer_variance_<kind>``): a fixed-law double declared
  ``Normal(0.05)`` but sampling std 0.1 is caught, the exact sampler passes
  (a fixed law needs no fans, so this tests the build and the measurement);
* the fan oracle's teeth: laws at the wrong fans for dense, transposed conv,
  depthwise and LSTM kernels are caught where the right fans pass;
* MultiHeadAttention's query/key/value kernels must be independent draws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from common.doubles import exact, normal_fan_law, np_spec, scaled, truncated_fan_law
from initcheck import stats
from initcheck.checks import all_checks
from initcheck.checks import layers
from initcheck.checks.evidence import CheckFailure
from initcheck.laws import Fans, Law, Normal
from initcheck.spec import InitializerSpec


@pytest.fixture(autouse=True)
def _fresh() -> None:
    stats.reset()


def _layer(kind: str, spec: object, case: dict) -> object:
    """The registered ``check_layer_variance_<kind>`` on one case."""
    return all_checks()[layers.layer_check_name(kind)](spec, case)


def _caught(kind: str, spec: object, case: dict, match: str | None = None) -> object:
    with pytest.raises(CheckFailure, match=match) as info:
        _layer(kind, spec, case)
    assert info.value.evidence.check == layers.layer_check_name(kind) and not info.value.evidence.passed
    return info.value.evidence


# --------------------------------------------------------------------------- every layer kind

#: One small explicit case per layer kind (each runs in well under a second on Keras 3.15 / TF 2.21).
LAYER_CASES: dict[str, dict] = {
    "dense": {"units": [96, 48], "seed": 0},
    "conv1d": {"k": [2], "channels": [48, 24], "seed": 0},
    "conv2d": {"k": [2, 2], "channels": [32, 16], "seed": 0},
    "conv3d": {"k": [2, 2, 2], "channels": [16, 8], "seed": 0},
    "depthwise_conv2d": {"k": [3, 3], "cin": 64, "mult": 1, "seed": 0},
    "separable_conv2d": {"k": [3, 3], "cin": 128, "mult": 1, "cout": 32, "seed": 0},
    "conv1d_transpose": {"k": [2], "channels": [48, 24], "seed": 0},
    "conv2d_transpose": {"k": [2, 2], "channels": [32, 16], "seed": 0},
    "conv3d_transpose": {"k": [2, 2, 2], "channels": [16, 8], "seed": 0},
    "einsum_dense": {"b": 64, "c": 2, "d": 32, "seed": 0},
    "multi_head_attention": {"heads": 2, "key_dim": 16, "model": 64, "seed": 1},
    "embedding": {"units": [96, 48], "seed": 0},
    "lstm": {"units": [64, 32], "seed": 0},
    "gru": {"units": [64, 32], "seed": 0},
    "simple_rnn": {"units": [64, 32], "seed": 0},
}


@pytest.mark.parametrize("kind", sorted(LAYER_CASES))
def test_layer_variance_catches_a_wrong_std(kind: str) -> None:
    """Declared Normal(0.05), sampling std 0.1 (variance x4): caught; the exact sampler passes."""
    case = LAYER_CASES[kind]
    ev = _caught(kind, np_spec("std0.1", Normal(0.05), scaled(2.0)), case)
    assert ev.data["layer"] == kind
    right = _layer(kind, np_spec("fixed", Normal(0.05), exact), case)
    assert right.passed and right.check == layers.layer_check_name(kind)
    for t in right.data["tests"]:
        assert t["observed"]["ratio_to_oracle_variance"] == pytest.approx(1.0, abs=layers.LAYER_VARIANCE_CHANGE)


# --------------------------------------------------------------------------- the fan oracle's teeth

def test_dense_layer_passes_a_correct_spec_and_catches_swapped_fans() -> None:
    good = np_spec("he", normal_fan_law(2.0, "fan_in"), exact)
    ev = _layer("dense", good, {"units": [64, 192], "seed": 1})
    assert ev.data["tests"][0]["expected"]["oracle_fans"] == [64, 192]

    def swapped(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return rng.standard_normal(shape) * math.sqrt(2.0 / fans.fan_out)

    _caught("dense", np_spec("swap", normal_fan_law(2.0, "fan_in"), swapped), {"units": [64, 192], "seed": 1},
            match="true fans")


def test_transposed_conv_fan_in_is_caught_and_fan_avg_is_not_falsely_flagged() -> None:
    case = {"k": [3, 3], "channels": [16, 48], "seed": 2}
    avg = np_spec("avg", truncated_fan_law(1.0, "fan_avg"), exact)
    assert _layer("conv2d_transpose", avg, case).passed
    _caught("conv2d_transpose", np_spec("in", truncated_fan_law(2.0, "fan_in"), exact), case,
            match="keras_convention|Keras's shape convention")
    square = {"k": [3, 3], "channels": [32, 32], "seed": 2}
    assert _layer("conv2d_transpose", np_spec("in", truncated_fan_law(2.0, "fan_in"), exact), square).passed


def test_depthwise_and_recurrent_oracles() -> None:
    fan_out = np_spec("out", normal_fan_law(1.0, "fan_out"), exact)
    assert _layer("depthwise_conv2d", fan_out, {"k": [3, 3], "cin": 64, "mult": 2, "seed": 0}).passed
    _caught("depthwise_conv2d", np_spec("in", normal_fan_law(2.0, "fan_in"), exact),
            {"k": [3, 3], "cin": 64, "mult": 2, "seed": 0})
    fan_in = np_spec("in", normal_fan_law(1.0, "fan_in"), exact)
    assert _layer("lstm", fan_in, {"units": [48, 96], "seed": 0}).passed
    _caught("lstm", fan_out, {"units": [48, 96], "seed": 0})


# --------------------------------------------------------------------------- MultiHeadAttention independence

def test_mha_kernels_must_be_independent_draws() -> None:
    """A per-call-deterministic (seeded) initializer gives MHA identical q/k/v kernels; a stateful one does not."""
    def stateful_factory(seed: object):
        rng = np.random.default_rng(seed)

        def init(shape: object, dtype: object = None) -> np.ndarray:
            name = str(getattr(dtype, "name", dtype)) if dtype else "float32"  # tf.keras 2 passes a tf.DType
            return (0.05 * rng.standard_normal(tuple(shape))).astype(name)

        return init

    case = {"heads": 2, "key_dim": 16, "model": 64, "seed": 0}
    stateful = InitializerSpec(name="stateful", factory=stateful_factory, law=Normal(0.05), namespace="doubles")
    assert layers.check_layer_independence_multi_head_attention(stateful, case).passed
    same = np_spec("same", Normal(0.05), exact)
    with pytest.raises(CheckFailure, match="correlation_query_key") as info:
        layers.check_layer_independence_multi_head_attention(same, case)
    assert info.value.evidence.check == "check_layer_independence_multi_head_attention"
