"""`initcheck convergence`: the matrix on the command line, streamed rows, the heatmap, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from initcheck.cli import main
from initcheck.convergence.heatmap import read_jsonl, render_svg

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


def test_heatmap_is_valid_svg_with_one_cell_per_row_and_marks_divergence():
    svg = render_svg(ROWS)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    cells = [r for r in root.iter(f"{ns}rect") if r.get("height") != "100%"]
    assert len(cells) == 2
    assert cells[0].get("fill") == "#006d2c"          # rate 1: dark green
    assert cells[1].get("fill") == "#ffffff"          # rate 0: white
    assert cells[1].get("stroke") == "#cc0000"        # diverged seeds: red border
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "4/4" in texts and "0/4 div 3" in texts


def test_from_jsonl_prints_the_table_and_the_last_row_of_a_cell_wins(tmp_path, capsys):
    again = dict(ROWS[0], successes=3)
    _write(tmp_path / "rows.jsonl", ROWS + [again])
    assert len(read_jsonl(str(tmp_path / "rows.jsonl"))) == 2
    svg = tmp_path / "m.svg"
    assert main(["convergence", "--from-jsonl", str(tmp_path / "rows.jsonl"), "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    assert "| xor | keras>HeNormal | SGD(learning_rate=0.5) | 3/4 |" in out
    ET.fromstring(svg.read_text())


def test_bad_input_names_what_was_wrong(capsys):
    assert main(["convergence", "--tasks", "no_such_task"]) == 2
    assert "no_such_task" in capsys.readouterr().err
    assert main(["convergence", "--seeds", "0"]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert main(["convergence", "--select", "no>such*", "--tasks", "xor"]) == 2
    assert "no>such*" in capsys.readouterr().err


def test_rendering_earlier_rows_imports_no_tensorflow(tmp_path):
    _write(tmp_path / "rows.jsonl", ROWS)
    code = ("import sys; from initcheck.cli import main; "
            f"rc = main(['convergence', '--from-jsonl', {str(tmp_path / 'rows.jsonl')!r}]); "
            "assert rc == 0 and 'tensorflow' not in sys.modules, sorted(m for m in sys.modules if 'tensorflow' in m)[:3]")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
