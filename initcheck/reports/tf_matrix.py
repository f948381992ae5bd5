"""The matrix summary: environment x spec -> passed / failed / expected failure.

Each tox environment of the TensorFlow matrix (see ``tox.ini``) leaves its
files in one results folder:

* ``ENV.xml`` -- the JUnit XML of the README's test command (``pytest``).
  The gate (``tests/test_gate.py``) runs the whole battery as tests with ids
  ``test_battery[keras>GlorotUniform-check_seed_contract]``, so the spec x
  environment table is read from these ids;
* ``ENV.versions.json`` -- the TensorFlow/Keras versions in use;
* optionally ``ENV.json`` -- the outcomes of ``initcheck check --json`` (the
  same battery run by the CLI); when present it is the source of the spec
  table and of the versions;
* optionally ``ENV.wall`` -- the wall time of the whole environment in
  seconds (written by ``.ci/matrix-edges.sh`` and by the CI workflow).

The Keras backend of an environment (``tensorflow``, ``jax``, ``torch``) is
the ``backend`` of its versions file, else the ``jax`` / ``torch`` factor of
its name, else ``tensorflow`` (every TensorFlow environment, Keras 2 or 3).

Several folders merge into one table -- the artifact folders of a CI run,
one per environment (:mod:`.ci_workflow` writes that workflow), or the
results of several machines.  An environment found in two folders is an
error naming both: two runs of one environment have no single verdict, so
the caller picks one folder.  ``--expect`` names the environments that
should be there; one with no files in any folder (a job that died before
it wrote anything) is shown red as missing instead of silently absent.

:func:`write_table` reads them all and writes one markdown page: the
versions and totals per environment, one row per spec with one cell per
environment, one row per test module, and every expected failure and
failure with its reason, so the differences between TensorFlow/Keras
versions are visible at a glance and a reviewer can see that every red cell
is declared.  An "expected failure" cell names its findings: a built-in
finding by its id in :mod:`initcheck.builtin.findings` (``FAN_TRANSPOSE``),
a plugin's by the first words of its reason.

    initcheck matrix .tox/results -o docs/matrix.md
    initcheck matrix artifacts/results-* --expect tf212,tf221 -o docs/matrix.md
    python -m initcheck.reports.tf_matrix .tox/results -o docs/matrix.md

This module imports no TensorFlow: it only reads files.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

__all__ = [
    "EnvResult",
    "STATUSES",
    "read_junit",
    "read_battery_json",
    "load_results",
    "backend_of",
    "BACKENDS",
    "DISTRIBUTED_HOWTO",
    "render",
    "write_table",
    "add_parser",
    "run",
    "main",
]

#: Statuses, in the order they are shown.  ``xpassed`` is an *unexpected*
#: pass of a strict expected failure and counts as bad.
STATUSES: tuple[str, ...] = ("passed", "xfailed", "skipped", "failed", "error", "xpassed")
BAD: tuple[str, ...] = ("failed", "error", "xpassed")
_SHORT = {"passed": "pass", "xfailed": "xfail", "skipped": "skip", "failed": "FAIL", "error": "ERROR",
          "xpassed": "XPASS"}


@dataclass
class EnvResult:
    """What one environment left behind.

    Attributes:
        name: The tox environment name (``tf212``, ``tf216-legacy``, ``keras315-jax``...).
        versions: Installed versions from the versions file or the battery JSON
            (``tensorflow``, ``keras``, ``keras_api``, ``backend`` and the backend's
            own version), empty when both are missing.
        tests: ``{test module: Counter(status)}`` from the JUnit XML.
        test_seconds: The pytest run's time from the JUnit XML.
        battery: ``{spec: Counter(status)}`` from the battery JSON, else from
            the battery's test ids in the JUnit XML.
        battery_seconds: Sum of the battery outcomes' times.
        notes: ``[(kind, where, text)]`` -- every expected failure, failure,
            error and unexpected pass with its first line, and load errors.
        wall_seconds: The environment's wall time, if recorded.
        missing: Which of the two files were absent or unreadable.
        findings: ``{spec: [finding, ...]}`` -- the short names (:func:`finding_name`)
            of the expected failures each spec hit, in order, once each.
        source: The results folder the files were read from (None: expected
            but found in no folder).
    """

    name: str
    versions: dict = field(default_factory=dict)
    tests: "OrderedDict[str, Counter]" = field(default_factory=OrderedDict)
    test_seconds: Optional[float] = None
    battery: "OrderedDict[str, Counter]" = field(default_factory=OrderedDict)
    battery_seconds: Optional[float] = None
    notes: list = field(default_factory=list)
    wall_seconds: Optional[float] = None
    missing: list = field(default_factory=list)
    findings: "OrderedDict[str, list]" = field(default_factory=OrderedDict)
    source: Optional[Path] = None

    @property
    def backend(self) -> str:
        """The Keras backend the environment ran on (:func:`backend_of`)."""
        return backend_of(self.name, self.versions)

    def totals(self, which: str) -> Counter:
        """Status counts over all tests (``which="tests"``) or battery items (``"battery"``)."""
        out: Counter = Counter()
        for counts in getattr(self, which).values():
            out.update(counts)
        return out

    @property
    def ok(self) -> bool:
        """True when nothing failed: every non-pass is a declared expected failure or a skip."""
        bad = any(self.totals("tests")[s] for s in BAD) or any(self.totals("battery")[s] for s in BAD)
        return not bad and not self.missing and not any(k == "load error" for k, _, _ in self.notes)


def _first_line(text: Optional[str], limit: int = 160) -> str:
    line = (text or "").strip().split("\n")[0].strip()
    line = line.replace("|", "\\|")
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


_FINDING_IDS: Optional[dict[str, str]] = None


def finding_name(reason: str, words: int = 6) -> str:
    """A short name for a declared finding: its id among the built-in findings, else its reason's first words.

    ``reason`` may carry the ``[versions]`` suffix the pytest plugin adds.
    """
    global _FINDING_IDS
    text = re.sub(r"\s*\[[^\[\]]*\]\s*$", "", (reason or "").strip().split("\n")[0]).strip()
    if _FINDING_IDS is None:
        try:  # plain data, no TensorFlow
            from ..builtin import findings
            from ..spec import ExpectedFailure

            _FINDING_IDS = {v.reason.strip(): k for k, v in vars(findings).items() if isinstance(v, ExpectedFailure)}
        except Exception:  # pragma: no cover - the reports read files even without the rest of initcheck
            _FINDING_IDS = {}
    if text in _FINDING_IDS:
        return _FINDING_IDS[text]
    head = re.split(r": |; ", text, maxsplit=1)[0]
    parts = head.split()
    return " ".join(parts[:words]) + ("\u2026" if len(parts) > words or head != text else "")


def _add_finding(findings: "OrderedDict[str, list]", spec: str, reason: str) -> None:
    name = finding_name(reason).replace("|", "\\|")
    if name and name not in findings.setdefault(spec, []):
        findings[spec].append(name)


def _junit_status(case: ET.Element) -> tuple[str, str]:
    """(status, message) of one ``<testcase>`` as pytest writes it."""
    for child in case:
        tag = child.tag
        msg = child.get("message") or (child.text or "")
        if tag == "failure":
            # A strict xfail that passed is written as a failure "[XPASS(strict)]".
            return ("xpassed" if "XPASS(strict)" in msg else "failed"), msg
        if tag == "error":
            return "error", msg
        if tag == "skipped":
            return ("xfailed" if child.get("type") == "pytest.xfail" else "skipped"), msg
    return "passed", ""


def _module_of(case: ET.Element) -> str:
    """``tests/test_x.py`` from pytest's ``classname`` (``tests.test_x.TestY``)."""
    classname = case.get("classname") or ""
    file_attr = case.get("file")
    if file_attr:
        return file_attr
    parts = classname.split(".")
    # Drop trailing class names (CamelCase) to get the module path.
    while len(parts) > 1 and parts[-1][:1].isupper():
        parts.pop()
    return "/".join(parts) + ".py" if parts and parts[0] else "(unnamed)"


#: A battery test id: ``test_battery[keras>GlorotUniform-check_seed_contract]``.
_BATTERY_ID = re.compile(r"^\w+\[(?P<spec>[^\[\]]*>[^\[\]]*?)-(?P<check>check_\w+)\]$")


def read_junit(path: Union[str, Path]) -> tuple["OrderedDict[str, Counter]", Optional[float], list,
                                                 "OrderedDict[str, Counter]", float, "OrderedDict[str, list]"]:
    """Per-module counts, time, notes, per-spec battery counts, battery time and findings from JUnit XML.

    Battery tests are recognised by their id (``name[spec-check_x]`` with a
    ``>`` in the spec's qualified name), whatever test module runs them.

    Raises:
        ValueError: the file is not JUnit XML (the message names it).
    """
    try:
        root = ET.parse(str(path)).getroot()
    except ET.ParseError as exc:
        raise ValueError(f"{path}: not valid JUnit XML ({exc})") from None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    if root.tag not in ("testsuite", "testsuites"):
        raise ValueError(f"{path}: root element is <{root.tag}>, expected <testsuites> or <testsuite>")
    modules: "OrderedDict[str, Counter]" = OrderedDict()
    battery: "OrderedDict[str, Counter]" = OrderedDict()
    findings: "OrderedDict[str, list]" = OrderedDict()
    notes = []
    seconds = 0.0
    battery_seconds = 0.0
    have_time = False
    for suite in suites:
        if suite.get("time") is not None:
            seconds += float(suite.get("time"))
            have_time = True
        for case in suite.iter("testcase"):
            status, msg = _junit_status(case)
            module = _module_of(case)
            modules.setdefault(module, Counter())[status] += 1
            found = _BATTERY_ID.match(case.get("name") or "")
            if found:
                battery.setdefault(found.group("spec"), Counter())[status] += 1
                battery_seconds += float(case.get("time") or 0.0)
                if status == "xfailed":
                    _add_finding(findings, found.group("spec"), msg)
            if status != "passed" and status != "skipped":
                notes.append((status, f"{module}::{case.get('name')}", _first_line(msg)))
    return modules, (seconds if have_time else None), notes, battery, battery_seconds, findings


def _xfail_reason(message: str) -> str:
    for line in (message or "").split("\n"):
        if "expected failure:" in line:
            return line.split("expected failure:", 1)[1].strip()
    return message


def read_battery_json(path: Union[str, Path]) -> tuple[dict, "OrderedDict[str, Counter]", float, list,
                                                       "OrderedDict[str, list]"]:
    """Versions, per-spec status counts, total seconds, notes and findings from ``initcheck check --json``.

    Raises:
        ValueError: the file is not such a JSON document (the message names it).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("outcomes"), list):
        raise ValueError(f"{path}: expected an object with an 'outcomes' list (from `initcheck check --json`)")
    specs: "OrderedDict[str, Counter]" = OrderedDict()
    findings: "OrderedDict[str, list]" = OrderedDict()
    notes = []
    seconds = 0.0
    for outcome in data["outcomes"]:
        spec = str(outcome.get("spec", "?"))
        status = str(outcome.get("status", "error"))
        # blocked by a failed dependency (0.3); not applicable on this backend (#17): both skipped in the table
        status = "skipped" if status in ("blocked", "not_applicable") else status
        specs.setdefault(spec, Counter())[status] += 1
        seconds += float(outcome.get("seconds") or 0.0)
        if status == "xfailed":
            xf = outcome.get("expected_failure")
            _add_finding(findings, spec, xf.get("reason", "") if isinstance(xf, dict) and xf.get("reason")
                         else _xfail_reason(outcome.get("message", "")))
        if status in ("xfailed",) + BAD:
            text = _xfail_reason(outcome.get("message", "")) if status == "xfailed" else outcome.get("message", "")
            notes.append((status, f"{spec} / {outcome.get('check', '?')}", _first_line(text)))
    for err in data.get("load_errors") or []:
        notes.append(("load error", "plugin", _first_line(str(err))))
    versions = {k: str(v) for k, v in dict(data.get("versions") or {}).items()}
    return versions, specs, seconds, notes, findings


_ENV_RE = re.compile(r"^tf(\d)(\d+)(.*)$")
_BACKEND_ENV_RE = re.compile(r"^keras(\d)(\d+)-(\w+)(.*)$")

#: The Keras 3 backends other than TensorFlow that an environment name can carry as a factor.
BACKENDS: tuple[str, ...] = ("jax", "torch")


def backend_of(name: str, versions: Optional[dict] = None) -> str:
    """The Keras backend of environment ``name``: its versions file's ``backend``, else its factor.

    A ``jax`` or ``torch`` factor in the name (``keras315-jax``) names the
    backend; every other environment runs Keras on TensorFlow (Keras 2 has no
    other backend), so older versions files without the key read right.
    """
    if versions and versions.get("backend"):
        return str(versions["backend"])
    factors = name.split("-")
    return next((b for b in BACKENDS if b in factors), "tensorflow")


def _env_key(name: str) -> tuple:
    """Order ``tf212 < tf216 < tf216-keras30 < tf216-legacy < tf221 < keras30-torch < keras315-torch``.

    TensorFlow environments first by TF version, then the backend
    environments by backend and Keras version, then anything else by name.
    """
    m = _ENV_RE.match(name)
    if m:
        return (0, int(m.group(1)), int(m.group(2)), m.group(3))
    m = _BACKEND_ENV_RE.match(name)
    if m:
        return (1, m.group(3), int(m.group(1)), int(m.group(2)), m.group(4))
    return (2, name)


def _folder_envs(folder: Path) -> list[str]:
    """The environment names in one results folder, from its ``ENV.xml`` / ``ENV[.versions].json`` / ``ENV.wall``.

    Raises:
        FileNotFoundError: the folder does not exist.
        ValueError: it holds no result files.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder {folder} does not exist: run the tox environments first "
                                "(`tox -e tf212,tf221`), they write ENV.xml and ENV.versions.json there; "
                                "or download a CI run's artifacts (docs/matrix.md)")
    stems = {p.stem for pattern in ("*.xml", "*.json", "*.wall") for p in folder.glob(pattern)}
    names = {s[: -len(".versions")] if s.endswith(".versions") else s for s in stems}
    if not names:
        raise ValueError(f"{folder} holds no ENV.xml / ENV.json / ENV.versions.json result files "
                         "(is it the results folder, .tox/results, or one artifact folder of a CI run?)")
    return sorted(names)


def load_results(*results_dirs: Union[str, Path], expect: Sequence[str] = ()) -> list[EnvResult]:
    """Every environment found in the ``results_dirs``, merged, in version order.

    Args:
        *results_dirs: One or more results folders (``.tox/results``, or the
            artifact folders of a CI run, one per environment).
        expect: Environment names that should be there; one found in no
            folder is returned as a red :class:`EnvResult` saying so.

    Raises:
        FileNotFoundError: a folder does not exist (named).
        ValueError: no folder given, a folder holds no result files, or one
            environment is in two folders (both named).
    """
    if not results_dirs:
        raise ValueError("no results folder given: pass one or more (initcheck matrix .tox/results)")
    where: dict[str, Path] = {}
    for results_dir in results_dirs:
        folder = Path(results_dir)
        for name in _folder_envs(folder):
            if name in where:
                raise ValueError(f"environment {name} has results in two folders, {where[name]} and {folder}: "
                                 "two runs of one environment have no single verdict; pass only one of them")
            where[name] = folder
    out = [_load_env(name, where[name]) for name in where]
    for name in expect:
        if name not in where:
            out.append(EnvResult(name, missing=["no results in any folder (the environment did not run, "
                                                "or its job uploaded nothing)"]))
    return sorted(out, key=lambda e: _env_key(e.name))


def _load_env(name: str, folder: Path) -> EnvResult:
    """One environment's files in ``folder`` as an :class:`EnvResult` (unreadable files become ``missing``)."""
    env = EnvResult(name, source=folder)
    xml_path, json_path, wall_path = folder / f"{name}.xml", folder / f"{name}.json", folder / f"{name}.wall"
    versions_path = folder / f"{name}.versions.json"
    if versions_path.exists():
        try:
            env.versions = {k: str(v) for k, v in json.loads(versions_path.read_text()).items()}
        except (ValueError, AttributeError) as exc:
            env.missing.append(f"{versions_path.name}: unreadable ({exc})")
    if xml_path.exists():
        try:
            env.tests, env.test_seconds, notes, battery, battery_seconds, findings = read_junit(xml_path)
            env.notes.extend(("pytest " + k, w, t) for k, w, t in notes)
            env.battery, env.battery_seconds = battery, (battery_seconds if battery else None)
            env.findings = findings
        except ValueError as exc:
            env.missing.append(str(exc))
    elif not json_path.exists():
        env.missing.append(f"{xml_path.name} missing (pytest did not finish)")
    if json_path.exists():
        try:
            versions, env.battery, env.battery_seconds, notes, env.findings = read_battery_json(json_path)
            env.versions = {**env.versions, **versions}
            env.notes.extend(notes)
        except ValueError as exc:
            env.missing.append(str(exc))
    if wall_path.exists():
        try:
            env.wall_seconds = float(wall_path.read_text().strip().split()[0])
        except (ValueError, IndexError):
            pass
    return env


def _cell(counts: Optional[Counter]) -> str:
    if not counts:
        return "\u2014"
    bad = [f"**{_SHORT[s]} {counts[s]}**" for s in BAD if counts[s]]
    rest = [f"{_SHORT[s]} {counts[s]}" for s in ("passed", "xfailed", "skipped") if counts[s]]
    return " \u00b7 ".join(bad + rest)


def _verdict(counts: Optional[Counter], findings: Sequence[str] = (), most: int = 3) -> str:
    """A spec in an environment: passed / failed / expected failure naming its findings (``most`` of them)."""
    if not counts:
        return "\u2014"
    if any(counts[s] for s in BAD):
        return "**failed**"
    if counts["xfailed"]:
        if not findings:
            return "expected failure"
        named = ", ".join(f"`{f}`" if re.fullmatch(r"[A-Z0-9_]+", f) else f"\u201c{f}\u201d" for f in findings[:most])
        return f"expected failure: {named}" + (f" +{len(findings) - most}" if len(findings) > most else "")
    if counts["passed"]:
        return "passed"
    return "skipped"


def _secs(value: Optional[float]) -> str:
    if value is None:
        return "\u2014"
    value = float(value)
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


#: The section every generated page ends with: how the matrix runs beyond one machine.
DISTRIBUTED_HOWTO = """## Running the matrix on many machines

The whole matrix takes hours on one 2-core machine, so it also runs as a GitHub Actions workflow with
one job per tox environment, generated from `tox.ini` and committed as `.github/workflows/matrix.yml`:

1. **Generate** (after any change to `tox.ini`'s `env_list` or its `[testenv:NAME]` sections):
   `initcheck matrix --workflow .github/workflows/matrix.yml`.  Every environment of `env_list`
   (except `matrix`, this summary) is a job that must pass; an environment only declared by a
   `[testenv:NAME]` section (the JAX and PyTorch ones today) runs with `continue-on-error`.
   `tests/fast/test_ci_workflow.py` fails while the committed file differs from the generator's.
2. **Push** and start it (Actions tab, *tox matrix*, *Run workflow*; it also runs weekly):
   each job runs `tox -e ENV` on Python 3.11 and uploads `.tox/results/` (`ENV.xml`,
   `ENV.versions.json`, `ENV.wall`) as the artifact `results-ENV`, even when the environment fails.
3. **Download**: the workflow's last job already merges them (artifact `matrix`; its environments
   table on the run's summary page); to merge by hand, `gh run download RUN_ID -p 'results-*' -D
   artifacts` (one folder per artifact).  The PyTorch jobs need the CPU wheel `torch==2.13.0+cpu`,
   which PyPI does not serve: set the repository variable `TORCH_CPU_INDEX` to an index that does.
4. **Merge**: `initcheck matrix artifacts/results-* --expect ENV,ENV,... -o docs/matrix.md`.  Several
   folders merge into one table; an environment found in two folders is an error naming both (pass
   one of them); an expected environment found in none is listed red as missing.

On one machine, `tox run-parallel` is the fallback: `tox p -p 2 -e tf212,tf221,matrix` (the table's
`depends` makes it wait for the environments it reads; each still writes to `.tox/results/`).  `-p` is
how many environments run at once; on 2 cores 2 is the most that helps, and pytest-xdist's `-n` is
best left out then.

The backend column is the Keras backend an environment ran on: `tensorflow` for every TensorFlow
environment (Keras 2 or 3), `jax` or `torch` for the Keras 3 backend environments, which install no
TensorFlow: `keras310-jax`, `keras315-jax`, `keras30-torch`, `keras315-torch` (the newest Keras, and
the oldest line that runs on each backend's current release; the evidence is in `tox.ini`).  Their
status: declared in `tox.ini` and installable; `keras315-jax` is in `env_list` since 2026-12-04 and
`keras310-jax` since 2026-12-05, the two torch environments are outside it and gate nothing yet. Measured
(docs/backends.md, "The whole test suite on JAX, without TensorFlow"): `tox -e keras315-jax` runs `pytest` green
(1476 passed, 186 skipped, 138 xfailed, 0 failed, 26 min, 2026-12-03), and its `initcheck findings --verify` has
every reproduction agreeing (34 of 34 on 2026-12-04; before, 26 crashed on `import tensorflow`: they now import it
only where it is installed). `keras310-jax` (Keras 3.10.0, jax 0.10.2): the whole `pytest` 1488 passed, 174
skipped, 167 xfailed, 0 failed (18 min, 2026-12-04, commit 13566c3), `findings --verify` all 38 agree
(2026-12-05; `docs/data/findings/keras310-jax.json`). `tox -e keras315-torch` is
green too (2026-12-04, commit 2319447, torch 2.13.0+cpu from the local wheel through `PIP_FIND_LINKS`): `pytest`
1443 passed, 161 skipped, 200 xfailed, 0 failed (18.6 min), `findings --verify` 34 agree (4.6 min), 23.4 min
in all. It stays outside `env_list`: its must-pass job would need `torch==2.13.0+cpu`, which PyPI does not serve
(the workflow takes it from the index in `TORCH_CPU_INDEX`), and that path cannot be tried from here.
`tox -e keras30-torch` (Keras 3.0.5, torch 2.13.0+cpu, 2026-12-04, session 30): first run on
dcbca2e, `pytest` 31 failed, 1149 passed; each failure was attributed (docs/backends.md, "Keras 3.0 on PyTorch"):
the torch declarations bounded to Keras 3.15 were widened to the versions their reproductions measure, one new
finding (`torch-truncated-normal-dtype`, Keras 3.0-3.1) declared, two TensorFlow-only declarations scoped and three
tests freed from HeNormal. With those changes (the same environment, the new code through `PYTHONPATH`): `pytest -n
2` **1 failed**, 1169 passed, 404 skipped, 208 xfailed (8.5 min), and `initcheck findings --verify` **38 agree**
(2026-12-04; the three seed findings re-verified in session 31; a column of docs/findings.md). The one failure left is `test_recipe_reaches_target[conv32_he_sgd]`:
seed 0 reaches 0.941 < 0.95 on Keras 3.0.5 with torch. Attributed (docs/backends.md, "The conv recipe on Keras
3.0.5 + torch"): not a bug. Keras 3.7 re-creates the epoch iterator each epoch, which on torch draws one more
number from torch's generator, so the shuffles differ from epoch 2; over 30 seeds on 3.0.5 and 13 on 3.15.1 the
accuracies have the same distribution (Mann-Whitney p = 0.67), and 7 of 43 torch seeds fall below 0.95 (the
recipe's margin is thin on every backend). keras30-torch stays outside `env_list` while that test fails there.
"""


def render(envs: Sequence[EnvResult], *, title: str = "TensorFlow matrix", when: Optional[str] = None,
           note: str = "", howto: bool = True) -> str:
    """The markdown page for ``envs`` (see the module docstring).

    Args:
        envs: The environments, in the order their columns appear.
        title: The page's title.
        when: The generation time shown (default now, UTC).
        note: A paragraph under the title (the machine, the commit).
        howto: End with :data:`DISTRIBUTED_HOWTO`, so a regenerated page keeps it.
    """
    when = when or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    folders = {e.source for e in envs if e.source is not None}
    lines = [f"# {title}", "", f"Generated {when} by `initcheck matrix` from {len(envs)} environment(s)"
             + (f" in {len(folders)} results folders." if len(folders) > 1 else ".")]
    if note:
        lines += ["", note]
    lines += ["", "Cells read: **passed** -- every check passed; **expected failure** -- at least one check failed "
              "exactly as a declared, versioned expected failure of the spec says (strict xfail), followed by the "
              "findings: a built-in one by its id in `initcheck/builtin/findings.py` (see docs/findings.md), a "
              "plugin's by its first words; **failed** -- "
              "a failure, an error or an unexpected pass (the run is red); \u2014 -- the spec does not exist on "
              "that environment (its Keras lacks the object).", ""]
    lines += ["## Environments", "",
              "| env | backend | TensorFlow | Keras | API | pytest | battery | pytest time | battery time | wall "
              "| verdict |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for env in envs:
        v, backend = env.versions, env.backend
        backend_cell = f"{backend} {v[backend]}" if backend != "tensorflow" and v.get(backend) else backend
        tf_cell = v.get("tensorflow", "?" if backend == "tensorflow" else "\u2014")
        lines.append(
            f"| {env.name} | {backend_cell} | {tf_cell} | {v.get('keras', '?')} | {v.get('keras_api', '?')} "
            f"| {_cell(env.totals('tests'))} | {_cell(env.totals('battery'))} | {_secs(env.test_seconds)} "
            f"| {_secs(env.battery_seconds)} | {_secs(env.wall_seconds)} | {'ok' if env.ok else '**red**'} |")
    specs: "OrderedDict[str, None]" = OrderedDict()
    for env in envs:
        for spec in env.battery:
            specs.setdefault(spec, None)
    header = "| spec | " + " | ".join(e.name for e in envs) + " |"
    rule = "|---|" + "---|" * len(envs)
    if specs:
        lines += ["", "## Battery: spec \u00d7 environment", "", header, rule]
        for spec in specs:
            lines.append(f"| `{spec}` | " + " | ".join(_verdict(e.battery.get(spec), e.findings.get(spec, ()))
                                                      for e in envs) + " |")
        lines += ["", "### Counts per check", "", header, rule]
        for spec in specs:
            lines.append(f"| `{spec}` | " + " | ".join(_cell(e.battery.get(spec)) for e in envs) + " |")
    modules: "OrderedDict[str, None]" = OrderedDict()
    for env in envs:
        for module in env.tests:
            modules.setdefault(module, None)
    if modules:
        lines += ["", "## Test suite (`pytest`): module \u00d7 environment", "",
                  header.replace("| spec |", "| module |"), rule]
        for module in modules:
            lines.append(f"| `{module}` | " + " | ".join(_cell(e.tests.get(module)) for e in envs) + " |")
    noted = [(e.name, k, w, t) for e in envs for k, w, t in e.notes]
    lines += ["", "## Expected failures, failures and errors", ""]
    if noted:
        lines += ["| env | status | where | reason / message |", "|---|---|---|---|"]
        for name, kind, where, text in noted:
            lines.append(f"| {name} | {kind} | `{where}` | {text} |")
    else:
        lines.append("None.")
    problems = [(e.name, m) for e in envs for m in e.missing]
    if problems:
        lines += ["", "## Missing results", ""] + [f"- {name}: {m}" for name, m in problems]
    if howto:
        lines += ["", DISTRIBUTED_HOWTO.rstrip("\n")]
    return "\n".join(lines) + "\n"


def write_table(results_dir: Union[str, Path, Sequence[Union[str, Path]]], out: Union[str, Path, None] = None, *,
                note: str = "", when: Optional[str] = None, expect: Sequence[str] = ()) -> list[EnvResult]:
    """Read one results folder or several and write the markdown table to ``out`` (stdout when ``None`` or ``-``).

    Returns the environments read, so a caller can decide its exit status.
    Raises what :func:`load_results` raises.
    """
    folders = [results_dir] if isinstance(results_dir, (str, Path)) else list(results_dir)
    envs = load_results(*folders, expect=expect)
    text = render(envs, note=note, when=when)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
    else:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    return envs


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``matrix`` subcommand to ``initcheck``'s subparsers."""
    p = sub.add_parser("matrix", help="summarise a tox matrix run (ENV.xml / ENV.json) as a markdown table; "
                       "or write the CI workflow that runs it (--workflow)")
    p.add_argument("results_dirs", metavar="RESULTS_DIR", nargs="*",
                   help="folder(s) the tox environments wrote to (.tox/results), or the artifact folders of a "
                        "CI run (artifacts/results-*); merged into one table, an environment in two folders is "
                        "an error")
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="markdown file to write (default stdout)")
    p.add_argument("--expect", default="", metavar="ENV,ENV",
                   help="environments that should have results: one found in no folder is listed red as missing")
    p.add_argument("--workflow", metavar="FILE",
                   help="instead of a table, write the GitHub Actions workflow with one job per tox environment "
                        "(.github/workflows/matrix.yml; '-': stdout)")
    p.add_argument("--tox-ini", default="tox.ini", metavar="FILE",
                   help="the tox.ini whose environments --workflow reads (default ./tox.ini)")
    p.add_argument("--note", default="", help="a paragraph put under the title (e.g. the machine and the date)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when an environment is red (a failure, an unexpected pass or a missing file)")
    return p


def _run_workflow(args: argparse.Namespace) -> int:
    """``initcheck matrix --workflow FILE``: write the CI workflow; 0, or 2 on bad input."""
    from .ci_workflow import write_workflow

    if args.results_dirs:
        print("initcheck matrix: --workflow writes the workflow and reads no results folder; "
              f"drop {' '.join(args.results_dirs)}", file=sys.stderr)
        return 2
    command = f"initcheck matrix --workflow {args.workflow}"
    if args.tox_ini != "tox.ini":
        command += f" --tox-ini {args.tox_ini}"
    try:
        envs = write_workflow(args.workflow, args.tox_ini, command=command)
    except (FileNotFoundError, ValueError) as exc:
        print(f"initcheck matrix: {exc}", file=sys.stderr)
        return 2
    target = "stdout" if args.workflow == "-" else args.workflow
    print(f"{len(envs.all)} job(s) ({len(envs.default)} from env_list, {len(envs.declared)} declared, "
          f"continue-on-error) + the table job -> {target}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``matrix`` subcommand; 0 on success, 1 when ``--strict`` and a run was red, 2 on bad input."""
    if getattr(args, "workflow", None):
        return _run_workflow(args)
    expect = [name.strip() for name in (getattr(args, "expect", "") or "").split(",") if name.strip()]
    try:
        envs = write_table(args.results_dirs, args.output, note=args.note, expect=expect)
    except (FileNotFoundError, ValueError) as exc:
        print(f"initcheck matrix: {exc}", file=sys.stderr)
        return 2
    red = [e.name for e in envs if not e.ok]
    target = "stdout" if args.output in (None, "-") else args.output
    print(f"{len(envs)} environment(s) -> {target}; red: {', '.join(red) or 'none'}", file=sys.stderr)
    return 1 if (args.strict and red) else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m initcheck.reports.tf_matrix RESULTS_DIR... -o FILE`` (or ``--workflow FILE``)."""
    parser = argparse.ArgumentParser(prog="initcheck matrix", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    return run(parser.parse_args(["matrix", *(argv if argv is not None else sys.argv[1:])]))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
