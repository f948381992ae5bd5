"""The power table: each named wrong initializer is caught by the default gate.

Every row pairs a spec whose law is the *correct* one with a deliberately
wrong sampler (a test double written in NumPy), names the check that must
catch it, and asserts two things:

* by design -- the double's discrepancy is at least the smallest discrepancy
  the check is sure (probability >= 1 - beta = 1 - 1e-6) to catch at the
  sample size it used, read from the check's own evidence;
* in practice -- the check raises :class:`CheckFailure` on it, for every one
  of ``SEEDS`` case seeds (the measured detection rate is printed).

The correct sampler passes the same check on the same cases (a test that
cannot fail is a defect).  The table is printed with ``-s`` and written to
``$INITCHECK_POWER_TABLE`` when that is set.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from scipy import stats as st

from initcheck import stats
from initcheck.checks import distribution as dist
from initcheck.checks import structured
from initcheck.evidence import CheckFailure
from initcheck.fans import Fans, keras_fans
from initcheck.laws import Law, Normal, Orthogonal, TruncatedNormal, Uniform, truncated_normal_std_ratio
from initcheck.spec import InitializerSpec

#: Case seeds per row in the default gate; ``-m slow`` measures the detection rate over more.
SEEDS = (0,)
SLOW_SEEDS = tuple(range(1, 11))


# --------------------------------------------------------------------------- NumPy test doubles

def cast(x: np.ndarray, dtype: str | None) -> np.ndarray:
    """Round float64 values to ``dtype`` (to nearest), bfloat16 through ml_dtypes."""
    dtype = dtype or "float32"
    if dtype == "bfloat16":
        import ml_dtypes

        return x.astype(np.float32).astype(ml_dtypes.bfloat16)
    return x.astype(dtype)


Sampler = Callable[[np.random.Generator, tuple, Law, Fans], np.ndarray]


def np_spec(name: str, law: Any, sampler: Sampler, *, structured_law: bool = False,
            dtypes: tuple[str, ...] = ("float32", "float64"), ranks: tuple[int, ...] = (1, 2, 3, 4, 5)) -> InitializerSpec:
    """A spec promising ``law`` whose initializer draws with ``sampler`` (plain ``init(shape, dtype=None)``)."""
    def factory(seed: Any) -> Callable:
        def init(shape: Any, dtype: Any = None) -> np.ndarray:
            shape = tuple(int(s) for s in shape)
            rng = np.random.default_rng(seed)
            spec_law = law if isinstance(law, Law) else law(shape, keras_fans(shape))
            # Keras 3 passes a dtype name, tf.keras 2 a tf.DType (whose str is "<dtype: 'float32'>").
            name = str(getattr(dtype, "name", dtype)) if dtype else None
            return cast(sampler(rng, shape, spec_law, keras_fans(shape)), name)

        return init

    tags = frozenset({"structured", "seeded"}) if structured_law else frozenset({"iid", "seeded"})
    return InitializerSpec(name=name, factory=factory, law=law, tags=tags, dtypes=dtypes, ranks=ranks,
                           namespace="doubles")


def _truncated(rng: np.random.Generator, shape: tuple, std: float, cut: float, loc: float = 0.0) -> np.ndarray:
    """Rejection sampling: exact and much faster than inverse-CDF ``truncnorm.rvs``."""
    size = math.prod(shape)
    out = np.empty(0)
    while out.size < size:
        z = rng.standard_normal(int(size * 1.1) + 16)
        out = np.concatenate([out, z[np.abs(z) <= cut]])
    return loc + std * out[:size].reshape(shape)


def exact(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """The correct sampler: the law itself."""
    if isinstance(law, Normal):
        return law.loc + law.std * rng.standard_normal(shape)
    if isinstance(law, TruncatedNormal):
        return _truncated(rng, shape, law.std, law.cut, law.loc)
    if isinstance(law, Uniform):
        return rng.uniform(law.low, law.high, size=shape)
    return np.asarray(law.dist().rvs(size=shape, random_state=rng), dtype=np.float64)


def normal_fan_law(scale: float, mode: str) -> Callable[[tuple, Fans], Law]:
    def law(shape: tuple, fans: Fans) -> Law:
        return Normal(std=math.sqrt(scale / fans.get(mode)))

    return law


def truncated_fan_law(scale: float, mode: str) -> Callable[[tuple, Fans], Law]:
    def law(shape: tuple, fans: Fans) -> Law:
        return TruncatedNormal.with_variance(scale / fans.get(mode), cut=2.0)

    return law


def orthogonal_law(gain: float) -> Callable[[tuple, Fans], Law]:
    def law(shape: tuple, fans: Fans) -> Law:
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        return Orthogonal(gain=gain, rows=rows, cols=shape[-1])

    return law


def haar_sampler(sign_fix: bool) -> Sampler:
    """Orthogonal via QR of a Gaussian matrix, with or without Mezzadri's sign correction."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        if sign_fix:
            q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return law.gain * q.reshape(shape)

    return sampler


def scaled(factor: float) -> Sampler:
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return law.mean() + factor * (exact(rng, shape, law, fans) - law.mean())

    return sampler


def shifted(shift_in_std: float) -> Sampler:
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return exact(rng, shape, law, fans) + shift_in_std * math.sqrt(law.variance())

    return sampler


def uniform_same_variance(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    limit = math.sqrt(3 * law.variance())
    return rng.uniform(-limit, limit, size=shape) + law.mean()


def truncated_at(cut: float) -> Sampler:
    """Truncated normal cut at ``cut`` sigma with the law's variance (the law is cut at 2)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        s = math.sqrt(law.variance()) / truncated_normal_std_ratio(cut)
        return _truncated(rng, shape, s, cut)

    return sampler


def no_truncation_correction(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """tf.random.truncated_normal(stddev=sqrt(var)) without dividing by 0.8796."""
    return _truncated(rng, shape, math.sqrt(law.variance()), 2.0)


def fans_swapped(scale: float, mode: str) -> Sampler:
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        wrong = Fans(fans.fan_out, fans.fan_in)
        return rng.standard_normal(shape) * math.sqrt(scale / wrong.get(mode))

    return sampler


def receptive_field_ignored(scale: float) -> Sampler:
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return rng.standard_normal(shape) * math.sqrt(scale / shape[-2])

    return sampler


def corrupted(rate: float, mode: str) -> Sampler:
    """Replace a fraction ``rate`` of values by the support edge (``clamp``) or 1.5x beyond it (``escape``)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        x = exact(rng, shape, law, fans)
        hit = rng.random(shape) < rate
        edge = law.support()[1]
        sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
        x[hit] = (sign * edge * (1.0 if mode == "clamp" else 1.5))[hit]
        return x

    return sampler


def rows_correlated(rho: float) -> Sampler:
    """Right N(0, s^2) marginal, but every pair of rows has correlation ``rho`` (a shared component)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        s = math.sqrt(law.variance())
        common = rng.standard_normal((1,) + shape[1:])
        own = rng.standard_normal(shape)
        return s * (math.sqrt(rho) * common + math.sqrt(1 - rho) * own)

    return sampler


# --------------------------------------------------------------------------- the table

def sup_cdf_distance(a: Any, b: Any) -> float:
    """``sup_x |F_a(x) - F_b(x)|`` on a fine grid (the discrepancy a KS test sees)."""
    x = np.linspace(-6, 6, 400_001)
    return float(np.abs(a.cdf(x) - b.cdf(x)).max())


@dataclass(frozen=True)
class Row:
    name: str
    law: Any
    wrong: Sampler
    check: Callable
    case: dict
    discrepancy: float           # the double's discrepancy, in the unit of the check's evidence
    test_index: int = 0          # which sub-test of the evidence states the smallest detectable
    structured_law: bool = False


STD = 0.05
NORMAL = Normal(std=STD)
TRUNC = TruncatedNormal.with_variance(STD ** 2)
UNIF = Uniform.symmetric(math.sqrt(3) * STD)
BIG = [256, 512]

ROWS = [
    Row("std off by +1%", NORMAL, scaled(1.01), dist.check_variance, {"shape": BIG, "dtype": "float32"},
        1.01 ** 2 - 1),
    Row("std off by -1%", NORMAL, scaled(0.99), dist.check_variance, {"shape": BIG, "dtype": "float32"},
        1 - 0.99 ** 2),
    Row("fan_in/fan_out swapped (64 x 1024)", normal_fan_law(2.0, "fan_in"), fans_swapped(2.0, "fan_in"),
        dist.check_variance, {"shape": [64, 1024], "dtype": "float32"}, 1 - 64 / 1024),
    Row("missing truncated-normal correction (x0.8796)", truncated_fan_law(1.0, "fan_avg"),
        no_truncation_correction, dist.check_variance, {"shape": BIG, "dtype": "float32"},
        1 - truncated_normal_std_ratio(2.0) ** 2),
    Row("uniform instead of normal, equal variance", NORMAL, uniform_same_variance, dist.check_law_fit,
        {"shape": BIG, "dtype": "float32"},
        sup_cdf_distance(st.norm(), st.uniform(-math.sqrt(3), 2 * math.sqrt(3)))),
    Row("truncation at +-3 sigma instead of +-2 sigma", TRUNC, truncated_at(3.0), dist.check_law_fit,
        {"shape": BIG, "dtype": "float32"},
        sup_cdf_distance(st.truncnorm(-2, 2, scale=1 / truncated_normal_std_ratio(2)),
                         st.truncnorm(-3, 3, scale=1 / truncated_normal_std_ratio(3)))),
    Row("mean shifted by 0.01 sigma", NORMAL, shifted(0.01), dist.check_mean, {"shape": BIG, "dtype": "float32"},
        0.01),
    Row("5 per million clamped to the support edge (uniform)", UNIF, corrupted(5e-6, "clamp"), dist.check_tails,
        {"shape": BIG, "dtype": "float32"}, 5e-6),
    Row("5 per million clamped to the support edge (truncated normal)", TRUNC, corrupted(5e-6, "clamp"),
        dist.check_tails, {"shape": BIG, "dtype": "float32"}, 5e-6),
    Row("5 per million escaped beyond the support", TRUNC, corrupted(5e-6, "escape"), dist.check_support,
        {"shape": BIG, "dtype": "float32"}, 5e-6),
    Row("receptive field ignored (conv 3x3x64x128)", normal_fan_law(2.0, "fan_in"), receptive_field_ignored(2.0),
        dist.check_variance, {"shape": [3, 3, 64, 128], "dtype": "float32"}, 8.0),
    Row("orthogonal without the sign correction (not Haar)", orthogonal_law(1.0), haar_sampler(False),
        structured.check_haar, {"shape": [16, 8], "dtype": "float32"}, 0.5, structured_law=True),
    Row("right marginal, rows correlated (rho = 0.05)", NORMAL, rows_correlated(0.05), dist.check_independence,
        {"shape": BIG, "dtype": "float32"}, 0.05),
]

_RECORD: list[dict] = []


def _smallest(evidence: Any, row: Row) -> tuple[float, int]:
    tests = evidence.data["tests"]
    t = tests[row.test_index]
    return float(t["smallest_detectable"]), int(t["n"])


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_wrong_initializer_is_caught(row: Row) -> None:
    _run_row(row, SEEDS, record=True)


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_detection_rate_over_seeds(row: Row) -> None:
    """On demand: every row is caught for each of ten more case seeds."""
    _run_row(row, SLOW_SEEDS, record=False)


def _run_row(row: Row, seeds: tuple[int, ...], record: bool) -> None:
    stats.reset()
    wrong = np_spec("wrong", row.law, row.wrong, structured_law=row.structured_law, ranks=(2, 3, 4))
    right = np_spec("right", row.law, haar_sampler(True) if row.structured_law else exact,
                    structured_law=row.structured_law, ranks=(2, 3, 4))
    caught = 0
    smallest = n = None
    for seed in seeds:
        case = {**row.case, "seed": seed}
        dist.clear_cache()
        with pytest.raises(CheckFailure) as info:
            row.check(wrong, case)
        ev = info.value.evidence
        assert ev.data.get("tests"), "a failure must carry the statistic, threshold and n"
        caught += 1
        if smallest is None and "smallest_detectable" in ev.data["tests"][row.test_index]:
            smallest, n = _smallest(ev, row)
    # The correct initializer passes the same check on the same case.
    dist.clear_cache()
    ok = row.check(right, {**row.case, "seed": seeds[0]})
    assert ok.passed
    smallest_ok, n_ok = _smallest(ok, row)
    if row.check is structured.check_haar:
        # KS on entry (0, 0): the unsigned QR puts all its mass on one sign -> sup distance 0.5.
        assert row.discrepancy >= smallest_ok
    else:
        assert row.discrepancy >= smallest_ok, (
            f"{row.name}: discrepancy {row.discrepancy} below the guaranteed {smallest_ok} at n={n_ok}")
    print(f"\n{row.name}: caught {caught}/{len(seeds)}")
    if not record:
        return
    _RECORD.append({"wrong initializer": row.name, "check": row.check.__name__, "n": n_ok,
                    "discrepancy": row.discrepancy, "smallest detectable (1-beta)": smallest_ok,
                    "design false-pass": stats.budget().beta, "alpha": stats.budget().alpha,
                    "caught": f"{caught}/{len(seeds)}"})


def test_power_table_is_complete_and_recorded() -> None:
    """Runs last in this module: prints the table, writes it where asked."""
    if len(_RECORD) < len(ROWS):
        pytest.skip("run the whole module to assemble the table")
    lines = [f"{'wrong initializer':58s} {'check':22s} {'n':>9s} {'discrep.':>9s} {'detect>=':>9s} caught"]
    for r in _RECORD:
        lines.append(f"{r['wrong initializer']:58s} {r['check']:22s} {r['n']:9d} {r['discrepancy']:9.3g} "
                     f"{r['smallest detectable (1-beta)']:9.3g} {r['caught']}")
    print("\n" + "\n".join(lines))
    out = os.environ.get("INITCHECK_POWER_TABLE")
    if out:
        with open(out, "w") as fh:
            json.dump(_RECORD, fh, indent=1)
    assert all(r["caught"] == f"{len(SEEDS)}/{len(SEEDS)}" for r in _RECORD)
