"""Parts: a check of several independent properties runs and reports every one (issue #14)."""

from __future__ import annotations

import pytest

from initcheck.checks.evidence import CheckFailure, Parts, fail, ok


def test_every_part_runs_and_every_failure_is_named():
    case = {"seed": 1}
    parts = Parts(case)
    ran = []

    def first():
        ran.append("first")
        raise fail("first part: off by 3x", case, ratio=3.0)

    def crash():
        ran.append("crash")
        raise TypeError("unsupported operand")

    def last():
        ran.append("last")
        return ok("last part: fine", case, ratio=0.1)

    assert parts.run("first part", first) is None
    assert parts.run("crashing part", crash) is None
    assert parts.run("last part", last).passed
    assert ran == ["first", "crash", "last"]
    with pytest.raises(CheckFailure) as info:
        parts.verdict(extra=1)
    ev = info.value.evidence
    assert ev.message.startswith("first part: off by 3x; crashing part: raised TypeError: unsupported operand")
    assert ev.message.endswith("[2 of 3 parts failed; passed: last part]")
    assert [(p["part"], p["passed"]) for p in ev.data["parts"]] == [
        ("first part", False), ("crashing part", False), ("last part", True)]
    assert ev.data["parts"][0]["data"] == {"ratio": 3.0} and ev.data["extra"] == 1


def test_all_parts_pass():
    case = {"seed": 2}
    parts = Parts(case)
    parts.run("a", lambda: ok("a: fine", case))
    parts.run("b", lambda: None)
    ev = parts.verdict()
    assert ev.passed and ev.message == "a: fine; b: passed"
    assert [p["passed"] for p in ev.data["parts"]] == [True, True]


def test_statistical_verdict_names_every_failed_test():
    from initcheck import stats
    from initcheck.checks.evidence import statistical_verdict

    def result(name, passed):
        return stats.TestResult(name, 2.0 if not passed else 0.5, 1.0, passed, 10, 1e-3, 1e-3, 0.1, "unit")

    with pytest.raises(CheckFailure) as info:
        statistical_verdict([result("count", False), result("middle", True), result("structure", False)],
                            {"seed": 0}, {}, "support")
    message = info.value.evidence.message
    assert "support: count statistic 2" in message and "support: structure statistic 2" in message
    assert "middle" not in message
