"""The battery's checks: plain functions selected by capability.

A check is ``func(spec, case) -> Evidence`` that raises
:class:`~initcheck.checks.evidence.CheckFailure` on failure.  It knows
nothing of pytest.  :func:`register_check` declares, next to the function,
which specs it applies to (a predicate over tags/fields, never over names),
how Hypothesis draws its cases, and how many examples the default gate runs;
the registered function stamps its own name on its evidence, so a body never
types it.

Families (one module each, or a few): ``structural`` (the contract of every
initializer; designed seed collisions in ``seeds``), ``distribution``
(marginal laws, pooled draws: ``_sampling``; dependence between entries:
``dependence``),
``layers`` (the kernels real Keras layers build), ``structured``
(orthogonal/Haar, spectra), ``propagation`` (signal through depth),
``optimizer`` (update rules in every mode) and ``convergence`` (toy tasks).

Every check of a kind depends on that kind's *contract* check
(:data:`CONTRACTS`: ``check_output_contract`` for initializers,
``check_optimizer_contract`` for optimizers), so an object that raises, or
returns the wrong shape, dtype or non-finite values, fails once and every
other check of the spec is reported blocked.  A check name is unique within
its kind; ``check_config_round_trip`` is the one name both kinds share.

Check modules must not import TensorFlow at import time; they reach Keras
through :mod:`initcheck.keras_compat` inside the check body.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .evidence import CheckFailure, Evidence

__all__ = ["Check", "register_check", "all_checks", "checks_for", "CHECK_MODULES", "FAMILIES", "CONTRACTS",
           "check_names"]

#: Check families, in the order runners report them (the layer checks are distribution checks).
FAMILIES: tuple[str, ...] = ("structural", "distribution", "structured", "propagation", "optimizer", "convergence")

#: Modules that define checks, imported on first use of :func:`all_checks`.
CHECK_MODULES: tuple[str, ...] = (
    "initcheck.checks.structural",
    "initcheck.checks.seeds",
    "initcheck.checks.distribution",
    "initcheck.checks.dependence",
    "initcheck.checks.layers",
    "initcheck.checks.structured",
    "initcheck.checks.propagation",
    "initcheck.checks.optimizer",
    "initcheck.checks.convergence",
)

#: The contract check of each kind: every other check of that kind depends on it.
CONTRACTS: dict[str, str] = {"initializer": "check_output_contract", "optimizer": "check_optimizer_contract"}

_REGISTRY: dict[tuple[str, str], "Check"] = {}


@dataclass(frozen=True)
class Check:
    """A registered check.

    Attributes:
        name: ``check_*``; the id users pass to ``-k`` and ``expected_failures``.
        func: ``func(spec, case) -> Evidence``.
        kind: ``"initializer"`` or ``"optimizer"``.
        family: Grouping for reports and benchmarks (``structural``,
            ``distribution``, ``propagation``, ``optimizer``, ``convergence``).
        applies: ``applies(spec) -> bool`` from the spec's capabilities.
        strategy: ``strategy(spec) -> SearchStrategy[dict]`` drawing cases as
            JSON-able dicts, or ``None`` for a check run once with ``case={}``.
        examples: Hypothesis examples in the default (``ci``) profile.
        statistical: True when the check makes statistical assertions that
            draw on the run's false-fail budget.
        depends_on: Checks whose failure makes this one meaningless; a
            runner reports those once and reports dependents as blocked.
            The kind's contract check (:data:`CONTRACTS`) is always among
            them.
        thorough_only: Only run in the ``thorough`` profile.
        needs: Backend capabilities the check needs
            (:data:`initcheck.keras_compat.CAPABILITIES`, e.g.
            ``tf_indexed_slices``); on a backend without one the check is
            reported ``not_applicable``, never skipped silently.
        case_needs: ``case_needs(case) -> capabilities`` one case needs
            beyond ``needs`` (e.g. a case with a sparse step needs
            ``tf_indexed_slices``); a case whose capability the backend
            lacks is not run and replaced by another (as a case whose dtype
            it lacks: :func:`initcheck.keras_compat.case_missing`).
        designed: ``designed(spec) -> [case, ...]``: cases chosen by design
            (each option of the spec with repeated sparse indices, say), run
            in every profile before the drawn cases and judged the same way.
    """

    name: str
    func: Callable[[Any, dict], Any]
    kind: str
    family: str
    applies: Callable[[Any], bool]
    strategy: Optional[Callable[[Any], Any]] = None
    examples: int = 10
    statistical: bool = False
    depends_on: tuple[str, ...] = ()
    thorough_only: bool = False
    needs: tuple[str, ...] = ()
    doc: str = field(default="", compare=False)
    case_needs: Optional[Callable[[dict], tuple[str, ...]]] = field(default=None, compare=False)
    designed: Optional[Callable[[Any], list[dict]]] = field(default=None, compare=False)

    def case_missing(self, case: dict) -> Optional[str]:
        """Why ``case`` cannot run on this backend (its dtype, or :attr:`case_needs`), or ``None``."""
        from .. import keras_compat

        reason = keras_compat.case_missing(case)
        if reason is None and self.case_needs is not None:
            reason = keras_compat.capability_missing(tuple(self.case_needs(case)))
        return reason

    def __call__(self, spec: Any, case: Optional[dict] = None) -> Any:
        return self.func(spec, case or {})


def register_check(
    *,
    kind: str,
    family: str,
    applies: Callable[[Any], bool] = lambda spec: True,
    strategy: Optional[Callable[[Any], Any]] = None,
    examples: int = 10,
    statistical: bool = False,
    depends_on: tuple[str, ...] = (),
    thorough_only: bool = False,
    needs: tuple[str, ...] = (),
    case_needs: Optional[Callable[[dict], tuple[str, ...]]] = None,
    designed: Optional[Callable[[Any], list[dict]]] = None,
) -> Callable[[Callable], Callable]:
    """Decorator registering ``func`` as a check (name = function name).

    Returns the registered function: ``func`` wrapped so that the evidence it
    returns or raises carries the check's name (and the spec's, when the body
    left them empty).  ``depends_on`` gets the kind's contract check added.
    ``needs`` names backend capabilities (:data:`initcheck.keras_compat.CAPABILITIES`);
    ``case_needs(case)`` those one case needs beyond them.  ``designed(spec)``
    lists cases chosen by design that run in every profile before the drawn
    ones (a combination the search would find only by luck).
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown check family {family!r}; known: {FAMILIES}")
    from ..keras_compat import CAPABILITIES, unknown_capabilities

    unknown = unknown_capabilities(needs)
    if unknown:
        raise ValueError(f"unknown capability {unknown}; known: {sorted(CAPABILITIES)}")

    def deco(func: Callable) -> Callable:
        name = func.__name__
        if not name.startswith("check_"):
            raise ValueError(f"check functions are named check_*, got {name!r}")
        known = _REGISTRY.get((kind, name))
        if known is not None and getattr(known.func, "__wrapped__", None) is not func:
            raise ValueError(f"two {kind} checks named {name!r}")

        @functools.wraps(func)
        def registered(spec: Any, case: dict) -> Any:
            try:
                ev = func(spec, case)
            except CheckFailure as failure:
                if _stamp(failure.evidence, name, spec):
                    raise failure.refresh() from None
                raise
            if isinstance(ev, Evidence):
                _stamp(ev, name, spec)
            return ev

        contract = CONTRACTS.get(kind)
        deps = tuple(depends_on)
        if contract and name != contract and contract not in deps:
            deps = (contract,) + deps
        _REGISTRY[(kind, name)] = Check(
            name=name, func=registered, kind=kind, family=family, applies=applies, strategy=strategy,
            examples=examples, statistical=statistical, depends_on=deps,
            thorough_only=thorough_only, needs=tuple(needs), doc=(func.__doc__ or "").strip().split("\n")[0],
            case_needs=case_needs, designed=designed,
        )
        return registered

    return deco


def _stamp(ev: Evidence, check: str, spec: Any) -> bool:
    """Fill the check and spec names a body left empty; True when something changed."""
    changed = False
    if not ev.check:
        ev.check, changed = check, True
    if not ev.spec:
        ev.spec, changed = str(getattr(spec, "name", "")), True
    return changed


def _ordered() -> list[Check]:
    for mod in CHECK_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:  # a real import error inside the module
                raise
    return sorted(_REGISTRY.values(), key=lambda c: (c.kind, FAMILIES.index(c.family),
                                                      c.name != CONTRACTS.get(c.kind),
                                                      len(c.depends_on), c.name))


def all_checks(kind: Optional[str] = None) -> dict[str, Check]:
    """Every registered check of ``kind`` (all kinds when ``None``), by name, in a stable order.

    In the all-kinds view a name both kinds register (``check_config_round_trip``)
    maps to one :class:`Check` that runs, for each spec, the check of the
    spec's kind (its ``kind`` reads ``"initializer|optimizer"``).
    """
    out: dict[str, Check] = {}
    shared: dict[str, list[Check]] = {}
    for check in _ordered():
        if kind is None or check.kind == kind:
            if check.name in out:
                shared.setdefault(check.name, [out[check.name]]).append(check)
            else:
                out[check.name] = check
    for name, variants in shared.items():
        out[name] = _by_kind(variants)
    return out


def _by_kind(variants: list[Check]) -> Check:
    """One check over several kinds: each call goes to the variant of the spec's kind."""
    table = {c.kind: c for c in variants}

    def pick(spec: Any) -> Check:
        return table[spec.kind]

    def func(spec: Any, case: dict) -> Any:
        return pick(spec).func(spec, case)

    def strategy(spec: Any) -> Any:
        chosen = pick(spec).strategy
        return chosen(spec) if chosen else None

    first = variants[0]
    return Check(name=first.name, func=func, kind="|".join(table), family=first.family,
                 applies=lambda spec: spec.kind in table and pick(spec).applies(spec),
                 strategy=strategy, examples=max(c.examples for c in variants),
                 statistical=any(c.statistical for c in variants),
                 needs=tuple(dict.fromkeys(n for c in variants for n in c.needs)), doc=first.doc)


def check_names() -> set[str]:
    """Every registered check name, of either kind."""
    return {c.name for c in _ordered()}


def checks_for(spec: Any, profile: str = "ci") -> list[Check]:
    """The checks that apply to ``spec`` (by kind and capability)."""
    out = []
    for check in _ordered():
        if check.kind != spec.kind:
            continue
        if check.thorough_only and profile != "thorough":
            continue
        if check.applies(spec):
            out.append(check)
    return out
