"""Figure data: the small, bounded summaries a check leaves for the report's figures.

A check already holds what explains its verdict -- a pooled sample, a Gram
matrix, a weight history, loss curves -- and throws it away when it returns.
These helpers keep a *summary* of it as ``evidence.data["figure"]``: a dict
with a ``kind`` and plain-number lists, every list bounded (a few KB per
evidence, never the raw sample).  The report (:mod:`initcheck.reports.figures`)
draws from it without re-running anything; ``format_evidence`` leaves it out
of failure messages.

The contract, per ``kind`` (and who stores it):

``distribution`` -- :func:`histogram_summary` (``check_law_fit``, ``check_variance``,
``check_mean``, through the one marginal runner)
    ``n``; ``law``; ``hist_edges`` (65) and ``hist_density`` (64) over the law's
    central range, ``below``/``above`` counts outside it; ``pdf_x``/``pdf``
    (<= 200, absent for a law without a density); ``ecdf_x``, ``ecdf``,
    ``law_cdf`` (201 each, one grid); ``qq_p``, ``qq_sample``, ``qq_law`` (99).
    The DKWM band and the sup-distance point come from ``data["tests"]``.
``orthogonality`` -- :func:`gram_summary` (``check_orthogonality``)
    ``eigenvalues`` (<= 200, sorted: the singular values of ``QᵀQ``),
    ``target`` (``gain²``), ``tolerance``.
``haar`` -- :func:`ecdf_panels` (``check_haar``, ``check_haar_rotation_angle``)
    ``panels``: <= 3 of ``{"label", "x" (<= 200 sorted values), "null_cdf",
    "eps" (the DKWM threshold)}``; the sign test comes from ``data["tests"]``.
``propagation`` -- :func:`propagation_controls` (the propagation runner)
    ``controls``: ``{activation: {label: {"forward", "backward"}}}``, <= 64
    layers each: the mean-field curves of negative controls (``σw²`` halved,
    doubled, and the spec's declared ``σw²``).  Measured and reference curves
    and the bands are in ``data["activations"][act]``.
``trajectory`` -- :func:`trajectory_summary` (every optimizer comparison)
    ``mode``; ``steps`` (<= 64); ``error_over_tolerance`` (max over coordinates of
    ``|w - w_ref| / tol_final`` after each call); ``final``.
``convergence`` -- :func:`convergence_summary` (the convergence runner)
    ``cells``: per decision ``{"expectation", "steps", "losses" (<= 8 seeds x
    <= 100 steps), "status", "target"}`` (the cell's
    :attr:`~initcheck.convergence.cells.CellResult.curves`); rates and
    Clopper-Pearson bounds are in ``data["decisions"]``.

Every helper is *safe*: an exception inside it gives ``None`` (no figure),
never a changed verdict.  Costs are linear in what the check holds (a
million-value sample: two histograms and one partition, tens of ms).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

__all__ = ["histogram_summary", "gram_summary", "ecdf_panels", "propagation_controls", "trajectory_summary",
           "convergence_summary", "bounded", "subsample", "HIST_BINS", "ECDF_POINTS", "QQ_POINTS", "MAX_POINTS"]

HIST_BINS = 64
ECDF_POINTS = 201
QQ_POINTS = 99
MAX_POINTS = 200
MAX_LAYERS = 64


def _safe(fn: Callable[..., Optional[dict]]) -> Callable[..., Optional[dict]]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Optional[dict]:
        try:
            return fn(*args, **kwargs)
        except Exception:  # figure data is decoration: it never fails a check
            return None

    return wrapper


def bounded(a: Any, digits: int = 7) -> list:
    """Floats rounded to ``digits`` significant digits (non-finite -> ``None``), as a flat list."""
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else None
            for v in np.asarray(a, dtype=np.float64).ravel().tolist()]


def subsample(a: Any, k: int) -> np.ndarray:
    """At most ``k`` evenly spaced entries of ``a`` (first and last kept)."""
    a = np.asarray(a)
    if a.shape[0] <= k:
        return a
    return a[np.unique(np.linspace(0, a.shape[0] - 1, k).round().astype(int))]


@_safe
def histogram_summary(x: np.ndarray, law: Any) -> Optional[dict]:
    """``distribution``: histogram, ECDF and the law's CDF on one grid, QQ quantiles, the law's density.

    The grid spans the law's support (its 1e-4 and 1 - 1e-4 quantiles when
    unbounded), widened to take in the sample's extremes up to half that
    range again on each side.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    n = int(x.size)
    dist = law.dist()
    lo, hi = (float(v) for v in law.support())
    lo = lo if math.isfinite(lo) else float(dist.ppf(1e-4))
    hi = hi if math.isfinite(hi) else float(dist.ppf(1 - 1e-4))
    width = hi - lo
    a = max(min(lo - 0.02 * width, float(x.min())), lo - 0.5 * width)
    b = min(max(hi + 0.02 * width, float(x.max())), hi + 0.5 * width)
    counts, edges = np.histogram(x, bins=HIST_BINS, range=(a, b))
    below, above = int(np.count_nonzero(x < a)), int(np.count_nonzero(x > b))
    fine, grid = np.histogram(x, bins=ECDF_POINTS - 1, range=(a, b))
    ecdf = (below + np.concatenate([[0], np.cumsum(fine)])) / n
    ecdf[-1] = (n - above) / n
    p = np.concatenate([[5e-4, 1e-3, 5e-3], np.linspace(0.01, 0.99, QQ_POINTS - 6), [0.995, 0.999, 0.9995]])
    out = {"kind": "distribution", "n": n, "law": str(law), "hist_edges": bounded(edges),
           "hist_density": bounded(counts / (n * (edges[1] - edges[0]))), "below": below, "above": above,
           "ecdf_x": bounded(grid), "ecdf": bounded(ecdf), "law_cdf": bounded(law.cdf(grid)),
           "qq_p": bounded(p), "qq_sample": bounded(np.quantile(x, p)), "qq_law": bounded(dist.ppf(p))}
    try:
        px = np.linspace(a, b, MAX_POINTS)
        out["pdf_x"], out["pdf"] = bounded(px), bounded(dist.pdf(px))
    except Exception:  # a law without a density: no curve
        pass
    return out


@_safe
def gram_summary(gram: np.ndarray, gain: float, tolerance: float) -> Optional[dict]:
    """``orthogonality``: the sorted singular values of the Gram matrix ``QᵀQ`` (<= 200, by rank)."""
    ev = np.sort(np.linalg.eigvalsh(np.asarray(gram, dtype=np.float64)))
    return {"kind": "orthogonality", "eigenvalues": bounded(subsample(ev, MAX_POINTS), 12),
            "target": float(gain) ** 2, "tolerance": float(tolerance)}


@_safe
def ecdf_panels(panels: Sequence[tuple[str, np.ndarray, Callable[[np.ndarray], np.ndarray], float]]
                ) -> Optional[dict]:
    """``haar``: per statistic ``(label, values, null cdf, eps)``, its sorted values and the null CDF there."""
    out = []
    for label, values, cdf, eps in list(panels)[:3]:
        x = subsample(np.sort(np.asarray(values, dtype=np.float64).ravel()), MAX_POINTS)
        out.append({"label": label, "x": bounded(x), "null_cdf": bounded(cdf(x)), "eps": float(eps)})
    return {"kind": "haar", "panels": out}


@_safe
def propagation_controls(activations: Mapping[str, Mapping[str, Any]], depth: int) -> Optional[dict]:
    """``propagation``: mean-field curves of negative controls for each measured activation.

    ``activations`` is the runner's ``{act: data}`` (with
    ``reference_sigma_w2`` and ``declared_sigma_w2``).  Controls: the design
    variance halved and doubled, and the declared variance where it differs
    from the design by more than 1 %: ``ln(q_l/q_1)`` forward, ``ln(G_l/G_L)``
    backward.
    """
    from ..references.propagation import mean_field

    out: dict[str, dict] = {}
    for act, d in activations.items():
        ref = float(d["reference_sigma_w2"])
        declared = float(d.get("declared_sigma_w2", float("nan")))
        variants = {"σw² × 0.5": 0.5 * ref, "σw² × 2": 2.0 * ref}
        if math.isfinite(declared) and declared > 0 and abs(declared / ref - 1) > 0.01:
            variants[f"declared σw² = {declared:.3g}"] = declared
        curves = {}
        for label, sw2 in variants.items():
            try:
                mf = mean_field(act, sw2, depth)
            except (OverflowError, ValueError, ZeroDivisionError):
                continue
            logq = np.log(mf.q)
            curves[label] = {"forward": bounded(subsample(logq - logq[0], MAX_LAYERS), 5),
                             "backward": bounded(subsample(np.asarray(mf.log_grad), MAX_LAYERS), 5)}
        out[act] = curves
    return {"kind": "propagation", "controls": out}


@_safe
def trajectory_summary(mode: str, observed: Sequence[Sequence[np.ndarray]],
                       reference: Sequence[Sequence[np.ndarray]], tolerances: Sequence[np.ndarray],
                       ties: Optional[Sequence[np.ndarray]] = None) -> Optional[dict]:
    """``trajectory``: after each call, the worst ``|w - w_ref| / tol_final`` over coordinates.

    ``observed`` and ``reference`` are weight histories (``[call][variable]``),
    aligned at their ends; the final tolerance scales every call (it grows
    with the path, so early calls are judged strictly).
    """
    k = min(len(observed), len(reference))
    errors = []
    for o_step, r_step in zip(list(observed)[-k:], list(reference)[-k:]):
        worst = 0.0
        for i, (o, r, t) in enumerate(zip(o_step, r_step, tolerances)):
            o, r = np.asarray(o, dtype=np.float64), np.asarray(r, dtype=np.float64)
            if o.shape != r.shape:
                continue
            with np.errstate(all="ignore"):
                ratio = np.abs(o - r) / np.maximum(np.asarray(t, dtype=np.float64), 1e-300)
            if ties is not None and i < len(ties):
                ratio = np.where(np.asarray(ties[i], dtype=bool), 0.0, ratio)
            if ratio.size:
                worst = max(worst, float(np.nan_to_num(ratio, nan=np.inf).max()))
        errors.append(worst)
    total = max(len(observed), len(reference))
    idx = subsample(np.arange(k), MAX_LAYERS)
    return {"kind": "trajectory", "mode": str(mode), "steps": [int(total - k + i) for i in idx],
            "error_over_tolerance": bounded([errors[i] for i in idx], 4), "final": bounded(errors[-1:] or [0.0], 4)[0]}


@_safe
def convergence_summary(decisions: Sequence[Any]) -> Optional[dict]:
    """``convergence``: each decision's cell curves (rates and bounds stay in the decisions)."""
    return {"kind": "convergence",
            "cells": [{"expectation": getattr(d, "expectation", ""), **(getattr(d, "curves", None) or {})}
                      for d in decisions]}
