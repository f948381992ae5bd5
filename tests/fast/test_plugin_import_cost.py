"""#13 point 10: zero cost when not asked -- the pytest plugin imports nothing heavy.

Before: every pytest run of every project with initcheck installed paid for
it (a one-test project took 1.3 s instead of 0.65 s) because the ``pytest11``
module imported ``initcheck -> spec -> laws -> scipy.stats``.  Now
:mod:`initcheck.testing` imports only pytest until ``--initcheck`` is given
or a battery item is collected.  The time is measured in
``benchmarks/bench_plugin_overhead.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "scipy", "hypothesis", "tensorflow", "keras", "tf_keras", "ml_dtypes")


def _heavy_after(code: str) -> list[str]:
    probe = code + f"; import json, sys; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_importing_the_plugin_module_imports_nothing_heavy():
    assert _heavy_after("import initcheck.testing") == []
    assert _heavy_after("import initcheck, initcheck.testing, initcheck.cli") == []


CONFTEST = """
import json, sys
HEAVY = {heavy!r}

def pytest_sessionfinish(session):
    with open("modules.json", "w") as fh:
        json.dump({{"heavy": sorted(m for m in HEAVY if m in sys.modules),
                    "initcheck": sorted(m for m in sys.modules if m.split(".")[0] == "initcheck")}}, fh)
"""


def _modules(pytester, *args):
    pytester.makeconftest(CONFTEST.format(heavy=HEAVY))
    pytester.makepyfile(test_one="def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)
    return json.loads((pytester.path / "modules.json").read_text())


def test_a_pytest_run_without_the_flag_loads_nothing_heavy_of_initcheck(pytester):
    loaded = _modules(pytester)
    assert loaded["initcheck"] == ["initcheck", "initcheck.testing"]  # the plugin is loaded ...
    baseline = _modules(pytester, "-p", "no:initcheck")
    assert baseline["initcheck"] == []
    assert set(loaded["heavy"]) <= set(baseline["heavy"]), loaded  # ... and costs no heavy import
