"""Convergence checks: does the initializer train the toy tasks it should, and fail those it should?

Two checks over the declared :data:`initcheck.convergence.expectations.EXPECTATIONS`
(selected by the spec's law -- its variance gain ``q = fan_in * E[w^2]`` --
never by its name):

* ``check_trains_deep_relu`` (default gate, specs that declare themselves
  designed for ``relu``): the expectations marked ``gate``; today "a law with ``q`` in [1.6, 2.5] (He) trains the 30-layer
  width-16 ReLU network with plain SGD in >= 90 % of seeds".
* ``check_convergence_expectations`` (``thorough`` only): every declared
  expectation that applies, each at ``alpha / k`` for ``k`` expectations.

Each expectation trains S seeds in one batched ensemble, S from the power
analysis (:func:`initcheck.stats.required_seeds`), and decides with
an exact one-sided Clopper-Pearson bound at the run's per-assertion
``alpha``.  No TensorFlow is imported at module import time.
"""

from __future__ import annotations

from typing import Any

from . import register_check
from .evidence import Evidence, fail, ok
from .figure_data import convergence_summary

__all__ = ["check_trains_deep_relu", "check_convergence_expectations"]


def _has_gate_expectation(spec: Any) -> bool:
    """Designed for ReLU (the spec's own promise) and holding a gate expectation."""
    from ..convergence.expectations import expectations_for

    if "relu" not in tuple(getattr(spec, "activations", ())):
        return False
    try:
        return bool(expectations_for(spec, "ci"))
    except Exception:  # a law that cannot be evaluated is reported by the structural checks
        return False


def _has_any_expectation(spec: Any) -> bool:
    from ..convergence.expectations import expectations_for

    try:
        return bool(expectations_for(spec, "thorough"))
    except Exception:
        return False


def _run(spec: Any, case: dict, profile: str) -> Evidence:
    from ..convergence.expectations import expectations_for, verify_expectation
    from ..stats import budget

    b = budget()
    exps = expectations_for(spec, profile)
    alpha = b.alpha / max(1, len(exps))
    decisions = [verify_expectation(spec, e, alpha=alpha, beta=b.beta) for e in exps]
    failed = [d for d in decisions if not d.passed]
    data = {
        "alpha": alpha, "beta": b.beta, "n_assertions": len(decisions),
        "decisions": [d.data() for d in decisions], "figure": convergence_summary(decisions),
    }
    if failed:
        raise fail("; ".join(f"{d.expectation}: {d.message}" for d in failed), case, **data)
    return ok("; ".join(f"{d.expectation}: {d.message}" for d in decisions), case, **data)


@register_check(kind="initializer", family="convergence", applies=_has_gate_expectation, statistical=True,
                examples=1)
def check_trains_deep_relu(spec: Any, case: dict) -> Evidence:
    """A law at the ReLU critical gain trains the deep narrow ReLU network with SGD (declared rate, S seeds)."""
    return _run(spec, case, "ci")


@register_check(kind="initializer", family="convergence", applies=_has_any_expectation, statistical=True,
                examples=1, thorough_only=True)
def check_convergence_expectations(spec: Any, case: dict) -> Evidence:
    """Every declared convergence expectation whose variance-gain range holds the spec."""
    return _run(spec, case, "thorough")
