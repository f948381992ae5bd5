"""``initcheck findings``: am I affected?  The declared findings against the installed versions.

Every finding in TensorFlow/Keras that initcheck declares is data in
:mod:`initcheck.builtin.findings`: the :class:`~initcheck.spec.ExpectedFailure`
the specs carry (with the versions where it holds) and a catalogue entry
around it (:class:`~initcheck.builtin.findings.Finding`: summary, affected
objects, mechanism, upstream status) with a standalone reproduction,
``initcheck/builtin/repros/<id>.py``.  This module puts them together:

* :func:`collect` -- one :class:`Row` per finding: the catalogue's entries,
  then every plugin's own expected failure without one (id ``<spec>:<check>``),
  each with the specs and checks that declare it (read from the registry,
  never typed) and whether it holds on the installed versions (package
  metadata, no TensorFlow import);
* :func:`verify` -- runs the reproductions, each in a fresh interpreter, and
  compares their exit status with the declared versions, so a wrong range or
  "fixed in" shows against real releases (every tox environment runs
  ``initcheck findings --verify``);
* :func:`render_text`, :func:`render_json`, :func:`render_markdown` -- the
  listing, the same for tools, and docs/findings.md.

    initcheck findings [ID ...] [--affected] [--json]
    initcheck findings --repro ID | --write DIR
    initcheck findings --verify [--python PYTHON] [--jobs N] [--json]
    initcheck findings --markdown > docs/findings.md

Importing this module imports no TensorFlow; listing loads the registry, whose
built-in specs do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .. import keras_compat as kc
from ..builtin.findings import CATALOGUE, Finding
from ..spec import ExpectedFailure, declarations

__all__ = ["Row", "Verdict", "collect", "repro_source", "write_repros", "distributions", "installed_versions",
           "environment_label", "verify", "render_text", "render_json", "render_markdown", "add_parser", "run"]

#: What a reproduction's exit status means.
PRESENT, ABSENT = 1, 0


# ====================================================================== the rows

@dataclass
class Row:
    """One finding as listed: a catalogue entry, or a plugin's own expected failure without one."""

    id: str
    declaration: ExpectedFailure
    #: ``(spec qualname, check)`` pairs whose expected failure is this declaration.
    declared_on: list[tuple[str, str]] = field(default_factory=list)
    entry: Optional[Finding] = None
    holds: bool = False

    @property
    def summary(self) -> str:
        return self.entry.summary if self.entry else self.declaration.reason

    @property
    def versions(self) -> str:
        return self.declaration.versions

    @property
    def checks(self) -> list[str]:
        return sorted({check for _, check in self.declared_on})

    @property
    def specs(self) -> list[str]:
        return list(dict.fromkeys(spec for spec, _ in self.declared_on))

    def to_dict(self) -> dict[str, Any]:
        e = self.entry
        return {"id": self.id, "summary": self.summary, "objects": list(e.objects) if e else [],
                "versions": self.declaration.versions, "holds_here": self.holds,
                "fixed_in": e.fixed_in if e else "", "checks": self.checks, "specs": self.specs,
                "declared_on": [list(p) for p in self.declared_on], "source": "catalogue" if e else "plugin",
                "reason": self.declaration.reason, "evidence": self.declaration.evidence,
                "upstream": e.upstream if e else "", "repro": e.repro if e else None,
                "pending": e.pending if e else ""}


def collect(specs: Iterable[tuple[str, Any]], installed: Mapping[str, str],
            catalogue: Sequence[Finding] = CATALOGUE) -> list[Row]:
    """The findings declared by ``specs`` (``(qualname, spec)`` pairs), catalogue first.

    A declaration is matched to its catalogue entry by equality, so a plugin
    that reuses a built-in finding (``early_keras3_findings``) is listed under
    it; a plugin's own declaration gets the id ``<spec>:<check>`` of its first
    use.  Catalogue entries no spec declares yet are listed with no checks.
    """
    groups: list[tuple[ExpectedFailure, list[tuple[str, str]]]] = []
    for qualname, spec in specs:
        for check in spec.expected_failures:
            for declaration in declarations(spec.expected_failures[check]):
                for known, pairs in groups:
                    if known == declaration:
                        pairs.append((qualname, check))
                        break
                else:
                    groups.append((declaration, [(qualname, check)]))
    rows = [Row(e.id, e.declaration, next((p for d, p in groups if d == e.declaration), []), e) for e in catalogue]
    catalogued = [e.declaration for e in catalogue]
    rows += [Row(f"{pairs[0][0]}:{pairs[0][1]}", d, pairs) for d, pairs in groups if d not in catalogued]
    for row in rows:
        row.holds = row.declaration.applies(installed)
    return rows


def _registry_rows(args: argparse.Namespace) -> tuple[list[Row], Mapping[str, str], list]:
    from ..registry import load_registry

    installed = with_backend(kc.versions_from_metadata())
    registry = load_registry()
    rows = collect(((r.qualname, r.spec) for r in registry.specs.values()), installed)
    return _select(rows, args), installed, registry.errors


def _select(rows: list[Row], args: argparse.Namespace) -> list[Row]:
    wanted = set(getattr(args, "ids", None) or ())
    unknown = wanted - {r.id for r in rows}
    if unknown:
        raise KeyError(f"unknown finding id(s) {sorted(unknown)}; `initcheck findings` lists them")
    return [r for r in rows if (not wanted or r.id in wanted) and (r.holds or not getattr(args, "affected", False))]


# ====================================================================== the reproductions

def _repros() -> Any:
    return resources.files("initcheck.builtin").joinpath("repros")


def _repros_dir() -> str:
    return str(Path(__file__).resolve().parent.parent / "builtin" / "repros")


def repro_source(entry: Finding) -> str:
    """The text of ``entry``'s reproduction (package data)."""
    return _repros().joinpath(entry.repro).read_text(encoding="utf-8")


def write_repros(directory: str, entries: Sequence[Finding] = CATALOGUE) -> list[Path]:
    """Write every reproduction into ``directory`` (created); returns the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in entries:
        path = out / entry.repro
        path.write_text(repro_source(entry), encoding="utf-8")
        paths.append(path)
    return paths


_METADATA_SNIPPET = (
    "import json, sys\nfrom importlib import metadata\n"
    "def v(name):\n    try:\n        return metadata.version(name)\n"
    "    except metadata.PackageNotFoundError:\n        return None\n"
    "print(json.dumps({n: v(n) for n in sys.argv[1:]}))\n")


def distributions(python: Optional[str] = None, extra: Sequence[str] = ()) -> dict[str, Optional[str]]:
    """Versions of the TensorFlow/Keras distributions of ``python`` (default: this interpreter), or None.

    ``extra`` names more distributions to read (a Keras backend's: ``jax``, ``torch``)."""
    names = (*kc.METADATA_DISTRIBUTIONS, *extra)
    if python is None:
        def version(name: str) -> Optional[str]:
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                return None

        return {name: version(name) for name in names}
    # cwd: a folder of ours, so no module in the caller's folder shadows the standard library for `-c`.
    proc = subprocess.run([python, "-c", _METADATA_SNIPPET, *names], cwd=_repros_dir(), capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout)


def installed_versions(python: Optional[str] = None) -> Mapping[str, str]:
    """``{"tensorflow": ..., "keras": ...}`` of ``python`` (default: this interpreter), from package metadata.

    Another interpreter is asked for its distributions' versions only; which
    Keras is in use is decided here by :func:`initcheck.keras_compat.versions_from_metadata`
    (``TF_USE_LEGACY_KERAS`` from this environment, which the reproductions inherit).
    """
    return with_backend(kc.versions_from_metadata(lookup=distributions(python).get))


def with_backend(installed: Mapping[str, str]) -> Mapping[str, str]:
    """``installed`` plus the ``backend`` Keras 3 would run on in this environment (which the reproductions
    inherit), so a declaration scoped to a backend (``ExpectedFailure.backends``) is judged there."""
    out = dict(installed)
    if out.get("keras_api") == "3":
        out["backend"] = kc.backend_from(os.environ, keras_api="3")
        if out["backend"] == "jax":  # the reproductions inherit JAX_ENABLE_X64 too (kc.x64_enabled reads it)
            out["jax_x64"] = kc.jax_x64_setting()
    return out


def environment_label(dists: Mapping[str, Optional[str]], legacy: bool, backend: str = "tensorflow",
                      x64: bool = False) -> str:
    """The environment in words, from distribution versions and the Keras 3 backend in use.

    ``TF 2.21.0 + Keras 3.15.1``; ``TF 2.21.0 + tf_keras 2.21.0 (TF_USE_LEGACY_KERAS=1)``; on another backend
    ``TF 2.21.0 + Keras 3.15.1 (KERAS_BACKEND=jax)``, or without TensorFlow installed
    ``Keras 3.15.1 + jax 0.10.2 (KERAS_BACKEND=jax, no TensorFlow)`` (the backend's version from ``dists``);
    ``x64`` (JAX only) adds ``JAX_ENABLE_X64=1``.
    """
    tf = dists.get("tensorflow") or dists.get("tensorflow-cpu")
    keras = dists.get("keras") or "?"
    if backend != "tensorflow":
        setting = f"KERAS_BACKEND={backend}" + (", JAX_ENABLE_X64=1" if backend == "jax" and x64 else "")
        if tf is None:
            return f"Keras {keras} + {backend} {dists.get(backend) or '?'} ({setting}, no TensorFlow)"
        return f"TF {tf} + Keras {keras} ({setting})"
    if legacy and (dists.get("tf-keras") or dists.get("tf_keras")):
        return f"TF {tf or '?'} + tf_keras {dists.get('tf-keras') or dists.get('tf_keras')} (TF_USE_LEGACY_KERAS=1)"
    return f"TF {tf or '?'} + Keras {keras}"


_TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Verdict:
    """One reproduction run: its exit status against the one its declared versions predict."""

    id: str
    versions: str
    expected: int
    exit: Optional[int]  # None: timed out
    seconds: float
    output: str
    stderr_tail: str = ""

    @property
    def crashed(self) -> bool:
        return self.exit not in (PRESENT, ABSENT) or _TRACEBACK in self.stderr_tail

    @property
    def agrees(self) -> bool:
        return not self.crashed and self.exit == self.expected

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "versions": self.versions, "expected": self.expected, "exit": self.exit,
                "agrees": self.agrees, "crashed": self.crashed, "seconds": round(self.seconds, 1),
                "output": self.output, "stderr_tail": self.stderr_tail if self.crashed else ""}


def _run_repro(entry: Finding, python: str, installed: Mapping[str, str], timeout: float) -> Verdict:
    expected = PRESENT if entry.declaration.applies(installed) else ABSENT
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", **os.environ}
    start = time.perf_counter()
    with resources.as_file(_repros().joinpath(entry.repro)) as path:
        try:
            proc = subprocess.run([python, str(path)], capture_output=True, text=True, env=env, timeout=timeout,
                                  cwd=path.parent)
            code, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired:
            code, out, err = None, "", f"timed out after {timeout:g}s"
    lines = err.strip().splitlines()
    tail = "\n".join(lines[-12:])
    if _TRACEBACK in err and _TRACEBACK not in tail:  # a long traceback: keep its header, or a crash exiting 1 agrees
        tail = "\n".join([_TRACEBACK + ":", "..."] + lines[-10:])
    return Verdict(entry.id, entry.versions, expected, code, time.perf_counter() - start, out.strip(), tail)


def verify(entries: Sequence[Finding] = CATALOGUE, python: Optional[str] = None, jobs: int = 1,
           timeout: float = 600.0, progress: Optional[Callable[[Verdict], None]] = None,
           installed: Optional[Mapping[str, str]] = None) -> list[Verdict]:
    """Run every reproduction with ``python`` (default this one) and compare with the declared versions.

    A reproduction agrees when it exits 1 where its finding's versions hold
    (on ``installed``, default ``python``'s) and 0 where they do not; a crash
    (a traceback, another status, a timeout) never agrees.  ``jobs``
    reproductions run at a time; the verdicts come back in catalogue order.
    """
    installed = installed_versions(python) if installed is None else installed
    exe = python or sys.executable

    def one(entry: Finding) -> Verdict:
        verdict = _run_repro(entry, exe, installed, timeout)
        if progress is not None:
            progress(verdict)
        return verdict

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, entries))


# ====================================================================== rendering

def _versions_text(versions: str) -> str:
    """The declared versions as read (``||`` alternatives as "or": a ``|`` would also split a Markdown table)."""
    return " or ".join(alt.strip() for alt in versions.split("||")).strip() or "all"


def _installed_text(installed: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in installed.items()) or "no TensorFlow/Keras found"


def render_text(rows: Sequence[Row], installed: Mapping[str, str]) -> str:
    """The listing: two lines per finding (id, holds, versions, fix, checks; summary and specs)."""
    lines = [f"{'finding':40s} {'holds':5s} {'versions':22s} {'fixed in':16s} detected by"]
    for r in rows:
        checks = r.checks
        detected = (checks[0] + (f" (+{len(checks) - 1})" if len(checks) > 1 else "")) if checks else "none yet"
        fixed = (r.entry.fixed_in if r.entry else "") or "-"
        lines.append(f"{r.id:40s} {'yes' if r.holds else 'no':5s} {_versions_text(r.versions):22s} "
                     f"{fixed.split(' (')[0]:16s} {detected}")
        lines.append(f"    {r.summary}")
        if r.entry is not None and r.entry.pending:
            lines.append(f"    not declared on a spec yet: detected by {r.entry.pending}")
        elif r.declared_on:
            specs = r.specs
            lines.append(f"    declared on {len(specs)} spec(s): {', '.join(specs[:4])}"
                         + (f", ... ({', '.join(checks)})" if len(specs) > 4 else f" ({', '.join(checks)})"))
    holding = sum(r.holds for r in rows)
    lines.append(f"{len(rows)} finding(s), {holding} hold on the installed versions ({_installed_text(installed)}, "
                 "from package metadata); `initcheck findings --repro ID` prints a reproduction")
    return "\n".join(lines)


def render_json(rows: Sequence[Row], installed: Mapping[str, str], load_errors: Sequence[Any] = ()) -> str:
    return json.dumps({"installed": dict(installed), "findings": [r.to_dict() for r in rows],
                       "load_errors": [e.describe() for e in load_errors]}, indent=1)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def _builtin_rows() -> list[Row]:
    """The catalogue with the checks the built-in specs declare each on (no plugin, no installed versions)."""
    from ..builtin import initializers, optimizers
    from ..registry import qualified_name

    specs = [*initializers.builtin_specs(every_backend=True), *optimizers.builtin_specs(every_release=True)]
    return [r for r in collect(((qualified_name(s, "keras"), s) for s in specs), {}) if r.entry is not None]


_INTRO = """\
<!-- Generated: `initcheck findings --markdown --measured docs/data/findings/*.json > docs/findings.md`
     from initcheck/builtin/findings.py (declarations and catalogue), initcheck/builtin/repros/ and the
     `initcheck findings --verify --json` records in docs/data/findings/: edit those, then regenerate. -->

# Findings in TensorFlow and Keras

Each finding is a declared, versioned expected failure (`initcheck/builtin/findings.py`) that the
built-in specs carry on the checks it breaks: the check stays in the gate as a *strict* xfail, so
a fix in TensorFlow/Keras turns it into an XPASS that fails the run until the declaration is
removed. Each has a standalone reproduction (plain TensorFlow/Keras/NumPy, no initcheck) that
prints its numbers and exits 1 when the bug is present, 0 when it is absent or not applicable.

    initcheck findings --affected           # which of these hold on the installed versions
    initcheck findings --repro ID           # print one reproduction; --write DIR writes them all
    initcheck findings --verify             # run every reproduction, compare with the declared versions

`--verify` runs in every tox environment, so each declared range (and "fixed in") is checked
against real releases; it exits 1 naming every finding whose reproduction disagrees. The
measured tables below are the reproductions' own output, recorded with `--verify --json`.
"""

_OUTRO = """\
## Notes

The fan findings hold for Keras's own convention, which the example plugin's `LaplaceLecun`
shares (it declares its own expected failures; `initcheck findings` lists them under
generated ids). `fan_avg` on transposed convolutions is unaffected (the average is symmetric).

Capabilities absent (spec tag ranges, not failures): `tf.train.Checkpoint` of a Keras 3.0.x
optimizer (not a TF Trackable before 3.1.0: `checkpoint` is `keras!=3.0.*`),
`gradient_accumulation_steps` before 3.0.2. See docs/optimizers.md (the optimizer battery's own
findings) and docs/compat.md ("Keras 2 conventions").
"""


def _status_cell(v: Mapping[str, Any]) -> str:
    if v["agrees"]:
        return f"{v['exit']} ok"
    return f"{v['exit']} **{'CRASH' if v['crashed'] else 'DISAGREES'}** (expected {v['expected']})"


def render_markdown(rows: Optional[Sequence[Row]] = None, measured: Sequence[Mapping[str, Any]] = ()) -> str:
    """docs/findings.md: summary, verification table, one section per finding (pasteable upstream).

    Built from the catalogue, the built-in specs and ``measured`` (the JSON
    that ``initcheck findings --verify --json`` writes, one per environment)
    only, so the page is the same on every installation.
    """
    rows = _builtin_rows() if rows is None else rows
    out = [_INTRO, "## Summary", "", "| finding | summary | versions (declared) | fixed in | detected by |",
           "|---|---|---|---|---|"]
    for r in rows:
        e = r.entry
        assert e is not None
        detected = ", ".join(f"`{c}`" for c in r.checks) or f"pending: {e.pending}"
        out.append(f"| [`{r.id}`](#{r.id}) | {_cell(e.summary)} | `{_versions_text(r.versions)}` | "
                   f"{_cell(e.fixed_in or '-')} | {_cell(detected)} |")
    verdicts = [{v["id"]: v for v in m["verdicts"]} for m in measured]
    if measured:
        out += ["", "## Verification", "",
                "Exit status of each reproduction (1: the bug is present) and whether it agrees with the "
                "declared versions (`initcheck findings --verify --json`, files in docs/data/findings/):", "",
                "| finding | " + " | ".join(_cell(m["environment"]) for m in measured) + " |",
                "|---|" + "---|" * len(measured)]
        for r in rows:
            out.append(f"| `{r.id}` | " + " | ".join(_status_cell(v[r.id]) if r.id in v else "not run"
                                                      for v in verdicts) + " |")
        out.append("| seconds (all, --jobs) | " + " | ".join(f"{m['seconds']:.0f} (-j {m['jobs']})"
                                                          for m in measured) + " |")
    for r in rows:
        e = r.entry
        assert e is not None
        # Checks, not specs: which built-in specs exist depends on the Keras release (Lion, Lamb).
        detected = ", ".join(f"`{c}`" for c in r.checks) or f"no spec yet; pending: {e.pending}"
        out += ["", f"## `{r.id}`", "", f"{e.summary}.", "", "| | |", "|---|---|",
                f"| affected | {_cell(', '.join(e.objects))} |",
                f"| versions (declared) | `{_versions_text(r.versions)}` |",
                f"| fixed in | {_cell(e.fixed_in or 'not fixed')} |",
                f"| detected by | {_cell(detected)} |",
                f"| upstream | {_cell(e.upstream)} |",
                "", f"**Declared.** {r.declaration.reason}.", "", f"**Evidence.** {r.declaration.evidence}.",
                "", f"**Mechanism.** {e.mechanism}", "",
                f"**Reproduction** (`initcheck findings --repro {r.id}`):", "", "```python",
                repro_source(e).rstrip("\n"), "```"]
        ran = [(m["environment"], v[r.id]) for m, v in zip(measured, verdicts) if r.id in v]
        if ran:
            out += ["", "**Measured** (the reproduction's exit status and output):", "",
                    "| environment | exit | output |", "|---|---|---|"]
            out += [f"| {_cell(env)} | {_status_cell(v)} | {_cell(v['output'])} |" for env, v in ran]
    out += ["", _OUTRO]
    return "\n".join(out)


# ====================================================================== the command

def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``findings`` subcommand to ``initcheck``'s subparsers."""
    p = sub.add_parser("findings", help="the declared TensorFlow/Keras findings: which hold here, reproductions",
                       description="List the declared findings in TensorFlow/Keras (built-ins and plugins), "
                                   "which hold on the installed versions, and their reproductions.")
    p.add_argument("ids", nargs="*", metavar="ID", help="only these findings (ids as listed)")
    p.add_argument("--affected", action="store_true", help="only the findings that hold on the installed versions")
    p.add_argument("--json", action="store_true", help="JSON on stdout (the listing, or the --verify verdicts)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--repro", metavar="ID", help="print the standalone reproduction of finding ID")
    mode.add_argument("--write", metavar="DIR", help="write every reproduction into DIR as <id>.py")
    mode.add_argument("--verify", action="store_true",
                      help="run every reproduction in a subprocess; exit 1 naming each finding whose exit status "
                           "disagrees with its declared versions")
    mode.add_argument("--markdown", action="store_true", help="print docs/findings.md (generated from the data)")
    p.add_argument("--measured", nargs="+", default=(), metavar="FILE",
                   help="with --markdown: --verify --json files to show (docs/data/findings/*.json)")
    p.add_argument("--python", default=None, metavar="PYTHON",
                   help="with --verify: run the reproductions with this interpreter (and judge by its versions)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="with --verify: reproductions at a time")
    p.add_argument("--timeout", type=float, default=600.0, metavar="S", help="with --verify: seconds per reproduction")
    return p


def _catalogue_selection(args: argparse.Namespace) -> list[Finding]:
    wanted = set(args.ids or ())
    unknown = wanted - {e.id for e in CATALOGUE}
    if unknown:
        raise KeyError(f"no reproduction for {sorted(unknown)}: only catalogue findings have one "
                       f"({', '.join(e.id for e in CATALOGUE)})")
    entries = [e for e in CATALOGUE if not wanted or e.id in wanted]
    if args.affected:
        installed = installed_versions(args.python)
        entries = [e for e in entries if e.declaration.applies(installed)]
    return entries


def _cmd_verify(args: argparse.Namespace) -> int:
    entries = _catalogue_selection(args)
    dists = distributions(args.python)
    installed = with_backend(kc.versions_from_metadata(lookup=dists.get))
    backend = installed.get("backend", "tensorflow")
    if backend != "tensorflow":
        dists = distributions(args.python, extra=(backend,))
    environment = environment_label(dists, kc.legacy_requested(), backend, installed.get("jax_x64") == "on")
    where = args.python or sys.executable
    log = sys.stderr if args.json else sys.stdout
    print(f"verifying {len(entries)} reproduction(s) on {environment} ({where}; declared ranges read as "
          f"{_installed_text(installed)})", file=log, flush=True)

    def progress(v: Verdict) -> None:
        status = "ok" if v.agrees else ("CRASH" if v.crashed else "DISAGREE")
        print(f"{status:8s} {v.id:40s} declared {_versions_text(v.versions)!r}: expected exit {v.expected}, "
              f"got {v.exit} ({v.seconds:.1f}s)", file=log, flush=True)

    start = time.perf_counter()
    verdicts = verify(entries, args.python, args.jobs, args.timeout, progress, installed)
    seconds = time.perf_counter() - start
    bad = [v for v in verdicts if not v.agrees]
    for v in bad:
        print(f"--- {v.id}: exit {v.exit}, expected {v.expected} (declared {_versions_text(v.versions)!r})\n"
              f"{v.output}\n{v.stderr_tail if v.crashed else ''}".rstrip(), file=log)
    print(f"{len(verdicts) - len(bad)} agree, {len(bad)} disagree in {seconds:.0f}s"
          + (f": {', '.join(v.id for v in bad)}" if bad else ""), file=log)
    if args.json:
        print(json.dumps({"environment": environment, "installed": dict(installed), "distributions": dists,
                          "python": where, "jobs": args.jobs, "seconds": round(seconds, 1),
                          "verdicts": [v.to_dict() for v in verdicts]}, indent=1))
    return 1 if bad else 0


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``findings`` subcommand: 0 fine, 1 a disagreement or a load error, 2 bad input."""
    try:
        if args.repro is not None:
            from ..builtin.findings import catalogue_entry

            sys.stdout.write(repro_source(catalogue_entry(args.repro)))
            return 0
        if args.write is not None:
            paths = write_repros(args.write, _catalogue_selection(args))
            print(f"wrote {len(paths)} reproduction(s) to {args.write}", file=sys.stderr)
            return 0
        if args.verify:
            return _cmd_verify(args)
        if args.markdown:
            measured = [json.loads(Path(f).read_text(encoding="utf-8")) for f in args.measured]
            sys.stdout.write(render_markdown(measured=measured))
            return 0
        rows, installed, errors = _registry_rows(args)
    except KeyError as exc:
        print(f"initcheck findings: {exc.args[0]}", file=sys.stderr)
        return 2
    print(render_json(rows, installed, errors) if args.json else render_text(rows, installed))
    for err in errors:
        print(f"LOAD ERROR {err.label}: {err.error}", file=sys.stderr)
    return 1 if errors else 0
