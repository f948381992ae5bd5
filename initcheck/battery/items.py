"""What the battery runs and what it reports: an :class:`Item` is one (spec, check)
pair, :func:`plan` lists the items of a run, an :class:`Outcome` is one item's
verdict, :func:`reproduce_command` the command that replays it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from ..checks import Check, check_names, checks_for
from ..checks.evidence import Evidence
from ..spec import canonical_check_name

__all__ = ["Item", "Outcome", "load", "plan", "check_patterns", "reproduce_command", "spec_label"]

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
    #: A ``blocked`` outcome's prerequisite: ``{"check": its name, "status": its status or "timed_out"}``.
    blocked_by: Optional[dict[str, str]] = None

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
    from ..registry import load_registry

    return load_registry(select=select, exclude=exclude, kinds=kinds, known_checks=check_names())


def plan(specs: Sequence[tuple[str, Any]], profile: str = "ci", checks: Optional[Sequence[str]] = None) -> list[Item]:
    """Every applicable (spec, check) pair, specs in the given order.

    ``checks`` are glob patterns over check names (``check_seed_*``).
    """
    import fnmatch

    patterns = check_patterns(checks)
    items = []
    for qualname, spec in specs:
        for check in checks_for(spec, profile):
            if not patterns or any(fnmatch.fnmatchcase(check.name, p) for p in patterns):
                items.append(Item(qualname, spec, check))
    return items


def check_patterns(checks: Optional[Sequence[str]]) -> list[str]:
    """``checks`` (glob patterns over check names) in canonical form; a pattern that matches no registered
    check is a ``ValueError`` naming it and the known checks."""
    import fnmatch

    patterns = [canonical_check_name(p) for p in (checks or [])]
    known = sorted(check_names())
    for pattern in patterns:
        if not fnmatch.filter(known, pattern):
            raise ValueError(f"no check matches {pattern!r}; known: {known}")
    return patterns


def reproduce_command(qualname: str, check: str, case: Optional[dict]) -> str:
    cmd = f"initcheck check --select {shlex.quote(qualname)} --check {check}"
    if case:
        cmd += f" --case {shlex.quote(json.dumps(case, sort_keys=True))}"
    return cmd


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
