"""The batched ensemble is S separate trainings, and refuses optimizers for which it would not be.

The reference is the naive way -- one ordinary Keras model and one
``model.fit`` per seed (:func:`initcheck.convergence.ensemble.train_per_seed_keras`)
-- not the ensemble code itself.  The other three optimizers and the BCE task
are checked in tests/slow/test_ensemble.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from common import builtins
from common.ensemble import GATE_OPTIMIZERS, SEEDS, STEPS, assert_batched_equals_separate, small_deep_task
from common.ensemble import close as _close
from initcheck.builtin.findings import SEED_ZERO_IGNORED
from initcheck.convergence import OptimizerSetting, run_cell
from initcheck.convergence import ensemble as E
from initcheck.convergence.tasks import LearningTask, get_task
from initcheck.strategies import derive_seed
from initcheck.testing import xfail_where

pytestmark = pytest.mark.filterwarnings("ignore")

#: Seed 0 is in SEEDS on purpose: Keras 3.0-3.1 treat an initializer's seed=0 as unseeded, so
#: the ensemble's first kernel of member 0 is not reproducible there (declared finding).
_SEED_ZERO = xfail_where(SEED_ZERO_IGNORED)


@pytest.fixture(scope="module")
def small_deep() -> LearningTask:
    return small_deep_task()


@pytest.fixture(scope="module")
def he():
    return builtins.initializer("HeNormal")


@_SEED_ZERO
@pytest.mark.parametrize("key", GATE_OPTIMIZERS)
def test_batched_equals_separate_keras_models(small_deep, he, key):
    """Same seeds, same optimizer: every loss of every step and every final weight agree to float32 tolerance."""
    assert_batched_equals_separate(small_deep, he, key)


@_SEED_ZERO
def test_kernel_slices_are_the_seeded_initializer_values(he, small_deep):
    """Slice s of kernel l is exactly what the spec's initializer for derive_seed(s, l) returns."""
    from initcheck import keras_compat as kc

    kernels = E.initial_kernels(he, small_deep.kernel_shapes(), SEEDS)
    for layer, shape in enumerate(small_deep.kernel_shapes()):
        for i, s in enumerate(SEEDS):
            want = kc.to_numpy(he.factory(derive_seed(s, layer))(shape, dtype="float32"))
            np.testing.assert_array_equal(kernels[layer][i], want)
    # same-shape layers of one member differ (a seeded initializer repeats itself otherwise)
    assert not np.array_equal(kernels[1][0], kernels[2][0])


def test_a_coupling_optimizer_is_not_equivalent_and_is_refused(small_deep, he):
    """Teeth: clipnorm clips by the norm over the whole batched variable, so seeds interact.

    Forcing the ensemble past the refusal gives trajectories that differ from
    separate models -- the equivalence test above would catch it -- and by
    default the ensemble refuses.
    """
    hp = {"learning_rate": 0.1, "clipnorm": 0.01}
    with pytest.raises(E.NonElementwiseOptimizer, match="clipnorm"):
        E.train_learning_task(small_deep, he, E.build_optimizer("SGD", **hp), SEEDS, steps=3)
    forced = E.train_learning_task(small_deep, he, E.build_optimizer("SGD", **hp), SEEDS, steps=STEPS,
                                   check_elementwise=False)
    separate = E.train_per_seed_keras(small_deep, he, lambda: E.build_optimizer("SGD", **hp), SEEDS, steps=STEPS)
    with pytest.raises(AssertionError):
        _close(forced.losses, separate.losses)


def test_refusal_is_by_capability():
    sgd = E.build_optimizer("SGD", learning_rate=0.1)
    assert E.elementwise_capability(sgd)[0]
    assert not E.elementwise_capability(E.build_optimizer("SGD", learning_rate=0.1, global_clipnorm=1.0))[0]

    class Spec:
        tags = frozenset({"non_elementwise"})

    assert not E.elementwise_capability(sgd, Spec())[0]

    class Custom:  # an optimizer initcheck knows nothing about
        def apply_gradients(self, pairs):  # pragma: no cover - never called
            pass

    ok, reason = E.elementwise_capability(Custom())
    assert not ok and "elementwise" in reason

    class Tagged:
        tags = frozenset({"elementwise"})

    assert E.elementwise_capability(Custom(), Tagged())[0]


@_SEED_ZERO
def test_fallback_loop_trains_seed_by_seed(small_deep, he):
    """With fallback='loop' a coupling optimizer runs per seed and equals separate Keras models."""
    setting = OptimizerSetting("clipped", "SGD", {"clipnorm": 0.5}, learning_rate=0.05)
    with pytest.raises(E.NonElementwiseOptimizer):
        run_cell(he, setting, small_deep, SEEDS, steps=STEPS, cache=False)
    cell = run_cell(he, setting, small_deep, SEEDS, steps=STEPS, fallback="loop", cache=False)
    separate = E.train_per_seed_keras(small_deep, he, lambda: E.build_optimizer("SGD", learning_rate=0.05,
                                                                               clipnorm=0.5), SEEDS, steps=STEPS)
    _close(cell.final_loss, separate.losses[-1])


def test_landscape_batched_equals_one_seed_at_a_time():
    task = get_task("rosenbrock")
    batched = E.train_landscape(task, E.build_optimizer("Adam", learning_rate=0.02), SEEDS, steps=50)
    for i, s in enumerate(SEEDS):
        alone = E.train_landscape(task, E.build_optimizer("Adam", learning_rate=0.02), [s], steps=50)
        _close(batched.losses[:, i], alone.losses[:, 0], rtol=1e-5)


def test_loss_and_metric_come_from_one_forward_pass():
    """A ``per_seed_loss`` returning ``(loss, metric)`` is called once per step, not once for each; the metric
    rows are what it returned; giving the metric a second way is an error that says so."""
    import initcheck.keras_compat as kc

    calls = []
    x0 = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    ops = E.landscape_namespace()  # tf, or keras.ops behind TensorFlow's names (tf.keras 2 has no keras.ops)

    def loss_and_metric(params):
        calls.append(1)
        loss = ops.reduce_sum(params[0] * params[0], axis=1)
        return loss, 2.0 * loss

    steps = 4
    trainer = E.CompiledEnsemble([x0.shape], loss_and_metric, E.build_optimizer("SGD", learning_rate=0.1), steps)
    traj = trainer.run([x0])
    # traced code (TensorFlow's tf.function, JAX's scan) calls it once in the step and once after the loop;
    # PyTorch's eager loop once per step and once after it
    assert len(calls) == (steps + 1 if kc.backend() == "torch" else 2)
    np.testing.assert_allclose(traj.losses[0], (x0 * x0).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(traj.metrics, 2.0 * traj.losses, rtol=1e-6)
    np.testing.assert_allclose(traj.losses[-1], (x0 * x0).sum(axis=1) * 0.8 ** (2 * steps), rtol=1e-5)
    with pytest.raises(ValueError, match="per_seed_metric"):
        E.train_params([x0], loss_and_metric, E.build_optimizer("SGD", learning_rate=0.1), 2,
                       per_seed_metric=lambda p: p[0])


def test_compiled_trainer_reuse_restores_a_fresh_optimizer(small_deep, he):
    """Two runs of one compiled trainer give identical trajectories (slots and iterations reset)."""
    trainer = E.learning_trainer(small_deep, E.build_optimizer("Adam", learning_rate=0.01), len(SEEDS), steps=STEPS)
    params = E.learning_params(small_deep, he, SEEDS)
    first = trainer.run(params)
    second = trainer.run(params)
    np.testing.assert_array_equal(first.losses, second.losses)


@_SEED_ZERO
def test_optimizer_spec_objects_are_accepted(he):
    """An optimizer spec (anything with ``factory(**hparams)``) builds the cell's optimizer;
    Adafactor (factored second moments) is refused by the ensemble unless the loop fallback is asked for."""
    specs = builtins.optimizer_specs()
    task = get_task("xor")
    cell = run_cell(he, OptimizerSetting("adam", specs["Adam"]), task, SEEDS, steps=STEPS, cache=False)
    plain = run_cell(he, "adam", task, SEEDS, steps=STEPS, cache=False)
    assert cell.final_loss == plain.final_loss
    if "Adafactor" in specs:
        with pytest.raises(E.NonElementwiseOptimizer):
            run_cell(he, OptimizerSetting("adafactor", specs["Adafactor"], learning_rate=0.01), task, SEEDS,
                     steps=3, cache=False)


def test_an_optimizer_built_by_name_is_judged_by_its_builtin_spec():
    """build_optimizer(name) builds from the built-in spec of that name and remembers it: Adafactor's spec is
    tagged 'factored' (refused), Adam's 'elementwise'.  A Keras optimizer built without a spec is judged by
    nothing but the spec passed with it (no class-name lookup)."""
    from initcheck import keras_compat as kc

    ok, reason = E.elementwise_capability(E.build_optimizer("Adafactor", learning_rate=0.1))
    assert not ok and "factored" in reason
    ok, reason = E.elementwise_capability(E.build_optimizer("Adam", learning_rate=0.1))
    assert ok and "Adam" in reason
    plain = kc.optimizer_class("Adam")(learning_rate=0.1)
    ok, reason = E.elementwise_capability(plain)
    assert not ok and "pass its spec" in reason
    assert E.elementwise_capability(plain, builtins.optimizer("Adam"))[0]
