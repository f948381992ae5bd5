"""#13 point 9 (and #14's half): no declaration is silently ignored, and a declared failure names its cause.

Before: ``unseeded_repeat`` without the ``seeded`` tag was never checked,
``spec.has("typo")`` returned False, an ``expected_failures`` key naming no
check was accepted, ``check_config_roundtrip`` and ``check_config_round_trip``
were two names for one idea, and an expected failure matched any failure of
its check, so a declared failure could hide a different one.
"""

from __future__ import annotations

import re
import warnings

import pytest

from common.plugin_site import FakeEP, numpy_normal, only_entry_points
from initcheck import battery
from initcheck.builtin import findings
from initcheck.checks import all_checks, check_names
from initcheck.laws import Constant, Normal
from initcheck.spec import ExpectedFailure, InitializerSpec, OptimizerSpec, SpecError


def normal_spec(**kw):
    kw.setdefault("dtypes", ("float32",))
    return InitializerSpec(name=kw.pop("name", "N"), factory=kw.pop("factory", numpy_normal), law=Normal(std=1.0), **kw)


def test_unknown_tag_is_an_error_not_a_no():
    spec = normal_spec()
    with pytest.raises(SpecError, match="unknown tag"):
        spec.has("seded")
    from initcheck.references.optimizers import RULES

    opt = OptimizerSpec(name="O", factory=lambda **kw: None, rule=RULES["sgd"])
    with pytest.raises(SpecError, match="unknown tag"):
        opt.has("sparce")


@pytest.mark.parametrize("kw, field", [
    (dict(tags=frozenset({"deterministic"}), unseeded_repeat="different"), "unseeded_repeat"),
    (dict(tags=frozenset({"iid"}), seeded_repeat="different"), "seeded_repeat"),
    (dict(expected_failures={"check_seed_contract": ExpectedFailure("x", match="(unclosed")}), "match"),
])
def test_meaningless_declarations_are_rejected(kw, field):
    law = Constant(0.5) if "deterministic" in kw.get("tags", ()) else Normal(std=1.0)
    spec = InitializerSpec(name="Meaningless", factory=numpy_normal, law=law, dtypes=("float32",), **kw)
    with pytest.raises(SpecError, match=field):
        spec.validate()


def test_unseeded_repeat_is_checked_without_the_seeded_tag():
    # Declares that two calls differ, but returns the same values every time.
    spec = normal_spec(name="Stuck", factory=lambda seed: numpy_normal(3), tags=frozenset({"iid"}),
                       unseeded_repeat="different")
    spec.validate()
    items = {i.check.name: i for i in battery.plan([("doubles>Stuck", spec)])}
    assert "check_repeat_call" in items
    battery.reset_run_state()
    outcome = battery.run_one(items["check_repeat_call"])
    assert outcome.status == "failed" and "unseeded instance called twice gave same values" in outcome.message


def test_expected_failure_naming_no_check_is_rejected_at_registration(monkeypatch):
    typo = normal_spec(name="Typo", expected_failures={"check_sead_contract": "a typo"})
    only_entry_points(monkeypatch, [FakeEP("typo-plugin", "specs", obj=[typo])])
    registry = battery.load()
    assert not registry.specs
    (err,) = registry.errors
    assert "check_sead_contract" in err.error and "names no registered check" in err.error


def test_one_name_per_idea_and_the_old_name_maps_with_a_warning():
    assert "check_config_round_trip" in all_checks("initializer")
    assert "check_config_round_trip" in all_checks("optimizer")
    assert "check_config_roundtrip" not in check_names()
    with pytest.warns(DeprecationWarning, match="check_config_round_trip"):
        spec = normal_spec(tags=frozenset({"iid", "seeded"}),
                           expected_failures={"check_config_roundtrip": "old name"})
    assert spec.expected_failure("check_config_round_trip").reason == "old name"
    with pytest.warns(DeprecationWarning):
        items = battery.plan([("doubles>N", normal_spec())], checks=["check_config_roundtrip"])
    assert items == []  # the renamed check exists (no 'no check matches'); it needs the keras_object tag


def _ignores_seed(seed):
    return numpy_normal(None)


def test_a_declared_failure_does_not_hide_a_different_one():
    broken = dict(name="IgnoresSeed", factory=_ignores_seed, tags=frozenset({"iid", "seeded"}),
                  unseeded_repeat="any", seeded_repeat="any")
    battery.reset_run_state()
    wrong = normal_spec(**broken, expected_failures={"check_seed_contract": ExpectedFailure(
        "seed 0 ignored", match="seed=0 gave different values")})
    item = next(i for i in battery.plan([("doubles>IgnoresSeed", wrong)]) if i.check.name == "check_seed_contract")
    outcome = battery.run_one(item)
    assert outcome.status == "failed"
    assert outcome.message.startswith("declared expected failure 'seed 0 ignored'") and "but it failed with" in outcome.message
    battery.reset_run_state()
    right = normal_spec(**broken, expected_failures={"check_seed_contract": ExpectedFailure(
        "two instances differ", match=r"two instances with seed=\d+ gave different values")})
    item = next(i for i in battery.plan([("doubles>IgnoresSeed", right)]) if i.check.name == "check_seed_contract")
    assert battery.run_one(item).status == "xfailed"


def test_match_on_an_evidence_key():
    xf = ExpectedFailure("non-finite", match=r"^[1-9]", evidence_key="non_finite")
    assert xf.matches("anything", {"non_finite": 3})
    assert not xf.matches("anything", {"non_finite": 0})
    assert not xf.matches("anything", {})


def _findings():
    return {name: value for name, value in vars(findings).items() if isinstance(value, ExpectedFailure)}


def test_every_builtin_finding_names_its_failure():
    found = _findings()
    assert len(found) >= 20
    for name, finding in found.items():
        assert finding.match, f"{name} has no match"
        re.compile(finding.match)
        finding.validate("builtin", name)


def test_builtin_declarations_name_registered_checks():
    from initcheck.builtin.initializers import builtin_specs as initializers
    from initcheck.builtin.optimizers import builtin_specs as optimizers

    known = check_names()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no old check name left in the built-ins
        for spec in initializers() + optimizers():
            spec.validate(known_checks=known)
