"""`initcheck findings`: the catalogue is complete, listed, reproducible, verified and documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from initcheck import cli
from initcheck import keras_compat as kc
from initcheck.builtin import findings
from initcheck.builtin.findings import CATALOGUE, Finding
from initcheck.reports import affected
from initcheck.spec import ExpectedFailure

ROOT = Path(__file__).resolve().parents[2]
REPROS = ROOT / "initcheck" / "builtin" / "repros"


def _run_cli(capsys, *argv):
    code = cli.main(["findings", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _spec(**declared):
    """A stand-in spec: all the listing reads is ``expected_failures`` and ``expected_failure``."""
    return SimpleNamespace(expected_failures=declared, expected_failure=declared.get)


# ---------------------------------------------------------------------------------------- the data

def test_catalogue_and_listing_import_no_tensorflow():
    code = ("import sys, initcheck.builtin.findings, initcheck.reports.affected; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_entry_has_one_minimal_standalone_reproduction():
    ids = [e.id for e in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert sorted(p.name for p in REPROS.glob("*.py")) == sorted(e.repro for e in CATALOGUE), "orphan or missing"
    for entry in CATALOGUE:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.id), entry.id
        text = (REPROS / entry.repro).read_text()
        assert 5 <= len(text.splitlines()) <= 20, entry.id
        assert "initcheck" not in text, f"{entry.id} must not need initcheck"
        assert text.startswith("# "), f"{entry.id} opens with a comment saying what should happen"
        assert affected.repro_source(entry) == text


def test_every_builtin_declaration_is_catalogued_and_every_entry_declared():
    """Findings are data in one place: no built-in spec carries a declaration without a catalogue entry."""
    rows = affected._builtin_rows()
    assert [r.id for r in rows] == [e.id for e in CATALOGUE]
    for row in rows:
        assert bool(row.declared_on) != bool(row.entry.pending), row.id  # declared, or pending a check
    from initcheck.builtin import initializers, optimizers

    specs = [*initializers.builtin_specs(), *optimizers.builtin_specs()]
    catalogued = [e.declaration for e in CATALOGUE]
    for spec in specs:
        for check in spec.expected_failures:
            assert spec.expected_failure(check) in catalogued, (spec.name, check)


def test_declarations_named_in_findings_module_are_catalogued():
    """Every ExpectedFailure of builtin/findings.py has an entry, but the Keras 3 half of the clip finding
    and SHAPE_FANS (the consequence of a plugin's fan_convention='shape', not a finding in Keras)."""
    declared = {name for name in findings.__all__ if isinstance(getattr(findings, name), ExpectedFailure)}
    catalogued = {name for name in declared if getattr(findings, name) in [e.declaration for e in CATALOGUE]}
    assert declared - catalogued == {"CLIP_CONFLICT_ACCEPTED", "SHAPE_FANS"}


# ---------------------------------------------------------------------------------------- the rows

def test_plugin_declarations_are_listed_under_generated_ids():
    own = ExpectedFailure(reason="our fans come from the shape", versions="keras>=3")
    reused = CATALOGUE[0].declaration
    rows = affected.collect([("p>A", _spec(check_x=own, check_y=own)), ("p>B", _spec(check_z=reused)),
                             ("p>C", _spec(check_x=own))], {"keras": "3.15.1", "tensorflow": "2.21.0"})
    by_id = {r.id: r for r in rows}
    assert by_id[CATALOGUE[0].id].declared_on == [("p>B", "check_z")]
    plugin = by_id["p>A:check_x"]
    assert plugin.entry is None and plugin.summary == own.reason and plugin.holds
    assert plugin.declared_on == [("p>A", "check_x"), ("p>A", "check_y"), ("p>C", "check_x")]
    assert plugin.checks == ["check_x", "check_y"] and plugin.specs == ["p>A", "p>C"]
    assert len(rows) == len(CATALOGUE) + 1


@pytest.mark.parametrize("keras, holding, not_holding", [
    ("3.1.0", {"seed-zero-ignored", "identity-not-deserializable", "einsum-fans", "clip-conflict-accepted"},
     {"loss-scale-iterations-on-skip"}),
    ("3.15.1", {"sparse-repeated-indices-adam", "float64-uniform-limit-float32"},
     {"einsum-fans", "clip-conflict-accepted", "mirrored-no-allreduce"}),
    ("2.21.0", {"clip-conflict-accepted", "nadam-resume-keras2", "einsum-fans"},
     {"sparse-repeated-indices-adam", "constant-float64-rounding"}),
])
def test_holds_here_follows_the_declared_versions(keras, holding, not_holding):
    rows = {r.id: r for r in affected.collect([], {"keras": keras, "tensorflow": "2.21.0"})}
    assert all(rows[i].holds for i in holding)
    assert not any(rows[i].holds for i in not_holding)


def test_installed_versions_of_another_interpreter_come_from_its_metadata():
    assert affected.installed_versions(sys.executable) == affected.with_backend(kc.versions_from_metadata())


def test_a_backend_scoped_finding_is_judged_on_the_backend_of_the_environment(monkeypatch):
    """The reproductions inherit KERAS_BACKEND: a JAX-only finding holds in a JAX environment only."""
    from initcheck.builtin.findings import LOSS_SCALE_EAGER_JAX, SEEDS_FOLDED

    keras3 = {"tensorflow": "2.21.0", "keras": "3.15.1", "keras_api": "3"}
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    on_jax = affected.with_backend(keras3)
    assert on_jax["backend"] == "jax"
    assert LOSS_SCALE_EAGER_JAX.applies(on_jax) and not SEEDS_FOLDED.applies(on_jax)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    on_tf = affected.with_backend(keras3)
    assert not LOSS_SCALE_EAGER_JAX.applies(on_tf) and SEEDS_FOLDED.applies(on_tf)
    assert "backend" not in affected.with_backend({"tensorflow": "2.15.0", "keras": "2.15.0", "keras_api": "2"})


# ---------------------------------------------------------------------------------------- the command

def test_json_lists_every_finding_with_its_checks(capsys):
    code, out, _ = _run_cli(capsys, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["installed"] == dict(affected.with_backend(kc.versions_from_metadata()))
    rows = {f["id"]: f for f in data["findings"]}
    assert [e.id for e in CATALOGUE] == list(rows)[:len(CATALOGUE)]
    clip = rows["clip-conflict-accepted"]
    assert clip["checks"] == ["check_clipping"] and "keras>SGD" in clip["specs"]
    assert clip["versions"] == "keras>=2.12,<3.2.1" and clip["fixed_in"].startswith("keras 3.2.1")
    installed = dict(affected.with_backend(kc.versions_from_metadata()))  # the backend too: some are scoped by it
    for entry in CATALOGUE:
        assert rows[entry.id]["holds_here"] == entry.declaration.applies(installed)
    # The example plugin declares no finding of its own (fan_convention='shape' replaced its copies, #13);
    # its optimizer reuses catalogued ones, listed under their ids.
    assert any("initcheck-example>DecayedSGD" in f["specs"] for f in data["findings"])


def test_affected_lists_only_what_holds(capsys):
    code, out, _ = _run_cli(capsys, "--affected", "--json")
    assert code == 0 and all(f["holds_here"] for f in json.loads(out)["findings"])
    code, out, _ = _run_cli(capsys, "--affected")
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines()[1:-1] if not line.startswith(" ")]
    assert listed == [f["id"] for f in json.loads(_run_cli(capsys, "--affected", "--json")[1])["findings"]]


def test_repro_prints_and_write_writes_the_scripts(capsys, tmp_path):
    code, out, _ = _run_cli(capsys, "--repro", "einsum-fans")
    assert code == 0 and out == (REPROS / "einsum-fans.py").read_text()
    code, _, _ = _run_cli(capsys, "--write", str(tmp_path))
    assert code == 0 and sorted(p.name for p in tmp_path.iterdir()) == sorted(e.repro for e in CATALOGUE)
    code, _, err = _run_cli(capsys, "--repro", "no-such-finding")
    assert code == 2 and "einsum-fans" in err


def test_docs_findings_md_is_generated():
    """docs/findings.md is generated from the data and the recorded verifications (regenerate after edits)."""
    records = sorted((ROOT / "docs" / "data" / "findings").glob("*.json"))
    assert records, "docs/data/findings/ holds the `initcheck findings --verify --json` records"
    measured = [json.loads(p.read_text()) for p in records]
    committed = (ROOT / "docs" / "findings.md").read_text()
    assert committed == affected.render_markdown(measured=measured), \
        "run: initcheck findings --markdown --measured docs/data/findings/*.json > docs/findings.md"


# ---------------------------------------------------------------------------------------- verification

def _fake_catalogue(tmp_path, monkeypatch):
    """Three entries whose reproductions need no TensorFlow: one agrees, one disagrees, one crashes."""
    scripts = {"agrees": "import sys\nprint('bug here')\nsys.exit(1)\n",
               "wrong-range": "import sys\nprint('bug here too')\nsys.exit(1)\n",
               "crashes": "raise RuntimeError('boom')\n"}
    for name, text in scripts.items():
        (tmp_path / f"{name}.py").write_text(text)
    everywhere, nowhere = ExpectedFailure("x"), ExpectedFailure("y", versions="keras<0.1")
    entries = (Finding("agrees", everywhere, "s", (), "m", "u"), Finding("wrong-range", nowhere, "s", (), "m", "u"),
               Finding("crashes", everywhere, "s", (), "m", "u"))
    monkeypatch.setattr(affected, "_repros", lambda: tmp_path)
    monkeypatch.setattr(affected, "CATALOGUE", entries)
    return entries


def test_verify_compares_exit_status_with_declared_versions(tmp_path, monkeypatch):
    entries = _fake_catalogue(tmp_path, monkeypatch)
    verdicts = {v.id: v for v in affected.verify(entries, jobs=2)}
    assert verdicts["agrees"].agrees and verdicts["agrees"].output == "bug here"
    wrong = verdicts["wrong-range"]
    assert (wrong.expected, wrong.exit, wrong.agrees, wrong.crashed) == (0, 1, False, False)
    assert verdicts["crashes"].crashed and not verdicts["crashes"].agrees
    assert "RuntimeError: boom" in verdicts["crashes"].stderr_tail



def test_verify_counts_a_long_traceback_as_a_crash(tmp_path, monkeypatch):
    """A traceback longer than the kept stderr tail still makes a crash (exit 1 alone would agree)."""
    (tmp_path / "deep.py").write_text("def f(n):\n    return f(n - 1) if n else 1 / 0\nf(30)\n")
    entry = Finding("deep", ExpectedFailure("x"), "s", (), "m", "u")
    monkeypatch.setattr(affected, "_repros", lambda: tmp_path)
    [verdict] = affected.verify((entry,))
    assert verdict.exit == 1 and verdict.crashed and not verdict.agrees
    assert verdict.stderr_tail.startswith("Traceback (most recent call last):") and "ZeroDivisionError" in verdict.stderr_tail
def test_verify_command_fails_naming_the_finding(tmp_path, monkeypatch, capsys):
    _fake_catalogue(tmp_path, monkeypatch)
    code, out, _ = _run_cli(capsys, "--verify")
    assert code == 1
    assert re.fullmatch(r"1 agree, 2 disagree in \d+s: wrong-range, crashes", out.splitlines()[-1])
    assert "DISAGREE wrong-range" in out and "CRASH    crashes" in out
    code, out, err = _run_cli(capsys, "--verify", "--json", "agrees")
    assert code == 0 and [v["id"] for v in json.loads(out)["verdicts"]] == ["agrees"] and "1 agree" in err


@pytest.mark.parametrize("dists, legacy, backend, label", [
    ({"tensorflow-cpu": "2.21.0", "keras": "3.15.1"}, False, "tensorflow", "TF 2.21.0 + Keras 3.15.1"),
    ({"tensorflow": "2.21.0", "keras": "3.15.1", "tf-keras": "2.21.0"}, True, "tensorflow",
     "TF 2.21.0 + tf_keras 2.21.0 (TF_USE_LEGACY_KERAS=1)"),
    ({"tensorflow-cpu": "2.21.0", "keras": "3.15.1", "jax": "0.10.2"}, False, "jax",
     "TF 2.21.0 + Keras 3.15.1 (KERAS_BACKEND=jax)"),
    ({"tensorflow-cpu": None, "tensorflow": None, "keras": "3.15.1", "jax": "0.10.2"}, False, "jax",
     "Keras 3.15.1 + jax 0.10.2 (KERAS_BACKEND=jax, no TensorFlow)"),
    ({"keras": "3.15.1", "torch": "2.13.0+cpu"}, False, "torch",
     "Keras 3.15.1 + torch 2.13.0+cpu (KERAS_BACKEND=torch, no TensorFlow)"),
])
def test_the_environment_label_names_the_backend_and_a_missing_tensorflow(dists, legacy, backend, label):
    """Without TensorFlow the label used to read "TF ? + Keras 3.15.1 (KERAS_BACKEND=jax)"."""
    assert affected.environment_label(dists, legacy, backend) == label


def test_the_environment_label_says_jax_x64():
    dists = {"tensorflow-cpu": "2.21.0", "keras": "3.15.1", "jax": "0.10.2"}
    assert affected.environment_label(dists, False, "jax", x64=True) == \
        "TF 2.21.0 + Keras 3.15.1 (KERAS_BACKEND=jax, JAX_ENABLE_X64=1)"
    assert affected.environment_label(dists, False, "torch", x64=True) == "TF 2.21.0 + Keras 3.15.1 (KERAS_BACKEND=torch)"


@pytest.mark.parametrize("token, installed, holds", [
    ("jax", {"backend": "jax", "jax_x64": "on"}, True),
    ("jax", {"backend": "jax"}, True),
    ("jax:x64", {"backend": "jax", "jax_x64": "on"}, True),
    ("jax:x64", {"backend": "jax", "jax_x64": "off"}, False),
    ("jax:x64", {"backend": "jax"}, False),                      # JAX's default is off
    ("jax:no-x64", {"backend": "jax", "jax_x64": "off"}, True),
    ("jax:no-x64", {"backend": "jax", "jax_x64": "on"}, False),
    ("jax:x64", {"backend": "torch"}, False),
    ("tensorflow", {}, True),                                    # no backend recorded: TensorFlow
])
def test_a_declaration_can_be_scoped_to_a_jax_configuration(token, installed, holds):
    from initcheck.spec import ExpectedFailure

    declared = ExpectedFailure(reason="r", backends=(token,))
    assert declared.applies({"keras": "3.15.1", "keras_api": "3", **installed}) is holds


def test_a_backend_configuration_must_be_known():
    from initcheck.spec import ExpectedFailure, SpecError

    with pytest.raises(SpecError, match="configurations among"):
        ExpectedFailure(reason="r", backends=("jax:fp64",)).validate("s", "check_x")
    with pytest.raises(SpecError, match="configurations among"):
        ExpectedFailure(reason="r", backends=("torch:x64",)).validate("s", "check_x")


def test_distributions_reads_the_extra_names_asked_for():
    from importlib import metadata

    assert affected.distributions(sys.executable, extra=("pytest",))["pytest"] == metadata.version("pytest")
