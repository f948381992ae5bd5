"""Signal propagation: theory and simulator (issue #4); the checks' teeth are in tests/teeth.

Which statement each test checks is in its docstring:

* *theory* tests check the NumPy mean-field/fluctuation code
  (:mod:`initcheck.references.propagation`) against closed forms from the
  papers (never against the simulator or Keras);
* *simulator* tests check that the measured curves
  (:mod:`initcheck.checks._simulator`) match mean-field theory within the
  finite-width bands (:func:`initcheck.stats.band`), on NumPy-drawn weights
  (so a disagreement is the simulator's or the theory's, not an
  initializer's);
* the checks are selected by capability, never by name.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats as sst

from common import builtins
from common.doubles import gaussian_stack, haar_stack
from initcheck.checks import all_checks
from initcheck.checks._simulator import simulate
from initcheck.references import propagation as pg
from initcheck.stats import band

ALPHA = 5e-11  # the default per-assertion budget; tests of theory use it for their own bands


# --------------------------------------------------------------------------- theory (NumPy only)

def test_quadrature_reproduces_gaussian_moments_and_selu_fixed_point():
    """Quadrature: E z^2 = 1, E z^4 = 3, E relu(z)^2 = 1/2 (kink), and Klambauer's SELU fixed point
    (mean 0, second moment 1 at N(0, 1) input; Klambauer et al. 2017, eq. 14)."""
    phi, _ = pg.activation_numpy("selu")
    assert pg.gaussian_expectation(lambda h: h ** 2, 1.0) == pytest.approx(1.0, abs=1e-12)
    assert pg.gaussian_expectation(lambda h: h ** 4, 1.0) == pytest.approx(3.0, abs=1e-11)
    assert pg.gaussian_expectation(lambda h: np.maximum(h, 0) ** 2, 1.0) == pytest.approx(0.5, abs=1e-12)
    assert pg.gaussian_expectation(phi, 1.0) == pytest.approx(0.0, abs=1e-9)
    assert pg.gaussian_expectation(lambda h: phi(h) ** 2, 1.0) == pytest.approx(1.0, abs=1e-9)


def test_mean_field_closed_forms():
    """Mean field: He + ReLU is flat (chi = 1); Glorot + ReLU halves each layer; SELU at LeCun's
    variance has chi = lambda^2/2 + lambda^2 alpha^2 e^2 Phi(-2) (closed form of E[selu'(z)^2])."""
    he = pg.mean_field("relu", 2.0, 50)
    assert np.allclose(he.q, 2.0, rtol=1e-12) and np.allclose(he.chi, 1.0, rtol=1e-12)
    glorot = pg.mean_field("relu", 1.0, 50)
    assert glorot.ratios()["forward"] == pytest.approx(0.5, rel=1e-10)
    assert glorot.ratios()["backward"] == pytest.approx(0.5, rel=1e-10)
    lam, alp = pg.SELU_LAMBDA, pg.SELU_ALPHA
    chi_selu = lam ** 2 / 2 + lam ** 2 * alp ** 2 * math.e ** 2 * sst.norm.cdf(-2.0)
    selu = pg.mean_field("selu", 1.0, 50)
    assert selu.q[-1] == pytest.approx(1.0, abs=1e-8)
    assert selu.chi[-1] == pytest.approx(chi_selu, rel=1e-9)
    assert chi_selu == pytest.approx(1.0716, abs=1e-4)


def test_critical_tanh_decays_as_a_power_law_and_gain_five_thirds_is_chaotic():
    """Mean field: tanh at sigma_w^2 = 1 has no non-zero fixed point; q_{l+1} = q_l - 2 q_l^2 + O(q^3)
    gives q_l ~ 1/(2l) (power law, not a per-layer ratio).  With gain 5/3 (sigma_w^2 = 25/9) q
    converges to q* > 0 where chi > 1: gradients grow (the chaotic phase, Poole et al. 2016)."""
    crit = pg.mean_field("tanh", 1.0, 4000)
    for l in (500, 1000, 4000):
        assert 2 * l * crit.q[l - 1] == pytest.approx(1.0, abs=0.02)
    chaotic = pg.mean_field("tanh", 25.0 / 9.0, 200)
    assert chaotic.q[-1] > 0.5 and chaotic.chi[-1] > 1.1
    assert chaotic.ratios()["backward"] > 1.1


def test_fluctuation_matches_hanin_rolnick_for_relu_and_chi_square_for_linear():
    """Finite width: ReLU ln(q_L/q_1) ~ N(-2.5 beta, 5 beta) (Hanin & Rolnick 2018); a linear layer
    multiplies by chi2_n/n, so mean -beta and variance 2 beta, to first order in 1/n."""
    widths = [256.0] * 49
    beta = 49 / 256
    fl = pg.fluctuation(pg.mean_field("relu", 2.0, 50), widths)
    assert fl.beta == pytest.approx(beta)
    assert fl.forward_mean == pytest.approx(-2.5 * beta, abs=1e-9)
    assert fl.forward_var == pytest.approx(5 * beta, rel=1e-9)
    assert fl.backward_var == pytest.approx(5 * beta, rel=1e-9)
    lin = pg.fluctuation(pg.mean_field("linear", 1.0, 50), widths)
    assert lin.forward_mean == pytest.approx(-beta, abs=1e-9)
    assert lin.forward_var == pytest.approx(2 * beta, rel=1e-9)


def test_band_error_rates():
    """Band arithmetic: half-width z_{1-alpha/2} sd; a shift of (z_a + z_b) sd is the detectable one."""
    b = band(0.0, 4.0, seeds=4, depth=50, alpha=ALPHA, beta=1e-6)
    assert b.sd == pytest.approx(1.0)
    assert b.half_width == pytest.approx(sst.norm.isf(ALPHA / 2))
    assert b.detectable == pytest.approx(sst.norm.isf(ALPHA / 2) + sst.norm.isf(1e-6))
    assert b.contains(b.half_width * 0.999) and not b.contains(b.half_width * 1.001)
    assert not b.contains(float("nan")) and not b.contains(float("inf"))


def test_spectral_variance_theory_relu_gaussian_twice_orthogonal():
    """Free probability (Pennington et al. 2017): ReLU spreads (2L - 1) with i.i.d. weights, (L - 1)
    with orthogonal ones; linear L and 0."""
    L = 10
    assert pg.spectral_variance_theory("relu", 2.0, L, orthogonal=False) == pytest.approx(2 * L - 1)
    assert pg.spectral_variance_theory("relu", 2.0, L, orthogonal=True) == pytest.approx(L - 1)
    assert pg.spectral_variance_theory("linear", 1.0, L, orthogonal=False) == pytest.approx(L)
    assert pg.spectral_variance_theory("linear", 1.0, L, orthogonal=True) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- simulator vs theory

@pytest.mark.parametrize("activation,sigma_w2", [("relu", 1.0), ("relu", 2.0), ("tanh", 1.0), ("tanh", 25 / 9),
                                                 ("selu", 1.0), ("linear", 1.0)])
def test_simulator_matches_mean_field_within_band(activation, sigma_w2):
    """Simulator vs theory: with NumPy Gaussian weights at sigma_w^2, the seed-averaged log ratios lie in
    the finite-width band around the mean-field prediction *at that sigma_w^2* (so theory explains
    the negative controls, e.g. Glorot + ReLU at r = 0.5).  Each of the 2 assertions at ALPHA."""
    rng = np.random.default_rng(11)
    depth, n, seeds = 30, 128, 4
    sim = simulate(gaussian_stack(rng, seeds, depth, n, sigma_w2), activation, batch=16, data_seed=3)
    fl = pg.fluctuation(pg.mean_field(activation, sigma_w2, depth), [float(n)] * (depth - 1))
    fwd = band(fl.forward_mean, fl.forward_var, seeds, depth, ALPHA, 1e-6)
    bwd = band(fl.backward_mean, fl.backward_var, seeds, depth, ALPHA, 1e-6)
    assert fwd.contains(float(np.mean(sim.forward))), (np.mean(sim.forward), fwd)
    assert bwd.contains(float(np.mean(sim.backward))), (np.mean(sim.backward), bwd)


@pytest.mark.parametrize("activation,sigma_w2", [("relu", 2.0), ("linear", 1.0), ("tanh", 1.0)])
def test_seed_spread_within_the_finite_width_bound(activation, sigma_w2):
    """The band's variance is an upper bound: the sample variance of the per-seed statistic over 16
    seeds must not exceed it (one-sided chi-square test at ALPHA: s^2 (S-1) / V <= chi2_{1-ALPHA})."""
    rng = np.random.default_rng(5)
    depth, n, seeds = 20, 96, 16
    sim = simulate(gaussian_stack(rng, seeds, depth, n, sigma_w2), activation, batch=8, data_seed=1)
    fl = pg.fluctuation(pg.mean_field(activation, sigma_w2, depth), [float(n)] * (depth - 1))
    limit = sst.chi2.isf(ALPHA, seeds - 1) / (seeds - 1)
    assert np.var(sim.forward, ddof=1) <= fl.forward_var * limit
    assert np.var(sim.backward, ddof=1) <= fl.backward_var * limit


def test_conv_seed_spread_within_the_dependent_terms_bound():
    """Conv bands: the per-seed spread of the ReLU conv statistic (16 seeds) is within the
    Cauchy-Schwarz bound used by check_signal_propagation_conv (one-sided chi-square at ALPHA)."""
    rng = np.random.default_rng(7)
    depth, k, c, seeds = 20, 3, 48, 16
    w = rng.standard_normal((seeds, depth, k, c, c)) * math.sqrt(2.0 / (k * c))
    sim = simulate(w, "relu", batch=4, data_seed=1, positions=12)
    fl = pg.fluctuation(pg.mean_field("relu", 2.0, depth), [float(c)] * (depth - 1), dependent_terms=True)
    limit = sst.chi2.isf(ALPHA, seeds - 1) / (seeds - 1)
    assert np.var(sim.forward, ddof=1) <= fl.forward_var * limit
    assert np.var(sim.backward, ddof=1) <= fl.backward_var * limit
    fwd = band(fl.forward_mean, fl.forward_var, seeds, depth, ALPHA, 1e-6)
    assert fwd.contains(float(np.mean(sim.forward)))


def test_circular_conv_layer_equals_keras_conv():
    """The conv simulator's patch-matmul is Keras's conv (``keras.ops.conv``, the Conv1D convention:
    cross-correlation) on wrap-padded input, on whichever backend Keras runs."""
    from initcheck import keras_compat as kc

    if kc.keras_major() < 3:
        pytest.skip("keras.ops.conv is Keras 3; on TensorFlow, Keras 2 runs the same graph pass this test checks "
                    "on Keras 3")
    rng = np.random.default_rng(0)
    k, c, p = 3, 5, 7
    w = rng.standard_normal((1, 1, k, c, c))
    sim_q = simulate(w, "linear", batch=2, data_seed=0, positions=p)
    # Reference: one conv layer by keras.ops.conv with manual circular padding.
    xin = np.random.default_rng(0).standard_normal((1, 2, p, c))  # the simulator's inputs (same seed)
    padded = np.concatenate([xin[0][:, -1:], xin[0], xin[0][:, :1]], axis=1)
    with kc.float64_scope():
        ops = kc.keras().ops
        ref = kc.to_numpy(ops.conv(ops.convert_to_tensor(padded, dtype="float64"),
                                   ops.convert_to_tensor(w[0, 0], dtype="float64"), strides=1, padding="valid"))
    assert ref.shape == (2, p, c)
    # Keras's conv may compute in float32 on JAX (its result_type maps float64 to float32 there): compare at
    # that precision; the float64 exactness of the simulator itself is test_simulator_is_float64_exact.
    expected = np.mean(np.log(np.mean(np.asarray(ref, dtype=np.float64) ** 2, axis=(1, 2))))
    assert sim_q.log_q[0, 0] == pytest.approx(expected, rel=1e-12 if ref.dtype == np.float64 else 1e-6)


def _numpy_pass(weights: np.ndarray, activation: str, batch: int, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The dense simulator's ``(log_q, log_g)``, ``(S, L)``, in NumPy float64 with hand-written ``phi'``
    (test oracle: the simulator itself uses the backend's autodiff)."""
    phi, dphi = pg.activation_numpy(activation)
    rng = np.random.default_rng(int(data_seed))
    s, depth, n, _ = weights.shape
    x = rng.standard_normal((s, batch, n))
    cot = rng.standard_normal((s, batch, n))
    hs, log_q = [], []
    a = x
    for l in range(depth):
        h = a @ weights[:, l]
        hs.append(h)
        log_q.append(np.log(np.mean(h ** 2, axis=-1)))
        a = phi(h)
    log_g = [None] * depth
    log_g[-1] = np.log(np.mean(cot ** 2, axis=-1))
    d = cot
    for l in range(depth - 2, -1, -1):
        d = (d @ np.swapaxes(weights[:, l + 1], -1, -2)) * dphi(hs[l])
        log_g[l] = np.log(np.mean(d ** 2, axis=-1))
    lq, lg = np.stack(log_q, -1), np.stack(log_g, -1)
    lg = lg - lg[..., -1:]
    return lq.mean(axis=1), lg.mean(axis=1)


@pytest.mark.parametrize("activation", ["relu", "tanh", "selu", "linear"])
def test_simulator_is_float64_exact(activation):
    """The simulator computes in float64 on every backend, JAX without x64 included (Keras on JAX computes
    ``ops.tanh`` and ``ops.mean`` in float32 for float64 inputs: a float32 step would show as ~1e-8 here)."""
    rng = np.random.default_rng(11)
    w = gaussian_stack(rng, 2, 8, 24, 1.0 if activation != "relu" else 2.0)
    sim = simulate(w, activation, batch=5, data_seed=4)
    lq, lg = _numpy_pass(w, activation, 5, 4)
    np.testing.assert_allclose(sim.log_q, lq, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sim.log_g, lg, rtol=0, atol=1e-12)


def jacobian_spectrum_variance(weights: np.ndarray, activation: str, data_seed: int = 0) -> np.ndarray:
    """Normalised variance of the squared singular values of the input-output Jacobian (test helper).

    For each stack in ``weights`` (``(S, L, n, n)``) and one ``N(0, I)`` input,
    ``J = W_1 D_1 W_2 D_2 ... W_L`` in the row-vector convention with
    ``D_l = diag(phi'(h_l))`` (the last layer's pre-activation is the output);
    returns ``Var(lambda) / mean(lambda)^2`` over the eigenvalues ``lambda``
    of ``J J^T``, one value per stack.  NumPy only (small sizes).
    """
    phi, dphi = pg.activation_numpy(activation)
    rng = np.random.default_rng(int(data_seed))
    out = []
    for stack in weights:
        a = rng.standard_normal(stack.shape[1])
        j = np.eye(stack.shape[1])
        for l, w in enumerate(stack):
            h = a @ w
            j = j @ w
            if l + 1 < len(stack):
                j = j * dphi(h)[None, :]
                a = phi(h)
        lam = np.linalg.svd(j, compute_uv=False) ** 2
        out.append(float(np.var(lam) / np.mean(lam) ** 2))
    return np.asarray(out)


def test_jacobian_spread_gaussian_vs_orthogonal_matches_free_probability():
    """Dynamical isometry (small L/n): the normalised variance of the squared singular values of the
    input-output Jacobian, Gaussian vs orthogonal weights, for ReLU (sigma_w^2 = 2) and linear,
    is within 25% of free probability's value (finite-size corrections are O(L/n) and the
    sample-to-sample spread at n = 256 was 2-8% in trial runs), and ReLU-Gaussian spreads
    (2L - 1)/(L - 1) times ReLU-orthogonal (about twice for deep stacks)."""
    rng = np.random.default_rng(2)
    L, n, seeds = 4, 256, 2
    gauss2 = rng.standard_normal((seeds, L, n, n)) * math.sqrt(2.0 / n)
    orth2 = haar_stack(rng, (seeds, L), n)
    measured = {
        ("relu", False): jacobian_spectrum_variance(gauss2, "relu").mean(),
        ("relu", True): jacobian_spectrum_variance(orth2 * math.sqrt(2.0), "relu").mean(),
        ("linear", False): jacobian_spectrum_variance(gauss2 / math.sqrt(2.0), "linear").mean(),
        ("linear", True): jacobian_spectrum_variance(orth2, "linear").mean(),
    }
    for (act, orth), value in measured.items():
        theory = pg.spectral_variance_theory(act, 2.0 if act == "relu" else 1.0, L, orthogonal=orth)
        if abs(theory) < 1e-9:
            assert value < 1e-10
        else:
            assert value == pytest.approx(theory, rel=0.25), (act, orth, value, theory)
    ratio = measured[("relu", False)] / measured[("relu", True)]
    assert ratio == pytest.approx((2 * L - 1) / (L - 1), rel=0.25)  # -> 2 as L grows


# --------------------------------------------------------------------------- selection of the checks

def test_selection_by_capability():
    """The checks apply by declared activations/tags/ranks, never by name."""
    checks = all_checks()
    dense, conv, iso = (checks[n].applies for n in ("check_signal_propagation", "check_signal_propagation_conv",
                                                   "check_linear_isometry"))
    he = builtins.initializer("HeNormal")
    assert dense(he) and conv(he) and not iso(he)
    assert not dense(dataclasses.replace(he, activations=()))
    assert not dense(dataclasses.replace(he, activations=("gelu",)))  # no reference for gelu yet
    assert not dense(builtins.initializer("Zeros"))
    orth = builtins.initializer("Orthogonal")
    assert dense(orth) and iso(orth)
