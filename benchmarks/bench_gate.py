"""The verification gate's own cost: seconds per check family per spec.

Why: a gate is adopted only if it is quick, and a user who adds a spec wants
to know what each family of checks will cost in their CI.  Each benchmark runs
every check of one family that applies to one spec, exactly as the gate does
(:func:`initcheck.battery.run_one`, derandomized ``ci`` profile), so the time is
the gate's time for that (spec, family) cell.

Dependencies (every check depends on ``check_output_contract``) are not re-run
inside a cell (``check_dependencies=False``): they are timed in their own
family.  The derandomized profile makes the work identical from round to
round, so one round is timed (no warm-up): the number includes first-use costs
(TensorFlow kernel and ``tf.function`` caches) as a gate run would; later cells
profit from earlier ones, as they would in the gate.

Default specs (:data:`DEFAULT_SPECS`): one of each kind of law -- uniform
(``GlorotUniform``), truncated normal (``HeNormal``), structured
(``Orthogonal``), deterministic (``Identity``) -- and two optimizers (``SGD``,
``Adam``).  ``INITCHECK_BENCH_FULL=1`` times every built-in spec.  The
families are whatever checks are registered when the benchmarks are collected.

Verdicts are recorded (``extra_info["statuses"]``) but not asserted: whether a
check passes is the tests' business; this file only measures.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import models as M
from initcheck import battery

DEFAULT_SPECS = ("GlorotUniform", "HeNormal", "Orthogonal", "Identity", "SGD", "Adam")


def _builtin() -> list:
    from initcheck.builtin.initializers import builtin_specs as initializer_specs

    specs = list(initializer_specs())
    try:
        from initcheck.builtin.optimizers import builtin_specs as optimizer_specs

        specs += list(optimizer_specs())
    except ImportError:  # optimizer specs not available in this checkout
        pass
    return [(f"{s.namespace or 'keras'}>{s.name}", s) for s in specs]


def _cells() -> list:
    full = M.full_matrix()
    cells = []
    for qualname, spec in _builtin():
        if not full and spec.name not in DEFAULT_SPECS:
            continue
        families: dict[str, list] = {}
        for item in battery.plan([(qualname, spec)], "ci"):
            families.setdefault(item.check.family, []).append(item)
        for family, items in families.items():
            cells.append(pytest.param(qualname, family, items, id=f"{spec.name}-{family}"))
    return cells


@pytest.mark.parametrize("qualname, family, items", _cells())
def test_gate_family(benchmark: Any, qualname: str, family: str, items: list) -> None:
    """Run every ``family`` check that applies to the spec once, as the gate does."""
    statuses: Counter = Counter()

    def call() -> None:
        statuses.clear()
        for item in items:
            statuses[battery.run_one(item, "ci", check_dependencies=False).status] += 1

    benchmark.group = f"gate {family}"
    benchmark.extra_info.update(kind="gate", spec=qualname, family=family, checks=[i.check.name for i in items],
                                profile="ci")
    benchmark.pedantic(call, rounds=1, iterations=1, warmup_rounds=0)
    benchmark.extra_info["statuses"] = dict(statuses)
