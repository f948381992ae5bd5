"""Capabilities with a backend scope and the ``not_applicable`` status in every runner (#17).

A backend without a capability is simulated by narrowing the capability's backends in
``keras_compat.CAPABILITIES`` (the one table), so these tests run on TensorFlow without a second backend.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from initcheck import keras_compat as kc
from initcheck.battery import Item, Outcome, reset_run_state, run_one
from initcheck.checks import Check, all_checks, register_check
from initcheck.checks.evidence import Evidence
from initcheck.reports.results import STATUSES, JUnitStream


def test_capability_scope_by_backend():
    assert kc.capability_missing(("tf_checkpoint",), on="tensorflow") is None
    reason = kc.capability_missing(("tf_indexed_slices", "tf_checkpoint"), on="jax")
    assert reason.startswith("not applicable on jax: needs tf_indexed_slices")
    assert kc.capability_missing((), on="torch") is None
    with pytest.raises(KeyError, match="unknown capability"):
        kc.capability_missing(("tf_nope",), on="jax")


def test_register_check_rejects_an_unknown_capability():
    with pytest.raises(ValueError, match="unknown capability"):
        register_check(kind="optimizer", family="optimizer", needs=("gpu_magic",))


def test_tensorflow_only_checks_name_their_capability():
    checks = all_checks("optimizer")
    assert checks["check_sparse_matches_dense"].needs == ("tf_indexed_slices",)
    assert checks["check_checkpoint_resume"].needs == ("tf_checkpoint",)
    assert checks["check_mirrored_strategy"].needs == ("data_parallel",)
    # On TensorFlow they all apply: nothing changes there.
    for name in ("check_sparse_matches_dense", "check_checkpoint_resume", "check_mirrored_strategy"):
        assert kc.capability_missing(checks[name].needs, on="tensorflow") is None
    # The data-parallel check has JAX's own equivalent (sharding over two host devices), none on torch.
    assert kc.capability_missing(("data_parallel",), on="jax") is None
    assert "needs data_parallel" in kc.capability_missing(("data_parallel",), on="torch")


def _fake(calls: list) -> Check:
    def func(spec, case):
        calls.append(case)
        return Evidence(check="check_fake_resume", spec="s", passed=True, message="ran")
    return Check(name="check_fake_resume", func=func, kind="optimizer", family="optimizer",
                 applies=lambda spec: True, needs=("tf_checkpoint",))


def test_run_one_reports_not_applicable_without_running(monkeypatch):
    calls: list = []
    item = Item("fake>spec", object(), _fake(calls))
    if kc.backend() == "tensorflow":
        assert run_one(item, timeout=0).status == "passed" and len(calls) == 1
    monkeypatch.setitem(kc.CAPABILITIES, "tf_checkpoint", ("tf.train.Checkpoint", ("nowhere",)))
    outcome = run_one(item, case={}, timeout=0)
    assert outcome.status == "not_applicable"
    assert outcome.message.startswith(f"not applicable on {kc.backend()}: needs tf_checkpoint")
    assert "not_applicable" in STATUSES


def test_junit_writes_not_applicable_as_skipped_with_its_reason(tmp_path):
    path = tmp_path / "j.xml"
    stream = JUnitStream(str(path))
    stream.add("keras>SGD", "check_checkpoint_resume", "not_applicable", 0.0,
               "not applicable on jax: needs tf_checkpoint (tf.train.Checkpoint ...)")
    stream.close()
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite.get("skipped") == "1" and suite.get("failures") == "0"
    skipped = suite.find("testcase").find("skipped")
    assert skipped.get("message").startswith("not applicable on jax: needs tf_checkpoint")


def test_pytest_plugin_skips_with_the_reason():
    from initcheck.testing import _report

    outcome = Outcome(Item("keras>SGD", object(), _fake([])), "not_applicable",
                      "not applicable on jax: needs tf_checkpoint (tf.train.Checkpoint)")
    with pytest.raises(pytest.skip.Exception, match="not applicable on jax: needs tf_checkpoint"):
        _report(outcome)


def test_cli_json_junit_and_summary(monkeypatch, tmp_path, capsys):
    from initcheck.cli import main

    # check_sparse_matches_dense applies to SGD on every Keras of the matrix (check_checkpoint_resume does not on
    # Keras 3.0-3.x, whose SGD lacks the checkpoint tag); one worker: the patched capability is this process's.
    monkeypatch.setitem(kc.CAPABILITIES, "tf_indexed_slices", ("tf.IndexedSlices", ("nowhere",)))
    out, junit = tmp_path / "r.json", tmp_path / "r.xml"
    code = main(["check", "--kind", "optimizer", "--select", "keras>SGD", "--check", "check_sparse_matches_dense",
                 "-j", "1", "--json", str(out), "--junitxml", str(junit)])
    captured = capsys.readouterr()
    text = captured.out
    assert code == 0, text + captured.err
    assert "1 not_applicable" in text and "NOT APPLICABLE check_sparse_matches_dense: not applicable on" in text
    (record,) = json.loads(out.read_text())["outcomes"]
    assert record["status"] == "not_applicable" and "needs tf_indexed_slices" in record["message"]
    assert ET.parse(junit).getroot().find("testsuite").get("skipped") == "1"


def test_html_report_shows_not_applicable(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("jinja2")
    from initcheck.reports.html import render
    from initcheck.reports.results import results_document

    reason = "not applicable on jax: needs tf_checkpoint (tf.train.Checkpoint save and restore)"
    outcomes = [{"spec": "keras>SGD", "check": name, "kind": "optimizer", "family": "optimizer", "status": status,
                 "seconds": 0.0, "message": message, "expected_failure": None, "evidence": []}
                for name, status, message in (("check_checkpoint_resume", "not_applicable", reason),
                                              ("check_mirrored_strategy", "not_applicable", reason))]
    doc = results_document("ci", {"keras": "3.15.1", "backend": "jax"}, outcomes, [])
    index = render(doc, str(tmp_path / "rep"))
    pages = "".join(p.read_text() for p in (tmp_path / "rep").glob("*.html"))
    assert "not_applicable" in pages and "needs tf_checkpoint" in pages
    assert str(index).endswith("index.html")


def test_expected_failure_scoped_by_backend():
    from initcheck.builtin.findings import FLOAT64_UNIFORM_LIMIT_FLOAT32, SEEDS_FOLDED
    from initcheck.spec import ExpectedFailure, SpecError

    xf = ExpectedFailure(reason="r", versions="keras>=3", backends=("tensorflow",))
    assert xf.applies({"keras": "3.15.1", "tensorflow": "2.21.0", "backend": "tensorflow"})
    assert xf.applies({"keras": "3.15.1", "tensorflow": "2.21.0"})  # no backend recorded: TensorFlow
    assert not xf.applies({"keras": "3.15.1", "backend": "jax", "jax": "0.7.0"})
    assert ExpectedFailure(reason="r", versions="keras>=3").applies({"keras": "3.15.1", "backend": "jax"})
    assert FLOAT64_UNIFORM_LIMIT_FLOAT32.backends == ("tensorflow",)  # mechanism in Keras's TensorFlow backend
    # Keras's TensorFlow backend folds seeds modulo 2^31 - 2 (torch has declarations of its own); JAX does not.
    assert SEEDS_FOLDED.backends == ("tensorflow",)
    with pytest.raises(SpecError, match="backends"):
        ExpectedFailure(reason="r", backends=("cuda",)).validate("s", "check_x")


# --------------------------------------------------------------------------- case-level: a case's dtype
# float64 on JAX without JAX_ENABLE_X64=1: Keras hands back float32 for a float64 request, so a float64 case
# cannot run there.  Simulated on any backend by making the ``float64`` capability's runtime condition false.


def test_float64_is_a_runtime_capability_of_jax(monkeypatch):
    monkeypatch.setattr(kc, "x64_enabled", lambda: False)
    assert kc.dtype_missing("float64", on="jax").startswith("not applicable on jax: needs float64")
    assert "JAX_ENABLE_X64=1" in kc.dtype_missing("float64", on="jax")
    assert kc.dtype_missing("float32", on="jax") is None and kc.dtype_missing(None, on="jax") is None
    assert kc.dtype_missing("float64", on="tensorflow") is None and kc.dtype_missing("float64", on="torch") is None
    assert kc.case_missing({"dtype": "float64", "seed": 1}, on="jax") is not None
    assert kc.case_missing({"seed": 1}, on="jax") is None
    monkeypatch.setattr(kc, "x64_enabled", lambda: True)
    assert kc.dtype_missing("float64", on="jax") is None


def test_x64_read_as_jax_reads_it(monkeypatch):
    import sys

    if "jax" in sys.modules:  # JAX's config decides once imported (JAX_ENABLE_X64 or jax.config.update)
        assert kc.x64_enabled() == bool(sys.modules["jax"].config.jax_enable_x64)
        return
    for text, on in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("JAX_ENABLE_X64", text)
        assert kc.x64_enabled() is on


def _dtype_check(calls: list, dtypes: tuple, fail_on: str = "") -> Check:
    from hypothesis import strategies as st

    from initcheck.checks.evidence import fail, ok

    def func(spec, case):
        calls.append(case)
        if case["dtype"] == fail_on:
            raise fail(f"wrong in {fail_on}", case)
        return ok("ran", case)

    def strategy(spec):
        return st.fixed_dictionaries({"dtype": st.sampled_from(list(dtypes)), "seed": st.integers(0, 10 ** 6)})

    return Check(name="check_fake_dtypes", func=func, kind="initializer", family="distribution",
                 applies=lambda spec: True, strategy=strategy, examples=10)


def _without_float64(monkeypatch) -> None:
    monkeypatch.setitem(kc._RUNTIME_CONDITIONS, "float64", lambda name: False)


def test_float64_cases_not_run_and_replaced_by_runnable_ones(monkeypatch):
    calls: list = []
    item = Item("fake>spec", object(), _dtype_check(calls, ("float32", "float64")))
    if kc.case_missing({"dtype": "float64"}) is None:  # float64 available: both dtypes run
        assert run_one(item, timeout=0).status == "passed"
        assert {c["dtype"] for c in calls} == {"float32", "float64"}
        calls.clear()
        reset_run_state()  # forget the cached outcome
    _without_float64(monkeypatch)
    outcome = run_one(item, case=None, timeout=0, check_dependencies=False)
    assert outcome.status == "passed"
    # Every case that ran is float32, and as many ran as the check's examples: the rejected ones were replaced.
    assert [c["dtype"] for c in calls] == ["float32"] * 10
    assert "cases not run (not applicable on" in outcome.message and "needs float64" in outcome.message


def test_a_float32_failure_still_fails_without_float64(monkeypatch):
    calls: list = []
    item = Item("fake>spec", object(), _dtype_check(calls, ("float32", "float64"), fail_on="float32"))
    _without_float64(monkeypatch)
    outcome = run_one(item, timeout=0, check_dependencies=False)
    assert outcome.status == "failed" and "wrong in float32" in outcome.message


def test_only_float64_cases_is_not_applicable(monkeypatch):
    calls: list = []
    item = Item("fake>spec", object(), _dtype_check(calls, ("float64",)))
    _without_float64(monkeypatch)
    outcome = run_one(item, timeout=0, check_dependencies=False)
    assert outcome.status == "not_applicable" and calls == []
    assert outcome.message.startswith(f"not applicable on {kc.backend()}: needs float64")
    replay = run_one(item, case={"dtype": "float64", "seed": 3}, timeout=0)
    assert replay.status == "not_applicable" and calls == []
    assert run_one(item, case={"dtype": "float32", "seed": 3}, timeout=0).status == "passed" and len(calls) == 1


def test_a_check_whose_prerequisite_is_not_applicable_is_not_applicable_too(monkeypatch):
    """Constant-float64 without float64 (JAX without x64): its contract check cannot run, so neither can the
    checks that depend on it -- reported not_applicable with the reason and the prerequisite named, not as
    blocked (which says a prerequisite *failed*)."""
    from common import builtins

    spec = builtins.initializer("Constant-float64")
    checks = all_checks("initializer")
    contract, exact = checks["check_output_contract"], checks["check_exact_values"]
    assert "check_output_contract" in exact.depends_on
    _without_float64(monkeypatch)
    reset_run_state()
    try:
        assert run_one(Item("keras>Constant-float64", spec, contract), timeout=0).status == "not_applicable"
        outcome = run_one(Item("keras>Constant-float64", spec, exact), timeout=0)
        assert outcome.status == "not_applicable"
        assert outcome.message.startswith(f"not applicable on {kc.backend()}: needs float64")
        assert "through check_output_contract" in outcome.message
    finally:
        reset_run_state()


def test_support_reports_the_float64_limits_test_it_cannot_run(monkeypatch):
    from common import builtins

    from initcheck.checks.distribution import check_support

    spec = builtins.initializer("GlorotUniform")  # uniform, offers float64: the limits test applies
    case = {"shape": [64, 32], "dtype": "float32", "seed": 5}
    if kc.dtype_missing("float64") is None:
        ev = check_support(spec, case)
        assert "float64_limits" not in ev.data
        assert any(t["test"] == "float64_limits_rounded_through_float32" for t in ev.data["tests"])
    _without_float64(monkeypatch)
    ev = check_support(spec, case)
    assert ev.data["float64_limits"].startswith("not applicable on") and "needs float64" in ev.data["float64_limits"]
    assert not any(t["test"] == "float64_limits_rounded_through_float32" for t in ev.data["tests"])


def test_cli_says_which_cases_did_not_run(monkeypatch, tmp_path, capsys):
    from initcheck.cli import main

    _without_float64(monkeypatch)
    out = tmp_path / "r.json"
    code = main(["check", "--kind", "optimizer", "--select", "keras>SGD", "--check",
                 "check_trajectory_matches_reference", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "PASSED, SOME CASES NOT RUN check_trajectory_matches_reference:" in text and "needs float64" in text
    (record,) = json.loads(out.read_text())["outcomes"]
    assert record["status"] == "passed" and "not run (not applicable on" in record["message"]
    assert {e["case"]["dtype"] for e in record["evidence"]} == {"float32"}


def test_case_needs_a_capability_beyond_its_dtype(monkeypatch):
    """check_clipping: a case with a sparse first gradient needs tf_indexed_slices; the dense cases still run."""
    clipping = all_checks("optimizer")["check_clipping"]
    sparse = {"sparse_first": True, "shapes": [[3], [2]], "dtype": "float32"}
    dense = dict(sparse, sparse_first=False)
    scalar = dict(sparse, shapes=[[], [2]])  # a scalar first variable has no rows: no IndexedSlices step
    assert clipping.case_missing(sparse) is None or kc.backend() != "tensorflow"
    monkeypatch.setitem(kc.CAPABILITIES, "tf_indexed_slices", ("sparse gradients as tf.IndexedSlices", ("nowhere",)))
    assert clipping.case_missing(sparse).startswith("not applicable on") and "tf_indexed_slices" in \
        clipping.case_missing(sparse)
    assert clipping.case_missing(dense) is None and clipping.case_missing(scalar) is None

    calls: list = []
    from hypothesis import strategies as st

    def func(spec, case):
        calls.append(case)
        return Evidence(check="check_fake_sparse", spec="s", passed=True, message="ran")

    fake = Check(name="check_fake_sparse", func=func, kind="optimizer", family="optimizer",
                 applies=lambda spec: True, examples=8,
                 strategy=lambda spec: st.fixed_dictionaries({"sparse": st.booleans(), "seed": st.integers(0, 99)}),
                 case_needs=lambda case: ("tf_indexed_slices",) if case["sparse"] else ())
    outcome = run_one(Item("fake>spec", object(), fake), timeout=0, check_dependencies=False)
    assert outcome.status == "passed" and len(calls) == 8 and not any(c["sparse"] for c in calls)
    assert "not run (not applicable on" in outcome.message and "tf_indexed_slices" in outcome.message


def test_a_spec_that_needs_tensorflow_ops_is_not_applicable_elsewhere(monkeypatch):
    """``needs=("tf_ops",)`` on a spec: every check of it is not applicable where the object cannot run."""
    from initcheck.laws import Normal
    from initcheck.spec import InitializerSpec

    calls: list = []

    def func(spec, case):
        calls.append(case)
        return Evidence(check="check_fake_plain", spec="s", passed=True, message="ran")

    check = Check(name="check_fake_plain", func=func, kind="initializer", family="structural",
                  applies=lambda spec: True)
    spec = InitializerSpec(name="TfOnly", factory=lambda seed: None, law=Normal(std=1.0), needs=("tf_ops",))
    spec.validate()
    item = Item("fake>TfOnly", spec, check)
    monkeypatch.setattr(kc, "backend", lambda: "jax")
    reset_run_state()
    outcome = run_one(item, case={}, timeout=0)
    assert outcome.status == "not_applicable" and calls == []
    assert "not applicable on jax: needs tf_ops" in outcome.message
    monkeypatch.setattr(kc, "backend", lambda: "tensorflow")
    reset_run_state()
    assert run_one(item, case={}, timeout=0).status == "passed" and len(calls) == 1


@pytest.mark.parametrize("needs, message", [(("tf_opz",), "unknown capability 'tf_opz'"),
                                            ("tf_ops", "must be a tuple of capability names")])
def test_a_spec_with_a_bad_needs_is_a_load_error_naming_it(needs, message):
    from initcheck.laws import Normal
    from initcheck.spec import InitializerSpec, SpecError

    with pytest.raises(SpecError, match=message) as info:
        InitializerSpec(name="Bad", factory=lambda seed: None, law=Normal(std=1.0), needs=needs).validate()
    assert "needs" in str(info.value)


def test_the_example_plugin_declares_its_tensorflow_ops():
    from initcheck.registry import load_registry

    registry = load_registry(select=["initcheck-example"], use_env=False)
    assert not registry.errors
    assert sorted(registry.specs) == ["initcheck-example>DecayedSGD", "initcheck-example>LaplaceLecun",
                                      "initcheck-example>small_normal"]
    assert all(reg.spec.needs == ("tf_ops",) for reg in registry.specs.values())
