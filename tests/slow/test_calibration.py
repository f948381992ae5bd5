"""Calibration (slow, on demand): the measured false-fail rate matches the design rate.

Run with ``pytest tests/slow/test_calibration.py -m slow -s``.

The default per-check rate (5e-11) is far too small to observe, so the
calibration runs in two parts over built-in Keras specs and many varied seeds
and shapes:

* at a *measurable* design rate (``alpha = 0.05`` per check, set through
  :func:`initcheck.stats.configure`; sample sizes re-planned for it), the
  number of failures of each check is compared with ``Binomial(R, alpha)``:
  it must not be significantly larger (one-sided p >= 1e-4).  DKWM and the
  exact-binomial counts are conservative, so fewer failures are expected
  there; the z-tests (mean, variance, independence) should sit near alpha,
  which checks the normal approximation and the kurtosis-aware variance
  error.  The exact-tie checks (atoms, resolution) and the dependence checks
  (designed pairings, rank table) rest on bounds, so they sit below alpha;
  the float32 uniforms (TensorFlow's 2^23-value generator, at the null's
  edge) are among the specs.  Cases alternate float32 and float64.
* at the default budget, every run passes (the design rate is 5e-11).

Results are printed (``-s``) and written to ``$INITCHECK_CALIBRATION`` when set.
"""

from __future__ import annotations

import json
import os

import pytest
from scipy import stats as st

from common import builtins
from initcheck import stats
from initcheck.checks import _sampling, dependence
from initcheck.checks import distribution as dist
from initcheck.checks.evidence import CheckFailure

pytestmark = pytest.mark.slow

SPECS = ("GlorotUniform", "HeNormal", "RandomNormal", "VarianceScaling-fan_out-untruncated_normal-0.5")
CHECKS = (dist.check_mean, dist.check_variance, dist.check_law_fit, dist.check_independence, dist.check_tails,
          dist.check_atoms, dist.check_resolution, dependence.check_pair_dependence, dependence.check_rank_independence)
SHAPES = ([256, 512], [3, 3, 64, 96], [131072], [2, 3, 3, 48, 96], [1024, 96])
REPEATS = int(os.environ.get("INITCHECK_CALIBRATION_REPEATS", "80"))
MEASURABLE_ALPHA = 0.05


def _run(repeats: int, seed_offset: int) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {c.__name__: {"runs": 0, "fails": 0} for c in CHECKS}
    for name in SPECS:
        spec = builtins.initializer(name)
        for r in range(repeats):
            case = {"shape": SHAPES[r % len(SHAPES)], "dtype": ("float32", "float64")[r % 2],
                    "seed": seed_offset + 7919 * r}
            _sampling.clear_cache()
            for check in CHECKS:
                counts[check.__name__]["runs"] += 1
                try:
                    check(spec, case)
                except CheckFailure:
                    counts[check.__name__]["fails"] += 1
    return counts


def _record(key: str, value: object) -> None:
    path = os.environ.get("INITCHECK_CALIBRATION")
    if not path:
        return
    data = json.load(open(path)) if os.path.exists(path) else {}
    data[key] = value
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1)


def test_false_fail_rate_at_a_measurable_alpha() -> None:
    stats.configure(false_fail=MEASURABLE_ALPHA, max_assertions=1)
    try:
        counts = _run(REPEATS, seed_offset=1)
    finally:
        stats.reset()
    table = {}
    for name, c in counts.items():
        runs, fails = c["runs"], c["fails"]
        lo, hi = stats.binomial_ci(fails, runs)
        p_excess = float(st.binom.sf(fails - 1, runs, MEASURABLE_ALPHA))
        table[name] = {"runs": runs, "fails": fails, "rate": fails / runs, "ci95": [lo, hi],
                       "design": MEASURABLE_ALPHA, "p_excess": p_excess}
        print(f"{name:22s} fails {fails:3d}/{runs:4d} rate {fails / runs:.3f} CI95 [{lo:.3f}, {hi:.3f}] "
              f"design {MEASURABLE_ALPHA} p(excess) {p_excess:.3g}")
    _record("measurable_alpha", table)
    for name, row in table.items():
        assert row["p_excess"] >= 1e-4, f"{name} false-fails more often than designed: {row}"


def test_default_budget_never_false_fails() -> None:
    stats.reset()
    counts = _run(max(10, REPEATS // 4), seed_offset=100_003)
    total = sum(c["runs"] for c in counts.values())
    fails = sum(c["fails"] for c in counts.values())
    lo, hi = stats.binomial_ci(fails, total)
    print(f"default budget: {fails}/{total} false fails; CI95 upper {hi:.3g}; design {stats.budget().alpha:.3g}")
    _record("default_budget", {"runs": total, "fails": fails, "ci95_upper": hi, "design": stats.budget().alpha})
    assert fails == 0
