"""#13 point 3: a broken unrelated plugin does not fail your gate; duplicates run for neither.

Before: ``initcheck check --select mypkg`` and ``pytest --initcheck
--initcheck-select mypkg`` exited 1 because another installed distribution
failed to load, and of two distributions registering one name the
alphabetically first ran in place of the other, which was blamed.
"""

from __future__ import annotations

from common.plugin_site import FakeEP, only_entry_points, write_site
from initcheck import battery
from initcheck.cli import main
from initcheck.laws import Constant
from initcheck.spec import InitializerSpec


def quick(name="Half", namespace=None):
    return InitializerSpec(name=name, factory=lambda seed: (lambda shape, dtype=None: __import__("numpy").full(
        tuple(shape), 0.5, dtype=dtype or "float32")), law=Constant(0.5), tags=frozenset({"deterministic"}),
        seeded_repeat="any", dtypes=("float32",), namespace=namespace)


def eps():
    return [FakeEP("mypkg", "specs", obj=[quick()]),
            FakeEP("zz-broken", "specs", exc=ImportError("No module named 'zz_dependency'")),
            FakeEP("aa-invalid", "specs", obj=[quick("Bad").__class__(name="Bad", factory=None, law=Constant(1.0))])]


def test_errors_outside_the_selection_are_warnings(monkeypatch):
    only_entry_points(monkeypatch, eps())
    registry = battery.load(select=["mypkg"])
    assert list(registry.specs) == ["mypkg>Half"] and registry.errors == []
    assert {w.distribution for w in registry.warnings} == {"zz-broken", "aa-invalid"}
    registry = battery.load(select=["zz-broken"])
    assert [e.distribution for e in registry.errors] == ["zz-broken"]
    registry = battery.load()  # no selection: everything is inside it
    assert {e.distribution for e in registry.errors} == {"zz-broken", "aa-invalid"}


def test_cli_exit_status_ignores_unrelated_load_errors(monkeypatch, capsys):
    only_entry_points(monkeypatch, eps())
    assert main(["check", "--select", "mypkg"]) == 0
    captured = capsys.readouterr()
    assert "zz-broken" in captured.err and "WARNING" in captured.err and "not counted" in captured.err
    assert "ok   mypkg>Half" in captured.out
    assert main(["check", "--select", "mypkg,zz-broken"]) == 1
    assert "FAIL zz-broken" in capsys.readouterr().out


def test_duplicate_names_run_for_neither_and_name_both(monkeypatch, capsys):
    only_entry_points(monkeypatch, [FakeEP("alpha", "a", obj=[quick("Same", namespace="shared")]),
                                    FakeEP("beta", "b", obj=[quick("Same", namespace="shared")]),
                                    FakeEP("gamma", "c", obj=[quick("Other")])])
    registry = battery.load()
    assert list(registry.specs) == ["gamma>Other"]
    (err,) = registry.errors
    assert "'alpha'" in err.error and "'beta'" in err.error and "neither runs" in err.error
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "ok   gamma>Other" in out and "duplicate spec name 'shared>Same'" in out


def test_pytest_gate_ignores_unrelated_load_errors(pytester, monkeypatch):
    site = write_site(pytester.path, {
        "mypkg": ("mypkg_specs", "SPEC = QUICK", "mypkg_specs:SPEC"),
        "broken-other": ("broken_other", "import a_module_that_does_not_exist", "broken_other:SPEC")})
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    result = pytester.runpytest_subprocess("--initcheck", "--initcheck-select=mypkg", "-p", "no:cacheprovider",
                                           "-W", "default")
    assert result.ret == 0, result.stdout.str()
    assert "broken-other" in result.stdout.str() and "not counted" in result.stdout.str()
    result = pytester.runpytest_subprocess("--initcheck", "--initcheck-select=mypkg,broken-other",
                                           "-p", "no:cacheprovider")
    assert result.ret == 1
    result.assert_outcomes(passed=2, failed=1)
