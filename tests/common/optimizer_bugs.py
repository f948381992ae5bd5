"""The planted optimizer bugs: which check must catch which broken class, on which explicit case.

tests/teeth runs each bug on one explicit case (the wrong optimizer fails,
the built-in one passes the same case); tests/slow lets the gate's
derandomized Hypothesis search find each bug by itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from . import builtins
from .capabilities import dtype_or_float32
from .doubles import broken_adam_class, broken_sgd_class

CASES = [
    # (check, spec, class, bug, fixed options)
    ("check_trajectory_matches_reference", "Adam", broken_adam_class, "eps_sign", {}),
    ("check_trajectory_matches_reference", "Adam", broken_adam_class, "eps_inside", {}),
    ("check_trajectory_matches_reference", "Adam", broken_adam_class, "no_bias_correction", {}),
    ("check_trajectory_at_defaults", "Adam", broken_adam_class, "no_bias_correction", {}),
    ("check_trajectory_matches_reference", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_weight_decay", "SGD", broken_sgd_class, "decay_unscaled", {}),
    ("check_sparse_matches_dense", "SGD", broken_sgd_class, "sparse_sorted", {}),
    ("check_checkpoint_resume", "Adam", broken_adam_class, "hidden_step", {}),
    ("check_weights_file_resume", "Adam", broken_adam_class, "hidden_step", {}),
    ("check_clipping", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_learning_rate_forms", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_ema", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_loss_scaling", "SGD", broken_sgd_class, "momentum_twice", {}),
    ("check_mirrored_strategy", "SGD", broken_sgd_class, "replica_mean", {}),
]

IDS = [f"{c[0]}-{c[3]}" for c in CASES]

HP = {"Adam": {"beta_1": 0.5, "beta_2": 0.875, "epsilon": 1.0, "amsgrad": False},
      "SGD": {"momentum": 0.875, "nesterov": False}}

#: Extra case fields each check's strategy draws (explicit values for the fast gate).
EXTRA = {
    "check_trajectory_matches_reference": {},
    "check_trajectory_at_defaults": {"dtype": "float32", "lr": 0.0010000000474974513,
                                     "hp": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}},
    "check_weight_decay": {"shapes": [[3, 2], [2]], "weight_decay": 0.125, "exclude": True, "steps": 4},
    "check_sparse_matches_dense": {"shapes": [[3, 2]], "steps": 3, "indices": [[2, 0, 2], [1, 0], [0, 2, 1]]},
    "check_checkpoint_resume": {"steps": 6, "split": 2, "decay_rate": 0.5},
    "check_weights_file_resume": {"steps": 6, "split": 2, "decay_rate": 0.5},
    "check_clipping": {"shapes": [[3, 2], [2]], "clip": "clipnorm", "threshold": 0.25, "sparse_first": False,
                       "steps": 4},
    "check_learning_rate_forms": {"form": "exponential", "decay_rate": 0.5},
    "check_ema": {"ema_momentum": 0.5, "overwrite": None},
    "check_loss_scaling": {"scale": 2.0, "bad_step": 1, "bad": "nan", "steps": 4},
    "check_mirrored_strategy": {"shapes": [[4]], "dtype": "float32", "steps": 3},
    "check_config_round_trip": {"steps": 2},
}


def explicit_case(check: str, spec_name: str) -> dict:
    """One explicit case of ``check`` for the built-in spec ``spec_name`` (float64, or float32 where the backend has
    no float64: JAX without ``JAX_ENABLE_X64=1``; the planted bugs are far larger than float32's tolerances)."""
    case = {"shapes": [[3, 2]], "dtype": "float64", "seed": 3, "grad_scale": 1.0, "lr": 0.125,
            "hp": dict(HP[spec_name]), "steps": 5}
    case.update(EXTRA.get(check, {}))
    if "dtype" in case:
        case["dtype"] = dtype_or_float32(case["dtype"])
    return case


def needs_capability(check: str, spec_name: str) -> None:
    """Skip where the installed Keras lacks the capability the check exercises (the spec's tag range says so), or
    the backend does (``Check.needs``: the battery reports that check not applicable there, with this reason)."""
    from initcheck import keras_compat as kc
    from initcheck.checks import all_checks

    if not all_checks()[check].applies(builtins.optimizer(spec_name)):
        pytest.skip(f"{check} does not apply to {spec_name} on this Keras (a capability outside its tag range)")
    missing = kc.capability_missing(all_checks()[check].needs)
    if missing:
        pytest.skip(missing)


def run_isolated(check: str, request: Any) -> bool:
    """Run a MirroredStrategy teeth case in a process of its own; True when it was.

    A collective op that fails (the deliberately broken replica reduction does)
    aborts TensorFlow's collective executor for the rest of the process, so
    every later MirroredStrategy in that process would fail too.
    """
    if check != "check_mirrored_strategy" or os.environ.get("INITCHECK_TEETH_CHILD"):
        return False
    env = dict(os.environ, INITCHECK_TEETH_CHILD="1")
    nodeid = f"{request.node.path}::{request.node.name}"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          "-m", "", nodeid], env=env, capture_output=True, text=True,
                         cwd=str(request.config.rootpath))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    return True
