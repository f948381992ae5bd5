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
from ..laws import Constant, Fans, Identity, Law, Normal, Orthogonal, TruncatedNormal, Uniform
from ..spec import InitializerSpec
from .findings import (CONSTANT_FLOAT64, IDENTITY_NOT_DESERIALIZABLE, ORTHOGONAL_BFLOAT16, ORTHOGONAL_FLOAT16_QR,
                       SEED_COLLISION_FINDINGS, SEED_ZERO, initializer_findings, moved_to_findings)

__all__ = ["builtin_specs", "variance_scaling_law", "variance_scaling_spec", "OUT_OF_SCOPE", "ALIASES"]

#: Moved to :mod:`initcheck.builtin.findings` in 0.2 (kept importable from here for one release).
_MOVED_FINDINGS = ("SEED_ZERO_IGNORED", "ORTHOGONAL_BFLOAT16", "CONSTANT_FLOAT64")


__getattr__ = moved_to_findings(__name__, _MOVED_FINDINGS)

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
        expected_failures=initializer_findings(mode, distribution),
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
                        expected_failures=initializer_findings(None, "normal"), **common),
        InitializerSpec(name="RandomUniform", factory=_keras_factory("RandomUniform", minval=-0.05, maxval=0.05),
                        law=Uniform(-0.05, 0.05), description="U(-0.05, 0.05) (Keras defaults)",
                        expected_failures=initializer_findings(None, "uniform"), **common),
        InitializerSpec(name="TruncatedNormal", factory=_keras_factory("TruncatedNormal", mean=0.0, stddev=0.05),
                        law=TruncatedNormal(std=0.05, cut=2.0),
                        description="N(0, 0.05^2) cut at +-2 std (Keras defaults)",
                        expected_failures=initializer_findings(None, "truncated_normal"), **common),
    ]


def _orthogonal_law(gain: float) -> Callable[[tuple, Fans], Law]:
    def law(shape: tuple, fans: Fans) -> Law:
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        return Orthogonal(gain=gain, rows=rows, cols=shape[-1])

    return law


def _structured_specs(every_backend: bool = False) -> list[InitializerSpec]:
    seeded, unseeded = _repeat_semantics()
    det = frozenset({"deterministic", "keras_object", "saveable"})
    ortho_tags = frozenset({"structured", "seeded", "keras_object", "saveable"})
    ortho = dict(tags=ortho_tags, ranks=(2, 3, 4, 5), seeded_repeat=seeded, unseeded_repeat=unseeded,
                 namespace="keras")
    # Where Orthogonal cannot draw float16 (orthogonal-float16-qr: JAX and torch), that dtype is a spec of
    # its own carrying the finding, so the contract failure does not block Orthogonal's other dtypes.
    float16_apart = ORTHOGONAL_FLOAT16_QR.applies({**kc.versions_from_metadata(), "backend": kc.backend()})
    wide = ("float32", "float64") if float16_apart else ("float16", "float32", "float64")
    seeds = {**SEED_ZERO, "check_seed_collisions": SEED_COLLISION_FINDINGS}
    apart = [InitializerSpec(name="Orthogonal-float16", factory=_keras_factory("Orthogonal", gain=1.0),
                             law=_orthogonal_law(1.0), dtypes=("float16",),
                             description="Haar orthogonal in float16 (a spec of its own on JAX and torch)",
                             expected_failures={"check_output_contract": ORTHOGONAL_FLOAT16_QR}, **ortho)]
    specs = [
        InitializerSpec(name="Orthogonal", factory=_keras_factory("Orthogonal", gain=1.0), law=_orthogonal_law(1.0),
                        activations=("linear",), dtypes=wide, description="Haar orthogonal, gain 1", expected_failures=seeds,
                        **ortho),
        InitializerSpec(name="Orthogonal-gain2.5", factory=_keras_factory("Orthogonal", gain=2.5),
                        law=_orthogonal_law(2.5), dtypes=wide, description="Haar orthogonal, gain 2.5", expected_failures=seeds,
                        **ortho),
        # bfloat16 is a dtype Keras accepts for any float initializer; the
        # QR decomposition behind Orthogonal has no bfloat16 kernel in
        # TensorFlow, so the call raises.  Declared as a finding.
        InitializerSpec(name="Orthogonal-bfloat16", factory=_keras_factory("Orthogonal", gain=1.0),
                        law=_orthogonal_law(1.0), dtypes=("bfloat16",), description="Haar orthogonal in bfloat16",
                        # Its other checks depend on the contract and are reported blocked.
                        expected_failures={"check_output_contract": ORTHOGONAL_BFLOAT16}, **ortho),
        InitializerSpec(name="Identity", factory=_deterministic_factory("Identity", gain=1.0), law=Identity(1.0),
                        tags=det, ranks=(2,), seeded_repeat="any", namespace="keras", description="identity matrix",
                        expected_failures={"check_keras_save_load": IDENTITY_NOT_DESERIALIZABLE}),
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
    return specs + (apart if float16_apart or every_backend else [])


def builtin_specs(every_backend: bool = False) -> list[InitializerSpec]:
    """Specs for every public initializer of the installed Keras.

    Args:
        every_backend: Also the specs that exist only on another Keras backend (``Orthogonal-float16`` on JAX and
            torch), for listings of what the built-ins declare (``initcheck findings``); never for a run.

    Raises if the installed Keras has a public initializer that is neither
    covered, an alias, nor declared out of scope, so a new Keras release
    cannot add one silently.
    """
    specs = _named_variance_specs() + _variance_scaling_grid() + _fixed_random_specs() + _structured_specs(every_backend)
    covered = {s.name.split("-")[0] for s in specs}
    uncovered = [n for n in kc.public_initializer_names()
                 if n not in covered and n not in ALIASES and n not in OUT_OF_SCOPE]
    if uncovered:
        raise LookupError(
            f"Keras {kc.versions()['keras']} ships initializer(s) {uncovered} that initcheck neither "
            "covers nor declares out of scope: add a spec or an OUT_OF_SCOPE entry"
        )
    return specs
