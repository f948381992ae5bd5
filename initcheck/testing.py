"""Public API for plugin authors: run the battery on your specs in your tests.

Example::

    from initcheck.testing import parametrize_with_checks
    from mypackage.initcheck_specs import MY_SPEC

    @parametrize_with_checks([MY_SPEC], expected_failures={"check_repeat_call": "documented quirk"})
    def test_my_initializer(spec, check):
        check(spec)

Expected failures become *strict* xfails: when the problem is fixed the
test reports XPASS and fails, so the declaration is removed on purpose.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import pytest

from .options import default_profile

__all__ = ["parametrize_with_checks", "BoundCheck", "xfail_where"]


class BoundCheck:
    """A check bound to one spec; call it with the spec to run it."""

    def __init__(self, item: Any, profile: str):
        self.item = item
        self.profile = profile
        self.name = item.check.name

    def __call__(self, spec: Any = None) -> list:
        from .battery import execute

        if spec is not None and spec is not self.item.spec:
            raise ValueError(f"{self.name} is bound to {self.item.qualname}; call it with that spec")
        return execute(self.item, self.profile)

    def __repr__(self) -> str:
        return self.name


def parametrize_with_checks(
    specs: Sequence[Any],
    expected_failures: Optional[Mapping[str, Union[str, Any]]] = None,
    profile: Optional[str] = None,
) -> Callable:
    """``pytest.mark.parametrize("spec, check", ...)`` over every applicable check.

    Args:
        specs: Initializer or optimizer specs (validated now: an invalid spec
            raises :class:`~initcheck.spec.SpecError` naming spec and field),
            ``(qualname, spec)`` pairs, or :class:`~initcheck.registry.Registered`.
        expected_failures: ``{check_name: reason or ExpectedFailure}`` applied
            to every spec, on top of those the specs declare themselves.
        profile: ``"ci"`` (default, derandomized) or ``"thorough"``.

    Returns:
        A pytest parametrize marker; ids read ``local>MyInit-check_seed_contract``.
    """
    from . import battery
    from .checks import all_checks
    from .spec import ExpectedFailure

    profile = profile or default_profile()
    extra = {}
    for check, value in dict(expected_failures or {}).items():
        if check not in all_checks():
            raise ValueError(f"expected_failures names unknown check {check!r}; known: {sorted(all_checks())}")
        extra[check] = value if isinstance(value, ExpectedFailure) else ExpectedFailure(reason=str(value))
    params = []
    for entry in specs:
        if isinstance(entry, tuple):
            qual, spec = entry
        elif hasattr(entry, "qualname") and hasattr(entry, "spec"):
            qual, spec = entry.qualname, entry.spec
        else:
            qual, spec = battery.spec_label(entry), entry
        spec.validate()
        for bitem in battery.plan([(qual, spec)], profile):
            xf = extra.get(bitem.check.name)
            if xf is not None and not xf.applies(battery.installed_versions()):
                xf = None
            xf = xf or battery.expected_failure_for(bitem)
            marks = [pytest.mark.xfail(strict=True, reason=xf.reason)] if xf else []
            params.append(pytest.param(spec, BoundCheck(bitem, profile), id=bitem.id, marks=marks))
    return pytest.mark.parametrize("spec, check", params)


def xfail_where(finding: Any) -> Any:
    """A strict ``xfail`` mark for a test that a declared finding breaks on the installed versions.

    For your own tests around a spec: ``@xfail_where(SEED_ZERO_IGNORED)``
    marks the test as an expected failure (strict, so a fix shows as XPASS)
    exactly where ``finding.versions`` holds, and leaves it a plain test
    elsewhere.  Imports TensorFlow once (to read the versions).
    """
    from .battery import installed_versions

    return pytest.mark.xfail(finding.applies(installed_versions()), reason=finding.reason, strict=True)

