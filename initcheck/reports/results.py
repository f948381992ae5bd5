"""The results document of a run: what ``initcheck check --json`` writes and the HTML report reads.

Cheap to import (no NumPy, no TensorFlow): the CLI and the pytest plugin
both build the document through :func:`outcome_record` and
:func:`results_document`, so the two never drift apart, and
``initcheck report`` reads it back with :func:`read_results`.

Document::

    {"format": 1, "profile": "ci", "generated": ISO-8601 UTC, "seconds": float,
     "versions": {"tensorflow", "keras", "keras_api", "python", "platform"},
     "budget": {"false_fail_run", "false_pass", "max_assertions", "alpha", "beta"},
     "outcomes": [{"spec", "check", "kind", "family", "status", "seconds", "message",
                   "expected_failure": {"reason", "versions", "evidence"} | null,
                   "evidence": [Evidence.to_dict(), ...]}],
     "load_errors": [str, ...]}

``evidence[i]["data"]["figure"]`` holds the bounded figure data of
:mod:`initcheck.checks.figure_data`.  ``kind``, ``family``,
``expected_failure``, ``budget``, ``generated``, ``seconds`` and the
Python/platform versions are newer than the first documents; readers treat
them as optional.
"""

from __future__ import annotations

import datetime
import json
import platform
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

__all__ = ["STATUSES", "BAD", "FORMAT", "outcome_record", "results_document", "expected_failure_record",
           "read_results"]

FORMAT = 1
#: Every status an outcome can have, in the order summaries list them.
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "xfailed", "xpassed", "skipped")
#: Statuses that make a run red (``xpassed``: a strict expected failure that did not happen).
BAD: tuple[str, ...] = ("failed", "error", "xpassed")


def expected_failure_record(xf: Any) -> Optional[dict[str, str]]:
    """``{"reason", "versions", "evidence"}`` of a declared expected failure (``None`` passes through)."""
    if xf is None:
        return None
    return {"reason": str(getattr(xf, "reason", xf)), "versions": str(getattr(xf, "versions", "") or ""),
            "evidence": str(getattr(xf, "evidence", "") or "")}


def outcome_record(spec: str, check: Any, status: str, seconds: float, message: str, evidence: Iterable[Any],
                   expected_failure: Any = None) -> dict[str, Any]:
    """One outcome as plain data; ``check`` is a registered :class:`~initcheck.checks.Check`."""
    return {"spec": spec, "check": check.name, "kind": check.kind, "family": check.family, "status": status,
            "seconds": round(float(seconds), 3), "message": message,
            "expected_failure": expected_failure_record(expected_failure),
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
