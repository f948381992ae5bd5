"""The TensorFlow matrix summary (initcheck.reports.tf_matrix) on small, hand-written JUnit XML and battery JSON files.

Each test builds the files one environment would leave and checks that the
table says what happened -- in particular that a failure or an unexpected
pass is never shown as passed, and that an expected failure keeps its reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from initcheck.reports import tf_matrix as matrix

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="2" tests="5" time="12.5">
<testcase classname="tests.test_a" name="test_ok" time="0.1"/>
<testcase classname="tests.test_a.TestGroup" name="test_ok2" time="0.1"/>
<testcase classname="tests.test_b" name="test_xf" time="0.1"><skipped type="pytest.xfail" message="known keras bug"/></testcase>
<testcase classname="tests.test_b" name="test_skip" time="0.1"><skipped type="pytest.skip" message="no gpu">x</skipped></testcase>
<testcase classname="tests.test_b" name="test_strict" time="0.1"><failure message="[XPASS(strict)] fixed upstream"/></testcase>
<testcase classname="tests.test_gate" name="test_battery[keras&gt;VarianceScaling-fan_in-uniform-2-check_law]" time="2.0"/>
<testcase classname="tests.test_gate" name="test_battery[keras&gt;VarianceScaling-fan_in-uniform-2-check_seed_contract]" time="1.0"><skipped type="pytest.xfail" message="seed 0 ignored"/></testcase>
<testcase classname="tests.test_gate" name="test_battery[keras&gt;Adam-check_step]" time="0.5"><failure message="step differs"/></testcase>
<testcase classname="tests.test_gate" name="test_every_plugin_loads" time="0.1"/>
</testsuite></testsuites>
"""


def _battery(versions: dict, outcomes: list[tuple[str, str, str, str]]) -> dict:
    return {"profile": "ci", "versions": versions,
            "outcomes": [{"spec": s, "check": c, "status": st, "seconds": 0.5, "message": m, "evidence": []}
                         for s, c, st, m in outcomes],
            "load_errors": []}


def _write(folder: Path, env: str, *, xml: str | None = JUNIT, battery: dict | None = None) -> None:
    if xml is not None:
        (folder / f"{env}.xml").write_text(xml, encoding="utf-8")
    if battery is not None:
        (folder / f"{env}.json").write_text(json.dumps(battery), encoding="utf-8")


def test_junit_statuses_per_module(tmp_path: Path) -> None:
    (tmp_path / "x.xml").write_text(JUNIT)
    modules, seconds, notes, battery, battery_seconds, findings = matrix.read_junit(tmp_path / "x.xml")
    assert seconds == pytest.approx(12.5)
    assert modules["tests/test_a.py"] == {"passed": 2}
    assert modules["tests/test_b.py"] == {"xfailed": 1, "skipped": 1, "xpassed": 1}
    assert modules["tests/test_gate.py"] == {"passed": 2, "xfailed": 1, "failed": 1}
    kinds = {k for k, _, _ in notes}
    assert kinds == {"xfailed", "xpassed", "failed"}
    # Battery ids: the spec name may itself hold dashes; the check starts at "-check_".
    assert battery["keras>VarianceScaling-fan_in-uniform-2"] == {"passed": 1, "xfailed": 1}
    assert battery["keras>Adam"] == {"failed": 1}
    assert "test_every_plugin_loads" not in str(list(battery))
    assert battery_seconds == pytest.approx(3.5)
    assert findings == {"keras>VarianceScaling-fan_in-uniform-2": ["seed 0 ignored"]}


def test_spec_table_from_junit_and_versions_file(tmp_path: Path) -> None:
    (tmp_path / "tf216-legacy.xml").write_text(JUNIT)
    (tmp_path / "tf216-legacy.versions.json").write_text(
        json.dumps({"tensorflow": "2.16.2", "keras": "2.16.0", "keras_api": "2"}))
    envs = matrix.load_results(tmp_path)
    assert [e.name for e in envs] == ["tf216-legacy"]
    assert envs[0].versions["keras"] == "2.16.0" and not envs[0].missing
    text = matrix.render(envs)
    assert "| tf216-legacy | tensorflow | 2.16.2 | 2.16.0 | 2 |" in text
    assert "| `keras>VarianceScaling-fan_in-uniform-2` | expected failure: \u201cseed 0 ignored\u201d |" in text
    assert "| `keras>Adam` | **failed** |" in text


def test_table_marks_failures_and_keeps_expected_failure_reasons(tmp_path: Path) -> None:
    _write(tmp_path, "tf221", battery=_battery(
        {"tensorflow": "2.21.0", "keras": "3.15.1", "keras_api": "3"},
        [("keras>Glorot", "check_law", "passed", ""),
         ("keras>Constant-float64", "check_exact_values", "xfailed",
          "values differ\n  expected failure: Keras 3 Constant rounds through float32"),
         ("keras>Adam", "check_step", "failed", "step differs by 3e-2\nmore"),
         ("keras>Orth", "check_x", "xpassed", "declared expected failure did not happen (strict): qr")]))
    clean = JUNIT.replace('<failure message="[XPASS(strict)] fixed upstream"/>', "").replace(
        '<failure message="step differs"/>', "")
    _write(tmp_path, "tf212", xml=clean, battery=_battery(
        {"tensorflow": "2.12.0", "keras": "2.12.0", "keras_api": "2"},
        [("keras>Glorot", "check_law", "passed", ""), ("keras>Adam", "check_step", "passed", "")]))
    envs = matrix.write_table(tmp_path, tmp_path / "out.md", when="2026-01-01 00:00 UTC")
    text = (tmp_path / "out.md").read_text()
    # Version order, not alphabetical-by-accident: tf212 before tf221.
    assert [e.name for e in envs] == ["tf212", "tf221"]
    assert "| tf212 | tensorflow | 2.12.0 | 2.12.0 | 2 |" in text
    verdicts = text.split("## Battery")[1].split("### Counts")[0]
    row = {line.split("|")[1].strip(): line for line in verdicts.splitlines() if line.startswith("| `keras>")}
    assert row["`keras>Glorot`"].count("passed") == 2
    assert "expected failure" in row["`keras>Constant-float64`"]
    # A spec absent on an environment is a dash, not "passed".
    assert row["`keras>Constant-float64`"].split("|")[2].strip() == "\u2014"
    assert row["`keras>Adam`"].split("|")[2].strip() == "passed"
    assert row["`keras>Adam`"].split("|")[3].strip() == "**failed**"
    assert row["`keras>Orth`"].split("|")[3].strip() == "**failed**"  # XPASS(strict) is red
    assert "Keras 3 Constant rounds through float32" in text
    assert "step differs by 3e-2" in text and "more" not in text.split("step differs by 3e-2")[1].split("\n")[0]
    assert envs[0].ok is True and envs[1].ok is False
    assert "2026-01-01 00:00 UTC" in text


def test_missing_junit_is_reported_and_red(tmp_path: Path) -> None:
    # Only the versions file: the environment started but pytest never finished.
    (tmp_path / "tf216-legacy.versions.json").write_text(json.dumps({"tensorflow": "2.16.2"}))
    envs = matrix.load_results(tmp_path)
    assert envs[0].ok is False
    text = matrix.render(envs)
    assert "tf216-legacy.xml missing" in text


def test_cli_json_alone_is_a_complete_environment(tmp_path: Path) -> None:
    # `initcheck check --json` per environment, without pytest, is enough for the spec table.
    _write(tmp_path, "tf213", xml=None, battery=_battery({"tensorflow": "2.13.1", "keras": "2.13.1"},
                                                         [("keras>A", "check_a", "passed", "")]))
    envs = matrix.load_results(tmp_path)
    assert envs[0].ok is True and envs[0].battery["keras>A"] == {"passed": 1}


def test_environment_order() -> None:
    names = ["tf221-legacy", "tf221", "tf216-legacy", "tf216-keras30", "tf212", "tf216", "matrix"]
    assert sorted(names, key=matrix._env_key) == [
        "tf212", "tf216", "tf216-keras30", "tf216-legacy", "tf221", "tf221-legacy", "matrix"]


def test_bad_inputs_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        matrix.load_results(tmp_path / "nope")
    with pytest.raises(ValueError, match="no ENV.xml"):
        matrix.load_results(tmp_path)
    (tmp_path / "tf212.xml").write_text("<html/>")
    with pytest.raises(ValueError, match="expected <testsuites>"):
        matrix.read_junit(tmp_path / "tf212.xml")
    (tmp_path / "tf212.json").write_text("[]")
    with pytest.raises(ValueError, match="outcomes"):
        matrix.read_battery_json(tmp_path / "tf212.json")


def test_command_line_strict_exit(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _write(tmp_path, "tf221", battery=_battery({"tensorflow": "2.21.0", "keras": "3.15.1", "keras_api": "3"},
                                               [("keras>A", "check_a", "failed", "boom")]))
    (tmp_path / "tf221.wall").write_text("187.0\n")
    out = tmp_path / "m.md"
    assert matrix.main([str(tmp_path), "-o", str(out)]) == 0
    assert matrix.main([str(tmp_path), "-o", str(out), "--strict"]) == 1
    assert "3.1 min" in out.read_text()
    assert matrix.main([str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_expected_failure_cells_name_their_findings(tmp_path: Path) -> None:
    """A built-in finding by its id (from the JUnit xfail reason or the JSON), a plugin's by its first words."""
    from initcheck.builtin.findings import FAN_DEPTHWISE, FAN_TRANSPOSE, SEED_ZERO_IGNORED

    cases = "".join(
        f'<testcase classname="tests.gate.test_builtin_battery" name="test_battery[keras&gt;HeNormal-{c}]" '
        f'time="0.1"><skipped type="pytest.xfail" message="{r}"/></testcase>'
        for c, r in (("check_layer_variance_conv2d_transpose", FAN_TRANSPOSE.reason),
                     ("check_layer_variance_conv3d_transpose", FAN_TRANSPOSE.reason),
                     ("check_layer_variance_depthwise_conv2d", f"{FAN_DEPTHWISE.reason} [all versions]"),
                     ("check_x", "my plugin's draws are too wide: std 1.1 where the law says 1")))
    xml = f'<testsuites><testsuite name="pytest" time="1.0">{cases}</testsuite></testsuites>'
    _write(tmp_path, "tf221", xml=xml.replace("&", "&amp;").replace("&amp;gt;", "&gt;"))
    outcome = {"spec": "keras>GlorotUniform", "check": "check_seed_contract", "status": "xfailed", "seconds": 0.1,
               "message": "differs", "evidence": [],
               "expected_failure": {"reason": SEED_ZERO_IGNORED.reason, "versions": SEED_ZERO_IGNORED.versions}}
    (tmp_path / "tf216.json").write_text(json.dumps({"profile": "ci", "versions": {}, "outcomes": [outcome]}))
    text = matrix.render(matrix.load_results(tmp_path))
    row = next(line for line in text.splitlines() if line.startswith("| `keras>HeNormal`"))
    assert "expected failure: `FAN_TRANSPOSE`, `FAN_DEPTHWISE`, \u201cmy plugin's draws are too wide\u2026\u201d" in row
    row = next(line for line in text.splitlines() if line.startswith("| `keras>GlorotUniform`"))
    assert "expected failure: `SEED_ZERO_IGNORED`" in row
    assert matrix.finding_name("Keras 3 Constant rounds its value through float32 before casting") == \
        "Keras 3 Constant rounds its value\u2026"
