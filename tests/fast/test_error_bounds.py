"""The running error bound (initcheck.references.error_bounds) holds.

Each operation's bound contains what float32 arithmetic actually does on
perturbed operands (near-cancellation included), the three forms of an
interpolation, and the bounded references reproduce the plain references'
values bit for bit (or, where several variables of an element-wise rule run
concatenated, to the order of a global norm's sum).  The calibration on
exact optimizers is in tests/slow/test_error_bounds_calibration.py.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from initcheck.references import error_bounds as eb
from initcheck.references.error_bounds import Bounded, analysis, bounded
from initcheck.references.optimizers import RULES, trajectory

U32 = 2.0 ** -24
N = 4000


def _operand(rng, value, rel_err):
    """(Bounded exact value x with error bound e, float32 perturbed x~ with |x~ - x| <= e)."""
    x = np.asarray(value, dtype=np.float32).astype(np.float64)
    e = rel_err * np.abs(x)
    pert = (x + e * rng.uniform(-1.0, 1.0, size=x.shape)).astype(np.float32)
    # Rounding the perturbation to float32 may leave [x - e, x + e]: widen e to cover it.
    e = np.maximum(e, np.abs(pert.astype(np.float64) - x))
    return Bounded(x, np.stack([e, np.zeros_like(e)], axis=-1)), pert


def _contains(bound, approx, exact):
    miss = np.abs(np.asarray(approx, dtype=np.float64) - exact) - bound
    return float(np.max(miss)) <= 0.0, float(np.max(np.abs(np.asarray(approx, np.float64) - exact)
                                                     / np.maximum(bound, 1e-300)))


def _magnitudes(rng, n):
    return rng.choice([-1.0, 1.0], size=n) * 10.0 ** rng.uniform(-4, 3, size=n)


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide"])
@pytest.mark.parametrize("rel", [0.0, 1e-7, 1e-4])
def test_binary_ops_contain_float32(op, rel):
    rng = np.random.default_rng([["add", "subtract", "multiply", "divide"].index(op), int(rel * 1e7)])
    a = _magnitudes(rng, N)
    b = _magnitudes(rng, N)
    if op in ("add", "subtract"):
        # near-cancellation: half of the pairs agree in the leading digits
        close = rng.random(N) < 0.5
        b = np.where(close, (-a if op == "add" else a) * (1 + rng.uniform(-1e-5, 1e-5, N)), b)
    with analysis("float32"):
        x, xp = _operand(rng, a, rel)
        y, yp = _operand(rng, b, rel)
        z = getattr(np, op)(x, y)
        got = getattr(np, op)(xp, yp)  # float32 arithmetic, correctly rounded
    exact = getattr(np, op)(x.value, y.value)  # float32 operands: exact in float64 up to 2**-53
    ok, worst = _contains(z.impl + 4 * 2.0 ** -53 * np.abs(exact), got, exact)
    assert ok, f"{op}: float32 result outside the bound ({worst:.3g}x)"


@pytest.mark.parametrize("rel", [0.0, 1e-7, 1e-3])
def test_unary_ops_contain_float32(rel):
    rng = np.random.default_rng(7)
    a = np.abs(_magnitudes(rng, N))
    with analysis("float32"):
        x, xp = _operand(rng, a, rel)
        for name, fn in (("sqrt", np.sqrt), ("square", np.square), ("abs", np.abs), ("negative", np.negative)):
            z = fn(x)
            ok, worst = _contains(z.impl + 4 * 2.0 ** -53 * np.abs(z.value), fn(xp), fn(x.value))
            assert ok, f"{name}: {worst:.3g}x"
        for p in (2, 3, -0.5, 0.5, 1.5):
            z = x ** p
            got = np.power(xp, np.float32(p))
            ok, worst = _contains(z.impl + 4 * 2.0 ** -53 * np.abs(z.value), got, np.power(x.value, p))
            assert ok, f"pow {p}: {worst:.3g}x"


def test_sqrt_near_zero_and_sign_undecided():
    with analysis("float32"):
        x = Bounded(np.array([0.0, 1e-12, 4.0]), np.array([[1e-10, 0], [1e-10, 0], [0, 0]]))
        z = np.sqrt(x)
        # sqrt of anything in [0, x + e]
        assert np.all(z.impl[:2] >= np.sqrt(x.value[:2] + 1e-10) - np.sqrt(x.value[:2]))
        s = np.sign(Bounded(np.array([1e-9, -1.0, 0.0]), np.array([[1e-8, 0], [1e-8, 0], [0, 0]])))
        assert s.impl.tolist() == [2.0, 0.0, 0.0]


def test_extrema_clip_where_are_exact_and_cover_ties():
    rng = np.random.default_rng(3)
    a, b = _magnitudes(rng, N), _magnitudes(rng, N)
    b = np.where(rng.random(N) < 0.5, a * (1 + 1e-7), b)
    with analysis("float32"):
        x, xp = _operand(rng, a, 1e-6)
        y, yp = _operand(rng, b, 1e-6)
        for fn in (np.maximum, np.minimum):
            ok, worst = _contains(fn(x, y).impl, fn(xp, yp), fn(x.value, y.value))
            assert ok, f"{fn.__name__}: {worst:.3g}x"
        c = np.clip(x, -1.0, 1.0)
        assert _contains(c.impl, np.clip(xp, -1, 1), np.clip(x.value, -1, 1))[0]
        # np.where with a Bounded comparison: where the comparison is within rounding,
        # either branch may be taken.
        cond = np.abs(x) > np.abs(y)
        w = np.where(cond, x - y, 0.0)
        got = np.where(np.abs(xp) > np.abs(yp), xp - yp, np.float32(0))
        ok, worst = _contains(w.impl + 1e-300, got, np.where(np.abs(a) > np.abs(b), x.value - y.value, 0.0))
        assert ok, f"where: {worst:.3g}x"


def test_sums_in_any_order():
    rng = np.random.default_rng(11)
    v = _magnitudes(rng, 64)
    v[::2] = -v[1::2] * (1 + 1e-6)  # cancelling pairs
    with analysis("float32"):
        x, xp = _operand(rng, v, 1e-7)
        s = np.sum(x)
        m = x.mean()
        nrm = np.linalg.norm(x)
    exact = float(sum(Fraction(float(t)) for t in x.value))
    for _ in range(50):  # random orders, sequential float32 accumulation
        order = rng.permutation(len(xp))
        acc = np.float32(0)
        for i in order:
            acc = np.float32(acc + xp[i])
        assert abs(float(acc) - exact) <= float(s.impl), "a summation order escaped the bound"
        assert abs(float(acc) / np.float32(64) - exact / 64) <= float(m.impl) * (1 + 1e-12)
    got = np.sqrt(np.sum(np.square(xp)))
    assert abs(float(got) - float(np.linalg.norm(x.value))) <= float(nrm.impl) + 1e-15


@pytest.mark.parametrize("beta", [0.0, 0.001, 0.1, 0.5, 0.9, 0.999, 0.9999])
def test_interpolation_covers_all_three_forms(beta):
    """``b m + (1-b) g``: the formula, Keras's ``m + (g - m)(1 - b)`` and (b <= 1/2) lerp's ``g + (m - g) b``."""
    rng = np.random.default_rng(int(beta * 1e4))
    b = float(np.float32(beta))
    m_val = _magnitudes(rng, N)
    g_val = np.where(rng.random(N) < 0.3, m_val * (1 + rng.uniform(-1e-4, 1e-4, N)), _magnitudes(rng, N) * 1e-3)
    g_val[::10] = 0.0
    with analysis("float32"):
        m, mp = _operand(rng, m_val, 1e-6)
        g = Bounded(np.asarray(g_val, np.float32).astype(np.float64))
        gp = g.value.astype(np.float32)
        bb = bounded(b)
        z = bb * m + (1.0 - bb) * g
    exact = b * m.value + (1.0 - b) * g.value  # exact b, m, g: float64 has ample digits here
    b32, c32 = np.float32(b), np.float32(1.0 - b)
    forms = {
        "reference": b32 * mp + c32 * gp,
        "keras": mp + (gp - mp) * c32,
    }
    if b <= 0.5:
        forms["lerp"] = gp + (mp - gp) * b32  # a lerp switches to this form for weights (1 - b) >= 1/2
    for name, got in forms.items():
        ok, worst = _contains(z.impl + 8 * 2.0 ** -53 * np.abs(m.value), got, exact)
        assert ok, f"beta={beta}: the {name} form is outside the bound ({worst:.3g}x)"
    # and the squared-gradient moment, Keras's v += (g^2 - v)(1 - b)
    with analysis("float32"):
        v = Bounded(np.abs(m.value), m.err)
        vz = bb * v + (1.0 - bb) * g * g
    vexact = b * v.value + (1.0 - b) * g.value ** 2
    vp = np.abs(mp)
    got = vp + (np.square(gp) - vp) * c32
    ok, worst = _contains(vz.impl + 8 * 2.0 ** -53 * np.abs(v.value), got, vexact)
    assert ok, f"beta={beta}: v moment outside the bound ({worst:.3g}x)"


def test_constant_one_minus_beta_is_charged_its_exact_rounding():
    with analysis("float32"):
        c = 1.0 - bounded(float(np.float32(0.999)))  # Sterbenz: exact in float32
        d = 1.0 - bounded(float(np.float32(0.001)))  # not a float32 number: one rounding
    assert c.impl == 0.0
    exact = 1 - Fraction(float(np.float32(0.001)))
    assert float(d.impl) == pytest.approx(float(abs(Fraction(float(np.float32(float(exact)))) - exact)), rel=1e-6)


def test_float_of_bounded_refuses_to_drop_the_bound():
    with analysis("float32"):
        with pytest.raises(eb.BoundUnavailable):
            float(bounded(0.5) * 3.0)


HP = {
    "sgd": {"momentum": 0.875, "nesterov": True},
    "adam": {"beta_1": 0.9, "beta_2": 0.0, "epsilon": 1e-8, "amsgrad": True},
    "adamax": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-3},
    "nadam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-3},
    "rmsprop": {"rho": 0.9, "momentum": 0.5, "epsilon": 1e-3, "centered": True},
    "adagrad": {"initial_accumulator_value": 0.1, "epsilon": 1e-3},
    "adadelta": {"rho": 0.9, "epsilon": 1e-3},
    "ftrl": {"learning_rate_power": -0.5, "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.001,
             "l2_regularization_strength": 0.5, "l2_shrinkage_regularization_strength": 0.1, "beta": 0.5},
    "lion": {"beta_1": 0.9, "beta_2": 0.99},
    "lamb": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-3},
    "adafactor": {"beta_2_decay": -0.8, "epsilon_1": 1e-30, "epsilon_2": 1e-3, "clip_threshold": 1.0,
                  "relative_step": True},
}
MODES = [{}, {"clipnorm": 0.5}, {"global_clipnorm": 0.5}, {"clipvalue": 0.001}, {"weight_decay": 0.1},
         {"ema_momentum": 0.9, "ema_overwrite_frequency": 2}, {"accumulation_steps": 2}]


@pytest.mark.parametrize("name", sorted(HP))
def test_bounded_reference_reproduces_the_plain_values(name):
    """Every rule and mode runs on Bounded numbers (no fallback) and computes the same float64 values."""
    rng = np.random.default_rng(0)
    w0 = [rng.normal(size=(3, 2)).astype(np.float32).astype(float), rng.normal(size=(2,)).astype(np.float32).astype(float)]
    grads = [[(rng.normal(size=w.shape) * 1e-2).astype(np.float32).astype(float) for w in w0] for _ in range(4)]
    hp = {k: (float(np.float32(v)) if isinstance(v, float) else v) for k, v in HP[name].items()}
    for dtype in ("float32", "float64"):
        for kw in MODES:
            plain = trajectory(RULES[name], w0, grads, [0.01] * 4, hp, **kw)
            tb = eb.trajectory_bounds(RULES[name], w0, grads, [0.01] * 4, hp, dtype, **kw)
            for a, b, i, r in zip(tb.values, plain.final, tb.impl, tb.ref):
                if "global_clipnorm" in kw and eb._mergeable(RULES[name], w0, kw):
                    assert np.allclose(a, b, rtol=1e-14, atol=0), (name, kw)  # the norm's sum order
                else:
                    assert np.array_equal(a, b), (name, kw)
                assert np.all(np.isfinite(i)) and np.all(i > 0) and np.all(r <= i + 1e-300), (name, dtype, kw)


def test_tolerance_uses_the_bound_for_every_builtin_rule():
    from initcheck.builtin.optimizers import builtin_specs
    from initcheck.checks.optimizer import runner as oc

    for spec in builtin_specs():
        case = {"shapes": [[2, 3]], "dtype": spec.dtypes[0], "seed": 1, "grad_scale": 1.0, "lr": 0.125, "steps": 3,
                "hp": {k: v for k, v in spec.defaults.items() if k in spec.rule.hyperparameters}}
        if spec.name.endswith("docstring") or spec.name.endswith("-float64") or spec.name.endswith("defaults"):
            case["hp"] = {k: HP.get(spec.rule.name, {}).get(k, v) for k, v in case["hp"].items()}
        if not case["hp"]:
            case["hp"] = {k: v for k, v in HP[spec.rule.name].items() if k in spec.rule.hyperparameters}
        grads = oc.gradient_sequence(case)
        lrs = oc.constant_lrs(case)
        trace = oc.reference_trace(spec, case, grads, lrs)
        tols = oc.tolerance(spec, case, grads, lrs, trace)
        assert tols.rule.startswith("2*bound_impl"), (spec.name, tols.rule)


def test_interpolation_is_recognised_when_the_gradient_was_rescaled():
    """A clipped gradient ``clipnorm * g / norm`` is itself a scalar times an array; ``(1 - b) * g * g`` still
    counts as the interpolation's second term (found by the battery: Nadam, clipnorm, beta_2 = 0)."""
    with analysis("float32"):
        b = bounded(0.0)
        v = Bounded(np.array([0.152]))
        g = bounded(0.5) * Bounded(np.array([-0.0129])) / bounded(1.0000001)
        z = b * v + (1.0 - b) * g * g
    # Keras: v + (g^2 - v) * 1 rounds |g^2 - v| ~ 0.152 once: the bound must carry u * 0.152
    assert float(z.impl[0]) >= U32 * 0.15


def test_merged_variables_give_the_per_variable_bounds():
    """Element-wise rules run their variables concatenated (one Bounded run): the same bounds as one by one."""
    rng = np.random.default_rng(5)
    w0 = [rng.normal(size=(3, 2)).astype(np.float32).astype(float), rng.normal(size=(4,)).astype(np.float32).astype(float)]
    grads = [[(rng.normal(size=w.shape) * 1e-2).astype(np.float32).astype(float) for w in w0] for _ in range(3)]
    hp = {k: (float(np.float32(v)) if isinstance(v, float) else v) for k, v in HP["adam"].items()}
    merged = eb.trajectory_bounds(RULES["adam"], w0, grads, [0.01] * 3, hp, "float32", ema_momentum=0.5)
    assert eb._mergeable(RULES["adam"], w0, {})
    for i, w in enumerate(w0):
        alone = eb.trajectory_bounds(RULES["adam"], [w], [[g[i]] for g in grads], [0.01] * 3, hp, "float32",
                                     ema_momentum=0.5)
        assert np.array_equal(merged.values[i], alone.values[0])
        assert np.allclose(merged.impl[i], alone.impl[0], rtol=1e-12, atol=0)
        assert np.allclose(merged.ema_impl[i], alone.ema_impl[0], rtol=1e-12, atol=0)
    # per-variable options keep the variables apart
    assert not eb._mergeable(RULES["adam"], w0, {"clipnorm": 0.5})
    assert not eb._mergeable(RULES["adam"], w0, {"decay_mask": [True, False]})
    assert not eb._mergeable(RULES["lamb"], w0, {})
