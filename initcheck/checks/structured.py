"""Structured-law checks: orthogonality, Haar uniformity, and the spectrum of i.i.d. kernels.

* ``check_orthogonality``: ``Q^T Q =
  gain^2 I`` in the right orientation (``Q Q^T`` when the flattened kernel
  ``(prod(shape[:-1]), shape[-1])`` is wide), to a floating-point tolerance
  set by the dtype.  Deterministic: no error budget.
* ``check_haar``: the draws are Haar distributed, not merely orthogonal.  For
  a Haar ``m x k`` (``m >= k``) matrix every column is uniform on the sphere,
  so a single entry ``q`` has the *exact* law ``(q + 1)/2 ~ Beta((m-1)/2,
  (m-1)/2)`` (which tends to ``N(0, 1/m)``), and so has ``1^T Q 1 /
  sqrt(k m)`` (``Q 1`` is uniform on the sphere of radius ``sqrt(k)``), which
  also checks the zero mean; and the sign of the determinant of the top
  ``k x k`` block is +-1 with probability 1/2 each (Haar measure is invariant
  under flipping a column).  A QR-based orthogonal without the sign
  correction of Mezzadri (2007, "How to generate random matrices from the
  classical compact groups") fails all three.
* ``check_haar_rotation_angle``: for 2 x 2 kernels, the rotation angle
  ``atan2(q10, q00)`` is uniform on ``(-pi, pi]``.
* ``check_spectrum``: the eigenvalues of ``W^T W`` of an i.i.d. kernel follow
  Marchenko-Pastur for the law's variance and aspect ratio.  Its first moment
  is the variance (``check_variance``); its second moment ``tr((W^T W)^2)``
  has the exact finite-size expectation ``k m [(k - 1) s^4 + mu_4 + (m - 1)
  s^4]`` for centred entries with variance ``s^2`` and fourth moment
  ``mu_4``; it is tested over independent draws (studentised).  The edges
  are only reported: at finite size they are loose.

Identity and constant initializers are checked exactly by the structural
family's ``check_exact_values``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as _st

from .. import stats
from ..dtypes import UNIT_ROUNDOFF
from ..laws import Orthogonal
from ..strategies import derive_seed, seeds
from . import register_check
from ._sampling import draw_kernel
from .distribution import law_at
from .evidence import Evidence, fail, ok
from .figure_data import ecdf_panels, gram_summary

__all__ = ["check_orthogonality", "check_haar", "check_haar_rotation_angle",
           "check_spectrum", "HAAR_DRAWS", "SPECTRUM_DRAWS", "orthogonality_tolerance", "flatten_kernel"]

#: Independent draws for the Haar tests: at alpha/3 = 1.7e-11 and beta = 1e-6
#: the DKWM test then catches a sup-distance >= 0.44 (a sign-biased entry
#: has 0.5) and the sign test any P(det > 0) outside ~[0.2, 0.8].
HAAR_DRAWS = 200
#: Independent draws for the spectrum test.
SPECTRUM_DRAWS = 100


def flatten_kernel(w: np.ndarray) -> np.ndarray:
    """``(prod(shape[:-1]), shape[-1])``: the Keras documentation's convention for Orthogonal."""
    if w.ndim == 1:
        return w.reshape(1, -1)
    return w.reshape(-1, w.shape[-1])


def orthogonality_tolerance(rows: int, cols: int, dtype: str, gain: float) -> float:
    """Tolerance on ``max |G - gain^2 I|``: ``gain^2 (10 sqrt(max(rows, cols)) + 4) u``.

    Householder QR is backward stable; its rounding errors grow like the
    square root of the dimension in practice (Higham, *Accuracy and
    Stability of Numerical Algorithms*, 2nd ed., Sec. 19.3 and 2.8), and
    rounding the result to the dtype adds ``2u`` per Gram entry (columns
    have unit norm).  A wrong orthogonal is off by O(1).
    """
    u = UNIT_ROUNDOFF[dtype]
    return gain ** 2 * (10.0 * math.sqrt(max(rows, cols)) + 4.0) * u


def _is_orthogonal(spec: Any) -> bool:
    if not spec.has("structured"):
        return False
    rank = min(spec.ranks, key=lambda r: abs(r - 2))
    try:
        law = spec.law_for(tuple([3 + i for i in range(rank)]))
    except Exception:
        return False
    return isinstance(law, Orthogonal)


def _small_shapes(spec: Any, max_side: int) -> Any:
    from hypothesis import strategies as st

    ms = max(1, spec.min_size)

    @st.composite
    def shapes(draw: Any) -> list[int]:
        rank = draw(st.sampled_from(sorted(spec.ranks)))
        dims = [draw(st.integers(ms, max(ms, 3))) for _ in range(max(0, rank - 2))]
        lead = math.prod(dims)
        if rank == 1:
            return [draw(st.integers(max(ms, 2), max_side))]
        rows = draw(st.integers(max(ms, 1), max(ms, max_side // lead)))
        cols = draw(st.integers(max(ms, 1), max_side))
        return dims + [rows, cols]

    return shapes()


def _ortho_cases(spec: Any) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"shape": _small_shapes(spec, 96), "dtype": st.sampled_from(list(spec.dtypes)),
                                  "seed": seeds()})


def _preferred_dtype(spec: Any) -> str:
    """float32 when the spec promises it (the Haar tests are about the law, not rounding), else its first dtype."""
    return "float32" if "float32" in spec.dtypes else spec.dtypes[0]


@register_check(kind="initializer", family="structured", applies=_is_orthogonal, strategy=_ortho_cases, examples=5)
def check_orthogonality(spec: Any, case: dict) -> Evidence:
    """The flattened kernel is gain times a (semi-)orthogonal matrix, in the right orientation."""
    shape = tuple(int(s) for s in case["shape"])
    dtype = case["dtype"]
    law = law_at(spec, shape)
    gain = float(law.gain)
    w = flatten_kernel(draw_kernel(spec, shape, dtype, case["seed"]).astype(np.float64))
    rows, cols = w.shape
    gram = w.T @ w if rows >= cols else w @ w.T
    orientation = "Q^T Q (rows >= cols)" if rows >= cols else "Q Q^T (rows < cols)"
    err = float(np.abs(gram - gain ** 2 * np.eye(gram.shape[0])).max())
    tol = orthogonality_tolerance(rows, cols, dtype, gain)
    data = {"orientation": orientation, "flattened": [rows, cols], "max_abs_error": err, "tolerance": tol,
            "gain": gain, "law": str(law), "observed_gram_diag_range": [float(np.diag(gram).min()),
                                                                        float(np.diag(gram).max())],
            "figure": gram_summary(gram, gain, tol)}
    if not err <= tol:
        raise fail(f"{orientation} deviates from gain^2 I = {gain ** 2:.6g} I by {err:.4g} > "
                   f"tolerance {tol:.3g} ({dtype})", case, **data)
    return ok(f"{orientation} = gain^2 I within {tol:.3g}", case, **data)


def _haar_cases(spec: Any) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"shape": _small_shapes(spec, 24), "dtype": st.just(_preferred_dtype(spec)),
                                  "seed": seeds()})


def _sphere_coordinate_law(m: int) -> Any:
    """Exact law of one coordinate of a uniform unit vector in R^m (m >= 2)."""
    a = (m - 1) / 2.0
    return _st.beta(a, a, loc=-1.0, scale=2.0)


def _sign_test(positive: int, total: int, alpha: float, beta: float, name: str) -> stats.TestResult:
    lo = int(_st.binom.ppf(alpha / 2, total, 0.5))
    hi = int(_st.binom.isf(alpha / 2, total, 0.5))
    within = lo <= positive <= hi
    stat = abs(positive - total / 2)
    return stats.TestResult(name, float(stat), float(max(total / 2 - lo, hi - total / 2)), within, total, alpha, beta,
                            float("nan"), "|P(sign > 0) - 1/2|",
                            observed={"positive": positive, "rate": positive / total,
                                      "rate_ci95": list(stats.binomial_ci(positive, total))},
                            expected={"rate": 0.5, "accept_counts": [lo, hi]})


def _haar_draws(spec: Any, shape: tuple, dtype: str, seed: int, draws: int) -> list[np.ndarray]:
    out = []
    for i in range(draws):
        w = flatten_kernel(draw_kernel(spec, shape, dtype, derive_seed(seed, i)).astype(np.float64))
        out.append(w if w.shape[0] >= w.shape[1] else w.T)
    return out


@register_check(kind="initializer", family="structured", applies=_is_orthogonal, strategy=_haar_cases,
                examples=2, statistical=True, depends_on=("check_orthogonality",))
def check_haar(spec: Any, case: dict) -> Evidence:
    """Orthogonal draws are Haar: exact entry law, zero-mean sums, balanced determinant signs."""
    shape = tuple(int(s) for s in case["shape"])
    law = law_at(spec, shape)
    gain = float(law.gain)
    b = stats.budget()
    qs = [q / gain for q in _haar_draws(spec, shape, case["dtype"], case["seed"], HAAR_DRAWS)]
    m, k = qs[0].shape
    a_each = b.alpha / 3
    results = []
    if m >= 2:
        coord = _sphere_coordinate_law(m)
        entry = np.array([q[0, 0] for q in qs])
        r1 = stats.ks_test(entry, coord.cdf, a_each, b.beta)
        r1.name = "dkwm_entry00_vs_beta_law"
        r1.observed.update({"mean": float(entry.mean()), "std": float(entry.std())})
        r1.expected.update({"law": f"(q+1)/2 ~ Beta({(m - 1) / 2}, {(m - 1) / 2})", "std": 1 / math.sqrt(m)})
        total = np.array([q.sum() / math.sqrt(k * m) for q in qs])
        r2 = stats.ks_test(total, coord.cdf, a_each, b.beta)
        r2.name = "dkwm_grand_sum_vs_beta_law"
        r2.observed.update({"mean": float(total.mean())})
        r2.expected.update({"mean": 0.0})
        results += [r1, r2]
    dets = np.array([np.linalg.det(q[:k, :k]) for q in qs])
    results.append(_sign_test(int((dets > 0).sum()), len(dets), a_each, b.beta, "determinant_sign_balance"))
    failed = [r for r in results if not r.passed]
    figure = ecdf_panels([("entry q00 vs its Beta law", entry, coord.cdf, r1.threshold),
                          ("grand sum vs its Beta law", total, coord.cdf, r2.threshold)]) if m >= 2 else None
    data = {"law": str(law), "tall_shape": [m, k], "draws": HAAR_DRAWS, "tests": [r.to_dict() for r in results],
            "figure": figure,
            "alpha_per_check": b.alpha, "budget_share": 1.0 / b.max_assertions,
            "seeds": {"case_seed": case["seed"], "draws": HAAR_DRAWS,
                      "seed_derivation": "derive_seed(case_seed, i)"}}
    if failed:
        r = failed[0]
        raise fail(f"not Haar: {r.name} statistic {r.statistic:.4g} > {r.threshold:.4g} over "
                   f"{HAAR_DRAWS} draws; observed {r.observed} expected {r.expected}", case, **data)
    return ok(f"Haar over {HAAR_DRAWS} draws", case, **data)


@register_check(kind="initializer", family="structured",
                applies=lambda s: _is_orthogonal(s) and 2 in s.ranks and s.min_size <= 2,
                strategy=lambda spec: __import__("hypothesis").strategies.fixed_dictionaries({"seed": seeds()}),
                examples=1, statistical=True, depends_on=("check_orthogonality",))
def check_haar_rotation_angle(spec: Any, case: dict) -> Evidence:
    """2 x 2 Haar draws: rotation angle uniform on (-pi, pi] and det signs balanced."""
    shape = (2, 2)
    law = law_at(spec, shape)
    b = stats.budget()
    qs = [q / float(law.gain) for q in
          _haar_draws(spec, shape, _preferred_dtype(spec), case["seed"], HAAR_DRAWS)]
    angle = np.array([math.atan2(q[1, 0], q[0, 0]) for q in qs])
    r1 = stats.ks_test(angle, _st.uniform(loc=-math.pi, scale=2 * math.pi).cdf, b.alpha / 2, b.beta)
    r1.name = "dkwm_rotation_angle_uniform"
    dets = np.array([np.linalg.det(q) for q in qs])
    r2 = _sign_test(int((dets > 0).sum()), len(dets), b.alpha / 2, b.beta, "determinant_sign_balance")
    data = {"law": str(law), "draws": HAAR_DRAWS, "tests": [r1.to_dict(), r2.to_dict()],
            "alpha_per_check": b.alpha, "budget_share": 1.0 / b.max_assertions,
            "figure": ecdf_panels([("rotation angle vs uniform(-π, π]", angle,
                                    _st.uniform(loc=-math.pi, scale=2 * math.pi).cdf, r1.threshold)])}
    for r in (r1, r2):
        if not r.passed:
            raise fail(f"2x2 draws not Haar: {r.name} {r.statistic:.4g} > {r.threshold:.4g}; "
                       f"observed {r.observed}", case, **data)
    return ok("2x2 rotation angle uniform", case, **data)


def _spectrum_cases(spec: Any) -> Any:
    from hypothesis import strategies as st

    dt = [d for d in spec.dtypes if d in ("float32", "float64")] or list(spec.dtypes)
    return st.fixed_dictionaries({"shape": _small_shapes(spec, 64), "dtype": st.sampled_from(dt), "seed": seeds()})


def spectral_second_moment(m: int, k: int, variance: float, kurtosis: float) -> float:
    """Exact ``E tr((W^T W)^2)`` for an ``m x k`` matrix of i.i.d. centred entries."""
    s4 = variance ** 2
    mu4 = (kurtosis + 3.0) * s4
    return k * m * ((k - 1) * s4 + mu4 + (m - 1) * s4)


@register_check(kind="initializer", family="structured", applies=lambda s: s.has("iid"),
                strategy=_spectrum_cases, examples=2, statistical=True)
def check_spectrum(spec: Any, case: dict) -> Evidence:
    """The second spectral moment of W^T W matches Marchenko-Pastur at finite size (exact mean)."""
    shape = tuple(int(s) for s in case["shape"])
    law = law_at(spec, shape)
    b = stats.budget()
    mu, var, kurt = law.mean(), law.variance(), law.excess_kurtosis()
    m0 = flatten_kernel(np.zeros(shape)).shape
    m, k = max(m0), min(m0)
    expected = spectral_second_moment(m, k, var, kurt)
    ratios, tops, means = [], [], []
    for i in range(SPECTRUM_DRAWS):
        w = flatten_kernel(draw_kernel(spec, shape, case["dtype"], derive_seed(case["seed"], i))
                           .astype(np.float64)) - mu
        if w.shape[0] < w.shape[1]:
            w = w.T
        g = w.T @ w
        ratios.append(float(np.sum(g * g)) / expected)
        ev = np.linalg.eigvalsh(g) / m
        tops.append(float(ev.max()))
        means.append(float(ev.mean()))
    r = np.asarray(ratios)
    d = r.size
    se = float(r.std(ddof=1)) / math.sqrt(d)
    t = abs(float(r.mean()) - 1.0) / se if se > 0 else math.inf
    thr = float(_st.t.isf(b.alpha / 2, d - 1))
    y = k / m
    res = stats.TestResult("spectral_second_moment_t", t, thr, t <= thr, d, b.alpha, b.beta,
                           (thr + stats.z_one_sided(b.beta)) * se, "relative change of E tr((W^T W)^2) (approx.)",
                           observed={"ratio_mean": float(r.mean()), "ratio_se": se,
                                     "eigen_mean": float(np.mean(means)), "top_eigen_mean": float(np.mean(tops))},
                           expected={"ratio": 1.0, "eigen_mean": var,
                                     "mp_upper_edge": var * (1 + math.sqrt(y)) ** 2, "aspect_ratio": y})
    data = {"law": str(law), "flattened_tall": [m, k], "draws": SPECTRUM_DRAWS, "tests": [res.to_dict()],
            "alpha_per_check": b.alpha, "budget_share": 1.0 / b.max_assertions,
            "note": "edges reported, not asserted (loose at finite size); test studentised over draws"}
    if not res.passed:
        raise fail(f"tr((W^T W)^2) is {r.mean():.4g} x its Marchenko-Pastur finite-size expectation "
                   f"(t={t:.4g} > {thr:.4g}); top eigenvalue {np.mean(tops):.4g} vs MP edge "
                   f"{var * (1 + math.sqrt(y)) ** 2:.4g}", case, **data)
    return ok("spectrum second moment matches", case, **data)
