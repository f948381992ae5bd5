"""Layer checks: the kernels real Keras layers build, at the layer's *true* fans.

A law like He's ``Var = 2 / fan_in`` is a promise about a layer: its
``fan_in`` is the number of terms each output unit sums.  ``VarianceScaling``
computes fans from the kernel's shape alone (:func:`initcheck.laws.shape_fans`),
which is right for a Dense or a forward convolution kernel and wrong for
others.  Each :class:`LayerKind` of :data:`LAYER_KINDS` knows how to build a
Keras layer with the spec's initializer and, next to it, the *true* fans of
every kernel it holds (its fan oracle, written from the formulas); the check
``check_layer_variance_<kind>`` compares the built kernel's variance with the
law at those true fans.  A new layer kind is one entry in :data:`LAYER_KINDS`
with its oracle, here.

The true fans (Glorot & Bengio 2010 derive their variance from exactly these
counts: forward ``Var(out) = fan_in Var(w) Var(in)``, backward with
``fan_out``; He et al. 2015, Sec. 2.2, use ``k^2 c`` for a ``k x k``
convolution with ``c`` input channels):

* ``fan_in`` is the number of terms in the sum that forms one output unit
  (for every unit away from borders);
* ``fan_out`` is the number of output units one input unit feeds.

Strides other than 1 divide the number of terms of a *transposed*
convolution by the stride product: each output sums ``in * prod(k) /
prod(strides)`` terms (He-initialized ``Conv2DTranspose`` doubles the signal
variance at stride 1 and halves it at stride 2 when ``in = 2 out``), so the
transposed kinds test every case at strides 1 and 2 (the case's
``"strides"``): the kernel the initializer fills does not depend on the
stride, its true fans do.  Forward convolutions are built at stride 1.
:data:`CONVENTIONS` states each kind's formula for docs and evidence.

Which fans the *initializer* uses is the spec's ``fan_convention``.  For
``"layer"`` (default) each kernel must match the law at the true fans; a
failure says, when the variance matches the law at the kernel-shape fans
instead, that the one-line remedy is to declare ``fan_convention="shape"``.
For ``"shape"`` the check verifies the consequence instead of waiving it:
where the two laws differ, the variance must match the law at the shape fans
and the check reports an expected failure of the convention carrying the
measured ratio to the true-fan law (:data:`~initcheck.builtin.findings.SHAPE_FANS`);
matching neither is a real failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from .. import stats
from ..builtin.findings import MHA_SEEDED_CLONE, SHAPE_FANS
from ..laws import Fans, Law, shape_fans
from ..strategies import derive_seed, seeds
from . import register_check
from .distribution import law_at
from .evidence import Evidence, consequence, fail, ok, statistical_verdict

__all__ = [
    "LayerKind", "LAYER_KINDS", "CONVENTIONS", "LAYER_VARIANCE_CHANGE", "layer_check_name", "run_layer_variance",
    "dense_fans", "conv_fans", "conv_transpose_fans", "depthwise_fans", "einsum_fans", "recurrent_fans",
    "check_layer_independence_multi_head_attention", "SHAPE_REMEDY",
]


# --------------------------------------------------------------------------- fan oracle

#: The convention each layer kind's oracle promises, for docs and evidence.
CONVENTIONS: dict[str, str] = {
    "dense": "kernel (in, out): y_j = sum_i x_i W_ij -> fan_in = in, fan_out = out",
    "conv": "kernel (*k, in, out): each output sums in*prod(k) terms; each input feeds out*prod(k) outputs "
            "(stride 1, He et al. 2015)",
    "conv_transpose": "kernel (*k, out, in) (Keras stores filters before input channels): the adjoint of a "
                      "convolution, so each output sums in*prod(k)/prod(strides) terms and each input feeds "
                      "out*prod(k) outputs -> fan_in = in*prod(k)/prod(strides), fan_out = out*prod(k)",
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


# --------------------------------------------------------------------------- the catalogue

#: Relative variance error the layer checks are sure (1 - beta) to catch.  The
#: drawn configs make every fan confusion change the variance by more: channel
#: ratios >= 2 (transposed convs: in = 2..4 x out, so x2..4 at stride 1 for
#: fan_in/fan_out and >= x1.5 at stride 2 for fan_avg), >= 64 input channels
#: (depthwise: x1/64 or less), recurrent gates (fan_avg GRU with in <= 4 units:
#: x0.71 at worst; LSTM x0.63).  A law at the wrong fans by such factors cannot
#: hide; smaller errors are the marginal checks' job (1 % std).
LAYER_VARIANCE_CHANGE = 0.25
_MAX_BUILDS = 60
#: Channel ranges per conv rank, large enough that a few builds reach the planned n.
_CONV_CHANNELS = {1: (24, 48), 2: (16, 32), 3: (8, 16)}


@dataclass(frozen=True)
class LayerKind:
    """One Keras layer kind: how to build it and the oracle fans of its kernels.

    ``build(keras, initializer, params)`` returns ``{label: kernel array}``;
    ``oracle(label, shape, params)`` returns the kernel's true fans.
    ``settings(params)`` lists the ``(suffix, params)`` under which the same
    kernels are judged (the transposed kinds: one per stride, since the
    stride changes the true fans but not the kernel); default one.
    """

    name: str
    ranks: tuple[int, ...]
    params: Callable[[], Any]
    build: Callable[[Any, Any, dict], dict]
    oracle: Callable[[str, tuple, dict], Fans]
    convention: str
    settings: Callable[[dict], list] = lambda p: [("", p)]


def _weights(layer: Any) -> dict[str, Any]:
    from .. import keras_compat as kc

    out = {}
    for w in layer.weights:
        path = str(getattr(w, "path", None) or w.name).split(":")[0]
        out[path] = kc.to_numpy(w).astype(np.float64)
    return out


def _find(weights: dict[str, Any], *names: str, parent: Optional[str] = None) -> np.ndarray:
    for name in names:
        for path, value in weights.items():
            parts = path.split("/")
            if parts[-1] == name and (parent is None or (len(parts) > 1 and parts[-2] == parent)):
                return value
    raise LookupError(f"no weight named {names} (parent {parent}) among {sorted(weights)}")


def _ratio_pair(st: Any, lo: int, hi: int) -> Any:
    """(a, b) with one a multiple >= 2 of the other, either order (so fans differ)."""
    return st.tuples(st.integers(lo, hi), st.integers(2, 4), st.booleans()).map(
        lambda t: (t[0], t[0] * t[1]) if t[2] else (t[0] * t[1], t[0]))


def _conv_kind(rank: int, transpose: bool) -> LayerKind:
    def params() -> Any:
        from hypothesis import strategies as st

        fields = {"k": st.lists(st.integers(2, 4 if rank < 3 else 3), min_size=rank, max_size=rank),
                  "channels": _ratio_pair(st, *_CONV_CHANNELS[rank]), "seed": seeds()}
        if transpose:
            # in = m * out (m = 2..4): every fan mode then differs from the shape convention by >= x1.5 at
            # stride 1 or 2 (fan_avg agrees at stride 1 and differs at 2); see LAYER_VARIANCE_CHANGE.
            lo, hi = _CONV_CHANNELS[rank]
            fields["channels"] = st.tuples(st.integers(lo, hi), st.integers(2, 4)).map(lambda t: (t[0] * t[1], t[0]))
            fields["strides"] = st.just([1, 2])
        return st.fixed_dictionaries(fields)

    def build(keras: Any, init: Any, p: dict) -> dict:
        cin, cout = p["channels"]
        names = {1: "Conv1D", 2: "Conv2D", 3: "Conv3D"}
        cls = getattr(keras.layers, names[rank] + ("Transpose" if transpose else ""))
        stride = max(p.get("strides", [1])) if transpose else 1
        layer = cls(cout, tuple(p["k"]), strides=stride, kernel_initializer=init, use_bias=False)
        layer.build((None,) + (8,) * rank + (cin,))
        return {"kernel": _find(_weights(layer), "kernel")}

    def oracle(label: str, shape: tuple, p: dict) -> Fans:
        if transpose:
            return conv_transpose_fans(shape, (int(p.get("stride", 1)),) * rank)
        return conv_fans(shape)

    def settings(p: dict) -> list:
        return [(f"stride{s}", {**p, "stride": int(s)}) for s in p.get("strides", [1])]

    name = f"conv{rank}d" + ("_transpose" if transpose else "")
    if transpose:
        return LayerKind(name, (rank + 2,), params, build, oracle, "conv_transpose", settings)
    return LayerKind(name, (rank + 2,), params, build, oracle, "conv")


def _dense_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"units": _ratio_pair(st, 48, 128), "seed": seeds()})


def _dense_build(keras: Any, init: Any, p: dict) -> dict:
    n_in, n_out = p["units"]
    layer = keras.layers.Dense(n_out, kernel_initializer=init, use_bias=False)
    layer.build((None, n_in))
    return {"kernel": _find(_weights(layer), "kernel")}


def _depthwise_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"k": st.lists(st.integers(3, 4), min_size=2, max_size=2),
                                  "cin": st.integers(64, 256), "mult": st.integers(1, 3), "seed": seeds()})


def _depthwise_build(keras: Any, init: Any, p: dict) -> dict:
    layer = keras.layers.DepthwiseConv2D(tuple(p["k"]), depth_multiplier=p["mult"], depthwise_initializer=init,
                                         use_bias=False)
    layer.build((None, 8, 8, p["cin"]))
    return {"depthwise_kernel": _find(_weights(layer), "depthwise_kernel", "kernel")}


def _separable_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"k": st.lists(st.integers(3, 4), min_size=2, max_size=2),
                                  "cin": st.integers(128, 256), "mult": st.integers(1, 2), "cout": st.integers(32, 64),
                                  "seed": seeds()})


def _separable_build(keras: Any, init: Any, p: dict) -> dict:
    layer = keras.layers.SeparableConv2D(p["cout"], tuple(p["k"]), depth_multiplier=p["mult"],
                                         depthwise_initializer=init, pointwise_initializer=init, use_bias=False)
    layer.build((None, 8, 8, p["cin"]))
    w = _weights(layer)
    return {"depthwise_kernel": _find(w, "depthwise_kernel"), "pointwise_kernel": _find(w, "pointwise_kernel")}


def _separable_oracle(label: str, shape: tuple, p: dict) -> Fans:
    return depthwise_fans(shape) if label == "depthwise_kernel" else conv_fans(shape)


_EINSUM = "ab,bcd->acd"


def _einsum_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"b": st.integers(64, 128), "c": st.integers(2, 8), "d": st.integers(32, 64),
                                  "seed": seeds()})


def _einsum_build(keras: Any, init: Any, p: dict) -> dict:
    layer = keras.layers.EinsumDense(_EINSUM, output_shape=(p["c"], p["d"]), kernel_initializer=init)
    layer.build((None, p["b"]))
    return {"kernel": _find(_weights(layer), "kernel")}


def _mha_params() -> Any:
    from hypothesis import strategies as st

    # Seed 0 is left to the seed-contract checks: Keras 3.0-3.1 treat it as unseeded, which
    # would turn this layer check into a second test of that finding.
    return st.fixed_dictionaries({"heads": st.integers(2, 8), "key_dim": st.integers(16, 32),
                                  "model": st.integers(64, 128), "seed": seeds().filter(lambda s: s != 0)})


def _mha_build(keras: Any, init: Any, p: dict) -> dict:
    layer = keras.layers.MultiHeadAttention(num_heads=p["heads"], key_dim=p["key_dim"], kernel_initializer=init)
    x = np.zeros((1, 2, p["model"]), dtype=np.float32)
    layer(x, x)
    w = _weights(layer)
    return {"query_kernel": _find(w, "kernel", parent="query"),
            "output_kernel": _find(w, "kernel", parent="attention_output")}


def _mha_oracle(label: str, shape: tuple, p: dict) -> Fans:
    # query: "abc,cde->abde" kernel (model, heads, key_dim); output: "abcd,cde->abe" kernel (heads, key_dim, model)
    eq = "abc,cde->abde" if label == "query_kernel" else "abcd,cde->abe"
    return einsum_fans(eq, shape)


def _embedding_params() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"units": _ratio_pair(st, 48, 128), "seed": seeds()})


def _embedding_build(keras: Any, init: Any, p: dict) -> dict:
    vocab, dim = p["units"]
    layer = keras.layers.Embedding(vocab, dim, embeddings_initializer=init)
    layer.build((None, 3))
    return {"embeddings": _find(_weights(layer), "embeddings")}


def _rnn_kind(cls_name: str, gates: int) -> LayerKind:
    def params() -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries({"units": _ratio_pair(st, 32, 96), "seed": seeds()})

    def build(keras: Any, init: Any, p: dict) -> dict:
        n_in, units = p["units"]
        layer = getattr(keras.layers, cls_name)(units, kernel_initializer=init)
        layer.build((None, 3, n_in))
        return {"kernel": _find(_weights(layer), "kernel")}

    def oracle(label: str, shape: tuple, p: dict) -> Fans:
        return recurrent_fans(shape, gates)

    return LayerKind(cls_name.lower() if cls_name != "SimpleRNN" else "simple_rnn", (2,), params, build, oracle,
                     "recurrent")


LAYER_KINDS: dict[str, LayerKind] = {k.name: k for k in [
    LayerKind("dense", (2,), _dense_params, _dense_build, lambda l, s, p: dense_fans(s), "dense"),
    _conv_kind(1, False), _conv_kind(2, False), _conv_kind(3, False),
    LayerKind("depthwise_conv2d", (4,), _depthwise_params, _depthwise_build, lambda l, s, p: depthwise_fans(s),
              "depthwise"),
    LayerKind("separable_conv2d", (4,), _separable_params, _separable_build, _separable_oracle,
              "depthwise+pointwise"),
    _conv_kind(1, True), _conv_kind(2, True), _conv_kind(3, True),
    LayerKind("einsum_dense", (3,), _einsum_params, _einsum_build,
              lambda l, s, p: einsum_fans(_EINSUM, s), "einsum"),
    LayerKind("multi_head_attention", (3,), _mha_params, _mha_build, _mha_oracle, "einsum"),
    LayerKind("embedding", (2,), _embedding_params, _embedding_build, lambda l, s, p: dense_fans(s), "embedding"),
    _rnn_kind("LSTM", 4), _rnn_kind("GRU", 3), _rnn_kind("SimpleRNN", 1),
]}


_WRAPPER: dict[int, Any] = {}


def _cloneable(keras: Any, init: Any) -> Any:
    """A plain callable initializer wrapped so layers that clone initializers can use it.

    ``MultiHeadAttention`` clones its initializers with
    ``type(init).from_config(init.get_config())``, which a plain
    ``init(shape, dtype=None)`` callable (a legal Keras initializer) lacks.
    The wrapper's config holds the callable itself, so the clone draws the
    same values: the variance measured is the callable's.
    """
    if hasattr(init, "get_config") and hasattr(type(init), "from_config"):
        return init
    key = id(keras)
    if key not in _WRAPPER:
        base = keras.initializers.Initializer

        class CallableInitializer(base):  # type: ignore[misc, valid-type]
            def __init__(self, fn: Any) -> None:
                self.fn = fn

            def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Any:
                return self.fn(shape, dtype=dtype)

            def get_config(self) -> dict:
                return {"fn": self.fn}

        _WRAPPER[key] = CallableInitializer
    return _WRAPPER[key](init)


#: Two laws closer than this (relative variance) are one law: the shape and true fans agree there.
_SAME_LAW = 1e-9

#: The one-line remedy a strict layer check names when the variance matches the shape-fan law.
SHAPE_REMEDY = ('declare fan_convention="shape" on the spec if your initializer computes fans from the kernel '
                'shape (like Keras\'s VarianceScaling)')


def run_layer_variance(kind: LayerKind, spec: Any, case: dict) -> Evidence:
    """Build ``kind`` with the spec's initializer (pooled over seeds) and test each kernel's variance.

    Each kernel (and, for the transposed kinds, each stride) is judged by the
    spec's ``fan_convention``; see the module docstring.
    """
    from .. import keras_compat as kc

    keras = kc.keras()
    b = stats.budget()
    seed = int(case["seed"])
    settings = kind.settings(case)
    pools: dict[str, list[np.ndarray]] = {}
    builds = 0
    need: Optional[dict[str, int]] = None
    # (label, setting suffix) -> (law at the true fans, law at the shape fans, true fans, the law tested)
    judged: dict[tuple[str, str], tuple[Law, Law, Fans, Law]] = {}
    shape_conv = spec.fan_convention == "shape"
    while builds < _MAX_BUILDS:
        kernels = kind.build(keras, _cloneable(keras, spec.factory(derive_seed(seed, builds))), case)
        builds += 1
        for label, value in kernels.items():
            pools.setdefault(label, []).append(value)
        if need is None:
            a_each = b.alpha / (len(kernels) * len(settings))
            need = {}
            for label, value in kernels.items():
                shp = tuple(value.shape)
                shape_law = law_at(spec, shp)
                for suffix, params in settings:
                    fans = kind.oracle(label, shp, params)
                    true_law = law_at(spec, shp, fans)
                    differ = abs(shape_law.variance() / true_law.variance() - 1.0) > _SAME_LAW
                    tested = shape_law if (shape_conv and differ) else true_law
                    judged[(label, suffix)] = (true_law, shape_law, fans, tested)
                    n = stats.variance_sample_size(LAYER_VARIANCE_CHANGE, tested.excess_kurtosis(), a_each, b.beta)
                    need[label] = max(need.get(label, 0), n)
        if all(sum(v.size for v in pools[label]) >= need[label] for label in need):
            break
    assert need is not None
    a_each = b.alpha / len(judged)
    results = []
    detail: dict[str, Any] = {}
    failures: list[str] = []
    consequences: list[str] = []
    for (label, suffix), (true_law, shape_law, fans, tested) in judged.items():
        values = pools[label]
        x = np.concatenate([v.ravel() for v in values])
        shp = tuple(values[0].shape)
        name = label + (f"@{suffix}" if suffix else "")
        res = stats.variance_test(x, tested.mean(), tested.variance(), tested.excess_kurtosis(), a_each, b.beta)
        res.name = f"variance_z_{name}"
        kfans = shape_fans(shp)
        ratio_true = res.observed["variance"] / true_law.variance()
        res.expected.update({"oracle_fans": [fans.fan_in, fans.fan_out],
                             "keras_convention_fans": [kfans.fan_in, kfans.fan_out],
                             "variance_at_true_fans": true_law.variance(),
                             "variance_at_keras_fans": shape_law.variance(),
                             "tested_at": "shape fans" if tested is shape_law and shape_conv else "true fans"})
        res.observed["ratio_to_oracle_variance"] = ratio_true
        results.append(res)
        detail[name] = {"shape": list(shp), "law_at_oracle_fans": str(true_law), "law_at_keras_fans": str(shape_law)}
        other = shape_law if tested is true_law else true_law
        alt = stats.variance_test(x, other.mean(), other.variance(), other.excess_kurtosis(), a_each, b.beta)
        where = (f"{kind.name} {res.name}: variance {res.observed['variance']:.6g} is {ratio_true:.4g} x the law at "
                 f"the layer's true fans {[fans.fan_in, fans.fan_out]} ({true_law.variance():.6g}); the kernel-shape "
                 f"fans {[kfans.fan_in, kfans.fan_out]} give {shape_law.variance():.6g}")
        if res.passed:
            if tested is shape_law and shape_conv:
                consequences.append(f"{where}: the variance matches the shape fans, as fan_convention='shape' "
                                    f"declares (ratio {ratio_true:.4g} to the true-fan law, z={res.statistic:.3g} "
                                    f"at n={res.n})")
            continue
        stat = f"z={res.statistic:.4g} > {res.threshold:.4g} at n={res.n}"
        if not shape_conv and alt.passed and other is shape_law:
            failures.append(f"{where}; {stat}. The variance matches the law at the kernel-shape fans: "
                            f"{SHAPE_REMEDY}")
        elif shape_conv and tested is shape_law and alt.passed:
            failures.append(f"{where}; {stat} against the shape fans that fan_convention='shape' declares, but it "
                            "matches the true fans: this initializer uses the layer's fans, drop the declaration")
        else:
            failures.append(f"{where}; {stat}; it matches the law at neither the true nor the kernel-shape fans")
    data = {"layer": kind.name, "convention": kind.convention, "fan_convention": spec.fan_convention,
            "builds": builds, "kernels": detail, "tests": [r.to_dict() for r in results], "alpha_per_check": b.alpha,
            "budget_share": 1.0 / b.max_assertions, "named_relative_variance_change": LAYER_VARIANCE_CHANGE,
            "seeds": {"case_seed": seed, "builds": builds, "seed_derivation": "derive_seed(case_seed, i)"}}
    if failures:
        raise fail("; ".join(failures), case, **data)
    if consequences:
        ratios = {r.name: r.observed["ratio_to_oracle_variance"] for r in results}
        raise consequence("; ".join(consequences), case, SHAPE_FANS, ratio_to_true_fan_law=ratios, **data)
    return ok(f"{kind.name} kernel variance matches the law at the true fans", case, **data)


def _layer_applies(kind: LayerKind) -> Callable[[Any], bool]:
    def applies(spec: Any) -> bool:
        return spec.has("iid") and "float32" in spec.dtypes and all(r in spec.ranks for r in kind.ranks)

    return applies


def layer_check_name(kind: str) -> str:
    """The name of the variance check of layer kind ``kind`` (``check_layer_variance_<kind>``)."""
    if kind not in LAYER_KINDS:
        raise KeyError(f"unknown layer kind {kind!r}; known: {sorted(LAYER_KINDS)}")
    return f"check_layer_variance_{kind}"


def _register_layer_checks() -> None:
    for kind in LAYER_KINDS.values():
        def check(spec: Any, case: dict, _kind: LayerKind = kind) -> Evidence:
            return run_layer_variance(_kind, spec, case)

        check.__name__ = layer_check_name(kind.name)
        check.__qualname__ = check.__name__
        check.__doc__ = (f"A {kind.name} layer's kernel has the law's variance at the layer's true fans "
                         f"({kind.convention} convention).")
        globals()[check.__name__] = register_check(
            kind="initializer", family="distribution", applies=_layer_applies(kind),
            strategy=lambda spec, _k=kind: _k.params(), examples=1, statistical=True)(check)


_register_layer_checks()
__all__ += [f"check_layer_variance_{k}" for k in LAYER_KINDS]


@register_check(kind="initializer", family="distribution", applies=_layer_applies(LAYER_KINDS["multi_head_attention"]),
                strategy=lambda spec: _mha_params(), examples=1, statistical=True)
def check_layer_independence_multi_head_attention(spec: Any, case: dict) -> Evidence:
    """The query, key and value kernels of one MultiHeadAttention layer are independent draws.

    The three kernels have the same shape ``(model, heads, key_dim)``; for
    independent i.i.d. kernels the sample correlation ``r`` of two of them
    satisfies ``r sqrt(n) ~ N(0, 1)`` (products of independent centred
    entries are uncorrelated with variance ``s^4``).  One z-test per pair,
    ``alpha / 3`` each; a correlation of about ``(z_a + z_b) / sqrt(n)`` is
    caught (identical kernels have ``r = 1``).
    """
    from .. import keras_compat as kc

    keras = kc.keras()
    b = stats.budget()
    layer = keras.layers.MultiHeadAttention(num_heads=case["heads"], key_dim=case["key_dim"],
                                            kernel_initializer=_cloneable(keras, spec.factory(int(case["seed"]))))
    x = np.zeros((1, 2, case["model"]), dtype=np.float32)
    layer(x, x)
    w = _weights(layer)
    kernels = {name: _find(w, "kernel", parent=name) for name in ("query", "key", "value")}
    shape = tuple(kernels["query"].shape)
    law = law_at(spec, shape, _mha_oracle("query_kernel", shape, case))
    a_each = b.alpha / 3
    thr = stats.z_two_sided(a_each)
    results = []
    for p, q in (("query", "key"), ("query", "value"), ("key", "value")):
        u = kernels[p].ravel() - law.mean()
        v = kernels[q].ravel() - law.mean()
        n = u.size
        r = float(np.sum(u * v) / math.sqrt(np.sum(u * u) * np.sum(v * v)))
        z = r * math.sqrt(n)
        results.append(stats.TestResult(
            f"correlation_{p}_{q}", abs(z), thr, abs(z) <= thr, n, a_each, b.beta,
            (thr + stats.z_one_sided(b.beta)) / math.sqrt(n), "correlation between two kernels (approx.)",
            observed={"correlation": r, "identical": bool(np.array_equal(kernels[p], kernels[q]))},
            expected={"correlation": 0.0}))
    data = {"law": str(law), "law_parameters": law.describe(), "layer": "multi_head_attention",
            "kernel_shape": list(shape)}
    failed = [r for r in results if not r.passed]
    if failed and all(r.observed["identical"] for r in failed):
        pairs = ", ".join(r.name.replace("correlation_", "").replace("_", "/") for r in failed)
        if spec.has("seeded"):
            # Keras clones the initializer through get_config (seed included): the seed contract makes the
            # clones draw identical kernels.  That consequence is verified (identical, not merely correlated).
            raise consequence(f"MHA kernel independence: kernels {pairs} are identical, the known consequence of "
                              "a seeded initializer that MultiHeadAttention clones with its seed", case,
                              MHA_SEEDED_CLONE, tests=[r.to_dict() for r in results], **data)
        raise fail(f"MHA kernel independence: kernels {pairs} are identical although the spec is not tagged "
                   "'seeded': clones of the initializer made from its get_config() draw the same values "
                   "(if its factory honours a seed, tag the spec 'seeded')", case,
                   tests=[r.to_dict() for r in results], **data)
    return statistical_verdict(results, case, data, "MHA kernel independence")


__all__ += ["check_layer_independence_multi_head_attention"]
