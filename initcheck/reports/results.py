"""Run results written as the run goes: a JSON report and a JUnit XML file that stay valid at every point.

``initcheck check --json FILE`` and ``--junitxml FILE`` write through these
writers: each outcome is appended the moment it is known, and the file's
closing part is rewritten after it, so an interrupted run (Ctrl-C, a kill, a
CI time limit) leaves a complete, parseable report of everything that ran,
marked ``"complete": false`` (JSON) or ``<properties>`` ``complete=false``
(JUnit).  Appending costs one small write per outcome (no rewrite of what is
already there).  The records are plain data: this module imports nothing of
initcheck.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

__all__ = ["JsonStream", "JUnitStream", "RECORD_FIELDS"]

#: Fields of one outcome record (``initcheck check --json``).
RECORD_FIELDS = ("spec", "check", "family", "status", "seconds", "message", "reproduce", "evidence")


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
    """``{"profile", "versions", "outcomes": [...], "load_errors", "load_warnings", "complete"}`` as it grows."""

    def __init__(self, path: str, header: Mapping[str, Any]):
        self._file = _Appender(path)
        self._n = 0
        self._errors: list[str] = []
        self._warnings: list[str] = []
        head = json.dumps(dict(header), indent=1)[:-2] + ',\n "outcomes": [\n'
        self._file.start(head, self._tail(False))

    def _tail(self, complete: bool, interrupted: bool = False) -> str:
        return ("\n ],\n" + f' "load_errors": {json.dumps(self._errors)},\n'
                + f' "load_warnings": {json.dumps(self._warnings)},\n'
                + f' "interrupted": {json.dumps(interrupted)},\n "complete": {json.dumps(complete)}\n}}\n')

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one outcome record (plain data)."""
        text = (",\n" if self._n else "") + json.dumps(dict(record), sort_keys=False)
        self._n += 1
        self._file.append(text, self._tail(False))

    def close(self, load_errors: Sequence[str] = (), load_warnings: Sequence[str] = (),
              interrupted: bool = False) -> None:
        """Write the load errors and warnings and mark the report complete (or interrupted)."""
        self._errors, self._warnings = list(load_errors), list(load_warnings)
        self._file.append("", self._tail(not interrupted, interrupted))
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
        """Append one outcome as a ``<testcase>`` (xfailed and blocked are ``<skipped>``, as pytest writes them)."""
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
        elif status in ("blocked", "skipped"):
            self._counts["skipped"] += 1
            body = f'<skipped type="pytest.skip" message={short}/>'
        text = (f'<testcase classname="initcheck.battery" name={name} time="{seconds:.3f}">{body}</testcase>\n')
        self._file.append(text, self._tail(False))
        self._file.rewrite_head(self._head())

    def close(self, interrupted: bool = False) -> None:
        self._file.append("", self._tail(not interrupted))
        self._file.rewrite_head(self._head())
        self._file.close()
