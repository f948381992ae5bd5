"""Every layer kind builds from its own case strategy, and a fixed law passes it (slow)."""

from __future__ import annotations

import pytest

from common.doubles import exact, np_spec
from initcheck import stats
from initcheck.checks import all_checks
from initcheck.checks.layers import LAYER_KINDS, layer_check_name
from initcheck.laws import Normal


@pytest.mark.slow
def test_every_layer_kind_builds_and_a_fixed_law_passes() -> None:
    """A law that ignores fans must pass every layer kind (no false flag from the oracle)."""
    from hypothesis import find, settings

    stats.reset()
    spec = np_spec("fixed", Normal(0.05), exact)
    for kind in LAYER_KINDS.values():
        case = find(kind.params(), lambda c: True, settings=settings(database=None))
        ev = all_checks()[layer_check_name(kind.name)](spec, case)
        assert ev.passed, kind.name
