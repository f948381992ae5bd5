"""Convergence: cells, the declared expectations, and the negative controls.

Negative controls (issue #7): each is shown *failing* a "must train"
expectation, at the number of seeds the power analysis sets (56) and the
run's per-assertion alpha:

* Glorot (q = 1) on the 30-layer ReLU net with SGD trains worse than He;
* N(0, 0.01^2) stalls (constant output), N(0, 1) diverges (NaN/inf, reported
  as "diverged", not a crash);
* Adam rescues Glorot + deep ReLU, which SGD cannot train.

The Clopper-Pearson arithmetic is tested in test_stats.py; the decision
rule's and the convergence checks' teeth in tests/teeth/test_convergence.py.
Cells are cached per process and the specs shared (:mod:`common.builtins`),
so every 56-seed cell trains once per run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from common import builtins
from initcheck import convergence as C
from initcheck.stats import budget, cp_lower, cp_upper

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def specs():
    return builtins.convergence_specs()


def _show(label: str, d: C.Decision) -> None:
    """Print the decision (run with -s to read the numbers quoted in docs/convergence.md)."""
    cell = d.cell
    print(f"\n{label}: {d.expectation} passed={d.passed} {d.message} | diverged={cell.get('diverged')} "
          f"median_steps={cell.get('median_steps')} seconds={cell.get('seconds')}")


def _trains(optimizer: str) -> C.Expectation:
    """The "must train" expectation every negative control is held to."""
    return C.Expectation(f"must_train_{optimizer}", "deep_narrow_relu", optimizer, (0.0, math.inf), "trains",
                         0.9, 0.25)


def _better(better: C.CellResult, worse: C.CellResult, alpha: float) -> tuple[bool, dict]:
    """Is ``better``'s success rate above ``worse``'s at ``alpha``?

    Yes when the lower one-sided Clopper-Pearson bound of ``better`` exceeds
    the upper one of ``worse``, each at ``alpha / 2`` (so the claim is wrong
    with probability ``<= alpha``).
    """
    lo = cp_lower(better.successes, better.n, alpha / 2.0)
    hi = cp_upper(worse.successes, worse.n, alpha / 2.0)
    return lo > hi, {"better": better.row(), "worse": worse.row(), "better_lower": lo, "worse_upper": hi,
                     "alpha": alpha}


def test_classify_reports_divergence_not_crash():
    class T:
        metric, target, divergence = "loss", 0.1, 1e6

    losses = np.array([[1.0, 1.0, 1.0, 1.0], [0.5, np.nan, 2e7, 0.9], [0.05, np.nan, 1.0, 0.8]])
    status, steps = C.classify(T(), losses, losses)
    assert status == ["success", "diverged", "diverged", "stalled"]
    assert steps == [2, None, None, None]


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
    better, info = _better(he, glorot, budget().alpha)
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
