"""The registry: names, duplicates, load errors, selection (fake entry points)."""

import pytest

from initcheck import registry as reg
from initcheck.laws import Normal
from initcheck.spec import InitializerSpec


class FakeDist:
    def __init__(self, name):
        self.name = name


class FakeEP:
    def __init__(self, dist, name, value, obj=None, exc=None):
        self.dist, self.name, self.value, self._obj, self._exc = FakeDist(dist), name, value, obj, exc

    def load(self):
        if self._exc:
            raise self._exc
        return self._obj


def spec(name, **kw):
    return InitializerSpec(name=name, factory=lambda seed: None, law=Normal(std=1.0), **kw)


@pytest.fixture
def fake_eps(monkeypatch):
    eps = {"initcheck.initializers": [], "initcheck.optimizers": []}
    monkeypatch.setattr(reg, "_entry_points", lambda group: eps[group])
    return eps["initcheck.initializers"]


def test_names_and_load_errors(fake_eps):
    fake_eps += [
        FakeEP("alpha", "a", "alpha:specs", obj=lambda: [spec("One"), spec("Two")]),
        FakeEP("beta", "b", "beta:spec", obj=spec("One")),
        FakeEP("broken", "c", "broken:specs", exc=ImportError("no module named broken_dep")),
        FakeEP("invalid", "d", "invalid:spec", obj=spec("Bad", tags=frozenset({"iid", "nope"}))),
        FakeEP("notaspec", "e", "notaspec:x", obj=42),
    ]
    r = reg.load_registry(use_env=False, kinds=("initializer",))
    assert sorted(r.specs) == ["alpha>One", "alpha>Two", "beta>One"]
    by_dist = {e.distribution: e for e in r.errors}
    assert set(by_dist) == {"broken", "invalid", "notaspec"}
    assert "no module named broken_dep" in by_dist["broken"].error and "ImportError" in by_dist["broken"].traceback
    assert "'tags'" in by_dist["invalid"].error
    assert "expected a initializer spec" in by_dist["notaspec"].error


def test_duplicate_names_both_distributions(fake_eps):
    fake_eps += [FakeEP("alpha", "a", "alpha:s", obj=spec("Same", namespace="shared")),
                 FakeEP("beta", "b", "beta:s", obj=spec("Same", namespace="shared"))]
    r = reg.load_registry(use_env=False, kinds=("initializer",))
    assert list(r.specs) == []  # neither runs in place of the other (#13)
    (err,) = r.errors
    assert "'alpha'" in err.error and "'beta'" in err.error and "neither runs" in err.error


def test_select_and_exclude(fake_eps, monkeypatch):
    fake_eps += [FakeEP("alpha", "a", "alpha:s", obj=[spec("GlorotX"), spec("HeX")]),
                 FakeEP("broken", "c", "broken:s", exc=RuntimeError("boom"))]
    r = reg.load_registry(select=["alpha>Glorot*"], exclude=["broken"], use_env=False, kinds=("initializer",))
    assert list(r.specs) == ["alpha>GlorotX"] and r.errors == []
    monkeypatch.setenv("INITCHECK_EXCLUDE", "alpha>He*,broken")
    r = reg.load_registry(kinds=("initializer",))
    assert list(r.specs) == ["alpha>GlorotX"] and r.errors == []


def test_real_entry_points_include_builtins():
    r = reg.load_registry(select=["keras>GlorotUniform"], use_env=False, kinds=("initializer",))
    assert "keras>GlorotUniform" in r.specs


@pytest.mark.parametrize("select, env, expected", [
    (["keras>Adam"], "", {"keras>Adam"}),
    (["keras>Adam", "keras>SGD", "keras>Adam"], "", {"keras>Adam", "keras>SGD"}),
    (["keras>Adam"], "keras>SGD", {"keras>Adam", "keras>SGD"}),  # INITCHECK_SELECT adds, as load_registry reads it
    (["keras>Glorot*"], "", None),  # a glob may hold any number
    (["keras"], "", None),  # a bare distribution name holds all of its specs
    (["keras>Adam"], "myplugin", None),
    ([], "", None),  # no selection: everything
])
def test_exact_selection_names_the_specs_a_selection_can_hold(monkeypatch, select, env, expected):
    from initcheck.registry import ENV_SELECT, exact_selection

    monkeypatch.setenv(ENV_SELECT, env)
    assert exact_selection(select) == expected
