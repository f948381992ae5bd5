"""Draws of an initializer, pooled and cached: one sample, many statistics.

Every distribution check of a case (spec, kernel shape, dtype, seed) asks the
same :class:`Pool` for as many values as its plan needs; the pool calls the
initializer on distinct derived seeds (:func:`initcheck.strategies.pool_seeds`)
until it holds enough whole kernels, and the cache keeps every pool of the
spec being checked, so each check of the family reuses the draws instead of
calling Keras again (the family's checks share their cases: one strategy,
derandomized alike).  Statistics that several checks read (the sorted
multiplicities of the values) are computed once per pool (:meth:`Pool.memo`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, Callable, Optional

import numpy as np

from .. import stats
from ..strategies import pool_seeds
from .evidence import fail

__all__ = ["Pool", "pooled", "draw_kernel", "finite_values", "clear_cache", "case_shape"]


def case_shape(case: dict) -> tuple[int, ...]:
    """The kernel shape of a case, as a tuple of ints."""
    return tuple(int(s) for s in case["shape"])


def draw_kernel(spec: Any, shape: tuple[int, ...], dtype: str, seed: Optional[int]) -> np.ndarray:
    """One call ``spec.factory(seed)(shape, dtype=dtype)`` as a NumPy array (dtype kept)."""
    from .. import keras_compat as kc

    init = spec.factory(seed)
    out = kc.to_numpy(init(tuple(shape), dtype=dtype))
    if tuple(out.shape) != tuple(shape):
        raise fail(f"initializer returned shape {tuple(out.shape)} for requested {tuple(shape)}",
                   {"shape": list(shape), "dtype": dtype, "seed": seed})
    return out


class Pool:
    """Independent seeded draws of one (spec, shape, dtype, seed)."""

    def __init__(self, spec: Any, shape: tuple[int, ...], dtype: str, seed: int):
        self.spec, self.shape, self.dtype, self.seed = spec, tuple(int(s) for s in shape), dtype, int(seed)
        self.size = max(1, math.prod(self.shape))
        self.draws: list[np.ndarray] = []
        self._seeds = pool_seeds(self.seed)
        self._memo: dict[Any, Any] = {}
        self._float64: Optional[np.ndarray] = None

    def ensure(self, n: int) -> None:
        need = math.ceil(n / self.size)
        while len(self.draws) < need:
            self.draws.append(draw_kernel(self.spec, self.shape, self.dtype, next(self._seeds)))

    def memo(self, key: Any, n: int, compute: Callable[[list[np.ndarray]], Any]) -> Any:
        """``compute(self.native(n))``, computed once per (``key``, number of draws) and kept with the pool."""
        k = (key, math.ceil(n / self.size))
        if k not in self._memo:
            self._memo[k] = compute(self.native(n))
        return self._memo[k]

    def stack(self, n: int) -> np.ndarray:
        """At least ``n`` values as a float64 array ``(draws, *shape)`` (whole draws only).

        Converted once and shared by every check of the spec (a smaller ``n`` reads the first draws of the
        largest conversion so far), so it is read-only.
        """
        self.ensure(n)
        k = math.ceil(n / self.size)
        if self._float64 is None or len(self._float64) < k:
            out = np.empty((k,) + self.shape, dtype=np.float64)
            for i, d in enumerate(self.draws[:k]):
                out[i] = d
            out.flags.writeable = False
            self._float64 = out
        return self._float64[:k]

    def values(self, n: int) -> np.ndarray:
        """At least ``n`` values, flat, float64."""
        return self.stack(n).reshape(-1)

    def native(self, n: int) -> list[np.ndarray]:
        """The draws holding at least ``n`` values, in the initializer's own dtype (no copy)."""
        self.ensure(n)
        return self.draws[:math.ceil(n / self.size)]

    def ties(self, n: int) -> stats.Ties:
        """The multiplicities of the values of the draws holding ``n`` values (one sort, shared by every check)."""
        return self.memo("ties", n, stats.tie_counts)

    def seeds_used(self, n: int) -> dict[str, Any]:
        k = math.ceil(n / self.size)
        return {"case_seed": self.seed, "draws": k,
                "seed_derivation": "the first draws of initcheck.strategies.pool_seeds(case_seed): derive_seed(case_seed, i), "
                                   "distinct and <= 2^31 - 3"}


_CACHE: "OrderedDict[tuple, Pool]" = OrderedDict()
#: Pools kept at most (all of one spec's cases: its dtypes x the family's examples, low precision included).
_CACHE_SIZE = 8


def pooled(spec: Any, shape: tuple[int, ...], dtype: str, seed: int) -> Pool:
    """The (cached) pool of a case; asking for another spec's pool drops the previous spec's pools."""
    key = (id(spec), spec.name, tuple(int(s) for s in shape), dtype, int(seed))
    pool = _CACHE.get(key)
    if pool is None or pool.spec is not spec:
        for old in [k for k, p in _CACHE.items() if p.spec is not spec]:
            del _CACHE[old]
        pool = Pool(spec, shape, dtype, seed)
        _CACHE[key] = pool
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return pool


def finite_values(spec: Any, case: dict, n: int) -> tuple[Pool, np.ndarray]:
    """The case's pool and at least ``n`` of its values; a non-finite value fails the check."""
    pool = pooled(spec, case_shape(case), case["dtype"], case["seed"])
    x = pool.values(n)
    bad = ~np.isfinite(x)
    if bad.any():
        raise fail(f"{int(bad.sum())} non-finite value(s) among n={x.size} pooled draws", case,
                   n=x.size, non_finite=int(bad.sum()), seeds=pool.seeds_used(n))
    return pool, x


def clear_cache() -> None:
    """Drop cached pools (tests and benchmarks call it to time fresh draws)."""
    _CACHE.clear()
