"""The gate's derandomized Hypothesis search finds each planted optimizer bug by itself (slow)."""

from __future__ import annotations

import pytest

from common.doubles import wrong_optimizer
from common.optimizer_bugs import CASES, IDS, needs_capability, run_isolated
from initcheck.battery import Item, run_check
from initcheck.checks import all_checks
from initcheck.checks.evidence import CheckFailure


@pytest.mark.slow
@pytest.mark.parametrize("check,spec_name,cls_fn,bug,fixed", CASES, ids=IDS)
def test_wrong_optimizer_is_found_by_search(check, spec_name, cls_fn, bug, fixed, request):
    """Slow: the derandomized Hypothesis search of the gate finds each bug by itself."""
    needs_capability(check, spec_name)
    if run_isolated(check, request):
        return
    wrong = wrong_optimizer(spec_name, cls_fn, bug, **fixed)
    with pytest.raises(CheckFailure) as info:
        run_check(Item(f"teeth>{bug}", wrong, all_checks()[check]))
    assert info.value.evidence.check == check
