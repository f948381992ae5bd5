"""initcheck under pytest: the battery as test items, and in your own tests.

Two faces of one thing:

* **The pytest plugin** (``pytest11`` entry point ``initcheck``).  Loaded by
  pytest in every project where initcheck is installed, so importing this
  module imports nothing but pytest, and nothing else happens unless
  ``--initcheck`` (or the ``initcheck = true`` ini option, or a battery node
  id on the command line) is given.  Then pytest collects one more node,
  ``initcheck``, holding one item per (spec, check) pair, named
  ``initcheck::test_initializer[keras>GlorotUniform-check_seed_contract]``,
  and one failing ``initcheck::test_plugin_load[distribution:entry point]``
  item per plugin in the selection that failed to load.  Being collected like
  any test, the items are counted by ``-k``/``-m``, re-run by ``--lf``/``--ff``,
  and a failing item's node id given back to pytest re-runs exactly that item.
  With ``--initcheck-report DIR`` the outcomes and their evidence become the
  HTML report of :mod:`initcheck.reports.html`, under ``pytest -n`` (xdist)
  too: each item's record travels to the controller on its test report.
* **For plugin authors' own tests**: :func:`parametrize_with_checks` runs the
  battery on your specs inside your test suite, with known differences
  declared as strict expected failures; :func:`xfail_where` marks one of your
  tests as failing exactly where a declared finding holds.

Example::

    from initcheck.testing import parametrize_with_checks
    from mypackage.initcheck_specs import MY_SPEC

    @parametrize_with_checks([MY_SPEC])
    def test_my_initializer(spec, check):
        check(spec)

Every verdict is the battery's (:func:`initcheck.battery.run_one`): a
declared failure whose ``match`` the failure meets is reported ``xfail``; a
declared failure that did not happen fails as ``[XPASS(strict)]``, so a fix is
noticed and the declaration removed on purpose; a check whose contract check
failed is skipped as ``blocked``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import pytest

__all__ = ["parametrize_with_checks", "BoundCheck", "xfail_where", "InitcheckItem", "LoadErrorItem",
           "BatteryCollector", "COLLECTOR_NAME", "ReportCollector"]

#: Name of the collector node that holds the battery's items (the first part of their node ids).
COLLECTOR_NAME = "initcheck"
_ID_PREFIX = COLLECTOR_NAME + "::"


# ====================================================================== the pytest plugin

def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("initcheck", "initializer/optimizer verification battery")
    group.addoption("--initcheck", action="store_true", default=None,
                    help="add the initcheck battery for every registered plugin to this run (ini: initcheck)")
    group.addoption("--initcheck-select", default=None, metavar="PATTERNS",
                    help="comma-separated globs over spec names (keras>Glorot*,myplugin); "
                         "ini initcheck_select, env INITCHECK_SELECT")
    group.addoption("--initcheck-exclude", default=None, metavar="PATTERNS",
                    help="comma-separated globs of specs to drop; ini initcheck_exclude, env INITCHECK_EXCLUDE")
    group.addoption("--initcheck-checks", default=None, metavar="PATTERNS",
                    help="comma-separated globs over check names (check_seed_*,check_output_contract)")
    group.addoption("--initcheck-profile", default=None, choices=("ci", "thorough"),
                    help="ci: derandomized gate (default); thorough: more examples, varied seeds; "
                         "ini initcheck_profile, env INITCHECK_PROFILE")
    group.addoption("--initcheck-false-fail", type=float, default=None, metavar="P",
                    help="false-fail budget for the whole run (default 1e-6)")
    group.addoption("--initcheck-false-pass", type=float, default=None, metavar="P",
                    help="false-pass rate at the named smallest discrepancy (default 1e-6)")
    group.addoption("--initcheck-timeout", type=float, default=None, metavar="SECONDS",
                    help="time limit of one check (default 600; 0: none); ini initcheck_timeout, "
                         "env INITCHECK_TIMEOUT")
    # Battery node ids given as arguments are rewritten into this option (see pytest_load_initial_conftests).
    group.addoption("--initcheck-id", action="append", default=None, metavar="NODEID", help=_suppressed())
    group.addoption("--initcheck-only", action="store_true", default=False, help=_suppressed())
    group.addoption("--initcheck-report", default=None, metavar="DIR",
                    help="write the HTML report of the battery's outcomes into DIR (pip install \"initcheck[report]\")")
    parser.addini("initcheck", type="bool", default=False, help="run the initcheck battery (like --initcheck)")
    parser.addini("initcheck_select", default="", help="initcheck: globs over spec names (like --initcheck-select)")
    parser.addini("initcheck_exclude", default="", help="initcheck: globs of specs to drop")
    parser.addini("initcheck_profile", default="", help="initcheck: ci (default) or thorough")
    parser.addini("initcheck_timeout", default="", help="initcheck: time limit of one check in seconds")


def _suppressed() -> str:
    import argparse

    return argparse.SUPPRESS


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: Any, parser: Any, args: list) -> None:
    """Turn battery node ids on the command line into ``--initcheck-id`` so pytest does not look for a file.

    When nothing else on the command line names a path, only the battery runs
    (``--initcheck-only``).
    """
    ids = [a for a in args if isinstance(a, str) and a.startswith(_ID_PREFIX)]
    if not ids:
        return
    rest = [a for a in args if a not in ids]
    paths = [a for a in rest if not a.startswith("-") and os.path.exists(a.split("::")[0])]
    args[:] = rest + [f"--initcheck-id={i}" for i in ids] + ([] if paths else ["--initcheck-only"])


def _option(config: Any, name: str, ini: str) -> Optional[str]:
    value = config.getoption(name)
    if value is None:
        value = config.getini(ini) or None
    return value


def _profile(config: Any) -> str:
    from .battery import default_profile

    return _option(config, "initcheck_profile", "initcheck_profile") or default_profile()


def _timeout(config: Any) -> float:
    from .battery import default_timeout

    value = _option(config, "initcheck_timeout", "initcheck_timeout")
    try:
        seconds = default_timeout() if value is None else float(value)
    except ValueError as exc:
        raise pytest.UsageError(f"initcheck timeout: {exc}") from None
    if seconds < 0:
        raise pytest.UsageError(f"initcheck timeout must be >= 0 (0: no limit), got {seconds}")
    return seconds


def _enabled(config: Any) -> bool:
    if config.getoption("initcheck_id"):
        return True
    flag = config.getoption("initcheck")
    return bool(flag) if flag is not None else bool(config.getini("initcheck"))


def pytest_configure(config: Any) -> None:
    if not _enabled(config):
        if config.getoption("initcheck_report", None):
            raise pytest.UsageError("--initcheck-report reports the initcheck battery: add --initcheck")
        return
    from .battery import apply_budget, reset_run_state
    from .checks import FAMILIES

    reset_run_state()
    for family in FAMILIES:
        config.addinivalue_line("markers", f"initcheck_{family}: initcheck {family} checks")
    try:
        apply_budget(config.getoption("initcheck_false_fail"), config.getoption("initcheck_false_pass"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    _timeout(config)  # a bad value is a usage error now, not at the first item
    from .battery import PROFILES

    if _profile(config) not in PROFILES:
        raise pytest.UsageError(f"initcheck profile {_profile(config)!r}: expected one of {PROFILES}")
    if config.getoption("initcheck_report", None):
        from .reports.html import MissingExtra, require

        try:
            require()
        except MissingExtra as exc:
            raise pytest.UsageError(str(exc)) from None
        config.pluginmanager.register(ReportCollector(config), "initcheck-report")


def pytest_ignore_collect(collection_path: Any, config: Any) -> Optional[bool]:
    """With only battery node ids on the command line, collect no test files."""
    return True if config.getoption("initcheck_only", False) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: Any) -> Any:
    """Add the battery's collector to the session's, so pytest collects, counts and selects its items."""
    outcome = yield
    if isinstance(collector, pytest.Session) and _enabled(collector.config):
        report = outcome.get_result()
        if report.passed:
            report.result.append(BatteryCollector.from_parent(collector, name=COLLECTOR_NAME, nodeid=COLLECTOR_NAME))


class BatteryCollector(pytest.Collector):
    """The ``initcheck`` node: one item per (spec, check) pair and per plugin load error."""

    def collect(self) -> list:
        from . import battery
        from .registry import parse_patterns

        config = self.config
        registry = battery.load(select=parse_patterns(_option(config, "initcheck_select", "initcheck_select")),
                                exclude=parse_patterns(_option(config, "initcheck_exclude", "initcheck_exclude")))
        for warn in registry.warnings:
            self.warn(pytest.PytestWarning(f"initcheck: plugin {warn.label} outside the selection failed to load "
                                           f"(not counted): {warn.error}"))
        profile = _profile(config)
        timeout = _timeout(config)
        # Node ids given as strings, so they compare equal to the same ids read back from the command line
        # or the --lf cache (pytest >= 9 parses "[...]" into parameters).
        out: list = []
        for err in registry.errors:
            name = f"test_plugin_load[{err.label}]"
            out.append(LoadErrorItem.from_parent(self, name=name, nodeid=f"{self.nodeid}::{name}", load_error=err))
        checks = parse_patterns(config.getoption("initcheck_checks")) or None
        try:
            planned = battery.plan([(r.qualname, r.spec) for r in registry.specs.values()], profile, checks)
        except ValueError as exc:
            raise pytest.UsageError(f"--initcheck-checks: {exc}") from None
        for bitem in planned:
            name = f"test_{bitem.spec.kind}[{bitem.id}]"
            node = InitcheckItem.from_parent(self, name=name, nodeid=f"{self.nodeid}::{name}", battery_item=bitem,
                                             profile=profile, timeout=timeout)
            node.add_marker(getattr(pytest.mark, f"initcheck_{bitem.check.family}"))
            out.append(node)
        wanted = config.getoption("initcheck_id")
        if wanted:
            have = {node.nodeid: node for node in out}
            missing = [w for w in wanted if w not in have]
            if missing:
                raise self.CollectError(f"not found: {', '.join(missing)} (see `pytest --initcheck --collect-only`)")
            out = [have[w] for w in dict.fromkeys(wanted)]
        return out

    def repr_failure(self, excinfo: Any, style: Optional[str] = None) -> Any:
        if isinstance(excinfo.value, self.CollectError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class BatteryFailure(AssertionError):
    """A battery item failed; its message is the evidence and the replay command."""


def _report(outcome: Any) -> list:
    """Turn a battery :class:`~initcheck.battery.Outcome` into pytest's verdict (raise unless it passed)."""
    if outcome.status == "passed":
        return outcome.evidence
    if outcome.status in ("blocked", "not_applicable"):
        try:  # reported at the item, not at this line
            raise pytest.skip.Exception(outcome.message, _use_item_location=True)
        except TypeError:  # pragma: no cover - pytest < 7
            pytest.skip(outcome.message)
    if outcome.status == "xfailed":
        pytest.xfail(outcome.message.split("\n")[0] + " | " + outcome.message.split("\n")[-1].strip())
    if outcome.status == "xpassed":
        pytest.fail(outcome.message, pytrace=False)
    text = outcome.message
    if "reproduce:" not in text:
        text += f"\n  replay: {outcome.reproduce}"
    raise BatteryFailure(text)


class InitcheckItem(pytest.Item):
    """One (spec, check) pair."""

    def __init__(self, *, battery_item: Any, profile: str, timeout: Optional[float] = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.battery_item = battery_item
        self.profile = profile
        self.timeout = timeout

    def runtest(self) -> None:
        from .battery import run_one

        self.outcome = run_one(self.battery_item, self.profile, timeout=self.timeout)
        _report(self.outcome)

    def repr_failure(self, excinfo: Any, style: Optional[str] = None) -> Any:
        if isinstance(excinfo.value, BatteryFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple:
        return self.path, 0, self.nodeid


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
        return self.path, 0, self.nodeid


class PluginLoadFailed(Exception):
    """Raised by a :class:`LoadErrorItem`."""


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
    """The outcome of one battery item, as the CLI's results document records it.

    The item keeps the battery's :class:`~initcheck.battery.Outcome` (its
    status, message, evidence and replay command), so the record is the CLI's
    record; only an item that never reached the battery (an error in pytest's
    own setup) is described from pytest's report.
    """
    from .battery import expected_failure_for
    from .reports.results import outcome_record

    bitem = item.battery_item
    outcome = getattr(item, "outcome", None)
    if outcome is None:
        return outcome_record(bitem.qualname, bitem.check, "error", call.duration, str(rep.longrepr), [])
    xf = expected_failure_for(bitem) if outcome.status in ("xfailed", "xpassed") else None
    record = outcome_record(bitem.qualname, bitem.check, outcome.status, outcome.seconds, outcome.message,
                            outcome.evidence, xf, outcome.blocked_by)
    record["reproduce"] = outcome.reproduce
    return record


# ====================================================================== in your own tests

class BoundCheck:
    """A check bound to one spec; call it with the spec to run it."""

    def __init__(self, item: Any, profile: str, timeout: Optional[float] = None):
        self.item = item
        self.profile = profile
        self.timeout = timeout
        self.name = item.check.name

    def __call__(self, spec: Any = None) -> list:
        from .battery import run_one

        if spec is not None and spec is not self.item.spec:
            raise ValueError(f"{self.name} is bound to {self.item.qualname}; call it with that spec")
        return _report(run_one(self.item, self.profile, timeout=self.timeout))

    def __repr__(self) -> str:
        return self.name


def parametrize_with_checks(
    specs: Sequence[Any],
    expected_failures: Optional[Mapping[str, Union[str, Any]]] = None,
    profile: Optional[str] = None,
    timeout: Optional[float] = None,
) -> Callable:
    """``pytest.mark.parametrize("spec, check", ...)`` over every applicable check.

    Args:
        specs: Initializer or optimizer specs (validated now: an invalid spec
            raises :class:`~initcheck.spec.SpecError` naming spec and field),
            ``(qualname, spec)`` pairs, or :class:`~initcheck.registry.Registered`.
        expected_failures: ``{check_name: reason, ExpectedFailure or a list of them}`` applied
            to every spec, in place of the specs' own declaration for that
            check.  Give an ``ExpectedFailure(match=...)`` to name the failure.
        profile: ``"ci"`` (default, derandomized) or ``"thorough"``.
        timeout: Seconds one check may run (default ``INITCHECK_TIMEOUT`` or 600).

    Returns:
        A pytest parametrize marker; ids carry the spec's qualified name,
        ``mypkg>MyInit-check_seed_contract`` (the distribution that provides
        the module of the spec's factory, as the entry points name it).
    """
    from . import battery
    from .checks import check_names
    from .spec import canonical_check_name, declarations, validate_declarations

    profile = profile or battery.default_profile()
    known = check_names()
    extra = {}
    for check, value in dict(expected_failures or {}).items():
        check = canonical_check_name(check)
        if check not in known:
            raise ValueError(f"expected_failures names unknown check {check!r}; known: {sorted(known)}")
        validate_declarations("parametrize_with_checks", {check: value})
        extra[check] = declarations(value)  # one or several (a list: one per cause, each with a match)
    params = []
    for entry in specs:
        if isinstance(entry, tuple):
            qual, spec = entry
        elif hasattr(entry, "qualname") and hasattr(entry, "spec"):
            qual, spec = entry.qualname, entry.spec
        else:
            qual, spec = battery.spec_label(entry), entry
        spec.validate(known_checks=known)
        for bitem in battery.plan([(qual, spec)], profile):
            override = extra.get(bitem.check.name)
            if override is not None:
                bitem = battery.Item(bitem.qualname, bitem.spec, bitem.check, override)
            params.append(pytest.param(spec, BoundCheck(bitem, profile, timeout), id=bitem.id))
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
