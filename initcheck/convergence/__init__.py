"""Convergence: initializer x optimizer pairs on toy tasks, as success rates over seeds.

* :mod:`.tasks` -- the toy tasks (landscapes, learning tasks, classic recipes);
* :mod:`.ensemble` -- S seeds of a cell trained together in one compiled graph;
* :mod:`.cells` -- one (initializer, optimizer, task) cell: train, classify,
  success rate with its Clopper-Pearson interval;
* :mod:`.expectations` -- declared claims ("q = 2 trains the deep ReLU net with
  SGD") and their exact binomial decisions at the run's error budget;
* :mod:`.sweep` -- the whole matrix as table rows; :mod:`.heatmap` draws it;
* :mod:`.cli` -- ``initcheck convergence`` (also ``python -m initcheck.convergence``).

The main names are importable from here; TensorFlow loads only when a cell trains.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

_EXPORTS: dict[str, str] = {
    "OptimizerSetting": "cells", "MATRIX_OPTIMIZERS": "cells", "CellResult": "cells", "run_cell": "cells",
    "classify": "cells", "clear_cache": "cells",
    "Expectation": "expectations", "EXPECTATIONS": "expectations", "expectations_for": "expectations",
    "Decision": "expectations", "decide": "expectations", "verify_expectation": "expectations",
    "variance_gain": "expectations",
    "sweep": "sweep", "normal_spec": "sweep", "render_markdown": "sweep",
    "add_arguments": "cli", "run": "cli", "main": "cli",
}

#: Names this module had in initcheck 0.1 and where they live now (DeprecationWarning).
_MOVED: dict[str, tuple[str, str]] = {
    "matrix": ("initcheck.convergence.sweep", "sweep"),
    "cp_upper": ("initcheck.stats", "cp_upper"),
    "cp_lower": ("initcheck.stats", "cp_lower"),
    "cp_interval": ("initcheck.stats", "cp_interval"),
    "required_seeds": ("initcheck.stats", "required_seeds"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    if name in _MOVED:
        module, new = _MOVED[name]
        warnings.warn(f"initcheck.convergence.{name} moved to {module}.{new} in initcheck 0.2; the old name will "
                      "be removed in 0.3", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), new)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
