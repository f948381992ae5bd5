"""The gate: the whole battery over every registered spec (built-ins and the example plugin).

Was tests/test_gate.py.

Each (spec, check) pair is one test, ids like
``keras>GlorotUniform-check_seed_contract``; declared expected failures are
strict xfails.
"""

import os

from initcheck.registry import load_registry
from initcheck.testing import parametrize_with_checks

REGISTRY = load_registry(use_env=True)


def test_every_plugin_loads():
    assert REGISTRY.errors == [], "\n".join(e.describe() for e in REGISTRY.errors)


def test_example_plugin_is_registered():
    if os.environ.get("INITCHECK_SELECT") or os.environ.get("INITCHECK_EXCLUDE"):
        return  # the user narrowed the run on purpose
    assert {"initcheck-example>small_normal", "initcheck-example>LaplaceLecun"} <= set(REGISTRY.specs)


@parametrize_with_checks(list(REGISTRY.specs.values()))
def test_battery(spec, check):
    check(spec)
