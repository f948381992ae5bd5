"""Thorough convergence: every (spec, expectation) pair the law selects holds on the built-ins (slow)."""

from __future__ import annotations

import pytest

from common import builtins
from initcheck import convergence as C

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.slow
def test_every_declared_expectation_holds_on_the_builtins():
    """Thorough: every (spec, expectation) pair the law selects (the thorough check's content)."""
    failures = []
    for name, spec in builtins.convergence_specs().items():
        for e in C.expectations_for(spec, "thorough"):
            d = C.verify_expectation(spec, e)
            print(f"\n{name}: {e.name} passed={d.passed} {d.message}")
            if not d.passed:
                failures.append((name, e.name, d.message))
    assert not failures, failures
