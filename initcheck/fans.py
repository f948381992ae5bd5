"""Fan oracle: fan_in and fan_out of a kernel, written from the formulas.

The Keras convention (documented for ``VarianceScaling``): for a kernel of
shape ``(..., in, out)`` with receptive field ``r = prod(shape[:-2])``,
``fan_in = in * r`` and ``fan_out = out * r``; a vector has
``fan_in = fan_out = shape[0]``; a scalar has both equal to 1.  This module
does not call Keras: it is the oracle Keras is checked against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Fans", "keras_fans"]


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


def keras_fans(shape: tuple[int, ...]) -> Fans:
    """Fans by the Keras convention for a kernel of ``shape``."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return Fans(1, 1)
    if len(shape) == 1:
        return Fans(shape[0], shape[0])
    receptive = math.prod(shape[:-2])
    return Fans(shape[-2] * receptive, shape[-1] * receptive)


# --------------------------------------------------------------------------- layer oracle
#
# The *true* fans of a kernel as a layer uses it.  ``fan_in`` is the number of
# terms in the sum that forms one output unit (for every unit away from
# borders); ``fan_out`` is the number of output units one input unit feeds.
# Glorot & Bengio (2010) derive their variance from exactly these counts
# (forward: Var(out) = fan_in Var(w) Var(in); backward with fan_out); He et al.
# (2015, Sec. 2.2) use ``k^2 c`` for a k x k convolution with c input channels
# (forward) and ``k^2 d`` with d output channels (backward).  Strides other
# than 1 divide the number of terms of a *transposed* convolution (and the
# outputs of a forward one) by the stride product; the layer checks build
# every layer with stride 1 so both conventions agree on that point.

#: The convention each layer kind's oracle promises, for docs and evidence.
LAYER_CONVENTIONS: dict[str, str] = {
    "dense": "kernel (in, out): y_j = sum_i x_i W_ij -> fan_in = in, fan_out = out",
    "conv": "kernel (*k, in, out): each output sums in*prod(k) terms; each input feeds out*prod(k) outputs "
            "(stride 1, He et al. 2015)",
    "conv_transpose": "kernel (*k, out, in) (Keras stores filters before input channels): the adjoint of a "
                      "convolution, so each output sums in*prod(k)/prod(strides) terms and each input feeds "
                      "out*prod(k) outputs -> fan_in = in*prod(k), fan_out = out*prod(k) at stride 1",
    "depthwise": "kernel (*k, in, mult): output channel (c, m) sums prod(k) terms of input channel c only -> "
                 "fan_in = prod(k); each input feeds mult*prod(k) outputs -> fan_out = mult*prod(k)",
    "pointwise": "kernel (1, 1, in, out) of a separable conv: a dense map over channels -> fan_in = in, "
                 "fan_out = out",
    "einsum": "kernel axes are contracted with the input (in the input term, not in the output), produced "
              "(in the output, not in the input) or parallel (in both: one independent map per index). "
              "fan_in = prod(contracted), fan_out = prod(produced)",
    "embedding": "table (vocab, dim) = a dense layer on one-hot inputs -> fan_in = vocab, fan_out = dim "
                 "(each output coordinate is a single weight; no sum, so no fan correction applies)",
    "recurrent": "kernel (in, gates*units) is the concatenation of one (in, units) kernel per gate "
                 "(LSTM 4, GRU 3, SimpleRNN 1; Hochreiter & Schmidhuber 1997, Cho et al. 2014): each gate "
                 "unit sums in terms -> fan_in = in, fan_out = units",
}


def dense_fans(shape: tuple[int, ...]) -> Fans:
    """Dense kernel ``(in, out)``."""
    n_in, n_out = (int(s) for s in shape)
    return Fans(n_in, n_out)


def conv_fans(shape: tuple[int, ...]) -> Fans:
    """Forward convolution kernel ``(*k, in, out)`` at stride 1."""
    shape = tuple(int(s) for s in shape)
    k = math.prod(shape[:-2])
    return Fans(shape[-2] * k, shape[-1] * k)


def conv_transpose_fans(shape: tuple[int, ...], strides: tuple[int, ...] | None = None) -> Fans:
    """Transposed convolution kernel ``(*k, out, in)``.

    The layer's input channels are the *last* axis; each output element
    receives ``in * prod(k) / prod(strides)`` terms on average.
    """
    shape = tuple(int(s) for s in shape)
    k = math.prod(shape[:-2])
    s = math.prod(strides) if strides else 1
    n_out_ch, n_in_ch = shape[-2], shape[-1]
    return Fans(n_in_ch * k / s, n_out_ch * k)


def depthwise_fans(shape: tuple[int, ...]) -> Fans:
    """Depthwise kernel ``(*k, in, multiplier)``: no sum over input channels."""
    shape = tuple(int(s) for s in shape)
    k = math.prod(shape[:-2])
    return Fans(k, shape[-1] * k)


def einsum_fans(equation: str, kernel_shape: tuple[int, ...]) -> Fans:
    """Fans of the kernel of ``EinsumDense(equation)`` (``"input,kernel->output"``).

    Raises:
        ValueError: when the equation is not of that form or its kernel term
            does not match ``kernel_shape``.
    """
    try:
        lhs, out = equation.replace(" ", "").split("->")
        inp, ker = lhs.split(",")
    except ValueError:
        raise ValueError(f"expected an equation 'input,kernel->output', got {equation!r}") from None
    ker = ker.replace("...", "")
    if len(ker) != len(kernel_shape):
        raise ValueError(f"kernel term {ker!r} of {equation!r} does not match kernel shape {kernel_shape}")
    fan_in = math.prod(int(d) for c, d in zip(ker, kernel_shape) if c in inp and c not in out)
    fan_out = math.prod(int(d) for c, d in zip(ker, kernel_shape) if c in out and c not in inp)
    return Fans(fan_in, fan_out)


def recurrent_fans(shape: tuple[int, ...], gates: int) -> Fans:
    """Recurrent-layer kernel ``(in, gates * units)`` (or recurrent kernel ``(units, gates * units)``)."""
    n_in, total = (int(s) for s in shape)
    if total % gates:
        raise ValueError(f"kernel width {total} is not a multiple of the {gates} gates")
    return Fans(n_in, total // gates)


__all__ += ["LAYER_CONVENTIONS", "dense_fans", "conv_fans", "conv_transpose_fans", "depthwise_fans",
            "einsum_fans", "recurrent_fans"]
