"""initcheck: verification of TensorFlow/Keras weight initializers and optimizers.

The public facade: everything a plugin author needs is importable from here,
and importing it is cheap (names load on first use; no TensorFlow, NumPy or
SciPy at ``import initcheck``).

* what a plugin declares: :class:`InitializerSpec`, :class:`OptimizerSpec`,
  :class:`ExpectedFailure`, :class:`SpecError`, the reference update
  :class:`Rule`;
* target laws: :class:`Uniform`, :class:`Normal`, :class:`TruncatedNormal`,
  :class:`Orthogonal`, :class:`Constant`, :class:`Identity`,
  :class:`ScipyLaw` (any frozen SciPy distribution), :class:`Law`, with
  :class:`Fans` and :func:`shape_fans`;
* hyperparameter spaces: :func:`unit_interval`, :func:`epsilons`,
  :func:`learning_rates`, :func:`float32_exact`;
* Keras's base-class findings that a subclass inherits:
  :func:`early_keras3_findings`, :data:`LOSS_SCALE_SKIP_COUNTS`,
  :data:`SEED_ZERO_IGNORED`;
* what checks leave behind: :class:`Evidence`, :class:`CheckFailure`;
* in your own tests: :func:`parametrize_with_checks`, :func:`xfail_where`;
* :mod:`initcheck.keras_compat`: the Keras in use (2 or 3), for plugin code
  that must run on both.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings
from typing import Any

__version__ = "0.2.0"

#: Public name -> module (relative to ``initcheck``) that defines it.
_EXPORTS: dict[str, str] = {
    "InitializerSpec": "spec", "OptimizerSpec": "spec", "ExpectedFailure": "spec", "Declarations": "spec", "SpecError": "spec",
    "Rule": "references.optimizers",
    "Evidence": "checks.evidence", "CheckFailure": "checks.evidence",
    "Law": "laws", "Uniform": "laws", "Normal": "laws", "TruncatedNormal": "laws", "Orthogonal": "laws",
    "Constant": "laws", "Identity": "laws", "ScipyLaw": "laws", "Fans": "laws", "shape_fans": "laws",
    "unit_interval": "strategies", "epsilons": "strategies", "learning_rates": "strategies",
    "float32_exact": "dtypes",
    "early_keras3_findings": "builtin.findings", "LOSS_SCALE_SKIP_COUNTS": "builtin.findings",
    "SEED_ZERO_IGNORED": "builtin.findings",
    "parametrize_with_checks": "testing", "xfail_where": "testing",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'initcheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


# --------------------------------------------------------------------------- moved modules
#
# Modules of initcheck 0.1 that the 0.2 layout moved or split.  Importing an
# old path still works for this release and warns (DeprecationWarning) with
# the new home; the old module is a proxy that looks names up in the new
# modules, in order, under their old spelling (``_RENAMED``) if they changed.

_MOVED: dict[str, tuple[str, ...]] = {
    "initcheck.optimizer_spec": ("initcheck.spec", "initcheck.strategies", "initcheck.dtypes"),
    "initcheck.cases": ("initcheck.strategies",),
    "initcheck.evidence": ("initcheck.checks.evidence",),
    "initcheck.options": ("initcheck.battery",),
    "initcheck.plugin": ("initcheck.testing",),
    "initcheck.fans": ("initcheck.laws", "initcheck.checks.layers"),
    "initcheck.propagation": ("initcheck.references.propagation", "initcheck.checks.propagation",
                              "initcheck.stats", "initcheck.strategies"),
    "initcheck.ensemble": ("initcheck.convergence.ensemble",),
    "initcheck.heatmap": ("initcheck.convergence.heatmap",),
    "initcheck.matrix": ("initcheck.reports.tf_matrix",),
    "initcheck.tasks": ("initcheck.convergence.tasks",),
    "initcheck.tasks.digits": ("initcheck.convergence.tasks.digits",),
    "initcheck.tasks.landscapes": ("initcheck.convergence.tasks.landscapes",),
    "initcheck.tasks.learning": ("initcheck.convergence.tasks.learning",),
    "initcheck.tasks.recipes": ("initcheck.convergence.tasks.recipes",),
    # one module per name: the convergence command is no second ``cli`` beside initcheck/cli.py
    "initcheck.convergence.cli": ("initcheck.convergence.command",),
    # the runner is one subpackage: the battery and its worker processes
    "initcheck.execution": ("initcheck.battery.workers",),
    "initcheck.execution.workers": ("initcheck.battery.workers",),
}

#: Old spelling -> new spelling of names that were renamed when they moved.
_RENAMED: dict[str, str] = {
    "keras_fans": "shape_fans",
    "LAYER_CONVENTIONS": "CONVENTIONS",
    "installed_keras": "versions_from_metadata",
}


class _MovedModule(types.ModuleType):
    """Stands in for a moved module: attribute lookups go to its new homes."""

    def __init__(self, name: str, homes: tuple[str, ...]):
        super().__init__(name, f"Moved in initcheck 0.2 to {', '.join(homes)}.")
        self.__homes = homes

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        for home in self.__homes:
            module = importlib.import_module(home)
            for spelling in (attr, _RENAMED.get(attr)):
                if spelling and hasattr(module, spelling):
                    return getattr(module, spelling)
        if attr == "installed_keras":  # lived in optimizer_spec; now in keras_compat
            return importlib.import_module("initcheck.keras_compat").versions_from_metadata
        raise AttributeError(f"{self.__name__!r} moved to {', '.join(self.__homes)}, which have no {attr!r}")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for home in self.__homes:
            names |= set(dir(importlib.import_module(home)))
        return sorted(names)


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves the old module paths of :data:`_MOVED` (with a DeprecationWarning)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in _MOVED:
            is_package = any(other.startswith(fullname + ".") for other in _MOVED)
            return importlib.util.spec_from_loader(fullname, self, is_package=is_package)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        homes = _MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {' / '.join(homes)} in initcheck 0.2; the old path will be removed "
                      "in 0.3", DeprecationWarning, stacklevel=2)
        return _MovedModule(spec.name, homes)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []  # lets ``initcheck.tasks.<x>`` resolve through this finder too


# First on the path: an old path is an alias even where a stale copy of the old module is still importable
# (an editable install of an older checkout); no key of _MOVED is a module of this release.
if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _MovedFinder())
