"""initcheck under pytest: the battery as test items, and in your own tests.

Two faces of one thing:

* **The pytest plugin** (``pytest11`` entry point ``initcheck``).  Loaded by
  pytest in every project where initcheck is installed, so importing this
  module must stay cheap: no TensorFlow, no Keras, no registry scan.
  Nothing happens unless ``--initcheck`` (or the ``initcheck = true`` ini
  option) is given; then every registered spec gets one item per applicable
  check, named ``test_initializer[keras>GlorotUniform-check_seed_contract]``
  so that ``-k`` selects them, and every plugin that failed to load gets one
  failing ``test_plugin_load[distribution:entry point]`` item.  With
  ``--initcheck-report DIR`` the outcomes and their evidence become the HTML
  report of :mod:`initcheck.reports.html`, under ``pytest -n`` (xdist) too:
  each item's record travels to the controller on its test report.
* **For plugin authors' own tests**: :func:`parametrize_with_checks` runs the
  battery on your specs inside your test suite, with known differences
  declared as strict expected failures; :func:`xfail_where` marks one of your
  tests as failing exactly where a declared finding holds.

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

from .battery import apply_budget, default_profile
from .checks import FAMILIES

__all__ = ["parametrize_with_checks", "BoundCheck", "xfail_where", "InitcheckItem", "LoadErrorItem",
           "ReportCollector"]


# ====================================================================== the pytest plugin

def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("initcheck", "initializer/optimizer verification battery")
    group.addoption("--initcheck", action="store_true", default=None,
                    help="add the initcheck battery for every registered plugin to this run")
    group.addoption("--initcheck-select", default=None, metavar="PATTERNS",
                    help="comma-separated globs over spec names (keras>Glorot*,myplugin); env INITCHECK_SELECT")
    group.addoption("--initcheck-exclude", default=None, metavar="PATTERNS",
                    help="comma-separated globs of specs to drop; env INITCHECK_EXCLUDE")
    group.addoption("--initcheck-checks", default=None, metavar="PATTERNS",
                    help="comma-separated globs over check names (check_seed_*,check_output_contract)")
    group.addoption("--initcheck-profile", default=None, choices=("ci", "thorough"),
                    help="ci: derandomized gate (default); thorough: more examples, varied seeds")
    group.addoption("--initcheck-false-fail", type=float, default=None, metavar="P",
                    help="false-fail budget for the whole run (default 1e-6)")
    group.addoption("--initcheck-false-pass", type=float, default=None, metavar="P",
                    help="false-pass rate at the named smallest discrepancy (default 1e-6)")
    group.addoption("--initcheck-report", default=None, metavar="DIR",
                    help="write the HTML report of the battery's outcomes into DIR (pip install \"initcheck[report]\")")
    parser.addini("initcheck", type="bool", default=False, help="run the initcheck battery (like --initcheck)")


def _profile(config: Any) -> str:
    return config.getoption("initcheck_profile") or default_profile()


def pytest_configure(config: Any) -> None:
    for family in FAMILIES:
        config.addinivalue_line("markers", f"initcheck_{family}: initcheck {family} checks")
    try:
        apply_budget(config.getoption("initcheck_false_fail"), config.getoption("initcheck_false_pass"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("initcheck_report", None):
        if not _enabled(config):
            raise pytest.UsageError("--initcheck-report reports the initcheck battery: add --initcheck")
        from .reports.html import MissingExtra, require

        try:
            require()
        except MissingExtra as exc:
            raise pytest.UsageError(str(exc)) from None
        config.pluginmanager.register(ReportCollector(config), "initcheck-report")


def _enabled(config: Any) -> bool:
    flag = config.getoption("initcheck")
    return bool(flag) if flag is not None else bool(config.getini("initcheck"))


class _Collector(pytest.Collector):
    """Parent node of the battery's items (``initcheck::...``)."""

    def collect(self) -> list:  # items are created directly by the hook
        return []


class InitcheckItem(pytest.Item):
    """One (spec, check) pair."""

    def __init__(self, *, battery_item: Any, profile: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.battery_item = battery_item
        self.profile = profile

    def runtest(self) -> None:
        from .battery import execute

        self.evidence = execute(self.battery_item, self.profile)

    def repr_failure(self, excinfo: Any, style: Optional[str] = None) -> Any:
        from .checks.evidence import CheckFailure

        if isinstance(excinfo.value, CheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple:
        return self.path, None, self.name


class LoadErrorItem(pytest.Item):
    """A plugin that could not be loaded: one clear failing item."""

    def __init__(self, *, load_error: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.load_error = load_error

    def runtest(self) -> None:
        raise PluginLoadFailed(self.load_error.describe())

    def repr_failure(self, excinfo: Any, style: Optional[str] = None) -> Any:
        return str(excinfo.value)

    def reportinfo(self) -> tuple:
        return self.path, None, self.name


class PluginLoadFailed(Exception):
    """Raised by a :class:`LoadErrorItem`."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: Any, config: Any, items: list) -> None:
    if not _enabled(config):
        return
    from . import battery
    from .registry import load_registry, parse_patterns

    registry = load_registry(select=parse_patterns(config.getoption("initcheck_select")),
                             exclude=parse_patterns(config.getoption("initcheck_exclude")))
    profile = _profile(config)
    parent = _Collector.from_parent(session, name="initcheck")
    new = []
    for err in registry.errors:
        new.append(LoadErrorItem.from_parent(parent, name=f"test_plugin_load[{err.label}]", load_error=err))
    specs = [(r.qualname, r.spec) for r in registry.specs.values()]
    checks = parse_patterns(config.getoption("initcheck_checks")) or None
    for bitem in battery.plan(specs, profile, checks):
        node = InitcheckItem.from_parent(parent, name=f"test_{bitem.spec.kind}[{bitem.id}]",
                                         battery_item=bitem, profile=profile)
        xf = battery.expected_failure_for(bitem)
        if xf is not None:
            node.add_marker(pytest.mark.xfail(strict=True, reason=f"{xf.reason} [{xf.versions or 'all versions'}]"))
        node.add_marker(getattr(pytest.mark, f"initcheck_{bitem.check.family}"))
        new.append(node)
    items.extend(new)


# ---------------------------------------------------------------------- the report (--initcheck-report)

class ReportCollector:
    """``--initcheck-report DIR``: collect every battery outcome with its evidence, write the report at the end.

    Registered only when asked for.  A record is made where the item ran
    (a worker under ``pytest -n``), rides on its test report as a user
    property, and is collected where the reports arrive (the controller, or
    the one process): one path for both.  The property is taken off again
    there, so no evidence reaches JUnit XML.
    """

    PROPERTY = "initcheck_record"

    def __init__(self, config: Any):
        self.config = config
        self.worker = hasattr(config, "workerinput")
        self.records: list[dict] = []
        self.load_errors: list[str] = []
        self.path: Any = None

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> Any:
        outcome = yield  # the outermost wrapper: pytest's xfail handling has shaped the report already
        rep = outcome.get_result()
        if call.when != "call" and not (call.when == "setup" and not rep.passed):
            return
        import json

        if isinstance(item, InitcheckItem):
            rep.user_properties.append((self.PROPERTY, json.dumps(_record(item, rep, call), default=str)))
        elif isinstance(item, LoadErrorItem):
            rep.user_properties.append((self.PROPERTY, json.dumps({"load_error": item.load_error.describe()})))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.worker:
            return  # xdist sends this report, property included, to the controller
        import json

        kept = []
        for name, value in report.user_properties:
            if name != self.PROPERTY:
                kept.append((name, value))
                continue
            record = json.loads(value)
            if "load_error" in record:
                self.load_errors.append(record["load_error"])
            else:
                self.records.append(record)
        report.user_properties = kept

    def pytest_sessionfinish(self, session: Any) -> None:
        if self.worker or not (self.records or self.load_errors):
            return
        from . import keras_compat, stats
        from .reports.html import render
        from .reports.results import results_document

        doc = results_document(_profile(self.config), keras_compat.versions_from_metadata(), self.records,
                               self.load_errors, sum(r["seconds"] for r in self.records),
                               stats.budget().describe())
        self.path = render(doc, self.config.getoption("initcheck_report"))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.path:
            terminalreporter.write_line(f"initcheck report: {self.path}")


def _record(item: Any, rep: Any, call: Any) -> dict:
    """The outcome of one battery item, as the CLI's results document records it."""
    from .battery import expected_failure_for
    from .checks.evidence import CheckFailure
    from .reports.results import outcome_record

    exc = call.excinfo.value if call.excinfo is not None else None
    xf = expected_failure_for(item.battery_item)
    evidence = [exc.evidence] if isinstance(exc, CheckFailure) else list(getattr(item, "evidence", None) or [])
    if rep.skipped and hasattr(rep, "wasxfail"):
        status = "xfailed"
        message = (str(exc) if exc is not None else "") + (f"\n  expected failure: {xf.reason}" if xf else "")
    elif rep.skipped:
        status, message = "skipped", str(getattr(exc, "msg", None) or exc or "")
    elif rep.failed and str(rep.longrepr).startswith("[XPASS(strict)]"):
        status, message = "xpassed", f"declared expected failure did not happen (strict): {xf.reason if xf else ''}"
    elif rep.passed:
        status, message = "passed", ""
    else:
        status = "failed" if isinstance(exc, AssertionError) else "error"
        message = str(exc) if exc is not None else str(rep.longrepr)
    return outcome_record(item.battery_item.qualname, item.battery_item.check, status, call.duration, message,
                          evidence, xf if status in ("xfailed", "xpassed") else None)


# ====================================================================== in your own tests

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
    from . import keras_compat
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
            if xf is not None and not xf.applies(keras_compat.versions()):
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
    from . import keras_compat

    return pytest.mark.xfail(finding.applies(keras_compat.versions()), reason=finding.reason, strict=True)

