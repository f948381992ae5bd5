"""What initcheck costs every pytest run of every project it is installed in.

Why: pytest loads every ``pytest11`` plugin in every run, so initcheck's
plugin module (:mod:`initcheck.testing`) is paid for by projects that never
ask for the battery.  Before #13 a one-test project took 1.3 s instead of
0.65 s, because loading the plugin imported SciPy; the goal is at most 50 ms
over ``-p no:initcheck``.

The benchmark runs ``python -m pytest -q`` on a one-test project in fresh
subprocesses (the cost is the interpreter's imports, so it must be a new
process every time), alternating a run with the plugin and one with
``-p no:initcheck`` so that a change of machine load hits both alike.  It
reports the medians of both, wall clock and CPU time (user + system of the
child, which a loaded machine disturbs less), and their differences, the
overhead, in ``extra_info`` (numbers in ``docs/plugin-authors.md``).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

import pytest

PAIRS = 20


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(root, extra) -> tuple[float, float]:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    cpu0, wall0 = _cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra], cwd=root, env=env,
                   check=True, capture_output=True)
    return time.perf_counter() - wall0, _cpu() - cpu0


def test_plugin_overhead_on_a_one_test_project(benchmark, tmp_path):
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    runs: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}

    def pair():
        runs["with"].append(_run(tmp_path, []))
        runs["without"].append(_run(tmp_path, ["-p", "no:initcheck"]))

    benchmark.pedantic(pair, rounds=PAIRS, iterations=1, warmup_rounds=1)
    med = {mode: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for mode, r in runs.items()}
    info = benchmark.extra_info
    info["wall_s_with"], info["cpu_s_with"] = med["with"]
    info["wall_s_without"], info["cpu_s_without"] = med["without"]
    info["overhead_wall_ms"] = round(1000 * (med["with"][0] - med["without"][0]), 1)
    info["overhead_cpu_ms"] = round(1000 * (med["with"][1] - med["without"][1]), 1)
    print(f"\none-test project: with initcheck {med['with'][0]:.3f} s wall / {med['with'][1]:.3f} s CPU, "
          f"-p no:initcheck {med['without'][0]:.3f} s / {med['without'][1]:.3f} s; overhead "
          f"{info['overhead_wall_ms']} ms wall, {info['overhead_cpu_ms']} ms CPU")
