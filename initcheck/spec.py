"""Specs: what a plugin promises about its object.

A spec is a declaration, checked at registration time.  The battery reads it
to decide which checks apply (capability tags, never names) and what the
checks expect (the law, the seed semantics, the designed-for activations).

Initializer specs live here; optimizer specs live in
:mod:`initcheck.optimizer_spec` and share :class:`ExpectedFailure` and
:class:`SpecError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Union

from .fans import Fans, keras_fans
from .laws import Law, LawError

__all__ = [
    "SpecError",
    "ExpectedFailure",
    "InitializerSpec",
    "INITIALIZER_TAGS",
    "FLOAT_DTYPES",
    "ACTIVATIONS",
    "LawFunction",
]

FLOAT_DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")

#: Capability tags an initializer spec may carry.
INITIALIZER_TAGS: Mapping[str, str] = {
    "iid": "entries are independent draws from one law (distribution checks apply)",
    "structured": "entries are dependent by design (orthogonal); structure checks apply",
    "deterministic": "values do not depend on any seed (constants, identity)",
    "seeded": "the factory honours an integer seed (seed-contract checks apply)",
    "keras_object": "a Keras initializer object with get_config/from_config",
    "saveable": "a model using it saves to .keras and loads back in safe mode",
}

#: Activations a spec may declare itself designed for (signal propagation).
ACTIVATIONS: tuple[str, ...] = ("linear", "relu", "tanh", "sigmoid", "selu", "elu", "gelu", "swish")

SEED_SEMANTICS = ("same", "different", "any")

LawFunction = Callable[[tuple, Fans], Law]


class SpecError(ValueError):
    """A spec is invalid.  The message names the spec and the field."""

    def __init__(self, spec_name: str, field_name: str, problem: str):
        self.spec_name = spec_name
        self.field_name = field_name
        self.problem = problem
        super().__init__(f"invalid spec {spec_name!r}: field {field_name!r}: {problem}")


@dataclass(frozen=True)
class ExpectedFailure:
    """A declared, versioned known failure: it becomes a *strict* xfail.

    Args:
        reason: What is wrong, in one sentence.
        versions: Where it holds, as ``;``-separated requirement strings over
            ``tensorflow`` and ``keras`` (the Keras actually in use), e.g.
            ``"keras>=3.0,<3.8; tensorflow>=2.16"``.  Empty means everywhere.
        evidence: The measured figures or minimal case behind the claim.
    """

    reason: str
    versions: str = ""
    evidence: str = ""

    def applies(self, installed: Mapping[str, str]) -> bool:
        """Does it hold for ``installed`` (``{"tensorflow": "2.21.0", "keras": "3.15.1"}``)?"""
        if not self.versions.strip():
            return True
        from packaging.requirements import Requirement
        from packaging.version import Version

        for part in self.versions.split(";"):
            part = part.strip()
            if not part:
                continue
            req = Requirement(part)
            have = installed.get(req.name)
            if have is None or not req.specifier.contains(Version(have), prereleases=True):
                return False
        return True

    def validate(self, spec_name: str, check: str) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise SpecError(spec_name, f"expected_failures[{check!r}]", "needs a non-empty reason")
        try:
            self.applies({"tensorflow": "2.0", "keras": "2.0"})
        except Exception as exc:  # packaging raises several types
            raise SpecError(spec_name, f"expected_failures[{check!r}].versions",
                            f"cannot parse {self.versions!r}: {exc}") from None


def validate_name(value: Any) -> str:
    """Check a spec's ``name`` (shared by every kind of spec); return it for messages."""
    name = value if isinstance(value, str) else repr(value)
    if not isinstance(value, str) or not value or ">" in value or any(c.isspace() for c in value):
        raise SpecError(name, "name", "must be a non-empty string without spaces or '>'")
    return name


def _as_expected(value: Union[str, ExpectedFailure]) -> ExpectedFailure:
    return value if isinstance(value, ExpectedFailure) else ExpectedFailure(reason=str(value))


@dataclass(frozen=True)
class InitializerSpec:
    """What an initializer promises.

    Args:
        name: Short name, unique within its distribution (``GlorotUniform``).
        factory: ``factory(seed) -> initializer``; the initializer is called as
            ``initializer(shape, dtype=dtype)`` and returns a tensor or array.
            ``seed`` is an ``int`` or ``None``.
        law: The law of the values, a :class:`~initcheck.laws.Law` or a
            function ``law(shape, fans) -> Law`` of the kernel shape and its fans.
        activations: Activations the initializer is designed for (signal
            propagation checks use them).
        tags: Capability tags from :data:`INITIALIZER_TAGS`.
        dtypes: Floating dtypes it supports.
        ranks: Kernel ranks it supports.
        fan_convention: How ``fans`` passed to ``law`` are computed; only
            ``"keras"`` (see :func:`initcheck.fans.keras_fans`) today.
        seeded_repeat: One *seeded* instance called twice with the same shape
            returns the ``"same"`` or ``"different"`` values (or ``"any"``).
        unseeded_repeat: The same for an instance built with ``seed=None``.
        namespace: Overrides the distribution part of the qualified name
            (the built-ins use ``keras``).
        expected_failures: ``{check_name: ExpectedFailure or reason}``.
        description: One line for listings.
        min_size: Smallest size of each dimension it accepts.
    """

    name: str
    factory: Callable[[Optional[int]], Any]
    law: Union[Law, LawFunction]
    activations: tuple[str, ...] = ()
    tags: frozenset = frozenset({"iid", "seeded"})
    dtypes: tuple[str, ...] = FLOAT_DTYPES
    ranks: tuple[int, ...] = (1, 2, 3, 4, 5)
    fan_convention: str = "keras"
    seeded_repeat: str = "same"
    unseeded_repeat: str = "any"
    namespace: Optional[str] = None
    expected_failures: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    min_size: int = 1

    kind = "initializer"

    def law_for(self, shape: tuple[int, ...]) -> Law:
        """The law for a kernel of ``shape`` (fans by the spec's convention)."""
        if isinstance(self.law, Law):
            return self.law
        return self.law(tuple(shape), self.fans(shape))

    def fans(self, shape: tuple[int, ...]) -> Fans:
        return keras_fans(shape)

    def expected_failure(self, check: str) -> Optional[ExpectedFailure]:
        value = self.expected_failures.get(check)
        return None if value is None else _as_expected(value)

    def has(self, tag: str) -> bool:
        return tag in self.tags

    def validate(self) -> None:
        """Raise :class:`SpecError` naming the first bad field."""
        name = validate_name(self.name)
        if self.factory is None or not callable(self.factory):
            raise SpecError(name, "factory", f"must be a callable seed -> initializer, got {self.factory!r}")
        unknown = set(self.tags) - set(INITIALIZER_TAGS)
        if unknown:
            raise SpecError(name, "tags", f"unknown tag(s) {sorted(unknown)}; known: {sorted(INITIALIZER_TAGS)}")
        kinds = {"iid", "structured", "deterministic"} & set(self.tags)
        if len(kinds) != 1:
            raise SpecError(name, "tags", "needs exactly one of 'iid', 'structured', 'deterministic'")
        if "saveable" in self.tags and "keras_object" not in self.tags:
            raise SpecError(name, "tags", "'saveable' needs 'keras_object'")
        bad = [d for d in self.dtypes if d not in FLOAT_DTYPES]
        if not self.dtypes or bad:
            raise SpecError(name, "dtypes", f"must be a non-empty subset of {FLOAT_DTYPES}, got {self.dtypes!r}")
        if not self.ranks or any((not isinstance(r, int)) or r < 1 or r > 5 for r in self.ranks):
            raise SpecError(name, "ranks", f"must be a non-empty subset of 1..5, got {self.ranks!r}")
        bad_act = [a for a in self.activations if a not in ACTIVATIONS]
        if bad_act:
            raise SpecError(name, "activations", f"unknown {bad_act}; known: {ACTIVATIONS}")
        if self.fan_convention != "keras":
            raise SpecError(name, "fan_convention", f"unknown {self.fan_convention!r}; known: 'keras'")
        for fld in ("seeded_repeat", "unseeded_repeat"):
            if getattr(self, fld) not in SEED_SEMANTICS:
                raise SpecError(name, fld, f"must be one of {SEED_SEMANTICS}, got {getattr(self, fld)!r}")
        if not isinstance(self.min_size, int) or self.min_size < 1:
            raise SpecError(name, "min_size", f"must be a positive int, got {self.min_size!r}")
        for check, value in dict(self.expected_failures).items():
            _as_expected(value).validate(name, check)
        # The law: evaluate it at a probe shape so a law that is not a
        # distribution, or has a negative scale, fails now, not mid-run.
        rank = min(self.ranks, key=lambda r: abs(r - 2))
        probe = tuple([max(self.min_size, 3 + i) for i in range(rank)])
        try:
            law = self.law_for(probe)
        except Exception as exc:
            raise SpecError(name, "law", f"evaluating it for shape {probe} raised {type(exc).__name__}: {exc}") from None
        if not isinstance(law, Law):
            raise SpecError(name, "law", f"must be a Law or a function returning one, got {type(law).__name__}")
        try:
            law.validate()
        except LawError as exc:
            raise SpecError(name, "law", str(exc)) from None
        if "iid" in self.tags and not law.iid:
            raise SpecError(name, "law", f"tag 'iid' but the law {law.kind} is not i.i.d.")
        if "deterministic" in self.tags and not law.deterministic:
            raise SpecError(name, "law", f"tag 'deterministic' but the law {law.kind} is random")
        if "iid" in self.tags:
            var = law.variance()
            if not (math.isfinite(var) and var > 0):
                raise SpecError(name, "law", f"an i.i.d. law needs a finite positive variance, got {var}")
