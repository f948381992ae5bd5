"""The battery: checks x specs x cases, and one runner used by pytest and the CLI.

:func:`plan` pairs every registered spec with the checks that apply to it;
:func:`run_one` runs one pair under a Hypothesis profile and a time limit and
returns an :class:`Outcome`, the one verdict every runner reports:

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

It also holds the run's options that every runner shares: the profile
(:func:`default_profile`), the error budget (:func:`apply_budget`) and the
per-check time limit (:func:`default_timeout`, :func:`time_limit`).
Importing it imports neither TensorFlow nor NumPy.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Sequence

from . import keras_compat
from .checks import Check, all_checks, check_names, checks_for
from .checks.evidence import CheckFailure, DeclaredFailure, Evidence, plugin_traceback
from .spec import Declarations, canonical_check_name, declarations

__all__ = ["Outcome", "Item", "plan", "run_one", "run_check", "hypothesis_settings", "PROFILES", "STATUSES", "BAD",
           "reproduce_command", "expected_failure_for", "blocked_by", "spec_label", "default_profile",
           "apply_budget", "default_timeout", "time_limit", "CheckTimeout", "DEFAULT_TIMEOUT", "load",
           "reset_run_state", "ENV_SEED", "run_seed", "item_seed", "not_applicable", "CaseNotApplicable"]

#: Hypothesis profiles: the gate is derandomized; ``thorough`` varies and digs deeper.
PROFILES = ("ci", "thorough")
ENV_PROFILE = "INITCHECK_PROFILE"
ENV_TIMEOUT = "INITCHECK_TIMEOUT"

#: Every outcome status, in the order runners report them; :data:`BAD` ones fail the run.
from .reports.results import BAD, STATUSES  # noqa: E402 - the status vocabulary lives with the records

#: Seconds one check may run (all its Hypothesis examples) before it fails as timed out.  The slowest
#: built-in check takes about 40 s of CPU on an idle 2-core machine; 600 s leaves room for a loaded one.
DEFAULT_TIMEOUT = 600.0


def default_profile() -> str:
    """``ci`` (derandomized, the gate) unless ``INITCHECK_PROFILE`` says otherwise."""
    return os.environ.get(ENV_PROFILE, "ci").strip() or "ci"


#: Seed of a ``thorough`` run (an integer): every item's Hypothesis search is seeded from it and the
#: item's id, so a thorough run can be recorded and replayed; unset, Hypothesis seeds itself.
ENV_SEED = "INITCHECK_SEED"


def run_seed() -> Optional[int]:
    """The thorough profile's run seed from ``INITCHECK_SEED`` (``None`` when unset; a non-integer is a ``ValueError``)."""
    text = os.environ.get(ENV_SEED, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{ENV_SEED} must be an integer, got {text!r}") from None


def item_seed(seed: int, item_id: str) -> int:
    """The Hypothesis seed of one item of a run seeded with ``seed`` (stable across processes)."""
    import zlib

    return (int(seed) * 1_000_003 + zlib.crc32(item_id.encode("utf-8"))) % 2 ** 32
def default_timeout() -> float:
    """:data:`DEFAULT_TIMEOUT` unless ``INITCHECK_TIMEOUT`` says otherwise (0 disables the limit)."""
    from .stats import env_number

    return env_number(ENV_TIMEOUT, float, DEFAULT_TIMEOUT, minimum=0.0,
                      what="a number of seconds >= 0 (0: no limit)")


class CheckTimeout(BaseException):
    """Raised inside a check that ran past its time limit.

    A ``BaseException`` so that neither the check body's ``except Exception``
    nor Hypothesis (which would try to shrink it) swallows it.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"timed out after {seconds:g} s")


@contextlib.contextmanager
def time_limit(seconds: Optional[float]) -> Iterator[None]:
    """Raise :class:`CheckTimeout` in the block once it has run ``seconds`` (``None``/0: no limit).

    Uses ``SIGALRM``, so it works in the main thread on POSIX and is a no-op
    elsewhere.  The signal interrupts Python code (a ``time.sleep``, a loop);
    a hang inside one TensorFlow C++ op is interrupted only when the op
    returns control to Python.
    """
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CheckTimeout(float(seconds))  # type: ignore[arg-type]

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # Re-fire every second after the limit: an alarm that lands in a callback whose exceptions Python
    # ignores (a gc callback, a __del__) is lost, the next one is not.
    signal.setitimer(signal.ITIMER_REAL, float(seconds), 1.0)  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def apply_budget(false_fail: Optional[float], false_pass: Optional[float]) -> None:
    """Set the run's error budget (only when given); a rate outside (0, 1) is a ``ValueError``."""
    if false_fail is None and false_pass is None:
        return
    for name, value in (("false-fail", false_fail), ("false-pass", false_pass)):
        if value is not None and not (0.0 < value < 1.0):
            raise ValueError(f"--initcheck-{name} must be a probability in (0, 1), got {value}")
    from . import stats

    stats.configure(false_fail=false_fail, false_pass=false_pass)


def hypothesis_settings(profile: str, examples: int, shrink: bool = True) -> Any:
    """Settings for one check run (never touches the user's global profile).

    ``shrink=False`` skips shrinking, for items declared to fail: their
    minimal case is already written in the declaration's evidence.
    """
    from hypothesis import HealthCheck, Phase, settings

    if profile not in PROFILES:
        raise ValueError(f"unknown initcheck profile {profile!r}; expected one of {PROFILES}")
    common = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=False,
                  report_multiple_bugs=False)
    if profile == "ci":
        phases = (Phase.explicit, Phase.generate) + ((Phase.shrink,) if shrink else ())
        return settings(max_examples=examples, derandomize=True, phases=phases, **common)
    phases = (Phase.explicit, Phase.reuse, Phase.generate) + ((Phase.shrink,) if shrink else ())
    return settings(max_examples=examples * 10, derandomize=False, phases=phases, **common)


@dataclass(frozen=True)
class Item:
    """One (spec, check) pair of the battery.

    ``expected`` is an expected failure given by the runner for this item
    (``parametrize_with_checks(expected_failures=...)``); it takes the place
    of the spec's own declaration for the check.
    """

    qualname: str
    spec: Any
    check: Check
    expected: Any = None

    @property
    def id(self) -> str:
        return f"{self.qualname}-{self.check.name}"


@dataclass
class Outcome:
    """The verdict of one item: one of :data:`STATUSES`."""

    item: Item
    status: str
    message: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def reproduce(self) -> str:
        """The command that replays this item (the failing case when there is one)."""
        for ev in self.evidence:
            if ev.reproduce and not ev.passed:
                return ev.reproduce
        return reproduce_command(self.item.qualname, self.item.check.name, None)


def load(select: Optional[Sequence[str]] = None, exclude: Optional[Sequence[str]] = None,
         kinds: Sequence[str] = ("initializer", "optimizer")) -> Any:
    """The registry for a run: :func:`initcheck.registry.load_registry` with the registered check names.

    Every runner loads through here, so a spec whose ``expected_failures``
    names no registered check is rejected at registration.
    """
    from .registry import load_registry

    return load_registry(select=select, exclude=exclude, kinds=kinds, known_checks=check_names())


def plan(specs: Sequence[tuple[str, Any]], profile: str = "ci", checks: Optional[Sequence[str]] = None) -> list[Item]:
    """Every applicable (spec, check) pair, specs in the given order.

    ``checks`` are glob patterns over check names (``check_seed_*``).
    """
    import fnmatch

    patterns = [canonical_check_name(p) for p in (checks or [])]
    known = sorted(check_names())
    for pattern in patterns:
        if not fnmatch.filter(known, pattern):
            raise ValueError(f"no check matches {pattern!r}; known: {known}")
    items = []
    for qualname, spec in specs:
        for check in checks_for(spec, profile):
            if not patterns or any(fnmatch.fnmatchcase(check.name, p) for p in patterns):
                items.append(Item(qualname, spec, check))
    return items


def reproduce_command(qualname: str, check: str, case: Optional[dict]) -> str:
    cmd = f"initcheck check --select {shlex.quote(qualname)} --check {check}"
    if case:
        cmd += f" --case {shlex.quote(json.dumps(case, sort_keys=True))}"
    return cmd


def _stamp(ev: Evidence, qualname: str, case: Optional[dict]) -> Evidence:
    """The qualified spec name, the case and the replay command on a check's evidence."""
    ev.spec = qualname
    if case is not None and not ev.case:
        ev.case = dict(case)
    if not ev.reproduce:
        ev.reproduce = reproduce_command(qualname, ev.check, ev.case or case)
    return ev


class CaseNotApplicable(Exception):
    """No case of an item can run on this backend (each needs a capability it lacks, e.g. float64 on JAX
    without ``JAX_ENABLE_X64=1``): the item is reported ``not_applicable`` with the reason."""


def run_check(item: Item, profile: str = "ci", case: Optional[dict] = None, shrink: bool = True,
              not_run: Optional[list[str]] = None, expected: Optional[Declarations] = None) -> list[Evidence]:
    """Run one item; raise :class:`CheckFailure` (with evidence) on failure.

    With ``case`` given, replay that single case instead of searching.  A
    :class:`DeclaredFailure` (a known consequence of the spec's declarations,
    or a case whose every failed part matches one of ``expected``, the
    declarations that hold) does not end the search: the remaining cases
    still run, so a declared failure in one case cannot hide an undeclared
    one in another.  After the search the declared failures are raised as
    one :class:`DeclaredFailure`, unless another case failed for real (that
    failure is raised at once).

    A case the backend cannot run (:meth:`initcheck.checks.Check.case_missing`:
    its dtype, or ``Check.case_needs``, needs a capability the backend lacks
    in this process) is not
    run: the search rejects it and draws another, so the check keeps its
    number of runnable cases; the reason of each rejected case is appended
    to ``not_run``.  When no case can run (or the replayed one cannot),
    :class:`CaseNotApplicable` is raised.
    """
    check, spec = item.check, item.spec
    collected: list[Evidence] = []
    declared: list[DeclaredFailure] = []
    rejected: list[str] = not_run if not_run is not None else []

    def once(c: dict) -> None:
        reason = check.case_missing(c)
        if reason:
            rejected.append(reason)
            if case is not None or check.strategy is None:
                raise CaseNotApplicable(reason)
            from hypothesis import reject

            reject()
        try:
            ev = check.func(spec, c)
        except DeclaredFailure as failure:
            _stamp(failure.evidence, item.qualname, c)
            declared.append(failure.refresh())
            return
        except CheckFailure as failure:
            _stamp(failure.evidence, item.qualname, c)
            if expected is not None and expected.matches(failure.evidence.message, failure.evidence.data):
                declared.append(_declared(failure.evidence, expected))
                return
            raise failure.refresh() from None
        except Exception as exc:  # a crash: declared when a declaration names it, else it ends the search
            text = f"{type(exc).__name__}: {exc}"
            if expected is None or _search_control(exc) or not expected.matches(text):
                raise
            ev = Evidence(check=check.name, spec=item.qualname, passed=False, message=text, case=dict(c),
                          data={"exception": type(exc).__name__})
            declared.append(_declared(_stamp(ev, item.qualname, c), expected))
            return
        if isinstance(ev, Evidence):
            collected.append(_stamp(ev, item.qualname, c))

    if case is None and check.designed is not None:
        for designed in check.designed(spec):
            reason = check.case_missing(designed)
            if reason:
                rejected.append(reason)
                continue
            once(dict(designed))
    if case is not None or check.strategy is None:
        once(dict(case or {}))
        return _settled(collected, declared)
    from hypothesis import given

    # Keep this function's source as it is: derandomized Hypothesis seeds its draws from it, so the gate's
    # cases (and verdicts) stay those of earlier releases.
    @hypothesis_settings(profile, check.examples, shrink)
    @given(check.strategy(spec))
    def search(c: dict) -> None:
        once(c)

    seed = run_seed() if profile == "thorough" else None
    if seed is not None:
        from hypothesis import seed as hypothesis_seed

        search = hypothesis_seed(item_seed(seed, item.id))(search)
    try:
        search()
    except Exception as exc:
        from hypothesis.errors import Unsatisfiable

        if isinstance(exc, Unsatisfiable) and rejected and not collected and not declared:
            raise CaseNotApplicable(f"{rejected[0]}; every case drawn ({len(rejected)}) needs it") from None
        raise
    return _settled(collected, declared)


def _search_control(exc: BaseException) -> bool:
    """Is ``exc`` Hypothesis's own signal (a rejected case, ...) rather than a failure of the check?"""
    from hypothesis.errors import HypothesisException

    return isinstance(exc, HypothesisException)


def _declared(evidence: Evidence, expected: Declarations) -> DeclaredFailure:
    """A case failure that ``expected`` covers, kept with the declarations it shows."""
    shown = expected.covering(evidence.message, evidence.data)
    evidence.data = {**evidence.data, "declared_by_spec": [d.reason for d in shown]}
    failure = DeclaredFailure(evidence, Declarations(tuple(shown)) if shown else expected)
    return failure.refresh()  # type: ignore[return-value]


def _settled(collected: list[Evidence], declared: list[DeclaredFailure]) -> list[Evidence]:
    """The passing evidence, or the declared failures of the search as one :class:`DeclaredFailure`."""
    if not declared:
        return collected
    first = declared[0]
    if len(declared) == 1:
        raise first
    seen: list[Any] = []
    for failure in declared:
        for d in declarations(failure.expected):
            if d not in seen:
                seen.append(d)
    ev = first.evidence
    ev.message = (f"{ev.message} [{len(declared)} failing cases, every one declared; "
                  f"{len(collected)} case(s) passed]")
    ev.data = {**ev.data, "declared_cases": len(declared), "declared_by_spec": [d.reason for d in seen],
               "declared_case_messages": [f.evidence.message[:300] for f in declared[1:6]]}
    raise DeclaredFailure(ev, Declarations(tuple(seen))).refresh()


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


def _dependency_verdict(item: Item, profile: str, timeout: Optional[float]) -> Optional[tuple[str, str]]:
    """``(status, reason)`` when a dependency keeps ``item`` from running: ``not_applicable`` when the
    dependency is not applicable on this backend (so is the item, for the same reason), else ``blocked``."""
    if item.qualname in _TIMED_OUT:
        return "blocked", f"blocked: {_TIMED_OUT[item.qualname]} timed out on {item.qualname} (reported there)"
    checks = all_checks(item.check.kind)
    for dep_name in item.check.depends_on:
        dep = checks.get(dep_name)
        if dep is None or not dep.applies(item.spec):
            continue
        outcome = run_one(Item(item.qualname, item.spec, dep), profile, timeout=timeout)
        if outcome.status == "not_applicable":
            return "not_applicable", f"{outcome.message} (through {dep_name}, which this check depends on)"
        if outcome.status not in ("passed", "xpassed"):
            return "blocked", f"blocked: {dep_name} {outcome.status} on {item.qualname} (reported there)"
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
            return Outcome(item, verdict[0], verdict[1], [], time.perf_counter() - start)
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


def spec_label(spec: Any) -> str:
    """Qualified name ``namespace>name`` for a spec passed directly (not through entry points).

    The namespace is the spec's own, else the installed distribution that
    provides the module defining its factory (what the entry points would
    call it, so a replay command selects the same spec), else that module's
    top-level package.
    """
    namespace = getattr(spec, "namespace", None)
    if not namespace:
        module = getattr(getattr(spec, "factory", None), "__module__", None) or "local"
        top = module.split(".")[0]
        namespace = _distribution_of(top) or top
    return f"{namespace}>{spec.name}"


_PACKAGES: dict[str, list[str]] = {}


def _distribution_of(package: str) -> Optional[str]:
    if not _PACKAGES:
        from importlib import metadata

        _PACKAGES.update(metadata.packages_distributions())
        _PACKAGES.setdefault("", [])
    dists = sorted(set(_PACKAGES.get(package) or []))
    return dists[0] if len(dists) == 1 else None
