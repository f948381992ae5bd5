"""benchmarks/ratios.py puts the JAX and PyTorch training steps in the same tables as TensorFlow's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def ratios(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("ratios", None)
    import ratios as module

    return module


def _step(mode: str, optimizer: str, t: float, paired: float = None) -> dict:
    info = {"kind": "train_step", "mode": mode, "model": "mlp64", "batch": 32, "optimizer": optimizer}
    if paired is not None:
        info["paired_over_raw"] = {"ratio_of_mins": paired}
    return {"name": f"{mode}-{optimizer}", "extra_info": info, "stats": {"min": t, "median": t, "mean": t}}


def _doc(backend: str, modes: tuple[str, str]) -> dict:
    compiled, eager = modes
    benches = [_step(compiled, "raw", 1e-3), _step(compiled, "Adam", 3e-3, paired=2.5),
               _step(eager, "raw", 4e-3), _step(eager, "Adam", 2e-2)]  # Adam eager: no pair, 2e-2 / 4e-3
    return {"datetime": "2026-12-02T10:00:00",
            "machine_info": {"initcheck": {"backend": backend, backend: "9.9", "tensorflow": None, "keras": "3.15.1"}},
            "benchmarks": benches}


@pytest.mark.parametrize("backend, modes, titles", [
    ("jax", ("jax-jit", "jax-eager"), ("JAX, jax.jit", "JAX, eager")),
    ("torch", ("torch-compile", "torch-eager"), ("PyTorch, torch.compile", "PyTorch, eager")),
])
def test_backend_steps_land_in_the_ratio_tables(ratios, backend, modes, titles):
    doc = _doc(backend, modes)
    r = ratios.compute(doc)
    compiled, eager = modes
    assert r["optimizer_over_raw"][compiled]["Adam"]["mlp64 b32"] == pytest.approx(2.5)  # the paired ratio wins
    assert r["optimizer_over_raw"][eager]["Adam"]["mlp64 b32"] == pytest.approx(5.0)  # else the division
    assert r["compiled_over_eager"][compiled]["Adam"]["mlp64 b32"] == pytest.approx(3e-3 / 2e-2)
    assert r["compiled_over_eager"][compiled]["raw"]["mlp64 b32"] == pytest.approx(0.25)
    head = ratios.headline(r)
    assert head[f"optimizer/raw ({compiled}), geomean"] == pytest.approx(2.5)
    assert head[f"{compiled}/{eager}, geomean"] == pytest.approx((0.15 * 0.25) ** 0.5)
    text = ratios.markdown(doc)
    for title in titles:
        assert f"### Optimizer step ÷ raw SGD step, {title}" in text
    assert f"### {titles[0]} ÷ {titles[1]}, same step" in text
    assert f"; backend {backend} ({backend} 9.9); TensorFlow not in use" in text


def test_tensorflow_tables_are_unchanged_by_the_backend_modes(ratios):
    benches = [_step("function", "raw", 1e-3), _step("function", "Adam", 2e-3), _step("eager", "Adam", 8e-3)]
    r = ratios.compute({"benchmarks": benches})
    assert r["compiled_over_eager"] == {}
    assert r["eager_over_function"]["Adam"]["mlp64 b32"] == pytest.approx(4.0)
    head = ratios.markdown({"benchmarks": benches}).splitlines()[0]
    assert "TensorFlow ?" in head and "backend" not in head
