"""Capabilities with a backend scope and the ``not_applicable`` status in every runner (#17).

A backend without a capability is simulated by narrowing the capability's backends in
``keras_compat.CAPABILITIES`` (the one table), so these tests run on TensorFlow without a second backend.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from initcheck import keras_compat as kc
from initcheck.battery import Item, Outcome, run_one
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
    assert checks["check_mirrored_strategy"].needs == ("tf_distribute",)
    # On TensorFlow they all apply: nothing changes there.
    for name in ("check_sparse_matches_dense", "check_checkpoint_resume", "check_mirrored_strategy"):
        assert kc.capability_missing(checks[name].needs, on="tensorflow") is None


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

    monkeypatch.setitem(kc.CAPABILITIES, "tf_checkpoint", ("tf.train.Checkpoint", ("nowhere",)))
    out, junit = tmp_path / "r.json", tmp_path / "r.xml"
    code = main(["check", "--kind", "optimizer", "--select", "keras>SGD", "--check", "check_checkpoint_resume",
                 "--json", str(out), "--junitxml", str(junit)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "1 not_applicable" in text and "NOT APPLICABLE check_checkpoint_resume: not applicable on" in text
    (record,) = json.loads(out.read_text())["outcomes"]
    assert record["status"] == "not_applicable" and "needs tf_checkpoint" in record["message"]
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
    # Keras's TensorFlow and torch backends both fold seeds (modulo 2^31 - 2 and 2^32); JAX does not.
    assert SEEDS_FOLDED.backends == ("tensorflow", "torch")
    with pytest.raises(SpecError, match="backends"):
        ExpectedFailure(reason="r", backends=("cuda",)).validate("s", "check_x")
