"""The optimizer contract: it builds, takes one step, and leaves weights of the right shape, dtype and value.

Every other optimizer check depends on ``check_optimizer_contract``
(:data:`initcheck.checks.CONTRACTS`): an optimizer whose factory raises, whose
step raises, or that leaves non-finite weights (or changes their shape or
dtype) after one step fails this check once, and the rest of its battery is
reported blocked instead of failing the same way thirty times.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...strategies import optimizer_cases
from .. import register_check
from ..evidence import Evidence, fail, ok, plugin_traceback
from .runner import fresh_variables, gradient_sequence

__all__ = ["check_optimizer_contract"]


def _raised(what: str, exc: BaseException, case: dict) -> Exception:
    return fail(f"{what} raised {type(exc).__name__}: {exc}", case, traceback=plugin_traceback(exc))


@register_check(kind="optimizer", family="optimizer", strategy=lambda spec: optimizer_cases(spec, steps=1),
                examples=2)
def check_optimizer_contract(spec: Any, case: dict) -> Evidence:
    """The factory builds an optimizer; one step keeps every variable's shape and dtype, with finite values."""
    from ... import keras_compat as kc

    try:
        optimizer = spec.build(case["lr"], case["hp"])
    except Exception as exc:
        raise _raised("the factory", exc, case) from None
    variables = fresh_variables(case)
    (grads,) = gradient_sequence(case, 1)
    try:
        kc.apply_gradients(optimizer, [g.astype(case["dtype"]) for g in grads], variables)
    except Exception as exc:
        raise _raised("one apply_gradients step", exc, case) from None
    for i, (v, shape) in enumerate(zip(variables, case["shapes"])):
        got_shape = tuple(int(s) for s in v.shape)
        if got_shape != tuple(shape):
            raise fail(f"variable {i} changed shape from {tuple(shape)} to {got_shape} after one step", case)
        if kc.dtype_name(v) != case["dtype"]:
            raise fail(f"variable {i} changed dtype from {case['dtype']} to {kc.dtype_name(v)} after one step", case)
        values = np.asarray(kc.to_numpy(v), dtype=np.float64)
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        if bad:
            raise fail(f"{bad} of {values.size} values of variable {i} are NaN or infinite after one step", case,
                       non_finite=bad)
    return ok("builds, steps, keeps shapes and dtypes, finite values", case)
