"""The declared findings: real differences between what TensorFlow/Keras document and what they do.

Every finding is an :class:`~initcheck.spec.ExpectedFailure` (what is wrong,
the versions where it holds, the measured evidence), declared once here and
referenced by the built-in specs (:mod:`.initializers`, :mod:`.optimizers`)
that it breaks, where it becomes a strict expected failure: a fix in
TensorFlow/Keras shows up as XPASS.  Plugins whose objects build on Keras's
base classes inherit the relevant ones (:func:`early_keras3_findings`,
:data:`LOSS_SCALE_SKIP_COUNTS`, :data:`SEED_ZERO_IGNORED`).

The tables that spread a finding over checks are keyed by what it is about:
the layer kind (:data:`SHAPE_FAN_FINDINGS`), the capability tag
(:data:`EARLY_KERAS3_FINDINGS`).

The catalogue at the end (:data:`CATALOGUE`) gives each declaration what a
user upgrading TensorFlow/Keras asks for: an id, a one-line summary, the
affected objects, the mechanism with its source location, the upstream
status, the fix version, and a standalone reproduction (``repros/<id>.py``).
``initcheck findings`` (:mod:`initcheck.reports.affected`) lists them against
the installed versions, verifies the reproductions and writes docs/findings.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..spec import ExpectedFailure

#: The Keras initializers that take a seed (the objects of every seed finding).
_SEEDED_INITIALIZERS = ("RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Glorot*/He*/Lecun*",
                        "Orthogonal")

#: The Keras releases each torch finding's reproduction ran on (one patch per minor line), said once.
_TORCH_LINES_MEASURED = ("measured 2026-12-04 on torch 2.13.0 with the reproduction, one Keras patch per minor "
                         "line (3.0.5, 3.1.0, 3.1.1, 3.2.0, 3.2.1, 3.3.3, 3.4.1, 3.5.0-3.9.2, 3.10.0, 3.11.3, "
                         "3.12.0, 3.12.4, 3.13.2, 3.14.1, 3.15.1)")

__all__ = [
    "ORTHOGONAL_BFLOAT16", "ORTHOGONAL_FLOAT16_QR", "CONSTANT_FLOAT64", "FAN_TRANSPOSE", "FAN_DEPTHWISE", "FAN_GATES", "FAN_EINSUM",
    "SHAPE_FAN_FINDINGS", "SHAPE_FANS", "BF16_UNIFORM_128_VALUES", "MHA_SEEDED_CLONE", "SEED_ZERO_IGNORED",
    "SEED_ZERO_TOUCHES_RANDOM", "SEED_ZERO", "SEEDS_FOLDED", "TORCH_SEEDS_FOLDED", "TORCH_SEED_INT32_OVERFLOW",
    "SEED_COLLISION_FINDINGS", "IDENTITY_NOT_DESERIALIZABLE", "initializer_findings",
    "CLIP_CONFLICT_ACCEPTED", "LR_CALLABLE_GETS_ITERATIONS", "ACCUMULATION_EVERY_CALL", "MIRRORED_NOT_SUMMED",
    "EARLY_KERAS3_FINDINGS", "early_keras3_findings", "SPARSE_DUPLICATES", "LOSS_SCALE_SKIP_COUNTS",
    "LOSS_SCALE_EAGER_JAX", "NADAM_LOSS_SCALE_U_PRODUCT", "JAX_BF16_NORMAL_128_VALUES",
    "NADAM_RESUME", "FLOAT64_CONSTANTS", "FLOAT64_BETAS", "FTRL_DOCSTRING_L2", "ADAFACTOR_DOCSTRING_RELATIVE_STEP",
    "TORCH_WEIGHT_DECAY_FLOAT32", "TORCH_FLOAT64_MAXIMUM", "NADAM_MIRRORED_U_PRODUCT", "TORCH_TRUNCATED_NORMAL_DTYPE",
    # the catalogue (`initcheck findings`)
    "CLIP_OPTIONS_ONE_APPLIED", "FLOAT64_UNIFORM_LIMIT_FLOAT32", "RMSPROP_CENTERED_SPARSE_CRASH", "Finding", "CATALOGUE", "catalogue_entry",
]


# ====================================================================== initializers

ORTHOGONAL_BFLOAT16 = ExpectedFailure(
    reason=("Orthogonal(dtype=bfloat16) raises: the backend's QR has no bfloat16 kernel (TensorFlow's Qr op; "
            "JAX's and torch's CPU QR likewise)"),
    versions="",
    evidence="Orthogonal(seed=0)((4, 4), dtype='bfloat16') -> InvalidArgumentError: Value for attr 'T' of "
             "bfloat16 is not in the list of allowed values (Op:Qr); seen on TF 2.21 with Keras 3.15.1 and tf_keras "
             "2.21. Keras 3.15.1 on JAX 0.10.2: NotImplementedError: (KeyError(<class 'ml_dtypes.bfloat16'>), "
             "'Unsupported dtype bfloat16.'); on torch 2.13.0: NotImplementedError: \"geqrf_cpu\" not implemented "
             "for 'BFloat16' (torch spells the dtype BFloat16, hence the case-insensitive match)",
    match='(?i)raised \\w+: .*(Qr|bfloat16)',
)
ORTHOGONAL_FLOAT16_QR = ExpectedFailure(
    backends=("jax", "torch"),
    reason="Orthogonal(dtype=float16) raises on the JAX and torch backends: their CPU QR has no float16 kernel",
    versions="keras>=3",
    evidence="Orthogonal(seed=0)((4, 4), dtype='float16') -> JAX: NotImplementedError: (KeyError(<class "
             "'numpy.float16'>), 'Unsupported dtype float16.') (keras 3.10.0 and 3.15.1, jax 0.10.2); torch: "
             "NotImplementedError: \"geqrf_cpu\" not implemented for 'Half' (keras 3.10.0 and 3.15.1, torch 2.13.0); "
             "TensorFlow (Keras 2.12-3.15): an orthogonal float16 matrix, max |W^T W - I| = 0.0015"
             "; the versions: torch holds from 3.0.5 to 3.15.1 (" + _TORCH_LINES_MEASURED + "); JAX measured on "
             "3.10.0 and 3.15.1 only (older Keras lines do not train on the current JAX: tox.ini)",
    match="raised \\w+: .*(float16|Half)",
)
CONSTANT_FLOAT64 = ExpectedFailure(
    # Not on torch: its ops.cast(-0.3, "float64") is exact and check_exact_values passes (strict XPASS,
    # docs/backends.md).  Not on JAX with JAX_ENABLE_X64=1 either: Constant(-0.3)((1,), dtype="float64") is -0.3
    # exactly there (strict XPASS in the first x64 run, 2026-12-04); without x64 JAX has no float64 at all, the
    # spec is not applicable and the reproduction sees the float32 value.
    backends=("tensorflow", "jax:no-x64"),
    reason="Keras 3 Constant rounds its value through float32 before casting to float64",
    versions="keras>=3",
    evidence="Constant(-0.3)((1,), dtype='float64') -> -0.30000001192092896 (float32 rounding) on Keras 3.15.1; "
             "tf_keras 2.21 returns -0.3 exactly",
    match=r'entries differ from constant\(value=',
)

# --- Findings of the layer checks (initcheck.checks.layers,
# check_layer_variance_<kind>): VarianceScaling computes fans from the kernel
# shape alone (initcheck.laws.shape_fans), which differs from the fans the
# layer really has (the fan oracle of each kind in initcheck.checks.layers).  Measured on
# TF 2.21 with Keras 3.15.1 and with tf_keras 2.21 (TF_USE_LEGACY_KERAS=1)
# (ratios: observed variance / law at the true fans).
FAN_TRANSPOSE = ExpectedFailure(
    reason="Conv{1,2,3}DTranspose kernels are (*k, filters, in_channels) but VarianceScaling reads shape[-2] "
           "(filters) as the input axis and ignores the stride: at stride s each output sums "
           "in_channels * prod(k) / s^rank terms, so fan_in and fan_out are swapped for the layer at stride 1 "
           "and fan_in is off by the stride product beyond (fan_avg too)",
    versions="",
    evidence="Keras 3.15.1, HeNormal Conv2DTranspose(64, 3) on 128 input channels, kernel (3, 3, 64, 128), unit "
             "input: stride 1 doubles the signal variance He designs for (output/input 4.02 instead of 2; kernel "
             "variance 2.01x the law at the true fan_in 1152), stride 2 halves it (1.00 instead of 2; 0.50x the "
             "law at the true fan_in 288); Keras uses fan_in 576 at both.  check_layer_variance_conv2d_transpose: "
             "HeNormal 2.04x at stride 1 (z = 118 at n = 19072); tf_keras 2.21: 2.02x (z = 56 at n = 4096)",
    match=r"conv[123]d_transpose variance_z_kernel@stride[12]",
)
FAN_DEPTHWISE = ExpectedFailure(
    reason="DepthwiseConv2D kernels (and SeparableConv2D's depthwise kernel) are (*k, in_channels, multiplier) "
           "with no sum over channels, but VarianceScaling counts fan_in = in_channels * prod(k)",
    versions="",
    evidence="DepthwiseConv2D((2, 2)) on 64..192 channels: HeNormal variance is 0.0155x (= 1/in_channels) the "
             "law at the true fan_in = 4; GlorotUniform 0.031x (z > 110 at n = 19072); tf_keras 2.21 "
             "DepthwiseConv2D((3, 3)) on 64 channels: 0.016x (z = 50)",
    match='(depthwise_conv2d|separable_conv2d) variance_z_depthwise_kernel',
)
FAN_GATES = ExpectedFailure(
    reason="LSTM/GRU kernels concatenate one (in, units) kernel per gate, but VarianceScaling counts "
           "fan_out = gates * units",
    versions="",
    evidence="LSTM(32) on 64 inputs, kernel (64, 128): GlorotUniform variance is 0.50x the law at the true fans "
             "(64, 32) (z = 71 at n = 16384); GRU 0.60x (z = 49)",
    match='(lstm|gru) variance_z_kernel',
)
FAN_EINSUM = ExpectedFailure(
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
    match='einsum_dense variance_z_kernel|multi_head_attention variance_z_(query|output)_kernel',
)
#: Not a finding in Keras but the known consequence of a declaration: a spec with
#: ``fan_convention="shape"`` computes fans from the kernel shape, like VarianceScaling,
#: so on the layer kinds above its variance is the law at the shape fans.  The layer
#: checks verify exactly that and report it with this reason (and the measured ratio).
SHAPE_FANS = ExpectedFailure(
    reason="consequence of fan_convention='shape': the initializer computes fans from the kernel shape, which "
           "differ from this layer's true fans (the measured ratio to the true-fan law is in the evidence)",
    versions="",
    evidence="verified per case: the variance matches the law at the shape fans and differs from the law at the "
             "layer's true fans by the planned margin",
    match=r"as fan_convention='shape' declares",
)

#: VarianceScaling's shape fans against the layer's true fans, keyed by layer kind
#: (:data:`initcheck.checks.layers.LAYER_KINDS`): the finding and the fan modes it affects.
SHAPE_FAN_FINDINGS: dict[str, tuple[ExpectedFailure, tuple[str, ...]]] = {
    "conv1d_transpose": (FAN_TRANSPOSE, ("fan_in", "fan_out", "fan_avg")),
    "conv2d_transpose": (FAN_TRANSPOSE, ("fan_in", "fan_out", "fan_avg")),
    "conv3d_transpose": (FAN_TRANSPOSE, ("fan_in", "fan_out", "fan_avg")),
    "depthwise_conv2d": (FAN_DEPTHWISE, ("fan_in", "fan_avg")),
    "separable_conv2d": (FAN_DEPTHWISE, ("fan_in", "fan_avg")),
    "lstm": (FAN_GATES, ("fan_out", "fan_avg")),
    "gru": (FAN_GATES, ("fan_out", "fan_avg")),
    "einsum_dense": (FAN_EINSUM, ("fan_in", "fan_out", "fan_avg")),
    "multi_head_attention": (FAN_EINSUM, ("fan_in", "fan_out", "fan_avg")),
}


#: check_low_precision: TF fills the 7 mantissa bits of a bfloat16 in [1, 2) for
#: uniform draws, so bfloat16 uniform values take only 128 distinct values.
BF16_UNIFORM_128_VALUES = ExpectedFailure(
    reason="bfloat16 uniform draws take only 128 distinct values (7 random mantissa bits), far coarser than "
           "the uniform law rounded to bfloat16",
    versions="",
    evidence="RandomUniform(-0.05, 0.05)((1000, 1000), dtype='bfloat16') has 128 distinct values; the DKWM "
             "distance to the rounded law is 0.0097 > threshold 0.0050 at n = 1343488 (GlorotUniform, HeUniform, "
             "LecunUniform; Keras 3.15.1 and tf_keras 2.21 alike); float16 (1024 values) stays within the envelope",
    match='dkwm_rounded_law_bfloat16',
)


#: check_low_precision on JAX, the normal families: JAX draws a bfloat16 normal or truncated normal by inverting
#: the CDF of a bfloat16 uniform (``jax.random.normal`` / ``truncated_normal``: ``erf_inv`` of ``uniform(..., dtype)``),
#: and that uniform has 7 random mantissa bits, so the draw takes 128 values (docs/backends.md).
JAX_BF16_NORMAL_128_VALUES = ExpectedFailure(
    backends=("jax",),
    reason="on JAX, bfloat16 normal and truncated-normal draws take only 128 distinct values: JAX inverts the "
           "CDF of a bfloat16 uniform (7 random mantissa bits) instead of rounding a finer draw to bfloat16",
    versions="keras>=3.10",
    evidence="HeNormal(seed=1)((1024, 1312), dtype='bfloat16') on JAX 0.10.2: 128 distinct values, Kolmogorov "
             "distance 0.0094 from the truncated normal rounded to bfloat16 (the float32 draw rounded: 0.0006, "
             "3404 values; TensorFlow's bfloat16 draw: 0.0012, 2942 values); RandomNormal, TruncatedNormal and "
             "untruncated VarianceScaling alike, keras 3.15.1 and 3.10.0; check_low_precision on keras>HeNormal: "
             "DKWM 0.0095 > threshold 0.0041 at n = 1343488",
    match='dkwm_rounded_law_bfloat16',
)

#: Torch's truncated normal: the three distribution checks its out-of-cut values fail (measured with the ci draw
#: on every truncated-normal spec, keras 3.15.1, torch 2.13.0).
TORCH_TRUNCATED_NORMAL_OUTSIDE = ExpectedFailure(
    backends=("torch",),  # keras/src/backend/torch/random.py truncated_normal
    reason=("on the torch backend keras.random.truncated_normal -- and every truncated-normal initializer -- draws "
            "four candidates per value and keeps the first inside (-2, 2) std; when none of the four is "
            "(probability 0.0455**4 = 4.3e-6 per value) it keeps the first candidate, outside the documented cut"),
    versions="keras>=3.0,<3.16",
    evidence=("4 000 000 draws of keras.random.truncated_normal(stddev=1, seed=0): 22 outside (-2, 2), max |x| "
              "2.8169 (17.1 expected with four candidates) on torch 2.13.0, 0 and 2.0000 on TensorFlow 2.21 "
              "(keras 3.15.1); check_support 'support_exact statistic 27 > threshold 0 at n=8716288', "
              "check_tails 'binomial_extreme statistic 27 > threshold 18' (rate 3.1e-6, 2.4e-7 allowed) and "
              "check_low_precision float16 'support_exact statistic 7 > threshold 0 at n=1343488' on all seven "
              "truncated-normal specs (GlorotNormal, HeNormal, LecunNormal, TruncatedNormal, the three truncated "
              "VarianceScaling), 2026-12-03"
              "; the versions: holds on every line (" + _TORCH_LINES_MEASURED + ")"),
    match=r"(support|low-precision law): support_exact statistic|tail count: binomial_extreme statistic",
)


#: check_output_contract on the torch backend of Keras 3.0-3.1 (tox keras30-torch, first run 2026-12-04).
TORCH_TRUNCATED_NORMAL_DTYPE = ExpectedFailure(
    backends=("torch",),  # keras/src/backend/torch/random.py truncated_normal, keras 3.0.x-3.1.x
    reason=("on the torch backend Keras 3.0-3.1's keras.random.truncated_normal -- and every truncated-normal "
            "initializer (GlorotNormal, HeNormal, LecunNormal, TruncatedNormal, VarianceScaling) -- returns "
            "float32 whatever dtype is asked: it copies the draws into torch.empty(shape), which has no dtype "
            "argument there"),
    versions="keras>=3.0,<3.2",
    evidence=("keras.random.truncated_normal((4, 4), dtype=d) is float32 for d = float16, bfloat16 and float64, "
              "and HeNormal()((4, 4), dtype='float64') is float32, on keras 3.0.5, 3.1.0 and 3.1.1 with torch "
              "2.13.0; the requested dtype from keras 3.2.0 on (3.2.0, 3.2.1 ... 3.15.1 measured), and on "
              "TensorFlow and JAX; the other draws (normal, uniform) keep the dtype in 3.0.5. check_output_contract "
              "on the seven truncated-normal specs: 'asked for dtype float16, got float32'"),
    match=r"asked for dtype \w+, got float32",
)


#: check_layer_independence_multi_head_attention: MultiHeadAttention clones its
#: kernel initializer through from_config(get_config()), seed included, and a
#: seeded initializer returns the same values on every call.
MHA_SEEDED_CLONE = ExpectedFailure(
    reason="MultiHeadAttention clones a seeded kernel_initializer with its seed, so the query, key and value "
           "kernels are identical",
    versions="",
    evidence="MultiHeadAttention(num_heads=2, key_dim=8, kernel_initializer=HeNormal(seed=3)) on 16 features: "
             "query, key and value kernels are equal element for element (correlation 1.0) on Keras 3.15.1 and "
             "tf_keras 2.21; with seed=None or 'he_normal' they differ",
    match='kernels [a-z/, ]+ are identical',
)


#: Keras 3.0.x-3.1.x: ``self.seed = seed or random.make_default_seed()`` in every
#: random initializer, so ``seed=0`` is falsy and replaced by a fresh random
#: integer (fixed in 3.2.0: ``seed if seed is not None else ...``).
SEED_ZERO_IGNORED = ExpectedFailure(
    reason="Keras 3.0-3.1 random initializers treat seed=0 as unseeded (`seed or make_default_seed()`), so two "
           "instances (or a get_config/from_config clone) built with seed=0 draw different values",
    versions="keras>=3.0,<3.2",
    evidence="keras 3.0.5 on TF 2.16.2: GlorotUniform/RandomNormal/Orthogonal(seed=0)((4, 4)) twice -> different "
             "arrays, seed=1 -> equal; `initcheck check` fails check_seed_contract ('two instances with seed=0 "
             "gave different values') and check_config_roundtrip; sources: keras 3.0.0-3.1.1 "
             "random_initializers.py `seed or random.make_default_seed()`, 3.2.0 `seed if seed is not None`",
    match='seed=0 gave different values|the clone draws different values',
)
#: Same code path: the replacement seed comes from Python's global ``random``
#: (``make_default_seed``: ``python_random.randint(1, int(1e9))``), drawn when
#: the initializer is created.
SEED_ZERO_TOUCHES_RANDOM = ExpectedFailure(
    reason="Keras 3.0-3.1 random initializers built with seed=0 replace it by `make_default_seed()`, which draws "
           "from Python's global `random`, so a seeded initializer advances the user's global random state",
    versions="keras>=3.0,<3.2",
    evidence="keras 3.0.5 on TF 2.16.2 (tox env tf216-keras30): check_global_rng_untouched fails for every "
             "seeded built-in ('drawing with seed=0 advanced the global state of random'); source: keras 3.0.5 "
             "random/seed_generator.py `return python_random.randint(1, int(1e9))`; seed=0 honoured from 3.2.0",
    match='advanced the global state of .*\\brandom\\b',
)
#: The seed-zero findings by the check each one breaks (every seeded random Keras initializer).
SEED_ZERO = {"check_seed_contract": SEED_ZERO_IGNORED, "check_config_round_trip": SEED_ZERO_IGNORED,
             "check_global_rng_untouched": SEED_ZERO_TOUCHES_RANDOM}

#: check_seed_collisions: Keras 3's TensorFlow backend reduces every integer seed before drawing -- 3.0-3.4
#: convert it to uint32 (``convert_to_tensor([seed, 0], dtype="uint32")``), 3.5+ take it modulo
#: ``tf.int32.max - 1`` (``_cast_seed``) -- so two seeds congruent modulo 2^32, resp. 2^31 - 2, draw the same
#: weights.  Keras 2 (tf.keras 2.12, tf_keras 2.21) keeps the seeds apart.
SEEDS_FOLDED = ExpectedFailure(
    # keras/src/backend/tensorflow/random.py; torch has findings of its own (TORCH_SEEDS_FOLDED,
    # TORCH_SEED_INT32_OVERFLOW); no collision on JAX (docs/backends.md).
    backends=("tensorflow",),
    reason="Keras 3 on TensorFlow reduces integer seeds modulo a fixed number before drawing (2^32 in 3.0-3.4, "
           "2^31 - 2 from 3.5), so distinct seeds draw identical weights -- from 3.5 even two seeds inside "
           "0..2^31 - 1 (0 and 2^31 - 2, 1 and 2^31 - 1) -- and negative seeds are accepted silently",
    versions="keras>=3",
    evidence="keras 3.15.1 on TF 2.21: every random initializer draws the same weights for seeds 0 and 2**31 - 2, "
             "1 and 2**31 - 1, -1 and 2**31 - 3, 7 and 2**63 - 1 (check_seed_collisions on GlorotUniform, root seed "
             "1: 157 colliding pairs among the 434 designed seeds, every difference a multiple of 2147483646; "
             "numpy.int64(5) raises ValueError); keras 3.0.5 on TF 2.16.2 (the reproduction): 5 and 5 + 2**32, "
             "-1 and 2**32 - 1 draw the same weights; tf.keras 2.12 (TF 2.12.1): no collision among the 434 "
             "designed seeds (check_seed_collisions passes for every built-in), NumPy integer seeds draw like "
             "Python ints; tf_keras 2.21: the reproduction finds no collision; on 3.15.1 and 2.12 the 43 designed "
             "seeds outside [-2**63, 2**63) raise ValueError; sources: keras 3.4.1 backend/tensorflow/random.py "
             "`tf.cast(draw_seed(seed), 'int32')` of a uint32 seed, 3.5.0 `tf.math.floormod(seed, tf.int32.max - 1)`",
    # Collisions and nothing else (each other problem of the check is appended after "; "), at either modulus.
    match=r"^\d+ pair\(s\) of distinct seeds draw identical values, .*every colliding pair differs by a "
          r"multiple of (2147483646|4294967296)$",
)

#: check_seed_collisions on torch, Keras 3.0-3.4 and again from 3.14: the seed reaches torch.Generator as 32 bits.
TORCH_SEEDS_FOLDED = ExpectedFailure(
    backends=("torch",),
    reason="Keras 3 on torch (3.0-3.4, and again from 3.14) seeds its torch.Generator with the integer seed "
           "modulo 2^32, so seeds that differ by a multiple of 2^32 draw identical weights (5 and 5 + 2^32, "
           "-1 and 2^32 - 1)",
    versions="keras>=3.0,<3.5 || keras>=3.14",
    evidence="keras 3.15.1 on torch 2.13.0: check_seed_collisions on GlorotUniform and HeNormal, 9299 colliding "
             "pairs, every difference a multiple of 2**32 (0 and 2**32, 5 and 5 + 2**32 draw the same weights; "
             "0 and 2**31 - 2 do not); the reproduction (GlorotUniform, RandomNormal, TruncatedNormal, "
             "Orthogonal; pairs (5, 5 + 2**32), (-1, 2**32 - 1), (0, 2**32): all 12 identical from 3.2, 8 of 12 on "
             "3.0-3.1, where seed 0 is unseeded (seed-zero-ignored)) exits 1 on 3.0.5, 3.1.0, "
             "3.1.1, 3.2.0, 3.2.1, 3.3.3, 3.4.1, 3.14.1 and 3.15.1, and 0 on 3.5.0-3.13.2, where those seeds "
             "raise instead (torch-seed-int32-overflow; " + _TORCH_LINES_MEASURED + ")",
    match=r"^\d+ pair\(s\) of distinct seeds draw identical values, .*every colliding pair differs by a "
          r"multiple of 4294967296$",
)

#: check_seed_collisions on torch, Keras 3.5-3.13: the seed tensor is int32 and torch refuses wider values.
TORCH_SEED_INT32_OVERFLOW = ExpectedFailure(
    backends=("torch",),
    reason="Keras 3.5-3.13 on torch reject every integer seed outside int32 (2^31 and above, below -2^31) with "
           "torch's 'RuntimeError: value cannot be converted to type int32 without overflow' instead of a "
           "ValueError naming the seed: a documented 'Python integer' seed such as 2**32 crashes the initializer",
    versions="keras>=3.5,<3.14",
    evidence="check_seed_collisions on GlorotUniform, keras 3.5.0 and 3.13.2 with torch 2.13.0: 208 of the 434 "
             "designed seeds raise, 165 of them RuntimeError (the other 43, outside int64, raise a clear error), "
             "0 colliding pairs; the reproduction (GlorotUniform(seed=2**31)((4, 4))) exits 1 on 3.5.0-3.9.2, "
             "3.10.0, 3.11.3, 3.12.0, 3.12.4 and 3.13.2, and 0 on 3.0.5-3.4.1, 3.14.1 and 3.15.1, where the seed "
             "is folded instead (torch-seeds-folded; " + _TORCH_LINES_MEASURED + ")",
    # That error and no other problem of the check (each is appended after "; ").
    match=r"^\d+ seed\(s\) raised something other than ValueError, TypeError, OverflowError, e\.g\. "
          r"\(-?\d+, 'RuntimeError: value cannot be converted to type int32 without overflow'\)$",
)

#: Every declaration check_seed_collisions carries on a Keras initializer (each holds on its own backend and lines).
SEED_COLLISION_FINDINGS = [SEEDS_FOLDED, TORCH_SEEDS_FOLDED, TORCH_SEED_INT32_OVERFLOW]

IDENTITY_NOT_DESERIALIZABLE = ExpectedFailure(
    reason="Keras 3.0-3.2.0 leave Identity out of the initializers' deserialization table (ALL_OBJECTS), so a "
           "saved model whose layer uses it cannot be loaded",
    versions="keras>=3.0,<3.2.1",
    evidence="keras 3.0.5 on TF 2.16.2 (tox env tf216-keras30): check_keras_save_load raises 'TypeError: "
             "Functional could not be deserialized properly' (underneath: 'Could not interpret initializer "
             "identifier: Identity'); source: initializers/__init__.py ALL_OBJECTS gains Identity in 3.2.1",
    match='saving or loading in safe mode raised',
)


#: Declared on check_support of every uniform spec (float64 offered): check_support decodes one
#: float64 draw per case exactly at the law's limits and at the float32-rounded ones
#: (initcheck.checks.distribution.float64_limits_result), so the ``ci`` profile sees it on every case,
#: not only when a draw happens to land in the band (L, float32(L)] (probability ~1e-8 per value).
FLOAT64_UNIFORM_LIMIT_FLOAT32 = ExpectedFailure(
    backends=("tensorflow",),  # keras/src/backend/tensorflow/random.py; check_support passes on JAX (docs/backends.md)
    reason="Keras 3 float64 RandomUniform and uniform VarianceScaling (GlorotUniform, HeUniform, LecunUniform) "
           "round their limits through float32, so draws can exceed the limit L up to float32(L)",
    versions="keras>=3",
    evidence="RandomUniform(-L, L, seed=1)((65520, 16), dtype='float64') with L = 0.009568319307746789 (the "
             "GlorotUniform limit for fan_in + fan_out = 65536) equals RandomUniform(-float32(L), float32(L)) "
             "draw for draw, and so does GlorotUniform(seed=1); RandomUniform(1, 1 + 2**-25) in float64 returns "
             "only 1.0; keras 3.0.5 and 3.15.1 alike; tf.keras 2.12 and tf_keras 2.21 are exact. check_support "
             "(keras 3.15.1, TF 2.21): every value of GlorotUniform(seed=1)((32768,), float64) is "
             "fl(fl(k 2^-52 * 2 float32(L)) - float32(L)) bit for bit, 42% at L; thorough run: "
             "0.00956831949172695 > L at seed 187, shape [32768]",
    match='float64_limits_rounded_through_float32|support_float32_band',
)


def initializer_findings(mode: Optional[str], distribution: str) -> dict:
    """``{check: finding}`` for a random Keras initializer of fan ``mode`` (None: no fans) and law family.

    ``distribution`` is ``"uniform"``, ``"truncated_normal"``,
    ``"untruncated_normal"`` or ``"normal"``.
    """
    found: dict = {}
    if mode:
        for kind, (finding, modes) in SHAPE_FAN_FINDINGS.items():
            if mode in modes:
                found[f"check_layer_variance_{kind}"] = finding  # the layer check's name (checks.layers)
    found["check_layer_independence_multi_head_attention"] = MHA_SEEDED_CLONE
    found.update(SEED_ZERO)
    found["check_seed_collisions"] = SEED_COLLISION_FINDINGS
    if distribution == "uniform":
        found["check_low_precision"] = BF16_UNIFORM_128_VALUES
        found["check_support"] = FLOAT64_UNIFORM_LIMIT_FLOAT32
    else:  # the normal families: JAX's bfloat16
        found["check_low_precision"] = JAX_BF16_NORMAL_128_VALUES
    if distribution == "truncated_normal":  # and torch's cut, and early Keras 3's dtype on torch
        found["check_low_precision"] = [found["check_low_precision"], TORCH_TRUNCATED_NORMAL_OUTSIDE]
        found["check_support"] = TORCH_TRUNCATED_NORMAL_OUTSIDE
        found["check_tails"] = TORCH_TRUNCATED_NORMAL_OUTSIDE
        found["check_output_contract"] = TORCH_TRUNCATED_NORMAL_DTYPE
    return found


# ====================================================================== optimizers

_K3 = "keras>=3.0"

# Early Keras 3 releases, measured on keras 3.0.5 / TF 2.16.2 (tox env tf216-keras30) and
# bounded by reading the released sources (keras/src/optimizers/base_optimizer.py and
# keras/src/backend/tensorflow/optimizer.py of each 3.x wheel).
CLIP_CONFLICT_ACCEPTED = ExpectedFailure(
    reason=("Keras 3.0-3.2.0 accept clipnorm or global_clipnorm together with clipvalue and silently apply only "
            "one of them (clipnorm, else global_clipnorm, else clipvalue); only clipnorm with global_clipnorm "
            "raises. From 3.2.1 any two of the three raise ValueError, as the documentation says"),
    versions="keras>=3.0,<3.2.1",
    evidence=("keras 3.0.5: SGD(clipnorm=1.0, clipvalue=1.0) is accepted (check_clipping: 'conflicting options "
              "clipnorm and clipvalue were accepted', every optimizer spec); 3.2.0 base_optimizer.py checks only "
              "`clipnorm is not None and global_clipnorm is not None`, 3.2.1 counts all three"),
    match='conflicting options \\w+ and \\w+ were accepted',
)

#: What check_clipping carries (on every optimizer spec with the capability): the same early-return
#: ``_clip_gradients`` in Keras 2 and in Keras 3.0-3.2.0.  CLIP_CONFLICT_ACCEPTED above is the Keras 3
#: half (a pair that 3.2.1 rejects is accepted), kept for tests that mark Keras 3's rejection.
CLIP_OPTIONS_ONE_APPLIED = ExpectedFailure(
    reason=("clipnorm or global_clipnorm given together with clipvalue: only the first option set is applied "
            "(clipnorm, else global_clipnorm, else clipvalue). Keras 2 documents the pair as allowed (only "
            "clipnorm with global_clipnorm is exclusive), Keras 3.0-3.2.0 document it as exclusive but accept "
            "it; from Keras 3.2.1 any two options raise ValueError. tf_keras 2.21 is still affected"),
    versions="keras>=2.12,<3.2.1",
    evidence=("SGD(learning_rate=1.0, clipnorm=0.9, clipvalue=0.7) on the gradient [3, 4] steps by [0.54, 0.72] "
              "(clipnorm alone; both applied: [0.54, 0.7]) on tf.keras 2.12.0 (TF 2.12.1), tf_keras 2.21.0 and "
              "keras 3.0.5; check_clipping on Keras 2 (a norm clip with clipvalue must apply both) fails every "
              "optimizer spec on tf.keras 2.12.0 and tf_keras 2.21.0, e.g. keras>SGD: 'clipnorm=0.05 with "
              "clipvalue=0.0167 (both applied, in either order): weights differ from the reference by 2.13e+03x "
              "the tolerance' (Nadam 18.6x, the least); sources: tf_keras/src/optimizers/optimizer.py "
              "_clip_gradients returns after the first option set, keras 2.12 keras/optimizers/optimizer.py the "
              "same, keras 3.0.5 base_optimizer.py likewise; tf.keras 2.13-2.15 and Keras 2.11 not run"),
    match='conflicting options \\w+ and \\w+ were accepted|\\(both applied, in either order\\): weights differ',
)

LR_CALLABLE_GETS_ITERATIONS = ExpectedFailure(
    reason=("Keras 3.0-3.2 call a callable learning rate with the iteration count "
            "(`self._learning_rate(self.iterations)`), while every optimizer documents 'a callable that takes no "
            "arguments'; a documented zero-argument callable raises TypeError. 3.3.0 calls it with no arguments"),
    versions="keras>=3.0,<3.3",
    evidence=("keras 3.0.5: SGD(learning_rate=lambda: 1e-4).apply(...) raises 'TypeError: <lambda>() takes 0 "
              "positional arguments but 1 was given' (check_learning_rate_forms, every spec); "
              "base_optimizer._get_current_learning_rate: 3.2.1 `self._learning_rate(self.iterations)`, "
              "3.3.0 `self._learning_rate()`"),
    match='takes 0 positional arguments but 1 was given',
)

ACCUMULATION_EVERY_CALL = ExpectedFailure(
    reason=("Keras 3.0.2-3.4 apply weight decay and clipping on every call with gradient_accumulation_steps, "
            "not only on update steps, and count `iterations` per call, so bias corrections and schedules run "
            "ahead; documented: variables are updated every N steps with the mean gradient. Fixed in 3.5.0"),
    versions="keras>=3.0.2,<3.5",
    evidence=("keras 3.0.5: SGD with weight_decay and gradient_accumulation_steps=2 moves the weights on micro-step "
              "1 (check_accumulation_matches_mean_step, every spec); Adam (beta_1=0.5, beta_2=0.75, lr=0.125, 6 "
              "calls, 2 micro-steps) matches the reference only when it counts calls (7.7e10x the tolerance off "
              "the documented count); 3.5.0 moves decay and clipping into the update branch and returns "
              "`_iterations // steps`"),
    match='weights moved on micro-step|gradient_accumulation_steps=\\d+: weights differ',
)

MIRRORED_NOT_SUMMED = ExpectedFailure(
    backends=("tensorflow",),  # tf.distribute: its reproduction is not applicable elsewhere (keras30-torch, 2026-12-04)
    reason=("Keras 3 before 3.5 does not sum the replicas' gradients under tf.distribute.MirroredStrategy on "
            "CPU: 3.0-3.2.0 have no all-reduce, 3.2.1-3.4 call it inside the merge function where the replica "
            "context is gone; 3.5.0 all-reduces before the merge"),
    versions="keras>=3.0,<3.5",
    evidence=("keras 3.0.5 on two logical CPUs: SGD under MirroredStrategy differs from one device by 180x the "
              "tolerance (check_mirrored_strategy); 3.2.1-3.4.1 bounded from the source "
              "(backend/tensorflow/optimizer.py `_all_reduce_sum_gradients` inside `merge_call`), not run"),
    match='MirroredStrategy.*(weights differ from the reference|raised)',
)

#: The findings above, by the capability tag whose check they break (clipping: Keras 2 too).
EARLY_KERAS3_FINDINGS = {
    "clipping": ("check_clipping", CLIP_OPTIONS_ONE_APPLIED),
    "lr_callable": ("check_learning_rate_forms", LR_CALLABLE_GETS_ITERATIONS),
    "accumulation": ("check_accumulation_matches_mean_step", ACCUMULATION_EVERY_CALL),
    "distributed": ("check_mirrored_strategy", MIRRORED_NOT_SUMMED),
}


def early_keras3_findings(tags: frozenset) -> dict:
    """``{check: ExpectedFailure}`` for a Keras optimizer subclass carrying ``tags`` (plugins use it too)."""
    return {check: finding for tag, (check, finding) in EARLY_KERAS3_FINDINGS.items() if tag in tags}

SPARSE_DUPLICATES = ExpectedFailure(
    reason=("Keras 3 on the TensorFlow backend does not sum repeated indices of an IndexedSlices gradient "
            "before the update, so rules that are non-linear in g (g^2, |g|, sign) see each duplicate "
            "separately; tf_keras deduplicates (_deduplicate_sparse_grad)"),
    versions=_K3,
    evidence=("Adam(lr=0.1), w=ones((4,3)), IndexedSlices(ones((3,3)), [0,0,2]): row 0 becomes 0.8586 "
              "(the dense gradient 2 gives 0.9000); keras 3.15.1 / tensorflow 2.21.0"),
    match='sparse \\(IndexedSlices\\) run: weights differ',
    backends=("tensorflow",),  # IndexedSlices exist there only (check_sparse_matches_dense needs tf_indexed_slices)
)

RMSPROP_CENTERED_SPARSE_CRASH = ExpectedFailure(
    reason=("Keras 3 on the TensorFlow backend: RMSprop(centered=True) raises InvalidArgumentError on an "
            "IndexedSlices gradient with a repeated index (the index union of its sparse divide maps positions "
            "with tf.scatter_nd, which sums repeated ones, and gathers past the end)"),
    versions=_K3,
    evidence=("RMSprop(learning_rate=0.06, rho=0.001, centered=True), w=zeros((1,1)) float32, IndexedSlices("
              "full((2,1), 0.1), [0, 0]): InvalidArgumentError GatherV2 'indices[0] = 3 is not in [0, 3)'; "
              "keras 3.0.0 to 3.15.1 on tensorflow 2.21.0 (each 3.x release checked); centered=False or unique "
              "indices: no error; tf.keras 2.12: no error (it deduplicates first). Found by the thorough profile "
              "(check_sparse_matches_dense, case seed 3)"),
    match=r"sparse \(IndexedSlices\) run: raised InvalidArgumentError: .*indices\[\d+\] = \d+ is not in",
    backends=("tensorflow",),
)

LOSS_SCALE_SKIP_COUNTS = ExpectedFailure(
    reason=("Keras 2's LossScaleOptimizer advances the inner optimizer's `iterations` on a skipped (non-finite) "
            "step, so rules with bias corrections or step schedules continue at t+1: the run is not the inner "
            "optimizer on the finite gradients; Keras 3 does not advance it"),
    versions="keras>=2.11,<3",
    evidence=("tf_keras 2.21.0: Adam(0.01) wrapped, grads [1.0] then [nan]: inner iterations 1 -> 2 while w stays "
              "0.0900001; float64, beta_1=beta_2=0.5, eps=1e-3, lr=0.01, scale 1024, nan at step 2 of 4: "
              "0.105387 vs 0.105552 on the finite gradients alone (keras 3.15.1: iterations stay 1, check passes)"),
    match='weights differ from the reference',
)

#: Found by the thorough profile on the tf212 edge (issue #15, seed 1): check_mirrored_strategy's ci case has
#: beta_1 = 0 (no momentum schedule); its designed case at the documented defaults reaches it on every gate.
NADAM_MIRRORED_U_PRODUCT = ExpectedFailure(
    backends=("tensorflow",),
    reason=("Keras 2's Nadam under MirroredStrategy on two devices stops updating its momentum-schedule product "
            "u_product after the first step: the product is cached behind a Python counter that every device's "
            "trace of update_step advances, so the counter runs ahead of `iterations` and the cached value is read"),
    versions="keras>=2.12,<3",
    evidence=("Nadam(0.01) at the documented betas, gradients 0.3, -0.2, 0.05 on w=0.1 (each replica half): one device "
              "w=0.0928074, MirroredStrategy(2 CPUs) w=0.0949160 (2.3 % apart; step 1 agrees, step 2 differs) on "
              "tf.keras 2.12.0 and tf_keras 2.21.0; MirroredStrategy over one device agrees; Keras 3.15.1 agrees. "
              "Thorough case (beta_1=0.001, beta_2=0): 25x the tolerance"),
    match='MirroredStrategy.*weights differ from the reference',
)

#: check_loss_scaling on JAX: eager ``apply_gradients`` of Keras 3's LossScaleOptimizer raises; inside ``jax.jit``
#: (``stateless_apply``, as Keras's JAX trainer calls it) and in ``model.fit`` it works (docs/backends.md).
LOSS_SCALE_EAGER_JAX = ExpectedFailure(
    backends=("jax",),
    reason=("Keras 3's LossScaleOptimizer cannot be applied eagerly on the JAX backend: apply_gradients raises "
            "UnexpectedTracerError from its ops.cond (the inner optimizer assigns its variables inside a traced "
            "jax.lax.cond branch); model.fit and stateless_apply under jax.jit work"),
    versions="keras>=3.10",
    evidence=("LossScaleOptimizer(SGD(0.1), initial_scale=8, dynamic_growth_steps=1000), float32 w=ones(3): eager "
              "apply_gradients of [1,1,1] raises 'UnexpectedTracerError: Exception encountered when calling "
              "Cond.call()' on keras 3.15.1 and 3.10.0 with jax 0.10.2 (TensorFlow backend: works); the same "
              "steps through stateless_apply under jax.jit give w=0.8, scale 8 -> 4 after an inf step, as "
              "documented; model.fit with it equals plain SGD"),
    match="UnexpectedTracerError",
)

#: check_loss_scaling's jitted path on JAX (``stateless_apply`` under ``jax.jit``, the trainer's): found 2026-12-04
#: when that path was added beside eager ``apply_gradients``.
NADAM_LOSS_SCALE_U_PRODUCT = ExpectedFailure(
    backends=("jax",),
    reason=("Keras 3's Nadam wrapped in a LossScaleOptimizer does not advance its momentum-schedule product "
            "u_product on JAX's stateless path (jax.jit, model.fit): the wrapper builds the inner optimizer with "
            "automatic variable tracking switched off, so u_product is missing from optimizer.variables and "
            "stateless_apply neither feeds it in nor returns it -- it stays 1.0 and every step after the first "
            "differs from Nadam"),
    versions="keras>=3.10",
    evidence=("Nadam(0.01, beta_1=0.25, beta_2=0, epsilon=1e-8), w = ones(3), LossScaleOptimizer(initial_scale=1), "
              "the same gradient [1, -2, 0.5] twice through stateless_apply under jax.jit: step 1 equals plain "
              "Nadam, step 2 gives w[0] = 0.977639 instead of 0.978855; model.fit of a Dense(1) (4 batches, "
              "Nadam(0.1)) with and without the wrapper: kernels 0.128 apart on JAX, identical on TensorFlow; "
              "`any(v is inner._u_product for v in lso.variables)` is False (keras 3.15.1 on JAX and "
              "TensorFlow, 3.10.0 on JAX; jax 0.10.2); TensorFlow and torch train right because their variables update in place"),
    match=r"stateless_apply under jax\.jit: loss-scaled run .*weights differ from the reference",
)

NADAM_RESUME = ExpectedFailure(
    reason=("Keras 2's Nadam caches its momentum-schedule product u_1*...*u_t in a variable and guards the "
            "once-per-step multiplication with a Python counter (`_u_product_counter`) that a checkpoint does "
            "not save; a restored optimizer with more than one variable multiplies the product again for every "
            "variable after the first, so resumed training differs from uninterrupted training"),
    versions="keras>=2.11,<3",
    evidence=("Nadam(0.01), variables [0.1] and [0.2], gradients [1.0] and [0.5], two steps: uninterrupted "
              "u_product 0.227111, second variable 0.18163624; saved after step 1 and restored into a fresh "
              "optimizer: u_product 0.110212 (one extra factor u_2), second variable 0.18257801; identical on "
              "tf.keras 2.12.0 (TF 2.12.1) and tf_keras 2.21.0; Keras 3 keeps u_product without the counter"),
    match='resumed training differs from uninterrupted training',
)

FLOAT64_CONSTANTS = ExpectedFailure(
    # Not on torch: its ops.cast(0.96, "float64") is exact and the check passes (strict XPASS, docs/backends.md).
    # Not on JAX with JAX_ENABLE_X64=1 either (strict XPASS in the first x64 run, 2026-12-04).
    backends=("tensorflow", "jax:no-x64"),
    reason=("on float64 variables, Python-float constants of the rule (Nadam's 0.96 schedule base and "
            "0.5) are cast through float32 (`ops.cast(0.999, 'float64')` converts to a float32 tensor "
            "first), so a float64 optimizer carries float32-level errors (~1e-7 relative) in its bias corrections"),
    versions="keras>=2.11",
    evidence=("Nadam float64, float32-exact betas (beta_1=0.1, beta_2=0, epsilon=1e-8), lr=1e-4, w0 and g from "
              "seed 0, 5 steps: the rule ends at 0.10327279661034; Keras 3.15.1 at 0.10327279661054 (49x the "
              "float64 tolerance), tf_keras 2.21.0 at 0.10327279661067 (81x)"),
    match='-step trajectory: weights differ from the reference',
)


FLOAT64_BETAS = ExpectedFailure(
    # Not on torch: its ops.cast(0.999, "float64") is exact and the check passes (strict XPASS, docs/backends.md).
    # Not on JAX with JAX_ENABLE_X64=1 either (strict XPASS in the first x64 run, 2026-12-04).
    backends=("tensorflow", "jax:no-x64"),
    reason=("on float64 variables Adam's documented betas (0.9, 0.999) enter the bias corrections rounded to "
            "float32 (a Python float is converted to a float32 tensor before the cast to float64), so the "
            "float64 trajectory carries float32-level error"),
    versions="keras>=2.11",
    evidence=("Adam() defaults, float64 w=[0.1], g=[0.003], one step: Keras 3.15.1 moves w by 0.000998940396, "
              "the documented rule in float64 by 0.000998947065 (relative 6.7e-6); tf_keras 2.21.0 over 5 steps "
              "at lr=1e-4: 0.10324277553 vs 0.10324277736 (4.3x the float64 tolerance)"),
    match='-step trajectory: weights differ from the reference',
)


# --- Keras 3 on the PyTorch backend (docs/backends.md, "PyTorch runs"; the longer reproductions with their
# TensorFlow contrast are in docs/data/backends/).  Measured on Keras 3.15.1 with torch 2.13.0 (CPU) only.
TORCH_WEIGHT_DECAY_FLOAT32 = ExpectedFailure(
    backends=("torch",),  # keras/src/backend/torch/optimizers/torch_optimizer.py; TensorFlow is exact
    reason=("on the torch backend, decoupled weight decay multiplies every variable by a factor "
            "1 - weight_decay * learning_rate computed in float32 (the learning-rate variable's dtype), so a "
            "float64 variable's decay step lr * wd * w carries float32 error (a few percent of the step at "
            "lr * wd = 1e-6)"),
    versions="keras>=3.0,<3.16",
    evidence=("SGD(learning_rate=float32(1e-4), weight_decay=float32(0.01)), float64 w0 = [0.1, -0.98], zero "
              "gradient, one step: torch gives 0.09999989867210389 (decay step off by 1.3%), TensorFlow "
              "0.09999990000000476 = w0 - lr*wd*w0 (keras 3.15.1, torch 2.13.0, tensorflow 2.21.0); "
              "check_weight_decay (float64, wd 0.01) fails by ~2e7x the float64 tolerance on every optimizer "
              "whose ci draw has such a case, AdamW's trajectory and EMA checks (wd 0.5) by ~1e7x; "
              "check_accumulation_matches_mean_step (float64, wd 0.1) too, declared there beside "
              "ACCUMULATION_EVERY_CALL since 2026-12-03 (each failing case passes with weight_decay None)"
              "; the versions: holds on every line (" + _TORCH_LINES_MEASURED + ")"),
    match=r"weights differ from the reference",
)
TORCH_FLOAT64_MAXIMUM = ExpectedFailure(
    backends=("torch",),  # keras/src/backend/torch/numpy.py maximum/minimum + common/dtypes.py result_type
    reason=("on the torch backend keras.ops.maximum and keras.ops.minimum return float32 for float64 inputs "
            "(they promote with keras.backend.result_type, which maps float64 to float32 outside TensorFlow), "
            "so clipnorm's divisor max(||g||, clipnorm) -- and the clipped float64 gradient -- are rounded to "
            "float32"),
    versions="keras>=3.12,<3.16",
    evidence=("keras.ops.maximum(float64 tensor, float64 tensor).dtype is float32 on torch, float64 on "
              "TensorFlow; SGD(float32(1e-4), clipnorm=float32(0.05)), float64 w0 = [0.10296768], g = "
              "[0.17725309]: the step is off by 4.1e-8 relative on torch, 8e-13 on TensorFlow (keras 3.15.1, "
              "torch 2.13.0); check_clipping's float64 clipnorm case fails by 110x-2900x the float64 tolerance"
              "; the versions: holds from 3.12.0, not on 3.11.3 and older (" + _TORCH_LINES_MEASURED + ")"),
    match=r"clipnorm=[0-9.e-]+: weights differ from the reference",
)
TORCH_PYTHON_FLOAT_FLOAT32 = ExpectedFailure(
    backends=("torch",),  # keras/src/backend/torch/numpy.py add/subtract/multiply/power + core.convert_to_tensor
    reason=("on the torch backend keras.ops.add, subtract, multiply and power turn a Python float operand into a "
            "float32 tensor before combining it with a float64 tensor, so an optimizer constant such as "
            "1 - beta_2 is rounded to float32 in a float64 update (Lamb)"),
    versions="keras>=3.0,<3.16",
    evidence=("ops.multiply(float64 [1, 3], 1 - float32(0.001)) is off by 1.29e-8 relative on torch, exact on "
              "TensorFlow (add 6.5e-9, subtract 1.3e-5, power 1.4e-8; ops.divide keeps the Python float exact); "
              "Lamb(beta_1=0, beta_2=float32(0.001)) two float64 steps: 1.3e-5 of the step off the formula on "
              "torch, 0 on TensorFlow (keras 3.15.1, torch 2.13.0). Attributed on 2026-12-03 by replaying the "
              "failing cases with the four ops patched to give the Python float the tensor's dtype: Lamb's "
              "check_trajectory_matches_reference (2.1e4x the float64 tolerance), check_learning_rate_forms, "
              "check_ema and check_clipping then pass; on 2026-12-04 check_loss_scaling's small-beta designed "
              "case (beta_1 = beta_2 = float32(0.001), 8.6e6x the tolerance) passes with that patch alone and "
              "still fails with the other three torch patches"
              "; the versions: holds on every line (" + _TORCH_LINES_MEASURED + ")"),
    match=r"weights differ from the reference",
)
TORCH_FLOAT64_MEAN = ExpectedFailure(
    # keras/src/backend/torch/numpy.py mean: compute dtype from result_type(x, "float32"); the JAX backend's mean
    # does the same (keras/src/backend/jax/numpy.py), which shows where float64 exists there: JAX_ENABLE_X64=1.
    backends=("torch", "jax:x64"),
    reason=("on the torch backend (and on JAX with JAX_ENABLE_X64=1) keras.ops.mean of a float64 tensor is "
            "computed in float32 and cast back, and "
            "keras.ops.maximum / minimum return float32 (torch-float64-maximum): Adafactor's float64 step "
            "(its RMS, alpha_t and rho_t) carries float32 rounding"),
    versions="keras>=3.12,<3.16",
    evidence=("ops.mean(float64 [0.1, 0.3, 0.7]) is off by 2.2e-8 relative on torch, exact on TensorFlow; one "
              "float64 Adafactor step is off its formula by 1.8e-9 relative on torch, 8e-13 on TensorFlow "
              "(keras 3.15.1, torch 2.13.0). Attributed on 2026-12-03 by replaying Adafactor's failing float64 "
              "cases with ops.mean computed in float64 and ops.maximum/minimum kept in float64: "
              "check_trajectory_matches_reference (967x the tolerance), check_learning_rate_forms and check_ema "
              "pass only with both patched; "
              "check_weight_decay and check_accumulation_matches_mean_step pass with both and the weight-decay "
              "patch of torch-weight-decay-float32. JAX with JAX_ENABLE_X64=1 (keras 3.15.1, jax 0.10.2, "
              "2026-12-04): ops.mean of a float64 vector is float64 with 1.1e-7 relative error, and the first x64 "
              "run failed Adafactor's float64 cases of the six checks declared here but loss scaling (1.8e3x-2.3e6x "
              "the tolerance); replayed with ops.mean computed in float64 alone, all six pass (15 passed, 0 failed; "
              "unpatched 6 failed)"
              "; the versions: holds on torch from 3.12.0, not on 3.11.3 and older (" + _TORCH_LINES_MEASURED
              + "); JAX x64 measured on 3.15.1"),
    match=r"weights differ from the reference",
)


FTRL_DOCSTRING_L2 = ExpectedFailure(
    reason=("the Keras Ftrl docstring (and McMahan et al. 2013, Algorithm 1) divide by "
            "(beta + sqrt(n)) / alpha + lambda_2; Keras computes ... + 2 * lambda_2"),
    versions="keras>=2.11",
    evidence="any l2_regularization_strength > 0 moves w off the documented formula",
    match='-step trajectory: weights differ from the reference',
)

ADAFACTOR_DOCSTRING_RELATIVE_STEP = ExpectedFailure(
    reason=("Keras documents that relative_step=True adjusts a constant learning rate, "
            "implying relative_step=False does not; Keras caps the step at min(lr, 1/sqrt(t)) "
            "whatever relative_step says"),
    versions="keras>=2.11",
    evidence=("relative_step=False, constant lr=0.6: from step 3 on Keras steps with "
              "min(0.6, 1/sqrt(3)) = 0.577 instead of 0.6 (keras 3.15.1, tf_keras 2.21.0)"),
    match='-step trajectory: weights differ from the reference',
)


# ====================================================================== the catalogue

@dataclass(frozen=True)
class Finding:
    """One catalogue entry: a declared finding as someone upgrading TensorFlow/Keras reads it.

    The declaration stays the one source of the versions; the entry adds what
    a reader needs around it.  Which specs and checks carry the declaration is
    not typed here: :mod:`initcheck.reports.affected` reads it from the
    registry (``initcheck findings``).

    Attributes:
        id: Stable kebab-case name; the reproduction is ``repros/<id>.py``
            beside this module (plain TensorFlow/Keras/NumPy, exit 1 when the
            bug is present, 0 when absent or not applicable).
        declaration: The :class:`~initcheck.spec.ExpectedFailure` the specs
            carry; its ``versions`` are the finding's.
        summary: One line.
        objects: The affected Keras or TensorFlow objects.
        mechanism: Why, with the Keras (or TensorFlow) source location.
        upstream: The known issue or pull request, or "not reported".
        fixed_in: The first release without it ("keras 3.2.0"); "" when not fixed.
        pending: Set while no spec declares it: the check that will detect it.

    What each reproduction printed where it was verified is recorded by
    ``initcheck findings --verify --json`` (docs/data/findings/), not typed here.
    """

    id: str
    declaration: ExpectedFailure
    summary: str
    objects: tuple[str, ...]
    mechanism: str
    upstream: str
    fixed_in: str = ""
    pending: str = ""

    @property
    def versions(self) -> str:
        """Where it holds, as declared (``""``: every version)."""
        return self.declaration.versions

    @property
    def repro(self) -> str:
        """File name of the reproduction in ``initcheck/builtin/repros``."""
        return f"{self.id}.py"


_TF_CAST = "https://github.com/tensorflow/tensorflow/issues/57779"

#: Every declared finding, in the order docs/findings.md shows them.
CATALOGUE: tuple[Finding, ...] = (
    # ------------------------------------------------------------------ initializers
    Finding(
        id="orthogonal-bf16-qr", declaration=ORTHOGONAL_BFLOAT16,
        summary="Orthogonal(dtype='bfloat16') raises: TensorFlow's Qr op has no bfloat16 kernel (nor have JAX's "
                "and torch's CPU QR)",
        objects=("Orthogonal",),
        mechanism="Orthogonal draws a normal matrix in the requested dtype and factorises it with no cast around "
                  "the QR: Keras 3 keras/src/initializers/random_initializers.py Orthogonal.__call__ "
                  "(`q, r = ops.qr(a)`) -> keras/src/backend/tensorflow/linalg.py qr -> tf.linalg.qr; tf_keras "
                  "tf_keras/src/initializers/initializers.py Orthogonal.__call__ (`tf.linalg.qr(a, "
                  "full_matrices=False)`). TensorFlow registers Qr for double, float, half, complex64 and "
                  "complex128 only.",
        upstream="https://github.com/keras-team/keras/issues/16970 (also keras-team/tf-keras#448; closed without "
                 "a fix)",
    ),
    Finding(
        id="orthogonal-float16-qr", declaration=ORTHOGONAL_FLOAT16_QR,
        summary="Orthogonal(dtype='float16') raises on the JAX and torch backends: their CPU QR has no float16 kernel",
        objects=("Orthogonal",),
        mechanism="keras/src/initializers/random_initializers.py Orthogonal.__call__ draws "
                  "`a = random.normal(flat_shape, seed=self.seed, dtype=dtype)` and calls `ops.qr(a)` with no cast; "
                  "keras/src/backend/jax/linalg.py qr -> jnp.linalg.qr (no float16 LAPACK kernel on CPU: "
                  "'Unsupported dtype float16'), keras/src/backend/torch/linalg.py qr -> torch.linalg.qr "
                  "(\"geqrf_cpu\" not implemented for 'Half'). TensorFlow registers Qr for half (see "
                  "orthogonal-bf16-qr for the dtype it lacks). On these backends the built-in float16 case is a spec "
                  "of its own, keras>Orthogonal-float16, so Orthogonal's other dtypes keep running.",
        upstream="not reported",
    ),
    Finding(
        id="constant-float64-rounding", declaration=CONSTANT_FLOAT64,
        summary="Keras 3 Constant(-0.3) asked for float64 returns float32(-0.3) = -0.30000001192092896",
        objects=("Constant",),
        mechanism="keras/src/initializers/constant_initializers.py Constant.__call__ returns "
                  "`ops.cast(self.value, dtype) * ops.ones(...)`; keras/src/backend/tensorflow/core.py cast calls "
                  "tf.cast, which converts a Python float to a float32 tensor before widening it. tf_keras uses "
                  "tf.constant(self.value, dtype=dtype) (tf_keras/src/initializers/initializers.py), which is "
                  "exact.",
        upstream=f"not reported for Keras; root cause, TensorFlow's tf.cast of Python floats: {_TF_CAST} (and "
                 "#35938, #64548; TensorFlow only documented it, PR #58526)",
    ),
    Finding(
        id="float64-uniform-limit-float32", declaration=FLOAT64_UNIFORM_LIMIT_FLOAT32,
        summary="Keras 3 float64 RandomUniform / GlorotUniform / HeUniform / LecunUniform round their limits "
                "through float32: draws can exceed L up to float32(L)",
        objects=("RandomUniform", "VarianceScaling (uniform)", "GlorotUniform", "HeUniform", "LecunUniform"),
        mechanism="keras/src/backend/tensorflow/random.py uniform passes `minval=tf.cast(minval, dtype)`, "
                  "`maxval=tf.cast(maxval, dtype)` to tf.random.stateless_uniform; tf.cast makes the Python float "
                  "a float32 tensor first, so the float64 limits are float32(minval), float32(maxval). "
                  "RandomUniform.__call__ and VarianceScaling.__call__ (keras/src/initializers/"
                  "random_initializers.py) both go through it; same root cause as constant-float64-rounding. "
                  "Keras 2 passes the Python floats to stateless_uniform with dtype=float64 and is exact. A draw "
                  "beyond L has probability (float32(L) - L) / (2 float32(L)), about 1.8e-8 for the GlorotUniform "
                  "limit here, so a sampling check sees it only by testing that band deterministically: check_support "
                  "decodes every value of a float64 draw at both pairs of limits.",
        upstream=f"not reported for Keras (root cause: {_TF_CAST})",
    ),
    Finding(
        id="transposed-conv-fans", declaration=FAN_TRANSPOSE,
        summary="Conv{1,2,3}DTranspose: VarianceScaling swaps fan_in and fan_out, and the true fan_in also "
                "depends on the stride (in*k^2/s^2)",
        objects=("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "VarianceScaling (every mode)"),
        mechanism="keras/src/layers/convolutional/base_conv_transpose.py build: kernel_shape = kernel_size + "
                  "(filters, input_channel); keras/src/initializers/random_initializers.py compute_fans takes "
                  "fan_in = shape[-2] * receptive field = filters*k^2 (tf_keras: "
                  "tf_keras/src/initializers/initializers.py _compute_fans, same rule). Each output of a "
                  "transposed convolution sums in_channels*k^2/s^2 terms, so the variance is off by in/filters "
                  "at stride 1 and by in/(filters*s^2) at stride s: HeNormal with in = filters = 64, k = 3 gives "
                  "Var(out)/Var(in) = 2.02, 0.509 and 0.222 at strides 1, 2 and 3 (= 2/s^2: 2, 0.5, 0.222), so "
                  "a He-initialised Conv2DTranspose halves the signal variance at stride 2. initcheck's layer "
                  "checks judge every transposed kernel at strides 1 and 2 with the stride-aware fan oracle "
                  "(checks/layers.py conv_transpose_fans); at stride 2 fan_avg differs too.",
        upstream="https://github.com/tensorflow/tensorflow/issues/31192 (closed as intended behaviour)",
    ),
    Finding(
        id="depthwise-fans", declaration=FAN_DEPTHWISE,
        summary="DepthwiseConv2D (and SeparableConv2D's depthwise kernel): fan_in counts in_channels*k^2 "
                "though each output sums k^2 terms: variance 1/in_channels of the intended one",
        objects=("DepthwiseConv2D", "SeparableConv2D", "VarianceScaling (fan_in / fan_avg)"),
        mechanism="keras/src/layers/convolutional/base_depthwise_conv.py build: depthwise_shape = kernel_size "
                  "+ (input_channel, depth_multiplier); base_separable_conv.py likewise; compute_fans "
                  "(random_initializers.py) gives fan_in = input_channel*k^2 although no sum runs over channels.",
        upstream="https://github.com/keras-team/keras/issues/11773 (closed; PR #11996 not merged)",
    ),
    Finding(
        id="rnn-gate-fans", declaration=FAN_GATES,
        summary="LSTM/GRU: one (in, gates*units) kernel, so VarianceScaling counts fan_out = gates*units "
                "(GlorotUniform 0.50x for LSTM, 0.60x for GRU)",
        objects=("LSTM", "GRU", "LSTMCell", "GRUCell", "VarianceScaling (fan_out / fan_avg)"),
        mechanism="keras/src/layers/rnn/lstm.py LSTMCell.build (shape=(input_dim, self.units * 4)), "
                  "keras/src/layers/rnn/gru.py GRUCell.build (units * 3): the initializer is called once on the "
                  "concatenated shape and compute_fans takes fan_out = shape[1]; tf_keras "
                  "tf_keras/src/layers/rnn/lstm.py and gru.py the same.",
        upstream="not reported",
    ),
    Finding(
        id="einsum-fans", declaration=FAN_EINSUM,
        summary="EinsumDense / MultiHeadAttention before Keras 3.15: fans from the raw kernel shape "
                "(HeNormal 'ab,bcd->acd', kernel (128, 4, 64): 0.25x the variance)",
        objects=("EinsumDense", "MultiHeadAttention", "VarianceScaling"),
        mechanism="Before 3.15, compute_fans(shape) treats any kernel of rank > 2 as (receptive field..., in, "
                  "out). Keras 3.15.0: keras/src/layers/core/einsum_dense.py EinsumDense.build calls "
                  "_update_kernel_initializer to pass input_axes/output_axes to VarianceScaling, and compute_fans "
                  "(random_initializers.py) uses them. tf_keras 2.21 and tf.keras 2.12 have no such path.",
        upstream="https://github.com/keras-team/keras/pull/22789 (the fix)",
        fixed_in="keras 3.15.0",
    ),
    Finding(
        id="bf16-uniform-128-values", declaration=BF16_UNIFORM_128_VALUES,
        summary="bfloat16 uniform draws take only 128 distinct values, far coarser than the uniform law "
                "rounded to bfloat16",
        objects=("RandomUniform", "VarianceScaling (uniform)", "GlorotUniform", "HeUniform", "LecunUniform"),
        mechanism="keras/src/backend/tensorflow/random.py uniform -> tf.random.stateless_uniform(dtype=bfloat16); "
                  "TensorFlow's kernel builds a bfloat16 in [1, 2) from 7 random mantissa bits and subtracts 1 "
                  "(tensorflow/core/lib/random/random_distributions.h, the uint16 -> bfloat16 helper), then scales "
                  "by (maxval - minval): 2^7 = 128 values.",
        upstream="not reported",
    ),
    Finding(
        id="jax-bf16-normal-128-values", declaration=JAX_BF16_NORMAL_128_VALUES,
        summary="Keras 3 on JAX: bfloat16 RandomNormal / TruncatedNormal / HeNormal / GlorotNormal / LecunNormal "
                "draws take 128 distinct values",
        objects=("RandomNormal", "TruncatedNormal", "VarianceScaling (normal)", "GlorotNormal", "HeNormal",
                 "LecunNormal"),
        mechanism="keras/src/backend/jax/random.py normal / truncated_normal call jax.random.normal / "
                  "truncated_normal with dtype=bfloat16; jax/_src/random/core.py _normal_real and "
                  "_truncated_normal compute sqrt(2) * erf_inv(u) with u = uniform(key, shape, dtype), and a "
                  "bfloat16 uniform fills 7 mantissa bits (128 values per draw), so the inverse CDF maps 128 "
                  "values to 128 values. TensorFlow draws the normal in a wider type first (2942 values).",
        upstream="not reported",
    ),
    Finding(
        id="mha-seeded-clone", declaration=MHA_SEEDED_CLONE,
        summary="MultiHeadAttention clones a seeded kernel_initializer with its seed: query, key and value "
                "kernels are identical",
        objects=("MultiHeadAttention",),
        mechanism="keras/src/layers/attention/multi_head_attention.py _get_common_kwargs_for_sublayer: "
                  "`self._kernel_initializer.__class__.from_config(self._kernel_initializer.get_config())` for "
                  "every projection; the config carries the integer seed and a seeded initializer is "
                  "deterministic (the comment there says the clone is meant to avoid shared values); tf_keras "
                  "tf_keras/src/layers/attention/multi_head_attention.py the same.",
        upstream="not reported",
    ),
    Finding(
        id="seed-zero-ignored", declaration=SEED_ZERO_IGNORED,
        summary="Keras 3.0-3.1 random initializers treat seed=0 as unseeded: two GlorotUniform(seed=0) differ",
        objects=_SEEDED_INITIALIZERS,
        mechanism="keras 3.0.5 keras/src/initializers/random_initializers.py: `self.seed = seed or "
                  "random.make_default_seed()`; 0 is falsy. 3.2.0: `seed if seed is not None else ...`.",
        upstream="https://github.com/keras-team/keras/issues/19361 (fixed by PR #19364)",
        fixed_in="keras 3.2.0",
    ),
    Finding(
        id="seed-zero-touches-random", declaration=SEED_ZERO_TOUCHES_RANDOM,
        summary="Keras 3.0-3.1: an initializer built with seed=0 draws its replacement seed from Python's "
                "global random",
        objects=_SEEDED_INITIALIZERS,
        mechanism="The line of seed-zero-ignored; keras 3.0.5 keras/src/random/seed_generator.py "
                  "make_default_seed: `return python_random.randint(1, int(1e9))`, called in __init__.",
        upstream="https://github.com/keras-team/keras/issues/19361 (the same fix, PR #19364)",
        fixed_in="keras 3.2.0",
    ),
    Finding(
        id="seeds-folded", declaration=SEEDS_FOLDED,
        summary="Keras 3 on TensorFlow folds integer seeds (modulo 2^32 in 3.0-3.4, modulo 2^31 - 2 from 3.5): "
                "GlorotUniform(seed=1) and GlorotUniform(seed=2**31 - 1) draw the same weights",
        objects=(*_SEEDED_INITIALIZERS, "every keras.random op given an integer seed (TensorFlow backend)"),
        mechanism="keras/src/random/seed_generator.py draw_seed turns an int seed into the tensor [seed, 0]; "
                  "keras 3.0-3.4 build it as uint32 (wrapping modulo 2^32; keras/src/backend/tensorflow/random.py "
                  "tf_draw_seed then casts to int32), keras 3.5.0+ as int64 (random_seed_dtype) and "
                  "keras/src/backend/tensorflow/random.py _cast_seed reduces it with `tf.math.floormod(seed, "
                  "tf.int32.max - 1)` before tf.random.stateless_*. The docs say only 'seed: A Python integer'. "
                  "tf_keras and tf.keras 2.12 pass the seed to TensorFlow as an int64 without reduction. The "
                  "torch backend: torch-seeds-folded and torch-seed-int32-overflow.",
        upstream="not reported; the floormod came with https://github.com/keras-team/keras/pull/19978 (an XLA "
                 "int32-seed fix, keras 3.5.0)",
    ),
    Finding(
        id="torch-seeds-folded", declaration=TORCH_SEEDS_FOLDED,
        summary="Keras 3 on torch (3.0-3.4 and from 3.14) folds integer seeds modulo 2^32: "
                "GlorotUniform(seed=5) and GlorotUniform(seed=5 + 2**32) draw the same weights",
        objects=(*_SEEDED_INITIALIZERS, "every keras.random op given an integer seed (torch backend)"),
        mechanism="keras/src/random/seed_generator.py draw_seed turns an int seed into the tensor [seed, 0]: "
                  "keras 3.0-3.4 as uint32 (wrapping modulo 2^32); keras 3.14.1 "
                  "keras/src/backend/torch/random.py torch_seed_generator seeds the generator with "
                  "`manual_seed(int(first_seed + second_seed) & 0xFFFFFFFF)` (\"re-interpret as uint32\"). "
                  "In between the seed tensor is int32 and wide seeds raise (torch-seed-int32-overflow).",
        upstream="not reported",
    ),
    Finding(
        id="torch-seed-int32-overflow", declaration=TORCH_SEED_INT32_OVERFLOW,
        summary="Keras 3.5-3.13 on torch crash with torch's int32 RuntimeError for any integer seed outside "
                "int32: GlorotUniform(seed=2**31)((4, 4)) raises",
        objects=(*_SEEDED_INITIALIZERS, "every keras.random op given an integer seed (torch backend)"),
        mechanism="keras 3.5.0 keras/src/random/seed_generator.py draw_seed: `convert_to_tensor([seed, 0], "
                  "dtype=random_seed_dtype())`, and keras/src/backend/torch/core.py random_seed_dtype returns "
                  "'int32' (\"uint32 doesn't exist in torch\"); torch.as_tensor raises for a value outside int32. "
                  "keras 3.4.1 built the tensor as uint32 (folding, torch-seeds-folded); 3.14.1 masks the sum with "
                  "0xFFFFFFFF in torch_seed_generator before manual_seed.",
        upstream="not reported",
        fixed_in="keras 3.14 (measured on 3.14.1; the seeds fold modulo 2^32 from there)",
    ),
    Finding(
        id="identity-not-deserializable", declaration=IDENTITY_NOT_DESERIALIZABLE,
        summary="Keras 3.0-3.2.0 cannot load a saved model whose layer uses the Identity initializer",
        objects=("Identity", "keras.models.load_model"),
        mechanism="keras 3.0.5 keras/src/initializers/__init__.py ALL_OBJECTS lists OrthogonalInitializer but "
                  "not Identity (imported, never registered), so deserialize() cannot resolve 'Identity'.",
        upstream="not reported as such (a later bug with the 'IdentityInitializer' alias: "
                 "https://github.com/keras-team/keras/issues/20483)",
        fixed_in="keras 3.2.1",
    ),
    # ------------------------------------------------------------------ optimizers
    Finding(
        id="clip-conflict-accepted", declaration=CLIP_OPTIONS_ONE_APPLIED,
        summary="clipnorm (or global_clipnorm) with clipvalue is accepted and only one is applied: Keras 2 "
                "(documented as allowed) and Keras 3.0-3.2.0 (documented as exclusive)",
        objects=("every optimizer (the Keras base optimizer)",),
        mechanism="_clip_gradients returns after the first option set (clipnorm, else global_clipnorm, else "
                  "clipvalue): tf_keras tf_keras/src/optimizers/optimizer.py _clip_gradients, tf.keras 2.12 "
                  "keras/optimizers/optimizer.py the same, keras 3.0.5 keras/src/optimizers/base_optimizer.py "
                  "_clip_gradients. Keras 2's __init__ rejects only clipnorm with global_clipnorm and its "
                  "docstring describes each option as 'if set, ... clipped'; keras 3.0.5-3.2.0 __init__ check "
                  "only `clipnorm is not None and global_clipnorm is not None` although the docs say one option "
                  "at a time; 3.2.1 counts all three.",
        upstream="not reported",
        fixed_in="keras 3.2.1 (Keras 3; tf_keras 2.21 is still affected)",
    ),
    Finding(
        id="callable-lr-called-with-iterations", declaration=LR_CALLABLE_GETS_ITERATIONS,
        summary="Keras 3.0-3.2 call a callable learning rate with the iteration count; the documented "
                "zero-argument callable raises TypeError",
        objects=("every optimizer (the Keras base optimizer)",),
        mechanism="keras 3.0.5 keras/src/optimizers/base_optimizer.py _get_current_learning_rate: `return "
                  "self._learning_rate(self.iterations)` for a plain callable; 3.3.0 calls it with no argument.",
        upstream="https://github.com/keras-team/keras/issues/19411 (fixed by PR #19484)",
        fixed_in="keras 3.3.0",
    ),
    Finding(
        id="accumulation-counts-micro-steps", declaration=ACCUMULATION_EVERY_CALL,
        summary="Keras 3.0.2-3.4: with gradient_accumulation_steps, weight decay and clipping run on every "
                "call and `iterations` counts calls",
        objects=("every optimizer (the Keras base optimizer)",),
        mechanism="keras 3.0.5 keras/src/optimizers/base_optimizer.py apply: `_clip_gradients` and "
                  "`_apply_weight_decay` run before `_backend_apply_gradients`, whose accumulation branch only "
                  "gates update_step; `self.iterations.assign_add(1)` runs per call. 3.5.0 moves both into the "
                  "update branch and reports iterations as `_iterations // steps`.",
        upstream="https://github.com/keras-team/keras/issues/19990 (fixed by PR #19998)",
        fixed_in="keras 3.5.0",
    ),
    Finding(
        id="mirrored-no-allreduce", declaration=MIRRORED_NOT_SUMMED,
        summary="Keras 3 before 3.5 does not sum the replicas' gradients under tf.distribute.MirroredStrategy",
        objects=("every optimizer (TensorFlow backend)",),
        mechanism="keras 3.0.5 keras/src/backend/tensorflow/optimizer.py _backend_update_step merge_calls "
                  "_distributed_tf_update_step, which runs distribution.extended.update(var, update_step, "
                  "args=(grad,)) on the per-replica gradient with no all-reduce; 3.2.1-3.4 reduce inside the "
                  "merge function (read from the sources, not run); 3.5.0 all-reduces before the merge.",
        upstream="https://github.com/keras-team/keras/issues/19308 (open; a user report of the missing sum)",
        fixed_in="keras 3.5.0",
    ),
    Finding(
        id="sparse-repeated-indices-adam", declaration=SPARSE_DUPLICATES,
        summary="Keras 3 (TensorFlow backend) does not sum repeated indices of an IndexedSlices gradient: "
                "Adam row 0 -> 0.8586 instead of 0.9000",
        objects=("Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Ftrl", "Adafactor",
                 "Lamb"),
        mechanism="keras/src/backend/tensorflow/optimizer.py assign / assign_add / assign_sub scatter the "
                  "IndexedSlices as they are; update_step (e.g. keras/src/optimizers/adam.py) squares each slice "
                  "separately, so duplicates give g1^2 + g2^2 instead of (g1 + g2)^2. tf_keras deduplicates first "
                  "(tf_keras/src/optimizers/optimizer.py _deduplicate_sparse_grad).",
        upstream="not reported (a related performance thread: https://github.com/keras-team/keras/issues/19992)",
    ),
    Finding(
        id="rmsprop-centered-sparse-crash", declaration=RMSPROP_CENTERED_SPARSE_CRASH,
        summary="Keras 3 (TensorFlow backend) RMSprop(centered=True) raises InvalidArgumentError on an "
                "IndexedSlices gradient with a repeated index",
        objects=("RMSprop",),
        mechanism="With centered=True, keras/src/optimizers/rmsprop.py update_step ops.divide's two IndexedSlices, "
                  "which goes through keras/src/backend/tensorflow/sparse.py indexed_slices_union_indices_and_values; "
                  "its position map is built with tf.scatter_nd(indices, range(1, n + 1)), and scatter_nd sums "
                  "repeated positions (1 + 2 = 3 for [0, 0]), so the following tf.gather reads past the end. "
                  "centered=False and unique indices do not reach it.",
        upstream="not reported",
    ),
    Finding(
        id="loss-scale-iterations-on-skip", declaration=LOSS_SCALE_SKIP_COUNTS,
        summary="Keras 2 LossScaleOptimizer advances the inner optimizer's `iterations` on a skipped "
                "(non-finite) step",
        objects=("mixed_precision.LossScaleOptimizer (Keras 2)",),
        mechanism="tf_keras/src/mixed_precision/loss_scale_optimizer.py LossScaleOptimizerV3.apply_gradients, "
                  "do_not_apply_fn: `self._optimizer.iterations.assign_add(1)`, deliberately (a comment says "
                  "so); tf.keras 2.12 keras/mixed_precision/loss_scale_optimizer.py the same. Keras 3 leaves the "
                  "count alone.",
        upstream="not reported (the Keras 3 counterpart https://github.com/keras-team/keras/issues/20878 is about "
                 "the wrapper's own counter)",
    ),
    Finding(
        id="nadam-mirrored-u-product", declaration=NADAM_MIRRORED_U_PRODUCT,
        summary="Keras 2 Nadam under MirroredStrategy (two devices) trains differently from one device: its "
                "u_product stops updating after step 1",
        objects=("Nadam (Keras 2: tf.keras 2.12-2.15, tf_keras)",),
        mechanism="keras 2.15.0 keras/optimizers/nadam.py (the same in tf_keras 2.21.0 tf_keras/src/optimizers/"
                  "nadam.py): build sets the Python int `self._u_product_counter = 1`; update_step chooses "
                  "`tf.cond(self._u_product_counter == self.iterations + 2, cached, compute_new)` and "
                  "compute_new does `self._u_product_counter += 1` -- at trace time. Under MirroredStrategy "
                  "update_step is traced once per device, so two devices advance the counter by 2 per step and "
                  "from step 2 on the cached (stale) u_product is used. Keras 3 updates u_product once per step "
                  "in _backend_update_step.",
        upstream="not reported (tensorflow/tensorflow#32960 is an older Nadam + MirroredStrategy crash, TF 2.0)",
        fixed_in="keras 3.0.0",
    ),
    Finding(
        id="loss-scale-eager-jax", declaration=LOSS_SCALE_EAGER_JAX,
        summary="Keras 3 LossScaleOptimizer on JAX: eager apply_gradients raises UnexpectedTracerError (jit and "
                "model.fit work)",
        objects=("LossScaleOptimizer (Keras 3, JAX backend)",),
        mechanism="keras/src/optimizers/loss_scale_optimizer.py apply: `ops.cond(finite, handle_finite_grads, "
                  "handle_non_finite_grads)`; on JAX ops.cond is jax.lax.cond, which traces both branches, and "
                  "the branches assign the inner optimizer's and the wrapper's variables (stateful), so traced "
                  "values escape into the variables. Keras's JAX trainer calls stateless_apply inside jax.jit, "
                  "where the JAX-specific stateless path returns the state instead; a design note in "
                  "keras-team/keras-core#851 says JAX control flow here needs that path. Keras's "
                  "LossScaleOptimizer documentation does not say eager use is unsupported on JAX.",
        upstream="not reported (related: https://github.com/keras-team/keras/issues/19244, LossScaleOptimizer in "
                 "custom JAX loops undocumented)",
    ),
    Finding(
        id="nadam-loss-scale-u-product", declaration=NADAM_LOSS_SCALE_U_PRODUCT,
        summary="Keras 3 Nadam inside a LossScaleOptimizer on JAX (jax.jit, model.fit): u_product stays 1.0, so "
                "every step after the first differs from Nadam",
        objects=("Nadam wrapped in LossScaleOptimizer (Keras 3; trains wrong on the JAX backend)",),
        mechanism="keras/src/optimizers/loss_scale_optimizer.py: `build` is decorated "
                  "`@tracking.no_automatic_dependency_tracking` and calls `self.inner_optimizer.build(var_list)` "
                  "inside it; keras/src/optimizers/nadam.py build creates `self._u_product = "
                  "backend.Variable(1.0, ...)` by attribute assignment, which only automatic tracking adds to "
                  "the optimizer's variables (momentums and velocities go through add_variable and are kept). "
                  "`LossScaleOptimizer.variables` is its own plus `inner_optimizer.variables`, so u_product is in "
                  "neither; the JAX stateless path (`stateless_apply` maps only `variables`) reads the variable's "
                  "initial value on every step and drops the update. Eager updates on TensorFlow and torch "
                  "assign in place and are right; the missing variable also means a saved weights file lacks it "
                  "(not checked here).",
        upstream="not reported",
    ),
    Finding(
        id="nadam-resume-keras2", declaration=NADAM_RESUME,
        summary="Keras 2 Nadam restored from a checkpoint multiplies its u_product once per variable: resumed "
                "training differs from uninterrupted training",
        objects=("Nadam (Keras 2)",),
        mechanism="tf_keras/src/optimizers/nadam.py build (`self._u_product_counter = 1`, a Python int) and "
                  "update_step: the product is multiplied unless `_u_product_counter == iterations + 2`; a "
                  "restored optimizer has iterations = 1 but the counter at 1, so the first and second variable "
                  "both multiply. tf.keras 2.12 keras/optimizers/nadam.py is identical; Keras 3 has no counter "
                  "(and 3.0.x optimizers cannot be checkpointed: the reproduction says 'not applicable').",
        upstream="not reported",
    ),
    Finding(
        id="adam-float64-betas", declaration=FLOAT64_BETAS,
        summary="Adam() on float64 variables: the betas enter the bias corrections rounded to float32 "
                "(one step off by 6.7e-6 relative)",
        objects=("Adam", "AdamW"),
        mechanism="Keras 3 keras/src/optimizers/adam.py update_step: `ops.power(ops.cast(self.beta_1, "
                  "variable.dtype), local_step)`; tf_keras tf_keras/src/optimizers/adam.py and tf.keras 2.12 "
                  "keras/optimizers/adam.py the same with tf.cast. tf.cast of a Python float makes a float32 "
                  "tensor first; the moment updates use the exact Python (1 - beta).",
        upstream=f"not reported for Keras (root cause: {_TF_CAST})",
    ),
    Finding(
        id="nadam-float64-constants", declaration=FLOAT64_CONSTANTS,
        summary="Nadam on float64 variables: the 0.96 of its momentum schedule is rounded to float32 "
                "(one step off by 1e-9 to 5e-9 relative)",
        objects=("Nadam",),
        mechanism="Keras 3 keras/src/optimizers/nadam.py update_step: `decay = ops.cast(0.96, var_dtype)` "
                  "(float32(0.96) in mu_t and mu_t+1) while _backend_update_step builds u_product with "
                  "`ops.power(0.96, ...)` in float64; tf_keras tf_keras/src/optimizers/nadam.py and tf.keras 2.12 "
                  "keras/optimizers/nadam.py use `tf.cast(0.96, var_dtype)` everywhere. The reproduction matches "
                  "each form exactly.",
        upstream=f"not reported for Keras (root cause: {_TF_CAST})",
    ),
    Finding(
        id="torch-weight-decay-float32", declaration=TORCH_WEIGHT_DECAY_FLOAT32,
        summary="On the torch backend a float64 variable's decoupled weight decay uses a float32 factor "
                "1 - wd * lr",
        objects=("every Keras 3 optimizer with weight_decay (the torch backend's optimizer base)",),
        mechanism="keras/src/backend/torch/optimizers/torch_optimizer.py TorchOptimizer._apply_weight_decay: "
                  "`torch._foreach_mul_(variables, 1 - self.weight_decay * self._get_current_learning_rate())`, "
                  "a float32 tensor (the learning-rate variable). The other backends use "
                  "keras/src/optimizers/base_optimizer.py _apply_weight_decay, which casts lr and wd to the "
                  "variable's dtype and assigns w - w * wd * lr.",
        upstream="not reported",
    ),
    Finding(
        id="torch-float64-maximum", declaration=TORCH_FLOAT64_MAXIMUM,
        summary="On the torch backend keras.ops.maximum / minimum of float64 tensors are float32: float64 "
                "clipnorm is rounded to float32",
        objects=("keras.ops.maximum", "keras.ops.minimum", "clipnorm of every Keras 3 optimizer"),
        mechanism="keras/src/backend/torch/numpy.py maximum and minimum cast both inputs to "
                  "dtypes.result_type(x1.dtype, x2.dtype); keras/src/backend/common/dtypes.py "
                  "_lattice_result_type ends with BIT64_TO_BIT32_DTYPE, which maps float64 to float32 on every "
                  "backend but TensorFlow ('aligned with JAX's default'). Other torch ops (divide, where, sqrt, "
                  "clip) keep float64. BaseOptimizer._clip_by_norm divides by ops.maximum(l2norm, clipnorm).",
        upstream="not reported",
    ),
    Finding(
        id="torch-truncated-normal-dtype", declaration=TORCH_TRUNCATED_NORMAL_DTYPE,
        summary="On the torch backend of Keras 3.0-3.1 truncated-normal draws and initializers ignore the dtype: "
                "always float32",
        objects=("keras.random.truncated_normal; GlorotNormal, HeNormal, LecunNormal, TruncatedNormal, "
                 "VarianceScaling(distribution='truncated_normal') (Keras 3.0-3.1, torch backend)",),
        mechanism="keras 3.0.5 keras/src/backend/torch/random.py truncated_normal draws "
                  "`normal(shape + (4,), dtype=dtype)`, then `trunc_x = torch.empty(shape, device=...)` -- no "
                  "dtype, so torch's default float32 -- and copies the chosen draws into it; float64 values are "
                  "rounded to float32 and float16/bfloat16 ones widened. 3.2.0 passes `dtype=dtype` to "
                  "torch.empty.",
        upstream="not reported (fixed in keras 3.2.0)",
        fixed_in="keras 3.2.0",
    ),
    Finding(
        id="torch-truncated-normal-outside", declaration=TORCH_TRUNCATED_NORMAL_OUTSIDE,
        summary="On the torch backend truncated-normal draws can fall outside the documented +-2 std cut "
                "(about 4 per million)",
        objects=("keras.random.truncated_normal", "TruncatedNormal", "GlorotNormal", "HeNormal", "LecunNormal",
                 "VarianceScaling(distribution='truncated_normal')"),
        mechanism="keras/src/backend/torch/random.py truncated_normal draws shape + (4,) normal candidates, marks "
                  "those inside (-2, 2) and takes `valid.max(-1)` as the index of the first valid one; when no "
                  "candidate is valid that index is 0 and the out-of-range first candidate is returned. The "
                  "TensorFlow backend's tf.random.stateless_truncated_normal redraws until inside. The same "
                  "lines are in the keras 3.0.0, 3.5.0 and 3.10.0 wheels (source read; only 3.15.1 was run).",
        upstream="not reported",
    ),
    Finding(
        id="torch-python-float-float32", declaration=TORCH_PYTHON_FLOAT_FLOAT32,
        summary="On the torch backend keras.ops.add / subtract / multiply / power round a Python float operand to "
                "float32 before combining it with a float64 tensor",
        objects=("keras.ops.add", "keras.ops.subtract", "keras.ops.multiply", "keras.ops.power",
                 "Lamb (1 - beta_2 in the float64 second moment)"),
        mechanism="keras/src/backend/torch/numpy.py add, subtract, multiply and power call convert_to_tensor on "
                  "both operands; keras/src/backend/torch/core.py convert_to_tensor gives a Python float "
                  "without a dtype the floatx dtype (float32), and torch then promotes the rounded value to "
                  "float64. divide passes Python scalars to torch unconverted and stays exact; the TensorFlow "
                  "backend converts the scalar in the tensor's dtype.",
        upstream="not reported",
    ),
    Finding(
        id="torch-float64-mean", declaration=TORCH_FLOAT64_MEAN,
        summary="On the torch backend, and on JAX with JAX_ENABLE_X64=1, keras.ops.mean of a float64 tensor is "
                "computed in float32; Adafactor's float64 step is rounded through it (on torch through ops.maximum "
                "/ minimum too)",
        objects=("keras.ops.mean", "Adafactor (its RMS of the variable and of the update)"),
        mechanism="keras/src/backend/torch/numpy.py mean casts to compute_dtype = "
                  "dtypes.result_type(x.dtype, 'float32') before torch.mean and back after; result_type maps "
                  "float64 to float32 on every backend but TensorFlow (the mechanism of torch-float64-maximum); "
                  "keras/src/backend/jax/numpy.py mean does the same, seen where JAX has float64 (x64 on). "
                  "keras/src/optimizers/adafactor.py update_step: _rms = sqrt(mean(square(x))), "
                  "alpha_t = maximum(epsilon_2, _rms(variable)) * rho_t, rho_t = minimum(lr, 1 / sqrt(t)).",
        upstream="not reported",
    ),
    Finding(
        id="ftrl-l2-doubled", declaration=FTRL_DOCSTRING_L2,
        summary="Ftrl divides by ... + 2*l2_regularization_strength; its docstring (and McMahan et al. 2013) "
                "write lambda_2",
        objects=("Ftrl",),
        mechanism="keras/src/optimizers/ftrl.py update_step: `ops.divide(ops.power(new_accum, -lr_power), lr), "
                  "2 * l2_reg`; tf_keras tf_keras/src/optimizers/ftrl.py and tf.keras 2.12 "
                  "keras/optimizers/ftrl.py `... / lr + 2 * l2_reg`. TensorFlow's ApplyFtrl op documents the "
                  "doubled form; the Keras docstring's formula has lambda_2: a documentation mismatch.",
        upstream="not reported",
    ),
    Finding(
        id="adafactor-relative-step-cap", declaration=ADAFACTOR_DOCSTRING_RELATIVE_STEP,
        summary="Adafactor caps the step at min(learning_rate, 1/sqrt(t)) even with relative_step=False",
        objects=("Adafactor",),
        mechanism="keras/src/optimizers/adafactor.py update_step: `rho_t = ops.minimum(lr, 1 / "
                  "ops.sqrt(local_step))`, unconditional; relative_step only switches the learning-rate schedule "
                  "earlier in the method. tf_keras tf_keras/src/optimizers/adafactor.py and tf.keras 2.12 "
                  "keras/optimizers/adafactor.py are identical.",
        upstream="not reported",
    ),
)


def catalogue_entry(finding_id: str) -> Finding:
    """The catalogue entry named ``finding_id``; ``KeyError`` listing the known ids otherwise."""
    for entry in CATALOGUE:
        if entry.id == finding_id:
            return entry
    raise KeyError(f"no finding {finding_id!r}; known: {', '.join(e.id for e in CATALOGUE)}")


def moved_to_findings(module: str, names: tuple[str, ...]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``names`` that moved here in 0.2, with a DeprecationWarning."""

    def getattr_(name: str) -> Any:
        if name in names:
            import warnings

            warnings.warn(f"{module}.{name} moved to initcheck.builtin.findings in 0.2; the old path will be "
                          "removed in 0.3", DeprecationWarning, stacklevel=2)
            return globals()[name]
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return getattr_
