"""Seeds chosen by design (initcheck.strategies): a pool's draws never share a seed, and the designed seed set
exposes every fold of the seed a realistic bug makes."""

from __future__ import annotations

import itertools

import pytest

from initcheck import strategies
from initcheck.strategies import MAX_SEED, POOL_SEED_MAX, derive_seed, pool_seeds, seed_design


def _first(root: int, count: int) -> list[int]:
    return list(itertools.islice(pool_seeds(root), count))


@pytest.mark.parametrize("root", [0, 1, 7070844, POOL_SEED_MAX])
def test_pool_seeds_are_the_derived_seeds_when_those_are_fine(root: int) -> None:
    seeds = _first(root, 300)
    assert seeds[0] == root
    assert len(set(seeds)) == 300 and max(seeds) <= POOL_SEED_MAX
    assert sum(s == derive_seed(root, i) for i, s in enumerate(seeds)) >= 298


@pytest.mark.parametrize("root", [MAX_SEED - 1, MAX_SEED])
def test_roots_that_keras_folds_onto_0_and_1_are_replaced(root: int) -> None:
    seeds = _first(root, 3)
    assert seeds[0] != root and seeds[0] == derive_seed(root, 0, 1) and max(seeds) <= POOL_SEED_MAX


def test_a_repeated_or_folded_derived_seed_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    planted = {(9, 0): 9, (9, 1): 9, (9, 1, 1): 2**31 - 2, (9, 1, 2): 11, (9, 2): 11, (9, 2, 1): 13}

    monkeypatch.setattr(strategies, "derive_seed", lambda root, *path: planted[(root, *path)])
    assert _first(9, 3) == [9, 11, 13]


def test_the_pool_uses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from initcheck.checks import _sampling

    seen: list[int] = []

    def fake_draw(spec, shape, dtype, seed):  # noqa: ANN001, ANN202
        seen.append(seed)
        return np.zeros(shape, dtype=dtype)

    monkeypatch.setattr(_sampling, "draw_kernel", fake_draw)
    pool = _sampling.Pool(object(), (8, 8), "float32", 5)
    pool.ensure(64 * 40)
    pool.ensure(64 * 90)
    assert seen == _first(5, 90)


def _designed(seed: int) -> set[int]:
    return {s for a, b, _ in seed_design(seed) for s in (a, b)}


@pytest.mark.parametrize("k", [0, 8, 16, 31, 32, 53, 63])
@pytest.mark.parametrize("m", [1, 10, 100, 1000])
def test_s_and_s_plus_m_times_2_to_the_k(m: int, k: int) -> None:
    pairs = {(a, b) for a, b, _ in seed_design(12345)}
    assert (12345, 12345 + m * 2**k) in pairs


def test_signs_and_the_largest_seeds_of_each_range() -> None:
    pairs = {(a, b) for a, b, _ in seed_design(12345)}
    assert {(-12345, 12345), (-12346, 12345), (-1, 2**32 - 1), (-(2**63), 2**63 - 1)} <= pairs
    assert {(2**31 - 1, 2**31), (2**63 - 1, 2**63), (2**32 - 1, 2**32), (-1, 2**63 - 1)} <= pairs
    assert {(0, 2**31 - 2), (1, 2**31 - 1)} <= pairs  # Keras 3.5+'s fold, inside initcheck's own seed range


FOLDS = {
    "seed % 1000": 1000, "seed % 10": 10, "seed % 100": 100, "seed % 10**6": 10**6, "seed % 10**9": 10**9,
    "& 0xFF": 2**8, "& 0xFFFF": 2**16, "int32 wrap": 2**32, "int31 mask": 2**31, "floormod(2**31 - 2)": 2**31 - 2,
    "int64 wrap": 2**64, "% (3 * 2**20)": 3 * 2**20, "% (2**31 + 3)": 2**31 + 3, "% (10**4 - 4)": 10**4 - 4,
}


@pytest.mark.parametrize("name", list(FOLDS))
@pytest.mark.parametrize("root", [1, 987654321])
def test_every_planted_fold_maps_two_designed_seeds_together(name: str, root: int) -> None:
    """The set-wide comparison sees a fold modulo M when two designed seeds are congruent modulo M."""
    modulus = FOLDS[name]
    seeds = sorted(_designed(root))
    residues: dict[int, int] = {}
    hit = False
    for s in seeds:
        r = s % modulus
        if r in residues:
            hit = True
            break
        residues[r] = s
    assert hit, name
