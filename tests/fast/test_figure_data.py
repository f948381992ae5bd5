"""Figure data: bounded summaries, safe on bad input; every figure kind of the report draws from them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from initcheck.checks import figure_data as fd
from initcheck.convergence.cells import loss_curves
from initcheck.laws import Normal, Uniform


def test_histogram_summary_is_bounded_and_matches_the_law():
    x = np.random.default_rng(0).normal(0.0, 2.0, size=400_000)
    f = fd.histogram_summary(x, Normal(std=2.0))
    assert f["kind"] == "distribution" and f["n"] == x.size
    assert len(f["hist_edges"]) == 65 and len(f["hist_density"]) == 64
    assert len(f["ecdf_x"]) == len(f["ecdf"]) == len(f["law_cdf"]) == 201
    assert len(f["qq_p"]) == len(f["qq_sample"]) == len(f["qq_law"]) == 99 and len(f["pdf"]) <= 200
    assert max(abs(a - b) for a, b in zip(f["ecdf"], f["law_cdf"])) < 0.01
    assert f["ecdf"][-1] == pytest.approx(1 - f["above"] / x.size)
    assert len(json.dumps(f)) < 20_000


def test_histogram_counts_escaped_values():
    x = np.concatenate([np.random.default_rng(1).uniform(-1, 1, 10_000), [5.0, -7.0]])
    f = fd.histogram_summary(x, Uniform(low=-1.0, high=1.0))
    assert f["below"] == 1 and f["above"] == 1


def test_helpers_never_raise():
    assert fd.histogram_summary(np.ones(3), object()) is None
    assert fd.trajectory_summary("m", None, None, None) is None
    assert fd.convergence_summary(None) is None
    assert fd.gram_summary("not a matrix", 1.0, 0.0) is None
    assert loss_curves(np.ones(3), ["success"] * 3, 0.1) is None


def test_trajectory_summary_per_call():
    ref = [[np.zeros(3)], [np.ones(3)], [2 * np.ones(3)]]
    obs = [[np.zeros(3)], [np.ones(3) + 1e-3], [2 * np.ones(3) + 4e-3]]
    f = fd.trajectory_summary("3-step", obs, ref, [np.full(3, 2e-3)])
    assert f["steps"] == [0, 1, 2] and f["error_over_tolerance"] == pytest.approx([0.0, 0.5, 2.0])
    assert f["final"] == pytest.approx(2.0)
    # Only a final state (an EMA slot, a stacked run): one point, aligned at the end.
    assert fd.trajectory_summary("x", [obs[-1]], ref, [np.full(3, 2e-3)])["steps"] == [2]
    # A tie coordinate (the reference cannot decide its sign) does not count.
    tie = [np.array([True, False, False])]
    skewed = [[np.zeros(3)], [np.array([9.0, 1.0, 1.0])]]
    assert fd.trajectory_summary("t", skewed, ref[:2], [np.ones(3)], tie)["final"] == 0.0


def test_loss_curves_show_failures_and_successes():
    losses = np.abs(np.random.default_rng(2).normal(size=(501, 20)))
    status = ["success"] * 15 + ["diverged"] * 3 + ["stalled"] * 2
    c = loss_curves(losses, status, 0.1)
    assert len(c["losses"]) == 8 and len(c["steps"]) <= 100 and c["steps"][-1] == 500
    assert sum(s != "success" for s in c["status"]) == 4 and "success" in c["status"]
    losses[:, 15] = np.inf  # the first diverged seed: shown first, its non-finite losses as gaps
    c = loss_curves(losses, status, None)
    assert c["seeds"][0] == 15 and c["losses"][0][0] is None and c["target"] is None


def test_gram_and_haar_panels_are_bounded():
    q, _ = np.linalg.qr(np.random.default_rng(4).normal(size=(300, 300)))
    g = fd.gram_summary(q.T @ q, 1.0, 1e-6)
    assert g["kind"] == "orthogonality" and len(g["eigenvalues"]) == 200 and g["target"] == 1.0
    h = fd.ecdf_panels([("a", np.arange(1000.0), lambda v: v / 1000, 0.1)] * 4)
    assert len(h["panels"]) == 3 and all(len(p["x"]) <= 200 for p in h["panels"])


def test_propagation_controls_bracket_the_design_variance():
    data = {"relu": {"reference_sigma_w2": 2.0, "declared_sigma_w2": 1.0}}
    f = fd.propagation_controls(data, 50)
    curves = f["controls"]["relu"]
    assert set(curves) == {"σw² × 0.5", "σw² × 2", "declared σw² = 1"}
    assert curves["σw² × 2"]["forward"][-1] > 0 > curves["σw² × 0.5"]["forward"][-1]
    assert len(curves["σw² × 2"]["backward"]) <= 64


# ------------------------------------------------------------------ every figure kind draws

def _tests(statistic, threshold, **obs):
    return [{"test": "t", "statistic": statistic, "threshold": threshold, "passed": statistic <= threshold,
             "n": 1000, "alpha": 5e-11, "beta": 1e-6, "smallest_detectable": 0.01, "discrepancy_unit": "u",
             "observed": obs, "expected": {}}]


def _evidence(kind: str) -> dict:
    rng = np.random.default_rng(3)
    data: dict = {}
    if kind == "distribution":
        data = {"tests": _tests(0.03, 0.01, sup_distance=0.03, at=1.0),
                "figure": fd.histogram_summary(rng.normal(0, 1.1, 100_000), Normal(std=1.0))}
    elif kind == "orthogonality":
        q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
        data = {"figure": fd.gram_summary(q.T @ q, 1.0, 1e-6)}
    elif kind == "haar":
        data = {"tests": [{**_tests(10, 47)[0], "observed": {"positive": 110}, "expected": {"accept_counts": [53, 147]}}],
                "figure": fd.ecdf_panels([("u", rng.uniform(size=200), lambda v: np.clip(v, 0, 1), 0.2)])}
    elif kind == "trajectory":
        data = {"figure": fd.trajectory_summary("m", [[np.zeros(2)], [np.ones(2)]], [[np.zeros(2)], [np.ones(2) * 1.1]],
                                                [np.full(2, 0.05)])}
    elif kind == "bars":
        data = {"tests": _tests(3.0, 1.0)}
    elif kind == "tails":
        data = {"tests": [{**_tests(40, 18)[0], "observed": {"count": 40},
                           "expected": {"mean_count": 2.0, "reject_at_count": 18}}]}
    elif kind == "layer_variance":
        data = {"layer": "gru", "tests": [{**_tests(30, 6.6)[0], "test": "variance_z_kernel",
                                           "observed": {"variance": 0.6},
                                           "expected": {"variance": 1.0, "variance_at_keras_fans": 0.6,
                                                        "excess_kurtosis": -1.2}}]}
    elif kind == "convergence":
        curves = loss_curves(np.exp(-np.linspace(0, 5, 200))[:, None] * np.ones((1, 4)), ["success"] * 4, 0.01)
        decision = type("D", (), {"expectation": "e", "curves": curves})()
        data = {"decisions": [{"expectation": "e", "claim": "trains", "statistic": 3, "n": 4, "claimed_rate": 0.9,
                               "threshold": 0.99, "threshold_kind": "upper", "passed": False,
                               "cell": {"ci95_low": 0.2, "ci95_high": 0.99}}],
                "figure": fd.convergence_summary([decision])}
    elif kind == "propagation":
        layer = list(range(1, 51))
        data = {"activations": {"relu": {
            "curves": {"layer": layer, "log_q_measured": [0.1 * i for i in layer], "log_q_reference": [0] * 50,
                       "log_grad_measured": [0.0] * 50, "log_grad_reference": [0.0] * 50},
            "threshold": {"forward": [-0.5, 0.5], "backward": [-0.5, 0.5]}, "observed": {"forward": 4.9, "backward": 0.0},
            "reference_sigma_w2": 2.0, "declared_sigma_w2": 1.0}}}
        data["figure"] = fd.propagation_controls(data["activations"], 50)
    return {"passed": False, "message": "failed: something", "case": {"seed": 1}, "data": data}


KINDS = ["distribution", "orthogonality", "haar", "trajectory", "bars", "card", "tails", "layer_variance",
         "convergence", "propagation"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_plans_and_draws_an_svg(kind, tmp_path):
    pytest.importorskip("matplotlib")
    from initcheck.reports import figures

    name = {"layer_variance": "check_layer_variance_gru"}.get(kind, f"check_{kind}")
    plan = figures.plan(name, "failed", [_evidence(kind)], "failed: something")
    assert plan["kind"] == {"card": "bars"}.get(kind, kind)
    path = figures.draw(plan, tmp_path / figures.figure_name(plan, kind))
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and len(list(root.iter())) > 15
    stamp = path.stat().st_mtime_ns
    assert figures.draw(plan, path).stat().st_mtime_ns == stamp  # content-named: drawn once


def test_the_summary_and_the_heatmap_draw(tmp_path):
    pytest.importorskip("matplotlib")
    from initcheck.reports import figures

    layers = figures.layer_rows([("check_layer_variance_gru", "xfailed", _evidence("layer_variance"))])
    rows = [("check_variance", "passed", 0.3), ("check_layer_variance_gru", "xfailed", 4.5)]
    modes = [{**_evidence("trajectory")["data"]["figure"], "mode": "clipping"}]
    for plan in (figures.summary_plan("s", rows, layers, []), figures.summary_plan("s", rows, [], modes),
                 {"kind": "heatmap", "rows": [{"task": "t", "initializer": "i", "optimizer": "sgd", "seeds": 4,
                                               "successes": 3, "diverged": 1}]}):
        path = figures.draw(plan, tmp_path / figures.figure_name(plan, plan["kind"]))
        assert ET.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert figures.summary_plan("s", [], [], []) is None
