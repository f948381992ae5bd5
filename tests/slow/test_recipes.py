"""The classic TF2 recipes reach >= 0.95 test accuracy on the 28x28 digits over five seeds (slow).

The source of the intervals in docs/convergence.md.
"""

from __future__ import annotations

import pytest

from common.recipes import SLOW_SEEDS, assert_reaches_target
from initcheck.convergence.tasks.recipes import RECIPES

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_reaches_target_over_five_seeds(name):
    assert_reaches_target(name, SLOW_SEEDS)
