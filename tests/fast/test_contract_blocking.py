"""#13 point 4: a contract violation is one failure, and every dependent check is reported blocked.

Before: an initializer that raised gave 1 failure and 24 errors (28,583 lines
of tracebacks under pytest), NaN gave 25 failures, a wrong shape gave 9
failures, 8 errors and 8 layer checks that *passed*.  Now every check of a
kind depends on its contract check, so no check can pass (or fail again) on a
spec whose contract failed, and tracebacks show the plugin's own frames.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from common.plugin_site import PLUGIN_FILE_MARKER, numpy_normal
from initcheck import battery
from initcheck.checks import CONTRACTS, all_checks
from initcheck.laws import Normal
from initcheck.spec import InitializerSpec, OptimizerSpec


def _broken_factory(kind: str):
    def factory(seed):
        good = numpy_normal(seed)

        def init(shape, dtype=None):
            if kind == "raises":
                raise ValueError("kaboom from the plugin")  # PLUGIN_FILE_MARKER
            if kind == "nan":
                return np.full(tuple(shape), np.nan, dtype=dtype or "float32")
            if kind == "wrong_shape":
                return good((1,) + tuple(shape), dtype)
            if kind == "wrong_dtype":
                return good(shape, "float64" if dtype != "float64" else "float32")
            raise AssertionError(kind)

        return init

    return factory


def _run_all(spec, qualname):
    battery.reset_run_state()
    outcomes = [battery.run_one(item, timeout=120) for item in battery.plan([(qualname, spec)])]
    return outcomes, Counter(o.status for o in outcomes)


@pytest.mark.parametrize("kind, message", [("raises", "raised ValueError: kaboom from the plugin"),
                                           ("nan", "NaN or infinite"), ("wrong_shape", "asked for shape"),
                                           ("wrong_dtype", "asked for dtype")])
def test_initializer_contract_violation_blocks_everything_else(kind, message):
    spec = InitializerSpec(name=f"Broken-{kind}", factory=_broken_factory(kind), law=Normal(std=1.0),
                           dtypes=("float32", "float64"), unseeded_repeat="different", activations=("linear",))
    outcomes, counts = _run_all(spec, f"doubles>Broken-{kind}")
    assert len(outcomes) > 25  # structural, distribution, 16 layer kinds, propagation
    assert counts == {"failed": 1, "blocked": len(outcomes) - 1}, counts
    (failed,) = [o for o in outcomes if o.status == "failed"]
    assert failed.item.check.name == CONTRACTS["initializer"] and message in failed.message
    for o in outcomes:
        if o.status == "blocked":
            assert o.message.startswith(f"blocked: {CONTRACTS['initializer']} failed on doubles>Broken-{kind}")
            assert o.blocked_by == {"check": CONTRACTS["initializer"], "status": "failed"}


def test_traceback_is_cut_to_the_plugins_frames():
    spec = InitializerSpec(name="Raiser", factory=_broken_factory("raises"), law=Normal(std=1.0),
                           dtypes=("float32",), unseeded_repeat="different")
    battery.reset_run_state()
    contract = [i for i in battery.plan([("doubles>Raiser", spec)]) if i.check.name == "check_output_contract"][0]
    outcome = battery.run_one(contract)
    trace = outcome.evidence[0].data["traceback"]
    assert PLUGIN_FILE_MARKER in trace or __file__ in trace  # the plugin's frame (this file) is there
    assert "kaboom from the plugin" in trace
    for framework in ("hypothesis", "_pytest", "initcheck/battery/", "initcheck/checks"):
        assert framework not in trace, trace
    assert len(trace.splitlines()) < 12


def _sgd_spec(name, factory):
    from initcheck.references.optimizers import RULES

    return OptimizerSpec(name=name, factory=factory, rule=RULES["sgd"], tags=frozenset({"trajectory", "config"}))


class _NoStep:
    """Not an optimizer: ``apply_gradients`` is missing."""


def _nan_sgd(**kwargs):
    from initcheck import keras_compat as kc

    kwargs["learning_rate"] = float("nan")
    return kc.keras().optimizers.SGD(**kwargs)


def _raising_factory(**kwargs):
    raise RuntimeError("optimizer factory exploded")


@pytest.mark.parametrize("factory, message", [(_raising_factory, "the factory raised RuntimeError"),
                                              (lambda **kw: _NoStep(), "one apply_gradients step raised"),
                                              (_nan_sgd, "NaN or infinite after one step")])
def test_optimizer_contract_violation_blocks_everything_else(factory, message):
    spec = _sgd_spec("BrokenSGD", factory)
    outcomes, counts = _run_all(spec, "doubles>BrokenSGD")
    assert len(outcomes) >= 3
    assert counts == {"failed": 1, "blocked": len(outcomes) - 1}, counts
    (failed,) = [o for o in outcomes if o.status == "failed"]
    assert failed.item.check.name == "check_optimizer_contract" and message in failed.message


def test_every_check_depends_on_its_contract():
    for kind, contract in CONTRACTS.items():
        checks = all_checks(kind)
        assert contract in checks
        for name, check in checks.items():
            if name != contract:
                assert contract in check.depends_on, name


def test_a_correct_optimizer_passes_its_contract():
    from initcheck import keras_compat as kc

    spec = _sgd_spec("SGD", lambda **kw: kc.keras().optimizers.SGD(**kw))
    battery.reset_run_state()
    item = [i for i in battery.plan([("doubles>SGD", spec)]) if i.check.name == "check_optimizer_contract"][0]
    assert battery.run_one(item).status == "passed"


def test_under_pytest_one_failure_and_short_output(pytester, monkeypatch):
    from common.plugin_site import write_site

    site = write_site(pytester.path, {"raises-plugin": ("raises_plugin", """
        def bad(seed):
            def init(shape, dtype=None):
                raise ValueError('kaboom')
            return init
        SPEC = make('Raiser', bad)""", "raises_plugin:SPEC")})
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    result = pytester.runpytest_subprocess("--initcheck", "--initcheck-select=raises-plugin", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and "passed" not in outcomes and "error" not in outcomes, outcomes
    assert outcomes.get("skipped", 0) > 20
    assert len(result.stdout.lines) < 120, len(result.stdout.lines)
