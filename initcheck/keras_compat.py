"""The one room that knows Keras 2 from Keras 3, and which backend Keras 3 runs on.

* TensorFlow 2.12-2.15: Keras 2 as ``tf.keras``.
* TensorFlow >= 2.16: Keras 3 (``import keras``), or Keras 2 from the
  ``tf_keras`` package when ``TF_USE_LEGACY_KERAS=1``.
* Keras 3 on another backend (``KERAS_BACKEND=jax|torch``, or the
  ``"backend"`` of ``keras.json``): :func:`backend` says which, read as
  Keras reads it, without importing anything; TensorFlow is then never
  imported, and the TensorFlow-only helpers (:func:`tf` and those built on
  it) raise :class:`NotOnBackend` naming the backend.  Capabilities that only
  some backends have are one table, :data:`CAPABILITIES`.

Everything else in initcheck asks this module for Keras objects, versions,
seeding, configs and saving; only the built-in specs and this module import
TensorFlow or Keras.  Importing this module is cheap: TensorFlow (or Keras on
another backend) is imported on first use.
"""

from __future__ import annotations

import functools
import logging
import os
from importlib import metadata
from typing import Any, Callable, Mapping, Optional, Sequence

__all__ = [
    "tf",
    "keras",
    "keras_major",
    "versions",
    "versions_from_metadata",
    "METADATA_DISTRIBUTIONS",
    "legacy_requested",
    "initializer_class",
    "optimizer_class",
    "public_initializer_names",
    "public_optimizer_names",
    "to_numpy",
    "dtype_name",
    "get_config",
    "from_config",
    "register_serializable",
    "save_and_load",
    "set_global_seed",
    "mirrored_strategy",
    "data_parallel_run",
    "jitted_stateless_steps",
    "reset_collectives",
    "is_collective_error",
    "TensorFlowMissing",
    "backend",
    "backend_from",
    "BACKENDS",
    "NotOnBackend",
    "CAPABILITIES",
    "capability_missing",
    "unknown_capabilities",
    "dtype_missing",
    "case_missing",
    "DTYPE_CAPABILITIES",
    "x64_enabled",
    "jax_x64_setting",
    "vjp",
    "float64_scope",
    "float64_ops",
    "JAX_FLOAT32_OPS",
    "TORCH_FLOAT32_OPS",
]


class TensorFlowMissing(ImportError):
    """TensorFlow is not installed; say how to get it."""


class NotOnBackend(RuntimeError):
    """A TensorFlow-only helper was called while Keras runs on another backend."""


#: Backends initcheck knows (Keras 3 has more: ``numpy``, ``openvino``; they have no optimizers to check).
BACKENDS: tuple[str, ...] = ("tensorflow", "jax", "torch")

#: The library each backend's versions are recorded from (:func:`versions`).
_BACKEND_LIBRARIES: Mapping[str, tuple[str, ...]] = {"tensorflow": (), "jax": ("jax", "jaxlib"), "torch": ("torch",)}


def backend_from(environ: Mapping[str, str], keras_api: Optional[str] = None,
                 home: Optional[str] = None) -> str:
    """The backend Keras would pick in a process with ``environ``, read as ``keras/src/backend/config.py`` does.

    Keras 3 reads ``$KERAS_HOME/keras.json`` (default ``~/.keras``, or
    ``/tmp/.keras`` when the home folder is not writable; an unreadable file
    counts as empty) for its ``"backend"``, then lets a non-empty
    ``KERAS_BACKEND`` override it; the default is ``tensorflow``.  Keras 2
    (``keras_api == "2"``: tf.keras before TF 2.16, or ``tf_keras``) has no
    other backend.

    Args:
        environ: The environment to read (``os.environ`` for this process).
        keras_api: ``"2"`` or ``"3"``; default read from package metadata
            (:func:`versions_from_metadata`), importing nothing.
        home: The user's home folder (default ``~``), for tests.
    """
    if keras_api is None:
        keras_api = versions_from_metadata(legacy=_legacy_requested_in(environ)).get("keras_api", "3")
    if keras_api == "2":
        return "tensorflow"
    chosen = "tensorflow"
    if "KERAS_HOME" in environ:
        folder = environ["KERAS_HOME"]
    else:
        base = home if home is not None else os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        folder = os.path.join(base, ".keras")
    path = os.path.expanduser(os.path.join(folder, "keras.json"))
    if os.path.exists(path):
        import json

        try:
            with open(path) as fh:
                config = json.load(fh)
        except (ValueError, OSError):
            config = {}
        if isinstance(config, dict) and config.get("backend"):
            chosen = str(config["backend"])
    if environ.get("KERAS_BACKEND"):
        chosen = environ["KERAS_BACKEND"]
    return chosen


@functools.lru_cache(maxsize=None)
def backend() -> str:
    """The backend Keras runs on in this process: ``"tensorflow"``, ``"jax"`` or ``"torch"``.

    Imports nothing: the answer comes from the environment and ``keras.json``
    (:func:`backend_from`), or from ``keras.config.backend()`` when Keras 3 is
    already imported (it read them once, at its import).  Cached, as Keras
    reads them once per process.
    """
    loaded = __import__("sys").modules.get("keras")
    config = getattr(loaded, "config", None)
    keras3 = str(getattr(loaded, "__version__", "")).startswith("3")
    if keras3 and config is not None and hasattr(config, "backend") and not _legacy_requested():
        try:
            return str(config.backend())
        except Exception:  # pragma: no cover - a half-imported Keras
            pass
    return backend_from(os.environ)


#: Capabilities that hold on some backends only: name -> (what it is, the backends that have it).  A check
#: that needs one (``register_check(needs=...)``) is reported ``not_applicable`` elsewhere, never skipped
#: silently -- the backend scope of a capability, as ``OptimizerSpec.tag_versions`` is its version scope.
CAPABILITIES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "tf_indexed_slices": ("sparse gradients as tf.IndexedSlices", ("tensorflow",)),
    "tf_distribute": ("tf.distribute.MirroredStrategy over logical CPUs", ("tensorflow",)),
    # Data-parallel replicas over two host CPU devices, by each backend's own means: MirroredStrategy on
    # TensorFlow, keras.distribution.DataParallel with the batch sharded over two devices on JAX
    # (:func:`data_parallel_run`).  PyTorch has no equivalent in Keras 3 (its distribution API is JAX-only).
    "data_parallel": ("data-parallel replicas over two host CPUs (TensorFlow: MirroredStrategy; JAX: "
                      "keras.distribution.DataParallel sharding)", ("tensorflow", "jax")),
    "tf_checkpoint": ("tf.train.Checkpoint save and restore of optimizer state", ("tensorflow",)),
    # The path Keras's JAX trainer drives an optimizer through (:func:`jitted_stateless_steps`); a check runs it
    # beside eager ``apply_gradients`` where it exists.
    "jax_stateless_jit": ("optimizer.stateless_apply under jax.jit, as Keras's JAX trainer applies it", ("jax",)),
    "tf_function": ("tf.function graphs and XLA (jit_compile)", ("tensorflow",)),
    "tf_keras": ("Keras 2 (tf.keras, tf_keras)", ("tensorflow",)),
    # A spec's own object written with TensorFlow ops (``InitializerSpec(needs=("tf_ops",))``): every check of
    # the spec is not applicable on another backend, where the object itself cannot run.
    "tf_ops": ("the object itself calls TensorFlow ops (tf.random, tf.Variable, ...)", ("tensorflow",)),
    "float64": ("64-bit floats; JAX truncates float64 to float32 unless JAX_ENABLE_X64=1",
                ("tensorflow", "jax", "torch")),
}


def unknown_capabilities(names: Any) -> list[str]:
    """The names in ``names`` that are not capabilities of :data:`CAPABILITIES` (empty when all are known).

    The one test of a capability name, shared by ``register_check(needs=...)`` and a spec's ``needs``."""
    return [n for n in names if n not in CAPABILITIES]


#: The capability a case in a dtype needs (:func:`dtype_missing`); dtypes not listed need none.
DTYPE_CAPABILITIES: Mapping[str, str] = {"float64": "float64"}


def x64_enabled() -> bool:
    """Whether JAX's 64-bit types are on in this process (``jax_enable_x64``).

    Read from JAX's own config once JAX is imported (``JAX_ENABLE_X64`` and
    ``jax.config.update`` both set it, so a run that enables it either way
    is seen), else from ``JAX_ENABLE_X64`` as JAX parses it (default off).
    """
    import sys

    jax = sys.modules.get("jax")
    if jax is not None and hasattr(jax, "config"):
        return bool(jax.config.jax_enable_x64)
    return os.environ.get("JAX_ENABLE_X64", "").strip().lower() in ("1", "y", "yes", "t", "true", "on")


def jax_x64_setting() -> str:
    """``"on"`` / ``"off"``: :func:`x64_enabled` as a version record's ``jax_x64`` holds it (what a
    declaration's ``jax:x64`` / ``jax:no-x64`` scope is judged against)."""
    return "on" if x64_enabled() else "off"


def _float64_holds(name: str) -> bool:
    return name != "jax" or x64_enabled()


#: Capabilities that a backend of their row has only in some runtime configurations: name -> a function
#: ``backend -> bool`` (True when it holds in this process).  JAX's 64-bit types are off by default (its
#: ``jax_enable_x64`` flag, set by ``JAX_ENABLE_X64=1``): Keras then hands back float32 for every float64
#: request -- an initializer's draw and a ``keras.Variable(dtype="float64")`` alike -- so a float64 case
#: would test float32 values against float64 expectations.
_RUNTIME_CONDITIONS: Mapping[str, Callable[[str], bool]] = {"float64": _float64_holds}


def capability_missing(needs: Any, on: Optional[str] = None) -> Optional[str]:
    """Why a check that needs the capabilities ``needs`` cannot run on backend ``on`` (default :func:`backend`).

    ``None`` when every capability holds there, else ``"not applicable on
    <backend>: needs <capability> (<what it is>)"`` for the first one that
    does not.  An unknown capability name raises ``KeyError`` naming the
    known ones.
    """
    name = on or backend()
    for cap in needs:
        if cap not in CAPABILITIES:
            raise KeyError(f"unknown capability {cap!r}; known: {sorted(CAPABILITIES)}")
        what, backends = CAPABILITIES[cap]
        condition = _RUNTIME_CONDITIONS.get(cap)
        if name not in backends or (condition is not None and not condition(name)):
            return f"not applicable on {name}: needs {cap} ({what})"
    return None


def dtype_missing(dtype: Optional[str], on: Optional[str] = None) -> Optional[str]:
    """Why a case in ``dtype`` cannot run on backend ``on`` (default :func:`backend`), or ``None``.

    The case-level form of :func:`capability_missing`: a dtype needs the
    capability :data:`DTYPE_CAPABILITIES` names for it (float64 needs
    ``float64``, which JAX has only with ``JAX_ENABLE_X64=1``).
    """
    cap = DTYPE_CAPABILITIES.get(str(dtype)) if dtype is not None else None
    return capability_missing((cap,), on) if cap else None


def case_missing(case: Mapping[str, Any], on: Optional[str] = None) -> Optional[str]:
    """Why ``case`` cannot run on backend ``on`` (its ``"dtype"``, :func:`dtype_missing`), or ``None``."""
    return dtype_missing(case.get("dtype"), on) if isinstance(case, Mapping) else None


def vjp(fn: Callable[[Any], Any], primal: Any, cotangent: Any) -> Any:
    """The vector-Jacobian product ``cotangent^T d fn / d primal``, by the backend's own autodiff.

    TensorFlow: ``tf.GradientTape``; JAX: ``jax.vjp``; PyTorch: ``torch.autograd.grad``
    on a detached copy of ``primal`` that requires grad.
    """
    name = backend()
    if name == "tensorflow":
        t = tf()
        with t.GradientTape() as tape:
            tape.watch(primal)
            out = fn(primal)
        return tape.gradient(out, primal, output_gradients=cotangent)
    if name == "jax":
        _, pullback = _jax().vjp(fn, primal)
        return pullback(cotangent)[0]
    if name == "torch":
        import torch

        x = torch.as_tensor(primal).detach().requires_grad_(True)
        with torch.enable_grad():
            out = fn(x)
            (grad,) = torch.autograd.grad(out, x, grad_outputs=torch.as_tensor(cotangent, dtype=out.dtype))
        return grad
    raise NotOnBackend(f"keras_compat.vjp has no implementation for the {name} backend")


#: ``keras.ops`` that Keras on JAX computes in float32 for a float64 input, whatever ``jax_enable_x64`` says:
#: its ``result_type`` maps float64 to float32 on JAX (``keras/src/backend/common/dtypes.py``,
#: ``BIT64_TO_BIT32_DTYPE``, "to be aligned with JAX's default behavior").  Measured with
#: ``JAX_ENABLE_X64=1`` (docs/data/backends/jax_float64_ops.py): ``ops.tanh`` returns float32, ``ops.mean``
#: float64 with float32 precision (relative error ~1e-8).  The ops the propagation simulator uses were
#: each measured; these two are the ones that lose float64.
JAX_FLOAT32_OPS: tuple[str, ...] = ("tanh", "mean")

#: The same on PyTorch (the same ``BIT64_TO_BIT32_DTYPE`` applies to every backend but TensorFlow):
#: ``ops.matmul`` of two float64 tensors computes and returns float32, ``ops.mean`` computes in float32
#: (Keras 3.15.1, torch 2.13.0; every other op the propagation simulator uses keeps float64, measured one by
#: one: ``docs/data/backends/torch_float64_ops.py``).
TORCH_FLOAT32_OPS: tuple[str, ...] = ("matmul", "mean")


class _Float64Ops:
    """``keras.ops`` with the backend's float32-computing ops replaced by float64-faithful versions."""

    def __init__(self, ops: Any, replaced: Mapping[str, Callable]):
        self._ops, self._replaced = ops, dict(replaced)

    def __getattr__(self, name: str) -> Any:
        if name in self._replaced:
            return self._replaced[name]
        return getattr(self._ops, name)


def float64_ops() -> Any:
    """``keras.ops`` for code that must compute in float64 (initcheck's instruments, not the code under test).

    On TensorFlow ``keras.ops`` itself.  On JAX, the ops of
    :data:`JAX_FLOAT32_OPS` come from ``jax.numpy`` instead; on PyTorch those of
    :data:`TORCH_FLOAT32_OPS` from ``torch``; so a float64 computation stays float64.
    """
    ops = keras().ops
    name = backend()
    if name == "jax":
        import jax.numpy as jnp

        def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
            return jnp.mean(jnp.asarray(x), axis=axis, keepdims=keepdims)

        return _Float64Ops(ops, {"tanh": jnp.tanh, "mean": mean})
    if name == "torch":
        import torch

        def torch_mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
            x = torch.as_tensor(x)
            if axis is None:
                return torch.mean(x)
            return torch.mean(x, dim=tuple(axis) if isinstance(axis, (tuple, list)) else int(axis), keepdim=keepdims)

        return _Float64Ops(ops, {"matmul": torch.matmul, "mean": torch_mean})
    return ops


def float64_scope() -> Any:
    """A context in which the backend computes in float64 (JAX: ``jax.enable_x64(True)``; else nothing to do).

    For initcheck's own instruments (the propagation simulator computes in
    float64 on every backend), never for the object under test: an
    initializer is called outside it, as a user's code calls it.
    """
    import contextlib

    if backend() == "jax" and not x64_enabled():
        return _jax().enable_x64(True)
    return contextlib.nullcontext()


def _require_tensorflow_backend(what: str) -> None:
    name = backend()
    if name != "tensorflow":
        raise NotOnBackend(f"{what} needs TensorFlow, but Keras runs on the {name} backend "
                           f"(KERAS_BACKEND={os.environ.get('KERAS_BACKEND', '')!r}); this part of initcheck "
                           "has no equivalent on that backend yet")


def _dist_version(name: str) -> Optional[str]:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=None)
def tf() -> Any:
    """The ``tensorflow`` module, imported quietly on first use (TensorFlow backend only: :class:`NotOnBackend`)."""
    _require_tensorflow_backend("tensorflow (keras_compat.tf)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as _tf
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise TensorFlowMissing(
            "initcheck needs TensorFlow 2.12-2.21: install it with "
            "`pip install 'initcheck[tf-cpu]'` (or `[tf]`), or install "
            f"tensorflow / tensorflow-cpu yourself ({exc})"
        ) from exc
    _split_host_cpu(_tf)
    _quiet_harness_retracing(_tf)
    return _tf


class _HarnessRetracing(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls ... triggered tf.function retracing" warning, and only it.

    The battery builds a fresh strategy, optimizer and graph per case by design (each case must start from
    nothing), so TensorFlow's frequent-tracing detector fires on every run (MirroredStrategy's
    ``call_for_each_replica``, the propagation simulator's graphs); the warning is about the harness's calling
    pattern, not about the object under test.  Every other TensorFlow warning passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _quiet_harness_retracing(module: Any) -> None:
    logger = module.get_logger()
    if not any(isinstance(f, _HarnessRetracing) for f in logger.filters):
        logger.addFilter(_HarnessRetracing())


def _split_host_cpu(module: Any) -> None:
    """On first TensorFlow use, split the host CPU into logical devices (optimizer battery).

    ``tf.distribute.MirroredStrategy`` checks need two devices, and logical
    devices can only be configured before the runtime initialises, i.e. here.
    ``INITCHECK_LOGICAL_CPUS`` (default 2; 1 or 0 disables) sets the count;
    ops still run on ``/cpu:0`` unless placed.  Failure is recorded, not raised.
    """
    n = _logical_cpu_count()
    if n < 2:
        return
    try:
        cpus = module.config.list_physical_devices("CPU")
        module.config.set_logical_device_configuration(cpus[0], [module.config.LogicalDeviceConfiguration()] * n)
        _LOGICAL_CPUS["how"] = f"configured {n} logical CPUs on first TensorFlow use"
    except Exception as exc:  # runtime already initialised by someone else
        _LOGICAL_CPUS["how"] = f"could not configure logical CPUs: {exc}"


def _logical_cpu_count() -> int:
    try:
        return int(os.environ.get("INITCHECK_LOGICAL_CPUS", "2"))
    except ValueError:
        return 2


@functools.lru_cache(maxsize=None)
def _jax() -> Any:
    """The ``jax`` module, configured on first use like :func:`tf` (its host split into devices).

    :func:`keras` calls it before importing Keras on the JAX backend, so the configuration comes before JAX's
    first operation; every JAX path of this module reaches JAX through it."""
    import jax

    _split_jax_host(jax)
    return jax


def _split_jax_host(jax: Any) -> None:
    """Before JAX's backend starts, ask it for two host CPU devices (the JAX twin of :func:`_split_host_cpu`).

    ``jax_num_cpu_devices`` only takes effect before JAX runs its first operation (importing Keras runs none);
    a count already forced by ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` is left alone, and
    ``INITCHECK_LOGICAL_CPUS`` (default 2; 1 or 0 disables) sets the count as on TensorFlow.  Operations still
    run on the first device unless sharded.  Failure is recorded, not raised.
    """
    n = _logical_cpu_count()
    if n < 2 or "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        _LOGICAL_CPUS["how"] = "left JAX's host device count as XLA_FLAGS / INITCHECK_LOGICAL_CPUS set it"
        return
    try:
        jax.config.update("jax_num_cpu_devices", n)
        _LOGICAL_CPUS["how"] = f"configured {n} JAX host devices before JAX's first operation"
    except Exception as exc:  # JAX already ran an operation in this process
        _LOGICAL_CPUS["how"] = f"could not configure JAX host devices: {exc}"


def _legacy_requested_in(environ: Mapping[str, str]) -> bool:
    return environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() in ("1", "true", "yes")


def _legacy_requested() -> bool:
    return _legacy_requested_in(os.environ)


def legacy_requested() -> bool:
    """``TF_USE_LEGACY_KERAS`` asks for Keras 2 from ``tf_keras`` (on TensorFlow >= 2.16)."""
    return _legacy_requested()


@functools.lru_cache(maxsize=None)
def keras() -> Any:
    """The Keras module in use (``tf.keras``, ``tf_keras`` or ``keras`` 3; on another backend, no TensorFlow)."""
    if backend() != "tensorflow":
        if backend() == "jax":
            _jax()  # configured before Keras's import can reach JAX's first operation
        import keras as _k3

        return _k3
    t = tf()
    major, minor = (int(p) for p in t.__version__.split(".")[:2])
    if (major, minor) < (2, 16):
        return t.keras
    if _legacy_requested():
        try:
            import tf_keras
        except ImportError as exc:  # pragma: no cover
            raise TensorFlowMissing(
                "TF_USE_LEGACY_KERAS=1 asks for Keras 2 but the tf_keras package is missing: "
                "`pip install 'initcheck[legacy-keras]'`"
            ) from exc
        return tf_keras
    import keras as _keras

    return _keras


def _keras_module_version(k: Any) -> str:
    """``k.__version__``, or the distribution's version where the module has none.

    ``tf.keras`` on TensorFlow 2.14-2.15 is the ``keras.api._v2.keras`` module,
    which has no ``__version__`` (found by the tf215 environment: AttributeError
    in ``versions()``); the ``keras`` 2.x wheel that TensorFlow installs says it.
    """
    value = getattr(k, "__version__", None)
    if value:
        return str(value)
    name = "tf-keras" if str(getattr(k, "__name__", "")).startswith("tf_keras") else "keras"
    found = _dist_version(name)
    if found is None:  # pragma: no cover - a Keras without metadata
        raise RuntimeError(f"cannot tell the version of {getattr(k, '__name__', k)!r}")
    return found


@functools.lru_cache(maxsize=None)
def keras_major() -> int:
    """2 or 3: which Keras API is in use."""
    return int(_keras_module_version(keras()).split(".")[0])


@functools.lru_cache(maxsize=None)
def versions() -> Mapping[str, str]:
    """Versions of what runs: ``{"tensorflow", "keras", "keras_api": "2"|"3", "backend"}``.

    ``keras`` is the version of the Keras actually in use (``tf_keras`` in
    legacy mode), so expected-failure ranges speak of what ran.  On another
    backend ``tensorflow`` is absent (it does not run, installed or not: a
    range over ``tensorflow`` does not hold there) and the backend's
    libraries are there instead (``jax`` and ``jaxlib``, or ``torch``).
    """
    name = backend()
    k = keras()
    out = {"keras": _keras_module_version(k).split("+")[0], "keras_api": str(keras_major()), "backend": name}
    if name == "tensorflow":
        out = {"tensorflow": tf().__version__.split("+")[0], **out}
    for lib in _BACKEND_LIBRARIES.get(name, (name,)):
        found = _dist_version(lib)
        if found:
            out[lib] = found.split("+")[0]
    if name == "jax":
        out["jax_x64"] = jax_x64_setting()
    return out


#: The distributions :func:`versions_from_metadata` reads.
METADATA_DISTRIBUTIONS: tuple[str, ...] = ("tensorflow", "tensorflow-cpu", "keras", "tf-keras", "tf_keras")


def versions_from_metadata(lookup: Optional[Callable[[str], Optional[str]]] = None,
                           legacy: Optional[bool] = None) -> Mapping[str, str]:
    """``{"tensorflow": ..., "keras": ...}`` like :func:`versions`, read from package metadata only.

    No TensorFlow import: capability tags that hold only for some Keras
    versions are resolved with it at collection time, when importing
    TensorFlow would be too early.  ``keras`` is the version of the Keras
    that :func:`keras` would return (``tf.keras`` = TensorFlow's own version
    before 2.16, ``tf_keras`` in legacy mode, else ``keras``).

    Args:
        lookup: distribution name (one of :data:`METADATA_DISTRIBUTIONS`) ->
            version or None; default this interpreter's metadata.  Pass
            another interpreter's answers to ask about it (``initcheck
            findings --verify --python``).
        legacy: ``TF_USE_LEGACY_KERAS`` is set; default this process's environment.
    """
    lookup = lookup or _dist_version
    legacy = _legacy_requested() if legacy is None else legacy
    tfv = lookup("tensorflow") or lookup("tensorflow-cpu")
    if tfv is None:
        kv = lookup("keras")
    elif tuple(int(p) for p in tfv.split(".")[:2]) < (2, 16):
        kv = tfv
    elif legacy:
        kv = lookup("tf-keras") or lookup("tf_keras")
    else:
        kv = lookup("keras")
    out = {}
    if tfv:
        out["tensorflow"] = tfv
    if kv:
        out["keras"] = kv
        out["keras_api"] = "2" if kv.split(".")[0] in ("2", "1") else "3"
    return out


def public_initializer_names() -> list[str]:
    """Public initializer classes of the Keras in use (aliases included)."""
    mod = keras().initializers
    base = mod.Initializer
    out = []
    for name in dir(mod):
        obj = getattr(mod, name)
        if name[:1].isupper() and isinstance(obj, type) and issubclass(obj, base) and obj is not base:
            out.append(name)
    return sorted(out)


def public_optimizer_names() -> list[str]:
    """Public optimizer classes of the Keras in use."""
    mod = keras().optimizers
    out = []
    for name in dir(mod):
        obj = getattr(mod, name)
        if name[:1].isupper() and isinstance(obj, type):
            out.append(name)
    return sorted(out)


def initializer_class(name: str) -> Any:
    """``keras.initializers.<name>``; a clear error when this Keras lacks it."""
    mod = keras().initializers
    if not hasattr(mod, name):
        raise LookupError(f"Keras {versions()['keras']} has no initializer {name!r}")
    return getattr(mod, name)


def optimizer_class(name: str) -> Any:
    """``keras.optimizers.<name>``; a clear error when this Keras lacks it."""
    mod = keras().optimizers
    if not hasattr(mod, name):
        raise LookupError(f"Keras {versions()['keras']} has no optimizer {name!r}")
    return getattr(mod, name)


def to_numpy(value: Any) -> Any:
    """A NumPy array from a tensor, variable or array (bfloat16 kept as ml_dtypes)."""
    import numpy as np

    if type(value).__module__.startswith("torch"):  # a torch tensor (maybe on a device, with grad)
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # torch has no NumPy bfloat16; widening to float32 is exact
            import ml_dtypes

            return np.asarray(value.float().numpy()).astype(ml_dtypes.bfloat16)
        return np.asarray(value.numpy())
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def dtype_name(value: Any) -> str:
    """Canonical dtype name of a tensor or array (``"float16"``, ``"bfloat16"``...)."""
    dt = getattr(value, "dtype", None)
    if dt is None:
        import numpy as np

        dt = np.asarray(value).dtype
    name = getattr(dt, "name", None) or str(dt)
    # TensorFlow's dtypes print as "tf.float16"; torch's have no .name and print as "torch.float16".
    return str(name).replace("tf.", "").removeprefix("torch.")


def get_config(obj: Any) -> dict:
    return dict(obj.get_config())


def from_config(obj: Any, config: Mapping[str, Any]) -> Any:
    """A clone of ``obj`` rebuilt from ``config`` through its class."""
    return type(obj).from_config(dict(config))


def register_serializable(package: str, name: Optional[str] = None) -> Any:
    """Decorator registering a class for Keras serialization (both APIs)."""
    k = keras()
    saving = getattr(k, "saving", None)
    if saving is not None and hasattr(saving, "register_keras_serializable"):
        return saving.register_keras_serializable(package=package, name=name)
    return k.utils.register_keras_serializable(package=package, name=name)


def save_and_load(model: Any, path: str) -> Any:
    """Save ``model`` in the ``.keras`` format and load it back in safe mode."""
    k = keras()
    if not str(path).endswith(".keras"):
        raise ValueError(f"save_and_load needs a path ending in .keras, got {path!r}")
    model.save(path)
    try:
        return k.models.load_model(path, safe_mode=True, compile=False)
    except TypeError:  # Keras versions without safe_mode
        return k.models.load_model(path, compile=False)


def dense_model(units: int, input_dim: int, kernel_initializer: Any) -> Any:
    """A one-layer model ``Input(input_dim) -> Dense(units)`` built with ``kernel_initializer``."""
    k = keras()
    inp = k.Input(shape=(input_dim,))
    out = k.layers.Dense(units, kernel_initializer=kernel_initializer, use_bias=False)(inp)
    return k.Model(inp, out)


def set_global_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow together (``keras.utils.set_random_seed``)."""
    keras().utils.set_random_seed(int(seed))


# --------------------------------------------------------------------------
# Optimizer helpers (added for the optimizer battery; additive only).
# Keras 3 and Keras 2 (tf.keras 2.12-2.15 "new" optimizers, tf_keras) share
# ``apply_gradients``, ``iterations``, ``build``, ``finalize_variable_values``
# and ``exclude_from_weight_decay``; they differ in variables, loss scaling
# and gradient accumulation, which these helpers hide.
# --------------------------------------------------------------------------


def variable(value: Any, name: str = "w", dtype: Optional[str] = None) -> Any:
    """A trainable variable the optimizer of the Keras in use accepts."""
    import numpy as np

    arr = np.asarray(value, dtype=dtype) if dtype else np.asarray(value)
    if keras_major() >= 3:
        return keras().Variable(arr, dtype=str(arr.dtype), name=name)
    return tf().Variable(arr, name=name)


def indexed_slices(values: Any, indices: Any, dense_shape: Any) -> Any:
    """A sparse gradient (``tf.IndexedSlices``); indices may repeat.  TensorFlow only (``tf_indexed_slices``)."""
    t = tf()
    return t.IndexedSlices(t.constant(values), t.constant(indices, dtype="int64"),
                           t.constant(list(dense_shape), dtype="int64"))


def apply_gradients(optimizer: Any, grads: Any, variables: Any) -> None:
    """One ``apply_gradients`` call (dense tensors, arrays or IndexedSlices).

    On another backend each gradient becomes a tensor of that backend
    (``keras.ops.convert_to_tensor`` in the variable's dtype).
    """
    if backend() != "tensorflow":
        import numpy as np

        ops = keras().ops
        optimizer.apply_gradients([(ops.convert_to_tensor(np.asarray(g), dtype=v.dtype), v)
                                   for g, v in zip(grads, variables)])
        return
    t = tf()
    pairs = []
    for g, v in zip(grads, variables):
        if not isinstance(g, t.IndexedSlices):
            g = t.constant(g, dtype=v.dtype)
        pairs.append((g, v))
    optimizer.apply_gradients(pairs)


def optimizer_iterations(optimizer: Any) -> int:
    """The optimizer's iteration count as an int."""
    return int(to_numpy(optimizer.iterations))


def loss_scale_optimizer(inner: Any, initial_scale: float, dynamic_growth_steps: int) -> Any:
    """A dynamic loss-scale optimizer wrapping ``inner``.

    Keras 3: ``keras.optimizers.LossScaleOptimizer``; Keras 2:
    ``keras.mixed_precision.LossScaleOptimizer(dynamic=True)``.
    """
    k = keras()
    if keras_major() >= 3:
        return k.optimizers.LossScaleOptimizer(inner, initial_scale=initial_scale,
                                               dynamic_growth_steps=dynamic_growth_steps)
    return k.mixed_precision.LossScaleOptimizer(inner, dynamic=True, initial_scale=initial_scale,
                                                dynamic_growth_steps=dynamic_growth_steps)


def loss_scale_unscales_in_apply() -> bool:
    """Does the loss-scale optimizer divide gradients by the scale inside ``apply_gradients``?

    Keras 3 documents that ``apply`` receives *scaled* gradients and unscales
    them; Keras 2 documents that the user calls ``get_unscaled_gradients``
    first and ``apply_gradients`` only checks finiteness and skips.
    """
    return keras_major() >= 3


def loss_scale_value(optimizer: Any) -> float:
    """The current dynamic loss scale."""
    value = getattr(optimizer, "dynamic_scale", None)
    if value is None:
        value = optimizer.loss_scale
    return float(to_numpy(value))


def learning_rate_schedule(kind: str, initial: float, **kwargs: Any) -> Any:
    """A Keras schedule: ``"exponential"`` (decay_steps, decay_rate) or ``"piecewise"`` (boundaries, values)."""
    sched = keras().optimizers.schedules
    if kind == "exponential":
        return sched.ExponentialDecay(initial, decay_steps=kwargs["decay_steps"], decay_rate=kwargs["decay_rate"])
    if kind == "piecewise":
        return sched.PiecewiseConstantDecay(kwargs["boundaries"], kwargs["values"])
    raise ValueError(f"unknown schedule kind {kind!r}")


def ema_values(optimizer: Any, variables: Any) -> list:
    """The optimizer's moving averages of ``variables`` (public API only).

    ``finalize_variable_values`` overwrites the variables with their averages;
    we read them and put the trained values back.
    """
    saved = [to_numpy(v).copy() for v in variables]
    optimizer.finalize_variable_values(list(variables))
    out = [to_numpy(v).copy() for v in variables]
    for v, s in zip(variables, saved):
        v.assign(s)
    return out


def checkpoint_save(path: str, optimizer: Any, variables: Any) -> str:
    """Save optimizer and variables with ``tf.train.Checkpoint``; return the prefix."""
    t = tf()
    ck = t.train.Checkpoint(optimizer=optimizer, **{f"v{i}": v for i, v in enumerate(variables)})
    return ck.save(path)


def checkpoint_restore(prefix: str, optimizer: Any, variables: Any) -> None:
    """Restore into a *fresh* optimizer (built on ``variables`` first) and variables."""
    t = tf()
    optimizer.build(list(variables))
    ck = t.train.Checkpoint(optimizer=optimizer, **{f"v{i}": v for i, v in enumerate(variables)})
    ck.restore(prefix).assert_existing_objects_matched()


_LOGICAL_CPUS: dict = {}


def ensure_logical_cpus(n: int = 2) -> bool:
    """Split the host CPU into ``n`` logical devices (TensorFlow) or host devices (JAX), if not started yet.

    ``tf.config.set_logical_device_configuration`` only works before the
    runtime starts; afterwards we can only report whether ``n`` logical CPUs
    already exist.  The outcome is recorded in :data:`_LOGICAL_CPUS`.
    """
    if "ok" in _LOGICAL_CPUS:
        return _LOGICAL_CPUS["ok"]
    if backend() == "jax":
        ok = len(_jax().devices("cpu")) >= n  # _jax() configures the count if JAX has not started yet
    else:
        t = tf()
        if len(t.config.list_logical_devices("CPU")) < n:
            _split_host_cpu(t)
        ok = len(t.config.list_logical_devices("CPU")) >= n
    _LOGICAL_CPUS["ok"] = ok
    return ok


def data_parallel_run(build: Callable[[], Any], initial: Any, parts: Any) -> tuple[Any, dict]:
    """JAX: train one variable data-parallel over two host CPU devices, as Keras's JAX trainer does.

    The variable and the optimizer (``build()``) are created under
    ``keras.distribution.DataParallel`` over the first two CPU devices
    (replicated layouts); each step's gradient parts (one per device) are
    stacked, sharded one part per device, and summed inside one jitted
    ``optimizer.stateless_apply`` step, so XLA inserts the cross-device
    reduction.  Returns the final weights and what shows the two devices took
    part (the devices of the result, the all-reduce ops of the compiled step).
    Call :func:`ensure_logical_cpus` first.
    """
    if backend() != "jax":
        raise NotOnBackend(f"keras_compat.data_parallel_run is the JAX path; Keras runs on {backend()}")
    import jax.numpy as jnp
    import numpy as np

    jax = _jax()
    k = keras()
    devices = jax.devices("cpu")[:2]
    with k.distribution.DataParallel(devices=devices).scope():
        var = k.Variable(initial, name="var0")
        opt = build()
        opt.build([var])
    mesh = jax.sharding.Mesh(np.array(devices), ("replica",))
    split = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("replica"))

    def step(opt_vars: list, train_vars: list, stacked: Any) -> tuple:
        return opt.stateless_apply(opt_vars, [jnp.sum(stacked, axis=0)], train_vars)

    train_vars, opt_vars = [var.value], [v.value for v in opt.variables]
    compiled, all_reduce = None, None
    for pair in parts:
        stacked = jax.device_put(np.stack([np.asarray(p) for p in pair]), split)
        if compiled is None:  # compiled once, ahead of time: its text shows the cross-device reduction
            compiled = jax.jit(step).lower(opt_vars, train_vars, stacked).compile()
            all_reduce = compiled.as_text().count("all-reduce(")
        train_vars, opt_vars = compiled(opt_vars, train_vars, stacked)
    out = train_vars[0]
    return np.asarray(out), {"devices": sorted(str(d) for d in out.sharding.device_set),
                             "all_reduce_ops": all_reduce}


def jitted_stateless_steps(optimizer: Any, variables: Sequence[Any], grads: Sequence[Sequence[Any]]) -> list:
    """JAX: apply ``grads`` to ``variables`` through ``optimizer.stateless_apply`` under ``jax.jit``, step by step.

    The way Keras's JAX trainer drives an optimizer (``model.fit`` traces
    ``stateless_apply`` inside its jitted train step), as opposed to an eager
    ``apply_gradients``: the optimizer is built on ``variables``, each step is
    one call of one compiled function of (optimizer variables, trainable
    variables, gradients), and the final state is written back into the
    variables (so the optimizer's own attributes -- iterations, a loss
    scale -- read as after eager steps).  Returns the weights after every
    step, starting with the initial ones, as float64 NumPy arrays.
    """
    if backend() != "jax":
        raise NotOnBackend(f"keras_compat.jitted_stateless_steps is the JAX path; Keras runs on {backend()}")
    import numpy as np

    jax = _jax()
    ops = keras().ops
    optimizer.build(list(variables))
    train_vars = [v.value for v in variables]
    opt_vars = [v.value for v in optimizer.variables]

    def step(opt_state: list, train_state: list, grad: list) -> tuple:
        return optimizer.stateless_apply(opt_state, grad, train_state)

    jitted = jax.jit(step)
    history = [[np.asarray(w, dtype=np.float64) for w in train_vars]]
    for g in grads:
        tensors = [ops.convert_to_tensor(np.asarray(x), dtype=v.dtype) for x, v in zip(g, variables)]
        train_vars, opt_vars = jitted(opt_vars, train_vars, tensors)
        history.append([np.asarray(w, dtype=np.float64) for w in train_vars])
    for var, value in zip(variables, train_vars):
        var.assign(value)
    for var, value in zip(optimizer.variables, opt_vars):
        var.assign(value)
    return history


_MIRRORED: dict = {}


def mirrored_strategy(n: int = 2) -> Any:
    """The process's one ``MirroredStrategy`` over ``n`` logical CPUs (created on first use).

    One per process, never one per check: every new strategy starts its
    collective instance keys afresh, so two strategies that all-reduce
    tensors of different shapes meet at the same key, and TensorFlow's
    collective executor reports a shape mismatch ("expected shape [6] but
    another member in the group expected shape [1]") and stays aborted for
    the rest of the process ("Restart your program to reset").  That is how
    a long thorough run failed ``check_mirrored_strategy`` on SGD, Adam and
    RMSprop for cases as plain as one ``[1]`` variable.  Keys of one
    strategy never collide.  Call :func:`ensure_logical_cpus` first.
    """
    t = tf()
    key = int(n)
    if key not in _MIRRORED:
        _MIRRORED[key] = t.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(n)])
    return _MIRRORED[key]


def is_collective_error(exc: BaseException) -> bool:
    """An error of TensorFlow's collective executor (a failed or aborted all-reduce)."""
    text = f"{type(exc).__name__}: {exc}"
    return "Collective" in text or "collective" in text or "Restart your program to reset" in text


def reset_collectives(n: int = 2) -> bool:
    """Give the process a fresh collective executor after a failed collective; ``True`` if it worked.

    A failed all-reduce aborts the eager context's collective executor for
    good; only a new context has a new one.  TensorFlow's own tests reset
    the context between tests (``context._reset_context``, private, present
    in TF 2.12-2.21); the logical CPUs are configured again and the cached
    strategy is dropped.  Objects of the old context must not be used
    afterwards -- the optimizer checks build everything per case.
    """
    _MIRRORED.clear()
    try:
        from tensorflow.python.eager import context as _context

        _context._reset_context()
        t = tf()
        _split_host_cpu(t)
        return len(t.config.list_logical_devices("CPU")) >= n
    except Exception:  # pragma: no cover - a TensorFlow without the private reset
        return False


# --------------------------------------------------------------------------
# Conventions that differ between Keras 2 and Keras 3 (added for the TF
# matrix, additive only).  Each is read from the installed sources of
# tf.keras 2.12-2.15 / tf_keras 2.16-2.21 and keras 3.0-3.15.
# --------------------------------------------------------------------------


def loss_scale_floor() -> float:
    """Smallest value a dynamic loss scale reaches by halving after non-finite gradients.

    Keras 2 (``keras/mixed_precision/loss_scale_optimizer.py``,
    ``_DynamicLossScaleState.update``) sets ``tf.maximum(scale / multiplier, 1)``:
    the scale never goes below 1, so ``initial_scale=1`` stays 1 after an
    ``inf``.  Keras 3 (``keras/src/optimizers/loss_scale_optimizer.py``)
    multiplies by 0.5 with no floor.
    """
    return 1.0 if keras_major() == 2 else 0.0


def ema_starts_at_initial_weights() -> bool:
    """Does ``use_ema``'s moving average start from the weights *before* the first step?

    Keras 2 (``keras/optimizers/optimizer.py``, ``build``) creates the average
    as a copy of the variable (``initial_value=var``) and then applies
    ``ema = m * ema + (1 - m) * w`` after every step, the first included.
    Keras 3 (``base_optimizer._update_model_variables_moving_average``) uses
    momentum 0 on the first step, so the average equals the weights after
    step 1.
    """
    return keras_major() == 2
