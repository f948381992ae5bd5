"""Specs: what a plugin promises about its object.

A spec is a declaration, checked at registration time.  The battery reads it
to decide which checks apply (capability tags, never names) and what the
checks expect.

* :class:`InitializerSpec`: a factory, the *law* of the values as a function
  of the kernel shape and fans, the activations it is designed for, seed
  semantics and capability tags (:data:`INITIALIZER_TAGS`).
* :class:`OptimizerSpec`: a factory, the reference update rule
  (:mod:`initcheck.references.optimizers`) with the *named conventions* the
  optimizer follows where frameworks differ, its hyperparameter space and
  documented defaults, and capability tags (:data:`OPTIMIZER_TAGS`), some
  holding only for a range of Keras versions.
* :class:`ExpectedFailure`: a declared, versioned known failure.

An invalid spec raises :class:`SpecError` naming the spec and the field.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping, Optional, Sequence, Union

from .dtypes import FLOAT_DTYPES
from .laws import Fans, Law, LawError, shape_fans

if TYPE_CHECKING:  # pragma: no cover
    from .references.optimizers import Rule

__all__ = [
    "SpecError",
    "ExpectedFailure",
    "Declarations",
    "declarations",
    "validate_declarations",
    "failure_parts",
    "InitializerSpec",
    "OptimizerSpec",
    "INITIALIZER_TAGS",
    "OPTIMIZER_TAGS",
    "OPTIMIZER_DTYPES",
    "ACTIVATIONS",
    "LawFunction",
    "validate_name",
    "FAN_CONVENTIONS",
    "RENAMED_CHECKS",
    "canonical_check_name",
]

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

#: What an initializer spec's ``fan_convention`` may say: which fans the
#: initializer itself uses, and so what the layer checks may expect.
FAN_CONVENTIONS: Mapping[str, str] = {
    "layer": "the law holds at each layer's true fans (the layer checks are strict)",
    "shape": ("the initializer computes fans from the kernel shape, like Keras's VarianceScaling; on layer kinds "
              "whose true fans differ, the layer checks verify the law at the shape fans and report the "
              "difference as an expected failure of this convention"),
}

#: Old check names -> current ones (one name per idea across initializers and
#: optimizers).  An old name in ``expected_failures`` or ``--check`` still
#: works, with a DeprecationWarning.
RENAMED_CHECKS: Mapping[str, str] = {"check_config_roundtrip": "check_config_round_trip"}


def canonical_check_name(name: str, stacklevel: int = 3) -> str:
    """``name``, or its current spelling (with a DeprecationWarning) when it was renamed."""
    new = RENAMED_CHECKS.get(name)
    if new is None:
        return name
    warnings.warn(f"check {name!r} is now called {new!r}; the old name will be removed in 0.4",
                  DeprecationWarning, stacklevel=stacklevel)
    return new


def _canonical_keys(expected: Mapping[str, Any]) -> dict[str, Any]:
    return {canonical_check_name(k, stacklevel=5): v for k, v in dict(expected).items()}

LawFunction = Callable[[tuple, Fans], Law]


class SpecError(ValueError):
    """A spec is invalid.  The message names the spec and the field."""

    def __init__(self, spec_name: str, field_name: str, problem: str):
        self.spec_name = spec_name
        self.field_name = field_name
        self.problem = problem
        super().__init__(f"invalid spec {spec_name!r}: field {field_name!r}: {problem}")


def _requirements(alternative: str) -> list:
    """The requirements of one ``;``-separated alternative of :attr:`ExpectedFailure.versions`."""
    from packaging.requirements import Requirement

    return [Requirement(part.strip()) for part in alternative.split(";") if part.strip()]


def _all_hold(requirements: Sequence[Any], installed: Mapping[str, str]) -> bool:
    from packaging.version import Version

    for req in requirements:
        have = installed.get(req.name)
        if have is None or not req.specifier.contains(Version(have), prereleases=True):
            return False
    return True


@dataclass(frozen=True)
class ExpectedFailure:
    """A declared, versioned known failure: it becomes a *strict* xfail.

    A declaration names the failure it expects: with ``match`` (a regular
    expression searched in the failure message, like ``pytest.raises(match=)``),
    a failure of another cause in the same check is reported as a real failure
    ("declared expected failure X, but it failed with Y"), so a declared
    failure cannot hide a different one.

    Args:
        reason: What is wrong, in one sentence.
        versions: Where it holds, as ``;``-separated requirement strings over
            ``tensorflow`` and ``keras`` (the Keras actually in use), e.g.
            ``"keras>=3.0,<3.8; tensorflow>=2.16"``; alternatives are joined by
            ``||`` (``"keras>=3.0,<3.5 || keras>=3.14"``: a bug that left and
            came back).  Empty means everywhere.
        evidence: The measured figures or minimal case behind the claim.
        match: Regular expression the failure must contain (``re.search``);
            empty matches any failure of the check.
        evidence_key: Search ``match`` in this field of the failure's evidence
            data (its JSON text) instead of the message.
        backends: The Keras backends it holds on (``("tensorflow",)`` for a
            failure whose mechanism is in TensorFlow or Keras's TensorFlow
            backend); empty means every backend.  Read from ``"backend"`` in
            the versions it is asked about (absent: ``tensorflow``).  JAX
            can be narrowed to one configuration: ``"jax:x64"`` holds only
            with ``JAX_ENABLE_X64=1``, ``"jax:no-x64"`` only without it (read
            from ``"jax_x64"`` in those versions: ``"on"`` / ``"off"``).
    """

    reason: str
    versions: str = ""
    evidence: str = ""
    match: str = ""
    evidence_key: str = ""
    backends: tuple[str, ...] = ()

    def matches(self, message: str, data: Optional[Mapping[str, Any]] = None) -> bool:
        """Is a failure with this ``message`` (and evidence ``data``) the one declared?"""
        if not self.match:
            return True
        if self.evidence_key:
            if not data or self.evidence_key not in data:
                return False
            text = json.dumps(data[self.evidence_key], sort_keys=True, default=str)
        else:
            text = message
        return re.search(self.match, text) is not None

    def applies(self, installed: Mapping[str, str]) -> bool:
        """Does it hold for ``installed`` (``{"tensorflow": "2.21.0", "keras": "3.15.1", "backend": ...}``)?"""
        if self.backends and not any(backend_holds(b, installed) for b in self.backends):
            return False
        if not self.versions.strip():
            return True
        # Every alternative is parsed first, so a malformed one raises whatever the installed versions are.
        texts = self.versions.split("||")
        if len(texts) > 1 and not all(t.strip() for t in texts):
            raise ValueError(f"an empty alternative around '||' in {self.versions!r}")
        alternatives = [_requirements(t) for t in texts]
        return any(_all_hold(reqs, installed) for reqs in alternatives)

    def validate(self, spec_name: str, check: str) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise SpecError(spec_name, f"expected_failures[{check!r}]", "needs a non-empty reason")
        try:
            self.applies({"tensorflow": "2.0", "keras": "2.0"})
        except Exception as exc:  # packaging raises several types
            raise SpecError(spec_name, f"expected_failures[{check!r}].versions",
                            f"cannot parse {self.versions!r}: {exc}") from None
        try:
            re.compile(self.match)
        except re.error as exc:
            raise SpecError(spec_name, f"expected_failures[{check!r}].match",
                            f"not a regular expression: {exc}") from None
        if self.evidence_key and not self.match:
            raise SpecError(spec_name, f"expected_failures[{check!r}].evidence_key", "needs a match")
        from .keras_compat import BACKENDS

        if isinstance(self.backends, str) or any(b not in BACKENDS + BACKEND_CONFIGURATIONS for b in self.backends):
            raise SpecError(spec_name, f"expected_failures[{check!r}].backends",
                            f"must be a tuple of backends among {BACKENDS} or configurations among "
                            f"{BACKEND_CONFIGURATIONS}, got {self.backends!r}")


#: Backend configurations a declaration can be scoped to (:attr:`ExpectedFailure.backends`): JAX with and
#: without its 64-bit types (``JAX_ENABLE_X64``), which change what a float64 request gets.
BACKEND_CONFIGURATIONS: tuple[str, ...] = ("jax:x64", "jax:no-x64")


def backend_holds(token: str, installed: Mapping[str, str]) -> bool:
    """Does the backend token (``"torch"``, ``"jax:x64"``, ...) describe ``installed``?

    ``installed["backend"]`` (absent: ``tensorflow``) names the backend; a JAX configuration token also reads
    ``installed["jax_x64"]`` (absent: ``off``, JAX's default)."""
    name, _, configuration = token.partition(":")
    if str(installed.get("backend", "tensorflow")) != name:
        return False
    if not configuration:
        return True
    x64 = str(installed.get("jax_x64", "off")) == "on"
    return x64 if configuration == "x64" else not x64


def failure_parts(message: str, data: Optional[Mapping[str, Any]] = None) -> list[tuple[str, dict[str, Any]]]:
    """The separate failures inside one check failure, as ``(message, evidence data)`` pairs.

    A check that tests several properties (:class:`~initcheck.checks.evidence.Parts`) or several
    statistics (:func:`~initcheck.checks.evidence.statistical_verdict`) lists each failed one under
    ``"failures"`` in its evidence; any other failure is one part, its whole message.
    """
    data = dict(data or {})
    listed = data.get("failures")
    if isinstance(listed, list) and listed:
        return [(str(p.get("message", "")), {**data, **dict(p.get("data") or {})}) for p in listed]
    return [(message, data)]


@dataclass(frozen=True)
class Declarations:
    """Every expected failure one spec declares for one check, judged together.

    A failure is declared when *each* of its parts (:func:`failure_parts`) is
    matched by at least one of the declarations: one declared cause cannot
    cover another, undeclared one that fails beside it.  With a single
    declaration it behaves as that :class:`ExpectedFailure`.
    """

    items: tuple[ExpectedFailure, ...]

    @property
    def reason(self) -> str:
        return " | ".join(d.reason for d in self.items)

    @property
    def versions(self) -> str:
        return " | ".join(d.versions for d in self.items) if len(self.items) > 1 else self.items[0].versions

    @property
    def evidence(self) -> str:
        return " | ".join(d.evidence for d in self.items if d.evidence)

    @property
    def match(self) -> str:
        return " | ".join(d.match for d in self.items) if len(self.items) > 1 else self.items[0].match

    def holding(self, installed: Mapping[str, str]) -> Optional["Declarations"]:
        """The declarations that hold for ``installed``, or ``None`` when none does."""
        kept = tuple(d for d in self.items if d.applies(installed))
        return Declarations(kept) if kept else None

    def covering(self, message: str, data: Optional[Mapping[str, Any]] = None) -> list[ExpectedFailure]:
        """The declarations this failure shows (each matched by one of its parts, in declaration order)."""
        parts = failure_parts(message, data)
        return [d for d in self.items if any(d.matches(m, pd) for m, pd in parts)]

    def uncovered(self, message: str, data: Optional[Mapping[str, Any]] = None) -> list[str]:
        """The parts of this failure that no declaration matches (empty: the failure is the declared one)."""
        return [m for m, pd in failure_parts(message, data) if not any(d.matches(m, pd) for d in self.items)]

    def matches(self, message: str, data: Optional[Mapping[str, Any]] = None) -> bool:
        """Is every part of this failure a declared one?"""
        return not self.uncovered(message, data)


def declarations(value: Any) -> tuple[ExpectedFailure, ...]:
    """An ``expected_failures`` value (a reason, an :class:`ExpectedFailure` or a list/tuple of them) as a tuple."""
    if isinstance(value, Declarations):
        return value.items
    if isinstance(value, (list, tuple)):
        return tuple(_as_expected(v) for v in value)
    return (_as_expected(value),)


def validate_name(value: Any) -> str:
    """Check a spec's ``name`` (shared by every kind of spec); return it for messages."""
    name = value if isinstance(value, str) else repr(value)
    if not isinstance(value, str) or not value or ">" in value or any(c.isspace() for c in value):
        raise SpecError(name, "name", "must be a non-empty string without spaces or '>'")
    return name


def _as_expected(value: Union[str, ExpectedFailure]) -> ExpectedFailure:
    return value if isinstance(value, ExpectedFailure) else ExpectedFailure(reason=str(value))


def validate_declarations(spec_name: str, expected: Mapping[str, Any],
                          known_checks: Optional[Collection[str]] = None) -> None:
    """Raise :class:`SpecError` (naming ``spec_name`` and the check) on a bad ``expected_failures`` table."""
    for check, value in dict(expected).items():
        if known_checks is not None and check not in known_checks:
            raise SpecError(spec_name, f"expected_failures[{check!r}]",
                            f"names no registered check; known: {sorted(known_checks)}")
        if isinstance(value, (list, tuple)) and not value:
            raise SpecError(spec_name, f"expected_failures[{check!r}]", "is an empty list (leave the check out)")
        bad = [v for v in (value if isinstance(value, (list, tuple)) else [value])
               if not isinstance(v, (str, ExpectedFailure))]
        if bad:
            raise SpecError(spec_name, f"expected_failures[{check!r}]",
                            f"must be a reason, an ExpectedFailure or a list of them, got {bad[0]!r}")
        items = declarations(value)
        for d in items:
            d.validate(spec_name, check)
        if len(items) > 1 and any(not d.match for d in items):
            raise SpecError(spec_name, f"expected_failures[{check!r}]",
                            "several declarations for one check each need a match (one without a match "
                            "covers every failure, so the others could never be told apart)")


class _Declaring:
    """The declaration accessors both spec kinds share (over their ``expected_failures`` table)."""

    expected_failures: Mapping[str, Any]

    def expected_failure(self, check: str) -> Optional[ExpectedFailure]:
        """The (first) declaration for ``check``; :meth:`declarations` gives every one."""
        found = self.declarations(check)
        return found[0] if found else None

    def declarations(self, check: str) -> tuple[ExpectedFailure, ...]:
        """Every expected failure declared for ``check`` (empty when none)."""
        value = self.expected_failures.get(check)
        return () if value is None else declarations(value)


def _validate_needs(name: str, needs: Any) -> None:
    """A spec's ``needs``: a tuple of capability names known to :data:`initcheck.keras_compat.CAPABILITIES`."""
    from .keras_compat import CAPABILITIES, unknown_capabilities

    if isinstance(needs, str) or not isinstance(needs, (tuple, list)):
        raise SpecError(name, "needs", f"must be a tuple of capability names, got {needs!r}")
    unknown = unknown_capabilities(needs)
    if unknown:
        raise SpecError(name, "needs", f"unknown capability {unknown[0]!r}; known: {sorted(CAPABILITIES)}")


def _unknown_tag(spec: Any, tag: str, known: Mapping[str, str]) -> SpecError:
    return SpecError(str(getattr(spec, "name", spec)), "tags",
                     f"has({tag!r}) asks for an unknown tag; known: {sorted(known)}")


@dataclass(frozen=True)
class InitializerSpec(_Declaring):
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
        fan_convention: Which fans the initializer itself uses, and so what
            the layer checks expect (:data:`FAN_CONVENTIONS`): ``"layer"``
            (default: the law holds at each layer's true fans) or ``"shape"``
            (fans from the kernel shape, like Keras's ``VarianceScaling``:
            on transposed, depthwise, einsum and attention kernels the
            variance differs from the law at the true fans, and the layer
            checks report that as an expected failure of the convention,
            with the measured ratio).  Either way the ``fans`` passed to
            ``law`` are the kernel's shape fans
            (:func:`initcheck.laws.shape_fans`): a kernel alone has only its
            shape.  ``"keras"`` (0.2) is a deprecated alias of ``"layer"``.
        seeded_repeat: One *seeded* instance called twice with the same shape
            returns the ``"same"`` or ``"different"`` values (or ``"any"``).
        unseeded_repeat: The same for an instance built with ``seed=None``.
        namespace: Overrides the distribution part of the qualified name
            (the built-ins use ``keras``).
        expected_failures: ``{check_name: ExpectedFailure or reason}``, or a list of
            them for a check that fails for several declared causes (each then
            needs a ``match``; see :class:`Declarations`).
        description: One line for listings.
        min_size: Smallest size of each dimension it accepts.
        seed_range: ``(lo, hi)``, the integer seeds the factory documents:
            each draws its own values and every other integer raises
            ``ValueError``, ``TypeError`` or ``OverflowError``.  ``None`` (the
            default): every integer either draws its own values or raises one
            of those errors, and ``0 .. 2**31 - 1`` draw.  Checked with
            designed seeds by ``check_seed_collisions``.
        needs: Capabilities the object itself needs, from
            :data:`initcheck.keras_compat.CAPABILITIES`: ``("tf_ops",)`` for an
            initializer written with TensorFlow ops (``tf.random.normal``).  On a
            Keras 3 backend without them every check of the spec is reported
            ``not_applicable`` with the reason, instead of failing.
    """

    name: str
    factory: Callable[[Optional[int]], Any]
    law: Union[Law, LawFunction]
    activations: tuple[str, ...] = ()
    tags: frozenset = frozenset({"iid", "seeded"})
    dtypes: tuple[str, ...] = FLOAT_DTYPES
    ranks: tuple[int, ...] = (1, 2, 3, 4, 5)
    fan_convention: str = "layer"
    seeded_repeat: str = "same"
    unseeded_repeat: str = "any"
    namespace: Optional[str] = None
    expected_failures: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    min_size: int = 1
    seed_range: Optional[tuple[int, int]] = None
    needs: tuple[str, ...] = ()

    kind = "initializer"

    def __post_init__(self) -> None:
        if self.fan_convention == "keras":
            warnings.warn("fan_convention='keras' is deprecated: it named the fans passed to `law` (always the "
                          "kernel's shape fans). Use 'layer' (the default, as before: strict layer checks) or "
                          "'shape' if your initializer computes fans from the kernel shape",
                          DeprecationWarning, stacklevel=3)
            object.__setattr__(self, "fan_convention", "layer")
        if isinstance(self.expected_failures, Mapping) and set(self.expected_failures) & set(RENAMED_CHECKS):
            object.__setattr__(self, "expected_failures", _canonical_keys(self.expected_failures))

    def law_for(self, shape: tuple[int, ...]) -> Law:
        """The law for a kernel of ``shape`` (fans by the spec's convention)."""
        if isinstance(self.law, Law):
            return self.law
        return self.law(tuple(shape), self.fans(shape))

    def fans(self, shape: tuple[int, ...]) -> Fans:
        return shape_fans(shape)

    def has(self, tag: str) -> bool:
        """Does the spec carry ``tag``?  An unknown tag raises :class:`SpecError` (a typo is not a "no")."""
        if tag not in INITIALIZER_TAGS:
            raise _unknown_tag(self, tag, INITIALIZER_TAGS)
        return tag in self.tags

    def validate(self, known_checks: Optional[Collection[str]] = None) -> None:
        """Raise :class:`SpecError` naming the first bad field.

        Args:
            known_checks: Names of the registered checks; when given, an
                ``expected_failures`` key that names none of them is an error.
        """
        name = validate_name(self.name)
        if self.factory is None or not callable(self.factory):
            raise SpecError(name, "factory", f"must be a callable seed -> initializer, got {self.factory!r}")
        _validate_needs(name, self.needs)
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
        if self.fan_convention not in FAN_CONVENTIONS:
            raise SpecError(name, "fan_convention", f"unknown {self.fan_convention!r}; known: {sorted(FAN_CONVENTIONS)}")
        for fld in ("seeded_repeat", "unseeded_repeat"):
            if getattr(self, fld) not in SEED_SEMANTICS:
                raise SpecError(name, fld, f"must be one of {SEED_SEMANTICS}, got {getattr(self, fld)!r}")
        # Declarations that no check could read are rejected, not ignored.
        if "deterministic" in self.tags:
            for fld in ("seeded_repeat", "unseeded_repeat"):
                if getattr(self, fld) == "different":
                    raise SpecError(name, fld, "a 'deterministic' spec cannot return different values on a repeat "
                                    "call; use 'same' or 'any'")
        elif "seeded" not in self.tags and self.seeded_repeat == "different":
            raise SpecError(name, "seeded_repeat", "describes a seeded instance, but the spec is not tagged "
                            "'seeded' (add the tag if the factory honours its seed, else drop the field)")
        if not isinstance(self.min_size, int) or self.min_size < 1:
            raise SpecError(name, "min_size", f"must be a positive int, got {self.min_size!r}")
        _validate_seed_range(name, self.seed_range)
        validate_declarations(name, self.expected_failures, known_checks)
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


def _validate_seed_range(name: str, value: Any) -> None:
    """``None`` or ``(lo, hi)`` of ints covering the seeds the battery draws (``0 .. 2**31 - 1``)."""
    if value is None:
        return
    from .strategies import MAX_SEED

    ok = (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                               for v in value))
    if not ok or not value[0] <= 0 < MAX_SEED <= value[1]:
        raise SpecError(name, "seed_range", f"must be None or (lo, hi) with lo <= 0 and hi >= 2**31 - 1 (the "
                        f"battery draws seeds from 0 .. 2**31 - 1), got {value!r}")


# ====================================================================== optimizers

OPTIMIZER_DTYPES: tuple[str, ...] = ("float32", "float64")

#: Capability tags an optimizer spec may carry (each selects checks).
OPTIMIZER_TAGS: Mapping[str, str] = {
    "keras_object": "a Keras optimizer (apply_gradients, iterations, get_config/from_config)",
    "trajectory": "the k-step trajectory equals the reference rule",
    "lr_zero_fixed": "learning rate 0 leaves the weights unchanged",
    "zero_grad_fixed": "a zero gradient from a fresh state leaves the weights unchanged",
    "descent": "a small step on a convex quadratic decreases the loss",
    "sparse": "accepts IndexedSlices gradients, equal to the dense gradient (repeated indices summed)",
    "momentum": "has a momentum hyperparameter",
    "nesterov": "has a nesterov flag",
    "amsgrad": "has an amsgrad flag",
    "centered": "has a centered flag",
    "weight_decay": "decoupled weight decay ``w -= lr * wd * w`` with exclusions",
    "ema": "exponential moving average of the weights (use_ema)",
    "accumulation": "gradient_accumulation_steps",
    "loss_scaling": "can be wrapped by a loss-scale optimizer",
    "clipping": "clipnorm, clipvalue and global_clipnorm",
    "lr_callable": "learning rate may be a zero-argument callable",
    "lr_schedule": "learning rate may be a LearningRateSchedule",
    "checkpoint": ("state saves and restores: with tf.train.Checkpoint (TensorFlow), and with a compiled model's "
                   "save_weights / load_weights (.weights.h5, every Keras 3 backend)"),
    "distributed": "runs under tf.distribute.MirroredStrategy",
    "config": "get_config/from_config round trip",
    "defaults": "documented defaults are listed in ``defaults``",
    "elementwise": ("each entry's update reads only that entry's gradient and state, so a stacked variable "
                    "trains like separate ones (checked; the batched seed ensemble relies on it)"),
    "non_elementwise": "an entry's update reads other entries (the batched seed ensemble refuses it)",
    "layerwise": "the update reads per-variable statistics such as norms (LAMB's trust ratio)",
    "factored": "second moments are factored across axes (Adafactor)",
    "orthogonalized": "the update is orthogonalised over the whole matrix (Muon)",
}


@dataclass(frozen=True)
class OptimizerSpec(_Declaring):
    """What an optimizer promises.

    Args:
        name: Short name, unique within its distribution (``Adam``).
        factory: ``factory(**kwargs) -> optimizer``.  ``kwargs`` holds
            ``learning_rate``, the hyperparameters of ``space`` and, for mode
            checks, Keras's common options (``clipnorm``, ``weight_decay``,
            ``use_ema``, ``gradient_accumulation_steps`` ...).
        rule: The reference :class:`~initcheck.references.optimizers.Rule`.
        space: ``{hyperparameter: Hypothesis strategy}`` for the rule's
            hyperparameters (legal values only, extremes included).  A value
            may also be a constant.
        conventions: ``{convention: value}`` for the rule's named conventions
            (where frameworks differ); unspecified ones take the rule's default.
        defaults: Documented default values (``learning_rate`` included) that
            ``check_documented_defaults`` compares with a default-built object.
        tags: Capability tags from :data:`OPTIMIZER_TAGS`.
        tag_versions: ``{tag: "keras>=3.0"}``: the tag holds only for those
            versions (requirement strings over ``keras`` and ``tensorflow``,
            ``;``-separated).
        learning_rate: Strategy for learning rates (default 1e-4..0.5).
        dtypes: Variable dtypes the optimizer supports.
        namespace: Overrides the distribution part of the qualified name.
        expected_failures: ``{check_name: ExpectedFailure or reason}``, or a list of
            them for a check that fails for several declared causes (each then
            needs a ``match``; see :class:`Declarations`).
        description: One line for listings.
        min_rank: Smallest variable rank the rule accepts.
        default_weight_decay: The decay the optimizer applies when no
            ``weight_decay`` is passed (AdamW: 0.004); ``None`` for none.
        needs: Capabilities the object itself needs (as for initializers):
            ``("tf_ops",)`` for an optimizer whose update calls TensorFlow ops.
    """

    name: str
    factory: Callable[..., Any]
    rule: Rule
    space: Mapping[str, Any] = field(default_factory=dict)
    conventions: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    tags: frozenset = frozenset()
    tag_versions: Mapping[str, str] = field(default_factory=dict)
    learning_rate: Any = None
    dtypes: tuple[str, ...] = OPTIMIZER_DTYPES
    namespace: Optional[str] = None
    expected_failures: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    min_rank: int = 1
    default_weight_decay: Optional[float] = None
    needs: tuple[str, ...] = ()

    kind = "optimizer"

    def __post_init__(self) -> None:
        if isinstance(self.expected_failures, Mapping) and set(self.expected_failures) & set(RENAMED_CHECKS):
            object.__setattr__(self, "expected_failures", _canonical_keys(self.expected_failures))

    # ------------------------------------------------------------ capabilities
    def has(self, tag: str) -> bool:
        """Does the spec carry ``tag`` for the installed Keras version?  An unknown tag raises :class:`SpecError`."""
        if tag not in OPTIMIZER_TAGS:
            raise _unknown_tag(self, tag, OPTIMIZER_TAGS)
        if tag not in self.tags:
            return False
        versions = self.tag_versions.get(tag)
        if not versions:
            return True
        from . import keras_compat as kc

        return ExpectedFailure(reason="tag range", versions=versions).applies(kc.versions_from_metadata())

    def reference_hp(self, hparams: Mapping[str, Any]) -> dict[str, Any]:
        """Hyperparameters plus this spec's conventions, as the rule reads them."""
        out = dict(hparams)
        out.update(self.conventions)
        return out

    def hyperparameter_strategy(self, overrides: Optional[Mapping[str, Any]] = None) -> Any:
        """A strategy of hyperparameter dicts (constants become ``just``)."""
        from hypothesis import strategies as st

        parts = {}
        for key, value in {**dict(self.space), **dict(overrides or {})}.items():
            parts[key] = value if isinstance(value, st.SearchStrategy) else st.just(value)
        return st.fixed_dictionaries(parts)

    def learning_rate_strategy(self) -> Any:
        from .strategies import learning_rates

        return self.learning_rate if self.learning_rate is not None else learning_rates()

    def build(self, learning_rate: Any, hparams: Mapping[str, Any], **options: Any) -> Any:
        """The optimizer for these hyperparameters and options.

        An option set to ``None`` means "not given": it neither reaches the
        factory nor overrides a drawn hyperparameter of the same name.
        """
        given = {k: v for k, v in options.items() if v is not None}
        kwargs = {k: v for k, v in {**dict(hparams), **given}.items() if v is not None}
        return self.factory(learning_rate=learning_rate, **kwargs)

    # -------------------------------------------------------------- validation
    def validate(self, known_checks: Optional[Collection[str]] = None) -> None:
        """Raise :class:`SpecError` naming the first bad field (``known_checks``: as for initializers)."""
        name = validate_name(self.name)
        if self.factory is None or not callable(self.factory):
            raise SpecError(name, "factory", f"must be a callable (**kwargs) -> optimizer, got {self.factory!r}")
        _validate_needs(name, self.needs)
        from .references.optimizers import Rule

        if not isinstance(self.rule, Rule):
            raise SpecError(name, "rule", "must be an initcheck.references.optimizers.Rule "
                            f"(init/step functions), got {type(self.rule).__name__}")
        unknown = set(self.tags) - set(OPTIMIZER_TAGS)
        if unknown:
            raise SpecError(name, "tags", f"unknown tag(s) {sorted(unknown)}; known: {sorted(OPTIMIZER_TAGS)}")
        for tag, versions in dict(self.tag_versions).items():
            if tag not in self.tags:
                raise SpecError(name, "tag_versions", f"range given for tag {tag!r} that is not in tags")
            try:
                ExpectedFailure(reason="x", versions=versions).applies({"tensorflow": "2.0", "keras": "2.0"})
            except Exception as exc:
                raise SpecError(name, f"tag_versions[{tag!r}]", f"cannot parse {versions!r}: {exc}") from None
        if not isinstance(self.space, Mapping):
            raise SpecError(name, "space", "must map hyperparameter names to Hypothesis strategies or constants")
        extra = set(self.space) - set(self.rule.hyperparameters) - {"weight_decay"}
        if extra:
            raise SpecError(name, "space", f"hyperparameter(s) {sorted(extra)} are not read by rule "
                            f"{self.rule.name!r} (it reads {list(self.rule.hyperparameters)})")
        for conv, value in dict(self.conventions).items():
            if conv not in self.rule.conventions:
                raise SpecError(name, "conventions", f"rule {self.rule.name!r} has no convention {conv!r}; "
                                f"known: {sorted(self.rule.conventions)}")
            if value not in self.rule.conventions[conv]:
                raise SpecError(name, f"conventions[{conv!r}]",
                                f"{value!r} is not one of {self.rule.conventions[conv]}")
        if "defaults" in self.tags and "learning_rate" not in self.defaults:
            raise SpecError(name, "defaults", "tag 'defaults' needs at least the documented 'learning_rate'")
        for key, value in dict(self.defaults).items():
            if not isinstance(key, str):
                raise SpecError(name, "defaults", f"keys must be argument names, got {key!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise SpecError(name, f"defaults[{key!r}]", f"must be finite, got {value!r}")
        bad = [d for d in self.dtypes if d not in OPTIMIZER_DTYPES]
        if not self.dtypes or bad:
            raise SpecError(name, "dtypes", f"must be a non-empty subset of {OPTIMIZER_DTYPES}, got {self.dtypes!r}")
        if not isinstance(self.min_rank, int) or not 1 <= self.min_rank <= 3:
            raise SpecError(name, "min_rank", f"must be 1, 2 or 3, got {self.min_rank!r}")
        for tag, needs in (("nesterov", "momentum"),):
            if tag in self.tags and needs not in self.tags:
                raise SpecError(name, "tags", f"{tag!r} needs {needs!r}")
        coupled = sorted(set(self.tags) & {"non_elementwise", "layerwise", "factored", "orthogonalized"})
        if "elementwise" in self.tags and coupled:
            raise SpecError(name, "tags", f"'elementwise' contradicts {coupled}")
        validate_declarations(name, self.expected_failures, known_checks)
        # Draw one example so a broken strategy fails now, not mid-run.
        try:
            from hypothesis import strategies as st

            for key, value in dict(self.space).items():
                if isinstance(value, st.SearchStrategy):
                    value.validate()
            strategy = self.learning_rate_strategy()
            if not isinstance(strategy, st.SearchStrategy):
                raise TypeError(f"learning_rate must be a Hypothesis strategy, got {type(strategy).__name__}")
            strategy.validate()
        except SpecError:
            raise
        except Exception as exc:
            raise SpecError(name, "space", f"invalid strategy: {type(exc).__name__}: {exc}") from None
