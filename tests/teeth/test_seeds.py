"""check_seed_collisions: designed seed pairs catch folded, truncated and sign-dropping seeds; twins pass.

Every double is a NumPy initializer (``default_rng(seed_map(seed))``) whose
seed mangling is a realistic bug; each passes ``check_seed_contract``'s
drawn seeds unless a lucky pair comes up.  The twins: ``default_rng(seed)``
(negative seeds raise ``ValueError``: a clear error) and a zig-zag map that
makes every integer a valid seed.  The declared range is enforced both ways,
and NumPy integer seeds must draw what the Python int draws or raise.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from common.doubles import SEED_MAPS, exact, np_spec, zigzag
from initcheck.checks.evidence import CheckFailure
from initcheck.checks.seeds import check_seed_collisions
from initcheck.laws import Normal
from initcheck.spec import InitializerSpec

LAW = Normal(std=0.05)
CASE = {"seed": 12345, "shape": [4, 4], "dtype": "float32"}


def _message(spec: InitializerSpec) -> str:
    with pytest.raises(CheckFailure) as info:
        check_seed_collisions(spec, CASE)
    assert info.value.evidence.check == "check_seed_collisions" and not info.value.evidence.passed
    return info.value.evidence.message


@pytest.mark.parametrize("bug", list(SEED_MAPS))
def test_mangled_seeds_collide_on_designed_pairs(bug: str) -> None:
    assert "draw identical values" in _message(np_spec("wrong", LAW, exact, seed_map=SEED_MAPS[bug]))
    assert check_seed_collisions(np_spec("right", LAW, exact), CASE).passed
    assert check_seed_collisions(np_spec("signed", LAW, exact, seed_map=zigzag), CASE).passed


def test_the_fold_modulus_is_named() -> None:
    message = _message(np_spec("wrong", LAW, exact, seed_map=SEED_MAPS["seed % 1000"]))
    assert "multiple of 1000" in message


def _ranged(accept_outside: bool) -> InitializerSpec:
    """Documents seeds 0 .. 2**32 - 1; out of range it either raises (right) or truncates silently (wrong)."""
    spec = np_spec("ranged", LAW, exact, seed_map=lambda s: s & 0xFFFFFFFF, seed_range=(0, 2**32 - 1))

    def factory(seed: Any) -> Any:
        if seed is not None and not accept_outside and not 0 <= int(seed) < 2**32:
            raise ValueError(f"seed must be in [0, 2**32), got {seed}")
        return spec.factory(seed)

    return dataclasses.replace(spec, factory=factory)


def test_a_declared_range_is_enforced_both_ways() -> None:
    assert check_seed_collisions(_ranged(accept_outside=False), CASE).passed
    message = _message(_ranged(accept_outside=True))
    assert "accepted silently" in message and "draw identical values" in message


def test_numpy_integer_seeds_must_draw_like_python_ints_or_raise() -> None:
    def int_only(seed: Any) -> Any:  # `isinstance(seed, int)` or else unseeded: numpy.int64 silently ignored
        return np_spec("x", LAW, exact).factory(seed if isinstance(seed, int) else None)

    base = np_spec("int-only", LAW, exact)

    assert "NumPy integer seeds" in _message(dataclasses.replace(base, factory=int_only))

    def strict(seed: Any) -> Any:  # rejecting them with a clear error is fine
        if isinstance(seed, np.integer):
            raise TypeError("pass a Python int")
        return base.factory(seed)

    assert check_seed_collisions(dataclasses.replace(base, factory=strict), CASE).passed


def test_an_unclear_error_for_an_undocumented_seed_fails() -> None:
    base = np_spec("crashy", LAW, exact)

    def crashy(seed: Any) -> Any:
        if seed is not None and seed < 0:
            raise RuntimeError("internal error")
        return base.factory(seed)


    assert "raised something other than" in _message(dataclasses.replace(base, factory=crashy))
