"""``initcheck check --jobs N``: specs run in worker processes, reported exactly as one process reports them.

What must hold with workers (all in subprocesses, as a user runs it, with NumPy test doubles so that no
TensorFlow is imported):

* the same outcomes (spec, check, status) and exit status as ``--jobs 1``, the reports written as the run goes;
* a worker that dies is one ``error`` outcome naming the check and how it died, and the run goes on;
* the workers load and plan the run, the parent loads no plugin (so it never imports TensorFlow); where no
  worker lives to plan, the parent loads as a one-process run does;
* Ctrl-C stops the workers and leaves a valid partial report (exit 130); a killed parent takes its workers
  with it, so a hanging check is never left running;
* bad ``--jobs`` / ``INITCHECK_JOBS`` values are usage errors naming what was wrong.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.plugin_site import CLI_ENV, run_cli, write_site

PLUGINS = {
    "b-good": ("b_good", "SPEC = QUICK", "b_good:SPEC"),
    "c-good": ("c_good", "import dataclasses\nSPEC = dataclasses.replace(QUICK, name='Half2')", "c_good:SPEC"),
    # claims the constant 0.5, returns 0.7: a failure
    "d-wrong": ("d_wrong", """
        import dataclasses
        def wrong(seed):
            return lambda shape, dtype=None: np.full(tuple(shape), 0.7, dtype=dtype_name(dtype))
        SPEC = dataclasses.replace(QUICK, name='Wrong', factory=wrong)""", "d_wrong:SPEC"),
    # the process running it is killed (a segfault or the OOM killer, as the run sees it)
    "e-dies": ("e_dies", """
        import dataclasses, os, signal
        def dies(seed):
            def init(shape, dtype=None):
                os.kill(os.getpid(), signal.SIGKILL)
            return init
        SPEC = dataclasses.replace(QUICK, name='Dies', factory=dies)""", "e_dies:SPEC"),
    # writes the thread settings its worker process sees (one line per call) to $THREADS_OUT
    "f-threads": ("f_threads", """
        import dataclasses, json, os
        def threads(seed):
            def init(shape, dtype=None):
                names = ('TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS', 'OMP_NUM_THREADS')
                with open(os.environ['THREADS_OUT'], 'a') as fh:
                    fh.write(json.dumps({n: os.environ.get(n) for n in names}) + chr(10))
                return np.full(tuple(shape), 0.5, dtype=dtype_name(dtype))
            return init
        SPEC = dataclasses.replace(QUICK, name='Threads', factory=threads)""", "f_threads:SPEC"),
    # says which process imported it (to $LOADS_OUT, one line per import): the parent of a run, or a worker
    "g-loads": ("g_loads", """
        import dataclasses, json, multiprocessing, os
        if os.environ.get('LOADS_OUT'):
            with open(os.environ['LOADS_OUT'], 'a') as fh:
                fh.write(json.dumps({'worker': multiprocessing.parent_process() is not None}) + chr(10))
        SPEC = dataclasses.replace(QUICK, name='Loads')""", "g_loads:SPEC"),
    # with $DIE_LOADING set, a worker that imports it dies at once (a plugin that cannot live in a spawned
    # process; a run imports every plugin it does not exclude, selected or not)
    "h-dies-loading": ("h_dies_loading", """
        import dataclasses, multiprocessing, os
        if os.environ.get('DIE_LOADING') and multiprocessing.parent_process() is not None:
            os._exit(3)
        SPEC = dataclasses.replace(QUICK, name='DiesLoading')""", "h_dies_loading:SPEC"),
    "z-hangs": ("z_hangs", """
        import dataclasses
        def sleepy(seed):
            def init(shape, dtype=None):
                time.sleep(600)
            return init
        SPEC = dataclasses.replace(QUICK, name='Sleepy', factory=sleepy)""", "z_hangs:SPEC"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return write_site(tmp_path_factory.mktemp("parallel"), PLUGINS)


def _outcomes(path: Path) -> set:
    data = json.loads(path.read_text())
    assert data["complete"] is True
    return {(o["spec"], o["check"], o["status"]) for o in data["outcomes"]}


def test_workers_report_what_one_process_reports(site, tmp_path):
    runs = {}
    for jobs in ("1", "2"):
        report = tmp_path / f"jobs{jobs}.json"
        result = run_cli(["check", "--select", "b-good,c-good,d-wrong", "--jobs", jobs, "--json", str(report)],
                         site=site, timeout=600)
        runs[jobs] = (result, _outcomes(report))
    (one, seen_one), (two, seen_two) = runs["1"], runs["2"]
    assert one.returncode == two.returncode == 1, one.stdout + two.stdout
    assert seen_one == seen_two and len(seen_one) >= 6
    assert "failed" in {s for spec, _, s in seen_two if spec == "d-wrong>Wrong"}
    for spec in ("b-good>Half", "c-good>Half2"):
        assert {s for sp, _, s in seen_two if sp == spec} == {"passed"}
        assert f"ok   {spec}" in two.stdout
    assert "FAIL d-wrong>Wrong" in two.stdout
    summary = [r.stdout.splitlines()[-1].split(" in ")[0] for r in (one, two)]  # "N specs, M checks: ...errors"
    assert summary[0] == summary[1], summary


def test_a_worker_that_dies_is_one_error_and_the_run_goes_on(site, tmp_path):
    report = tmp_path / "run.json"
    result = run_cli(["check", "--select", "b-good,e-dies,c-good", "--jobs", "2", "--json", str(report)],
                     site=site, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    seen = _outcomes(report)
    dead = [o for o in json.loads(report.read_text())["outcomes"] if o["spec"] == "e-dies>Dies"]
    assert len(dead) == 1 and dead[0]["status"] == "error"
    assert "worker process running check_output_contract on e-dies>Dies was killed by signal 9" in dead[0]["message"], dead
    assert "--jobs 1" in dead[0]["reproduce"]
    for spec in ("b-good>Half", "c-good>Half2"):  # both ran to the end, one of them after the death
        assert {s for sp, _, s in seen if sp == spec} == {"passed"}


@pytest.mark.parametrize("select, jobs, where", [
    ("g-loads,b-good", "1", [False]),  # one process: it loads
    ("g-loads,b-good", "2", [True, True]),  # two workers load and plan; the parent loads nothing
    ("g-loads>Loads,b-good>Half", "3", [True, True]),  # two exact names: never more workers than names
    ("g-loads>Loads", "2", [False]),  # one exact name: one spec at most, run here as with --jobs 1
])
def test_the_workers_load_the_plugins_and_the_parent_does_not(site, tmp_path, select, jobs, where):
    loads, report = tmp_path / "loads.jsonl", tmp_path / "run.json"
    result = run_cli(["check", "--select", select, "--jobs", jobs, "--json", str(report)], site=site,
                     env={"LOADS_OUT": str(loads)}, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [json.loads(line)["worker"] for line in loads.read_text().splitlines()] == where
    assert {s for sp, _, s in _outcomes(report) if sp == "g-loads>Loads"} == {"passed"}
    assert f"{len(select.split(','))} specs" in result.stdout.splitlines()[-1]


def test_workers_that_die_loading_leave_the_loading_to_the_parent(site, tmp_path):
    report = tmp_path / "run.json"
    result = run_cli(["check", "--select", "h-dies-loading,b-good", "--jobs", "2", "--json", str(report)],
                     site=site, env={"DIE_LOADING": "1"}, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    outcomes = json.loads(report.read_text())["outcomes"]
    assert {o["spec"] for o in outcomes} == {"h-dies-loading>DiesLoading", "b-good>Half"}  # planned by the parent
    assert {o["status"] for o in outcomes} == {"error"}  # its workers die loading too: each spec one error
    assert all("no worker process left" in o["message"] for o in outcomes), outcomes


THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


@pytest.mark.parametrize("cpus, jobs, each", [(2, 1, "2"), (2, 2, "1"), (8, 2, "4"), (8, 3, "2"), (2, 5, "1"),
                                              (1, 1, "1")])
def test_worker_threads_share_the_usable_cpus(monkeypatch, cpus, jobs, each):
    from initcheck.battery import workers

    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert workers.worker_threads(jobs) == dict.fromkeys(THREAD_VARIABLES, each)


def _seen_threads(site, out, monkeypatch, env):
    """What the worker running f-threads saw (two specs, so two workers really start)."""
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    result = run_cli(["check", "--select", "f-threads,b-good", "--jobs", "2"], site=site, timeout=600,
                     env={"THREADS_OUT": str(out), **env})
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in set(out.read_text().splitlines())]


def test_workers_run_with_their_share_of_the_cpus_unless_the_user_set_it(site, tmp_path, monkeypatch):
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    each = str(max(1, cpus // 2))
    assert _seen_threads(site, tmp_path / "default.jsonl", monkeypatch, {}) == [dict.fromkeys(THREAD_VARIABLES, each)]
    user = {"TF_NUM_INTRAOP_THREADS": "3", "OMP_NUM_THREADS": "5"}  # the user's values win, the rest is shared
    assert _seen_threads(site, tmp_path / "user.jsonl", monkeypatch, user) == [{**user, "TF_NUM_INTEROP_THREADS": each}]


def _children(pid: int) -> set[int]:
    kids = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        kids.update(int(k) for k in text)
    return kids


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start_hanging_run(site, report):
    env = dict(os.environ, **CLI_ENV, PYTHONPATH=str(site))
    proc = subprocess.Popen([sys.executable, "-m", "initcheck.cli", "check", "--select", "b-good,c-good,z-hangs",
                             "--jobs", "2", "--timeout", "0", "--json", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    start = time.monotonic()
    while time.monotonic() - start < 300:
        assert proc.poll() is None, proc.communicate()
        try:
            data = json.loads(report.read_text())
            if {o["spec"] for o in data["outcomes"]} >= {"b-good>Half", "c-good>Half2"}:
                time.sleep(1.0)  # the hang is sleeping in a worker
                return proc
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("the good specs did not finish")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads worker processes from /proc (Linux)")
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)])
def test_stopping_the_run_stops_its_workers(site, tmp_path, sig, code):
    report = tmp_path / "partial.json"
    proc = _start_hanging_run(site, report)
    try:
        workers = _children(proc.pid)
        assert workers, "no worker process"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == code, out + err
        deadline = time.monotonic() + 30
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "a worker outlived its run"
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in _children(proc.pid) if proc.poll() is None else ():
            os.kill(w, signal.SIGKILL)
    data = json.loads(report.read_text())  # valid JSON, as far as the run went
    assert data["complete"] is False
    assert {o["spec"] for o in data["outcomes"]} == {"b-good>Half", "c-good>Half2"}
    if sig == signal.SIGINT:
        assert data["interrupted"] is True and "interrupted (Ctrl-C)" in err


@pytest.mark.parametrize("args, env, message", [
    (["--jobs", "0"], {}, "--jobs must be at least 1"),
    ([], {"INITCHECK_JOBS": "many"}, "INITCHECK_JOBS must be a positive integer, got 'many'"),
    ([], {"INITCHECK_JOBS": "0"}, "INITCHECK_JOBS must be a positive integer, got '0'"),
])
def test_bad_jobs_is_a_usage_error(args, env, message):
    result = run_cli(["check", "--select", "nothing-here", *args], env=env, timeout=300)
    assert result.returncode == 2 and message in result.stderr, result.stderr
