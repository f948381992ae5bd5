"""Figures of the HTML report: what to draw for an outcome (:func:`plan`) and how (:func:`draw`).

Figures are drawn from evidence already collected, never by re-running a
check.  A check that has a picture to show stores bounded figure data in
``evidence["data"]["figure"]`` (the contract, kind by kind, is the docstring
of :mod:`initcheck.checks.figure_data`); where it stores none, :func:`plan`
derives a figure from fields the evidence always had -- the layer-variance
bars from ``data["tests"]``, the tail counts of ``check_tails``, the
propagation curves -- and, as a last resort, draws statistic against
threshold or a card with the verdict.

Cost is what decides the shape of this module (the report may add at most a
fifth to the run it reports): Matplotlib is imported once, with the Agg
backend; figures are SVG (vector, no rasterising, text as text), laid out
with fixed margins instead of ``tight_layout`` (which draws every figure
twice), and cached by content: a plan that was drawn before, into the same
folder, is not drawn again.
"""

from __future__ import annotations

import hashlib
import json
import math
import textwrap
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

__all__ = ["plan", "draw", "figure_name", "closeness", "summary_plan", "layer_rows", "DRAWERS", "COLORS"]

#: Verdict colours shared with the HTML pages.
COLORS = {"passed": "#2e7d32", "failed": "#c62828", "error": "#8e0000", "xfailed": "#e08a00",
          "xpassed": "#6a1b9a", "blocked": "#78909c", "skipped": "#78909c",
          "not_applicable": "#78909c"}
OBSERVED, LAW, KERAS, CONTROL = "#1565c0", "#222222", "#ef6c00", "#9e9e9e"
PALETTE = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#546e7a", "#c0ca33",
           "#3949ab", "#d81b60", "#8d6e63")
#: Bumped when a drawing changes, so cached figures are redrawn.
STYLE_VERSION = 1

_plt: Any = None


def _pyplot() -> Any:
    global _plt
    if _plt is None:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        plt.rcParams.update({
            "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 8.5, "legend.fontsize": 7.5,
            "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.spines.top": False, "axes.spines.right": False,
            "axes.grid": True, "grid.alpha": 0.25, "figure.dpi": 90, "savefig.dpi": 90,
            "svg.fonttype": "none", "svg.hashsalt": "initcheck", "path.simplify": True,
            # Cheap layout: a fixed title height (no measuring of the tick labels under it).
            "axes.titley": 1.0, "axes.titlepad": 5.0,
        })
        _plt = plt
    return _plt


# ================================================================== reading evidence

def _num(v: Any) -> Optional[float]:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _tests(ev: Optional[dict]) -> list[dict]:
    t = ((ev or {}).get("data") or {}).get("tests")
    return [x for x in t if isinstance(x, dict)] if isinstance(t, list) else []


def closeness(ev: dict) -> Optional[float]:
    """How near one evidence came to failing: the largest statistic / threshold (1 = at the threshold)."""
    data = ev.get("data") or {}
    found: list[float] = []
    for t in _tests(ev):
        s, thr = _num(t.get("statistic")), _num(t.get("threshold"))
        if s is not None and thr is not None:
            found.append(s / thr if thr > 0 else (0.0 if s == 0 else math.inf))
    w = _num(data.get("worst_error_over_tolerance"))
    if w is not None:
        found.append(w)
    for a, b in (("max_abs_error", "tolerance"), ("max_abs_log_deviation", "threshold")):
        x, y = _num(data.get(a)), _num(data.get(b))
        if x is not None and y:
            found.append(x / y)
    acts = data.get("activations")
    for d in (acts.values() if isinstance(acts, dict) else ()):
        if not isinstance(d, dict):
            continue
        for direction, band in (d.get("threshold") or {}).items():
            obs = _num((d.get("observed") or {}).get(direction))
            lo, hi = (_num(v) for v in band) if isinstance(band, list) and len(band) == 2 else (None, None)
            if obs is not None and lo is not None and hi is not None and hi > lo:
                found.append(abs(obs - (lo + hi) / 2) / ((hi - lo) / 2))
    return max(found) if found else None


def worst(evidence: Sequence[dict]) -> Optional[dict]:
    """The evidence a figure should show: the first failing case, else the closest to failing."""
    if not evidence:
        return None
    failing = [e for e in evidence if not e.get("passed", True)]
    return failing[0] if failing else max(evidence, key=lambda e: closeness(e) or 0.0)


# ================================================================== planning

def plan(check: str, status: str, evidence: Sequence[dict], message: str = "") -> dict:
    """What to draw for one outcome: a dict with a ``kind`` (a key of :data:`DRAWERS`) and its data.

    Stored figure data wins; then figures derived from the evidence's usual
    fields; then statistic against threshold, or a card with the verdict.
    """
    ev = worst(evidence)
    data = (ev or {}).get("data") or {}
    stored = data.get("figure") if isinstance(data.get("figure"), dict) else None
    if stored and stored.get("kind") == "trajectory":
        curves = [{**e["data"]["figure"], "passed": e.get("passed", True)} for e in evidence
                  if ((e.get("data") or {}).get("figure") or {}).get("kind") == "trajectory"]
        return {"kind": "trajectory", "title": check, "curves": curves}
    if stored and stored.get("kind") in DRAWERS:
        return {**stored, "title": check, "tests": _tests(ev), "data": _slim(data)}
    if check.startswith("check_layer_variance_") and layer_rows([(check, status, ev)]):
        return {"kind": "layer_variance", "title": check, "rows": layer_rows([(check, status, ev)])}
    if check == "check_tails" and _tests(ev):
        return {"kind": "tails", "title": check, "tests": _tests(ev)}
    if isinstance(data.get("activations"), dict):
        return {"kind": "propagation", "title": check, "controls": {}, "data": _slim(data)}
    if isinstance(data.get("decisions"), list) and data["decisions"]:
        return {"kind": "convergence", "title": check, "cells": [], "data": _slim(data)}
    return {"kind": "bars", "title": check, "status": status, "tests": _tests(ev), "data": _slim(data),
            "message": ((ev or {}).get("message") or message or "").strip().split("\n")[0]}


def _slim(data: dict) -> dict:
    """The evidence fields the drawers read (the figure data itself travels in the plan)."""
    keep = ("activations", "decisions", "worst_error_over_tolerance", "max_abs_error", "tolerance",
            "max_abs_log_deviation", "threshold")
    out = {k: data[k] for k in keep if k in data}
    if isinstance(out.get("activations"), dict):  # only what the propagation figure draws
        out["activations"] = {a: {k: d.get(k) for k in ("curves", "threshold", "observed")}
                              for a, d in out["activations"].items() if isinstance(d, dict)}
    return out


def layer_rows(items: Sequence[tuple[str, str, Optional[dict]]]) -> list[dict]:
    """Bars of the layer-variance figure from ``(check, status, evidence)`` of check_layer_variance_*.

    Per kernel: observed variance and the law's variance at Keras's shape
    fans, both divided by the law's variance at the layer's true fans (so
    kinds compare), and the acceptance band of the z-test around 1.
    """
    rows = []
    for check, status, ev in items:
        layer = ((ev or {}).get("data") or {}).get("layer") or check.replace("check_layer_variance_", "")
        for t in _tests(ev):
            obs, exp = t.get("observed") or {}, t.get("expected") or {}
            v, v0, vk = _num(obs.get("variance")), _num(exp.get("variance")), _num(exp.get("variance_at_keras_fans"))
            if v is None or not v0:
                continue
            n, thr = _num(t.get("n")) or 0.0, _num(t.get("threshold")) or 0.0
            half = thr * math.sqrt(((_num(exp.get("excess_kurtosis")) or 0.0) + 2.0) / n) if n else 0.0
            label = str(t.get("test", "")).replace("variance_z_", "").replace("variance_z", "")
            rows.append({"label": layer + (f" · {label}" if label and label != "kernel" else ""),
                         "observed": v / v0, "keras": None if vk is None else vk / v0,
                         "band": [max(1e-12, 1 - half), 1 + half], "status": status,
                         "passed": bool(t.get("passed", True))})
    return rows


def summary_plan(spec: str, rows: Sequence[tuple[str, str, Optional[float]]], layers: Sequence[dict],
                 modes: Sequence[dict]) -> Optional[dict]:
    """The one summary figure of a spec: how close each check came to its threshold, and beside it the
    layer-variance bars (initializers with layer checks) or the trajectory error per mode (optimizers)."""
    rows = [r for r in rows if r[2] is not None]
    if not rows and not layers and not modes:
        return None
    return {"kind": "summary", "title": spec, "rows": list(rows), "layers": list(layers), "modes": list(modes)}


def figure_name(fig_plan: dict, stem: str, ext: str = "svg") -> str:
    """``stem-<hash>.ext``: the name changes exactly when the drawing would (content-addressed cache)."""
    blob = json.dumps(fig_plan, sort_keys=True, default=str, allow_nan=True) + f"|{STYLE_VERSION}"
    return f"{stem}-{hashlib.sha1(blob.encode()).hexdigest()[:10]}.{ext}"


# ================================================================== drawing

def draw(fig_plan: dict, path: Path) -> Path:
    """Draw ``fig_plan`` to ``path`` (SVG, or PNG by its suffix) unless that file exists; returns the path."""
    path = Path(path)
    if path.is_file() and path.stat().st_size > 0:
        return path
    plt = _pyplot()
    fig = DRAWERS[fig_plan["kind"]](plt, fig_plan)
    for ax in fig.axes:
        _cheap_axes(ax)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "svg", metadata=_METADATA.get(path.suffix, None))
        tmp.replace(path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()
    return path


_METADATA = {".svg": {"Date": None, "Creator": None}, ".png": {"Software": None}}


def _cheap_axes(ax: Any) -> None:
    """Fewer ticks, and log axes without minor ticks and with plain-text labels.

    Ticks are most of a figure's cost (each is five artists laid out one by
    one), and the mathtext of ``10^k`` labels is parsed anew every time.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_major_locator(LogLocator(numticks=6))
            axis.set_minor_locator(NullLocator())
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        elif isinstance(axis.get_major_locator(), MaxNLocator):
            axis.get_major_locator().set_params(nbins=5)


def _legend(ax: Any, **kw: Any) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**{"loc": "best", "frameon": False, **kw})


def _dkwm(p: dict) -> tuple[Optional[float], Optional[float], Optional[float]]:
    """(band half-width, sup distance, where) from the KS test, or the DKWM band at the check's own ``alpha``."""
    for t in p.get("tests") or []:
        o = t.get("observed") or {}
        if "sup_distance" in o:
            return _num(t.get("threshold")), _num(o.get("sup_distance")), _num(o.get("at"))
    for t in p.get("tests") or []:
        a, n = _num(t.get("alpha")), _num(t.get("n"))
        if a and n:
            return math.sqrt(math.log(2 / a) / (2 * n)), None, None
    return None, None, None


def _distribution(plt: Any, p: dict) -> Any:
    import numpy as np

    fig, ((ah, ac), (ad, aq)) = plt.subplots(2, 2, figsize=(9.6, 5.8))
    fig.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.08, hspace=0.42, wspace=0.2)
    edges = np.asarray(p.get("hist_edges") or [], dtype=float)
    dens = np.asarray([np.nan if v is None else v for v in p.get("hist_density") or []], dtype=float)
    n = p.get("n")
    if dens.size and edges.size == dens.size + 1:
        ah.stairs(dens, edges, fill=True, color=OBSERVED, alpha=0.35,
                  label=f"sample (n = {n:,})" if isinstance(n, int) else "sample")
    if p.get("pdf_x"):
        ah.plot(p["pdf_x"], p["pdf"], color=LAW, lw=1.3, label="law's density")
    outside = [f"{p[k]:,} {k} the range" for k in ("below", "above") if p.get(k)]
    if outside:
        ah.text(0.99, 0.97, "; ".join(outside), transform=ah.transAxes, ha="right", va="top", fontsize=8,
                color=KERAS)
    ah.set_title("histogram vs the law's density")
    _legend(ah, loc="lower center")
    x = np.asarray(p.get("ecdf_x") or [], dtype=float)
    fn = np.asarray(p.get("ecdf") or [], dtype=float)
    f = np.asarray(p.get("law_cdf") or [], dtype=float)
    eps, sup, at = _dkwm(p)
    if x.size and x.size == fn.size == f.size:
        if eps:
            ac.fill_between(x, np.clip(f - eps, 0, 1), np.clip(f + eps, 0, 1), color=LAW, alpha=0.13, lw=0,
                            label=f"DKWM band ±{eps:.2g}")
        ac.plot(x, f, color=LAW, lw=1.1, label="law's CDF")
        ac.step(x, fn, where="post", color=OBSERVED, lw=1.1, label="ECDF")
        diff = fn - f
        ad.axhline(0, color=LAW, lw=0.8)
        if eps:
            ad.axhspan(-eps, eps, color=LAW, alpha=0.13, lw=0, label=f"DKWM band ±{eps:.2g}")
        ad.plot(x, diff, color=OBSERVED, lw=1.1, label="ECDF − law's CDF")
        if sup is not None and at is not None:
            sign = 1.0 if np.interp(at, x, diff) >= 0 else -1.0
            col = COLORS["failed"] if eps and sup > eps else KERAS
            ad.plot([at], [sign * sup], "o", color=col, ms=6, label=f"sup distance {sup:.3g} at {at:.3g}")
            ac.plot([at, at], [np.interp(at, x, f), np.interp(at, x, f) + sign * sup], color=col, lw=2)
            ac.plot([at], [np.interp(at, x, f) + sign * sup], "o", color=col, ms=5)
        lim = max(float(np.nanmax(np.abs(diff))) if diff.size else 0.0, eps or 0.0, sup or 0.0) * 1.35 or 1e-3
        ad.set_ylim(-lim, lim)
        ac.set_title("ECDF and the law's CDF")
        ad.set_title("ECDF − law's CDF (sup distance marked)")
        _legend(ac, loc="upper left")
        _legend(ad, loc="lower left")
    else:
        ac.set_axis_off()
        ad.set_axis_off()
    qs, ql = p.get("qq_sample") or [], p.get("qq_law") or []
    pairs = [(a, b) for a, b in zip(ql, qs) if a is not None and b is not None]
    if pairs:
        lo, hi = min(min(pr) for pr in pairs), max(max(pr) for pr in pairs)
        aq.plot([lo, hi], [lo, hi], color=LAW, lw=0.9, label="y = x")
        aq.plot([a for a, _ in pairs], [b for _, b in pairs], ".", color=OBSERVED, ms=4, label="sample quantiles")
        aq.set_xlabel("law's quantile")
        aq.set_ylabel("sample quantile")
        _legend(aq, loc="upper left")
    aq.set_title("QQ plot against the law")
    fig.suptitle(f"{p.get('title', '')}: {p.get('law', '')}", fontsize=9, color="#444")
    return fig


def _panel_layers(ax: Any, rows: Sequence[dict]) -> None:
    ys = list(range(len(rows)))[::-1]
    values = [r["observed"] for r in rows] + [r["keras"] for r in rows if r["keras"]] + [1.0]
    log = max(values) / max(min(v for v in values if v > 0), 1e-12) > 8
    for y, r in zip(ys, rows):
        lo, hi = r["band"]
        ax.fill_betweenx([y - 0.42, y + 0.42], lo, hi, color=COLORS["passed"], alpha=0.12, lw=0,
                         label="acceptance band" if y == ys[0] else None)
        ax.barh(y + 0.18, r["observed"], height=0.34, color=OBSERVED if r["passed"] else COLORS["failed"],
                alpha=0.85, label="observed variance" if y == ys[0] else None)
        if r["keras"] is not None:
            ax.barh(y - 0.18, r["keras"], height=0.34, color=KERAS, alpha=0.6,
                    label="law at Keras's shape fans" if y == ys[0] else None)
    ax.axvline(1.0, color=LAW, lw=1.1, ls="--", label="law at the layer's true fans")
    ax.set_yticks(ys)
    ax.set_yticklabels([r["label"] + ("" if r["passed"] else f" [{r['status']}]") for r in rows])
    for tick, r in zip(ax.get_yticklabels(), rows):
        if not r["passed"]:
            tick.set_color(COLORS.get(r["status"], COLORS["failed"]))
    if log:
        ax.set_xscale("log")
    ax.set_xlabel("variance ÷ the law's variance at the true fans" + (" (log)" if log else ""))
    ax.set_title("kernel variance per layer kind")


def _layer_variance(plt: Any, p: dict) -> Any:
    rows = p["rows"]
    label_w = 0.2 + 0.062 * max(len(r["label"]) + (0 if r["passed"] else 10) for r in rows)
    plot_w, legend_w, plot_h, top, bottom = 3.4, 2.3, max(0.8, 0.34 * len(rows)), 0.35, 0.55
    width, height = label_w + plot_w + legend_w, top + plot_h + bottom
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((label_w / width, bottom / height, plot_w / width, plot_h / height))
    _panel_layers(ax, rows)
    _legend(ax, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    return fig


def _tails(plt: Any, p: dict) -> Any:
    t = (p.get("tests") or [{}])[0]
    obs, exp = t.get("observed") or {}, t.get("expected") or {}
    bars = [("observed", _num(obs.get("count")) or 0.0, COLORS["passed"] if t.get("passed") else COLORS["failed"]),
            ("expected under the law", _num(exp.get("mean_count")) or 0.0, LAW),
            ("rejected from", _num(exp.get("reject_at_count")) or _num(t.get("threshold")) or 0.0, KERAS)]
    fig, ax = plt.subplots(figsize=(6.4, 2.7))
    fig.subplots_adjust(left=0.12, right=0.97, top=0.86, bottom=0.14)
    ax.bar([b[0] for b in bars], [b[1] for b in bars], color=[b[2] for b in bars], alpha=0.8)
    for i, b in enumerate(bars):
        ax.text(i, b[1], f"{b[1]:.3g}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(f"values in the extreme region\n(n = {int(_num(t.get('n')) or 0):,})")
    ax.set_title("tail and edge-atom count against its expectation (exact binomial)")
    return fig


def _orthogonality(plt: Any, p: dict) -> Any:
    import numpy as np

    ev = np.asarray([np.nan if v is None else v for v in p.get("eigenvalues") or []], dtype=float)
    target, tol = float(p.get("target", 1.0)), float(p.get("tolerance", 0.0))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.6, 3.0))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.16, wspace=0.25)
    idx = np.arange(1, ev.size + 1)
    a1.plot(idx, ev, "o", ms=3, color=OBSERVED, label="singular values of QᵀQ")
    a1.axhline(target, color=LAW, lw=1, ls="--", label=f"gain² = {target:.4g}")
    a1.set_xlabel("rank")
    a1.set_title("singular values of QᵀQ")
    _legend(a1)
    a2.semilogy(idx, np.maximum(np.abs(ev - target), 1e-18), "o", ms=3, color=OBSERVED, label="|σ − gain²|")
    if tol:
        a2.axhline(tol, color=COLORS["failed"], lw=1, label=f"tolerance {tol:.2g}")
    a2.set_xlabel("rank")
    a2.set_title("distance from gain² (log)")
    _legend(a2)
    return fig


def _haar(plt: Any, p: dict) -> Any:
    import numpy as np

    panels = list(p.get("panels") or [])
    sign = [t for t in p.get("tests") or [] if "positive" in (t.get("observed") or {})]
    k = max(1, len(panels) + (1 if sign else 0))
    fig, axes = plt.subplots(1, k, figsize=(3.4 * k, 2.9), squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.86, bottom=0.16, wspace=0.3)
    for ax, pan in zip(axes[0], panels):
        x = np.asarray(pan["x"], dtype=float)
        f = np.asarray([np.nan if v is None else v for v in pan["null_cdf"]], dtype=float)
        eps = float(pan.get("eps") or 0.0)
        ax.fill_between(x, np.clip(f - eps, 0, 1), np.clip(f + eps, 0, 1), color=LAW, alpha=0.13, lw=0,
                        label=f"null ±{eps:.2g} (DKWM)")
        ax.plot(x, f, color=LAW, lw=1, label="null CDF")
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", color=OBSERVED, lw=1.1, label="ECDF")
        ax.set_title(pan.get("label", ""), fontsize=8.5)
        _legend(ax, loc="upper left", fontsize=7)
    if sign:
        t = sign[0]
        ax = axes[0][len(panels)]
        o, n = t["observed"], int(_num(t.get("n")) or 0)
        lo, hi = (t.get("expected") or {}).get("accept_counts") or [0, n]
        ax.axvspan(lo, hi, color=COLORS["passed"], alpha=0.15, label="accepted under Haar")
        ax.axvline(n / 2, color=LAW, lw=1, ls="--", label="n / 2")
        ax.plot([o["positive"]], [0.5], "o", ms=8, color=COLORS["passed"] if t.get("passed") else COLORS["failed"],
                label=f"det > 0: {o['positive']}/{n}")
        ax.set_xlim(0, max(n, 1))
        ax.set_yticks([])
        ax.set_title("determinant signs", fontsize=8.5)
        _legend(ax, loc="upper left", fontsize=7)
    fig.suptitle(p.get("title", ""), fontsize=9, color="#444")
    return fig


def _propagation(plt: Any, p: dict) -> Any:
    import numpy as np

    acts = (p.get("data") or {}).get("activations") or {}
    controls = p.get("controls") or {}
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.5))
    fig.subplots_adjust(left=0.07, right=0.98, top=0.86, bottom=0.2, wspace=0.2)
    for i, (act, d) in enumerate(acts.items()):
        c = d.get("curves") or {}
        if not c.get("layer"):
            continue
        col = PALETTE[i % len(PALETTE)]
        layer = np.asarray(c["layer"], dtype=float)
        series = {"forward": (np.asarray(c["log_q_measured"], float), np.asarray(c["log_q_reference"], float)),
                  "backward": (np.asarray(c["log_grad_measured"], float), np.asarray(c["log_grad_reference"], float))}
        for ax, (direction, (meas, ref)) in zip(axes, series.items()):
            if direction == "forward":
                meas, ref = meas - meas[0], ref - ref[0]
            ax.plot(layer, ref, ls="--", color=col, lw=1)
            ax.plot(layer, meas, color=col, lw=1.6, label=f"{act}: measured (dashed: reference)")
            for label, cc in (controls.get(act) or {}).items():
                y = cc.get(direction) or []
                if y:
                    xs = np.linspace(layer[0], layer[-1], len(y))
                    ax.plot(xs, [np.nan if v is None else v for v in y], ls=":", color=CONTROL, lw=1,
                            label=f"control {label}" if i == 0 else None)
            band = (d.get("threshold") or {}).get(direction)
            obs = _num((d.get("observed") or {}).get(direction))
            if isinstance(band, list) and len(band) == 2 and all(_num(v) is not None for v in band):
                at = layer[-1] if direction == "forward" else layer[0]
                ax.errorbar([at], [(band[0] + band[1]) / 2], yerr=[[(band[1] - band[0]) / 2]], color=col,
                            capsize=4, lw=2, alpha=0.6)
                if obs is not None:
                    ax.plot([at], [obs], "D", ms=5, color=col)
    axes[0].set_title("forward: ln(q_l / q_1) through depth")
    axes[1].set_title("backward: ln(G_l / G_L) through depth")
    for ax in axes:
        ax.set_xlabel("layer")
        ax.axhline(0, color=LAW, lw=0.6)
    axes[0].set_ylabel("log variance ratio")
    _legend(axes[0], fontsize=7)
    fig.text(0.5, 0.01, "bar at the asserted end: acceptance band of the total log ratio; diamond: observed; "
             "dotted: negative controls (mean field)", ha="center", fontsize=7.5, color="#555")
    return fig


def _panel_trajectory(ax: Any, curves: Sequence[dict], legend: bool) -> None:
    from matplotlib.ticker import MaxNLocator

    for k, c in enumerate(curves):
        # An exact zero (the initial weights, identical by construction) has no place on a log axis.
        y = [(float(v) if float(v) > 0 else float("nan")) if _num(v) is not None else 1e3
             for v in c.get("error_over_tolerance") or []]
        if not any(v == v for v in y):
            continue
        steps = (c.get("steps") or list(range(len(y))))[:len(y)]
        ok = c.get("passed", True)
        if legend:
            ax.plot(steps, y, marker="o", ms=3, lw=1.2, color=PALETTE[k % len(PALETTE)], ls="-" if ok else "--",
                    label=str(c.get("mode", "")))
        else:
            ax.plot(steps, y, "-o", ms=3, lw=1, color=COLORS["passed"] if ok else COLORS["failed"],
                    alpha=0.55 if ok else 1.0)
    ax.axhline(1.0, color=COLORS["failed"], lw=1.1, ls="--", label="tolerance (final call)")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.set_yscale("log")
    ax.set_xlabel("optimizer call")
    ax.set_ylabel("max |w − w_ref| / tolerance")


def _trajectory(plt: Any, p: dict) -> Any:
    curves = p.get("curves") or []
    fig, ax = plt.subplots(figsize=(7.4, 3.2))
    fig.subplots_adjust(left=0.12, right=0.97, top=0.88, bottom=0.16)
    _panel_trajectory(ax, curves, legend=False)
    modes = sorted({str(c.get("mode", "")) for c in curves if c.get("mode")})
    ax.set_title(f"trajectory error after each call, {len(curves)} case(s)"
                 + (f": {modes[0]}" if len(modes) == 1 else ""), fontsize=9)
    _legend(ax, loc="lower right")
    return fig


def _convergence(plt: Any, p: dict) -> Any:
    import numpy as np

    decisions = [d for d in (p.get("data") or {}).get("decisions") or [] if isinstance(d, dict)]
    cells = [c for c in p.get("cells") or [] if c.get("losses")]
    ncol = 2 if cells else 1
    fig, axes = plt.subplots(1, ncol, figsize=(5.0 * ncol, 0.55 * len(decisions) + 2.5), squeeze=False)
    fig.subplots_adjust(left=0.2 if ncol == 2 else 0.35, right=0.97, top=0.86, bottom=0.2, wspace=0.3)
    ax = axes[0][0]
    for i, d in enumerate(decisions):
        cell = d.get("cell") or {}
        n = d.get("n") or cell.get("seeds") or 1
        rate = (d.get("statistic") or 0) / n
        col = COLORS["passed"] if d.get("passed", True) else COLORS["failed"]
        lo, hi = _num(cell.get("ci95_low")), _num(cell.get("ci95_high"))
        if lo is not None and hi is not None:
            ax.plot([lo, hi], [i, i], color=col, lw=5, alpha=0.3, solid_capstyle="butt",
                    label="95 % Clopper–Pearson" if i == 0 else None)
        ax.plot([rate], [i], "o", color=col, ms=7, label="observed rate" if i == 0 else None)
        if _num(d.get("claimed_rate")) is not None:
            ax.plot([d["claimed_rate"]], [i], "|", color=LAW, ms=16, mew=2, label="claimed rate" if i == 0 else None)
        if _num(d.get("threshold")) is not None:
            ax.plot([d["threshold"]], [i], "<" if d.get("threshold_kind") == "upper" else ">", color=KERAS, ms=7,
                    label="one-sided bound (decides)" if i == 0 else None)
        ax.text(1.02, i, f"{d.get('statistic')}/{n}", va="center", fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_yticks(range(len(decisions)))
    ax.set_yticklabels([textwrap.shorten(str(d.get("expectation", "")), 30) for d in decisions])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, max(len(decisions), 1) - 0.3)
    ax.set_xlabel("rate (success; divergence for 'diverges' claims)")
    ax.set_title("rate with its Clopper–Pearson interval")
    _legend(ax, loc="lower left", fontsize=7)
    if cells:
        a2 = axes[0][1]
        for c in cells:
            steps = np.asarray(c.get("steps") or [], dtype=float)
            for loss, st in zip(c.get("losses") or [], c.get("status") or []):
                y = np.asarray([np.nan if v is None else v for v in loss], dtype=float)
                a2.plot(steps[:y.size], np.clip(y, 1e-8, None), lw=1, alpha=0.85,
                        color={"success": COLORS["passed"], "diverged": COLORS["failed"]}.get(st, CONTROL))
            if _num(c.get("target")) is not None:
                a2.axhline(c["target"], color=LAW, ls="--", lw=1)
        a2.set_yscale("log")
        a2.set_xlabel("step")
        a2.set_ylabel("training loss")
        a2.set_title("loss of a few seeds (green: success, red: diverged)")
    return fig


def _panel_overview(ax: Any, rows: Sequence[tuple[str, str, Optional[float]]]) -> None:
    rows = sorted(rows, key=lambda r: -(r[2] if math.isfinite(r[2]) else 1e9))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [min(max(r[2], 1e-6), 1e6) if math.isfinite(r[2]) else 1e6 for r in rows],
            color=[COLORS.get(r[1], CONTROL) for r in rows], alpha=0.85, height=0.7)
    ax.axvline(1.0, color=LAW, lw=1.1, ls="--", label="threshold")
    ax.set_xscale("log")
    ax.set_yticks(ys)
    ax.set_yticklabels([r[0].replace("check_", "") for r in rows], fontsize=7)
    ax.set_xlabel("statistic ÷ threshold, worst case (> 1 fails)")
    ax.set_title("how close each check came to its threshold")


def _summary(plt: Any, p: dict) -> Any:
    """Laid out in inches: each panel as wide as its longest label needs, rows of 0.17"."""
    rows, layers, modes = p.get("rows") or [], p.get("layers") or [], p.get("modes") or []
    panels: list[tuple[str, float, float]] = []  # (what, label width, plot width)
    if rows:
        panels.append(("rows", 0.2 + 0.058 * max(len(r[0]) - 6 for r in rows), 3.0))
    if layers:
        panels.append(("layers", 0.15 + 0.058 * max(len(r["label"]) + (0 if r["passed"] else 10) for r in layers),
                       3.0))
    elif modes:
        panels.append(("modes", 0.75, 3.6))
    plot_h = max(2.0, 0.17 * max(len(rows), 1.6 * len(layers), 12))
    legend_h = 0.45 if layers else 0.0
    top, bottom, gap, right = 0.35, 0.55 + legend_h, 0.25, 0.2 if not modes else 2.0
    width = sum(lw + pw for _, lw, pw in panels) + gap * (len(panels) - 1) + right
    height = top + plot_h + bottom
    fig = plt.figure(figsize=(width, height))
    x = 0.0
    for what, lw, pw in panels:
        ax = fig.add_axes(((x + lw) / width, bottom / height, pw / width, plot_h / height))
        x += lw + pw + gap
        if what == "rows":
            _panel_overview(ax, rows)
        elif what == "layers":
            _panel_layers(ax, layers)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.5 / plot_h), ncol=2, fontsize=7, frameon=False)
        else:
            _panel_trajectory(ax, modes, legend=True)
            ax.set_title("trajectory error per mode (worst case of each check)")
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=6.5, frameon=False)
    return fig


def _bars(plt: Any, p: dict) -> Any:
    data = p.get("data") or {}
    rows: list[tuple[str, float, Optional[float]]] = []
    for t in p.get("tests") or []:
        s, thr = _num(t.get("statistic")), _num(t.get("threshold"))
        if s is not None and thr is not None:
            rows.append((str(t.get("test", "")), s, thr))
    for a, b in (("worst_error_over_tolerance", None), ("max_abs_error", "tolerance"),
                 ("max_abs_log_deviation", "threshold")):
        x = _num(data.get(a))
        if x is not None:
            rows.append((a, x, _num(data.get(b)) if b else 1.0))
    status = p.get("status", "failed")
    if not rows:  # a card: the verdict and the message (a failure with no numbers)
        fig, ax = plt.subplots(figsize=(7.4, 1.6))
        fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01)
        ax.set_axis_off()
        ax.add_patch(plt.Rectangle((0, 0), 0.012, 1, color=COLORS.get(status, CONTROL), transform=ax.transAxes))
        ax.text(0.03, 0.85, f"{status.upper()}: {p.get('title', '')}", fontsize=10.5, weight="bold", va="top",
                color=COLORS.get(status, "#333"), transform=ax.transAxes)
        ax.text(0.03, 0.55, "\n".join(textwrap.wrap(p.get("message") or "(no message)", 100)[:4]), fontsize=8.5,
                va="top", family="monospace", transform=ax.transAxes)
        return fig
    fig, ax = plt.subplots(figsize=(7.4, max(1.9, 0.5 * len(rows) + 1.1)))
    fig.subplots_adjust(left=0.32, right=0.82, top=0.84, bottom=0.22)
    ys = list(range(len(rows)))[::-1]
    for y, (name, s, thr) in zip(ys, rows):
        ax.barh(y + 0.18, max(abs(s), 1e-12), height=0.34,
                color=COLORS["failed"] if thr is not None and s > thr else OBSERVED,
                label="statistic" if y == ys[0] else None)
        if thr is not None:
            ax.barh(y - 0.18, max(abs(thr), 1e-12), height=0.34, color=LAW, alpha=0.35,
                    label="threshold" if y == ys[0] else None)
    positive = [abs(v) for r in rows for v in r[1:] if v]
    if positive and max(positive) / min(positive) > 30:
        ax.set_xscale("log")
    ax.set_yticks(ys)
    ax.set_yticklabels([r[0] for r in rows], fontsize=8)
    ax.set_title(f"{p.get('title', '')}: statistic vs threshold")
    _legend(ax, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _heatmap(plt: Any, p: dict) -> Any:
    from ..convergence.heatmap import figure

    return figure(p["rows"], title=p.get("title") or "convergence cells of this run", pyplot=plt)


DRAWERS: dict[str, Callable[[Any, dict], Any]] = {
    "distribution": _distribution, "layer_variance": _layer_variance, "tails": _tails,
    "orthogonality": _orthogonality, "haar": _haar, "propagation": _propagation, "trajectory": _trajectory,
    "convergence": _convergence, "summary": _summary, "bars": _bars, "heatmap": _heatmap,
}
