"""Distribution, layer-aware and structured checks: each passes a correct object and catches a wrong one.

The wrong objects of the power table live in test_power_table.py; this file
covers the rest of each check's teeth (low precision, layers, orthogonality,
spectrum), the evidence a failure carries, and the path through the battery
(Hypothesis cases, reproduce command).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from initcheck import stats
from initcheck.battery import Item, run_check, run_one
from initcheck.checks import all_checks, checks_for
from initcheck.checks import distribution as dist
from initcheck.checks import structured
from initcheck.evidence import CheckFailure
from initcheck.fans import Fans
from initcheck.laws import Law, Normal, TruncatedNormal, Uniform

from test_power_table import (exact, haar_sampler, normal_fan_law, np_spec, orthogonal_law, rows_correlated,
                              scaled, truncated_fan_law)

LOW = ("float16", "bfloat16")


@pytest.fixture(autouse=True)
def _fresh() -> None:
    stats.reset()
    dist.clear_cache()


# --------------------------------------------------------------------------- battery path and evidence

def test_checks_are_selected_by_capability() -> None:
    iid = np_spec("iid", Normal(0.1), exact, dtypes=("float16", "float32"))
    names = {c.name for c in checks_for(iid)}
    assert {"check_law_fit", "check_variance", "check_mean", "check_support", "check_tails",
            "check_independence", "check_low_precision", "check_spectrum", "check_layer_variance_dense"} <= names
    assert "check_haar" not in names
    ortho = np_spec("o", orthogonal_law(1.0), haar_sampler(True), structured_law=True, ranks=(2,))
    onames = {c.name for c in checks_for(ortho)}
    assert {"check_orthogonality", "check_haar", "check_haar_rotation_angle"} <= onames
    assert "check_law_fit" not in onames
    only_low = np_spec("low", Normal(0.1), exact, dtypes=("bfloat16",))
    assert "check_law_fit" not in {c.name for c in checks_for(only_low)}


def test_battery_runs_hypothesis_cases_over_ranks_and_records_evidence() -> None:
    spec = np_spec("right", normal_fan_law(2.0, "fan_in"), exact, ranks=(1, 5))
    evidence = run_check(Item("doubles>right", spec, all_checks()["check_variance"]))
    assert len(evidence) == all_checks()["check_variance"].examples
    for ev in evidence:
        assert len(ev.case["shape"]) in (1, 5)
        assert 2 ** 15 <= math.prod(ev.case["shape"]) <= 2 ** 19
        t = ev.data["tests"][0]
        assert t["n"] >= stats.default_plan(0.0).n_moments
        assert t["alpha"] == stats.budget().alpha and t["beta"] == stats.budget().beta
        assert ev.data["budget_share"] == 1 / 20_000 and ev.data["seeds"]["draws"] >= 1
        assert "initcheck check --select 'doubles>right' --check check_variance --case" in ev.reproduce


def test_failure_evidence_is_complete() -> None:
    spec = np_spec("wrong", Normal(0.05), scaled(1.05))
    outcome = run_one(Item("doubles>wrong", spec, all_checks()["check_variance"]),
                      case={"shape": [64, 4096], "dtype": "float64", "seed": 7})
    assert outcome.status == "failed"
    ev = outcome.evidence[0]
    t = ev.data["tests"][0]
    for key in ("statistic", "threshold", "n", "alpha", "beta", "smallest_detectable"):
        assert t[key] is not None
    assert t["observed"]["std_ratio"] == pytest.approx(1.05, rel=2e-3)
    assert {"min", "max", "std"} <= set(t["observed"]) and t["expected"]["std"] == pytest.approx(0.05)
    assert ev.data["law"].startswith("normal(") and ev.case["seed"] == 7
    assert "--case" in ev.reproduce and "statistic" in outcome.message


def test_wrong_shape_is_a_clear_failure() -> None:
    spec = np_spec("bad", Normal(0.05), lambda rng, shape, law, fans: rng.standard_normal(shape[::-1]) * 0.05)
    with pytest.raises(CheckFailure, match="returned shape"):
        dist.check_mean(spec, {"shape": [4, 8], "dtype": "float32", "seed": 0})


def test_non_finite_values_fail() -> None:
    def nan_sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        x = exact(rng, shape, law, fans)
        x.flat[3] = np.nan
        return x

    spec = np_spec("nan", Normal(0.05), nan_sampler)
    with pytest.raises(CheckFailure, match="non-finite"):
        dist.check_law_fit(spec, {"shape": [512, 512], "dtype": "float32", "seed": 0})
    with pytest.raises(CheckFailure):
        dist.check_support(spec, {"shape": [512, 512], "dtype": "float32", "seed": 0})


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

    with pytest.raises(CheckFailure, match="support"):
        dist.check_support(np_spec("ulp", law, one_ulp_out), case)


def test_tails_pass_unbounded_laws_and_catch_outliers() -> None:
    right = np_spec("right", Normal(0.05), exact)
    case = {"shape": [512, 1024], "dtype": "float64", "seed": 4}
    assert dist.check_tails(right, case).passed

    def outliers(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        x = exact(rng, shape, law, fans)
        hit = rng.random(shape) < 5e-6
        x[hit] = 8 * 0.05
        return x

    dist.clear_cache()
    with pytest.raises(CheckFailure, match="tail count"):
        dist.check_tails(np_spec("outliers", Normal(0.05), outliers), case)


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
    assert {t["test"] for t in ev.data["tests"]} >= {"dkwm_rounded_law_bfloat16", "support_exact_float16"}


def test_low_precision_catches_a_coarse_grid_and_a_scale_error() -> None:
    case = {"shape": [256, 512], "dtype": "low", "seed": 6}
    with pytest.raises(CheckFailure, match="dkwm_rounded_law_(float16|bfloat16)"):
        dist.check_low_precision(np_spec("grid", Uniform.symmetric(0.05), _seven_bit_uniform, dtypes=LOW), case)
    dist.clear_cache()
    with pytest.raises(CheckFailure, match="variance_float16"):
        dist.check_low_precision(np_spec("std", Normal(0.05), scaled(1.01), dtypes=LOW), case)


# --------------------------------------------------------------------------- layer-aware variance

def _layer(kind: str, spec: object, case: dict) -> object:
    return dist.run_layer_variance(dist.LAYER_KINDS[kind], spec, case)


def test_dense_layer_passes_a_correct_spec_and_catches_swapped_fans() -> None:
    good = np_spec("he", normal_fan_law(2.0, "fan_in"), exact)
    ev = _layer("dense", good, {"units": [64, 192], "seed": 1})
    assert ev.data["tests"][0]["expected"]["oracle_fans"] == [64, 192]

    def swapped(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return rng.standard_normal(shape) * math.sqrt(2.0 / fans.fan_out)

    with pytest.raises(CheckFailure, match="true fans"):
        _layer("dense", np_spec("swap", normal_fan_law(2.0, "fan_in"), swapped), {"units": [64, 192], "seed": 1})


def test_transposed_conv_fan_in_is_caught_and_fan_avg_is_not_falsely_flagged() -> None:
    case = {"k": [3, 3], "channels": [16, 48], "seed": 2}
    avg = np_spec("avg", truncated_fan_law(1.0, "fan_avg"), exact)
    assert _layer("conv2d_transpose", avg, case).passed
    with pytest.raises(CheckFailure, match="keras_convention|Keras's shape convention"):
        _layer("conv2d_transpose", np_spec("in", truncated_fan_law(2.0, "fan_in"), exact), case)
    square = {"k": [3, 3], "channels": [32, 32], "seed": 2}
    assert _layer("conv2d_transpose", np_spec("in", truncated_fan_law(2.0, "fan_in"), exact), square).passed


def test_depthwise_and_recurrent_oracles() -> None:
    fan_out = np_spec("out", normal_fan_law(1.0, "fan_out"), exact)
    assert _layer("depthwise_conv2d", fan_out, {"k": [3, 3], "cin": 64, "mult": 2, "seed": 0}).passed
    with pytest.raises(CheckFailure):
        _layer("depthwise_conv2d", np_spec("in", normal_fan_law(2.0, "fan_in"), exact),
               {"k": [3, 3], "cin": 64, "mult": 2, "seed": 0})
    fan_in = np_spec("in", normal_fan_law(1.0, "fan_in"), exact)
    assert _layer("lstm", fan_in, {"units": [48, 96], "seed": 0}).passed
    with pytest.raises(CheckFailure):
        _layer("lstm", fan_out, {"units": [48, 96], "seed": 0})


@pytest.mark.slow
def test_every_layer_kind_builds_and_a_fixed_law_passes() -> None:
    """A law that ignores fans must pass every layer kind (no false flag from the oracle)."""
    from hypothesis import find

    spec = np_spec("fixed", Normal(0.05), exact)
    for kind in dist.LAYER_KINDS.values():
        case = find(kind.params(), lambda c: True)
        ev = _layer(kind.name, spec, case)
        assert ev.passed, kind.name


# --------------------------------------------------------------------------- structured

@pytest.mark.parametrize("shape", [[12, 5], [5, 12], [3, 4, 6], [2, 2, 3, 5]])
def test_orthogonality_in_both_orientations(shape: list[int]) -> None:
    good = np_spec("haar", orthogonal_law(2.5), haar_sampler(True), structured_law=True, ranks=(2, 3, 4))
    for dtype in ("float16", "float32", "float64"):
        ev = structured.check_orthogonality(good, {"shape": shape, "dtype": dtype, "seed": 1})
        assert ev.data["orientation"].startswith("Q^T Q" if math.prod(shape[:-1]) >= shape[-1] else "Q Q^T")

    def no_gain(rng: np.random.Generator, shape_: tuple, law: Law, fans: Fans) -> np.ndarray:
        return haar_sampler(True)(rng, shape_, law, fans) / law.gain

    with pytest.raises(CheckFailure, match="gain"):
        structured.check_orthogonality(np_spec("nogain", orthogonal_law(2.5), no_gain, structured_law=True,
                                               ranks=(2, 3, 4)), {"shape": shape, "dtype": "float32", "seed": 1})


def test_haar_passes_sign_corrected_qr_and_angle_check_catches_uncorrected() -> None:
    good = np_spec("haar", orthogonal_law(1.0), haar_sampler(True), structured_law=True, ranks=(2,))
    bad = np_spec("qr", orthogonal_law(1.0), haar_sampler(False), structured_law=True, ranks=(2,))
    assert structured.check_haar(good, {"shape": [6, 3], "dtype": "float32", "seed": 0}).passed
    assert structured.check_haar_rotation_angle(good, {"seed": 0}).passed
    with pytest.raises(CheckFailure, match="2x2"):
        structured.check_haar_rotation_angle(bad, {"seed": 0})


def test_spectrum_matches_marchenko_pastur_and_sees_correlated_rows() -> None:
    for law in (Normal(0.1), Uniform.symmetric(0.2), TruncatedNormal.with_variance(0.01)):
        spec = np_spec("iid", law, exact)
        assert structured.check_spectrum(spec, {"shape": [48, 20], "dtype": "float64", "seed": 3}).passed
    with pytest.raises(CheckFailure, match="Marchenko-Pastur"):
        structured.check_spectrum(np_spec("corr", Normal(0.1), rows_correlated(0.3)),
                                  {"shape": [48, 20], "dtype": "float64", "seed": 3})


def test_exact_spectral_second_moment() -> None:
    """The finite-size formula against a Monte Carlo average (uniform entries, kurtosis -1.2)."""
    rng = np.random.default_rng(0)
    m, k = 7, 4
    w = rng.uniform(-1, 1, size=(20000, m, k))
    g = np.einsum("rij,ril->rjl", w, w)
    mc = float(np.mean(np.sum(g * g, axis=(1, 2))))
    assert mc == pytest.approx(structured.spectral_second_moment(m, k, 1 / 3, -1.2), rel=0.01)


def test_mha_kernels_must_be_independent_draws() -> None:
    """A per-call-deterministic (seeded) initializer gives MHA identical q/k/v kernels; a stateful one does not."""
    from initcheck.spec import InitializerSpec

    def stateful_factory(seed: object):
        rng = np.random.default_rng(seed)

        def init(shape: object, dtype: object = None) -> np.ndarray:
            name = str(getattr(dtype, "name", dtype)) if dtype else "float32"  # tf.keras 2 passes a tf.DType
            return (0.05 * rng.standard_normal(tuple(shape))).astype(name)

        return init

    case = {"heads": 2, "key_dim": 16, "model": 64, "seed": 0}
    stateful = InitializerSpec(name="stateful", factory=stateful_factory, law=Normal(0.05), namespace="doubles")
    assert dist.check_layer_independence_multi_head_attention(stateful, case).passed
    same = np_spec("same", Normal(0.05), exact)
    with pytest.raises(CheckFailure, match="correlation_query_key"):
        dist.check_layer_independence_multi_head_attention(same, case)


def test_check_modules_import_no_tensorflow() -> None:
    import subprocess
    import sys

    code = ("import sys, initcheck.stats, initcheck.checks.distribution, initcheck.checks.structured; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
