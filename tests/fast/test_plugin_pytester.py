"""End to end through pytest: good and broken third-party plugins in one run.

A throwaway site directory holds one good plugin and five broken ones, each
its own distribution with an ``initcheck.initializers`` entry point.  The
run must give exactly one clear error or failure per broken plugin, naming
its distribution, while the good one passes.
"""

import os

import pytest

from common.plugin_site import write_site as _write_site

PLUGINS = {
    # distribution: (module name, module body, entry point value)
    "good-plugin": ("good_plugin", "SPEC = make('Good', numpy_normal)", "good_plugin:SPEC"),
    "broken-import": ("broken_import", "import a_module_that_does_not_exist", "broken_import:SPEC"),
    "invalid-spec": ("invalid_spec", "SPEC = InitializerSpec(name='Invalid', factory=numpy_normal, "
                                     "law=Normal(std=-2.0))", "invalid_spec:SPEC"),
    "raises-plugin": ("raises_plugin", "def bad(seed):\n    def init(shape, dtype=None):\n"
                                       "        raise ValueError('kaboom')\n    return init\n"
                                       "SPEC = make('Raiser', bad)", "raises_plugin:SPEC"),
    "wrong-shape": ("wrong_shape", "def bad(seed):\n    return lambda shape, dtype=None: "
                                   "numpy_normal(seed)((1,) + tuple(shape), dtype)\n"
                                   "SPEC = make('WrongShape', bad)", "wrong_shape:SPEC"),
    "nan-plugin": ("nan_plugin", "def bad(seed):\n    return lambda shape, dtype=None: "
                                 "np.full(tuple(shape), np.nan, dtype=dtype or 'float32')\n"
                                 "SPEC = make('NaNs', bad)", "nan_plugin:SPEC"),
}


@pytest.fixture
def run_with(pytester, monkeypatch):
    def run(plugins, *args):
        site = _write_site(pytester.path, plugins)
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
        return pytester.runpytest_subprocess(
            "--initcheck", "--initcheck-exclude=initcheck,initcheck-example",
            "--initcheck-checks=check_output_contract,check_seed_contract", "-p", "no:cacheprovider", "-rfEs",
            *args)

    return run


def test_one_clear_failure_per_broken_plugin(run_with):
    result = run_with(PLUGINS)
    result.assert_outcomes(passed=2, failed=5, skipped=3)
    out = result.stdout.str()
    failed_lines = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert len(failed_lines) == 5
    for dist in ("broken-import", "invalid-spec", "raises-plugin", "wrong-shape", "nan-plugin"):
        assert sum(dist in line for line in failed_lines) == 1, (dist, failed_lines)
    assert "a_module_that_does_not_exist" in out
    assert "'law'" in out and "std must be > 0" in out
    assert "kaboom" in out
    assert "asked for shape" in out
    assert "NaN or infinite" in out
    assert "good-plugin" not in "".join(failed_lines)


def test_ids_work_with_k(run_with):
    result = run_with({"good-plugin": PLUGINS["good-plugin"]}, "-k", "Good and check_seed_contract", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_initializer?good-plugin>Good-check_seed_contract? PASSED*"])


def test_declared_expected_failure_is_strict(run_with):
    plugins = {
        "xfail-plugin": ("xfail_plugin",
                         "from initcheck.spec import ExpectedFailure\n"
                         "SPEC = make('Declared', numpy_normal, expected_failures={'check_seed_contract': "
                         "ExpectedFailure('claims a bug that is not there', evidence='none')})",
                         "xfail_plugin:SPEC"),
    }
    result = run_with(plugins)
    # the check passes, so the strict xfail turns into a failure (XPASS(strict))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*XPASS(strict)*claims a bug that is not there*"])


def test_nothing_happens_without_the_flag(pytester):
    pytester.makepyfile("def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_works_under_xdist(run_with):
    # Both workers must collect the same items in the same order.
    result = run_with({"good-plugin": PLUGINS["good-plugin"], "nan-plugin": PLUGINS["nan-plugin"]}, "-n", "2")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
