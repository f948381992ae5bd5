"""Hypothesis strategies that draw check cases as JSON-able dicts.

Cases are plain dicts so that a failing one prints, serialises into a
``--case`` argument and replays exactly.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from hypothesis import strategies as st

__all__ = ["kernel_shapes", "seeds", "initializer_cases", "MAX_SEED"]

MAX_SEED = 2**31 - 1


@st.composite
def kernel_shapes(draw: Any, ranks: Sequence[int], min_size: int = 1, max_size: int = 300,
                  max_elements: int = 1 << 16) -> tuple[int, ...]:
    """Kernel shapes of the given ranks, sizes ``min_size..max_size``, product capped."""
    rank = draw(st.sampled_from(sorted(ranks)))
    dims: list[int] = []
    for i in range(rank):
        left = rank - i - 1
        room = max_elements // (math.prod(dims) * min_size ** left) if dims else max_elements // (min_size ** left)
        hi = max(min_size, min(max_size, room))
        dims.append(draw(st.integers(min_size, hi)))
    return tuple(dims)


def seeds() -> Any:
    """Seeds including 0 and large values."""
    return st.one_of(st.just(0), st.integers(1, 1000), st.integers(0, MAX_SEED))


def initializer_cases(spec: Any, max_elements: int = 1 << 16, min_size: int | None = None) -> Any:
    """``{"shape", "dtype", "seed"}`` for an initializer spec."""
    ms = max(spec.min_size, min_size or 1)
    return st.fixed_dictionaries({
        "shape": kernel_shapes(spec.ranks, min_size=ms, max_elements=max_elements).map(list),
        "dtype": st.sampled_from(list(spec.dtypes)),
        "seed": seeds(),
    })
