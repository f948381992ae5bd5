"""The distribution family's checks share their cases and their pools: one sample, many statistics.

Every check registered with the family's case strategy draws, in the
derandomized ``ci`` profile, the same cases (Hypothesis seeds a derandomized
run from the battery's runner function, which every check shares, and the
strategy is one); the pool cache keeps all of one spec's pools, so the
statistics of every check read the same draws and the initializer is called
once per kernel.
"""

from __future__ import annotations

import dataclasses
import math

from common.doubles import exact, np_spec
from initcheck import battery, stats
from initcheck.checks import _sampling, all_checks, dependence
from initcheck.checks import distribution as dist
from initcheck.laws import Normal


def test_every_check_of_the_family_draws_the_same_cases() -> None:
    spec = np_spec("shared", Normal(std=0.05), exact)
    family = [c for c in all_checks().values() if c.strategy is dist._case_strategy]
    assert {"check_atoms", "check_resolution", "check_pair_dependence", "check_rank_independence",
            "check_law_fit", "check_tails"} <= {c.name for c in family}
    assert {c.examples for c in family} == {dist.EXAMPLES}
    seen = {}
    for check in family:
        cases: list = []
        fake = dataclasses.replace(check, func=lambda s, case, cases=cases: cases.append(case))
        battery.run_check(battery.Item("doubles>shared", spec, fake), "ci")
        seen[check.name] = cases
    first = next(iter(seen.values()))
    assert len(first) == dist.EXAMPLES and all(cases == first for cases in seen.values()), seen


def test_the_family_reads_one_pool_per_case() -> None:
    calls = []

    def counted(rng, shape, law, fans):  # noqa: ANN001, ANN202
        calls.append(1)
        return exact(rng, shape, law, fans)

    spec = np_spec("counted", Normal(std=0.05), counted)
    case = {"shape": [256, 512], "dtype": "float32", "seed": 3}
    _sampling.clear_cache()
    for check in (dist.check_atoms, dist.check_mean, dependence.check_pair_dependence, dist.check_resolution,
                  dependence.check_rank_independence, dist.check_law_fit):
        assert check(spec, case).passed
    needed = max(stats.default_plan().requirements[k] for k in ("atoms", "dependence", "mean"))
    assert len(calls) == math.ceil(needed / (256 * 512))
    other = np_spec("other", Normal(std=0.05), exact)
    dist.check_mean(other, case)
    assert all(p.spec is other for p in _sampling._CACHE.values())  # another spec's pools replace the old ones
