"""Teeth of ``check_optimizer_contract``: broken optimizers it catches, a right one it passes.

Rows for tests/teeth/table.py (when the reorganized tests land):
``check_optimizer_contract`` catches ``test_contract_catches[...]`` and passes
``test_contract_passes_keras_sgd``.
"""

from __future__ import annotations

import pytest

from initcheck import battery
from initcheck.checks import all_checks
from initcheck.checks.evidence import CheckFailure
from initcheck.references.optimizers import RULES
from initcheck.spec import OptimizerSpec


def _sgd(**kwargs):
    from initcheck import keras_compat as kc

    return kc.keras().optimizers.SGD(**kwargs)


class _Exploding:
    def __init__(self, **kwargs):
        raise RuntimeError("factory exploded")


class _StepRaises:
    def apply_gradients(self, pairs):
        raise ValueError("update exploded")


def _nan_rate(**kwargs):
    return _sgd(**{**kwargs, "learning_rate": float("nan")})


def _sets_inf(**kwargs):
    class Casting:
        def apply_gradients(self, pairs):
            for g, v in pairs:
                v.assign(v * 0 + float("inf"))

    return Casting()


WRONG = {
    "factory raises": (_Exploding, "the factory raised RuntimeError"),
    "step raises": (lambda **kw: _StepRaises(), "one apply_gradients step raised ValueError"),
    "NaN after one step": (_nan_rate, "NaN or infinite after one step"),
    "inf after one step": (_sets_inf, "NaN or infinite after one step"),
}


def _item(factory):
    spec = OptimizerSpec(name="Double", factory=factory, rule=RULES["sgd"], tags=frozenset({"trajectory"}))
    return battery.Item("teeth>Double", spec, all_checks("optimizer")["check_optimizer_contract"])


@pytest.mark.parametrize("wrong", sorted(WRONG))
def test_contract_catches(wrong):
    factory, message = WRONG[wrong]
    with pytest.raises(CheckFailure) as info:
        battery.run_check(_item(factory), shrink=False)
    assert info.value.evidence.check == "check_optimizer_contract" and message in info.value.evidence.message


def test_contract_passes_keras_sgd():
    evidence = battery.run_check(_item(_sgd))
    assert evidence and all(e.passed for e in evidence)
