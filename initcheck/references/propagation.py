"""Signal propagation through depth: mean-field theory and finite-width fluctuations.

Pure NumPy, written from the papers; it never asks the code under test.  The
propagation checks (:mod:`initcheck.checks.propagation`) measure the same
quantities on weights drawn from an initializer with a TensorFlow simulator
(:mod:`initcheck.checks._simulator`) and accept them inside a band around
these references (:func:`initcheck.stats.band`).

1. **Mean-field theory** (NumPy only, 1-D Gaussian integrals by
   Gauss-Legendre quadrature on each half-line, see :func:`gaussian_expectation`).  For a fully connected stack with i.i.d. zero-mean weights of
   variance ``sigma_w2 / fan_in``, zero biases and inputs ``x ~ N(0, I)``
   (Poole et al. 2016, "Exponential expressivity in deep neural networks
   through transient chaos"; Schoenholz et al. 2017, "Deep information
   propagation")::

       q_1     = sigma_w2 * E[x^2] = sigma_w2
       q_{l+1} = sigma_w2 * E[phi(sqrt(q_l) z)^2],          z ~ N(0, 1)
       chi_l   = sigma_w2 * E[phi'(sqrt(q_l) z)^2]
       G_l     = chi_l * G_{l+1}   (mean squared gradient w.r.t. h_l, G_L = 1)

   ``q_l`` is the mean squared pre-activation of layer ``l`` and ``G_l`` the
   mean squared gradient with respect to it (backpropagating a N(0, I)
   cotangent from the last pre-activation).  The same recursion holds for a
   convolution with ``fan_in = receptive_field * c_in`` (Xiao et al. 2018,
   "Dynamical isometry and a mean field theory of CNNs").

2. **Finite-width fluctuations** (delta method on the log, the route of
   Hanin & Rolnick 2018, "How to start training", and Hanin 2018, "Which
   neural net architectures give rise to exploding and vanishing
   gradients?").  Per input, ``ln(q_L / q_1)`` is a sum of ``L - 1``
   independent per-layer log factors.  The factor from layer ``l`` to
   ``l + 1`` of width ``n`` is ``sigma_w2 * (A_bar / B_bar) * chi2_n / n``
   with ``A = phi(h)^2``, ``B = h^2`` averaged over the ``n`` units of layer
   ``l`` and ``chi2_n / n`` the fresh Gaussian weights of layer ``l + 1``.
   With ``V_A = Var A / (E A)^2``, ``V_B = Var B / (E B)^2 = 2`` and
   ``C = Cov(A, B) / (E A E B)``::

       E ln factor   = ln(q_{l+1} / q_l) - (V_A - V_B) / (2 n) - 1 / n
       Var ln factor = (V_A + V_B - 2 C + 2) / n

   For ReLU ``V_A = 5, C = 2`` gives mean ``-2.5 / n`` and variance ``5 / n``:
   ``ln(q_L/q_1) ~ N(-2.5 beta, 5 beta)`` with ``beta = sum 1/n_l``, the law
   Hanin & Rolnick state.  Backward, with the cotangent ``u = delta W^T``
   Gaussian and independent of ``D = phi'(h)^2`` (the gradient independence
   assumption of Schoenholz et al. 2017 and Yang 2019)::

       E ln factor   = ln chi_l - W / 2,   Var ln factor = W = (3 E[D^2] / E[D]^2 - 1) / n

   (ReLU: ``5 / n`` again; linear: ``2 / n``; tanh near 0 and SELU lie
   between.)  The statistic of a check averages the per-input log ratio over
   the inputs of a batch and over ``S`` independent seeds.  Inputs of one
   seed share the weights, so the batch average is credited with *nothing*
   (by Cauchy-Schwarz its variance is at most the single-input variance);
   seeds are independent, so the variance of the statistic is at most
   ``Var / S``.  This makes the bands conservative; tests measure the real
   seed-to-seed spread against the bound.

It also holds the isometry spectra: the variance of
the squared singular values of the input-output Jacobian, measured and from
free probability (Pennington, Schoenholz & Ganguli 2017, "Resurrecting the
sigmoid in deep learning through dynamical isometry")::

    sigma^2_{JJ^T} / m_1^2 = L * (mu_2 / mu_1^2 - 1 - s_1)

with ``mu_k = E[phi'(h)^{2k}]`` at the fixed point and ``s_1 = -1`` for i.i.d.
(Gaussian-like) weights, ``0`` for orthogonal weights: ReLU with Gaussian
weights spreads ``2 L``, with orthogonal weights ``L``; linear ``L`` and ``0``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "THEORY_ACTIVATIONS",
    "DESIGN_SIGMA_W2",
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "activation_numpy",
    "gaussian_expectation",
    "MeanField",
    "mean_field",
    "Fluctuation",
    "fluctuation",
    "spectral_variance_theory",
]

#: SELU constants (Klambauer et al. 2017, "Self-Normalizing Neural Networks", eq. 14).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946

#: The weight variance (times fan_in) each activation's design principle prescribes.
#: linear: Glorot & Bengio 2010 / LeCun 1998 (variance-preserving, chi = 1);
#: relu: He et al. 2015 (chi = sigma_w2 / 2 = 1); tanh: Glorot & Bengio 2010, the
#: order-chaos boundary at zero bias (Poole et al. 2016, chi(0) = sigma_w2 = 1);
#: selu: Klambauer et al. 2017 (fixed point (mean 0, variance 1) needs
#: sum of squared weights = 1, i.e. LeCun normal).
DESIGN_SIGMA_W2: dict[str, float] = {"linear": 1.0, "relu": 2.0, "tanh": 1.0, "selu": 1.0}

#: Activations with a propagation reference (the design variance above).
THEORY_ACTIVATIONS: tuple[str, ...] = tuple(DESIGN_SIGMA_W2)


def _selu(x: np.ndarray) -> np.ndarray:
    return SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def _selu_prime(x: np.ndarray) -> np.ndarray:
    return SELU_LAMBDA * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))


_NUMPY_ACTS: dict[str, tuple[Callable, Callable]] = {
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(np.float64)),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "selu": (_selu, _selu_prime),
}


def activation_numpy(name: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """``(phi, phi')`` in NumPy, written from the activation's definition.

    Raises:
        KeyError: for an activation without a propagation reference.
    """
    if name not in _NUMPY_ACTS:
        raise KeyError(f"no propagation theory for activation {name!r}; known: {sorted(_NUMPY_ACTS)}")
    return _NUMPY_ACTS[name]


#: Half-line cut of the quadrature: the normal tail beyond it is below 1e-44.
_Z_MAX = 14.0


@functools.lru_cache(maxsize=None)
def _half_line_rule(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes/weights for ``E[f(z)] = int_0^inf (f(z) + f(-z)) phi(z) dz``.

    The activations here are smooth except at 0 (ReLU's kink, SELU's jump in
    the second derivative), which stalls a plain Gauss-Hermite rule (its
    error decays only algebraically across a kink).  Splitting at 0 and
    using Gauss-Legendre on ``[0, 14]`` for each smooth half, with the
    normal density folded into the weights, converges geometrically; the
    dropped tail ``P(|z| > 14)`` is below ``1e-44``.
    """
    x, w = np.polynomial.legendre.leggauss(degree)
    z = 0.5 * _Z_MAX * (x + 1.0)
    return z, 0.5 * _Z_MAX * w * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def gaussian_expectation(f: Callable[[np.ndarray], np.ndarray], q: float, degree: int = 160) -> float:
    """``E[f(sqrt(q) z)]`` for ``z ~ N(0, 1)`` (``q >= 0``), by quadrature (see :func:`_half_line_rule`)."""
    z, w = _half_line_rule(degree)
    s = math.sqrt(max(q, 0.0))
    return float(np.sum(w * (f(s * z) + f(-s * z))))


@dataclass(frozen=True)
class MeanField:
    """Mean-field curves of a stack (``index l-1`` holds layer ``l``).

    Attributes:
        q: Predicted mean squared pre-activation per layer, ``q[0] = q_1``.
        chi: ``chi_l`` per layer (the backward factor through layer ``l``).
        log_grad: ``ln(G_l / G_L)`` per layer (``0`` at the last layer).
    """

    activation: str
    sigma_w2: float
    q: np.ndarray
    chi: np.ndarray
    log_grad: np.ndarray

    @property
    def depth(self) -> int:
        return len(self.q)

    @property
    def log_q_ratio(self) -> float:
        """``ln(q_L / q_1)``."""
        return float(math.log(self.q[-1]) - math.log(self.q[0])) if self.q[-1] > 0 else -math.inf

    @property
    def log_grad_ratio(self) -> float:
        """``ln(G_1 / G_L)``: growth of the gradient towards the input."""
        return float(self.log_grad[0])

    def ratios(self) -> dict[str, float]:
        """Per-layer geometric ratios ``r`` forward and backward."""
        k = max(self.depth - 1, 1)
        return {"forward": math.exp(self.log_q_ratio / k), "backward": math.exp(self.log_grad_ratio / k)}


def mean_field(activation: str, sigma_w2: float, depth: int, q_input: float = 1.0) -> MeanField:
    """Solve the mean-field recursion numerically (the theory, not the code under test).

    Args:
        activation: One of :data:`THEORY_ACTIVATIONS`.
        sigma_w2: ``fan_in * Var(W)`` (or ``gain**2`` for orthogonal weights).
        depth: Number of weight layers ``L``.
        q_input: Mean square of the inputs (1 for ``N(0, 1)`` inputs).
    """
    phi, dphi = activation_numpy(activation)
    q = np.empty(depth)
    chi = np.empty(depth)
    q[0] = sigma_w2 * q_input
    for l in range(depth):
        chi[l] = sigma_w2 * gaussian_expectation(lambda h: dphi(h) ** 2, q[l])
        if l + 1 < depth:
            q[l + 1] = sigma_w2 * gaussian_expectation(lambda h: phi(h) ** 2, q[l])
    # G_l = chi_l G_{l+1}: the backward pass through layer l+1's weights and
    # layer l's activation derivative; G_L = 1.
    log_grad = np.zeros(depth)
    for l in range(depth - 2, -1, -1):
        log_grad[l] = log_grad[l + 1] + math.log(chi[l])
    return MeanField(activation, float(sigma_w2), q, chi, log_grad)


@dataclass(frozen=True)
class Fluctuation:
    """Finite-width law of the per-input log ratios (delta method, see module doc).

    Attributes:
        forward_mean, forward_var: of ``ln(q_L / q_1)``.
        backward_mean, backward_var: of ``ln(G_1 / G_L)``.
        beta: ``sum_l 1 / n_l`` over the ``L - 1`` layer transitions.
    """

    forward_mean: float
    forward_var: float
    backward_mean: float
    backward_var: float
    beta: float


def _moments(activation: str, q: float) -> tuple[float, float, float, float]:
    """``(V_A, C, E[D], E[D^2])`` at pre-activation variance ``q``."""
    phi, dphi = activation_numpy(activation)
    ea = gaussian_expectation(lambda h: phi(h) ** 2, q)
    ea2 = gaussian_expectation(lambda h: phi(h) ** 4, q)
    eab = gaussian_expectation(lambda h: phi(h) ** 2 * h ** 2, q)
    ed = gaussian_expectation(lambda h: dphi(h) ** 2, q)
    ed2 = gaussian_expectation(lambda h: dphi(h) ** 4, q)
    va = ea2 / ea ** 2 - 1.0
    c = eab / (ea * q) - 1.0
    return va, c, ed, ed2


def fluctuation(mf: MeanField, widths: Sequence[float], dependent_terms: bool = False) -> Fluctuation:
    """Mean and variance of the per-input log ratios at finite width.

    Args:
        mf: The mean-field curves of the stack.
        widths: Effective width of each of the ``L - 1`` transitions (units
            for dense layers, channels for convolutions).
        dependent_terms: Each layer's log factor is the sum of a weight term
            (the ``chi2``-like quadratic form, relative variance ``2 / n``) and
            an activation term (``(V_A + V_B - 2C) / n`` forward,
            ``3 (E[D^2]/E[D]^2 - 1) / n`` backward).  In a dense layer they are
            independent (norm and direction of a Gaussian vector), so the
            variances add.  In a convolution the spatial covariance couples
            them; ``True`` combines them by Cauchy-Schwarz,
            ``(sqrt(v_w) + sqrt(v_a))^2 / n``, which holds whatever their
            correlation.
    """
    if len(widths) != mf.depth - 1:
        raise ValueError(f"need {mf.depth - 1} widths, got {len(widths)}")

    def combine(v_weights: float, v_act: float) -> float:
        v_act = max(v_act, 0.0)
        if dependent_terms:
            return (math.sqrt(v_weights) + math.sqrt(v_act)) ** 2
        return v_weights + v_act

    fm = fv = bm = bv = 0.0
    vb = 2.0
    for l, n in enumerate(widths):
        va, c, ed, ed2 = _moments(mf.activation, float(mf.q[l]))
        fm += math.log(mf.q[l + 1] / mf.q[l]) - (va - vb) / (2 * n) - 1.0 / n
        fv += combine(2.0, va + vb - 2 * c) / n
        w = combine(2.0, 3.0 * (ed2 / ed ** 2 - 1.0)) / n
        bm += math.log(mf.chi[l]) - w / 2
        bv += w
    return Fluctuation(fm, fv, bm, bv, float(sum(1.0 / n for n in widths)))


# --------------------------------------------------------------------------- isometry spectra


def spectral_variance_theory(activation: str, sigma_w2: float, depth: int, orthogonal: bool) -> float:
    """``sigma^2_{JJ^T} / m_1^2`` from free probability (Pennington et al. 2017).

    ``L * (mu_2 / mu_1^2 - 1 - s_1)`` with ``mu_k = E[phi'(h)^{2k}]`` at the
    fixed point ``q*`` of the stack and ``s_1 = -1`` (i.i.d. weights:
    Marchenko-Pastur) or ``0`` (orthogonal).  Valid at criticality
    (``chi = 1``) for ``L / n -> 0``; here the ``D_l`` of ``L - 1`` hidden
    layers enter, so ``L - 1`` activation factors and ``L`` weight factors:
    ``(L - 1) * (mu_2 / mu_1^2 - 1) - L * s_1``.
    """
    _, dphi = activation_numpy(activation)
    mf = mean_field(activation, sigma_w2, max(depth, 2))
    q = float(mf.q[-1])
    mu1 = gaussian_expectation(lambda h: dphi(h) ** 2, q)
    mu2 = gaussian_expectation(lambda h: dphi(h) ** 4, q)
    s1 = 0.0 if orthogonal else -1.0
    return (depth - 1) * (mu2 / mu1 ** 2 - 1.0) - depth * s1
