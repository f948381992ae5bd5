"""Success-rate heatmap of the convergence matrix, as a dependency-free SVG.

One panel per task: initializers down, optimizers across; a cell's shade is
its success rate (white 0 -> dark green 1), its label ``k/S``, and cells
where any seed diverged (NaN/inf) carry a red border and ``div``.  Rows
come from :func:`initcheck.convergence.matrix` or from the JSON lines of
``initcheck convergence --jsonl``.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Sequence
from xml.sax.saxutils import escape

__all__ = ["render_svg", "write_svg", "read_jsonl"]

_CELL_W, _CELL_H, _LABEL_W, _HEAD_H, _GAP = 118, 18, 330, 40, 28


def _shade(rate: float) -> str:
    """White at 0, dark green at 1 (linear in each RGB channel)."""
    if rate != rate:  # NaN: an errored cell
        return "#dddddd"
    lo, hi = (255, 255, 255), (0, 109, 44)
    r, g, b = (round(a + (z - a) * rate) for a, z in zip(lo, hi))
    return f"#{r:02x}{g:02x}{b:02x}"


def _panel(task: str, rows: Sequence[Mapping[str, Any]], top: int) -> tuple[list[str], int]:
    inits = list(dict.fromkeys(r["initializer"] for r in rows))
    opts = list(dict.fromkeys(r.get("optimizer_detail") or r["optimizer"] for r in rows))
    cells = {(r["initializer"], r.get("optimizer_detail") or r["optimizer"]): r for r in rows}
    out = [f'<text x="4" y="{top + 16}" font-weight="bold">{escape(task)}</text>']
    for j, opt in enumerate(opts):
        x = _LABEL_W + j * _CELL_W + _CELL_W / 2
        out.append(f'<text x="{x:.0f}" y="{top + _HEAD_H - 6}" text-anchor="middle" font-size="9">'
                   f'{escape(opt[:26])}</text>')
    for i, init in enumerate(inits):
        y = top + _HEAD_H + i * _CELL_H
        out.append(f'<text x="{_LABEL_W - 6}" y="{y + 13}" text-anchor="end">{escape(init)}</text>')
        for j, opt in enumerate(opts):
            r = cells.get((init, opt))
            if r is None:
                continue
            x = _LABEL_W + j * _CELL_W
            rate = float("nan") if r.get("error") else r["successes"] / max(1, r["seeds"])
            diverged = int(r.get("diverged") or 0)
            stroke = ' stroke="#cc0000" stroke-width="2"' if diverged else ' stroke="#ffffff"'
            out.append(f'<rect x="{x}" y="{y}" width="{_CELL_W}" height="{_CELL_H}" fill="{_shade(rate)}"{stroke}/>')
            label = "error" if r.get("error") else f'{r["successes"]}/{r["seeds"]}' + (f" div {diverged}" if diverged else "")
            ink = "#ffffff" if rate == rate and rate > 0.55 else "#000000"
            out.append(f'<text x="{x + _CELL_W / 2:.0f}" y="{y + 13}" text-anchor="middle" fill="{ink}">'
                       f'{escape(label)}</text>')
    return out, top + _HEAD_H + len(inits) * _CELL_H + _GAP


def render_svg(rows: Iterable[Mapping[str, Any]], title: str = "initcheck convergence matrix") -> str:
    """The heatmap of ``rows`` (one panel per task, in order of appearance) as SVG text."""
    rows = list(rows)
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    body, top = [], 30
    width = _LABEL_W + _CELL_W * max([1] + [len({r.get("optimizer_detail") or r["optimizer"]
                                                  for r in rows if r["task"] == t}) for t in tasks]) + 10
    for task in tasks:
        part, top = _panel(task, [r for r in rows if r["task"] == task], top)
        body.extend(part)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top}" '
            f'font-family="sans-serif" font-size="11">'
            f'<rect width="100%" height="100%" fill="#ffffff"/>'
            f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>')
    return "\n".join([head, *body, "</svg>"]) + "\n"


def write_svg(rows: Iterable[Mapping[str, Any]], path: str, title: str = "initcheck convergence matrix") -> None:
    """Write :func:`render_svg` of ``rows`` to ``path``."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render_svg(rows, title))


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """Rows from ``initcheck convergence --jsonl FILE`` (the last row of a repeated cell wins)."""
    latest: dict[tuple, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                latest[(row["task"], row["initializer"], row.get("optimizer_detail") or row["optimizer"])] = row
    return list(latest.values())
