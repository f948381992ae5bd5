"""Assertions several test folders make about a check's evidence."""

from __future__ import annotations

import pytest

from . import builtins


def caught(check, spec, case, match=None):  # noqa: ANN001, ANN201
    """``check`` fails on ``spec`` for ``case`` and the failure is its own; returns the evidence."""
    from initcheck.checks.evidence import CheckFailure

    with pytest.raises(CheckFailure, match=match) as info:
        check(spec, case)
    ev = info.value.evidence
    assert ev.check == check.__name__ and not ev.passed
    return ev


def passes(check, spec, case):  # noqa: ANN001, ANN201
    """``check`` passes ``spec`` for ``case`` on fresh draws (the pool cache cleared); returns the evidence."""
    from initcheck.checks import _sampling

    _sampling.clear_cache()
    ev = check(spec, case)
    assert ev.passed and ev.check == check.__name__
    return ev


def assert_keeps_signal(name: str) -> None:
    """Check passes: He + ReLU (r ~ 1 both ways), Glorot + linear/tanh (tanh on the critical power
    law), LeCun + linear/SELU (SELU forward r ~ 1; backward at the theory's 1.07), Orthogonal + linear."""
    from initcheck.battery import Item, run_check
    from initcheck.checks import all_checks
    from initcheck.stats import budget

    spec = builtins.initializer(name)
    (ev,) = run_check(Item(f"test>{spec.name}", spec, all_checks()["check_signal_propagation"]))
    assert ev.passed and ev.check == "check_signal_propagation"
    acts = ev.data["activations"]
    for act, data in acts.items():
        # error rates are stated: each of 2 * len(acts) assertions gets alpha / (2 * len(acts))
        assert data["alpha"] == pytest.approx(budget().alpha / (2 * len(acts)))
        assert data["beta"] == budget().beta and data["smallest_detectable"]["forward"]["per_layer_ratio_factor"] < 1.15
        for d in ("forward", "backward"):
            assert data["r_measured"][d]["r"] == pytest.approx(data["r_reference"][d], abs=0.03)
        assert len(data["curves"]["log_q_measured"]) == 50  # per-layer curves kept for pictures
