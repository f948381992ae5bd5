"""Target laws: what an initializer's samples must follow.

A law is plain NumPy/SciPy; it never asks Keras anything.  Formulas:

* Uniform on ``[-limit, limit]``: variance ``limit**2 / 3``, excess kurtosis
  ``-6/5``.
* Normal ``N(mean, std**2)``.
* Truncated normal: a ``N(mean, std**2)`` conditioned on ``|x - mean| <= cut*std``.
  With ``Z = 2*Phi(c) - 1`` its variance is ``std**2 * (1 - 2*c*phi(c)/Z)``;
  at ``c = 2`` the standard-deviation ratio is ``0.8796...``, the constant
  Keras divides by in ``VarianceScaling`` (Keras docs, "truncated_normal").
* Orthogonal (Saxe et al., 2014, "Exact solutions to the nonlinear dynamics of
  learning in deep linear networks"): a Haar-distributed (semi-)orthogonal
  matrix times ``gain``; marginally each entry has mean 0 and variance
  ``gain**2 / max(rows, cols)``.
* Constant and identity: exact values.
* Any frozen ``scipy.stats`` continuous distribution (:class:`ScipyLaw`).

A law may depend on the kernel through its *fans* (``Var = 2 / fan_in``):
:class:`Fans` holds them and :func:`shape_fans` computes them from the kernel
shape alone, the convention ``VarianceScaling`` documents.  The *true* fans a
layer gives its kernel are the layer catalogue's business
(:mod:`initcheck.checks.layers`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _st

__all__ = [
    "Fans",
    "shape_fans",
    "Law",
    "Uniform",
    "Normal",
    "TruncatedNormal",
    "Orthogonal",
    "Constant",
    "Identity",
    "ScipyLaw",
    "LawError",
    "truncated_normal_std_ratio",
]


class LawError(ValueError):
    """A law was declared with impossible parameters."""


@dataclass(frozen=True)
class Fans:
    """Number of inputs and outputs each unit of a kernel sees."""

    fan_in: float
    fan_out: float

    @property
    def fan_avg(self) -> float:
        return 0.5 * (self.fan_in + self.fan_out)

    def get(self, mode: str) -> float:
        """``mode`` is ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``."""
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"unknown fan mode {mode!r}; expected fan_in, fan_out or fan_avg")
        return getattr(self, mode)


def shape_fans(shape: tuple[int, ...]) -> Fans:
    """Fans from the kernel shape alone (the convention ``VarianceScaling`` documents).

    For a kernel of shape ``(..., in, out)`` with receptive field
    ``r = prod(shape[:-2])``: ``fan_in = in * r`` and ``fan_out = out * r``;
    a vector has ``fan_in = fan_out = shape[0]``; a scalar has both equal to 1.
    Written from the formula, not by calling Keras: it is the oracle Keras's
    own computation is checked against.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return Fans(1, 1)
    if len(shape) == 1:
        return Fans(shape[0], shape[0])
    receptive = math.prod(shape[:-2])
    return Fans(shape[-2] * receptive, shape[-1] * receptive)



def truncated_normal_std_ratio(cut: float) -> float:
    """Std of a standard normal truncated to ``[-cut, cut]``.

    ``sqrt(1 - 2*c*phi(c) / (2*Phi(c) - 1))``; 0.879625... at ``cut=2``.
    """
    c = float(cut)
    z = 2.0 * _st.norm.cdf(c) - 1.0
    return math.sqrt(1.0 - 2.0 * c * _st.norm.pdf(c) / z)


class Law:
    """Base class.  ``iid`` laws describe each entry independently."""

    kind: str = "law"
    iid: bool = True
    deterministic: bool = False

    def mean(self) -> float:
        raise NotImplementedError

    def variance(self) -> float:
        raise NotImplementedError

    def std(self) -> float:
        return math.sqrt(self.variance())

    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def excess_kurtosis(self) -> float:
        raise NotImplementedError

    def dist(self) -> Any:
        """A frozen ``scipy.stats`` distribution of one entry (i.i.d. laws)."""
        raise NotImplementedError

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return self.dist().cdf(x)

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    def validate(self) -> None:
        """Raise :class:`LawError` naming the bad parameter."""

    def __str__(self) -> str:
        params = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in self.describe().items() if k != "kind")
        return f"{self.describe()['kind']}({params})"


def _finite_positive(owner: str, name: str, value: float, allow_zero: bool = False) -> None:
    if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
        raise LawError(f"{owner}: {name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise LawError(f"{owner}: {name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


@dataclass(frozen=True)
class Uniform(Law):
    """Uniform on ``[low, high]``; ``Uniform.symmetric(limit)`` for ``[-limit, limit]``."""

    low: float
    high: float
    kind = "uniform"

    @classmethod
    def symmetric(cls, limit: float) -> "Uniform":
        return cls(-float(limit), float(limit))

    def validate(self) -> None:
        for name in ("low", "high"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.floating)) or not math.isfinite(v):
                raise LawError(f"Uniform: {name} must be finite, got {v!r}")
        if not self.high > self.low:
            raise LawError(f"Uniform: high ({self.high}) must exceed low ({self.low})")

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12.0

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def excess_kurtosis(self) -> float:
        return -1.2

    def dist(self) -> Any:
        return _st.uniform(loc=self.low, scale=self.high - self.low)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "low": float(self.low), "high": float(self.high)}


@dataclass(frozen=True)
class Normal(Law):
    """``N(mean, std**2)``."""

    std: float
    loc: float = 0.0
    kind = "normal"

    def validate(self) -> None:
        _finite_positive("Normal", "std", self.std)

    def mean(self) -> float:
        return float(self.loc)

    def variance(self) -> float:
        return float(self.std) ** 2

    def excess_kurtosis(self) -> float:
        return 0.0

    def dist(self) -> Any:
        return _st.norm(loc=self.loc, scale=self.std)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": float(self.loc), "std": float(self.std)}


@dataclass(frozen=True)
class TruncatedNormal(Law):
    """``N(loc, std**2)`` restricted to ``[loc - cut*std, loc + cut*std]``.

    ``std`` is the parameter of the *untruncated* normal (what
    ``tf.random.truncated_normal`` takes); the variance of the result is
    smaller by ``truncated_normal_std_ratio(cut)**2``.
    """

    std: float
    loc: float = 0.0
    cut: float = 2.0
    kind = "truncated_normal"

    @classmethod
    def with_variance(cls, variance: float, cut: float = 2.0, loc: float = 0.0) -> "TruncatedNormal":
        """The truncated normal whose *variance after truncation* is ``variance``."""
        return cls(std=math.sqrt(variance) / truncated_normal_std_ratio(cut), loc=loc, cut=cut)

    def validate(self) -> None:
        _finite_positive("TruncatedNormal", "std", self.std)
        _finite_positive("TruncatedNormal", "cut", self.cut)

    def mean(self) -> float:
        return float(self.loc)

    def variance(self) -> float:
        return (float(self.std) * truncated_normal_std_ratio(self.cut)) ** 2

    def support(self) -> tuple[float, float]:
        return (self.loc - self.cut * self.std, self.loc + self.cut * self.std)

    def excess_kurtosis(self) -> float:
        return float(self.dist().stats(moments="k"))

    def dist(self) -> Any:
        return _st.truncnorm(-self.cut, self.cut, loc=self.loc, scale=self.std)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": float(self.loc), "std": float(self.std),
                "cut": float(self.cut), "std_after_truncation": self.std_after()}

    def std_after(self) -> float:
        return math.sqrt(self.variance())


@dataclass(frozen=True)
class Orthogonal(Law):
    """``gain`` times a Haar (semi-)orthogonal ``rows x cols`` matrix.

    Kernels of rank > 2 are flattened to ``(prod(shape[:-1]), shape[-1])``, the
    convention of the Keras documentation for ``Orthogonal``.
    """

    gain: float
    rows: int
    cols: int
    kind = "orthogonal"
    iid = False

    def validate(self) -> None:
        _finite_positive("Orthogonal", "gain", self.gain)
        if self.rows < 1 or self.cols < 1:
            raise LawError(f"Orthogonal: rows and cols must be >= 1, got {self.rows}x{self.cols}")

    def mean(self) -> float:
        return 0.0

    def variance(self) -> float:
        return float(self.gain) ** 2 / max(self.rows, self.cols)

    def excess_kurtosis(self) -> float:
        return 0.0  # asymptotically Gaussian entries

    def dist(self) -> Any:
        """The asymptotic marginal law of one entry."""
        return _st.norm(scale=math.sqrt(self.variance()))

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "gain": float(self.gain), "rows": self.rows, "cols": self.cols}


@dataclass(frozen=True)
class Constant(Law):
    """Every entry equals ``value``."""

    value: float
    kind = "constant"
    iid = False
    deterministic = True

    def validate(self) -> None:
        if not isinstance(self.value, (int, float, np.floating, np.integer)) or not math.isfinite(self.value):
            raise LawError(f"Constant: value must be a finite number, got {self.value!r}")

    def mean(self) -> float:
        return float(self.value)

    def variance(self) -> float:
        return 0.0

    def support(self) -> tuple[float, float]:
        return (float(self.value), float(self.value))

    def expected(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.full(shape, float(self.value))

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": float(self.value)}


@dataclass(frozen=True)
class Identity(Law):
    """``gain`` times the (rectangular) identity matrix; 2-D kernels only."""

    gain: float = 1.0
    kind = "identity"
    iid = False
    deterministic = True

    def validate(self) -> None:
        if not isinstance(self.gain, (int, float, np.floating)) or not math.isfinite(self.gain):
            raise LawError(f"Identity: gain must be finite, got {self.gain!r}")

    def mean(self) -> float:
        return float("nan")  # shape dependent; use expected()

    def variance(self) -> float:
        return float("nan")

    def expected(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.gain * np.eye(shape[0], shape[1])

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "gain": float(self.gain)}


@dataclass(frozen=True)
class ScipyLaw(Law):
    """Any frozen ``scipy.stats`` continuous distribution, entries i.i.d."""

    frozen: Any
    kind = "scipy"

    def validate(self) -> None:
        dist = getattr(self.frozen, "dist", None)
        if not isinstance(dist, _st.rv_continuous):
            raise LawError(f"ScipyLaw: expected a frozen scipy.stats continuous distribution, got {self.frozen!r}")
        v = float(self.frozen.var())
        if not math.isfinite(v):
            raise LawError(f"ScipyLaw: {self.frozen.dist.name} has infinite variance; scale checks need a finite one")

    def mean(self) -> float:
        return float(self.frozen.mean())

    def variance(self) -> float:
        return float(self.frozen.var())

    def support(self) -> tuple[float, float]:
        lo, hi = self.frozen.support()
        return (float(lo), float(hi))

    def excess_kurtosis(self) -> float:
        return float(self.frozen.stats(moments="k"))

    def dist(self) -> Any:
        return self.frozen

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.frozen.dist.name,
                "args": list(self.frozen.args), "kwds": dict(self.frozen.kwds)}
