"""The CI matrix workflow (initcheck.reports.ci_workflow) and the merge of its artifact folders.

The committed ``.github/workflows/matrix.yml`` is compared with what the
generator writes from the committed ``tox.ini``, so neither can change
without the other; the YAML is parsed to check that every tox environment is
exactly one job.  No network, no tox run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

from initcheck.reports import ci_workflow as wf  # noqa: E402
from initcheck.reports import tf_matrix as matrix  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOX_INI = ROOT / "tox.ini"
WORKFLOW = ROOT / ".github" / "workflows" / "matrix.yml"
REGENERATE = "initcheck matrix --workflow .github/workflows/matrix.yml"


def _jobs(text: str) -> list[tuple[str, bool]]:
    """(env, experimental) of every job of the generated workflow's matrix."""
    data = yaml.safe_load(text)
    strategy = data["jobs"]["tox"]["strategy"]
    assert strategy["fail-fast"] is False
    jobs = [(str(env), False) for env in strategy["matrix"]["env"]]
    jobs += [(str(i["env"]), bool(i.get("experimental"))) for i in strategy["matrix"].get("include", [])]
    return jobs


def test_committed_workflow_is_what_the_generator_writes_now() -> None:
    expected = wf.render_workflow(wf.read_tox_environments(TOX_INI))
    assert WORKFLOW.read_text(encoding="utf-8") == expected, f"{WORKFLOW} is stale: run `{REGENERATE}`"


def test_workflow_is_valid_yaml_with_every_tox_environment_once() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    # PyYAML (YAML 1.1) reads the bare key `on` as True; GitHub reads it as "on".
    assert "workflow_dispatch" in (data.get("on") or data.get(True))
    jobs = _jobs(text)
    names = [name for name, _ in jobs]
    assert len(names) == len(set(names)), "an environment is listed twice"
    envs = wf.read_tox_environments(TOX_INI)
    raw = [line.strip() for line in
           TOX_INI.read_text().split("env_list =", 1)[1].split("\n[", 1)[0].splitlines()
           if line.strip() and not line.strip().startswith(("#", "skip_missing"))]
    assert [n for n, x in jobs if not x] == [n for n in raw if n != wf.SUMMARY_ENV], "env_list must all be jobs"
    assert set(names) == set(envs.all)
    # The backend environments not green yet are declared only: they report, never gate.  keras310-jax and
    # keras315-jax are green (pytest and findings --verify, docs/backends.md) and in env_list: they gate.
    assert {n for n, x in jobs if x} == set(envs.declared)
    assert "keras315-torch" in set(envs.declared)
    assert {"keras310-jax", "keras315-jax"} <= {n for n, x in jobs if not x}
    tox_job = data["jobs"]["tox"]
    assert tox_job["continue-on-error"] == "${{ matrix.experimental == true }}"
    steps = tox_job["steps"]
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    assert any("tox-uv" in s.get("run", "") for s in steps)
    assert any('tox run -e "${{ matrix.env }}"' in s.get("run", "") for s in steps)
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == ".tox/results/"
    assert upload["with"]["name"] == "results-${{ matrix.env }}"
    final = data["jobs"]["matrix"]
    assert final["needs"] == "tox" and final["if"] == "always()"
    merge = next(s for s in final["steps"] if "initcheck matrix" in s.get("run", ""))
    assert "artifacts/results-*" in merge["run"] and f"--expect {','.join(envs.all)}" in merge["run"]


def test_summary_environment_is_not_a_job() -> None:
    assert wf.SUMMARY_ENV not in [n for n, _ in _jobs(WORKFLOW.read_text(encoding="utf-8"))]


@pytest.mark.skipif(shutil.which("tox") is None and not (Path(sys.executable).parent / "tox").exists(),
                    reason="tox is not installed here (the test extra installs it)")
def test_env_list_read_like_tox_reads_it() -> None:
    """Cross-check the ini reading against `tox l` (tox itself, only here in the tests)."""
    tox = shutil.which("tox") or str(Path(sys.executable).parent / "tox")
    out = subprocess.run([tox, "l", "-d", "--no-desc", "-c", str(TOX_INI)], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    if out.returncode != 0:
        pytest.skip(f"tox l failed here: {out.stderr.strip()[-300:]}")
    listed = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    assert listed == list(wf.read_tox_environments(TOX_INI).default) + [wf.SUMMARY_ENV]


def test_env_list_parsing(tmp_path: Path) -> None:
    assert wf.split_env_list("\n  tf212\n  tf{216,217}-legacy, matrix # the table\n  tf212\n") == [
        "tf212", "tf216-legacy", "tf217-legacy", "matrix"]
    ini = tmp_path / "tox.ini"
    ini.write_text("[tox]\nenvlist = a, b{1,2}, matrix\n[testenv]\ndeps = x\n[testenv:matrix]\n"
                   "[testenv:c-jax]\n[testenv:a]\n")
    envs = wf.read_tox_environments(ini)
    assert envs.default == ("a", "b1", "b2") and envs.declared == ("c-jax",)
    text = wf.render_workflow(envs)
    assert _jobs(text) == [("a", False), ("b1", False), ("b2", False), ("c-jax", True)]


def test_bad_tox_ini_gives_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        wf.read_tox_environments(tmp_path / "nope.ini")
    bad = tmp_path / "tox.ini"
    bad.write_text("not an ini file\n")
    with pytest.raises(ValueError, match="not a valid ini file"):
        wf.read_tox_environments(bad)
    bad.write_text("[testenv]\ndeps = x\n")
    with pytest.raises(ValueError, match=r"no \[tox\] section"):
        wf.read_tox_environments(bad)
    bad.write_text("[tox]\nrequires = tox\n")
    with pytest.raises(ValueError, match="no env_list"):
        wf.read_tox_environments(bad)
    bad.write_text("[tox]\nenv_list = tf{212,213\n")
    with pytest.raises(ValueError, match="braces must close"):
        wf.read_tox_environments(bad)
    bad.write_text("[tox]\nenv_list = matrix\n")
    with pytest.raises(ValueError, match="names no environment"):
        wf.render_workflow(wf.read_tox_environments(bad))


def test_cli_writes_the_workflow(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "wf.yml"
    assert matrix.main(["--workflow", str(out), "--tox-ini", str(TOX_INI)]) == 0
    envs = wf.read_tox_environments(TOX_INI)
    assert _jobs(out.read_text()) == [(n, False) for n in envs.default] + [(n, True) for n in envs.declared]
    assert f"`initcheck matrix --workflow {out} --tox-ini {TOX_INI}`" in out.read_text()
    assert f"{len(envs.all)} job(s)" in capsys.readouterr().err
    assert matrix.main(["--workflow", str(out), "--tox-ini", str(tmp_path / "missing.ini")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert matrix.main([str(tmp_path), "--workflow", str(out)]) == 2
    assert "reads no results folder" in capsys.readouterr().err
    assert matrix.main([]) == 2
    assert "no results folder given" in capsys.readouterr().err


# --- merging the artifact folders of a run ------------------------------------------------------------------

def _junit(*cases: tuple[str, str]) -> str:
    """JUnit XML with battery items ``(spec>name-check, status)``; status passed / failed / xfailed."""
    body = []
    for test_id, status in cases:
        inner = {"passed": "", "failed": '<failure message="boom"/>',
                 "xfailed": '<skipped type="pytest.xfail" message="known"/>'}[status]
        body.append(f'<testcase classname="tests.gate.test_builtin_battery" '
                    f'name="test_battery[{test_id.replace(">", "&gt;")}]" time="1.0">{inner}</testcase>')
    return f'<testsuites><testsuite name="pytest" time="2.0">{"".join(body)}</testsuite></testsuites>'


def _artifact(root: Path, env: str, versions: dict, *cases: tuple[str, str], wall: float = 60.0) -> Path:
    """One CI artifact folder (results-ENV) as the workflow's job leaves it."""
    folder = root / f"results-{env}"
    folder.mkdir(parents=True)
    (folder / f"{env}.xml").write_text(_junit(*cases), encoding="utf-8")
    (folder / f"{env}.versions.json").write_text(json.dumps(versions), encoding="utf-8")
    (folder / f"{env}.wall").write_text(f"{wall}\n")
    return folder


def test_matrix_merges_artifact_folders_with_backends(tmp_path: Path) -> None:
    folders = [
        _artifact(tmp_path, "tf221", {"tensorflow": "2.21.0", "keras": "3.15.1", "keras_api": "3",
                                      "backend": "tensorflow"}, ("keras>HeNormal-check_law", "passed")),
        _artifact(tmp_path, "keras315-jax", {"keras": "3.15.1", "keras_api": "3", "backend": "jax",
                                             "jax": "0.10.2"}, ("keras>HeNormal-check_law", "failed")),
        # An older versions file without "backend": the name's factor says it.
        _artifact(tmp_path, "keras315-torch", {"keras": "3.15.1", "keras_api": "3", "torch": "2.13.0+cpu"},
                  ("keras>HeNormal-check_law", "xfailed")),
        _artifact(tmp_path, "tf212", {"tensorflow": "2.12.1", "keras": "2.12.0", "keras_api": "2"},
                  ("keras>HeNormal-check_law", "passed"), wall=427.0),
    ]
    out = tmp_path / "matrix.md"
    code = matrix.main([str(f) for f in folders] + ["-o", str(out), "--expect",
                                                      "tf212,tf221,keras315-jax,keras315-torch,tf216"])
    assert code == 0
    text = out.read_text()
    assert "from 5 environment(s) in 4 results folders" in text
    envs = text.split("## Environments")[1].split("\n## ")[0]
    rows = [line for line in envs.splitlines() if line.startswith("| ") and not line.startswith("| env")]
    assert [r.split("|")[1].strip() for r in rows] == ["tf212", "tf216", "tf221", "keras315-jax", "keras315-torch"]
    cells = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[2:-1]] for r in rows}
    assert cells["tf212"][:4] == ["tensorflow", "2.12.1", "2.12.0", "2"] and "7.1 min" in cells["tf212"]
    assert cells["keras315-jax"][:2] == ["jax 0.10.2", "\u2014"] and cells["keras315-jax"][-1] == "**red**"
    assert cells["keras315-torch"][:2] == ["torch 2.13.0+cpu", "\u2014"] and cells["keras315-torch"][-1] == "ok"
    assert cells["tf216"][-1] == "**red**"
    assert "tf216: no results in any folder" in text
    spec = next(line for line in text.splitlines() if line.startswith("| `keras>HeNormal`"))
    assert [c.strip() for c in spec.split("|")[2:-1]] == [
        "passed", "\u2014", "passed", "**failed**", "expected failure: \u201cknown\u201d"]
    assert "## Running the matrix on many machines" in text
    assert matrix.main([str(f) for f in folders] + ["-o", str(out), "--strict"]) == 1


def test_merge_rejects_an_environment_in_two_folders(tmp_path: Path) -> None:
    a = _artifact(tmp_path / "run1", "tf212", {"tensorflow": "2.12.1"}, ("keras>A-check_a", "passed"))
    b = _artifact(tmp_path / "run2", "tf212", {"tensorflow": "2.12.1"}, ("keras>A-check_a", "failed"))
    with pytest.raises(ValueError, match=r"tf212 has results in two folders, .*run1.* and .*run2"):
        matrix.load_results(a, b)


def test_merge_bad_folders_give_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = _artifact(tmp_path, "tf221", {"tensorflow": "2.21.0"}, ("keras>A-check_a", "passed"))
    assert matrix.main([str(good), str(tmp_path / "results-tf212"), "-o", str(tmp_path / "m.md")]) == 2
    assert "results-tf212 does not exist" in capsys.readouterr().err
    empty = tmp_path / "results-empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="results-empty holds no ENV.xml"):
        matrix.load_results(good, empty)
    with pytest.raises(ValueError, match="no results folder given"):
        matrix.load_results()
    # A malformed XML in one folder spoils that environment only, named in the table, and makes it red.
    broken = tmp_path / "results-tf212"
    broken.mkdir()
    (broken / "tf212.xml").write_text("<testsuites><testsuite>", encoding="utf-8")
    envs = matrix.load_results(good, broken)
    bad = next(e for e in envs if e.name == "tf212")
    assert not bad.ok and "tf212.xml: not valid JUnit XML" in bad.missing[0]
    # A job that died after its wall time was written still shows up, red, instead of vanishing.
    died = tmp_path / "results-tf213"
    died.mkdir()
    (died / "tf213.wall").write_text("12\n")
    env = next(e for e in matrix.load_results(good, died) if e.name == "tf213")
    assert not env.ok and env.wall_seconds == 12.0 and "tf213.xml missing" in env.missing[0]


def test_backend_of() -> None:
    assert matrix.backend_of("tf221") == "tensorflow"
    assert matrix.backend_of("tf216-legacy") == "tensorflow"
    assert matrix.backend_of("keras310-jax") == "jax"
    assert matrix.backend_of("keras30-torch") == "torch"
    assert matrix.backend_of("anything", {"backend": "jax"}) == "jax"


def test_docs_matrix_page_says_how_to_run_on_many_machines() -> None:
    """docs/matrix.md is generated; its closing section is the one render() writes, so regenerating keeps it."""
    text = (ROOT / "docs" / "matrix.md").read_text(encoding="utf-8")
    assert text.endswith(matrix.DISTRIBUTED_HOWTO)
    assert "| env | backend | TensorFlow |" in text



def test_summary_environment_waits_for_every_environment_in_run_parallel() -> None:
    """`tox p -e ...,matrix`: the table's `depends` names every job's environment, so it runs last."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(TOX_INI)
    depends = wf.split_env_list(parser.get(f"testenv:{wf.SUMMARY_ENV}", "depends"))
    missing = set(wf.read_tox_environments(TOX_INI).all) - set(depends)
    assert not missing, f"add {sorted(missing)} to [testenv:{wf.SUMMARY_ENV}] depends in tox.ini"
