"""The results of a run: the document ``initcheck check --json`` writes and the HTML report reads,
and the JSON and JUnit XML writers that keep it valid at every point of the run.

Cheap to import (no NumPy, no TensorFlow, nothing else of initcheck): the CLI
and the pytest plugin both build records through :func:`outcome_record` and
the document's header through :func:`results_document`, so the two never
drift apart, and ``initcheck report`` reads it back with :func:`read_results`.

Document::

    {"format": 1, "profile": "ci", "generated": ISO-8601 UTC,
     "versions": {"tensorflow", "keras", "keras_api", "python", "platform"},
     "budget": {"false_fail_run", "false_pass", "max_assertions", "alpha", "beta"}, "timeout": float,
     "outcomes": [{"spec", "check", "kind", "family", "status", "seconds", "message", "reproduce",
                   "expected_failure": {"reason", "versions", "evidence"} | null,
                   "blocked_by": {"check", "status"} | null,
                   "evidence": [Evidence.to_dict(), ...]}],
     "load_errors": [str, ...], "load_warnings": [str, ...], "seconds": float,
     "interrupted": bool, "complete": bool}

``evidence[i]["data"]["figure"]`` holds the bounded figure data of
:mod:`initcheck.checks.figure_data`.  ``kind``, ``family``, ``reproduce``,
``expected_failure``, ``blocked_by``, ``budget``, ``generated``, ``seconds`` and the
Python/platform versions are newer than the first documents; readers treat
them as optional.

Written as the run goes: ``initcheck check --json FILE`` and ``--junitxml
FILE`` append each outcome the moment it is known and rewrite the file's
closing part after it, so an interrupted run (Ctrl-C, a kill, a CI time
limit) leaves a complete, parseable report of everything that ran, marked
``"complete": false`` (JSON) or ``<properties>`` ``complete=false`` (JUnit).
Appending costs one small write per outcome (no rewrite of what is already
there).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union
from xml.sax.saxutils import escape, quoteattr

__all__ = ["STATUSES", "BAD", "FORMAT", "outcome_record", "results_document", "expected_failure_record",
           "read_results", "JsonStream", "JUnitStream", "RECORD_FIELDS"]

FORMAT = 1
#: Every status an outcome can have, in the order summaries list them (``blocked``: not run because its
#: spec's contract check failed or timed out; ``not_applicable``: not run because it needs a capability the
#: backend Keras runs on lacks, the message says which; ``skipped``: skipped by pytest).
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "xfailed", "xpassed", "blocked", "not_applicable",
                             "skipped")
#: Statuses that make a run red (``xpassed``: a strict expected failure that did not happen).
BAD: tuple[str, ...] = ("failed", "error", "xpassed")
#: Fields of one outcome record.
RECORD_FIELDS = ("spec", "check", "kind", "family", "status", "seconds", "message", "reproduce",
                 "expected_failure", "blocked_by", "evidence")


def expected_failure_record(xf: Any) -> Optional[dict[str, str]]:
    """``{"reason", "versions", "evidence"}`` of a declared expected failure (``None`` passes through)."""
    if xf is None:
        return None
    return {"reason": str(getattr(xf, "reason", xf)), "versions": str(getattr(xf, "versions", "") or ""),
            "evidence": str(getattr(xf, "evidence", "") or "")}


def outcome_record(spec: str, check: Any, status: str, seconds: float, message: str, evidence: Iterable[Any],
                   expected_failure: Any = None, blocked_by: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """One outcome as plain data; ``check`` is a registered :class:`~initcheck.checks.Check`; ``blocked_by``
    (a ``blocked`` outcome) names the prerequisite check and its status (``failed``, ``xfailed``,
    ``timed_out``...)."""
    return {"spec": spec, "check": check.name, "kind": check.kind, "family": check.family, "status": status,
            "seconds": round(float(seconds), 3), "message": message,
            "expected_failure": expected_failure_record(expected_failure),
            "blocked_by": dict(blocked_by) if blocked_by else None,
            "evidence": [e.to_dict() if hasattr(e, "to_dict") else dict(e) for e in evidence]}


def results_document(profile: str, versions: Mapping[str, Any], outcomes: Sequence[dict[str, Any]],
                     load_errors: Sequence[str], seconds: Optional[float] = None,
                     budget: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """The whole run as one JSON-able dict (the Python version and platform are added here)."""
    full = {k: str(v) for k, v in dict(versions).items()}
    full.setdefault("python", platform.python_version())
    full.setdefault("platform", platform.platform())
    doc: dict[str, Any] = {
        "format": FORMAT, "profile": profile,
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": full, "outcomes": list(outcomes), "load_errors": [str(e) for e in load_errors]}
    if seconds is not None:
        doc["seconds"] = round(float(seconds), 2)
    if budget is not None:
        doc["budget"] = dict(budget)
    return doc


def read_results(path: Union[str, Path]) -> dict[str, Any]:
    """A saved results document; ``ValueError`` naming the file when it is not one."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("outcomes"), list):
        raise ValueError(f"{path} is not an `initcheck check --json` file (no outcomes list)")
    return doc


class _Appender:
    """A file whose tail (everything after the records) is rewritten after every append."""

    def __init__(self, path: str):
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self._fh = open(path, "w+", encoding="utf-8")
        self._body_end = 0

    def start(self, head: str, tail: str) -> None:
        self._fh.write(head)
        self._body_end = self._fh.tell()
        self._write_tail(tail)

    def append(self, text: str, tail: str) -> None:
        self._fh.seek(self._body_end)
        self._fh.write(text)
        self._body_end = self._fh.tell()
        self._write_tail(tail)

    def _write_tail(self, tail: str) -> None:
        self._fh.seek(self._body_end)
        self._fh.write(tail)
        self._fh.truncate()
        self._fh.flush()

    def rewrite_head(self, head: str) -> None:
        """Overwrite the head in place; ``head`` must have the length of the first one."""
        self._fh.seek(0)
        self._fh.write(head)
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class JsonStream:
    """The results document as it grows: the header (everything but the outcomes), the outcomes, then the tail
    (``load_errors``, ``load_warnings``, ``seconds``, ``interrupted``, ``complete``) rewritten after each one.

    ``header`` is typically :func:`results_document` of no outcomes; its
    ``outcomes`` and ``load_errors`` keys are ignored.
    """

    def __init__(self, path: str, header: Mapping[str, Any]):
        self._file = _Appender(path)
        self._n = 0
        self._errors: list[str] = []
        self._warnings: list[str] = []
        self._start = time.perf_counter()
        head = {k: v for k, v in dict(header).items() if k not in ("outcomes", "load_errors")}
        text = json.dumps(head, indent=1)
        head_text = (text[:-2] + ',\n "outcomes": [\n') if head else '{\n "outcomes": [\n'
        self._file.start(head_text, self._tail(False))

    def _tail(self, complete: bool, interrupted: bool = False, seconds: Optional[float] = None) -> str:
        seconds = round(time.perf_counter() - self._start if seconds is None else seconds, 2)
        return ("\n ],\n" + f' "load_errors": {json.dumps(self._errors)},\n'
                + f' "load_warnings": {json.dumps(self._warnings)},\n "seconds": {seconds},\n'
                + f' "interrupted": {json.dumps(interrupted)},\n "complete": {json.dumps(complete)}\n}}\n')

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one outcome record (plain data)."""
        text = (",\n" if self._n else "") + json.dumps(dict(record), sort_keys=False)
        self._n += 1
        self._file.append(text, self._tail(False))

    def close(self, load_errors: Sequence[str] = (), load_warnings: Sequence[str] = (),
              interrupted: bool = False, seconds: Optional[float] = None) -> None:
        """Write the load errors and warnings, the run's ``seconds`` (default: since the stream opened) and
        mark the report complete (or interrupted)."""
        self._errors, self._warnings = list(load_errors), list(load_warnings)
        self._file.append("", self._tail(not interrupted, interrupted, seconds))
        self._file.close()


_JUNIT_STATUS = {"failed": "failure", "xpassed": "failure", "error": "error"}


class JUnitStream:
    """A JUnit XML file in pytest's dialect (``initcheck matrix`` reads both), one ``<testcase>`` per outcome."""

    _HEAD_WIDTH = 240

    def __init__(self, path: str, suite: str = "initcheck"):
        self._file = _Appender(path)
        self._suite = suite
        self._counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        self._start = time.time()
        self._file.start(self._head(), self._tail(False))

    def _head(self) -> str:
        c = self._counts
        tag = (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name={quoteattr(self._suite)} '
               f'tests="{c["tests"]}" failures="{c["failures"]}" errors="{c["errors"]}" skipped="{c["skipped"]}" '
               f'time="{time.time() - self._start:.3f}"')
        return tag + " " * (self._HEAD_WIDTH - len(tag)) + ">\n"

    @staticmethod
    def _tail(complete: bool) -> str:
        return (f'<properties><property name="complete" value="{str(complete).lower()}"/></properties>\n'
                "</testsuite></testsuites>\n")

    def add(self, spec: str, check: str, status: str, seconds: float, message: str = "") -> None:
        """Append one outcome as a ``<testcase>`` (xfailed, blocked and not_applicable are ``<skipped>``, as pytest
        writes them; a not_applicable one carries its reason, "not applicable on <backend>: needs ...")."""
        self._counts["tests"] += 1
        name = quoteattr(f"test_battery[{spec}-{check}]")
        body = ""
        short = quoteattr((message or "").split("\n")[0][:500])
        if status in _JUNIT_STATUS:
            tag = _JUNIT_STATUS[status]
            self._counts["failures" if tag == "failure" else "errors"] += 1
            body = f"<{tag} message={short}>{escape(message)}</{tag}>"
        elif status == "xfailed":
            self._counts["skipped"] += 1
            body = f'<skipped type="pytest.xfail" message={short}>{escape(message)}</skipped>'
        elif status in ("blocked", "not_applicable", "skipped"):
            self._counts["skipped"] += 1
            body = f'<skipped type="pytest.skip" message={short}/>'
        text = (f'<testcase classname="initcheck.battery" name={name} time="{seconds:.3f}">{body}</testcase>\n')
        self._file.append(text, self._tail(False))
        self._file.rewrite_head(self._head())

    def close(self, interrupted: bool = False) -> None:
        self._file.append("", self._tail(not interrupted))
        self._file.rewrite_head(self._head())
        self._file.close()
