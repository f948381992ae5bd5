"""The search of one item: :func:`run_check` runs a check's designed cases and
its Hypothesis search on one spec, applies the declarations that hold to each
failing case, and raises the first undeclared failure (or every declared one
together, so a declared failure cannot hide another).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional

from ..checks.evidence import CheckFailure, DeclaredFailure, Evidence
from ..spec import Declarations, declarations
from .items import Item, reproduce_command
from .options import hypothesis_settings, item_seed, run_seed

__all__ = ["run_check", "CaseNotApplicable"]


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
        with _draws_of_this_item_only():
            search()
    except Exception as exc:
        from hypothesis.errors import Unsatisfiable

        if isinstance(exc, Unsatisfiable) and rejected and not collected and not declared:
            raise CaseNotApplicable(f"{rejected[0]}; every case drawn ({len(rejected)}) needs it") from None
        raise
    return _settled(collected, declared)


@contextlib.contextmanager
def _draws_of_this_item_only() -> Iterator[None]:
    """Keep Hypothesis from mixing literals of the process's local modules into the draws.

    Hypothesis 6.131 and later draw, with probability 0.05 per choice, numbers
    and strings it collects from every local (not installed) module imported
    so far.  The same derandomized search then draws other cases in a process
    that imported more (a pytest session, an editable install) than in
    another, and a gate verdict depends on what ran before it.  The object
    under test lives in installed packages, whose literals Hypothesis never
    collects, so nothing is lost by drawing without them.  Older Hypothesis
    releases have no such pool: nothing to do.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - Hypothesis < 6.131
        yield
        return
    collect = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if collect is None or cache is None:  # pragma: no cover - another layout of Hypothesis's internals
        yield
        return
    none = Constants()
    providers._get_local_constants = lambda: none
    cache.cache.clear()  # permitted constants cached with the local ones of an earlier draw
    try:
        yield
    finally:
        providers._get_local_constants = collect
        cache.cache.clear()


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
