"""pytest plugin (``pytest11`` entry point): the battery as test items.

Loaded by pytest in every project where initcheck is installed, so importing
it must stay cheap: no TensorFlow, no Keras, no registry scan.  Nothing
happens unless ``--initcheck`` (or the ``initcheck = true`` ini option) is
given; then every registered spec gets one item per applicable check, named
``test_initializer[keras>GlorotUniform-check_seed_contract]`` so that ``-k``
selects them, and every plugin that failed to load gets one failing
``test_plugin_load[distribution:entry point]`` item.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest

from .options import apply_budget, default_profile

__all__ = ["InitcheckItem", "LoadErrorItem"]


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
    parser.addini("initcheck", type="bool", default=False, help="run the initcheck battery (like --initcheck)")


def _profile(config: Any) -> str:
    return config.getoption("initcheck_profile") or default_profile()


_FAMILIES = ("structural", "distribution", "structured", "propagation", "optimizer", "convergence")


def pytest_configure(config: Any) -> None:
    for family in _FAMILIES:
        config.addinivalue_line("markers", f"initcheck_{family}: initcheck {family} checks")
    try:
        apply_budget(config.getoption("initcheck_false_fail"), config.getoption("initcheck_false_pass"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


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

        execute(self.battery_item, self.profile)

    def repr_failure(self, excinfo: Any, style: Optional[str] = None) -> Any:
        from .evidence import CheckFailure

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
