"""Several declarations for one check (issues #14 point 6, #15, #17).

A check can fail for more than one known cause (RMSprop's sparse check: the
duplicate-index fold in every mode, and a crash of ``centered=True`` on
repeated indices).  A spec declares each; a failure is declared only when
*every* part of it is matched by one of them, and a declared failure in one
case never ends the search, so an undeclared failure in a later case or in
another part of the same case still fails the run.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from initcheck import battery
from initcheck.battery import Item, run_one
from initcheck.checks import Check
from initcheck.checks.evidence import Parts, fail, ok
from initcheck.reports.affected import collect
from initcheck.spec import Declarations, ExpectedFailure, InitializerSpec, SpecError, failure_parts
from initcheck.laws import Normal

FOLD = ExpectedFailure("duplicates are folded", match=r"^dense and sparse: ", versions="keras>=2")
CRASH = ExpectedFailure("centered crashes", match=r"centered: raised InvalidArgumentError", versions="keras>=2")
OLD = ExpectedFailure("only on an old Keras", match=r"^other: ", versions="keras<1")


class _Spec:
    """A spec-like object: just the declarations the battery reads."""

    def __init__(self, expected):
        self.expected_failures = expected

    def declarations(self, check):
        value = self.expected_failures.get(check)
        return () if value is None else tuple(value)


def _check(body, cases=None, examples=10) -> Check:
    strategy = (lambda spec: st.sampled_from(cases)) if cases else None
    return Check(name="check_fake_parts", func=body, kind="optimizer", family="optimizer",
                 applies=lambda spec: True, strategy=strategy, examples=examples)


def _run(body, expected, cases=None, examples=10):
    battery.reset_run_state()
    return run_one(Item("fake>spec", _Spec({"check_fake_parts": expected}), _check(body, cases, examples)),
                   timeout=0, check_dependencies=False)


def _two_parts(case, fold=True, crash=True):
    """A two-part check: the dense/sparse comparison (fails when ``fold``) and a centered run (crashes)."""
    def dense():
        if fold:
            raise fail("dense and sparse: differ by 2x", case)
        return ok("dense and sparse: equal", case)

    def centered():
        if crash:
            raise InvalidArgumentError("indices[1] = 7 is not in [0, 4)")
        return ok("centered: fine", case)

    parts = Parts(case)
    parts.run("dense and sparse", dense)
    parts.run("centered", centered)
    return parts.verdict()


class InvalidArgumentError(Exception):
    """Stands for TensorFlow's error of the same name."""


def test_failure_parts_split_a_parts_verdict():
    with pytest.raises(Exception) as info:
        _two_parts({"seed": 1})
    ev = info.value.evidence
    parts = failure_parts(ev.message, ev.data)
    assert [m.split(":")[0] for m, _ in parts] == ["dense and sparse", "centered"]
    assert failure_parts("plain failure", {}) == [("plain failure", {})]


def test_one_declaration_does_not_cover_a_second_failed_part():
    outcome = _run(lambda spec, case: _two_parts(case), [FOLD])
    assert outcome.status == "failed"
    assert "not declared: centered: raised InvalidArgumentError" in outcome.message


def test_two_declarations_cover_two_failed_parts():
    outcome = _run(lambda spec, case: _two_parts(case), [FOLD, CRASH])
    assert outcome.status == "xfailed", outcome.message
    assert "duplicates are folded" in outcome.message and "centered crashes" in outcome.message


def test_a_declaration_that_does_not_hold_covers_nothing():
    outcome = _run(lambda spec, case: _two_parts(case, crash=False), [OLD])
    assert outcome.status == "failed" and "FAILED on fake>spec: dense and sparse" in outcome.message
    assert "declared" not in outcome.message


def test_a_declared_case_does_not_end_the_search():
    # Case 0 fails as declared (the fold); case 1 fails for an undeclared cause.  Before, the search stopped
    # at the first declared failure and the run reported xfailed.
    ran = []

    def body(spec, case):
        ran.append(case["i"])
        if case["i"] == 0:
            return _two_parts(case, crash=False)
        raise fail("other: the step is wrong", case)

    outcome = _run(body, [FOLD], cases=[{"i": 0}, {"i": 1}], examples=20)
    assert set(ran) == {0, 1}
    assert outcome.status == "failed" and "other: the step is wrong" in outcome.message


def test_every_case_declared_reports_how_many():
    outcome = _run(lambda spec, case: _two_parts(case, crash=case["i"] % 2 == 0), [FOLD, CRASH],
                   cases=[{"i": i} for i in range(4)], examples=20)
    assert outcome.status == "xfailed", outcome.message
    ev = outcome.evidence[0]
    assert ev.data["declared_cases"] >= 2 and "every one declared" in ev.message
    assert set(ev.data["declared_by_spec"]) == {FOLD.reason, CRASH.reason}


def test_a_crash_outside_parts_is_matched_case_by_case():
    def body(spec, case):
        if case["i"] == 0:
            raise InvalidArgumentError("centered: boom")
        return ok("fine", case)

    crash = ExpectedFailure("crash", match=r"^InvalidArgumentError: centered")
    outcome = _run(body, [crash], cases=[{"i": 0}, {"i": 1}], examples=20)
    assert outcome.status == "xfailed", outcome.message
    assert outcome.evidence and outcome.evidence[0].data["exception"] == "InvalidArgumentError"


def test_declared_but_not_seen_is_named_not_red():
    outcome = _run(lambda spec, case: _two_parts(case, crash=False), [FOLD, CRASH])
    assert outcome.status == "xfailed"
    assert "declared, not seen in this run: centered crashes" in outcome.message


def test_no_declared_failure_at_all_is_a_strict_xpass():
    outcome = _run(lambda spec, case: ok("fine", case), [FOLD, CRASH])
    assert outcome.status == "xpassed"


def test_spec_validation_of_several_declarations():
    def spec(expected):
        return InitializerSpec(name="N", factory=lambda seed: None, law=Normal(std=1.0),
                               expected_failures={"check_moments": expected})

    spec([FOLD, CRASH]).validate()
    assert spec((FOLD, CRASH)).declarations("check_moments") == (FOLD, CRASH)
    assert spec([FOLD, CRASH]).expected_failure("check_moments") is FOLD
    with pytest.raises(SpecError, match="each need a match"):
        spec([FOLD, "no match here"]).validate()
    with pytest.raises(SpecError, match="empty list"):
        spec([]).validate()
    with pytest.raises(SpecError, match="must be a reason, an ExpectedFailure or a list"):
        spec([FOLD, 3]).validate()


def test_the_findings_listing_names_each_declaration():
    spec = InitializerSpec(name="N", factory=lambda seed: None, law=Normal(std=1.0),
                           expected_failures={"check_moments": [FOLD, CRASH]})
    rows = collect([("p>N", spec)], {"keras": "3.15.1", "tensorflow": "2.21.0"}, catalogue=[])
    assert [(r.declaration, r.declared_on) for r in rows] == [(FOLD, [("p>N", "check_moments")]),
                                                          (CRASH, [("p>N", "check_moments")])]


def test_declarations_holding_keeps_only_what_applies():
    both = Declarations((FOLD, OLD))
    held = both.holding({"keras": "3.15.1", "tensorflow": "2.21.0"})
    assert held is not None and held.items == (FOLD,)
    assert Declarations((OLD,)).holding({"keras": "3.15.1"}) is None


def test_designed_cases_run_before_the_drawn_ones():
    ran = []

    def body(spec, case):
        ran.append(case["i"])
        return ok("fine", case)

    check = Check(name="check_fake_parts", func=body, kind="optimizer", family="optimizer",
                  applies=lambda spec: True, strategy=lambda spec: st.just({"i": 0}), examples=3,
                  designed=lambda spec: [{"i": 7}, {"i": 8}])
    battery.reset_run_state()
    outcome = run_one(Item("fake>spec", _Spec({}), check), timeout=0, check_dependencies=False)
    assert outcome.status == "passed" and ran[:2] == [7, 8] and set(ran[2:]) == {0}


def test_designed_sparse_cases_switch_each_option_with_repeated_indices():
    from initcheck.builtin.optimizers import builtin_specs
    from initcheck.checks.optimizer.modes import designed_sparse_cases

    specs = {s.name: s for s in builtin_specs()}
    cases = designed_sparse_cases(specs["RMSprop"])
    assert [c["hp"]["centered"] for c in cases] == [False, True, True]
    assert cases[-1]["hp"]["momentum"] == 0.9
    for c in cases:
        assert all(len(set(step)) < len(step) for step in c["indices"])  # a repeated index in every step
    if "SGD" in specs:
        assert [(c["hp"].get("nesterov"), c["hp"].get("momentum")) for c in designed_sparse_cases(specs["SGD"])] == [
            (False, 0.0), (True, 0.0), (True, 0.9)]


def test_loss_scaling_designs_a_small_decay_rate_case_where_the_rule_has_decay_rates():
    """1 - rate near 1 is where a float32-rounded constant shows in a float64 step (Lamb on torch); the drawn
    cases reach it only by luck, so check_loss_scaling runs it by design beside the defaults case.  The rates
    are the rule's declared ``decay_rates`` (RMSprop's ``rho`` too), not the names that start with ``beta_``."""
    import numpy as np

    from initcheck.builtin.optimizers import builtin_specs
    from initcheck.checks import all_checks

    specs = {s.name: s for s in builtin_specs()}
    design = all_checks()["check_loss_scaling"].designed
    if "Lamb" in specs:
        defaults, small = design(specs["Lamb"])
        assert defaults["dtype"] == small["dtype"] == "float64"
        assert small["hp"] == dict(defaults["hp"], beta_1=float(np.float32(0.001)), beta_2=float(np.float32(0.001)))
    defaults, small = design(specs["RMSprop"])
    assert small["hp"] == dict(defaults["hp"], rho=float(np.float32(0.001)))
    assert len(design(specs["SGD"])) == 1  # no decay rates: the defaults case only
    assert design(specs["Nadam"]) == []  # float32 only (Nadam-float64 is its own spec)


def test_designed_mirrored_case_runs_the_documented_defaults():
    """check_mirrored_strategy's one drawn example may switch a rule's state off (Nadam's ci case: beta_1 = 0);
    the designed case at the documented defaults is run first on every gate (issue #15, tf212 thorough)."""
    from initcheck.builtin.optimizers import builtin_specs
    from initcheck.checks import all_checks
    from initcheck.checks.optimizer.modes import designed_mirrored_cases

    check = all_checks("optimizer")["check_mirrored_strategy"]
    assert check.designed is designed_mirrored_cases
    specs = {s.name: s for s in builtin_specs()}
    (case,) = designed_mirrored_cases(specs["Nadam"])
    assert case["hp"] == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7} and case["steps"] >= 2
    assert case["dtype"] == "float32" and case["lr"] == float(np.float32(0.01))


def test_nadam_mirrored_declaration_holds_on_keras2_only():
    from initcheck.builtin.findings import MIRRORED_NOT_SUMMED, NADAM_MIRRORED_U_PRODUCT
    from initcheck.builtin.optimizers import builtin_specs

    nadam = {s.name: s for s in builtin_specs()}["Nadam"]
    assert nadam.declarations("check_mirrored_strategy") == (MIRRORED_NOT_SUMMED, NADAM_MIRRORED_U_PRODUCT)
    applies = NADAM_MIRRORED_U_PRODUCT.applies
    assert applies({"tensorflow": "2.12.1", "keras": "2.12.0"}) and applies({"tensorflow": "2.21.0", "keras": "2.21.0"})
    assert not applies({"tensorflow": "2.21.0", "keras": "3.15.1"})
    assert not applies({"tensorflow": "2.12.1", "keras": "2.12.0", "backend": "jax"})


def test_rmsprop_gate_sees_the_centered_sparse_crash():
    """On Keras 3 (TensorFlow backend) the gate's RMSprop sparse check shows both declared failures; on Keras 2
    (tf.keras deduplicates) neither declaration holds and the check passes."""
    from initcheck import keras_compat as kc
    from initcheck.builtin.findings import RMSPROP_CENTERED_SPARSE_CRASH, SPARSE_DUPLICATES
    from initcheck.builtin.optimizers import builtin_specs

    if kc.capability_missing(("tf_indexed_slices",)):
        pytest.skip("IndexedSlices are TensorFlow's")
    spec = next(s for s in builtin_specs() if s.name == "RMSprop")
    item = next(i for i in battery.plan([("keras>RMSprop", spec)]) if i.check.name == "check_sparse_matches_dense")
    battery.reset_run_state()
    outcome = run_one(item, check_dependencies=False)
    if not RMSPROP_CENTERED_SPARSE_CRASH.applies(kc.versions()):
        assert outcome.status == "passed", outcome.message
        return
    assert outcome.status == "xfailed", outcome.message
    assert set(outcome.evidence[0].data["declared_by_spec"]) == {SPARSE_DUPLICATES.reason,
                                                                  RMSPROP_CENTERED_SPARSE_CRASH.reason}


def test_parametrize_with_checks_takes_a_list_per_check():
    from initcheck.testing import parametrize_with_checks

    spec = InitializerSpec(name="N", factory=lambda seed: None, law=Normal(std=1.0), dtypes=("float32",))
    mark = parametrize_with_checks([("p>N", spec)], expected_failures={"check_seed_contract": [FOLD, CRASH]})
    bound = [p.values[1] for p in mark.args[1] if p.values[1].name == "check_seed_contract"]
    assert bound and bound[0].item.expected == (FOLD, CRASH)
    with pytest.raises(SpecError, match="each need a match"):
        parametrize_with_checks([("p>N", spec)], expected_failures={"check_seed_contract": [FOLD, "no match"]})


def test_support_counts_the_float32_band_as_its_own_part():
    """A float64 uniform draw between L and float32(L) is the float32-rounding finding's part
    (support_float32_band); beyond float32(L) it is support_exact: one escape, one part, so the declaration
    covers exactly its symptom (thorough seed 3 failed GlorotUniform when both counts were one test)."""
    import numpy as np

    from initcheck.checks.distribution import _band_result, _float32_band, _support_result
    from initcheck.laws import Uniform

    lim = 0.009568319307746789
    law = Uniform(low=-lim, high=lim)
    band = _float32_band(law, "float64")
    hi32 = float(np.float32(lim))
    assert band is not None and band[3] == hi32 and _float32_band(law, "float32") is None
    in_band = [np.array([0.0, (lim + hi32) / 2])]
    beyond = [np.array([0.0, float(np.nextafter(hi32, 1.0))])]
    assert _support_result(in_band, law, "float64", 1e-6, exclude=band).passed
    assert not _band_result(in_band, law, band, 1e-6).passed
    assert not _support_result(beyond, law, "float64", 1e-6, exclude=band).passed
    assert _band_result(beyond, law, band, 1e-6).passed
    assert not _support_result(in_band, law, "float64", 1e-6).passed  # without the split: counted as outside
