"""`initcheck convergence`: the matrix on the command line, streamed rows, the heatmap, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from initcheck.cli import main
from initcheck.convergence.heatmap import read_jsonl

pytest.importorskip("matplotlib")

ROWS = [
    {"task": "xor", "initializer": "keras>HeNormal", "optimizer": "sgd", "optimizer_detail": "SGD(learning_rate=0.5)",
     "seeds": 4, "successes": 4, "diverged": 0, "stalled": 0, "rate": 1.0, "ci95_low": 0.40, "ci95_high": 1.0,
     "median_steps": 92.0, "seconds": 1.0},
    {"task": "xor", "initializer": "control>N(0,1)", "optimizer": "sgd", "optimizer_detail": "SGD(learning_rate=0.5)",
     "seeds": 4, "successes": 0, "diverged": 3, "stalled": 1, "rate": 0.0, "ci95_low": 0.0, "ci95_high": 0.6,
     "median_steps": None, "seconds": 1.0},
]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _texts(svg: str) -> list[str]:
    """The text of an SVG written with text as text (``svg.fonttype = none``)."""
    return ["".join(t.itertext()).strip() for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def test_heatmap_shows_one_cell_per_row_and_marks_divergence():
    from matplotlib.colors import to_hex

    from initcheck.convergence.heatmap import figure

    fig = figure(ROWS)
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    assert grid.shape == (2, 1)
    cmap, norm = ax.images[0].get_cmap(), ax.images[0].norm
    assert to_hex(cmap(norm(grid[0, 0]))) == "#006d2c"  # rate 1: dark green
    assert to_hex(cmap(norm(grid[1, 0]))) == "#ffffff"  # rate 0: white
    borders = [p for p in ax.patches if to_hex(p.get_edgecolor()) == "#cc0000"]
    assert len(borders) == 1  # diverged seeds: a red border, on the second row only
    assert borders[0].get_y() > 0.5
    labels = [t.get_text() for t in ax.texts]
    assert "4/4" in labels and "0/4 div 3" in labels


def test_heatmap_file_type_follows_the_suffix(tmp_path):
    from initcheck.convergence.heatmap import write

    svg, png = write(ROWS, tmp_path / "m.svg"), write(ROWS, tmp_path / "m.png")
    assert "0/4 div 3" in _texts(svg.read_text()) and "keras>HeNormal" in _texts(svg.read_text())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    with pytest.raises(ValueError, match=".svg or .png"):
        write(ROWS, tmp_path / "m.pdf")


def test_from_jsonl_prints_the_table_and_the_last_row_of_a_cell_wins(tmp_path, capsys):
    again = dict(ROWS[0], successes=3)
    _write(tmp_path / "rows.jsonl", ROWS + [again])
    assert len(read_jsonl(str(tmp_path / "rows.jsonl"))) == 2
    svg = tmp_path / "m.svg"
    assert main(["convergence", "--from-jsonl", str(tmp_path / "rows.jsonl"), "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    assert "| xor | keras>HeNormal | SGD(learning_rate=0.5) | 3/4 |" in out
    assert "3/4" in _texts(svg.read_text())
    assert main(["convergence", "--from-jsonl", str(tmp_path / "rows.jsonl"), "--svg", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_input_names_what_was_wrong(capsys):
    assert main(["convergence", "--tasks", "no_such_task"]) == 2
    assert "no_such_task" in capsys.readouterr().err
    assert main(["convergence", "--seeds", "0"]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert main(["convergence", "--select", "no>such*", "--tasks", "xor"]) == 2
    assert "no>such*" in capsys.readouterr().err
    assert main(["convergence", "--tasks", "xor", "--svg", "matrix.pdf"]) == 2  # refused before training
    assert ".svg or .png" in capsys.readouterr().err


def test_rendering_earlier_rows_imports_no_tensorflow(tmp_path):
    _write(tmp_path / "rows.jsonl", ROWS)
    code = ("import sys; from initcheck.cli import main; "
            f"rc = main(['convergence', '--from-jsonl', {str(tmp_path / 'rows.jsonl')!r}, "
            f"'--svg', {str(tmp_path / 'm.svg')!r}]); "
            "assert rc == 0 and 'tensorflow' not in sys.modules, sorted(m for m in sys.modules if 'tensorflow' in m)[:3]")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
