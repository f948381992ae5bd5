"""The verdict of one item: :func:`run_one` runs it under a time limit, after its
dependencies, and classifies what happened as one of the statuses every runner
reports:

* ``passed`` / ``failed`` / ``error`` (the check itself crashed);
* ``xfailed``: a failure the spec declared (an :class:`~initcheck.spec.ExpectedFailure`
  for the installed versions whose ``match`` the failure meets), or a known
  consequence of the spec's own declarations
  (:class:`~initcheck.checks.evidence.DeclaredFailure`); a failure of another
  cause stays a failure ("declared expected failure X, but it failed with Y");
* ``xpassed``: a declared failure did not happen; strict, so it counts as a failure;
* ``blocked``: a check it depends on (always the kind's contract check) did
  not pass on this spec, or an earlier check of the spec timed out;
* ``not_applicable``: the check needs a capability (``Check.needs``) that the
  backend Keras runs on lacks ("not applicable on jax: needs tf_checkpoint ..."),
  or every case it draws does (a case's dtype: float64 on JAX without
  ``JAX_ENABLE_X64=1``, :func:`initcheck.keras_compat.case_missing`), or a
  check it depends on is not applicable (for the same reason, named).  Cases
  that cannot run are rejected and replaced by runnable ones; a passing item
  says how many were not run and why.

Outcomes of whole items are cached per process (:func:`reset_run_state` forgets them).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .. import keras_compat
from ..checks import all_checks
from ..checks.evidence import CheckFailure, DeclaredFailure, Evidence, plugin_traceback
from ..spec import Declarations, declarations
from .items import Item, Outcome, reproduce_command
from .options import ENV_TIMEOUT, CheckTimeout, default_timeout, time_limit
from .search import CaseNotApplicable, run_check

__all__ = ["run_one", "expected_failure_for", "not_applicable", "blocked_by", "reset_run_state"]


def expected_failure_for(item: Item) -> Optional[Declarations]:
    """The expected failures declared for this item (the runner's, else the spec's) that hold for the installed
    versions, as one :class:`~initcheck.spec.Declarations`; ``None`` when none holds."""
    if item.expected is not None:
        items = declarations(item.expected)
    else:
        getter = getattr(item.spec, "declarations", None)
        items = getter(item.check.name) if getter else ()
    if not items:
        return None
    return Declarations(tuple(items)).holding(keras_compat.versions())


_OUTCOMES: dict[tuple[str, str, str, int], Outcome] = {}
_TIMED_OUT: dict[str, str] = {}


def reset_run_state() -> None:
    """Forget cached outcomes and timed-out specs (a new run in the same process)."""
    _OUTCOMES.clear()
    _TIMED_OUT.clear()


def not_applicable(item: Item) -> Optional[str]:
    """Why ``item`` has no meaning on the backend Keras runs on, or ``None``: a capability its check needs
    (``Check.needs``) or its spec's object needs (``needs`` of the spec, e.g. ``("tf_ops",)``) is missing."""
    needs = tuple(item.check.needs) + tuple(getattr(item.spec, "needs", ()) or ())
    if not needs:
        return None
    return keras_compat.capability_missing(needs)


def blocked_by(item: Item, profile: str = "ci", timeout: Optional[float] = None) -> Optional[str]:
    """Why ``item`` cannot meaningfully run, or ``None``.

    A check depends on its kind's contract check (and maybe others): when a
    dependency does not pass on the same spec the item is blocked, so a
    broken plugin gives one clear failure, not one per check.  Dependencies
    are run (once per process) when needed.  After a check of a spec timed
    out, the spec's remaining checks are blocked too: the run moves on to the
    next spec instead of hanging once per check.
    """
    verdict = _dependency_verdict(item, profile, timeout)
    return verdict[1] if verdict else None


def _dependency_verdict(item: Item, profile: str,
                        timeout: Optional[float]) -> Optional[tuple[str, str, Optional[dict[str, str]]]]:
    """``(status, reason, blocked_by)`` when a dependency keeps ``item`` from running: ``not_applicable`` when
    the dependency is not applicable on this backend (so is the item, for the same reason), else ``blocked``
    with ``blocked_by = {"check": the dependency, "status": its status}``."""
    if item.qualname in _TIMED_OUT:
        return ("blocked", f"blocked: {_TIMED_OUT[item.qualname]} timed out on {item.qualname} (reported there)",
                {"check": _TIMED_OUT[item.qualname], "status": "timed_out"})
    checks = all_checks(item.check.kind)
    for dep_name in item.check.depends_on:
        dep = checks.get(dep_name)
        if dep is None or not dep.applies(item.spec):
            continue
        outcome = run_one(Item(item.qualname, item.spec, dep), profile, timeout=timeout)
        if outcome.status == "not_applicable":
            return ("not_applicable", f"{outcome.message} (through {dep_name}, which this check depends on)",
                    None)
        if outcome.status not in ("passed", "xpassed"):
            return ("blocked", f"blocked: {dep_name} {outcome.status} on {item.qualname} (reported there)",
                    {"check": dep_name, "status": outcome.status})
    return None


def run_one(item: Item, profile: str = "ci", case: Optional[dict] = None, check_dependencies: bool = True,
            timeout: Optional[float] = None) -> Outcome:
    """Run one item and classify the result (expected failures applied).

    Outcomes of whole runs (no ``case``) are cached per process, so a
    dependency run for one check is not run again for the next.  ``timeout``
    (seconds, default :func:`default_timeout`; 0 for none) bounds the check.
    """
    import time

    key = (item.qualname, item.check.name, profile, id(item.spec))
    if case is None and item.expected is None and key in _OUTCOMES:
        return _OUTCOMES[key]
    limit = default_timeout() if timeout is None else timeout
    start = time.perf_counter()
    reason = not_applicable(item)
    if reason:
        return Outcome(item, "not_applicable", reason, [], time.perf_counter() - start)
    if check_dependencies and case is None:
        verdict = _dependency_verdict(item, profile, limit)
        if verdict:
            return Outcome(item, verdict[0], verdict[1], [], time.perf_counter() - start, blocked_by=verdict[2])
    outcome = _classify(item, profile, case, limit, start)
    if case is None and item.expected is None:
        _OUTCOMES[key] = outcome
    return outcome


def _classify(item: Item, profile: str, case: Optional[dict], limit: float, start: float) -> Outcome:
    import time

    xf = expected_failure_for(item)

    def done(status: str, message: str, evidence: Sequence[Evidence] = ()) -> Outcome:
        return Outcome(item, status, message, list(evidence), time.perf_counter() - start)

    not_run: list[str] = []
    try:
        with time_limit(limit):
            evidence = run_check(item, profile, case, shrink=xf is None, not_run=not_run, expected=xf)
    except CaseNotApplicable as exc:
        return done("not_applicable", str(exc))
    except CheckTimeout as exc:
        _TIMED_OUT[item.qualname] = item.check.name
        return done("failed", f"{item.check.name} {exc} on {item.qualname} (time limit: --timeout, "
                              f"--initcheck-timeout or {ENV_TIMEOUT}); the spec's remaining checks are blocked\n"
                              f"  reproduce: {reproduce_command(item.qualname, item.check.name, case)}")
    except DeclaredFailure as failure:
        return done("xfailed", f"{failure}\n  expected failure (declared by the spec): {failure.expected.reason}"
                               + _not_seen_note(xf, failure.expected), [failure.evidence])
    except CheckFailure as failure:
        if xf is None:
            return done("failed", str(failure), [failure.evidence])
        if xf.matches(failure.evidence.message, failure.evidence.data):
            return done("xfailed", f"{failure}\n  expected failure: {xf.reason}", [failure.evidence])
        missed = xf.uncovered(failure.evidence.message, failure.evidence.data)
        return done("failed", f"declared expected failure {xf.reason!r} (match {xf.match!r}), but it failed with: "
                              f"{failure}" + (f"\n  not declared: {'; '.join(missed)}" if missed else ""),
                    [failure.evidence])
    except Exception as exc:  # a crash in the object under test or the check
        text = f"{type(exc).__name__}: {exc}"
        if xf is not None and xf.matches(text):
            return done("xfailed", text)
        if xf is not None:
            text = f"declared expected failure {xf.reason!r} (match {xf.match!r}), but it failed with: {text}"
        return done("error", f"{text}\n{plugin_traceback(exc)}\n  reproduce: "
                             f"{reproduce_command(item.qualname, item.check.name, case)}")
    note = _not_run_note(not_run)
    if xf is not None:
        return done("xpassed", f"[XPASS(strict)] declared expected failure did not happen: {xf.reason}"
                               + (f"\n  {note}" if note else ""), evidence)
    return done("passed", note, evidence)


def _not_seen_note(holding: Optional[Declarations], shown: Any) -> str:
    """For a check with several declarations: the ones that hold but did not show in this run (not an error:
    another profile or case seed may draw their cases)."""
    if holding is None or len(holding.items) < 2:
        return ""
    seen = declarations(shown)
    missing = [d.reason for d in holding.items if d not in seen]
    return f"\n  declared, not seen in this run: {' | '.join(missing)}" if missing else ""


def _not_run_note(not_run: Sequence[str]) -> str:
    """What a passing item did not run: ``"3 cases not run (not applicable on jax: needs float64 (...))"``."""
    if not not_run:
        return ""
    counts: dict[str, int] = {}
    for reason in not_run:
        counts[reason] = counts.get(reason, 0) + 1
    return "; ".join(f"{n} case{'s' if n != 1 else ''} not run ({reason})" for reason, n in counts.items())
