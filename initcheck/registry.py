"""Entry-point registry: find every spec that installed packages register.

Groups:

* ``initcheck.initializers`` -> :class:`~initcheck.spec.InitializerSpec`
* ``initcheck.optimizers`` -> :class:`~initcheck.optimizer_spec.OptimizerSpec`

An entry point may point at a spec, a list of specs, or a zero-argument
callable returning either.  Specs are named ``distribution>name``.  A plugin
that fails to import, raises, or yields something that is not a valid spec
becomes a :class:`LoadError` (distribution, entry point, traceback); loading
the others continues.  Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import fnmatch
import os
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterable, Optional, Sequence

from .spec import SpecError

__all__ = [
    "GROUPS",
    "LoadError",
    "Registered",
    "Registry",
    "load_registry",
    "parse_patterns",
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
    """Everything loaded: specs by qualified name, and the load errors."""

    specs: dict[str, Registered] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Registered]:
        return [r for r in self.specs.values() if r.kind == kind]

    def add(self, reg: Registered) -> Optional[LoadError]:
        """Add ``reg``; a duplicate name is a load error naming both distributions."""
        prior = self.specs.get(reg.qualname)
        if prior is not None:
            err = LoadError(
                group=GROUPS.get(reg.kind, reg.kind), distribution=reg.distribution, entry_point=reg.entry_point,
                error=(f"duplicate spec name {reg.qualname!r}: registered by distribution "
                       f"{prior.distribution!r} (entry point {prior.entry_point!r}) and by "
                       f"{reg.distribution!r} (entry point {reg.entry_point!r}); the first is kept"),
            )
            self.errors.append(err)
            return err
        self.specs[reg.qualname] = reg
        return None


def qualified_name(spec: Any, distribution: str) -> str:
    """``namespace>name``, the namespace defaulting to the distribution."""
    return f"{getattr(spec, 'namespace', None) or distribution}>{spec.name}"


def parse_patterns(text: Optional[str]) -> list[str]:
    """Comma-separated glob patterns (``keras>Glorot*,myplugin``)."""
    if not text:
        return []
    return [p.strip() for p in text.split(",") if p.strip()]


def _matches(qualname: str, patterns: Sequence[str]) -> bool:
    dist = qualname.split(">", 1)[0]
    return any(fnmatch.fnmatchcase(qualname, p) or p == dist for p in patterns)


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
            try:
                loaded = _expand(ep.load())
            except Exception as exc:
                registry.errors.append(LoadError(group, dist, label, f"{type(exc).__name__}: {exc}",
                                                 traceback.format_exc()))
                continue
            for obj in loaded:
                try:
                    _validate(obj, kind)
                except Exception as exc:
                    registry.errors.append(LoadError(group, dist, label, f"{type(exc).__name__}: {exc}",
                                                     traceback.format_exc(limit=3)))
                    continue
                qual = qualified_name(obj, dist)
                if select and not _matches(qual, select):
                    continue
                if exclude and _matches(qual, exclude):
                    continue
                registry.add(Registered(qual, obj, dist, label))
    return registry


def _validate(obj: Any, kind: str) -> None:
    got = getattr(obj, "kind", None)
    if got != kind or not hasattr(obj, "validate"):
        raise SpecError(getattr(obj, "name", repr(obj)[:60]), "<entry point>",
                        f"expected a {kind} spec, got {type(obj).__name__}")
    obj.validate()
