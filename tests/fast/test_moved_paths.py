"""initcheck 0.1's import paths still work in 0.2: the same objects, with a DeprecationWarning naming the new home.

Each old path is imported in a fresh interpreter (an imported module is
cached, and its warning fires once per process).  This is the one test
module that imports the old paths; every other test imports the new ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

#: (old import, new import, names compared as ``old_name -> new_name``, text the warning must contain).
MOVED = [
    ("import initcheck.optimizer_spec as old", "import initcheck.spec as new",
     {"OptimizerSpec": "OptimizerSpec", "ExpectedFailure": "ExpectedFailure"}, "initcheck.spec"),
    ("import initcheck.optimizer_spec as old", "import initcheck.strategies as new",
     {"epsilons": "epsilons", "unit_interval": "unit_interval", "learning_rates": "learning_rates"},
     "initcheck.strategies"),
    ("import initcheck.optimizer_spec as old", "import initcheck.dtypes as new",
     {"float32_exact": "float32_exact"}, "initcheck.dtypes"),
    ("import initcheck.optimizer_spec as old", "import initcheck.keras_compat as new",
     {"installed_keras": "versions_from_metadata"}, "initcheck.spec"),
    ("import initcheck.cases as old", "import initcheck.strategies as new",
     {"kernel_shapes": "kernel_shapes", "seeds": "seeds", "initializer_cases": "initializer_cases",
      "MAX_SEED": "MAX_SEED"}, "initcheck.strategies"),
    ("import initcheck.evidence as old", "import initcheck.checks.evidence as new",
     {"Evidence": "Evidence", "CheckFailure": "CheckFailure", "format_evidence": "format_evidence"},
     "initcheck.checks.evidence"),
    ("import initcheck.options as old", "import initcheck.battery as new",
     {"default_profile": "default_profile", "apply_budget": "apply_budget"}, "initcheck.battery"),
    ("import initcheck.plugin as old", "import initcheck.testing as new",
     {"pytest_addoption": "pytest_addoption", "pytest_configure": "pytest_configure",
      "pytest_make_collect_report": "pytest_make_collect_report", "InitcheckItem": "InitcheckItem",
      "LoadErrorItem": "LoadErrorItem"}, "initcheck.testing"),
    ("import initcheck.fans as old", "import initcheck.laws as new",
     {"Fans": "Fans", "keras_fans": "shape_fans"}, "initcheck.laws"),
    ("import initcheck.fans as old", "import initcheck.checks.layers as new",
     {"dense_fans": "dense_fans", "conv_fans": "conv_fans", "conv_transpose_fans": "conv_transpose_fans",
      "depthwise_fans": "depthwise_fans", "einsum_fans": "einsum_fans", "recurrent_fans": "recurrent_fans",
      "LAYER_CONVENTIONS": "CONVENTIONS"}, "initcheck.checks.layers"),
    ("from initcheck.fans import keras_fans as old_keras_fans; import initcheck.fans as old",
     "import initcheck.laws as new", {"keras_fans": "shape_fans"}, "initcheck.laws"),
    ("import initcheck.propagation as old", "import initcheck.references.propagation as new",
     {"mean_field": "mean_field", "fluctuation": "fluctuation", "gaussian_expectation": "gaussian_expectation",
      "activation_numpy": "activation_numpy", "spectral_variance_theory": "spectral_variance_theory",
      "SELU_LAMBDA": "SELU_LAMBDA"}, "initcheck.references.propagation"),
    ("import initcheck.propagation as old", "import initcheck.checks._simulator as new",
     {"simulate": "simulate", "draw_stack": "draw_stack"}, "initcheck.checks.propagation"),
    ("import initcheck.propagation as old", "import initcheck.stats as new",
     {"band": "band", "Band": "Band"}, "initcheck.stats"),
    ("import initcheck.ensemble as old", "import initcheck.convergence.ensemble as new",
     {"train_learning_task": "train_learning_task", "build_optimizer": "build_optimizer",
      "elementwise_capability": "elementwise_capability", "NonElementwiseOptimizer": "NonElementwiseOptimizer"},
     "initcheck.convergence.ensemble"),
    ("import initcheck.heatmap as old", "import initcheck.convergence.heatmap as new",
     {"render_svg": "render_svg", "read_jsonl": "read_jsonl"}, "initcheck.convergence.heatmap"),
    ("import initcheck.matrix as old", "import initcheck.reports.tf_matrix as new",
     {"read_junit": "read_junit", "main": "main", "write_table": "write_table"}, "initcheck.reports.tf_matrix"),
    ("import initcheck.tasks as old", "import initcheck.convergence.tasks as new",
     {"get_task": "get_task", "builtin_tasks": "builtin_tasks"}, "initcheck.convergence.tasks"),
    ("import initcheck.tasks.recipes as old", "import initcheck.convergence.tasks.recipes as new",
     {"RECIPES": "RECIPES", "verify_recipe": "verify_recipe"}, "initcheck.convergence.tasks.recipes"),
    ("import initcheck.execution.workers as old", "import initcheck.battery.workers as new",
     {"run_in_workers": "run_in_workers", "RunOptions": "RunOptions", "default_jobs": "default_jobs"},
     "initcheck.battery.workers"),
    ("import initcheck.convergence.cli as old", "import initcheck.convergence.command as new",
     {"main": "main", "add_arguments": "add_arguments"}, "initcheck.convergence.command"),
    ("from initcheck.convergence import cp_interval as old_cp_interval; import initcheck.convergence as old",
     "import initcheck.stats as new", {"cp_interval": "cp_interval"}, "initcheck.stats.cp_interval"),
    ("from initcheck.convergence import matrix as old_matrix; import initcheck.convergence as old",
     "import initcheck.convergence.sweep as new", {"matrix": "sweep"}, "initcheck.convergence.sweep"),
    ("from initcheck.builtin.optimizers import ACCUMULATION_EVERY_CALL as old_ACCUMULATION_EVERY_CALL; "
     "import initcheck.builtin.optimizers as old", "import initcheck.builtin.findings as new",
     {"ACCUMULATION_EVERY_CALL": "ACCUMULATION_EVERY_CALL"}, "initcheck.builtin.findings"),
    ("from initcheck.builtin.initializers import SEED_ZERO_IGNORED as old_SEED_ZERO_IGNORED; "
     "import initcheck.builtin.initializers as old", "import initcheck.builtin.findings as new",
     {"SEED_ZERO_IGNORED": "SEED_ZERO_IGNORED"}, "initcheck.builtin.findings"),
]

_PROBE = textwrap.dedent('''
    import json, sys, warnings
    import initcheck  # installs the finder of the old paths; warns nothing by itself
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        {old}
        result = {{}}
        for old_name, new_name in {names!r}.items():
            from_import = globals().get("old_" + old_name)
            value = getattr(old, old_name)
            result[old_name] = [from_import is None or from_import is value]
        {new}
        for old_name, new_name in {names!r}.items():
            result[old_name].append(getattr(old, old_name) is getattr(new, new_name))
    print(json.dumps({{"same": result,
                      "warnings": [[w.category.__name__, str(w.message)] for w in caught]}}))
''')


def _probe(old: str, new: str, names: dict) -> dict:
    code = _PROBE.format(old=old, new=new, names=names)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _id(old: str, new: str, names: dict) -> str:
    """``initcheck.fans.keras_fans->initcheck.laws``: the old path (and name when imported by name), the new home."""
    path = old.split()[1] if old.startswith("import ") else f"{old.split()[1]}.{old.split()[3]}"
    return f"{path}->{new.split()[1]}"


@pytest.mark.parametrize("old, new, names, home", MOVED, ids=[_id(*m[:3]) for m in MOVED])
def test_old_path_gives_the_same_object_and_warns(old: str, new: str, names: dict, home: str) -> None:
    out = _probe(old, new, names)
    for name, (from_import_same, same) in out["same"].items():
        assert same, f"{old}: {name} is not the object {new} gives"
        assert from_import_same, f"{old}: `from ... import {name}` gave another object"
    deprecations = [msg for category, msg in out["warnings"] if category == "DeprecationWarning"]
    assert deprecations, f"{old}: no DeprecationWarning (got {out['warnings']})"
    assert any(home in msg for msg in deprecations), (home, deprecations)
    assert all("moved to" in msg for msg in deprecations), deprecations


def test_old_name_that_was_replaced_says_where_to_look() -> None:
    """``initcheck.ensemble.layer_seed`` was replaced by ``initcheck.strategies.derive_seed``: an AttributeError
    that names the new homes, not a silent fallback."""
    code = ("import warnings; warnings.simplefilter('ignore'); import initcheck.ensemble as e\n"
            "try:\n    e.layer_seed\nexcept AttributeError as exc:\n    print(exc)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "initcheck.convergence.ensemble" in run.stdout and "layer_seed" in run.stdout


def test_import_initcheck_alone_is_cheap() -> None:
    """``import initcheck`` (the facade) imports no NumPy, SciPy or TensorFlow, and warns nothing."""
    code = ("import sys, warnings\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    import initcheck\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'scipy', 'tensorflow', 'keras', 'tf_keras', 'hypothesis'))\n"
            "print(heavy, [str(x.message) for x in w])\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[] []", run.stdout


def test_facade_names_load_lazily_from_their_modules() -> None:
    """Every public name of the facade resolves, and ``initcheck.X`` is the object of its home module."""
    import importlib

    import initcheck

    for name, module in initcheck._EXPORTS.items():
        assert getattr(initcheck, name) is getattr(importlib.import_module(f"initcheck.{module}"), name), name
    assert set(initcheck.__all__) == set(initcheck._EXPORTS) | {"__version__"}


def test_no_old_path_shadows_a_module_of_this_release() -> None:
    """The finder of old paths comes first on ``sys.meta_path``: an old path that is also a real module would hide it."""
    import pathlib

    import initcheck

    root = pathlib.Path(initcheck.__file__).parent
    for old in initcheck._MOVED:
        rel = pathlib.Path(*old.split(".")[1:])
        assert not (root / rel).with_suffix(".py").exists() and not (root / rel).is_dir(), old
