"""initcheck.strategies: the one seed scheme (derive_seed) and the case strategies.

``derive_seed(root, *path)`` seeds the k-th pooled draw of a case
``(root, k)``, layer ``l`` of replica ``r`` of a propagation stack
``(root, r, l)`` and kernel ``l`` of ensemble member ``s`` ``(s, l)``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from initcheck.strategies import MAX_SEED, SEED_SALT, derive_seed

ROOTS = (0, 1, 2, 7, 1000, 123_456_789, MAX_SEED)


def _old_derived_seed(seed: int, index: int) -> int:
    """initcheck 0.1's ``checks.distribution.derived_seed`` (the pooled draws' seeds), written out."""
    if index == 0:
        return int(seed)
    state = np.random.SeedSequence([int(seed), int(index), 0x1C4EC4]).generate_state(1, dtype=np.uint32)
    return int(state[0]) & (2**31 - 1)


@pytest.mark.parametrize("root", ROOTS)
def test_the_empty_and_the_zero_path_are_the_root(root: int) -> None:
    """The first draw of a case is the one its seed names."""
    assert derive_seed(root) == root
    assert derive_seed(root, 0) == root
    assert derive_seed(root, 0, 0) == root
    assert derive_seed(root, 0, 0, 0) == root


def test_values_are_int32_seeds() -> None:
    for root, a, b in itertools.product(ROOTS, range(4), range(4)):
        v = derive_seed(root, a, b)
        assert isinstance(v, int) and 0 <= v <= MAX_SEED == 2**31 - 1


def test_one_index_is_the_old_pooled_draw_formula() -> None:
    """``derive_seed(root, i)`` = SeedSequence([root, i, 0x1C4EC4]) & (2**31 - 1): the 0.1 pooled draws' seeds."""
    assert SEED_SALT == 0x1C4EC4
    for root in ROOTS:
        for i in (0, 1, 2, 3, 59, 10_000):
            assert derive_seed(root, i) == _old_derived_seed(root, i), (root, i)


def test_paths_of_different_lengths_do_not_alias() -> None:
    """(r, l) is not (r,) followed by a zero, nor (l, r): the whole path enters the SeedSequence."""
    for root in ROOTS[:4]:
        assert derive_seed(root, 3) != derive_seed(root, 3, 0)
        assert derive_seed(root, 3, 5) != derive_seed(root, 5, 3)
        assert derive_seed(root, 0, 5) != derive_seed(root, 5)


def test_no_collisions_among_a_hundred_thousand_derivations_of_one_case() -> None:
    """Within one case seed the derived seeds are all distinct (and differ from the root): 100 roots x
    (700 pooled draws + the 303 non-zero (replica, layer) paths of 16 x 19) = 100,300 (root, path) pairs.

    Across *different* roots the 31-bit values collide as any hash does (birthday bound: about
    n^2 / 2^32 = 2.3 expected pairs among 10^5 values; they would only make two different cases share a
    draw), so that count is bounded by what a uniform 31-bit hash gives, not required to be zero.
    """
    seen: dict[int, tuple] = {}
    cross_root = 0
    total = 0
    for root in range(100):
        own = {root: ()}
        paths = [(k,) for k in range(1, 701)] + [(r, l) for r in range(16) for l in range(19) if (r, l) != (0, 0)]
        for path in paths:
            v = derive_seed(root, *path)
            assert v not in own, f"derive_seed({root}, {path}) == derive_seed({root}, {own[v]})"
            own[v] = path
            total += 1
            if v in seen:
                cross_root += 1
            seen[v] = (root, *path)
    assert total == 100_300
    # Poisson(total^2 / 2^32 ~ 2.34): P(count > 14) < 1e-7.
    assert cross_root <= 14, cross_root
