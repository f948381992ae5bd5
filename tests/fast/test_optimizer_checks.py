"""The optimizer battery on the built-in specs (run in Keras 3 and, with TF_USE_LEGACY_KERAS=1, Keras 2).

The trajectory check runs on every built-in spec here; the whole battery
over every spec runs through the battery runner (see benchmarks/
bench_optimizers.py for its time).  The classic recipe's three optimizers --
Adam, RMSprop and SGD at Keras's defaults -- are covered explicitly.
"""

from __future__ import annotations

import pytest

from initcheck import keras_compat as kc
from initcheck.battery import Item, run_one
from initcheck.builtin.optimizers import builtin_specs
from initcheck.checks import all_checks, checks_for

SPECS = {s.name: s for s in builtin_specs()}


def _outcome(spec_name: str, check: str):
    spec = SPECS[spec_name]
    return run_one(Item(f"keras>{spec_name}", spec, all_checks()[check]))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_trajectory_on_every_builtin(name):
    """Passes, or fails exactly as the spec declares for this Keras (strict xfail)."""
    if not SPECS[name].has("trajectory"):
        pytest.skip("spec without the trajectory tag")
    out = _outcome(name, "check_trajectory_matches_reference")
    if all(kc.dtype_missing(d) for d in SPECS[name].dtypes):  # e.g. a float64-only spec on JAX without x64
        assert out.status == "not_applicable" and "needs float64" in out.message, out.message
        return
    assert out.status in ("passed", "xfailed"), out.message


CLASSIC = {
    "Adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "RMSprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False},
    "SGD": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
}


@pytest.mark.parametrize("name", sorted(CLASSIC))
def test_classic_recipe_defaults(name):
    """The classic recipe's optimizers: documented defaults hold and the default trajectory is the rule."""
    spec = SPECS[name]
    assert dict(spec.defaults) == CLASSIC[name]
    for check in ("check_documented_defaults", "check_trajectory_at_defaults"):
        out = _outcome(name, check)
        assert out.status == "passed", out.message


def test_classic_adam_explicit_case():
    """One explicit float32 case at Adam's defaults with a large gradient spread."""
    spec = SPECS["Adam"]
    case = {"shapes": [[3, 2]], "dtype": "float32", "seed": 7, "grad_scale": 1.0, "lr": 0.0010000000474974513,
            "hp": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}, "steps": 8}
    ev = all_checks()["check_trajectory_matches_reference"].func(spec, case)
    assert ev.passed and ev.data["worst_error_over_tolerance"] <= 1.0


def test_checks_selected_by_capability_not_name():
    """A spec without a tag does not get the check; the same spec with it does."""
    import dataclasses

    sgd = SPECS["SGD"]
    without = dataclasses.replace(sgd, tags=frozenset(sgd.tags - {"sparse"}))
    assert "check_sparse_matches_dense" in {c.name for c in checks_for(sgd)}
    assert "check_sparse_matches_dense" not in {c.name for c in checks_for(without)}


def test_accumulation_tag_follows_keras_version():
    assert SPECS["SGD"].has("accumulation") == (kc.keras_major() >= 3)


def test_example_plugin_gets_the_whole_battery():
    """The third-party DecayedSGD (a Keras optimizer subclass) is selected for every optimizer check."""
    plugin = pytest.importorskip("initcheck_example.optimizers")
    spec = plugin.optimizer_specs[0]
    spec.validate()
    names = {c.name for c in checks_for(spec)}
    wanted = set(all_checks("optimizer"))
    # Capabilities the installed Keras lacks (the spec's tag ranges): accumulation before Keras
    # 3.0.2, tf.train.Checkpoint of a Keras 3.0 optimizer.
    for tag, check in (("accumulation", "check_accumulation_matches_mean_step"),
                       ("checkpoint", "check_checkpoint_resume")):
        if not spec.has(tag):
            wanted.discard(check)
    if not spec.has("checkpoint") or kc.keras_major() < 3:  # Keras 2's weights file holds no optimizer state
        wanted.discard("check_weights_file_resume")
    assert spec.has("checkpoint") or kc.versions()["keras"].startswith("3.0.")
    assert names == wanted
    out = run_one(Item("initcheck-example>DecayedSGD", spec, all_checks()["check_trajectory_matches_reference"]))
    # The plugin's optimizer calls TensorFlow ops itself (needs=("tf_ops",)): not applicable on another backend.
    missing = kc.capability_missing(tuple(spec.needs))
    assert out.status == ("not_applicable" if missing else "passed"), out.message
    assert missing is None or out.message == missing
