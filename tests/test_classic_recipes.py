"""The classic TF2 recipes reach >= 0.95 test accuracy on the 28x28 digits, seed after seed.

The default gate trains each recipe on ``GATE_SEEDS``; ``-m slow`` trains
``SLOW_SEEDS`` and is the source of the intervals in docs/convergence.md.
Each seed is a deterministic run (weights, shuffling), so the assertion is
"every seed of the list reaches the target", and the Clopper-Pearson
interval of the success rate is reported alongside.
"""

from __future__ import annotations

import pytest

from initcheck.tasks.recipes import RECIPES, TARGET_ACCURACY, verify_recipe

pytestmark = pytest.mark.filterwarnings("ignore")

GATE_SEEDS = (0,)
SLOW_SEEDS = (0, 1, 2, 3, 4)


def _check(name: str, seeds: tuple[int, ...]) -> None:
    result = verify_recipe(name, seeds)
    row = result.row()
    print(f"\n{name}: {row}")
    assert result.successes == len(seeds), (
        f"{name}: test accuracies {[round(a, 4) for a in result.accuracies]} (target {TARGET_ACCURACY}); {row}")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_reaches_target(name):
    _check(name, GATE_SEEDS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_reaches_target_over_five_seeds(name):
    _check(name, SLOW_SEEDS)


def test_recipes_are_the_classic_ones():
    """Architecture, initializer, optimizer and loss as the issue lists them (no training)."""
    from initcheck import keras_compat as kc

    a = RECIPES["dense64_glorot_adam"].build(0)
    assert [type(l).__name__ for l in a.layers] == ["Flatten", "Dense", "Dense"]
    assert a.layers[1].units == 64 and a.layers[2].units == 10
    assert type(a.layers[1].kernel_initializer).__name__ == "GlorotUniform"
    assert type(RECIPES["dense64_glorot_adam"].optimizer()).__name__ == "Adam"
    b = RECIPES["dense128_normal001_rmsprop"]
    assert b.build(0).layers[1].units == 128 and b.loss == "sparse_categorical_crossentropy"
    assert type(b.optimizer()).__name__ == "RMSprop"
    w = kc.to_numpy(b.build(0).layers[1].kernel)
    assert abs(w.std() - 0.01) < 0.0005  # 100k draws: std error of the std ~ 2e-5
    c = RECIPES["conv32_he_sgd"].build(0)
    assert [type(l).__name__ for l in c.layers] == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert c.layers[0].filters == 32 and tuple(c.layers[0].kernel_size) == (3, 3)
    assert type(c.layers[0].kernel_initializer).__name__ == "HeUniform"
    assert type(RECIPES["conv32_he_sgd"].optimizer()).__name__ == "SGD"
