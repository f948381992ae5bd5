"""Timing of the distribution and structured checks per spec, at the planned sample sizes.

Run with ``pytest benchmarks/bench_distribution.py --benchmark-only`` (add
``-k HeNormal`` to narrow).  Every round starts from an empty sample cache,
so a time includes drawing the pooled sample (the initializer calls) and the
statistics.  Cases are fixed, mid-sized kernels; the planned n comes from
:func:`initcheck.stats.default_plan` (1.28e6 values for the moment and KS
tests, 8.8e6 for support and tail counts).
"""

from __future__ import annotations

import pytest

from initcheck.checks import all_checks
from initcheck.checks import _sampling, layers

MARGINAL = ("check_law_fit", "check_variance", "check_mean", "check_support", "check_tails",
            "check_independence", "check_low_precision", "check_spectrum")
ITER_SPECS = ("GlorotUniform", "HeNormal", "VarianceScaling-fan_in-untruncated_normal-2", "RandomUniform")
LAYER_SPECS = ("HeNormal",)
STRUCTURED = ("check_orthogonality", "check_haar", "check_haar_rotation_angle")


def _spec(name: str):
    from initcheck.builtin.initializers import builtin_specs

    return next(s for s in builtin_specs() if s.name == name)


def _case(check: str) -> dict:
    if check == "check_low_precision":
        return {"shape": [3, 3, 96, 128], "dtype": "low", "seed": 1}
    if check == "check_spectrum":
        return {"shape": [48, 32], "dtype": "float32", "seed": 1}
    return {"shape": [3, 3, 96, 128], "dtype": "float32", "seed": 1}


def _timed(benchmark, fn, *args) -> None:
    def setup():
        _sampling.clear_cache()
        return args, {}

    benchmark.pedantic(fn, setup=setup, rounds=2, iterations=1)


@pytest.mark.parametrize("check", MARGINAL)
@pytest.mark.parametrize("spec_name", ITER_SPECS)
def test_marginal_check(benchmark, spec_name: str, check: str) -> None:
    spec = _spec(spec_name)
    fn = all_checks()[check].func

    def run(s, c):
        try:
            fn(s, c)
        except AssertionError:
            pass  # a declared finding still costs its time

    _timed(benchmark, run, spec, _case(check))


@pytest.mark.parametrize("kind", sorted(layers.LAYER_KINDS))
@pytest.mark.parametrize("spec_name", LAYER_SPECS)
def test_layer_variance(benchmark, spec_name: str, kind: str) -> None:
    from hypothesis import find

    spec = _spec(spec_name)
    case = find(layers.LAYER_KINDS[kind].params(), lambda c: True)

    def run(s, c):
        try:
            layers.run_layer_variance(layers.LAYER_KINDS[kind], s, c)
        except AssertionError:
            pass

    _timed(benchmark, run, spec, case)


@pytest.mark.parametrize("check", STRUCTURED)
def test_structured_check(benchmark, check: str) -> None:
    spec = _spec("Orthogonal")
    case = {"shape": [16, 8], "dtype": "float32", "seed": 1}
    _timed(benchmark, all_checks()[check].func, spec, case)
