"""#13 point 7: the README is true -- every code block runs, except installs and long runs, named here.

Before: the README's ``parametrize_with_checks`` example failed on a correct
seeded initializer (a strict XPASS of a declared ``check_repeat_call``).  This
test writes the README's files (blocks whose first line is ``# path``) into a
project, registers its entry points the way ``pip install -e .`` would (a
``.dist-info`` folder: the install itself is excepted), and runs every command
of every ``bash`` block that :data:`EXCEPTED` does not name with its reason.
A new README command that is neither run nor excepted fails this test.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from common.capabilities import needs
from initcheck.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
_INSTALL = "install: a fresh environment and the network; the test runs in the environment it checks"
_WHOLE = "long run: the whole battery over every built-in spec (about 3 CPU minutes; CI runs it in .ci/run)"

#: Every README command that this test does not run, and why.
EXCEPTED: dict[str, str] = {
    'python3 -m venv .venv && . .venv/bin/activate && pip install ".[tf-cpu]" && initcheck check': _INSTALL,
    'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[tf-cpu,test]" -e plugins/initcheck-example '
    '&& pytest': _INSTALL + "; and `pytest` is this test suite",
    "initcheck check": _WHOLE,
    "initcheck check --json results.json": _WHOLE,
    "initcheck check --json results.json --report report/": _WHOLE,
    "initcheck report results.json -o report/": "reads the results of the run above (tests/fast/test_report_html.py "
                                                "renders a small run's)",
    "pytest --initcheck": _WHOLE,
    "pytest --initcheck --initcheck-report report/": _WHOLE,
    "initcheck check --profile thorough --seed 2 --kind optimizer": "long run: 10x the examples of every optimizer "
                                                                    "spec",
    "initcheck convergence --tasks deep_narrow_relu xor --seeds 16 --jsonl rows.jsonl --svg matrix.svg":
        "long run: trains 16 seeds per cell (minutes)",
    "initcheck convergence --from-jsonl rows.jsonl": "reads the rows of the long run above",
    "python3 -m venv /tmp/toxenv && /tmp/toxenv/bin/pip install tox tox-uv": _INSTALL,
    "/tmp/toxenv/bin/tox l": "needs the tox environment installed above",
    "/tmp/toxenv/bin/tox": "long run: the TensorFlow matrix (hours)",
    "/tmp/toxenv/bin/tox -e tf212,tf221": "long run: two TensorFlow environments (installs and hours)",
    "initcheck matrix .tox/results -o docs/matrix.md": "reads the results of the tox runs above",
    "/tmp/toxenv/bin/tox p -p 2 -e tf212,tf221,matrix": "long run: two TensorFlow environments at once (installs "
                                                         "and hours)",
    "initcheck matrix --workflow .github/workflows/matrix.yml": "writes the committed workflow from tox.ini; "
                                                                "tests/fast/test_ci_workflow.py checks it is current",
    "pytest benchmarks/ --benchmark-only --benchmark-json=.benchmarks/run.json": "long run: the benchmarks",
    "python benchmarks/ratios.py .benchmarks/run.json": "reads the benchmark run above",
    "pytest -m slow": "long run: calibration and 56-seed convergence cells",
    "INITCHECK_PROFILE=thorough initcheck check": "long run: 10x the examples of the whole battery",
    "initcheck findings --verify": "long run: every reproduction in its own interpreter (a TensorFlow import each)",
}


def blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced block."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)]


def commands(body: str) -> list[str]:
    """One string per command: continuation lines joined, comments and blank lines dropped."""
    out, pending = [], ""
    for raw in body.splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1].strip() + " "
            continue
        pending = ""
        line = re.sub(r"\s+#\s.*$", "", line).strip()
        if line and not line.startswith("#"):
            out.append(re.sub(r"\s+", " ", line))
    return out


def test_every_command_is_run_or_excepted_by_name():
    found = [c for lang, body in blocks(README.read_text()) if lang == "bash" for c in commands(body)]
    assert found, "no bash block found"
    runnable = [c for c in found if c not in EXCEPTED]
    for cmd in runnable:
        assert cmd.split()[0] in ("initcheck", "pytest"), f"README command neither run nor excepted: {cmd!r}"
    stale = set(EXCEPTED) - set(found)
    assert not stale, f"excepted commands that are no longer in the README: {stale}"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The README's files written out, and its entry points registered as an install would."""
    root = tmp_path_factory.mktemp("readme")
    entry_points = None
    for lang, body in blocks(README.read_text()):
        first = body.splitlines()[0] if body.strip() else ""
        m = re.match(r"#\s*([\w./-]+\.(py|toml))\b", first)
        if lang not in ("python", "toml") or not m:
            continue
        path = root / m.group(1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        if m.group(1) == "pyproject.toml":
            entry_points = tomllib.loads(body)["project"]["entry-points"]
    assert entry_points, "the README shows no pyproject.toml entry points"
    (root / "mypkg" / "__init__.py").touch()
    info = root / "mypkg-0.1.dist-info"  # what `pip install -e .` registers
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypkg\nVersion: 0.1\n")
    (info / "top_level.txt").write_text("mypkg\n")
    lines = [f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for group, eps in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines))
    return root


def _runnable(program: str) -> list[str]:
    return [c for lang, body in blocks(README.read_text()) if lang == "bash" for c in commands(body)
            if c not in EXCEPTED and c.split()[0] == program]


# The README's plugin is a TensorFlow plugin (its functions call tf.random): its project, registered for these
# two tests, needs the TensorFlow backend, as the battery says of any such spec ("needs tf_ops").
@needs("tf_ops")
@pytest.mark.parametrize("cmd", _runnable("initcheck"))
def test_readme_initcheck_command(cmd, project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))  # where importlib.metadata finds the README's mypkg
    assert main(shlex.split(cmd)[1:]) == 0, cmd


@needs("tf_ops")
@pytest.mark.parametrize("cmd", _runnable("pytest"))
def test_readme_pytest_command(cmd, project, pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(project))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    for item in project.iterdir():  # the README's project is the cwd of the pytest run
        target = pytester.path / item.name
        if not target.exists():
            target.symlink_to(item, target_is_directory=item.is_dir())
    result = pytester.runpytest_subprocess(*shlex.split(cmd)[1:], "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()[-3000:]


def test_every_python_block_compiles():
    for lang, body in blocks(README.read_text()):
        if lang == "python":
            compile(body, "README.md", "exec")
