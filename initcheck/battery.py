"""The battery: checks x specs x cases, and one runner used by pytest and the CLI.

:func:`plan` pairs every registered spec with the checks that apply to it;
:func:`run_one` runs one pair under a Hypothesis profile and returns an
:class:`Outcome`.  Expected failures declared by a spec (for the installed
versions) turn a failure into ``xfailed`` and a pass into ``xpassed``, which
counts as a failure (strict).

It also holds the run's options that every runner shares: the profile
(:func:`default_profile`) and the error budget (:func:`apply_budget`).
Importing it imports neither TensorFlow nor NumPy.
"""

from __future__ import annotations

import json
import os
import shlex
import traceback
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from . import keras_compat
from .checks import Check, all_checks, checks_for
from .checks.evidence import CheckFailure, Evidence

__all__ = ["Outcome", "Item", "plan", "run_one", "run_check", "execute", "hypothesis_settings", "PROFILES",
           "reproduce_command", "expected_failure_for", "blocked_by", "spec_label", "default_profile",
           "apply_budget", "ENV_SEED", "run_seed", "item_seed"]

#: Hypothesis profiles: the gate is derandomized; ``thorough`` varies and digs deeper.
PROFILES = ("ci", "thorough")
ENV_PROFILE = "INITCHECK_PROFILE"


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
    """One (spec, check) pair of the battery."""

    qualname: str
    spec: Any
    check: Check

    @property
    def id(self) -> str:
        return f"{self.qualname}-{self.check.name}"


@dataclass
class Outcome:
    """The verdict of one item: passed, failed, xfailed, xpassed, error or skipped."""

    item: Item
    status: str
    message: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    seconds: float = 0.0


def plan(specs: Sequence[tuple[str, Any]], profile: str = "ci", checks: Optional[Sequence[str]] = None) -> list[Item]:
    """Every applicable (spec, check) pair, specs in the given order.

    ``checks`` are glob patterns over check names (``check_seed_*``).
    """
    import fnmatch

    patterns = list(checks or [])
    known = list(all_checks())
    for pattern in patterns:
        if not fnmatch.filter(known, pattern):
            raise ValueError(f"no check matches {pattern!r}; known: {sorted(known)}")
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


def run_check(item: Item, profile: str = "ci", case: Optional[dict] = None, shrink: bool = True) -> list[Evidence]:
    """Run one item; raise :class:`CheckFailure` (with evidence) on failure.

    With ``case`` given, replay that single case instead of searching.
    """
    check, spec = item.check, item.spec
    collected: list[Evidence] = []

    def once(c: dict) -> None:
        try:
            ev = check.func(spec, c)
        except CheckFailure as failure:
            _stamp(failure.evidence, item.qualname, c)
            raise CheckFailure(failure.evidence) from None
        if isinstance(ev, Evidence):
            collected.append(_stamp(ev, item.qualname, c))

    if case is not None or check.strategy is None:
        once(dict(case or {}))
        return collected
    from hypothesis import given

    @hypothesis_settings(profile, check.examples, shrink)
    @given(check.strategy(spec))
    def search(c: dict) -> None:
        once(c)

    seed = run_seed() if profile == "thorough" else None
    if seed is not None:
        from hypothesis import seed as hypothesis_seed

        search = hypothesis_seed(item_seed(seed, item.id))(search)
    search()
    return collected


def expected_failure_for(item: Item) -> Any:
    """The spec's expected failure for this check, if it holds for the installed versions."""
    getter = getattr(item.spec, "expected_failure", None)
    xf = getter(item.check.name) if getter else None
    if xf is None or not xf.applies(keras_compat.versions()):
        return None
    return xf


_DEPENDENCY_CACHE: dict[tuple[str, str, str], Outcome] = {}


def blocked_by(item: Item, profile: str = "ci") -> Optional[str]:
    """Why ``item`` cannot meaningfully run, or ``None``.

    A check that depends on another (every check depends on
    ``check_output_contract``) is reported as blocked when the dependency
    fails on the same spec, so a broken plugin gives one clear failure, not
    one per check.  Dependencies are run (once per process) when needed.
    """
    checks = all_checks()
    for dep_name in item.check.depends_on:
        dep = checks.get(dep_name)
        if dep is None or not dep.applies(item.spec):
            continue
        key = (item.qualname, dep_name, profile)
        if key not in _DEPENDENCY_CACHE:
            _DEPENDENCY_CACHE[key] = run_one(Item(item.qualname, item.spec, dep), profile)
        outcome = _DEPENDENCY_CACHE[key]
        if outcome.status not in ("passed", "xpassed"):
            return f"blocked: {dep_name} {outcome.status} on {item.qualname} (reported there)"
    return None


def run_one(item: Item, profile: str = "ci", case: Optional[dict] = None, check_dependencies: bool = True) -> Outcome:
    """Run one item and classify the result (expected failures applied).

    Returns status ``skipped`` (with the reason) when a dependency failed.
    """
    import time

    start = time.perf_counter()
    if check_dependencies and case is None:
        reason = blocked_by(item, profile)
        if reason:
            return Outcome(item, "skipped", reason, [], time.perf_counter() - start)
    xf = expected_failure_for(item)
    try:
        evidence = run_check(item, profile, case, shrink=xf is None)
    except CheckFailure as failure:
        status = "xfailed" if xf else "failed"
        msg = str(failure) + (f"\n  expected failure: {xf.reason}" if xf else "")
        return Outcome(item, status, msg, [failure.evidence], time.perf_counter() - start)
    except Exception as exc:  # a crash in the object under test or the check
        if xf:
            return Outcome(item, "xfailed", f"{type(exc).__name__}: {exc}", [], time.perf_counter() - start)
        return Outcome(item, "error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}", [],
                       time.perf_counter() - start)
    if xf:
        return Outcome(item, "xpassed", f"declared expected failure did not happen (strict): {xf.reason}",
                       evidence, time.perf_counter() - start)
    return Outcome(item, "passed", "", evidence, time.perf_counter() - start)


def execute(item: Item, profile: str = "ci") -> list[Evidence]:
    """Run ``item`` the way a test does: skip when blocked, raise on failure.

    Expected failures are *not* applied here: pytest runners attach them as
    strict ``xfail`` markers so that a fix shows up as XPASS.
    """
    import pytest

    reason = blocked_by(item, profile)
    if reason:
        pytest.skip(reason)
    return run_check(item, profile, shrink=expected_failure_for(item) is None)


def spec_label(spec: Any) -> str:
    """Qualified name for a spec passed directly (not through entry points)."""
    return f"{getattr(spec, 'namespace', None) or 'local'}>{spec.name}"
