"""Convergence: the statistics, the declared expectations, and the negative controls.

Negative controls (issue #7): each is shown *failing* a "must train"
expectation, at the number of seeds the power analysis sets (56) and the
run's per-assertion alpha:

* Glorot (q = 1) on the 30-layer ReLU net with SGD trains worse than He;
* N(0, 0.01^2) stalls (constant output), N(0, 1) diverges (NaN/inf, reported
  as "diverged", not a crash);
* Adam rescues Glorot + deep ReLU, which SGD cannot train.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from initcheck import convergence as C
from initcheck.evidence import CheckFailure
from initcheck.stats import budget

pytestmark = pytest.mark.filterwarnings("ignore")

ALPHA = 5e-11
BETA = 1e-6


# ------------------------------------------------------------------ statistics (no TensorFlow)

def test_clopper_pearson_closed_forms():
    """k = n and k = 0 have closed forms: lower = alpha^(1/n), upper = 1 - alpha^(1/n)."""
    for n in (16, 56, 128):
        assert C.cp_lower(n, n, ALPHA) == pytest.approx(ALPHA ** (1 / n), rel=1e-9)
        assert C.cp_upper(0, n, ALPHA) == pytest.approx(1 - ALPHA ** (1 / n), rel=1e-8)  # beta.ppf near 1
        assert C.cp_upper(n, n, ALPHA) == 1.0 and C.cp_lower(0, n, ALPHA) == 0.0
    lo, hi = C.cp_interval(8, 16)
    assert lo < 0.5 < hi and lo == pytest.approx(1 - hi, rel=1e-9)


def test_sixteen_seeds_cannot_support_ninety_percent():
    """The arithmetic in docs/convergence.md: 16/16 certifies only >= 0.227 at alpha = 5e-11."""
    assert C.cp_lower(16, 16, ALPHA) == pytest.approx(0.2275, abs=1e-3)
    assert C.cp_lower(128, 128, ALPHA) < 0.9 < C.cp_lower(256, 256, ALPHA)


def test_required_seeds_meets_both_error_rates():
    from scipy.stats import binom

    n = C.required_seeds("trains", 0.9, 0.25, ALPHA, BETA)
    assert n == 53
    # the decision rule at n: fail iff the upper bound < 0.9, i.e. k <= c
    c = max(k for k in range(n + 1) if C.cp_upper(k, n, ALPHA) < 0.9)
    assert binom.cdf(c, n, 0.9) <= ALPHA * 1.0001  # false fail at the claimed rate
    assert binom.sf(c, n, 0.25) <= BETA  # false pass at the named discrepancy
    assert C.required_seeds("fails", 0.1, 0.75, ALPHA, BETA) == n  # mirror image
    with pytest.raises(ValueError):
        C.required_seeds("trains", 0.5, 0.6, ALPHA, BETA)


def test_decide_has_teeth():
    assert C.decide("trains", 56, 56, 0.9, 0.25, ALPHA, BETA).passed
    assert C.decide("trains", 40, 56, 0.9, 0.25, ALPHA, BETA).passed  # not enough evidence against 0.9
    assert not C.decide("trains", 10, 56, 0.9, 0.25, ALPHA, BETA).passed
    assert C.decide("fails", 0, 56, 0.1, 0.75, ALPHA, BETA).passed
    assert not C.decide("fails", 40, 56, 0.1, 0.75, ALPHA, BETA).passed
    assert not C.decide("diverges", 0, 56, 0.9, 0.25, ALPHA, BETA).passed
    with pytest.raises(ValueError):
        C.decide("maybe", 1, 2, 0.5, 0.1, ALPHA, BETA)


def test_classify_reports_divergence_not_crash():
    class T:
        metric, target, divergence = "loss", 0.1, 1e6

    losses = np.array([[1.0, 1.0, 1.0, 1.0], [0.5, np.nan, 2e7, 0.9], [0.05, np.nan, 1.0, 0.8]])
    status, steps = C.classify(T(), losses, losses)
    assert status == ["success", "diverged", "diverged", "stalled"]
    assert steps == [2, None, None, None]


# ------------------------------------------------------------------ trained cells (TensorFlow)

@pytest.fixture(scope="module")
def specs():
    from initcheck.builtin.initializers import builtin_specs

    out = {s.name: s for s in builtin_specs()}
    out["N1"] = C.normal_spec(1.0)
    out["N001"] = C.normal_spec(0.01)
    return out


def _show(label: str, d: C.Decision) -> None:
    """Print the decision (run with -s to read the numbers quoted in docs/convergence.md)."""
    cell = d.cell
    print(f"\n{label}: {d.expectation} passed={d.passed} {d.message} | diverged={cell.get('diverged')} "
          f"median_steps={cell.get('median_steps')} seconds={cell.get('seconds')}")


def _trains(optimizer: str) -> C.Expectation:
    """The "must train" expectation every negative control is held to."""
    return C.Expectation(f"must_train_{optimizer}", "deep_narrow_relu", optimizer, (0.0, math.inf), "trains",
                         0.9, 0.25)


def test_declared_expectations_select_by_law(specs):
    names = {n for n, s in specs.items() if any(e.name == "critical_gain_sgd_trains" for e in C.expectations_for(s))}
    assert {"HeNormal", "HeUniform"} <= names and "GlorotUniform" not in names
    assert [e.name for e in C.expectations_for(specs["N1"], "thorough")] == ["huge_gain_sgd_diverges"]
    assert "tiny_gain_adam_stalls" in [e.name for e in C.expectations_for(specs["N001"], "thorough")]
    assert C.variance_gain(specs["Zeros"], (16, 16)) is None


def test_he_sgd_trains_the_deep_relu_network(specs):
    d = C.verify_expectation(specs["HeNormal"], _trains("sgd"))
    _show("HeNormal", d)
    assert d.passed, d.message
    assert d.n == 56


def test_negative_control_glorot_sgd_fails_must_train_and_is_worse_than_he(specs):
    d = C.verify_expectation(specs["GlorotUniform"], _trains("sgd"))
    _show("GlorotUniform", d)
    assert not d.passed, d.message
    he = C.run_cell(specs["HeNormal"], "sgd", "deep_narrow_relu", 56)
    glorot = C.run_cell(specs["GlorotUniform"], "sgd", "deep_narrow_relu", 56)
    better, info = C.compare_cells(he, glorot, budget().alpha)
    print(f"\nHe vs Glorot (SGD): He lower {info['better_lower']:.3g} > Glorot upper {info['worse_upper']:.3g}")
    assert better, info


def test_negative_control_normal_001_stalls(specs):
    d = C.verify_expectation(specs["N001"], _trains("sgd"))
    _show("N(0,0.01)", d)
    assert not d.passed, d.message
    cell = C.run_cell(specs["N001"], "sgd", "deep_narrow_relu", 56)
    assert cell.stalled == cell.n  # constant output: no divergence, no progress


def test_negative_control_normal_1_diverges_and_is_reported(specs):
    d = C.verify_expectation(specs["N1"], _trains("sgd"))
    _show("N(0,1)", d)
    assert not d.passed, d.message
    cell = C.run_cell(specs["N1"], "sgd", "deep_narrow_relu", 56)
    assert cell.diverged == cell.n
    declared = [e for e in C.EXPECTATIONS if e.name == "huge_gain_sgd_diverges"][0]
    dd = C.verify_expectation(specs["N1"], declared)
    _show("N(0,1)", dd)
    assert dd.passed


def test_adam_rescues_glorot_where_sgd_cannot(specs):
    assert not C.verify_expectation(specs["GlorotUniform"], _trains("sgd")).passed
    rescue = [e for e in C.EXPECTATIONS if e.name == "unit_gain_adam_rescues"][0]
    d = C.verify_expectation(specs["GlorotUniform"], rescue)
    _show("GlorotUniform", d)
    assert d.passed, d.message


def test_gate_check_passes_he_and_catches_a_mislabelled_spec(specs):
    """Teeth of check_trains_deep_relu: a spec that promises He's law but draws Glorot values fails."""
    import dataclasses

    from initcheck.checks.convergence import check_trains_deep_relu

    ev = check_trains_deep_relu(specs["HeNormal"], {})
    assert ev.passed and ev.data["decisions"][0]["n"] == 56
    wrong = dataclasses.replace(specs["HeNormal"], name="HeNormal-but-glorot",
                                factory=specs["GlorotUniform"].factory)
    with pytest.raises(CheckFailure) as info:
        check_trains_deep_relu(wrong, {})
    assert "critical_gain_sgd_trains" in str(info.value)


@pytest.mark.slow
def test_every_declared_expectation_holds_on_the_builtins(specs):
    """Thorough: every (spec, expectation) pair the law selects (the thorough check's content)."""
    failures = []
    for name, spec in specs.items():
        for e in C.expectations_for(spec, "thorough"):
            d = C.verify_expectation(spec, e)
            _show(name, d)
            if not d.passed:
                failures.append((name, e.name, d.message))
    assert not failures, failures
