"""Static HTML report of a battery run: ``render(results, out_dir) -> index.html``.

``results`` is the results document (:mod:`.results`: ``initcheck check
--json``, or what the pytest plugin collected).  The report is a folder that
opens from disk, with no server and no JavaScript:

* ``index.html`` -- versions (TensorFlow, Keras, its API, Python, platform),
  profile, the error budget and how the run spent it, totals by status, load
  errors, one row per spec with its verdict per family (failures first, each
  row linking to the spec's page), and the heatmap of the convergence cells
  the run trained;
* one page per spec -- its summary figure (how close each check came to its
  threshold, beside the layer-variance bars or the optimizer's error per
  mode), then per check: verdict, message, the declared finding with its
  reason and versions, the evidence table, the figure that explains it, the
  replay command;
* ``figures/`` -- SVG files named by their content (:func:`.figures.figure_name`).

Which figures are drawn is a matter of cost (the report may add at most a
fifth to the run): every check that did not pass gets its own figure, every
spec one summary figure, the run one heatmap.  A passing check is summarised
in its spec's figure and its evidence table.  Rendering reads statuses, never
recomputes them: a report cannot change a verdict.

Needs the ``[report]`` extra (Jinja2, Matplotlib), imported only here; no
TensorFlow.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

from .results import BAD

__all__ = ["render", "require", "MissingExtra", "FAMILIES", "SEVERITY"]

#: Families in the order the overview shows them.
FAMILIES = ("structural", "distribution", "structured", "propagation", "optimizer", "convergence")
#: Statuses, worst first (failures first everywhere).
SEVERITY = ("error", "failed", "xpassed", "blocked", "skipped", "not_applicable", "xfailed", "passed")
SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!", "xfailed": "xf", "xpassed": "XP", "blocked": "–", "skipped": "–",
           "not_applicable": "n/a"}
#: Statuses of a check that did not run (no evidence, no figure).
_NOT_RUN = ("blocked", "skipped", "not_applicable")
_HIDDEN = {"tests", "figure", "budget", "alpha_per_check", "budget_share", "named_discrepancies", "planned_n"}


class MissingExtra(ImportError):
    """Jinja2 or Matplotlib is not installed."""


def require() -> None:
    """Raise :class:`MissingExtra`, naming the extra to install, when Jinja2 or Matplotlib is missing."""
    import importlib.util

    missing = [m for m in ("jinja2", "matplotlib") if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtra(f"the HTML report needs {' and '.join(missing)}: pip install \"initcheck[report]\"")


# ================================================================== formatting

def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    if isinstance(v, float):
        if not math.isfinite(v) or v == 0:
            return "0" if v == 0 else str(v)
        return f"{v:.3g}" if abs(v) >= 1e5 or abs(v) < 1e-3 else f"{v:.4g}"
    return str(v)


def _sci(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def _compact(value: Any, limit: int = 260) -> str:
    """A short rendering of an evidence value (long lists of numbers summarised by their range)."""

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items() if k != "figure"}
        if isinstance(v, list):
            nums = [x for x in v if isinstance(x, (int, float)) and not isinstance(x, bool)]
            if len(v) > 8 and len(nums) == len(v):
                fin = [x for x in nums if math.isfinite(x)]
                return f"<{len(v)} numbers{f' in [{_fmt(min(fin))}, {_fmt(max(fin))}]' if fin else ''}>"
            return [walk(x) for x in v[:6]] + [f"... {len(v) - 6} more"] if len(v) > 8 else [walk(x) for x in v]
        if isinstance(v, float):
            return float(_fmt(v)) if math.isfinite(v) else str(v)
        return v

    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = _fmt(value)
    else:
        text = json.dumps(walk(value), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slug(name: str, taken: set) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace(">", "--")).strip("_") or "spec"
    slug, i = base, 2
    while slug.lower() in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug.lower())
    return slug


def _meter(ratio: Optional[float]) -> float:
    """Width in % of a closeness bar: the threshold sits in the middle."""
    if ratio is None:
        return 0.0
    return 100.0 if not math.isfinite(ratio) else round(max(1.5, min(ratio, 2.0) / 2.0 * 100.0), 1)


# ================================================================== reading outcomes

def _family_of(o: Mapping[str, Any]) -> str:
    if o.get("family"):
        return str(o["family"])
    try:  # a document older than the family field: ask the registry (NumPy and SciPy, no TensorFlow)
        from ..checks import all_checks

        check = all_checks().get(o.get("check", ""))
        return check.family if check is not None else "other"
    except Exception:
        return "other"


def _expected_failure(o: Mapping[str, Any]) -> Optional[dict]:
    xf = o.get("expected_failure")
    if isinstance(xf, dict):
        return xf
    msg = o.get("message") or ""
    if o.get("status") == "xfailed":  # an older document: the reason is the message's last line
        m = re.search(r"\n\s*expected failure: (.*)$", msg, re.S)
        return {"reason": m.group(1).strip() if m else "declared by the spec", "versions": "", "evidence": ""}
    if o.get("status") == "xpassed":
        m = re.search(r"\(strict\): (.*)$", msg, re.S)
        return {"reason": m.group(1).strip() if m else msg, "versions": "", "evidence": ""}
    return None


def _replay(o: Mapping[str, Any], ev: Optional[dict]) -> str:
    if ev and ev.get("reproduce"):
        return str(ev["reproduce"])
    return f"initcheck check --select {shlex.quote(str(o['spec']))} --check {o['check']}"


def _test_rows(ev: dict) -> list[dict]:
    rows = []
    for t in (ev.get("data") or {}).get("tests") or []:
        if not isinstance(t, dict):
            continue
        s, thr = t.get("statistic"), t.get("threshold")
        ratio = None
        if isinstance(s, (int, float)) and isinstance(thr, (int, float)) and math.isfinite(float(s)):
            ratio = float(s) / float(thr) if thr else (0.0 if s == 0 else math.inf)
        rows.append({"name": t.get("test", ""), "statistic": _fmt(s), "threshold": _fmt(thr), "ratio": ratio,
                     "meter": _meter(ratio), "passed": bool(t.get("passed", True)), "n": _fmt(t.get("n")),
                     "alpha": _sci(t.get("alpha")),
                     "detectable": f"{_fmt(t.get('smallest_detectable'))} {t.get('discrepancy_unit') or ''}".strip(),
                     "observed": _compact(t.get("observed") or {}, 200),
                     "expected": _compact(t.get("expected") or {}, 200)})
    return rows


def _fields(ev: dict) -> list[tuple[str, str]]:
    out = []
    for k, v in (ev.get("data") or {}).items():
        if k in _HIDDEN:
            continue
        if k == "activations" and isinstance(v, dict):
            keep = ("observed", "r_measured", "r_reference", "threshold", "declared_sigma_w2",
                    "r_predicted_at_declared_variance")
            out += [(f"activations.{act}", _compact({x: d.get(x) for x in keep}, 500))
                    for act, d in v.items() if isinstance(d, dict)]
        elif k == "decisions" and isinstance(v, list):
            keep = ("claim", "statistic", "n", "claimed_rate", "threshold", "threshold_kind", "certified_bound")
            out += [(f"decision {d.get('expectation', '')}", _compact({x: d.get(x) for x in keep}, 400))
                    for d in v if isinstance(d, dict)]
        else:
            out.append((k, _compact(v)))
    return out


def _budget(results: Mapping[str, Any]) -> Optional[dict]:
    b = results.get("budget")
    if isinstance(b, dict):
        return b
    for o in results.get("outcomes") or []:  # an older document: the budget is in every statistical evidence
        for e in o.get("evidence") or []:
            if isinstance((e.get("data") or {}).get("budget"), dict):
                return e["data"]["budget"]
    return None


def _statistical(ev: dict) -> bool:
    d = ev.get("data") or {}
    return "budget_share" in d or "alpha" in d or "alpha_per_check" in d or isinstance(d.get("activations"), dict)


def _spent(outcomes: Sequence[dict], families: Sequence[str], budget: Optional[dict]) -> Optional[dict]:
    """How much of the false-fail budget the statistical check runs of this run used."""
    if not budget:
        return None
    by_family: Counter = Counter()
    for o, fam in zip(outcomes, families):
        by_family[fam] += sum(1 for e in o.get("evidence") or [] if _statistical(e))
    runs = sum(by_family.values())
    if not runs:
        return None
    share = runs / float(budget.get("max_assertions") or 1)
    return {"runs": runs, "share": share, "probability": share * float(budget.get("false_fail_run") or 0.0),
            "by_family": [(f, by_family[f]) for f in FAMILIES + ("other",) if by_family[f]]}


def _rank(status: str) -> int:
    return SEVERITY.index(status) if status in SEVERITY else len(SEVERITY)


def _verdict(counts: Counter) -> tuple[str, str]:
    if counts["error"] or counts["failed"]:
        return "FAIL", "failed"
    if counts["xpassed"]:
        return "XPASS", "xpassed"
    if (counts["blocked"] or counts["skipped"]) and not counts["passed"]:
        return "blocked", "blocked" if counts["blocked"] else "skipped"
    if counts["not_applicable"] and not counts["passed"] and not counts["xfailed"]:
        return "not applicable", "not_applicable"
    if counts["xfailed"]:
        return "ok (expected failures)", "xfailed"
    return "ok", "passed"


def _counts(counts: Counter) -> list[tuple[str, int]]:
    return [(s, counts[s]) for s in SEVERITY if counts[s]]


# ================================================================== render

class _Figures:
    """Draws the figures of one report into ``out/figures`` (content-named, so a re-render reuses them)."""

    def __init__(self, out: Path, enabled: bool):
        from . import figures

        self.figs, self.out, self.enabled = figures, out, enabled

    def add(self, fig_plan: Optional[dict], folder: str, stem: str) -> Optional[str]:
        if not self.enabled or fig_plan is None:
            return None
        rel = f"figures/{folder}/{self.figs.figure_name(fig_plan, stem)}"
        try:
            self.figs.draw(fig_plan, self.out / rel)
        except Exception as exc:  # a figure never breaks the report: draw a card saying why instead
            card = {"kind": "bars", "title": stem, "status": fig_plan.get("status", "error"),
                    "message": f"no figure ({type(exc).__name__}: {exc})"}
            rel = f"figures/{folder}/{self.figs.figure_name(card, stem)}"
            try:
                self.figs.draw(card, self.out / rel)
            except Exception:
                return None
        return rel


def _layer_check(name: str) -> bool:
    """Layer-variance checks share their spec's summary figure (every layer kind in one chart)."""
    return name.startswith("check_layer_variance_")


def _check_view(o: dict, family: str, spec: str, figures: _Figures, slug: str) -> dict:
    from .figures import closeness, plan, worst

    evidence = [e for e in o.get("evidence") or [] if isinstance(e, dict)]
    ev = worst(evidence)
    status = o["status"]
    scores = [c for c in (closeness(e) for e in evidence) if c is not None]
    close = max(scores) if scores else None
    own = status not in ("passed",) + _NOT_RUN and not _layer_check(o["check"])  # blocked: no evidence
    figure = figures.add(plan(o["check"], status, evidence, o.get("message", "")), slug, o["check"]) if own else None
    message = (o.get("message") or "").rstrip() or ((ev or {}).get("message") or "")
    headline = message.split("\n")[0]
    if headline.startswith(f"{o['check']} FAILED on {spec}: "):
        headline = headline.split(": ", 1)[1]
    return {
        "check": o["check"], "status": status, "family": family, "seconds": float(o.get("seconds") or 0),
        "anchor": f"c-{o['check']}", "open": status != "passed", "headline": _compact(headline, 220),
        "message": message if status != "passed" else (ev or {}).get("message", ""),
        "xf": _expected_failure(o), "figure": figure, "closeness": close, "meter": _meter(close),
        "tests": _test_rows(ev) if ev else [], "fields": _fields(ev) if ev else [],
        "case": _compact(ev.get("case"), 400) if ev and ev.get("case") else "",
        "cases": [{"status": "passed" if e.get("passed", True) else "failed",
                   "closeness": _fmt(closeness(e)) if closeness(e) is not None else "",
                   "case": _compact(e.get("case") or {}, 300)} for e in evidence] if len(evidence) > 1 else [],
        "n_evidence": len(evidence), "replay": _replay(o, ev), "evidence": evidence, "shared_figure": False,
    }


def _mode_curve(c: dict) -> Optional[dict]:
    """The worst case of an optimizer check, as one curve of the spec's per-mode figure."""
    traj = [e for e in c["evidence"] if ((e.get("data") or {}).get("figure") or {}).get("kind") == "trajectory"]
    if not traj:
        return None
    w = max(traj, key=lambda e: e["data"]["figure"].get("final") or 0.0)
    return {**w["data"]["figure"], "mode": c["check"].replace("check_", ""),
            "passed": c["status"] in ("passed", "xfailed")}


def render(results: Mapping[str, Any], out_dir: Union[str, Path], *, figures: bool = True) -> Path:
    """Write the report of ``results`` into ``out_dir``; returns the path of ``index.html``.

    ``figures=False`` writes the pages without drawing (a quick look).
    """
    require()
    import jinja2

    from ..convergence.heatmap import rows_of
    from .figures import layer_rows, plan, summary_plan, worst

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["sci"] = _sci
    draw = _Figures(out, figures)
    outcomes = [o for o in results.get("outcomes") or [] if isinstance(o, dict)]
    families = [_family_of(o) for o in outcomes]
    versions_map = {k: str(v) for k, v in dict(results.get("versions") or {}).items()}
    order = ("tensorflow", "keras", "keras_api", "python", "platform")
    versions = [(k, versions_map[k]) for k in order if k in versions_map] + \
               [(k, v) for k, v in versions_map.items() if k not in order]
    common = {"profile": results.get("profile", "?"), "versions": versions, "generated": results.get("generated"),
              "symbols": SYMBOLS, "statuses": SEVERITY, "families": FAMILIES}

    grouped: "OrderedDict[str, list[int]]" = OrderedDict()
    for i, o in enumerate(outcomes):
        grouped.setdefault(str(o["spec"]), []).append(i)
    taken: set = {"index"}
    specs, cells, seen_cells = [], [], set()
    for name, idx in grouped.items():
        slug = _slug(name, taken)
        idx = sorted(idx, key=lambda i: (_rank(outcomes[i]["status"]), FAMILIES.index(families[i])
                                         if families[i] in FAMILIES else 99, outcomes[i]["check"]))
        checks = [_check_view(outcomes[i], families[i], name, draw, slug) for i in idx]
        counts: Counter = Counter(c["status"] for c in checks)
        fam_counts: dict[str, Counter] = {}
        for c in checks:
            fam_counts.setdefault(c["family"], Counter())[c["status"]] += 1
            for e in c["evidence"]:
                cells += rows_of((e.get("data") or {}).get("decisions") or [], seen=seen_cells)
        layers = layer_rows([(c["check"], c["status"], worst(c["evidence"])) for c in checks
                             if _layer_check(c["check"]) and c["evidence"]])
        modes = [m for m in (_mode_curve(c) for c in checks if c["family"] == "optimizer") if m]
        summary = draw.add(summary_plan(name, [(c["check"], c["status"], c["closeness"]) for c in checks],
                                        layers, modes), slug, "summary")
        for c in checks:  # a layer check that did not pass: the summary's layer chart, or its own figure
            if _layer_check(c["check"]) and c["status"] not in ("passed",) + _NOT_RUN:
                mine = any(r["label"].split(" · ")[0] == c["check"].replace("check_layer_variance_", "")
                           for r in layers)
                c["figure"], c["shared_figure"] = (summary, True) if mine and summary else (
                    draw.add(plan(c["check"], c["status"], c["evidence"], c["message"]), slug, c["check"]), False)
        verdict, vstatus = _verdict(counts)
        by_family: "OrderedDict[str, list]" = OrderedDict()
        for f in FAMILIES + tuple(sorted({c["family"] for c in checks} - set(FAMILIES))):
            if any(c["family"] == f for c in checks):
                by_family[f] = [c for c in checks if c["family"] == f]
        kind = outcomes[idx[0]].get("kind") or ("optimizer" if families[idx[0]] == "optimizer" else "initializer")
        specs.append({
            "name": name, "slug": slug, "page": f"{slug}.html", "kind": kind, "n": len(idx),
            "seconds": sum(c["seconds"] for c in checks), "verdict": verdict, "verdict_status": vstatus,
            "rank": _rank(vstatus),
            "row_class": "bad" if vstatus in BAD else ("warn" if vstatus in ("xfailed",) + _NOT_RUN else ""),
            "families": {f: _counts(c) for f, c in fam_counts.items()}, "totals": _counts(counts),
            "by_family": list(by_family.items()), "summary": summary, "layers": bool(layers), "modes": bool(modes),
        })
    specs.sort(key=lambda s: (s["rank"], s["name"]))
    spec_tpl = env.get_template("spec.html.j2")
    for s in specs:
        (out / s["page"]).write_text(spec_tpl.render(spec=s, **common), encoding="utf-8")
    heatmap = draw.add({"kind": "heatmap", "rows": cells, "title": "convergence cells trained by this run"},
                       "run", "heatmap") if cells else None
    totals: Counter = Counter(o["status"] for o in outcomes)
    budget = _budget(results)
    index = out / "index.html"
    index.write_text(env.get_template("index.html.j2").render(
        specs=specs, n_outcomes=len(outcomes), totals=_counts(totals),
        load_errors=[str(e) for e in results.get("load_errors") or []], budget=budget,
        spent=_spent(outcomes, families, budget), seconds=results.get("seconds"), heatmap=heatmap,
        totals_text=", ".join(f"{n} {s}" for s, n in _counts(totals)) or "nothing ran", **common), encoding="utf-8")
    return index
