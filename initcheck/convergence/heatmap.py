"""Success-rate heatmap of the convergence matrix, drawn with Matplotlib (the report's plotting library).

One panel per task: initializers down, optimizers across; a cell's shade is
its success rate (white 0 -> dark green 1), its label ``k/S``, and a cell
where any seed diverged (NaN/inf) carries a red border and ``div N``.  Rows
come from :func:`initcheck.convergence.sweep.sweep`, from the JSON lines of
``initcheck convergence --jsonl`` (:func:`read_jsonl`: no TensorFlow), or
from the convergence decisions of a report.  The file type follows the
file name: ``.svg`` or ``.png``.  Matplotlib is the ``[report]`` extra.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

__all__ = ["figure", "write", "read_jsonl", "rows_of", "FORMATS"]

#: File types :func:`write` can produce, by suffix.
FORMATS = (".svg", ".png")
_GREEN = "#006d2c"


def _label(row: Mapping[str, Any]) -> str:
    return str(row.get("optimizer_detail") or row["optimizer"])


def _rate(row: Mapping[str, Any]) -> float:
    return float("nan") if row.get("error") else row["successes"] / max(1, row["seeds"])


def _wrap(label: str) -> str:
    """``SGD(learning_rate=0.05, momentum=0.9)`` on three short lines: name, then one setting a line."""
    return label.replace("(", "\n(", 1).replace(", ", ",\n")


def figure(rows: Iterable[Mapping[str, Any]], title: str = "initcheck convergence matrix",
           pyplot: Any = None) -> Any:
    """The heatmap of ``rows`` as a Matplotlib figure (one panel per task, in order of appearance)."""
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap

    if pyplot is None:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as pyplot
    rows = list(rows)
    panels = []
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        panels.append((task, list(dict.fromkeys(r["initializer"] for r in mine)),
                       list(dict.fromkeys(_label(r) for r in mine)), {(r["initializer"], _label(r)): r for r in mine}))
    # Laid out in inches: rows of 0.22", columns of 1.5", the labels as wide as the longest one.
    row_h, col_w, head, gap, top = 0.22, 1.4, 0.75, 0.3, 0.55
    label_w = 0.2 + 0.062 * max([len(i) for _, inits, _, _ in panels for i in inits] or [8])
    width = max(label_w + col_w * max([len(opts) for _, _, opts, _ in panels] or [1]) + 0.15,
                0.2 + 0.1 * len(title), 5.2)
    height = top + sum(head + row_h * max(len(inits), 1) + gap for _, inits, _, _ in panels)
    fig = pyplot.figure(figsize=(width, height))
    y = height - top
    axes = []
    for _, inits, opts, _ in panels:
        h = row_h * max(len(inits), 1)
        y -= head + h
        axes.append(fig.add_axes((label_w / width, y / height, col_w * len(opts) / width, h / height)))
        y -= gap
    cmap = LinearSegmentedColormap.from_list("rate", ["#ffffff", _GREEN]).with_extremes(bad="#dddddd")
    for ax, (task, inits, opts, cells) in zip(axes, panels):
        grid = np.full((len(inits), len(opts)), np.nan)
        for i, init in enumerate(inits):
            for j, opt in enumerate(opts):
                if (init, opt) in cells:
                    grid[i, j] = _rate(cells[(init, opt)])
        ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto",
                  interpolation="nearest")
        for (init, opt), r in cells.items():
            i, j = inits.index(init), opts.index(opt)
            rate, div = _rate(r), int(r.get("diverged") or 0)
            text = "error" if r.get("error") else f"{r['successes']}/{r['seeds']}" + (f" div {div}" if div else "")
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5,
                    color="#ffffff" if rate == rate and rate > 0.55 else "#000000")
            if div:
                ax.add_patch(pyplot.Rectangle((j - 0.47, i - 0.44), 0.94, 0.88, fill=False, edgecolor="#cc0000",
                                              lw=1.6))
        ax.set_xticks(range(len(opts)))
        ax.set_xticklabels([_wrap(o) for o in opts], fontsize=7)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(inits)))
        ax.set_yticklabels(inits, fontsize=7.5)
        ax.tick_params(length=0)
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_title(task, loc="left", fontsize=9.5, fontweight="bold", pad=34)
    fig.text(0.1 / width, 1 - 0.1 / height, title, ha="left", va="top", fontsize=10.5, fontweight="bold")
    fig.text(0.1 / width, 1 - 0.3 / height, "shade: success rate k/S (white 0, green 1); red border: seeds that "
             "diverged", ha="left", va="top", fontsize=7.5, color="#555555")
    return fig


def write(rows: Iterable[Mapping[str, Any]], path: Union[str, Path], title: str = "initcheck convergence matrix"
          ) -> Path:
    """Draw :func:`figure` of ``rows`` to ``path`` (``.svg`` or ``.png``); ``ValueError`` for another suffix."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"{path}: the heatmap is written as {' or '.join(FORMATS)} (by the file's suffix)")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig = figure(rows, title, pyplot=plt)
    try:
        with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "initcheck"}):
            fig.savefig(path, format=path.suffix.lower()[1:], dpi=110,
                        metadata={"Date": None} if path.suffix.lower() == ".svg" else {"Software": None})
    finally:
        plt.close(fig)
    return path


def read_jsonl(path: Union[str, Path]) -> list[dict[str, Any]]:
    """Rows from ``initcheck convergence --jsonl FILE`` (the last row of a repeated cell wins)."""
    latest: dict[tuple, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                latest[(row["task"], row["initializer"], _label(row))] = row
    return list(latest.values())


def rows_of(decisions: Sequence[Mapping[str, Any]], *, seen: Optional[set] = None) -> list[dict[str, Any]]:
    """Heatmap rows from convergence decisions (``evidence.data["decisions"]``): each decision's cell, once."""
    seen = set() if seen is None else seen
    out = []
    for d in decisions:
        cell = d.get("cell") if isinstance(d, Mapping) else None
        if isinstance(cell, Mapping) and {"task", "initializer", "optimizer", "successes", "seeds"} <= set(cell):
            key = (cell["task"], cell["initializer"], _label(cell))
            if key not in seen:
                seen.add(key)
                out.append(dict(cell))
    return out
