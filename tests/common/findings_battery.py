"""Compare `initcheck findings --affected` with what the battery xfails (shared by the fast and slow tests)."""

from __future__ import annotations

import json
from collections import defaultdict

from initcheck import cli


def _findings(capsys, *flags):
    assert cli.main(["findings", "--json", *flags]) == 0
    return json.loads(capsys.readouterr().out)["findings"]


def _battery(pairs, tmp_path, capsys):
    """``initcheck check --json`` on ``pairs`` (one run per check): ``{(spec, check): (status, shown)}``, where
    ``shown`` is the set of declaration reasons an xfail's evidence says it showed (a check may carry several)."""
    specs_by_check = defaultdict(list)
    for spec, check in pairs:
        specs_by_check[check].append(spec)
    statuses = {}
    for n, (check, specs) in enumerate(specs_by_check.items()):
        out = tmp_path / f"{n}.json"
        cli.main(["check", "--check", check, "--select", ",".join(specs), "--json", str(out)])
        capsys.readouterr()
        for o in json.loads(out.read_text())["outcomes"]:
            shown = set()
            for ev in o.get("evidence") or []:
                by = (ev.get("data") or {}).get("declared_by_spec") or []
                shown |= {by} if isinstance(by, str) else set(by)
            if o["status"] == "xfailed" and not shown and o.get("expected_failure"):
                shown = set(o["expected_failure"]["reason"].split(" | "))
            status = o["status"]
            if status == "blocked" and (o.get("blocked_by") or {}).get("status") != "xfailed":
                status = "blocked-by-a-failure"  # a prerequisite failed for real: never an allowed status below
            statuses[(o["spec"], o["check"])] = (status, shown)
    return statuses


def _planned():
    """The (spec, check) pairs the battery runs here (a check whose capability this Keras lacks does not run)."""
    from initcheck.battery import default_profile, plan
    from initcheck.registry import load_registry

    specs = [(r.qualname, r.spec) for r in load_registry().specs.values()]
    return {(it.qualname, it.check.name) for it in plan(specs, default_profile(), None)}


def compare_affected_with_battery(capsys, tmp_path, pairs_of):
    """`--affected` equals the findings xfailed by `initcheck check` on the pairs ``pairs_of`` picks per finding."""
    planned = _planned()
    findings = [f for f in _findings(capsys) if f["declared_on"]]  # a pending finding has no check yet
    chosen = {f["id"]: pairs_of([p for p in map(tuple, f["declared_on"]) if p in planned]) for f in findings}
    assert all(chosen[f["id"]] for f in findings if f["holds_here"]), "a finding holds but none of its checks runs"
    statuses = _battery([p for pairs in chosen.values() for p in pairs], tmp_path, capsys)
    xfailed, unobservable = set(), set()
    for f in findings:
        # An xfail counts for this finding when its evidence shows this declaration; a finding that does not
        # hold may sit on a check that another, holding declaration xfails (several declarations per check).
        got = {("xfailed" if f["reason"] in statuses[p][1] else "xfailed-by-another")
               if statuses[p][0] == "xfailed" else statuses[p][0] for p in chosen[f["id"]]}
        # not_applicable: the check cannot run on this backend (JAX without x64 and a float64-only spec); blocked:
        # a prerequisite of the check failed *as declared* here (the contract, torch-truncated-normal-dtype on Keras
        # 3.0-3.1), so the check did not run.  Either neither shows nor refutes the finding.
        allowed = ({"xfailed", "skipped", "not_applicable", "blocked"} if f["holds_here"]
                   else {"passed", "skipped", "xfailed-by-another", "not_applicable", "blocked"})
        assert got <= allowed, (f["id"], {p: statuses[p] for p in chosen[f["id"]]})
        if "xfailed" in got:
            xfailed.add(f["id"])
        if got and got <= {"not_applicable", "blocked"}:
            unobservable.add(f["id"])
    affected = {f["id"] for f in _findings(capsys, "--affected") if f["declared_on"]}
    # --affected reads versions and backend; a finding whose every chosen check is not applicable here (a
    # float64-only spec on JAX without x64) holds by its declaration but cannot be seen by this battery
    assert affected - unobservable == xfailed
