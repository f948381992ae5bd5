"""Built-in specs: every initializer the installed Keras ships.

Laws are written from the documented formulas, never taken from Keras
helpers:

* Glorot & Bengio (2010), "Understanding the difficulty of training deep
  feedforward neural networks": ``Var = 2 / (fan_in + fan_out)``
  (``VarianceScaling(scale=1, mode="fan_avg")``).
* He et al. (2015), "Delving Deep into Rectifiers": ``Var = 2 / fan_in``.
* LeCun et al. (1998), "Efficient BackProp"; Klambauer et al. (2017), "Self-
  Normalizing Neural Networks": ``Var = 1 / fan_in``.
* Keras ``VarianceScaling`` docs: ``stddev = sqrt(scale / n)`` for the
  untruncated normal, the truncated normal at ``+-2 std`` rescaled to that
  variance, and the uniform on ``[-sqrt(3 scale / n), +sqrt(3 scale / n)]``.
* Saxe et al. (2014) for ``Orthogonal``; the Keras docs for ``RandomNormal``,
  ``RandomUniform``, ``TruncatedNormal`` (defaults mean 0, stddev 0.05,
  bounds +-0.05), ``Identity``, ``Zeros``, ``Ones`` and ``Constant``.

Importing this module imports nothing heavy; :func:`builtin_specs` asks
:mod:`initcheck.keras_compat` which Keras is installed.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

from .. import keras_compat as kc
from ..fans import Fans
from ..laws import Constant, Identity, Law, Normal, Orthogonal, TruncatedNormal, Uniform
from ..spec import ExpectedFailure, InitializerSpec

__all__ = ["builtin_specs", "variance_scaling_law", "variance_scaling_spec", "OUT_OF_SCOPE", "ALIASES"]

#: Public Keras initializers deliberately not given a spec, with the reason.
OUT_OF_SCOPE: dict[str, str] = {
    "Initializer": "abstract base class",
    "STFT": (
        "deterministic windowed Fourier basis for STFTSpectrogram kernels (Keras >= 3.6); "
        "not a random law and not a weight initializer in the sense of this suite"
    ),
}

#: Public names that are aliases of a class covered under another name.
ALIASES: dict[str, str] = {
    "IdentityInitializer": "Identity",
    "OrthogonalInitializer": "Orthogonal",
    "STFTInitializer": "STFT",
}

#: Findings: real differences between what Keras documents and what it does.
ORTHOGONAL_BFLOAT16 = ExpectedFailure(
    reason="Orthogonal(dtype=bfloat16) raises: TensorFlow's Qr op has no bfloat16 kernel",
    versions="",
    evidence="Orthogonal(seed=0)((4, 4), dtype='bfloat16') -> InvalidArgumentError: Value for attr 'T' of "
             "bfloat16 is not in the list of allowed values (Op:Qr); seen on TF 2.21 with Keras 3.15.1 and tf_keras 2.21",
)
CONSTANT_FLOAT64 = ExpectedFailure(
    reason="Keras 3 Constant rounds its value through float32 before casting to float64",
    versions="keras>=3",
    evidence="Constant(-0.3)((1,), dtype='float64') -> -0.30000001192092896 (float32 rounding) on Keras 3.15.1; "
             "tf_keras 2.21 returns -0.3 exactly",
)

# --- Findings of the layer-aware variance checks (initcheck.checks.distribution,
# check_layer_variance_<kind>): VarianceScaling computes fans from the kernel
# shape alone (initcheck.fans.keras_fans), which differs from the fans the
# layer really has (initcheck.fans oracle) for these layer kinds.  Measured on
# TF 2.21 with Keras 3.15.1 and with tf_keras 2.21 (TF_USE_LEGACY_KERAS=1)
# (ratios: observed variance / law at the true fans).
_FAN_TRANSPOSE = ExpectedFailure(
    reason="Conv{1,2,3}DTranspose kernels are (*k, filters, in_channels) but VarianceScaling reads shape[-2] "
           "(filters) as the input axis, so fan_in and fan_out are swapped for the layer",
    versions="",
    evidence="Conv2DTranspose(filters=64) on 128 input channels, kernel (k, k, 64, 128): true fan_in = 128 k^2, "
             "Keras uses 64 k^2; HeNormal variance is 2.04x the law at the true fans (z = 118 at n = 19072); "
             "fan_out specs get the inverse ratio; tf_keras 2.21: 2.02x (z = 56 at n = 4096)",
)
_FAN_DEPTHWISE = ExpectedFailure(
    reason="DepthwiseConv2D kernels (and SeparableConv2D's depthwise kernel) are (*k, in_channels, multiplier) "
           "with no sum over channels, but VarianceScaling counts fan_in = in_channels * prod(k)",
    versions="",
    evidence="DepthwiseConv2D((2, 2)) on 64..192 channels: HeNormal variance is 0.0155x (= 1/in_channels) the "
             "law at the true fan_in = 4; GlorotUniform 0.031x (z > 110 at n = 19072); tf_keras 2.21 "
             "DepthwiseConv2D((3, 3)) on 64 channels: 0.016x (z = 50)",
)
_FAN_GATES = ExpectedFailure(
    reason="LSTM/GRU kernels concatenate one (in, units) kernel per gate, but VarianceScaling counts "
           "fan_out = gates * units",
    versions="",
    evidence="LSTM(32) on 64 inputs, kernel (64, 128): GlorotUniform variance is 0.50x the law at the true fans "
             "(64, 32) (z = 71 at n = 16384); GRU 0.60x (z = 49)",
)
_FAN_EINSUM = ExpectedFailure(
    reason="VarianceScaling before Keras 3.15 ignores which EinsumDense kernel axes are contracted or produced "
           "(Keras 3.15.0 added input_axes/output_axes, passed by EinsumDense.build); MultiHeadAttention's "
           "projections inherit it",
    # Keras 3.0-3.14 lack it too: their sources (keras/src/initializers/random_initializers.py,
    # keras/src/layers/core/einsum_dense.py) have no input_axes / _update_kernel_initializer; 3.15.0 has both.
    versions="keras<3.15",
    evidence="tf_keras 2.21, EinsumDense('ab,bcd->acd') kernel (64, 2, 32): Keras fans (128, 2048) vs true "
             "(64, 64): HeNormal variance 0.51x the law at the true fans (z = 27 at n = 4096); MHA query kernel "
             "(64, 2, 16): 0.50x (z = 27); Keras 3.15.1 passes both; tf.keras 2.12 (TF 2.12.0), GlorotUniform, "
             "kernel (64, 2, 32): 0.059x the law at the true fans (z = 117 at n = 12288), MHA query kernel 0.082x "
             "(z = 114)",
)
_EINSUM_FINDINGS = {"check_layer_variance_einsum_dense": _FAN_EINSUM,
                    "check_layer_variance_multi_head_attention": _FAN_EINSUM}
_LAYER_FAN_FINDINGS = {
    "fan_in": {"check_layer_variance_conv1d_transpose": _FAN_TRANSPOSE,
               "check_layer_variance_conv2d_transpose": _FAN_TRANSPOSE,
               "check_layer_variance_conv3d_transpose": _FAN_TRANSPOSE,
               "check_layer_variance_depthwise_conv2d": _FAN_DEPTHWISE,
               "check_layer_variance_separable_conv2d": _FAN_DEPTHWISE},
    "fan_out": {"check_layer_variance_conv1d_transpose": _FAN_TRANSPOSE,
                "check_layer_variance_conv2d_transpose": _FAN_TRANSPOSE,
                "check_layer_variance_conv3d_transpose": _FAN_TRANSPOSE,
                "check_layer_variance_lstm": _FAN_GATES,
                "check_layer_variance_gru": _FAN_GATES},
    "fan_avg": {"check_layer_variance_depthwise_conv2d": _FAN_DEPTHWISE,
                "check_layer_variance_separable_conv2d": _FAN_DEPTHWISE,
                "check_layer_variance_lstm": _FAN_GATES,
                "check_layer_variance_gru": _FAN_GATES},
}
#: check_low_precision: TF fills the 7 mantissa bits of a bfloat16 in [1, 2) for
#: uniform draws, so bfloat16 uniform values take only 128 distinct values.
_BF16_UNIFORM = ExpectedFailure(
    reason="bfloat16 uniform draws take only 128 distinct values (7 random mantissa bits), far coarser than "
           "the uniform law rounded to bfloat16",
    versions="",
    evidence="RandomUniform(-0.05, 0.05)((1000, 1000), dtype='bfloat16') has 128 distinct values; the DKWM "
             "distance to the rounded law is 0.0097 > threshold 0.0050 at n = 1343488 (GlorotUniform, HeUniform, "
             "LecunUniform; Keras 3.15.1 and tf_keras 2.21 alike); float16 (1024 values) stays within the envelope",
)


#: check_layer_independence_multi_head_attention: MultiHeadAttention clones its
#: kernel initializer through from_config(get_config()), seed included, and a
#: seeded initializer returns the same values on every call.
_MHA_SAME_SEED = ExpectedFailure(
    reason="MultiHeadAttention clones a seeded kernel_initializer with its seed, so the query, key and value "
           "kernels are identical",
    versions="",
    evidence="MultiHeadAttention(num_heads=2, key_dim=8, kernel_initializer=HeNormal(seed=3)) on 16 features: "
             "query, key and value kernels are equal element for element (correlation 1.0) on Keras 3.15.1 and "
             "tf_keras 2.21; with seed=None or 'he_normal' they differ",
)


#: Keras 3.0.x-3.1.x: ``self.seed = seed or random.make_default_seed()`` in every
#: random initializer, so ``seed=0`` is falsy and replaced by a fresh random
#: integer (fixed in 3.2.0: ``seed if seed is not None else ...``).
_SEED_ZERO_IGNORED = ExpectedFailure(
    reason="Keras 3.0-3.1 random initializers treat seed=0 as unseeded (`seed or make_default_seed()`), so two "
           "instances (or a get_config/from_config clone) built with seed=0 draw different values",
    versions="keras>=3.0,<3.2",
    evidence="keras 3.0.5 on TF 2.16.2: GlorotUniform/RandomNormal/Orthogonal(seed=0)((4, 4)) twice -> different "
             "arrays, seed=1 -> equal; `initcheck check` fails check_seed_contract ('two instances with seed=0 "
             "gave different values') and check_config_roundtrip; sources: keras 3.0.0-3.1.1 "
             "random_initializers.py `seed or random.make_default_seed()`, 3.2.0 `seed if seed is not None`",
)
#: Same code path: the replacement seed comes from Python's global ``random``
#: (``make_default_seed``: ``python_random.randint(1, int(1e9))``), drawn when
#: the initializer is created.
_SEED_ZERO_TOUCHES_RANDOM = ExpectedFailure(
    reason="Keras 3.0-3.1 random initializers built with seed=0 replace it by `make_default_seed()`, which draws "
           "from Python's global `random`, so a seeded initializer advances the user's global random state",
    versions="keras>=3.0,<3.2",
    evidence="keras 3.0.5 on TF 2.16.2 (tox env tf216-keras30): check_global_rng_untouched fails for every "
             "seeded built-in ('drawing with seed=0 advanced the global state of random'); source: keras 3.0.5 "
             "random/seed_generator.py `return python_random.randint(1, int(1e9))`; seed=0 honoured from 3.2.0",
)
_SEED_ZERO = {"check_seed_contract": _SEED_ZERO_IGNORED, "check_config_roundtrip": _SEED_ZERO_IGNORED,
              "check_global_rng_untouched": _SEED_ZERO_TOUCHES_RANDOM}

#: Public: the seed-zero finding, for tests and plugins whose initializers build on Keras's.
SEED_ZERO_IGNORED = _SEED_ZERO_IGNORED

_IDENTITY_NOT_DESERIALIZABLE = ExpectedFailure(
    reason="Keras 3.0-3.2.0 leave Identity out of the initializers' deserialization table (ALL_OBJECTS), so a "
           "saved model whose layer uses it cannot be loaded",
    versions="keras>=3.0,<3.2.1",
    evidence="keras 3.0.5 on TF 2.16.2 (tox env tf216-keras30): check_keras_save_load raises 'TypeError: "
             "Functional could not be deserialized properly' (underneath: 'Could not interpret initializer "
             "identifier: Identity'); source: initializers/__init__.py ALL_OBJECTS gains Identity in 3.2.1",
)


def _findings(mode: Optional[str], distribution: str) -> dict:
    found = {**_LAYER_FAN_FINDINGS.get(mode, {}), **_EINSUM_FINDINGS} if mode else {}
    found["check_layer_independence_multi_head_attention"] = _MHA_SAME_SEED
    found.update(_SEED_ZERO)
    if distribution == "uniform":
        found["check_low_precision"] = _BF16_UNIFORM
    return found


MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


def variance_scaling_law(scale: float, mode: str, distribution: str) -> Callable[[tuple, Fans], Law]:
    """The law of ``VarianceScaling(scale, mode, distribution)`` as a function of fans."""
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution {distribution!r}; expected one of {DISTRIBUTIONS}")

    def law(shape: tuple, fans: Fans) -> Law:
        n = max(1.0, float(fans.get(mode)))
        variance = scale / n
        if distribution == "uniform":
            return Uniform.symmetric(math.sqrt(3.0 * variance))
        if distribution == "untruncated_normal":
            return Normal(std=math.sqrt(variance))
        return TruncatedNormal.with_variance(variance, cut=2.0)

    law.__name__ = f"variance_scaling_{mode}_{distribution}_{scale:g}"
    return law


def _repeat_semantics() -> tuple[str, str]:
    """(seeded_repeat, unseeded_repeat) as the installed Keras documents them.

    Keras 2 (tf.keras 2.12-2.15, tf_keras): "a seeded initializer will produce
    the same random values across multiple calls"; an unseeded one warns that
    it "will return identical values" when called again (stateless RNG).
    Keras 3 documents, from 3.0.0 on, that an initializer "seeded with an
    integer or None (unseeded) will produce the same random values across
    multiple calls": every Keras 3 release (3.0.0 ... 3.15.1, read in
    ``keras/src/initializers/random_initializers.py``) replaces ``seed=None``
    by one Python integer drawn at construction (``make_default_seed()``),
    never by a ``SeedGenerator``, so both cases are "same" everywhere.
    """
    return "same", "same"


def _keras_factory(class_name: str, **kwargs: Any) -> Callable[[Optional[int]], Any]:
    def factory(seed: Optional[int]) -> Any:
        return kc.initializer_class(class_name)(seed=seed, **kwargs)

    factory.__name__ = f"make_{class_name}"
    return factory


def _deterministic_factory(class_name: str, **kwargs: Any) -> Callable[[Optional[int]], Any]:
    def factory(seed: Optional[int]) -> Any:
        return kc.initializer_class(class_name)(**kwargs)

    factory.__name__ = f"make_{class_name}"
    return factory


_RANDOM_TAGS = frozenset({"iid", "seeded", "keras_object", "saveable"})


def variance_scaling_spec(scale: float, mode: str, distribution: str, *, name: Optional[str] = None,
                          class_name: str = "VarianceScaling", activations: tuple[str, ...] = ()) -> InitializerSpec:
    """A spec for ``VarianceScaling(scale, mode, distribution)`` (any scale)."""
    seeded, unseeded = _repeat_semantics()
    if class_name == "VarianceScaling":
        factory = _keras_factory(class_name, scale=scale, mode=mode, distribution=distribution)
    else:
        factory = _keras_factory(class_name)
    return InitializerSpec(
        name=name or f"VarianceScaling-{mode}-{distribution}-{scale:g}",
        factory=factory,
        law=variance_scaling_law(scale, mode, distribution),
        activations=activations,
        tags=_RANDOM_TAGS,
        seeded_repeat=seeded,
        unseeded_repeat=unseeded,
        namespace="keras",
        description=f"Var = {scale:g} / {mode}, {distribution}",
        expected_failures=_findings(mode, distribution),
    )


def _named_variance_specs() -> list[InitializerSpec]:
    table = [
        # name, scale, mode, distribution, designed-for activations
        ("GlorotUniform", 1.0, "fan_avg", "uniform", ("linear", "tanh")),
        ("GlorotNormal", 1.0, "fan_avg", "truncated_normal", ("linear", "tanh")),
        ("HeUniform", 2.0, "fan_in", "uniform", ("relu",)),
        ("HeNormal", 2.0, "fan_in", "truncated_normal", ("relu",)),
        ("LecunUniform", 1.0, "fan_in", "uniform", ("linear", "selu")),
        ("LecunNormal", 1.0, "fan_in", "truncated_normal", ("linear", "selu")),
    ]
    return [variance_scaling_spec(s, m, d, name=n, class_name=n, activations=a) for n, s, m, d, a in table]


def _variance_scaling_grid() -> list[InitializerSpec]:
    # Every mode x distribution, each at a non-default scale so that a
    # dropped or misplaced `scale` shows; tests/ sweep further scales.
    scales = {"fan_in": 2.0, "fan_out": 0.5, "fan_avg": 1.3}
    return [variance_scaling_spec(scales[m], m, d) for m in MODES for d in DISTRIBUTIONS]


def _fixed_random_specs() -> list[InitializerSpec]:
    seeded, unseeded = _repeat_semantics()
    common = dict(tags=_RANDOM_TAGS, seeded_repeat=seeded, unseeded_repeat=unseeded, namespace="keras")
    return [
        InitializerSpec(name="RandomNormal", factory=_keras_factory("RandomNormal", mean=0.0, stddev=0.05),
                        law=Normal(std=0.05), description="N(0, 0.05^2) (Keras defaults)",
                        expected_failures=_findings(None, "normal"), **common),
        InitializerSpec(name="RandomUniform", factory=_keras_factory("RandomUniform", minval=-0.05, maxval=0.05),
                        law=Uniform(-0.05, 0.05), description="U(-0.05, 0.05) (Keras defaults)",
                        expected_failures=_findings(None, "uniform"), **common),
        InitializerSpec(name="TruncatedNormal", factory=_keras_factory("TruncatedNormal", mean=0.0, stddev=0.05),
                        law=TruncatedNormal(std=0.05, cut=2.0),
                        description="N(0, 0.05^2) cut at +-2 std (Keras defaults)",
                        expected_failures=_findings(None, "truncated_normal"), **common),
    ]


def _orthogonal_law(gain: float) -> Callable[[tuple, Fans], Law]:
    def law(shape: tuple, fans: Fans) -> Law:
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        return Orthogonal(gain=gain, rows=rows, cols=shape[-1])

    return law


def _structured_specs() -> list[InitializerSpec]:
    seeded, unseeded = _repeat_semantics()
    det = frozenset({"deterministic", "keras_object", "saveable"})
    ortho_tags = frozenset({"structured", "seeded", "keras_object", "saveable"})
    ortho = dict(tags=ortho_tags, ranks=(2, 3, 4, 5), seeded_repeat=seeded, unseeded_repeat=unseeded,
                 namespace="keras")
    wide = ("float16", "float32", "float64")
    return [
        InitializerSpec(name="Orthogonal", factory=_keras_factory("Orthogonal", gain=1.0), law=_orthogonal_law(1.0),
                        activations=("linear",), dtypes=wide, description="Haar orthogonal, gain 1", expected_failures=dict(_SEED_ZERO),
                        **ortho),
        InitializerSpec(name="Orthogonal-gain2.5", factory=_keras_factory("Orthogonal", gain=2.5),
                        law=_orthogonal_law(2.5), dtypes=wide, description="Haar orthogonal, gain 2.5", expected_failures=dict(_SEED_ZERO),
                        **ortho),
        # bfloat16 is a dtype Keras accepts for any float initializer; the
        # QR decomposition behind Orthogonal has no bfloat16 kernel in
        # TensorFlow, so the call raises.  Declared as a finding.
        InitializerSpec(name="Orthogonal-bfloat16", factory=_keras_factory("Orthogonal", gain=1.0),
                        law=_orthogonal_law(1.0), dtypes=("bfloat16",), description="Haar orthogonal in bfloat16",
                        expected_failures={"check_output_contract": ORTHOGONAL_BFLOAT16,
                                           "check_orthogonality": ORTHOGONAL_BFLOAT16,
                                           "check_haar": ORTHOGONAL_BFLOAT16,
                                           "check_haar_rotation_angle": ORTHOGONAL_BFLOAT16}, **ortho),
        InitializerSpec(name="Identity", factory=_deterministic_factory("Identity", gain=1.0), law=Identity(1.0),
                        tags=det, ranks=(2,), seeded_repeat="any", namespace="keras", description="identity matrix",
                        expected_failures={"check_keras_save_load": _IDENTITY_NOT_DESERIALIZABLE}),
        InitializerSpec(name="Zeros", factory=_deterministic_factory("Zeros"), law=Constant(0.0), tags=det,
                        seeded_repeat="any", namespace="keras", description="all zeros"),
        InitializerSpec(name="Ones", factory=_deterministic_factory("Ones"), law=Constant(1.0), tags=det,
                        seeded_repeat="any", namespace="keras", description="all ones"),
        InitializerSpec(name="Constant", factory=_deterministic_factory("Constant", value=-0.3), law=Constant(-0.3),
                        tags=det, dtypes=("float16", "bfloat16", "float32"), seeded_repeat="any", namespace="keras",
                        description="constant -0.3"),
        InitializerSpec(name="Constant-float64", factory=_deterministic_factory("Constant", value=-0.3),
                        law=Constant(-0.3), tags=det, dtypes=("float64",), seeded_repeat="any", namespace="keras",
                        description="constant -0.3 asked for in float64",
                        expected_failures={"check_exact_values": CONSTANT_FLOAT64}),
    ]


def builtin_specs() -> list[InitializerSpec]:
    """Specs for every public initializer of the installed Keras.

    Raises if the installed Keras has a public initializer that is neither
    covered, an alias, nor declared out of scope, so a new Keras release
    cannot add one silently.
    """
    specs = _named_variance_specs() + _variance_scaling_grid() + _fixed_random_specs() + _structured_specs()
    covered = {s.name.split("-")[0] for s in specs}
    uncovered = [n for n in kc.public_initializer_names()
                 if n not in covered and n not in ALIASES and n not in OUT_OF_SCOPE]
    if uncovered:
        raise LookupError(
            f"Keras {kc.versions()['keras']} ships initializer(s) {uncovered} that initcheck neither "
            "covers nor declares out of scope: add a spec or an OUT_OF_SCOPE entry"
        )
    return specs
