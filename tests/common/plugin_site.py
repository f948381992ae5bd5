"""Plugins as a third party ships them, for the plugin-author tests (#13).

Two ways to register a plugin without installing it:

* :func:`write_site` writes modules and ``*.dist-info`` folders with entry
  points into a directory; put it on ``PYTHONPATH`` (subprocesses, pytester)
  or ``sys.path`` and :mod:`importlib.metadata` finds them like installed
  distributions;
* :class:`FakeEP` and :func:`only_entry_points` replace the entry points the
  registry sees, in this process (fast: no subprocess, no second TensorFlow
  import).

The initializers here are NumPy functions (``numpy_normal``) or TensorFlow
ops (the README's); each broken one breaks exactly one promise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import numpy as np

#: Text on the line of a test double that raises, to find its frame in a traceback.
PLUGIN_FILE_MARKER = "PLUGIN_FILE_MARKER"

__all__ = ["PLUGIN_FILE_MARKER", "COMMON", "write_site", "run_cli", "FakeEP", "only_entry_points", "numpy_normal", "shape_fan_uniform",
           "sleeper", "CLI_ENV", "dtype_name"]

#: Module text every site plugin starts with (``from plugin_common import *``).
COMMON = '''
import time
import numpy as np
from initcheck import ExpectedFailure, InitializerSpec, Normal, Uniform

def dtype_name(dtype):
    # what a layer passes (None, a string, or a TensorFlow DType on Keras 2) as a NumPy dtype name
    return str(getattr(dtype, "name", dtype) or "float32")

def numpy_normal(seed):
    def init(shape, dtype=None):
        rng = np.random.default_rng(seed)
        return rng.normal(0.0, 1.0, size=tuple(shape)).astype(dtype_name(dtype))
    return init

def scaled_normal(std=1.0):
    """factory(seed) -> init(shape, dtype): N(0, std^2) draws from NumPy, seeded."""
    def factory(seed):
        def init(shape, dtype=None):
            rng = np.random.default_rng(seed)
            return (std * rng.standard_normal(size=tuple(shape))).astype(dtype_name(dtype))
        return init
    return factory

def make(name, factory, **kw):
    kw.setdefault("dtypes", ("float32", "float64"))
    kw.setdefault("unseeded_repeat", "different")
    return InitializerSpec(name=name, factory=factory, law=Normal(std=1.0), **kw)

def constant(seed):
    return lambda shape, dtype=None: np.full(tuple(shape), 0.5, dtype=dtype_name(dtype))

#: A quick good spec: a constant (few checks, no statistics).
QUICK = InitializerSpec(name="Half", factory=constant, law=__import__("initcheck").Constant(0.5),
                        tags=frozenset({"deterministic"}), seeded_repeat="any", dtypes=("float32",))
'''

#: Environment for a CLI or pytest subprocess: quiet TensorFlow, the site first on the path.
CLI_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def write_site(root: Path, plugins: Mapping[str, tuple], group: str = "initcheck.initializers") -> Path:
    """``{distribution: (module, body[, entry point value])}`` -> a directory of modules and dist-info folders.

    The entry point value defaults to ``module:SPEC``.

    A 4th tuple element overrides the entry-point group; a list of values
    gives the distribution several entry points.
    """
    site = Path(root) / "site"
    site.mkdir(exist_ok=True)
    (site / "plugin_common.py").write_text(COMMON)
    for dist, spec in plugins.items():
        module, body = spec[:2]
        value = spec[2] if len(spec) > 2 else f"{module}:SPEC"
        grp = spec[3] if len(spec) > 3 else group
        (site / f"{module}.py").write_text("from plugin_common import *\n" + textwrap.dedent(body) + "\n")
        info = site / f"{module.replace('-', '_')}-0.1.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        (info / "top_level.txt").write_text(module + "\n")
        values = value if isinstance(value, list) else [value]
        lines = "\n".join(f"ep{i} = {v}" for i, v in enumerate(values))
        (info / "entry_points.txt").write_text(f"[{grp}]\n{lines}\n")
    return site


def run_cli(args: Iterable[str], site: Optional[Path] = None, cwd: Optional[Path] = None, timeout: float = 900,
            env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
    """``initcheck ARGS`` in a subprocess with ``site`` on ``PYTHONPATH``."""
    full = dict(os.environ, **CLI_ENV, **dict(env or {}))
    if site is not None:
        full["PYTHONPATH"] = os.pathsep.join([str(site), full.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "initcheck.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=full, timeout=timeout)


class _Dist:
    def __init__(self, name: str):
        self.name = name


class FakeEP:
    """An entry point of distribution ``dist`` that loads ``obj`` (or raises ``exc``)."""

    def __init__(self, dist: str, name: str, obj: Any = None, exc: Optional[BaseException] = None,
                 value: str = "fake:obj"):
        self.dist, self.name, self.value, self._obj, self._exc = _Dist(dist), name, value, obj, exc

    def load(self) -> Any:
        if self._exc is not None:
            raise self._exc
        return self._obj


def only_entry_points(monkeypatch: Any, initializers: Iterable[FakeEP] = (), optimizers: Iterable[FakeEP] = ()) -> None:
    """Make the registry see exactly these entry points (built-ins included only if passed)."""
    from initcheck import registry

    eps = {"initcheck.initializers": list(initializers), "initcheck.optimizers": list(optimizers)}
    monkeypatch.setattr(registry, "_entry_points", lambda group: eps[group])


# --------------------------------------------------------------------------- initializers (NumPy)

def numpy_normal(seed: Optional[int], std: float = 1.0) -> Any:
    """Seeded N(0, std^2) (the same values on every call of one instance)."""
    def init(shape: Any, dtype: Any = None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.normal(0.0, std, size=tuple(shape)).astype(dtype_name(dtype))

    return init


def dtype_name(dtype: Any) -> str:
    """A NumPy dtype name for what a layer passes: None, a string, or a TensorFlow DType (Keras 2)."""
    return str(getattr(dtype, "name", dtype) or "float32")


def _shape_fan_in(shape: tuple) -> int:
    shape = tuple(int(s) for s in shape)
    return shape[0] if len(shape) == 1 else shape[-2] * int(np.prod(shape[:-2], dtype=np.int64))


def shape_fan_uniform(seed: Optional[int], scale: float = 1.0) -> Any:
    """Uniform with variance ``scale / fan_in``, fans from the kernel shape (as Keras's VarianceScaling)."""
    def init(shape: Any, dtype: Any = None) -> np.ndarray:
        limit = np.sqrt(3.0 * scale / max(1, _shape_fan_in(tuple(shape))))
        rng = np.random.default_rng(seed)
        return rng.uniform(-limit, limit, size=tuple(shape)).astype(dtype_name(dtype))

    return init


def sleeper(seconds: float) -> Any:
    """A factory whose initializer sleeps (a plugin that hangs)."""
    def factory(seed: Optional[int]) -> Any:
        def init(shape: Any, dtype: Any = None) -> np.ndarray:
            import time

            time.sleep(seconds)
            return np.zeros(tuple(shape), dtype=dtype_name(dtype))

        return init

    return factory
