"""Entry-point registry: find every spec that installed packages register.

Groups:

* ``initcheck.initializers`` -> :class:`~initcheck.spec.InitializerSpec`
* ``initcheck.optimizers`` -> :class:`~initcheck.optimizer_spec.OptimizerSpec`

An entry point may point at a spec, a list of specs, or a zero-argument
callable returning either.  Specs are named ``distribution>name``.  A plugin
that fails to import, raises, or yields something that is not a valid spec
becomes a :class:`LoadError` (distribution, entry point, traceback); loading
the others continues.

A load error counts against a run only when it concerns the run's selection:
with ``select`` given, the error of a distribution the selection cannot
reach (another installed plugin) is a *warning* (:attr:`Registry.warnings`)
that runners print without changing the exit status.  Two distributions that
register the same qualified name are both reported and neither runs.
Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import fnmatch
import os
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Collection, Iterable, Optional, Sequence

from .spec import SpecError

__all__ = [
    "GROUPS",
    "LoadError",
    "Registered",
    "Registry",
    "load_registry",
    "parse_patterns",
    "exact_selection",
    "qualified_name",
]

#: Entry-point group for each kind of spec.
GROUPS: dict[str, str] = {"initializer": "initcheck.initializers", "optimizer": "initcheck.optimizers"}

ENV_SELECT = "INITCHECK_SELECT"
ENV_EXCLUDE = "INITCHECK_EXCLUDE"


@dataclass(frozen=True)
class LoadError:
    """A plugin that could not be loaded, and why."""

    group: str
    distribution: str
    entry_point: str
    error: str
    traceback: str = ""

    @property
    def label(self) -> str:
        return f"{self.distribution}:{self.entry_point}"

    def describe(self) -> str:
        text = f"plugin {self.label} (group {self.group}) failed to load: {self.error}"
        if self.traceback:
            text += "\n" + self.traceback
        return text


@dataclass(frozen=True)
class Registered:
    """A valid spec and where it came from."""

    qualname: str
    spec: Any
    distribution: str
    entry_point: str

    @property
    def kind(self) -> str:
        return self.spec.kind


@dataclass
class Registry:
    """Everything loaded: specs by qualified name, the load errors, and the warnings.

    ``errors`` concern the selection (a run with any fails); ``warnings`` are
    load errors of plugins outside it (reported, not failing).
    """

    specs: dict[str, Registered] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[LoadError] = field(default_factory=list)
    _claims: dict[str, list[Registered]] = field(default_factory=dict, repr=False)

    def of_kind(self, kind: str) -> list[Registered]:
        return [r for r in self.specs.values() if r.kind == kind]

    def add(self, reg: Registered) -> Optional[LoadError]:
        """Add ``reg``.  A name another distribution registered too runs for neither: one load error names all."""
        claims = self._claims.setdefault(reg.qualname, [])
        claims.append(reg)
        if len(claims) == 1:
            self.specs[reg.qualname] = reg
            return None
        self.specs.pop(reg.qualname, None)
        self.errors[:] = [e for e in self.errors if e.entry_point != f"duplicate {reg.qualname}"]
        who = " and ".join(f"distribution {c.distribution!r} (entry point {c.entry_point!r})" for c in claims)
        err = LoadError(
            group=GROUPS.get(reg.kind, reg.kind), distribution="+".join(c.distribution for c in claims),
            entry_point=f"duplicate {reg.qualname}",
            error=(f"duplicate spec name {reg.qualname!r}: registered by {who}; neither runs (one of them must "
                   "change its namespace or name)"),
        )
        self.errors.append(err)
        return err


def qualified_name(spec: Any, distribution: str) -> str:
    """``namespace>name``, the namespace defaulting to the distribution."""
    return f"{getattr(spec, 'namespace', None) or distribution}>{spec.name}"


def parse_patterns(text: Optional[str]) -> list[str]:
    """Comma-separated glob patterns (``keras>Glorot*,myplugin``)."""
    if not text:
        return []
    return [p.strip() for p in text.split(",") if p.strip()]


def exact_selection(select: Optional[Sequence[str]] = None, use_env: bool = True) -> Optional[set[str]]:
    """The qualified names a selection can hold when every pattern names one spec exactly (``ns>Name``,
    no glob), else ``None`` (a glob or a bare distribution name may hold any number).  Reads
    ``INITCHECK_SELECT`` as :func:`load_registry` does; no selection at all is ``None``.
    """
    patterns = list(select or []) + (parse_patterns(os.environ.get(ENV_SELECT)) if use_env else [])
    if patterns and all(">" in p and not any(c in p for c in "*?[") for p in patterns):
        return set(patterns)
    return None


def _matches(qualname: str, patterns: Sequence[str]) -> bool:
    dist = qualname.split(">", 1)[0]
    return any(fnmatch.fnmatchcase(qualname, p) or p == dist for p in patterns)


def _may_select(distribution: str, patterns: Sequence[str]) -> bool:
    """Could a spec of ``distribution`` match one of ``patterns``?  (Used when its specs' names are unknown.)

    A pattern reaches a distribution by its name, or by a glob whose part
    before ``>`` matches the name (``mypkg``, ``mypkg>*``, ``my*``, ``*>Foo``).
    """
    return any(p == distribution or fnmatch.fnmatchcase(distribution, p.split(">", 1)[0]) for p in patterns)


def _dist_name(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return getattr(dist, "name", None) or "unknown-distribution"


def _expand(obj: Any) -> list[Any]:
    if callable(obj) and not hasattr(obj, "validate"):
        obj = obj()
    if isinstance(obj, (list, tuple)):
        return list(obj)
    return [obj]


def _entry_points(group: str) -> Iterable[Any]:
    eps = metadata.entry_points()
    if hasattr(eps, "select"):
        return eps.select(group=group)
    return eps.get(group, [])  # pragma: no cover - Python < 3.10


def load_registry(
    select: Optional[Sequence[str]] = None,
    exclude: Optional[Sequence[str]] = None,
    kinds: Sequence[str] = ("initializer", "optimizer"),
    use_env: bool = True,
    known_checks: Optional[Collection[str]] = None,
) -> Registry:
    """Load every registered spec.

    Args:
        select: Glob patterns over qualified names (or bare distribution
            names); when given, only matching specs are kept.
        exclude: Glob patterns to drop.  A distribution excluded whole by
            its name (``dist`` or ``dist>*``) is not even imported, so a broken
            plugin can be switched off.
        kinds: Which groups to load.
        use_env: Also read ``INITCHECK_SELECT`` / ``INITCHECK_EXCLUDE``.
        known_checks: Registered check names; a spec whose
            ``expected_failures`` names another is a load error.  Runners pass
            them (:func:`initcheck.battery.load`).
    """
    select = list(select or [])
    exclude = list(exclude or [])
    if use_env:
        select += parse_patterns(os.environ.get(ENV_SELECT))
        exclude += parse_patterns(os.environ.get(ENV_EXCLUDE))
    registry = Registry()
    for kind in kinds:
        group = GROUPS[kind]
        for ep in sorted(_entry_points(group), key=lambda e: (_dist_name(e), e.name)):
            dist = _dist_name(ep)
            if dist in exclude or f"{dist}>*" in exclude:
                continue
            label = f"{ep.name} = {ep.value}"
            # An error of a plugin the selection cannot reach is a warning, not a failure of this run.
            sink = registry.errors if not select or _may_select(dist, select) else registry.warnings
            try:
                loaded = _expand(ep.load())
            except Exception as exc:
                sink.append(LoadError(group, dist, label, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
                continue
            for obj in loaded:
                try:
                    _validate(obj, kind, known_checks)
                except Exception as exc:
                    target, name = sink, getattr(obj, "name", None)
                    if isinstance(name, str) and select:  # a named spec: inside the selection or not
                        target = registry.errors if _matches(qualified_name(obj, dist), select) else registry.warnings
                    target.append(
                        LoadError(group, dist, label, f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=3)))
                    continue
                qual = qualified_name(obj, dist)
                if select and not _matches(qual, select):
                    continue
                if exclude and _matches(qual, exclude):
                    continue
                registry.add(Registered(qual, obj, dist, label))
    return registry


def _validate(obj: Any, kind: str, known_checks: Optional[Collection[str]] = None) -> None:
    got = getattr(obj, "kind", None)
    if got != kind or not hasattr(obj, "validate"):
        raise SpecError(getattr(obj, "name", repr(obj)[:60]), "<entry point>",
                        f"expected a {kind} spec, got {type(obj).__name__}")
    if known_checks is None:
        obj.validate()
    else:
        obj.validate(known_checks=known_checks)
