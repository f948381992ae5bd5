"""Reference update rules in NumPy, one readable function per rule.

Every rule is written from its paper and from the framework documentation
(cited in each docstring), in float64, and never calls the code under test.
Where frameworks differ, the difference is a *named convention* passed in the
hyperparameters (for example ``epsilon_form="epsilon_hat"`` for Adam, or
``epsilon_placement="inside_sqrt"`` for RMSprop), so a spec says which one it
promises and a check can name the convention in its evidence.

A rule is two functions on one variable:

* ``init(w, hp) -> state``: the slot variables before the first step;
* ``step(w, g, state, lr, t, hp) -> new_w``: one update at iteration ``t``
  (1-based, i.e. Keras's ``iterations + 1``), mutating ``state``.

:func:`trajectory` runs a rule over several variables and steps and adds
the parts that Keras's optimizer base class documents for every optimizer:
gradient clipping (``clipnorm``, ``clipvalue``, ``global_clipnorm``),
decoupled weight decay scaled by the learning rate, gradient accumulation and
an exponential moving average of the weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = [
    "Rule",
    "COUPLINGS",
    "Trace",
    "RULES",
    "trajectory",
    "clip_gradients",
    "sgd_step",
    "adam_step",
    "adamax_step",
    "nadam_step",
    "rmsprop_step",
    "adagrad_step",
    "adadelta_step",
    "ftrl_step",
    "lion_step",
    "lamb_step",
    "adafactor_step",
]

State = dict
StepFn = Callable[[np.ndarray, np.ndarray, State, float, int, Mapping[str, Any]], np.ndarray]
InitFn = Callable[[np.ndarray, Mapping[str, Any]], State]


@dataclass(frozen=True)
class Rule:
    """A reference update rule.

    Attributes:
        name: Short name (``"adam"``).
        init: ``init(w, hp) -> state``.
        step: ``step(w, g, state, lr, t, hp) -> new_w`` (mutates ``state``).
        conventions: Named conventions this rule understands, each with its
            allowed values; the first value is the default.
        hyperparameters: Names of the numeric hyperparameters ``step`` reads.
        citation: Where the formula comes from.
        uses_step_count: The rule depends on ``t`` (bias corrections,
            schedules); accumulation and checkpoint checks care.
        coupling: How one entry's update depends on the others:
            ``"elementwise"`` (only its own gradient and state),
            ``"layerwise"`` (per-variable statistics such as norms: LAMB's
            trust ratio) or ``"factored"`` (second moments factored across
            axes: Adafactor).  An optimizer spec following the rule carries
            it as a capability tag; the batched seed ensemble needs
            ``"elementwise"``.
        reads_learning_rate_form: ``step`` takes a keyword
            ``learning_rate_form`` (``"constant"``, ``"callable"`` or
            ``"schedule"``): the rule's documentation treats a constant rate
            differently (Adafactor's relative step).
        decay_rates: The hyperparameters that weight a running average as
            ``rate * old + (1 - rate) * new`` (Adam's betas, RMSprop's
            ``rho``): the designed cases set them near 0, where ``1 - rate``
            is near 1 and a constant rounded to float32 inside a float64 step
            moves the whole step.
    """

    name: str
    init: InitFn
    step: StepFn
    conventions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    hyperparameters: tuple[str, ...] = ()
    citation: str = ""
    uses_step_count: bool = False
    coupling: str = "elementwise"
    reads_learning_rate_form: bool = False
    decay_rates: tuple[str, ...] = ()

    def convention(self, hp: Mapping[str, Any], name: str) -> str:
        """The value of convention ``name`` in ``hp`` (its default when absent)."""
        allowed = self.conventions[name]
        value = hp.get(name, allowed[0])
        if value not in allowed:
            raise ValueError(f"rule {self.name!r}: convention {name}={value!r} is not one of {allowed}")
        return value

    def __post_init__(self) -> None:
        if self.coupling not in COUPLINGS:
            raise ValueError(f"rule {self.name!r}: coupling {self.coupling!r} is not one of {COUPLINGS}")
        unread = sorted(set(self.decay_rates) - set(self.hyperparameters))
        if unread:
            raise ValueError(f"rule {self.name!r}: decay_rates {unread} are not among its hyperparameters")


#: The ways a rule may couple the entries of a variable (see :attr:`Rule.coupling`).
COUPLINGS: tuple[str, ...] = ("elementwise", "layerwise", "factored")


def _zeros(w: np.ndarray) -> np.ndarray:
    return np.zeros_like(w, dtype=np.float64)


def _conv(hp: Mapping[str, Any], name: str, default: str) -> str:
    return str(hp.get(name, default))


def _num(x: Any) -> Any:
    """A hyperparameter or scalar as a Python float -- unchanged if it tracks its rounding error.

    :mod:`initcheck.references.error_bounds` runs these rules on numbers that
    carry an error bound; ``float()`` would drop it.
    """
    return x if getattr(x, "_tracks_error", False) else float(x)


def _like(x: Any, c: float) -> Any:
    """The literal ``c`` as a number of ``x``'s kind (an error-tracking number carries c's rounding)."""
    return x * 0.0 + c if getattr(x, "_tracks_error", False) else c


def _f64(x: Any) -> Any:
    """A float64 copy of an array (an error-tracking array is copied as it is)."""
    return x.copy() if getattr(x, "_tracks_error", False) else np.array(x, dtype=np.float64)


# --------------------------------------------------------------------------- SGD
def sgd_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"velocity": _zeros(w)}


def sgd_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """Stochastic gradient descent with (Nesterov) momentum.

    Keras documents (``keras.optimizers.SGD``)::

        velocity = momentum * velocity - learning_rate * g
        w = w + velocity                                   # plain momentum
        w = w + momentum * velocity - learning_rate * g    # nesterov=True

    i.e. the learning rate sits *inside* the velocity (convention
    ``momentum_form="lr_inside"``); PyTorch keeps it outside
    (``buf = momentum * buf + g; w -= lr * buf``, ``"lr_outside"``).  The two
    agree for a constant learning rate and differ once it changes.
    Nesterov momentum: Sutskever et al. (2013), "On the importance of
    initialization and momentum in deep learning", eq. (3)-(4), in the
    reformulation of Bengio et al. (2013).
    """
    momentum = _num(hp.get("momentum", 0.0))
    form = _conv(hp, "momentum_form", "lr_inside")
    if momentum == 0.0:
        return w - lr * g
    if form == "lr_inside":
        s["velocity"] = momentum * s["velocity"] - lr * g
        if hp.get("nesterov", False):
            return w + momentum * s["velocity"] - lr * g
        return w + s["velocity"]
    s["velocity"] = momentum * s["velocity"] + g
    direction = g + momentum * s["velocity"] if hp.get("nesterov", False) else s["velocity"]
    return w - lr * direction


# -------------------------------------------------------------------------- Adam
def adam_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"m": _zeros(w), "v": _zeros(w), "v_max": _zeros(w)}


def adam_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """Adam (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization").

    ``m = b1 m + (1-b1) g``; ``v = b2 v + (1-b2) g^2``.  Two placements of
    epsilon are in use (convention ``epsilon_form``):

    * ``"epsilon_hat"`` -- the efficient form just before Section 2.1 of the
      paper, which Keras documents ("This epsilon is 'epsilon hat' in the
      Kingma and Ba paper"): ``w -= lr * sqrt(1-b2^t)/(1-b1^t) * m /
      (sqrt(v) + eps)``;
    * ``"epsilon"`` -- Algorithm 1 (PyTorch, tf_keras ``adaptive_epsilon``):
      ``w -= lr * m_hat / (sqrt(v_hat) + eps)`` with bias-corrected moments.

    AMSGrad (Reddi et al., 2018, "On the Convergence of Adam and Beyond"),
    as Keras documents it: keep the running maximum of the *uncorrected*
    ``v`` and use it in place of ``v`` (``amsgrad_form="max_raw_v"``).
    """
    b1, b2, eps = _num(hp["beta_1"]), _num(hp["beta_2"]), _num(hp["epsilon"])
    s["m"] = b1 * s["m"] + (1.0 - b1) * g
    s["v"] = b2 * s["v"] + (1.0 - b2) * g * g
    v = s["v"]
    if hp.get("amsgrad", False):
        s["v_max"] = np.maximum(s["v_max"], s["v"])
        v = s["v_max"]
    bc1, bc2 = 1.0 - b1 ** t, 1.0 - b2 ** t
    if _conv(hp, "epsilon_form", "epsilon_hat") == "epsilon_hat":
        return w - lr * np.sqrt(bc2) / bc1 * s["m"] / (np.sqrt(v) + eps)
    return w - lr * (s["m"] / bc1) / (np.sqrt(v / bc2) + eps)


# ------------------------------------------------------------------------ Adamax
def adamax_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"m": _zeros(w), "u": _zeros(w)}


def adamax_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """AdaMax (Kingma & Ba, 2015, Algorithm 2; Section 7.1).

    ``m = b1 m + (1-b1) g``; ``u = max(b2 u, |g|)``;
    ``w -= lr / (1 - b1^t) * m / (u + eps)``.  The paper has no epsilon;
    Keras documents one added to ``u``.
    """
    b1, b2, eps = _num(hp["beta_1"]), _num(hp["beta_2"]), _num(hp["epsilon"])
    s["m"] = b1 * s["m"] + (1.0 - b1) * g
    s["u"] = np.maximum(b2 * s["u"], np.abs(g))
    return w - lr / (1.0 - b1 ** t) * s["m"] / (s["u"] + eps)


# ------------------------------------------------------------------------- Nadam
def nadam_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"m": _zeros(w), "v": _zeros(w), "mu_product": 1.0}


def _nadam_mu(b1: float, t: int, schedule: str) -> float:
    # Dozat (2016), Section 3: mu_t = b1 * (1 - 0.5 * 0.96^(t * psi)), psi = 1/250
    # in PyTorch's reading; Keras documents the per-step 0.96^t schedule.
    psi = 1.0 if schedule == "keras_0.96_pow_t" else 0.004
    return b1 * (1.0 - 0.5 * _like(b1, 0.96) ** (t * psi))


def nadam_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """Nadam (Dozat, 2016, "Incorporating Nesterov Momentum into Adam").

    With the momentum schedule ``mu_t = b1 (1 - 0.5 * 0.96^t)``
    (``nadam_schedule="keras_0.96_pow_t"``; PyTorch uses ``0.96^(0.004 t)``,
    ``"torch_psi_0.004"``) and ``prod_t = mu_1 ... mu_t``::

        m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
        m_hat = mu_{t+1} m / (1 - prod_{t+1}) + (1 - mu_t) g / (1 - prod_t)
        v_hat = v / (1 - b2^t)
        w -= lr * m_hat / (sqrt(v_hat) + eps)

    The ``(1-b1)`` in the moment update follows Keras's documented Adam-style
    moments (Dozat's Algorithm 2 writes the same with ``mu``).
    """
    b1, b2, eps = _num(hp["beta_1"]), _num(hp["beta_2"]), _num(hp["epsilon"])
    schedule = _conv(hp, "nadam_schedule", "keras_0.96_pow_t")
    mu_t = _nadam_mu(b1, t, schedule)
    mu_next = _nadam_mu(b1, t + 1, schedule)
    s["mu_product"] = s["mu_product"] * mu_t
    prod_t = s["mu_product"]
    prod_next = prod_t * mu_next
    s["m"] = b1 * s["m"] + (1.0 - b1) * g
    s["v"] = b2 * s["v"] + (1.0 - b2) * g * g
    m_hat = mu_next * s["m"] / (1.0 - prod_next) + (1.0 - mu_t) * g / (1.0 - prod_t)
    v_hat = s["v"] / (1.0 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


# ----------------------------------------------------------------------- RMSprop
def rmsprop_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"v": _zeros(w), "mean_g": _zeros(w), "mom": _zeros(w)}


def rmsprop_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """RMSprop (Hinton, Srivastava & Swersky, Coursera lecture 6e, 2012).

    ``v = rho v + (1-rho) g^2``; centered (Graves, 2013, "Generating
    Sequences With Recurrent Neural Networks", eq. 38-41): also
    ``mean_g = rho mean_g + (1-rho) g`` and ``v - mean_g^2`` in the root.
    Keras documents epsilon *inside* the root (``epsilon_placement=
    "inside_sqrt"``); PyTorch adds it outside (``"outside_sqrt"``).  With
    momentum, Keras accumulates the scaled increment:
    ``mom = momentum * mom + lr * g / sqrt(denominator)``; ``w -= mom``.
    """
    rho, eps = _num(hp["rho"]), _num(hp["epsilon"])
    momentum = _num(hp.get("momentum", 0.0))
    s["v"] = rho * s["v"] + (1.0 - rho) * g * g
    second = s["v"]
    if hp.get("centered", False):
        s["mean_g"] = rho * s["mean_g"] + (1.0 - rho) * g
        second = s["v"] - s["mean_g"] ** 2
    if _conv(hp, "epsilon_placement", "inside_sqrt") == "inside_sqrt":
        increment = lr * g / np.sqrt(second + eps)
    else:
        increment = lr * g / (np.sqrt(second) + eps)
    if momentum > 0.0:
        s["mom"] = momentum * s["mom"] + increment
        return w - s["mom"]
    return w - increment


# ----------------------------------------------------------------------- Adagrad
def adagrad_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"acc": np.full_like(w, _num(hp.get("initial_accumulator_value", 0.1)), dtype=np.float64)}


def adagrad_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """Adagrad (Duchi, Hazan & Singer, 2011, JMLR 12, eq. for diagonal AdaGrad).

    ``acc = acc + g^2`` starting from ``initial_accumulator_value``;
    ``w -= lr * g / sqrt(acc + eps)`` -- Keras documents epsilon inside the
    root (``epsilon_placement="inside_sqrt"``), PyTorch outside.
    """
    eps = _num(hp["epsilon"])
    s["acc"] = s["acc"] + g * g
    if _conv(hp, "epsilon_placement", "inside_sqrt") == "inside_sqrt":
        return w - lr * g / np.sqrt(s["acc"] + eps)
    return w - lr * g / (np.sqrt(s["acc"]) + eps)


# ---------------------------------------------------------------------- Adadelta
def adadelta_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"eg2": _zeros(w), "edx2": _zeros(w)}


def adadelta_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """Adadelta (Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method", Algorithm 1).

    ``E[g^2] = rho E[g^2] + (1-rho) g^2``;
    ``dx = -sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g``;
    ``E[dx^2] = rho E[dx^2] + (1-rho) dx^2``; ``w += lr * dx``.
    The paper has no learning rate (``lr = 1``); Keras documents one.
    """
    rho, eps = _num(hp["rho"]), _num(hp["epsilon"])
    s["eg2"] = rho * s["eg2"] + (1.0 - rho) * g * g
    dx = -np.sqrt(s["edx2"] + eps) / np.sqrt(s["eg2"] + eps) * g
    s["edx2"] = rho * s["edx2"] + (1.0 - rho) * dx * dx
    return w + lr * dx


# -------------------------------------------------------------------------- FTRL
def ftrl_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"n": np.full_like(w, _num(hp.get("initial_accumulator_value", 0.1)), dtype=np.float64),
            "z": _zeros(w)}


def ftrl_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """FTRL-Proximal (McMahan et al., 2013, "Ad Click Prediction", Algorithm 1).

    Keras documents, with ``p = -learning_rate_power`` (0.5 in the paper)::

        n_new = n + g^2
        sigma = (n_new^p - n^p) / lr
        z = z + g_s - sigma * w          # g_s: g + 2 * l2_shrinkage * w
        w = 0 if |z| <= l1 else (sign(z) l1 - z) / ((beta + n_new^p) / lr + c * l2)

    The accumulator starts at ``initial_accumulator_value``; only ``z`` uses
    the shrinkage gradient (TensorFlow's ``ApplyFtrlV2`` documents
    ``grad_with_shrinkage = grad + 2 * l2_shrinkage * var``).  Convention
    ``ftrl_l2``: ``"paper"`` (``c = 1``, the paper and the Keras docstring)
    or ``"doubled"`` (``c = 2``, TensorFlow's ``ApplyFtrl`` documentation:
    ``quadratic = 1 / (accum_new^lr_power * lr) + 2 * l2``).
    """
    p = -_num(hp.get("learning_rate_power", -0.5))
    l1 = _num(hp.get("l1_regularization_strength", 0.0))
    l2 = _num(hp.get("l2_regularization_strength", 0.0))
    shrink = _num(hp.get("l2_shrinkage_regularization_strength", 0.0))
    beta = _num(hp.get("beta", 0.0))
    c = 2.0 if _conv(hp, "ftrl_l2", "doubled") == "doubled" else 1.0
    n_new = s["n"] + g * g
    sigma = (n_new ** p - s["n"] ** p) / lr
    s["z"] = s["z"] + (g + 2.0 * shrink * w) - sigma * w
    s["n"] = n_new
    quadratic = (beta + n_new ** p) / lr + c * l2
    z = s["z"]
    return np.where(np.abs(z) > l1, (np.sign(z) * l1 - z) / quadratic, 0.0)


# -------------------------------------------------------------------------- Lion
def lion_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"m": _zeros(w), "tie": np.zeros(w.shape, dtype=bool)}


def lion_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms", Program 1).

    ``c = b1 m + (1-b1) g``; ``w -= lr * sign(c)``; ``m = b2 m + (1-b2) g``.
    (The paper's ``lr * lambda * w`` decay is the base class's decoupled
    weight decay.)  ``sign`` is discontinuous at 0, so coordinates where
    ``|c|`` is within rounding of zero are recorded in ``state["tie"]``:
    there the rounding of the dtype decides, not the rule.
    """
    b1, b2 = _num(hp["beta_1"]), _num(hp["beta_2"])
    c = b1 * s["m"] + (1.0 - b1) * g
    scale = np.abs(b1 * s["m"]) + np.abs((1.0 - b1) * g)
    s["tie"] = s["tie"] | (np.abs(c) <= 1e-5 * scale)
    s["m"] = b2 * s["m"] + (1.0 - b2) * g
    return w - lr * np.sign(c)


# -------------------------------------------------------------------------- LAMB
def lamb_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    return {"m": _zeros(w), "v": _zeros(w)}


def lamb_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any]) -> np.ndarray:
    """LAMB (You et al., 2020, "Large Batch Optimization for Deep Learning", Algorithm 2).

    Adam's bias-corrected direction ``r = m_hat / (sqrt(v_hat) + eps)``
    scaled per variable by the trust ratio ``||w|| / ||r||`` (1 when either
    norm is 0; phi = identity).  Keras applies weight decay through the base
    class before the step, so ``r`` excludes ``lambda w``
    (``lamb_decay_in_ratio=False``); the paper puts it inside (``True``).
    """
    b1, b2, eps = _num(hp["beta_1"]), _num(hp["beta_2"]), _num(hp["epsilon"])
    s["m"] = b1 * s["m"] + (1.0 - b1) * g
    s["v"] = b2 * s["v"] + (1.0 - b2) * g * g
    r = (s["m"] / (1.0 - b1 ** t)) / (np.sqrt(s["v"] / (1.0 - b2 ** t)) + eps)
    if hp.get("lamb_decay_in_ratio", False):
        r = r + _num(hp.get("weight_decay") or 0.0) * w
    w_norm, r_norm = _num(np.linalg.norm(w)), _num(np.linalg.norm(r))
    ratio = w_norm / r_norm if (w_norm > 0 and r_norm > 0) else 1.0
    return w - ratio * lr * r


# --------------------------------------------------------------------- Adafactor
def adafactor_init(w: np.ndarray, hp: Mapping[str, Any]) -> State:
    if w.ndim >= 2:
        return {"r": np.zeros(w.shape[:-1]), "c": np.zeros(w.shape[:-2] + w.shape[-1:]), "v": _zeros(w)}
    return {"v": _zeros(w)}


def _rms(x: np.ndarray) -> float:
    return _num(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


def adafactor_step(w: np.ndarray, g: np.ndarray, s: State, lr: float, t: int, hp: Mapping[str, Any], *,
                   learning_rate_form: str = "constant") -> np.ndarray:
    """Adafactor (Shazeer & Stern, 2018, Algorithms 4-5, with Keras's documented parameters).

    * relative step size ``rho_t = min(lr, 1/sqrt(t))`` and
      ``alpha_t = max(eps_2, RMS(w)) * rho_t`` (Section 8);
    * ``beta2_t = 1 - t^beta_2_decay`` (Section 7.2, decay -0.8);
    * for a variable of rank >= 2, factored second moments over the last two
      axes: ``R = beta2_t R + (1-beta2_t) mean(g^2 + eps_1, axis=-1)``,
      ``C`` likewise over axis -2, ``V = R C / mean(R)`` (the paper's
      ``R C / 1^T R`` with row and column means); rank < 2: plain EMA;
    * update clipping ``u = g / sqrt(V)``; ``u /= max(1, RMS(u) / d)``;
      ``w -= alpha_t * u``.

    Convention ``adafactor_relative_step``: ``"always"`` caps the step at
    ``1/sqrt(t)`` whatever ``relative_step`` says; ``"documented"`` caps it
    only when ``relative_step=True`` and the learning rate is a constant,
    as Keras's docstring says ("If learning_rate is a constant and
    relative_step=True, learning rate will be adjusted").
    """
    eps1, eps2 = _num(hp["epsilon_1"]), _num(hp["epsilon_2"])
    d, decay = _num(hp["clip_threshold"]), _num(hp["beta_2_decay"])
    mode = _conv(hp, "adafactor_relative_step", "always")
    capped = mode == "always" or (hp.get("relative_step", True) and learning_rate_form == "constant")
    rho = min(lr, 1.0 / math.sqrt(t)) if capped else lr
    alpha = max(eps2, _rms(w)) * rho
    g2 = g * g + eps1
    beta2 = 1.0 - float(t) ** decay
    if w.ndim >= 2:
        s["r"] = beta2 * s["r"] + (1.0 - beta2) * g2.mean(axis=-1)
        s["c"] = beta2 * s["c"] + (1.0 - beta2) * g2.mean(axis=-2)
        s["v"] = (s["r"] / s["r"].mean(axis=-1, keepdims=True))[..., :, None] * s["c"][..., None, :]
    else:
        s["v"] = beta2 * s["v"] + (1.0 - beta2) * g2
    u = g / np.sqrt(s["v"])
    u = u / max(1.0, _rms(u) / d)
    return w - alpha * u


# ------------------------------------------------------------------------- table
RULES: dict[str, Rule] = {
    "sgd": Rule("sgd", sgd_init, sgd_step, {"momentum_form": ("lr_inside", "lr_outside")},
                ("momentum", "nesterov"), "Sutskever et al. 2013; Keras SGD docs"),
    "adam": Rule("adam", adam_init, adam_step, {"epsilon_form": ("epsilon_hat", "epsilon")},
                 ("beta_1", "beta_2", "epsilon", "amsgrad"), "Kingma & Ba 2015; Reddi et al. 2018",
                 uses_step_count=True, decay_rates=("beta_1", "beta_2")),
    "adamax": Rule("adamax", adamax_init, adamax_step, {}, ("beta_1", "beta_2", "epsilon"),
                   "Kingma & Ba 2015, Algorithm 2", uses_step_count=True, decay_rates=("beta_1", "beta_2")),
    "nadam": Rule("nadam", nadam_init, nadam_step, {"nadam_schedule": ("keras_0.96_pow_t", "torch_psi_0.004")},
                  ("beta_1", "beta_2", "epsilon"), "Dozat 2016", uses_step_count=True,
                  decay_rates=("beta_1", "beta_2")),
    "rmsprop": Rule("rmsprop", rmsprop_init, rmsprop_step, {"epsilon_placement": ("inside_sqrt", "outside_sqrt")},
                    ("rho", "momentum", "epsilon", "centered"), "Hinton 2012 lecture 6e; Graves 2013",
                    decay_rates=("rho",)),
    "adagrad": Rule("adagrad", adagrad_init, adagrad_step, {"epsilon_placement": ("inside_sqrt", "outside_sqrt")},
                    ("initial_accumulator_value", "epsilon"), "Duchi et al. 2011"),
    "adadelta": Rule("adadelta", adadelta_init, adadelta_step, {}, ("rho", "epsilon"), "Zeiler 2012",
                     decay_rates=("rho",)),
    "ftrl": Rule("ftrl", ftrl_init, ftrl_step, {"ftrl_l2": ("doubled", "paper")},
                 ("learning_rate_power", "initial_accumulator_value", "l1_regularization_strength",
                  "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta"),
                 "McMahan et al. 2013, Algorithm 1; TF ApplyFtrlV2 docs"),
    "lion": Rule("lion", lion_init, lion_step, {}, ("beta_1", "beta_2"), "Chen et al. 2023",
                 decay_rates=("beta_1", "beta_2")),
    "lamb": Rule("lamb", lamb_init, lamb_step, {}, ("beta_1", "beta_2", "epsilon"), "You et al. 2020",
                 uses_step_count=True, coupling="layerwise", decay_rates=("beta_1", "beta_2")),
    "adafactor": Rule("adafactor", adafactor_init, adafactor_step,
                      {"adafactor_relative_step": ("always", "documented")},
                      ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold", "relative_step"),
                      "Shazeer & Stern 2018", uses_step_count=True, coupling="factored",
                      reads_learning_rate_form=True),
}


# ------------------------------------------------------------- common machinery
def clip_gradients(grads: Sequence[np.ndarray], *, clipnorm: Optional[float] = None,
                   clipvalue: Optional[float] = None, global_clipnorm: Optional[float] = None) -> list[np.ndarray]:
    """Gradient clipping as the Keras optimizer docs describe it.

    ``clipnorm``: "the gradient of each weight is individually clipped so
    that its norm is no higher than this value"; ``global_clipnorm``: "the
    gradient of all weights is clipped so that their global norm is no
    higher than this value" (Pascanu et al., 2013); ``clipvalue``: "clipped
    to be no higher than this value" (elementwise to ``[-v, v]``).
    """
    out = [_f64(g) for g in grads]
    if clipnorm:
        res = []
        for g in out:
            norm = _num(np.linalg.norm(g))
            res.append(g * clipnorm / norm if norm > clipnorm else g)
        out = res
    if global_clipnorm:
        norm = np.sqrt(sum(_num(np.sum(g * g)) for g in out))
        if norm > global_clipnorm:
            out = [g * global_clipnorm / norm for g in out]
    if clipvalue:
        out = [np.clip(g, -clipvalue, clipvalue) for g in out]
    return out


@dataclass
class Trace:
    """What :func:`trajectory` computed.

    Attributes:
        weights: ``weights[s][i]``: variable ``i`` after call ``s`` (0 = start).
        states: Final slot state per variable.
        ema: Final moving average per variable (``None`` without EMA).
        ties: Per variable, coordinates the rule marked as decided by
            rounding (Lion's ``sign`` at 0); checks exclude them.
        updates: Number of real updates applied (calls / accumulation).
    """

    weights: list[list[np.ndarray]]
    states: list[State]
    ema: Optional[list[np.ndarray]]
    ties: list[np.ndarray]
    updates: int

    @property
    def final(self) -> list[np.ndarray]:
        return self.weights[-1]


GradSource = Union[Sequence[Sequence[np.ndarray]], Callable[[int, list[np.ndarray]], list[np.ndarray]]]


def trajectory(rule: Rule, w0: Sequence[np.ndarray], grads: GradSource, lrs: Sequence[float],
               hp: Mapping[str, Any], *, steps: Optional[int] = None,
               weight_decay: Optional[float] = None, decay_mask: Optional[Sequence[bool]] = None,
               clipnorm: Optional[float] = None, clipvalue: Optional[float] = None,
               global_clipnorm: Optional[float] = None, accumulation_steps: int = 1,
               step_count: str = "updates", ema_momentum: Optional[float] = None,
               ema_overwrite_frequency: Optional[int] = None, ema_start: str = "first_update",
               learning_rate_form: str = "constant") -> Trace:
    """Run ``rule`` over variables ``w0`` for ``steps`` calls of ``apply``.

    The order per update follows the Keras optimizer base-class docs: clip
    the (averaged) gradients, apply decoupled weight decay
    ``w -= lr * weight_decay * w`` (Loshchilov & Hutter, 2019, with the
    decay scaled by the learning rate: ``decay_scaling="lr"``), then the
    rule.  With ``accumulation_steps = k``, every k-th call applies the mean
    of the last k gradients ("using the average value of the gradients since
    the last update"); other calls leave the weights alone.  ``step_count``
    says what ``t`` the rule sees: ``"updates"`` (one step on the mean
    gradient, the definition of accumulation) or ``"calls"``.

    With ``ema_momentum``: after each call ``ema = m * ema + (1 - m) * w``;
    every ``ema_overwrite_frequency`` calls the weights are overwritten with
    it.  Convention ``ema_start``: ``"first_update"`` -- the average starts
    at the weights after the first call (Keras 3) -- or ``"initial"`` -- it
    starts at the initial weights and the first call already averages
    (Keras 2, whose average slot is created from the variable's value).

    Args:
        rule: The reference rule.
        w0: Initial variables (copied, promoted to float64).
        grads: ``grads[s][i]`` per call, or ``grads(s, weights) -> list``.
        lrs: Learning rate used at call ``s`` (a schedule evaluated at
            ``iterations = s``).
        hp: Hyperparameters and conventions for the rule.
        learning_rate_form: How the optimizer was given its learning rate
            (``"constant"``, ``"callable"``, ``"schedule"``), for rules that
            read it (:attr:`Rule.reads_learning_rate_form`).
    """
    ws = [_f64(w) for w in w0]
    n_calls = steps if steps is not None else len(grads)  # type: ignore[arg-type]
    states = [rule.init(w, hp) for w in ws]
    mask = list(decay_mask) if decay_mask is not None else [True] * len(ws)
    history = [[w.copy() for w in ws]]
    acc = [np.zeros_like(w) for w in ws]
    ema: Optional[list[np.ndarray]] = None
    if ema_momentum is not None and ema_start == "initial":
        ema = [w.copy() for w in ws]
    first = ema_start != "initial"
    updates = 0
    step_kw = {"learning_rate_form": learning_rate_form} if rule.reads_learning_rate_form else {}
    for s in range(n_calls):
        g_now = grads(s, ws) if callable(grads) else grads[s]
        g_now = [_f64(g) for g in g_now]
        lr = _num(lrs[s])
        if accumulation_steps > 1:
            acc = [a + g for a, g in zip(acc, g_now)]
            if (s + 1) % accumulation_steps != 0:
                history.append([w.copy() for w in ws])
                ema = _ema_step(ema, ws, ema_momentum, s if first else s + 1, ema_overwrite_frequency)
                continue
            g_now = [a / accumulation_steps for a in acc]
            acc = [np.zeros_like(w) for w in ws]
        g_now = clip_gradients(g_now, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)
        if weight_decay:
            ws = [w - lr * weight_decay * w if m else w for w, m in zip(ws, mask)]
        updates += 1
        t = updates if step_count == "updates" else s + 1
        ws = [rule.step(w, g, st, lr, t, hp, **step_kw) for w, g, st in zip(ws, g_now, states)]
        ema = _ema_step(ema, ws, ema_momentum, s if first else s + 1, ema_overwrite_frequency)
        if ema is not None and ema_overwrite_frequency and (s + 1) % ema_overwrite_frequency == 0:
            ws = [e.copy() for e in ema]
        history.append([w.copy() for w in ws])
    ties = [st.get("tie", np.zeros(w.shape, dtype=bool)) for st, w in zip(states, ws)]
    return Trace(history, states, ema, ties, updates)


def _ema_step(ema: Optional[list[np.ndarray]], ws: list[np.ndarray], momentum: Optional[float], s: int,
              freq: Optional[int]) -> Optional[list[np.ndarray]]:
    if momentum is None:
        return None
    if ema is None or s == 0:
        return [w.copy() for w in ws]
    return [momentum * e + (1.0 - momentum) * w for e, w in zip(ema, ws)]
