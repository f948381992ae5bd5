"""#13 point 5: a failing battery item's node id re-runs exactly that item; --lf narrows; counts are right.

Before: battery node ids could not be passed back to pytest (it looked for a
file), ``--lf`` re-ran everything, ``-k`` printed ``collected 0 items / 33
deselected / -33 selected`` (items appended after collection), and specs given
to ``parametrize_with_checks`` got ids ``local>...``.  Run in a pytester
project with the cache provider ON.
"""

from __future__ import annotations

import re

import pytest

from common.plugin_site import write_site

PLUGINS = {
    "idplugin": ("idplugin", """
        def nans(seed):
            return lambda shape, dtype=None: np.full(tuple(shape), np.nan, dtype=dtype or 'float32')
        def half(seed):
            return constant(seed)
        SPECS = [QUICK.__class__(**{**QUICK.__dict__, 'factory': half}), make('NaNs', nans, dtypes=('float32',))]""",
                 "idplugin:SPECS"),
}
CHECKS = "--initcheck-checks=check_output_contract,check_exact_values"


@pytest.fixture
def project(pytester, monkeypatch):
    site = write_site(pytester.path, PLUGINS)
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    pytester.makepyfile(test_other="def test_plain():\n    assert True\n")
    return pytester


def test_node_id_reruns_exactly_that_item_and_lf_narrows(project):
    first = project.runpytest_subprocess("--initcheck", "--initcheck-select=idplugin", CHECKS, "-rf")
    first.assert_outcomes(passed=3, failed=1)  # test_plain, Half x2; NaNs contract
    failed = re.findall(r"^FAILED (\S+\])", first.stdout.str(), re.M)
    assert failed == ["initcheck::test_initializer[idplugin>NaNs-check_output_contract]"], failed
    again = project.runpytest_subprocess(failed[0], "--initcheck-select=idplugin", "-v")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*collected 1 item*"])
    assert "test_plain" not in again.stdout.str()
    # The same id next to a test file runs both.
    both = project.runpytest_subprocess(failed[0], "test_other.py", "--initcheck-select=idplugin")
    both.assert_outcomes(passed=1, failed=1)
    lf = project.runpytest_subprocess("--initcheck", "--initcheck-select=idplugin", CHECKS, "--lf")
    lf.assert_outcomes(failed=1)
    lf.stdout.fnmatch_lines(["*run-last-failure*"])
    ff = project.runpytest_subprocess("--initcheck", "--initcheck-select=idplugin", CHECKS, "--ff", "-v")
    ff.assert_outcomes(passed=3, failed=1)
    first_run = [line for line in ff.stdout.lines if "PASSED" in line or "FAILED" in line][0]
    assert "NaNs-check_output_contract" in first_run  # failures first


def test_k_counts_are_right(project):
    result = project.runpytest_subprocess("--initcheck", "--initcheck-select=idplugin", CHECKS, "-k", "Half")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["collected 4 items / 2 deselected / 2 selected"])


def test_unknown_node_id_is_a_clear_collection_error(project):
    result = project.runpytest_subprocess("initcheck::test_initializer[idplugin>Nope-check_output_contract]",
                                          "--initcheck-select=idplugin")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*not found: initcheck::test_initializer?idplugin>Nope-check_output_contract?*"])


def test_parametrize_with_checks_ids_carry_the_qualified_name(project):
    project.makepyfile(test_mine="""
        from idplugin import SPECS
        from initcheck.testing import parametrize_with_checks

        @parametrize_with_checks([SPECS[0]])
        def test_battery(spec, check):
            check(spec)
    """)
    result = project.runpytest_subprocess("test_mine.py", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_mine.py::test_battery?idplugin>Half-check_output_contract?"])
    assert "local>" not in result.stdout.str()
