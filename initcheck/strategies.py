"""Every Hypothesis strategy of initcheck, and its one seed scheme.

Cases are plain JSON-able dicts so that a failing one prints, serialises into
a ``--case`` argument and replays exactly.  Strategies for a single check's
extra fields live beside that check and build on the ones here.

Seeds.  Everything random that a case needs beyond its own ``seed`` (the
k-th pooled draw of a distribution check, layer ``l`` of replica ``r`` of a
propagation stack, kernel ``l`` of ensemble member ``s``) takes its seed from
:func:`derive_seed`: one scheme, written down once, so a replay draws the
same values.  Derived seeds are 31-bit hashes: two different paths collide
with probability about ``2^-31`` per pair (a few collisions among ``10^5``
roots are expected).  The pooled draws of one case must not collide (a
repeated kernel is a pile of exact ties): :func:`pool_seeds` de-duplicates
them, and keeps them where Keras does not fold two seeds together.

Seeds by design.  :func:`seed_design` lists the pairs of distinct seeds that
a seed-mangling bug maps to one draw (folds modulo ``m * 2^k`` and moduli
near powers of two and ten, truncation to ``k`` bits, a dropped sign, the
largest seeds of each integer range); ``check_seed_collisions`` draws them
all instead of hoping that Hypothesis hits a colliding pair.

Hyperparameter spaces for optimizer specs (:func:`unit_interval`,
:func:`epsilons`, :func:`learning_rates`) are public: plugin authors build
their ``OptimizerSpec.space`` from them.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Iterator, Mapping, Optional, Sequence

__all__ = [
    "MAX_SEED",
    "POOL_SEED_MAX",
    "derive_seed",
    "pool_seeds",
    "SEED_BOUNDARIES",
    "SEED_MULTIPLIERS",
    "seed_design",
    "seed_cases",
    "seeds",
    "kernel_shapes",
    "initializer_cases",
    "big_kernel_cases",
    "optimizer_cases",
    "unit_interval",
    "epsilons",
    "learning_rates",
    "FLOAT32_BETA_CAP",
]

#: Largest seed a case draws (Keras and TensorFlow accept int32 seeds everywhere).
MAX_SEED = 2**31 - 1
#: Mixed into every derived seed so that initcheck's streams differ from a plain SeedSequence of the same numbers.
SEED_SALT = 0x1C4EC4
#: Largest seed of a pooled draw: Keras >= 3.5 on TensorFlow reduces seeds modulo ``2^31 - 2`` (a declared
#: finding), so ``2^31 - 2`` and ``2^31 - 1`` would draw what seeds 0 and 1 draw; distinct seeds in
#: ``0..2^31 - 3`` stay distinct under that fold (and under Keras 3.0-3.4's modulo ``2^32``).
POOL_SEED_MAX = 2**31 - 3


def derive_seed(root: int, *path: int) -> int:
    """The seed of the object at ``path`` below a case seed ``root``.

    ``derive_seed(root)`` and ``derive_seed(root, 0, ..., 0)`` are ``root``
    itself, so the first draw of a case is the one its seed names; any other
    path gives ``SeedSequence([root, *path, SEED_SALT])``'s first word, folded
    to ``0..MAX_SEED``.  Used for the k-th pooled draw ``(root, k)``, for
    replica ``r``'s layer ``l`` of a propagation stack ``(root, r, l)`` and for
    kernel ``l`` of ensemble member ``s`` ``(s, l)``.
    """
    import numpy as np

    if not any(int(p) for p in path):
        return int(root)
    state = np.random.SeedSequence([int(root), *(int(p) for p in path), SEED_SALT]).generate_state(
        1, dtype=np.uint32)
    return int(state[0]) & MAX_SEED


def pool_seeds(root: int) -> Iterator[int]:
    """The seeds of a case's pooled draws, in order: distinct, each in ``0..POOL_SEED_MAX``.

    Draw ``i`` takes ``derive_seed(root, i)`` (``root`` itself for ``i = 0``),
    unless that seed is above :data:`POOL_SEED_MAX` or already taken by an
    earlier draw; then the first of ``derive_seed(root, i, j)``, ``j = 1, 2,
    ...``, that is neither.  The sequence depends on ``root`` alone, so a pool
    can grow and a replay draws the same values.  Why: 31-bit hashes repeat
    within a pool of a few hundred draws with probability ~``draws^2 / 2^32``
    (1.6e-5 per case), and a repeated kernel adds thousands of exact ties,
    which the exact-tie checks would read as a generator with too few values.
    """
    taken: set[int] = set()
    for i in itertools.count():
        seed, j = derive_seed(root, i), 0
        while seed > POOL_SEED_MAX or seed in taken:
            j += 1
            seed = derive_seed(root, i, j)
        taken.add(seed)
        yield seed


#: Boundaries near which a seed fold's modulus lives: powers of two (truncation to 7, 8, 15, 16, 31, 32, 53, 63,
#: 64 bits, int32/int64 limits and neighbours such as Keras's ``2^31 - 2``) and powers of ten (``seed % 1000``).
SEED_BOUNDARIES: tuple[int, ...] = (2**7, 2**8, 2**15, 2**16, 2**31, 2**32, 2**53, 2**63, 2**64,
                                    10**2, 10**3, 10**4, 10**6, 10**9)
#: Multipliers ``m`` of the differences ``m * 2^k`` between designed seeds (``3 * 2^j`` needs none: it is the
#: difference of the designed seeds ``s + 2^j`` and ``s + 2^(j+2)``, and draws are compared set-wide).
SEED_MULTIPLIERS: tuple[int, ...] = (1, 10, 100, 1000)


def seed_design(seed: int, *, max_k: int = 63, window: int = 4) -> list[tuple[int, int, str]]:
    """Pairs of distinct seeds that a seed-mangling bug maps to the same draw, each with the bug it exposes.

    * ``(s, s + m 2^k)`` for ``k = 0..max_k`` and ``m`` in
      :data:`SEED_MULTIPLIERS`: truncation to ``k`` bits, a fold modulo
      ``m 2^k`` (``% 10``, ``% 1000``, ``& 0xFFFF``, a uint32 cast ...);
    * ``(s, -s)``, ``(-s - 1, s)``, ``(-1, 2^32 - 1)``, ``(-1, 2^64 - 1)``,
      ``(-2^63, 2^63 - 1)``: a dropped sign, a one's- or two's-complement
      reinterpretation, the extremes of int64;
    * for every boundary ``B`` of :data:`SEED_BOUNDARIES`: ``(j, B + j + d)``
      for ``0 <= j <= window`` and ``|d| <= window`` -- a fold modulo any
      ``M`` within ``window`` of ``B`` (Keras's ``2^31 - 2`` is one) -- and
      ``(B - 1, B)``, ``(B - 1, -1)``: the largest seed of a range against
      its neighbours.

    Seeds outside the initializer's documented range are part of the design
    on purpose: they must then raise a clear error
    (``check_seed_collisions``).  Draws are compared across the whole set,
    so any fold whose modulus divides the difference of two designed seeds
    is caught, not only the listed pairs.
    """
    s = int(seed)
    pairs: list[tuple[int, int, str]] = []
    for m in SEED_MULTIPLIERS:
        for k in range(max_k + 1):
            pairs.append((s, s + m * 2**k, f"fold modulo {m}*2^{k}" + (f" (truncation to {k} bits)" if m == 1 else "")))
    pairs += [(s, -s, "sign dropped (abs)"), (-s - 1, s, "one's complement / unsigned reinterpretation"),
              (-1, 2**32 - 1, "-1 read as uint32"), (-1, 2**64 - 1, "-1 read as uint64"),
              (-(2**63), 2**63 - 1, "the extremes of int64")]
    for b in SEED_BOUNDARIES:
        pairs += [(b - 1, b, f"largest seed below {b} against {b}"), (b - 1, -1, f"largest seed below {b} against -1")]
        for j in range(window + 1):
            for d in range(-window, window + 1):
                pairs.append((j, b + j + d, f"fold modulo {b + d} (boundary {b}{d:+d})"))
    out, seen = [], set()
    for a, b2, why in pairs:
        key = (min(a, b2), max(a, b2))
        if a != b2 and key not in seen:
            seen.add(key)
            out.append((key[0], key[1], why))
    return out


def seed_cases(spec: Any) -> Any:
    """``{"seed", "shape", "dtype"}`` for the designed-seed check: a root seed, a small shape, one dtype.

    The shape has at least 16 entries (two independent draws then agree with
    probability below ``(2^-6)^16`` even in bfloat16) at the spec's lowest
    rank; float32 or float64 first when the spec has them.  Root seeds start
    at 1 (the pair ``(s, -s)`` needs ``s != 0``).
    """
    from hypothesis import strategies as st

    rank = min(spec.ranks)
    side = max(spec.min_size, math.ceil(16 ** (1.0 / rank)))
    dtypes = sorted(spec.dtypes, key=lambda d: (d not in ("float32", "float64"), d))
    return st.fixed_dictionaries({"seed": st.integers(1, MAX_SEED), "shape": st.just([side] * rank),
                                  "dtype": st.sampled_from(dtypes)})


def seeds() -> Any:
    """Seeds including 0 and large values."""
    from hypothesis import strategies as st

    return st.one_of(st.just(0), st.integers(1, 1000), st.integers(0, MAX_SEED))


def kernel_shapes(ranks: Sequence[int], min_size: int = 1, max_size: int = 300,
                  max_elements: int = 1 << 16) -> Any:
    """Kernel shapes of the given ranks, sizes ``min_size..max_size``, product capped."""
    from hypothesis import strategies as st

    @st.composite
    def shapes(draw: Any) -> tuple[int, ...]:
        rank = draw(st.sampled_from(sorted(ranks)))
        dims: list[int] = []
        for i in range(rank):
            left = rank - i - 1
            room = max_elements // (math.prod(dims) * min_size ** left) if dims else max_elements // (min_size ** left)
            hi = max(min_size, min(max_size, room))
            dims.append(draw(st.integers(min_size, hi)))
        return tuple(dims)

    return shapes()


def initializer_cases(spec: Any, max_elements: int = 1 << 16, min_size: Optional[int] = None) -> Any:
    """``{"shape", "dtype", "seed"}`` for an initializer spec."""
    from hypothesis import strategies as st

    ms = max(spec.min_size, min_size or 1)
    return st.fixed_dictionaries({
        "shape": kernel_shapes(spec.ranks, min_size=ms, max_elements=max_elements).map(list),
        "dtype": st.sampled_from(list(spec.dtypes)),
        "seed": seeds(),
    })


def big_kernel_cases(spec: Any, dtypes: Sequence[str], min_log2: int = 15, max_log2: int = 18) -> Any:
    """Cases whose kernels hold ``2^min_log2 .. 2^max_log2`` values, ranks from ``spec.ranks``.

    Large kernels keep the number of pooled initializer calls small (each
    call costs milliseconds in Keras); the leading (receptive-field) axes
    stay small like real conv kernels, the last two carry the size.
    """
    from hypothesis import strategies as st

    ms = max(1, spec.min_size)

    @st.composite
    def shapes(draw: Any) -> list[int]:
        rank = draw(st.sampled_from(sorted(spec.ranks)))
        total = 2 ** draw(st.integers(min_log2, max_log2))
        if rank == 1:
            return [max(ms, total)]
        dims = [draw(st.integers(ms, max(ms, 5))) for _ in range(rank - 2)]
        lead = math.prod(dims)
        a = draw(st.integers(ms, max(ms, 512)))
        b = max(ms, math.ceil(total / (lead * a)))
        return dims + [a, b]

    return st.fixed_dictionaries({"shape": shapes(), "dtype": st.sampled_from(list(dtypes)), "seed": seeds()})


# --------------------------------------------------------------------------- optimizers

#: Largest beta a float32 case uses for rules with bias corrections.
FLOAT32_BETA_CAP = 0.9990000128746033  # float32(0.999)
#: Largest number of entries of one variable in an optimizer case.
MAX_ELEMENTS = 24


def _variable_shapes(min_rank: int) -> Any:
    from hypothesis import strategies as st

    return st.integers(min_rank, 3).flatmap(
        lambda r: st.lists(st.integers(1, 4), min_size=r, max_size=r)).filter(
        lambda s: math.prod(s) <= MAX_ELEMENTS)


def optimizer_cases(spec: Any, *, steps: int = 5, n_vars: tuple[int, int] = (1, 2),
                    extra: Optional[Mapping[str, Any]] = None, hp: Optional[Mapping[str, Any]] = None,
                    dtypes: Optional[Sequence[str]] = None) -> Any:
    """Cases ``{"shapes", "dtype", "seed", "grad_scale", "lr", "hp", "steps", ...}``.

    Gradients are drawn from ``seed`` (varied per coordinate and per step,
    with scales spanning 1e-3..1e2 and some exact zeros), so a case is small
    JSON that replays exactly.  ``extra`` adds fields (a strategy or a
    constant); ``hp`` overrides hyperparameters of the spec's space.
    """
    from hypothesis import strategies as st

    fields = {
        "shapes": st.lists(_variable_shapes(spec.min_rank), min_size=n_vars[0], max_size=n_vars[1]),
        "dtype": st.sampled_from(list(dtypes or spec.dtypes)),
        "seed": st.integers(0, MAX_SEED),
        "grad_scale": st.sampled_from([1e-3, 0.1, 1.0, 10.0, 100.0]),
        "lr": spec.learning_rate_strategy(),
        "hp": spec.hyperparameter_strategy(hp),
        "steps": st.just(steps),
    }
    for key, value in dict(extra or {}).items():
        fields[key] = value if isinstance(value, st.SearchStrategy) else st.just(value)
    return st.fixed_dictionaries(fields).map(lambda c: _cap_float32_betas(spec, c))


def _cap_float32_betas(spec: Any, case: dict) -> dict:
    """In float32, cap ``beta_1``/``beta_2`` at 0.999 for rules with ``1 - beta^t`` corrections.

    ``1 - beta^t`` loses ``log10(1 / (1 - beta))`` of float32's ~7 digits to
    cancellation: at beta = 0.9999 the correction carries a ~1e-3 relative
    error that no implementation can avoid, so such cases test the dtype, not
    the rule.  float64 cases keep betas up to 0.9999.
    """
    if case["dtype"] != "float32" or not spec.rule.uses_step_count:
        return case
    hp = dict(case["hp"])
    for key in ("beta_1", "beta_2"):
        if isinstance(hp.get(key), float) and hp[key] > FLOAT32_BETA_CAP:
            hp[key] = FLOAT32_BETA_CAP
    return dict(case, hp=hp)


def unit_interval(lo: float = 0.0, hi: float = 0.9999) -> Any:
    """Decay rates in ``{lo} U [max(lo, 1e-3), hi]``, the extremes near 0 and near 1 drawn often.

    Values in ``(0, 1e-3)`` are left out: Keras writes the moment updates in
    the incremental form ``m += (g - m) * (1 - beta)``, which for such betas
    cancels catastrophically in float32 (a zero gradient leaves a one-ulp
    residue ~6e-8 * v instead of ``beta * v``); that is a property of the
    algebraic form in float32, not of the rule, and would drown the checks.
    """
    from hypothesis import strategies as st

    from .dtypes import float32_exact

    floor = max(lo, 1e-3)
    edges = [v for v in (lo, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, hi) if lo <= v <= hi]
    return st.one_of(st.sampled_from(edges), st.floats(floor, hi)).map(float32_exact)


def epsilons(lo: float = 1e-8, hi: float = 10.0) -> Any:
    """Epsilons from ``lo`` to ``hi``, log-uniform, large ones included.

    A large epsilon is what makes a misplaced epsilon visible: at 1e-7 an
    epsilon inside instead of outside the root moves a 5-step trajectory by
    less than 1e-6.
    """
    from hypothesis import strategies as st

    from .dtypes import float32_exact

    return st.one_of(st.sampled_from([lo, 1e-3, 0.1, 1.0, hi]),
                     st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)).map(float32_exact)


def learning_rates(lo: float = 1e-4, hi: float = 0.5) -> Any:
    """Learning rates, log-uniform in ``[lo, hi]``."""
    from hypothesis import strategies as st

    from .dtypes import float32_exact

    return st.one_of(st.sampled_from([lo, 0.01, hi]),
                     st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)).map(float32_exact)
