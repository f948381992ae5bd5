"""The classic recipes' assertion: every seed of a list reaches the target test accuracy."""

from __future__ import annotations

GATE_SEEDS = (0,)
SLOW_SEEDS = (0, 1, 2, 3, 4)


def assert_reaches_target(name: str, seeds: tuple[int, ...]) -> None:
    from initcheck.convergence.tasks.recipes import TARGET_ACCURACY, verify_recipe

    result = verify_recipe(name, seeds)
    row = result.row()
    print(f"\n{name}: {row}")
    assert result.successes == len(seeds), (
        f"{name}: test accuracies {[round(a, 4) for a in result.accuracies]} (target {TARGET_ACCURACY}); {row}")
