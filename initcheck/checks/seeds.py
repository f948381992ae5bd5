"""Seeds by design: distinct seeds give distinct draws, and seeds outside the documented range fail clearly.

``check_seed_contract`` compares a few drawn seeds (same seed same values,
seed 0 honoured, neighbours differ).  A seed folded modulo a number,
truncated to 8, 16 or 32 bits, or stripped of its sign passes it unless
Hypothesis happens to draw a colliding pair.  ``check_seed_collisions``
draws the pairs such bugs collide on (:func:`initcheck.strategies.seed_design`:
``s`` and ``s + m 2^k`` for ``k <= 63`` and ``m`` in 1, 10, 100, 1000;
``s`` and ``-s``; moduli within 4 of the powers of two and ten; the largest
seeds of each integer range) and compares every drawn seed with every other.

What a seed may do is the spec's declaration (``seed_range``): with a range,
the seeds in it must each draw their own values and every other integer must
raise ``ValueError``, ``TypeError`` or ``OverflowError``; without one, every
integer may do either, and initcheck's own seeds (``0 .. 2**31 - 1``) must
draw.  A NumPy integer seed must draw what the same Python int draws, or
raise such an error.

Error rates: deterministic.  Two independent draws of 16 or more entries
agree with probability below ``(2^-6)^16 = 8e-29`` even in bfloat16 (under
``1e-23`` over the ~130 000 pairs of one case), the argument of
``check_seed_contract``; a collision is never a chance event.  Caught for
certain: a fold modulo any ``M`` that divides the difference of two designed
seeds (truncation to ``k <= 63`` bits, ``m 2^k``, any ``M`` within 4 of a
boundary), a dropped sign, a uint32/uint64 reinterpretation.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from .. import stats
from ..strategies import MAX_SEED, seed_cases, seed_design
from . import register_check
from ._sampling import draw_kernel
from .evidence import CheckFailure, Evidence, fail, ok

__all__ = ["check_seed_collisions", "CLEAR_ERRORS", "NUMPY_SEED_TYPES"]

#: What a seed the initializer does not accept must raise.
CLEAR_ERRORS = (ValueError, TypeError, OverflowError)
#: NumPy integer types a seed may arrive as (from a config file, an array, a loop over np.arange).
NUMPY_SEED_TYPES = (np.int64, np.int32, np.uint32, np.uint64)


def _fingerprint(spec: Any, case: dict, seed: Any) -> tuple[Optional[bytes], Optional[BaseException]]:
    """The drawn values' bytes, or the exception the seed raised."""
    try:
        values = draw_kernel(spec, tuple(case["shape"]), case["dtype"], seed)
    except CheckFailure:
        raise
    except Exception as exc:  # classified by the caller
        return None, exc
    return np.ascontiguousarray(values).tobytes(), None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"


def _draw_all(spec: Any, case: dict, seeds: list[int]) -> tuple[dict[bytes, list[int]], dict[int, BaseException]]:
    """Every seed drawn once: the seeds grouped by identical draws, and the exceptions of those that raised."""
    drawn: dict[bytes, list[int]] = {}
    raised: dict[int, BaseException] = {}
    for seed in seeds:
        finger, exc = _fingerprint(spec, case, seed)
        if exc is not None:
            raised[seed] = exc
        else:
            drawn.setdefault(finger, []).append(seed)
    return drawn, raised


def _collisions(drawn: dict[bytes, list[int]], design: list[tuple[int, int, str]]) -> list[list[Any]]:
    """``[a, b, why]`` for every pair of seeds with identical draws, the designed pairs first."""
    why = {(a, b): reason for a, b, reason in design}
    pairs = [[a, b, why.get((a, b), f"difference {b - a} (set-wide comparison)")]
             for group in (sorted(g) for g in drawn.values() if len(g) > 1)
             for i, a in enumerate(group) for b in group[i + 1:]]
    return sorted(pairs, key=lambda p: ((p[0], p[1]) not in why, abs(p[0]) + abs(p[1])))


def _numpy_seeds(spec: Any, case: dict, root: int) -> tuple[dict[str, str], list[str]]:
    """What each NumPy integer type of ``root`` does, and the types that neither match the int nor raise clearly."""
    reference = _fingerprint(spec, case, root)[0]
    report, bad = {}, []
    for kind in NUMPY_SEED_TYPES:
        finger, exc = _fingerprint(spec, case, kind(root))
        report[kind.__name__] = ("same as the Python int" if finger == reference else
                                 "DIFFERENT from the Python int" if exc is None else f"raises {_describe(exc)}")
        if (exc is None and finger != reference) or (exc is not None and not isinstance(exc, CLEAR_ERRORS)):
            bad.append(kind.__name__)
    return report, bad


@register_check(kind="initializer", family="structural", applies=lambda s: s.has("seeded"), strategy=seed_cases,
                examples=1)
def check_seed_collisions(spec: Any, case: dict) -> Evidence:
    """Designed pairs of distinct seeds draw distinct values; undocumented seeds raise a clear error."""
    root = int(case["seed"])
    design = seed_design(root)
    declared = getattr(spec, "seed_range", None)
    lo, hi = declared if declared is not None else (0, MAX_SEED)
    where = "the declared seed_range" if declared is not None else "initcheck's seed range"
    drawn, raised = _draw_all(spec, case, sorted({s for a, b, _ in design for s in (a, b)}))
    collisions = _collisions(drawn, design)
    modulus = math.gcd(*(b - a for a, b, _ in collisions)) if collisions else 0
    numpy_seeds, numpy_bad = _numpy_seeds(spec, case, root)
    clear = ", ".join(e.__name__ for e in CLEAR_ERRORS)
    inside_raised = {s: _describe(e) for s, e in raised.items() if lo <= s <= hi}
    unclear = {s: _describe(e) for s, e in raised.items() if not isinstance(e, CLEAR_ERRORS)}
    outside_drawn = [s for g in drawn.values() for s in g if not lo <= s <= hi] if declared is not None else []

    n_seeds = sum(len(g) for g in drawn.values()) + len(raised)
    result = stats.TestResult(
        "designed_seed_collisions", float(len(collisions)), 0.0, not collisions, n_seeds, 0.0, 0.0, 1.0,
        "colliding pairs among the designed seeds (any fold whose modulus divides a designed difference)",
        observed={"collisions": collisions[:12], "colliding_pairs": len(collisions), "gcd_of_differences": modulus},
        expected={"colliding_pairs": 0})
    data = {"tests": [result.to_dict()], "seeds_designed": n_seeds, "seeds_raising": len(raised),
            "seed_range": list(declared) if declared is not None else
            f"undeclared: any integer draws or raises {clear}; 0 .. {MAX_SEED} draw",
            "numpy_seeds": numpy_seeds, "raised_examples": {str(s): _describe(e) for s, e in list(raised.items())[:4]}}
    problems = [
        (collisions, lambda: f"{len(collisions)} pair(s) of distinct seeds draw identical values, e.g. "
                             f"{collisions[0][0]} and {collisions[0][1]} ({collisions[0][2]}); every colliding pair "
                             f"differs by a multiple of {modulus}"),
        (inside_raised, lambda: f"{len(inside_raised)} seed(s) in {where} [{lo}, {hi}] raised, e.g. "
                                f"{next(iter(inside_raised.items()))}"),
        (unclear, lambda: f"{len(unclear)} seed(s) raised something other than {clear}, e.g. "
                          f"{next(iter(unclear.items()))}"),
        (outside_drawn, lambda: f"{len(outside_drawn)} seed(s) outside {where} [{lo}, {hi}] were accepted silently, "
                                f"e.g. {outside_drawn[:3]}"),
        (numpy_bad, lambda: f"NumPy integer seeds ({', '.join(numpy_bad)}) neither draw what the Python int draws "
                            f"nor raise a clear error: {numpy_seeds}"),
    ]
    found = [message() for present, message in problems if present]
    if found:
        raise fail("; ".join(found), case, **data, raised_inside_range=dict(list(inside_raised.items())[:4]),
                   unclear_errors=dict(list(unclear.items())[:4]), accepted_outside_range=outside_drawn[:8])
    return ok(f"{n_seeds - len(raised)} designed seeds drew pairwise distinct values; {len(raised)} raised {clear}; "
              "NumPy integer seeds draw like Python ints or raise", case, **data)
