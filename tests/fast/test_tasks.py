"""The toy tasks are what they say: formulas checked by hand, data deterministic, targets stated."""

from __future__ import annotations

import numpy as np
import pytest

from initcheck.convergence.tasks import builtin_tasks, get_task, landscape_tasks, learning_tasks
from initcheck.convergence.tasks.landscapes import quadratic_hessian

pytestmark = pytest.mark.filterwarnings("ignore")


def test_task_catalogue():
    assert set(landscape_tasks()) == {"quadratic", "rosenbrock", "beale"}
    assert set(learning_tasks()) == {"xor", "spirals", "linear_regression", "logistic_regression",
                                     "deep_narrow_relu"}
    for task in builtin_tasks().values():
        assert task.steps > 0 and task.target > 0 and task.description
        assert set(task.learning_rates) >= {"sgd", "momentum", "adam", "rmsprop"}
    with pytest.raises(LookupError, match="known"):
        get_task("mnist")


def test_quadratic_spectrum_as_specified():
    h, lam = quadratic_hessian()
    assert h.shape == (100, 100)
    np.testing.assert_allclose(h, h.T)
    eig = np.sort(np.linalg.eigvalsh(h))
    np.testing.assert_allclose(eig, np.sort(lam), atol=1e-9)
    assert np.all((eig[:90] > 0) & (eig[:90] < 1)) and np.all((eig[90:] > 30) & (eig[90:] < 60))


def _tf_loss(task, x):
    """The landscape's loss as the ensemble evaluates it (TensorFlow, or keras.ops through its adapter)."""
    from initcheck import keras_compat as kc
    from initcheck.convergence.ensemble import landscape_namespace

    tf = landscape_namespace()
    return kc.to_numpy(task.loss(tf.constant(np.asarray(x, np.float32)), tf))


def test_landscape_values_by_hand():
    ros, beale, quad = get_task("rosenbrock"), get_task("beale"), get_task("quadratic")
    pts = np.array([[1.0, 1.0], [0.0, 0.0], [-1.2, 1.0]])
    want = [(1 - u) ** 2 + 100 * (v - u * u) ** 2 for u, v in pts]
    np.testing.assert_allclose(_tf_loss(ros, pts), want, rtol=1e-6)
    bpts = np.array([[3.0, 0.5], [1.0, 1.0]])
    bwant = [(1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2 for u, v in bpts]
    np.testing.assert_allclose(_tf_loss(beale, bpts), bwant, rtol=1e-6, atol=1e-9)
    assert _tf_loss(ros, [ros.minimum])[0] == 0 and _tf_loss(beale, [beale.minimum])[0] == 0
    x = np.random.default_rng(0).normal(size=(3, 100))
    h, _ = quadratic_hessian()
    np.testing.assert_allclose(_tf_loss(quad, x), 0.5 * np.einsum("si,ij,sj->s", x, h, x), rtol=1e-4)


def test_starts_are_seeded_and_distinct():
    for task in landscape_tasks().values():
        a, b = task.start(3), task.start(3)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(task.start(3), task.start(4))


def test_learning_tasks_are_deterministic():
    from initcheck.convergence.tasks import learning

    for make in (learning.xor, learning.spirals, learning.linear_regression, learning.logistic_regression,
                 learning.deep_narrow_relu):
        a, b = make(), make()
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)
        assert a.x.dtype == np.float32


def test_deep_task_is_deep_narrow_with_a_standardised_teacher():
    task = get_task("deep_narrow_relu")
    assert task.depth >= 20 and task.activation == "relu"
    assert set(task.widths[:-1]) == {16} and task.widths[-1] == 1
    assert abs(float(task.y.mean())) < 1e-6 and float(task.y.var()) == pytest.approx(1.0, rel=1e-5)


def test_xor_and_spirals_need_a_nonlinear_model():
    """The best linear least-squares fit cannot reach the targets (else the tasks would be trivial)."""
    for name in ("xor", "spirals"):
        task = get_task(name)
        design = np.hstack([task.x, np.ones((len(task.x), 1))])
        w, *_ = np.linalg.lstsq(design, task.y, rcond=None)
        acc = np.mean(((design @ w) > 0.5) == (task.y > 0.5))
        assert acc < 0.8


def test_regression_targets_are_attainable():
    """The least-squares optimum of the linear task is below its target; the logistic task's
    generating direction classifies above its target."""
    lin = get_task("linear_regression")
    design = np.hstack([lin.x, np.ones((len(lin.x), 1))])
    w, *_ = np.linalg.lstsq(design, lin.y, rcond=None)
    assert np.mean((design @ w - lin.y) ** 2) < lin.target / 1.5
    log = get_task("logistic_regression")
    design = np.hstack([log.x, np.ones((len(log.x), 1))])
    w, *_ = np.linalg.lstsq(design, 2 * log.y - 1, rcond=None)
    assert np.mean(((design @ w) > 0) == (log.y > 0.5)) >= log.target


def test_digits_28x28_fixed_split():
    from initcheck.convergence.tasks.digits import load_digits_28, upsample

    d = load_digits_28()
    assert d.x_train.shape == (1257, 28, 28) and d.x_test.shape == (540, 28, 28)
    assert d.x_train.dtype == np.float32 and 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    assert sorted(np.unique(d.y_test)) == list(range(10))
    # stratified: every class has 30 % +- 1 image of its count in the test split
    counts_test = np.bincount(d.y_test, minlength=10)
    counts_all = counts_test + np.bincount(d.y_train, minlength=10)
    assert np.all(np.abs(counts_test - 0.3 * counts_all) <= 1)
    # bilinear with aligned corners: corners are kept and a constant image stays constant
    img = np.arange(64, dtype=np.float64).reshape(1, 8, 8)
    big = upsample(img)
    assert big.shape == (1, 28, 28)
    assert big[0, 0, 0] == img[0, 0, 0] and big[0, -1, -1] == pytest.approx(img[0, -1, -1])
    np.testing.assert_allclose(upsample(np.full((1, 8, 8), 0.25)), 0.25)
