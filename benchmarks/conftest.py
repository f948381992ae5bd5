"""Benchmark-suite hooks: what machine and which versions every result came from.

A timing without its context is useless for comparing two TensorFlow releases
(two tox environments) with ``--benchmark-compare``: a different CPU, thread
count or Keras API explains a difference before any code does.  The hooks
below add that context to pytest-benchmark's ``machine_info`` and add the
headline ratio table (see ``benchmarks/ratios.py``) to the saved JSON.

Run (from the repository root)::

    pytest benchmarks/ --benchmark-only --benchmark-json=.benchmarks/run.json

``INITCHECK_BENCH_FULL=1`` widens the training-step matrix to every
optimizer x model x batch x mode (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Any

_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
if _BENCH_DIR not in sys.path:  # so bench files can `import models` / `import ratios`
    sys.path.insert(0, _BENCH_DIR)


def _loadavg() -> list:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux/macOS
        return []


#: Taken when pytest loads this conftest (session start); pytest-benchmark
#: asks for machine info only when it writes the JSON at the end.
_SESSION_START = time.time()
_LOAD_AT_START = _loadavg()


def _cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _xla_probe(tf: Any) -> str:
    """``"available"`` or ``"unavailable: <error>"`` for a trivial jit-compiled function."""
    try:
        fn = tf.function(lambda x: tf.reduce_sum(x * 2.0), jit_compile=True)
        float(fn(tf.ones((4,))).numpy())
        return "available"
    except Exception as exc:  # pragma: no cover - depends on the TF build
        return f"unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


def initcheck_machine_info() -> dict:
    """Backend, TensorFlow/Keras versions, Keras API, CPU model, cores, threads, XLA, load, duration.

    The load averages matter on a shared machine: a run at load 10 on two
    cores times the scheduler as much as the code.

    ``intra_op``/``inter_op`` are TensorFlow's configured thread pools; 0
    means "TensorFlow's default", which is one thread per logical core.
    """
    from initcheck import keras_compat as kc

    vers = dict(kc.versions())
    backend = kc.backend()
    info = {
        "backend": backend,
        "tensorflow": vers.get("tensorflow"),
        "keras": vers["keras"],
        "keras_api": vers["keras_api"],
        "tf_use_legacy_keras": os.environ.get("TF_USE_LEGACY_KERAS", ""),
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "intra_op_threads": None,  # TensorFlow's pools: read below when it is the backend
        "inter_op_threads": None,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "xla_cpu": "not probed (TensorFlow's XLA; the backend is not tensorflow)",
        "loadavg_at_start": _LOAD_AT_START,
        "loadavg_at_end": _loadavg(),
        "session_seconds": round(time.time() - _SESSION_START, 1),
        "full_matrix": os.environ.get("INITCHECK_BENCH_FULL", "") == "1",
    }
    if backend == "tensorflow":
        tf = kc.tf()
        info.update(intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
                    inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads(), xla_cpu=_xla_probe(tf))
    info.update({lib: v for lib, v in vers.items() if lib in ("jax", "jaxlib", "torch")})  # the backend's own
    return info


#: Benchmarks skipped in this session, with their reasons (e.g. "XLA unavailable: ...").
SKIPPED: list = []


def pytest_runtest_logreport(report: Any) -> None:
    """Remember skipped benchmarks so the JSON says what was not timed and why."""
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = str(reason).removeprefix("Skipped: ")
        if not reason.startswith("Skipping non-benchmark"):  # --benchmark-only noise
            SKIPPED.append({"nodeid": report.nodeid, "reason": reason})


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict) -> None:
    """Record versions and machine context with every saved result."""
    machine_info["initcheck"] = initcheck_machine_info()


def pytest_benchmark_update_json(config: Any, benchmarks: list, output_json: dict) -> None:
    """Add the skipped benchmarks and the ratio tables (from this run's results) to the JSON."""
    output_json["initcheck_skipped"] = list(SKIPPED)
    try:
        import ratios

        table = ratios.compute(output_json)
        table["headline"] = ratios.headline(table)
        output_json["initcheck_ratios"] = table
    except Exception as exc:  # a broken table must not lose the timings
        output_json["initcheck_ratios"] = {"error": f"{type(exc).__name__}: {exc}"}
