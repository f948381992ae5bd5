"""Convergence: the decision rule and both convergence checks catch a wrong object and pass a right one.

* :func:`initcheck.convergence.decide` -- the exact Clopper-Pearson decision
  passes counts consistent with a claim and fails counts that are not;
* ``check_trains_deep_relu`` (gate) -- HeNormal passes; a spec that promises
  He's law but draws Glorot's values (q = 1) does not train the deep ReLU net;
* ``check_convergence_expectations`` (thorough) -- GlorotUniform passes its
  thorough expectations (SGD stalls, Adam rescues); a spec that promises
  Glorot's law but draws He's values (q = 2) trains with SGD, so "SGD stalls"
  fails.

The 56-seed cells are cached per process and shared with tests/fast
(:mod:`common.builtins`).  The thorough check's teeth are marked ``slow``
(like the check, they belong to the thorough run): run alone they train
three cells of their own.
"""

from __future__ import annotations

import dataclasses

import pytest

from common import builtins
from initcheck import convergence as C
from initcheck.checks import all_checks
from initcheck.checks.evidence import CheckFailure

pytestmark = pytest.mark.filterwarnings("ignore")

ALPHA = 5e-11
BETA = 1e-6


@pytest.fixture(scope="module")
def specs():
    return builtins.convergence_specs()


def mislabelled(spec, name, factory_of):
    """``spec``'s law and name, drawing with ``factory_of``'s initializer."""
    return dataclasses.replace(spec, name=name, factory=factory_of.factory)


def test_decide_has_teeth():
    assert C.decide("trains", 56, 56, 0.9, 0.25, ALPHA, BETA).passed
    assert C.decide("trains", 40, 56, 0.9, 0.25, ALPHA, BETA).passed  # not enough evidence against 0.9
    assert not C.decide("trains", 10, 56, 0.9, 0.25, ALPHA, BETA).passed
    assert C.decide("fails", 0, 56, 0.1, 0.75, ALPHA, BETA).passed
    assert not C.decide("fails", 40, 56, 0.1, 0.75, ALPHA, BETA).passed
    assert not C.decide("diverges", 0, 56, 0.9, 0.25, ALPHA, BETA).passed
    with pytest.raises(ValueError):
        C.decide("maybe", 1, 2, 0.5, 0.1, ALPHA, BETA)


def test_gate_check_passes_he_and_catches_a_mislabelled_spec(specs):
    """Teeth of check_trains_deep_relu: a spec that promises He's law but draws Glorot values fails."""
    check = all_checks()["check_trains_deep_relu"]
    ev = check(specs["HeNormal"], {})
    assert ev.passed and ev.check == "check_trains_deep_relu" and ev.data["decisions"][0]["n"] == 56
    wrong = mislabelled(specs["HeNormal"], "HeNormal-but-glorot", specs["GlorotUniform"])
    with pytest.raises(CheckFailure) as info:
        check(wrong, {})
    assert info.value.evidence.check == "check_trains_deep_relu" and not info.value.evidence.passed
    assert "critical_gain_sgd_trains" in str(info.value)


@pytest.mark.slow  # thorough-only check; three 56-seed cells of its own when run alone (~2 min on 2 cores)
def test_thorough_check_passes_glorot_and_catches_a_mislabelled_spec(specs):
    """Teeth of check_convergence_expectations: Glorot's law drawn with He's values trains with SGD."""
    check = all_checks()["check_convergence_expectations"]
    glorot = specs["GlorotUniform"]
    assert {e.name for e in C.expectations_for(glorot, "thorough")} == {"unit_gain_sgd_stalls",
                                                                        "unit_gain_adam_rescues"}
    ev = check(glorot, {})
    assert ev.passed and ev.check == "check_convergence_expectations" and ev.data["n_assertions"] == 2
    wrong = mislabelled(glorot, "GlorotUniform-but-he", specs["HeNormal"])
    with pytest.raises(CheckFailure) as info:
        check(wrong, {})
    ev = info.value.evidence
    assert ev.check == "check_convergence_expectations" and not ev.passed
    # the message lists the failed expectations only: SGD did not stall, Adam still trains
    assert "unit_gain_sgd_stalls" in ev.message and "unit_gain_adam_rescues" not in ev.message
