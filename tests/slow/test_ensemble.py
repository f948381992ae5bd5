"""The batched ensemble equals separate Keras models for momentum, RMSprop, Adagrad and the BCE task (slow)."""

from __future__ import annotations

import pytest

from common import builtins
from common.ensemble import GATE_OPTIMIZERS, OPTIMIZERS, SEEDS, STEPS, assert_batched_equals_separate, close
from common.ensemble import small_deep_task
from initcheck.builtin.findings import SEED_ZERO_IGNORED
from initcheck.convergence import ensemble as E
from initcheck.convergence.tasks import get_task
from initcheck.testing import xfail_where

pytestmark = pytest.mark.filterwarnings("ignore")


@xfail_where(SEED_ZERO_IGNORED)
@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.slow) for k in sorted(OPTIMIZERS)
                                 if k not in GATE_OPTIMIZERS])
def test_batched_equals_separate_keras_models(key):
    """Same seeds, same optimizer: every loss of every step and every final weight agree to float32 tolerance."""
    assert_batched_equals_separate(small_deep_task(), builtins.initializer("HeNormal"), key)


@pytest.mark.slow
def test_bce_task_equals_separate_keras_models():
    he = builtins.initializer("HeNormal")
    task = get_task("xor")
    batched = E.train_learning_task(task, he, E.build_optimizer("Adam", learning_rate=0.05), SEEDS, steps=STEPS)
    separate = E.train_per_seed_keras(task, he, lambda: E.build_optimizer("Adam", learning_rate=0.05), SEEDS,
                                      steps=STEPS)
    close(batched.losses, separate.losses)
