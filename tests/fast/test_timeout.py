"""#13 point 2: a hanging plugin cannot take the run down, and an interrupted run leaves a valid report.

Before: an initializer that slept 30 s blocked the run for hours (about 1000
calls per spec), later specs never ran and no JSON was written.  Now each
check has a time limit (default 600 s; ``--timeout``, ``--initcheck-timeout``,
the ``initcheck_timeout`` ini option, ``INITCHECK_TIMEOUT``); a check past it
fails with "timed out after N s", the rest of that spec is blocked and the run
goes on.  The JSON and JUnit reports are written as the run goes, so Ctrl-C or
a kill leaves a valid partial report.  All in subprocesses, as a user runs it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from common.plugin_site import CLI_ENV, run_cli, write_site

PLUGINS = {
    # "a-..." sorts first: the hang comes before the good plugin, which must still run.
    "a-hangs": ("a_hangs", """
        def sleepy(seed):
            def init(shape, dtype=None):
                time.sleep(30)
                return np.zeros(tuple(shape), dtype=dtype or 'float32')
            return init
        SPEC = make('Sleepy', sleepy, dtypes=('float32',))""", "a_hangs:SPEC"),
    "b-good": ("b_good", "SPEC = QUICK", "b_good:SPEC"),
    # ... and a hang after the good plugin, to interrupt while it sleeps.
    "z-hangs": ("z_hangs", "from a_hangs import SPEC", "z_hangs:SPEC"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return write_site(tmp_path_factory.mktemp("timeout"), PLUGINS)


def test_a_hang_times_out_and_the_run_goes_on(site, tmp_path):
    report, junit = tmp_path / "run.json", tmp_path / "run.xml"
    result = run_cli(["check", "--select", "a-hangs,b-good", "--timeout", "2", "--json", str(report),
                      "--junitxml", str(junit)], site=site, timeout=600)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "check_output_contract timed out after 2 s on a-hangs>Sleepy" in out
    assert "ok   b-good>Half" in out  # the next spec ran
    data = json.loads(report.read_text())
    assert data["complete"] is True and data["timeout"] == 2
    statuses = {(o["spec"], o["check"]): o["status"] for o in data["outcomes"]}
    assert statuses[("a-hangs>Sleepy", "check_output_contract")] == "failed"
    assert {s for (spec, _), s in statuses.items() if spec == "a-hangs>Sleepy"} == {"failed", "blocked"}
    assert {str(o["blocked_by"]) for o in data["outcomes"] if o["status"] == "blocked"} == {
        str({"check": "check_output_contract", "status": "timed_out"})}
    assert statuses[("b-good>Half", "check_exact_values")] == "passed"
    suite = ET.parse(junit).getroot().find("testsuite")
    assert int(suite.get("failures")) == 1 and int(suite.get("tests")) == len(data["outcomes"])


def _start(site, report, junit, *extra):
    env = dict(os.environ, **CLI_ENV, PYTHONPATH=str(site))
    return subprocess.Popen([sys.executable, "-m", "initcheck.cli", "check", "--select", "b-good,z-hangs",
                             "--timeout", "0", "--json", str(report), "--junitxml", str(junit), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_outcomes(proc, report, n, limit=600.0):
    """Until the partial report holds ``n`` outcomes (the good spec done, the hang sleeping)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        assert proc.poll() is None, proc.communicate()
        try:
            if len(json.loads(report.read_text())["outcomes"]) >= n:
                time.sleep(1.0)
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError("the run wrote no outcome")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)])
def test_interrupted_or_killed_run_leaves_a_valid_partial_report(site, tmp_path, sig, code):
    report, junit = tmp_path / "partial.json", tmp_path / "partial.xml"
    proc = _start(site, report, junit)
    try:
        _wait_for_outcomes(proc, report, 2)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, out + err
    data = json.loads(report.read_text())  # valid JSON
    assert data["complete"] is False and len(data["outcomes"]) >= 2
    assert {o["spec"] for o in data["outcomes"]} == {"b-good>Half"}  # the hang was interrupted mid-check
    root = ET.parse(junit).getroot()  # valid XML
    complete = root.find("testsuite").find("properties").find("property")
    assert complete.get("value") == "false"
    if sig == signal.SIGINT:
        assert data["interrupted"] is True and "interrupted (Ctrl-C)" in err


def test_pytest_time_limit_from_the_ini_file(pytester, site, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    pytester.makeini("[pytest]\ninitcheck = true\ninitcheck_select = a-hangs\ninitcheck_timeout = 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    out = result.stdout.str()
    assert "timed out after 2 s" in out, out
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and outcomes.get("skipped", 0) > 10 and "passed" not in outcomes
