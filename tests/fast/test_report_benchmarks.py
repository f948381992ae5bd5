"""benchmarks/ratios.py --charts: bar charts of the ratio tables in the report's style."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _bench(kind: str, t: float, **info) -> dict:
    return {"name": f"{kind}-{info}", "extra_info": {"kind": kind, **info},
            "stats": {"min": t, "median": t * 1.1, "mean": t * 1.2}}


def _doc() -> dict:
    benches = []
    for model, batch in (("mlp64", 32), ("cnn", 64)):
        for mode, scale in (("function", 1.0), ("xla", 0.7), ("eager", 4.0)):
            for opt, f in (("raw", 1.0), ("SGD", 1.1), ("Adam", 1.6)):
                benches.append(_bench("train_step", 1e-3 * scale * f, mode=mode, model=model, batch=batch,
                                      optimizer=opt))
        benches.append(_bench("fit_epoch", 0.2, model=model, batch=batch))
        benches.append(_bench("loop_epoch", 0.1, model=model, batch=batch))
    for name in ("GlorotUniform", "HeNormal"):
        for sampler, t in (("keras", 0.02), ("numpy", 0.01)):
            benches.append(_bench("init_sampling", t, initializer=name, sampler=sampler, values=1 << 20,
                                  shape=[1024, 1024]))
    return {"datetime": "2026-12-01T10:00:00", "machine_info": {"initcheck": {"tensorflow": "2.21.0",
                                                                              "keras": "3.15.1"}},
            "benchmarks": benches}


def test_ratio_charts_page(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("ratios", None)
    import ratios

    path = tmp_path / "run.json"
    path.write_text(json.dumps(_doc()))
    assert ratios.main([str(path), "--charts", str(tmp_path / "charts")]) == 0
    out = capsys.readouterr()
    assert "Optimizer step ÷ raw SGD step" in out.out  # the markdown is unchanged
    index = tmp_path / "charts" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>") and "<script" not in html
    svgs = sorted((tmp_path / "charts").glob("*.svg"))
    names = {p.stem for p in svgs}
    assert {"optimizer-over-raw-function", "xla-over-function", "fit-over-loop", "keras-over-numpy"} <= names
    for p in svgs:
        assert p.read_text().lstrip().startswith("<?xml") and "<svg" in p.read_text() and p.stat().st_size > 1000
        assert f'src="{p.name}"' in html
    assert "Adam" in html and "headline" in html
