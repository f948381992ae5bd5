"""The battery's path for a check: selection by capability, Hypothesis cases, the evidence a failure carries.

The NumPy doubles (:mod:`common.doubles`) stand in for initializers, so what
is tested is the battery (plan, run, evidence, reproduce command), not Keras.
"""

from __future__ import annotations

import math

import pytest

from common.capabilities import dtype_or_float32
from common.doubles import exact, haar_sampler, normal_fan_law, np_spec, orthogonal_law, scaled
from initcheck import stats
from initcheck.battery import Item, run_check, run_one
from initcheck.checks import _sampling, all_checks, checks_for
from initcheck.laws import Normal


@pytest.fixture(autouse=True)
def _fresh() -> None:
    stats.reset()
    _sampling.clear_cache()


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
        assert ev.check == "check_variance" and ev.spec == "doubles>right"
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
                      case={"shape": [64, 4096], "dtype": dtype_or_float32("float64"), "seed": 7})
    assert outcome.status == "failed"
    ev = outcome.evidence[0]
    assert ev.check == "check_variance" and ev.spec == "doubles>wrong" and not ev.passed
    t = ev.data["tests"][0]
    for key in ("statistic", "threshold", "n", "alpha", "beta", "smallest_detectable"):
        assert t[key] is not None
    assert t["observed"]["std_ratio"] == pytest.approx(1.05, rel=2e-3)
    assert {"min", "max", "std"} <= set(t["observed"]) and t["expected"]["std"] == pytest.approx(0.05)
    assert ev.data["law"].startswith("normal(") and ev.case["seed"] == 7
    assert "--case" in ev.reproduce and "statistic" in outcome.message
