"""The teeth table: for every registered check, a wrong double it catches and a right object it passes.

One row per (check, wrong double).  ``catches`` is the node id of the teeth
test that asserts the check fails on the wrong double (with a
``CheckFailure`` whose evidence names that check); ``passes`` is the node id
of the test in which the right object passes the same check -- the same
node when one test does both.  Every node id is under tests/teeth.

test_completeness.py holds the table to the registry: every registered check
(:func:`initcheck.checks.all_checks`) has a row, every row names a
registered check, and every node id exists.  A new check, layer kind or
optimizer capability therefore comes with its teeth.
"""

from __future__ import annotations

from typing import NamedTuple


class Row(NamedTuple):
    check: str
    wrong: str
    right: str
    catches: str
    passes: str


_S = "tests/teeth/test_structural.py::"
_P = "tests/teeth/test_power_table.py::test_wrong_initializer_is_caught"
_D = "tests/teeth/test_distribution.py::"
_L = "tests/teeth/test_layers.py::"
_T = "tests/teeth/test_structured.py::"
_G = "tests/teeth/test_propagation.py::"
_V = "tests/teeth/test_convergence.py::"
_O = "tests/teeth/test_optimizer.py::"
_TI = "tests/teeth/test_ties.py::"
_DE = "tests/teeth/test_dependence.py::"
_SE = "tests/teeth/test_seeds.py::"

_GLOROT = "Keras GlorotUniform"
_EXACT = "the exact NumPy sampler of the same law"


def _structural() -> list[Row]:
    catch = _S + "test_check_catches_wrong_initializer[{}]"
    good = _S + "test_check_passes_correct_initializer[{}]"
    return [
        Row("check_output_contract", "GlorotUniform that returns float32 when float16 is asked", _GLOROT,
            catch.format("float32 when float16 asked"), good.format("check_output_contract")),
        Row("check_output_contract", "GlorotUniform whose values are all NaN", _GLOROT,
            catch.format("returns NaN"), good.format("check_output_contract")),
        Row("check_seed_contract", "GlorotUniform that ignores its seed", _GLOROT,
            catch.format("ignores its seed"), good.format("check_seed_contract")),
        Row("check_seed_contract", "GlorotUniform that treats seed=0 as unseeded (`if seed:`)", _GLOROT,
            catch.format("ignores seed=0"), good.format("check_seed_contract")),
        Row("check_symmetry_breaking", "GlorotUniform with every row a copy of the first", _GLOROT,
            catch.format("tiles one row"), good.format("check_symmetry_breaking")),
        Row("check_global_rng_untouched", "GlorotUniform that draws from NumPy's global RNG", _GLOROT,
            catch.format("disturbs global NumPy state"), good.format("check_global_rng_untouched")),
        Row("check_config_round_trip", "GlorotUniform subclass whose get_config drops the seed", _GLOROT,
            catch.format("loses its config"), good.format("check_config_round_trip")),
        Row("check_repeat_call", "GlorotUniform declared seeded_repeat='different'",
            "GlorotUniform declared seeded_repeat='same'",
            _S + "test_repeat_call_declaration_is_enforced", _S + "test_repeat_call_declaration_is_enforced"),
        Row("check_exact_values", "Zeros declared as Constant(1)", "Zeros declared as Constant(0)",
            _S + "test_exact_values_catch_a_wrong_constant", _S + "test_exact_values_catch_a_wrong_constant"),
        Row("check_keras_save_load", "initializer class not registered for Keras serialization", _GLOROT,
            _S + "test_save_load_catches_unregistered_custom_class",
            _S + "test_save_load_catches_unregistered_custom_class"),
    ]


def _power(check: str, row: str, wrong: str) -> Row:
    node = f"{_P}[{row}]"
    return Row(check, wrong, _EXACT, node, node)


def _marginal() -> list[Row]:
    law_fit = f"{_P}[uniform instead of normal, equal variance]"
    return [
        _power("check_variance", "std off by +1%", "N(0, 0.05^2) sampled with std x1.01"),
        _power("check_variance", "std off by -1%", "N(0, 0.05^2) sampled with std x0.99"),
        _power("check_variance", "fan_in/fan_out swapped (64 x 1024)", "He law drawn at swapped fans"),
        _power("check_variance", "missing truncated-normal correction (x0.8796)",
               "truncated normal without the 0.8796 std correction"),
        _power("check_variance", "receptive field ignored (conv 3x3x64x128)", "He law without the receptive field"),
        _power("check_law_fit", "uniform instead of normal, equal variance", "uniform values for a normal law"),
        _power("check_law_fit", "truncation at +-3 sigma instead of +-2 sigma", "normal cut at 3 sigma, not 2"),
        Row("check_law_fit", "one NaN among the values", _EXACT, _D + "test_non_finite_values_fail", law_fit),
        _power("check_mean", "mean shifted by 0.01 sigma", "N(0, 0.05^2) shifted by 0.01 sigma"),
        Row("check_mean", "kernel of the transposed shape", _EXACT, _D + "test_wrong_shape_is_a_clear_failure",
            _D + "test_wrong_shape_is_a_clear_failure"),
        _power("check_tails", "5 per million clamped to the support edge (uniform)", "5e-6 of values at the edge"),
        _power("check_tails", "5 per million clamped to the support edge (truncated normal)",
               "5e-6 of values at the cut"),
        Row("check_tails", "5e-6 of N(0, 0.05^2) values at 8 std", _EXACT,
            _D + "test_tails_pass_unbounded_laws_and_catch_outliers",
            _D + "test_tails_pass_unbounded_laws_and_catch_outliers"),
        _power("check_support", "5 per million escaped beyond the support", "5e-6 of values 1.5x beyond the cut"),
        Row("check_support", "one value one float32 ulp beyond the cut", _EXACT,
            _D + "test_truncation_is_exact_at_dtype_precision", _D + "test_truncation_is_exact_at_dtype_precision"),
        Row("check_support", "float64 uniform draws at limits rounded through float32 (Keras 3's)",
            "the same generator at the law's limits; NumPy's uniform (not applicable, passes)",
            _D + "test_float64_limits_rounded_through_float32_are_caught",
            _D + "test_float64_limits_rounded_through_float32_are_caught"),
        _power("check_independence", "right marginal, rows correlated (rho = 0.05)",
               "right marginal, rows correlated 0.05"),
        Row("check_low_precision", "7-bit uniform grid (128 values) in float16/bfloat16",
            "exact uniform rounded to the dtype",
            _D + "test_low_precision_catches_a_coarse_grid_and_a_scale_error",
            _D + "test_low_precision_passes_the_rounded_law[uniform]"),
        Row("check_low_precision", "normal with std x1.01 in float16/bfloat16", "exact normal rounded to the dtype",
            _D + "test_low_precision_catches_a_coarse_grid_and_a_scale_error",
            _D + "test_low_precision_passes_the_rounded_law[normal]"),
    ]


def _blind_spots() -> list[Row]:
    """Issue #14: atoms, lost resolution, hidden dependence, colliding seeds (one power-table row per class too)."""
    atoms = _TI + "test_atoms_are_caught_and_the_exact_sampler_passes[{}-{}]"
    lost = _TI + "test_lost_resolution_is_caught_and_the_exact_sampler_passes[{}]"
    fixed = _TI + "test_a_full_mantissa_fixed_point_uniform_passes[float32-23]"
    paired = _DE + "test_designed_pairings_catch_distant_partners[{}]"
    shared = _DE + "test_rank_table_catches_dependence_shared_by_all_pairs[{}]"
    seeds = _SE + "test_mangled_seeds_collide_on_designed_pairs[{}]"
    rows = [Row("check_atoms", f"{wrong} ({dtype})", _EXACT, atoms.format(wrong, dtype), atoms.format(wrong, dtype))
            for wrong in ("clip at +-3 sigma", "clip where truncation at 2 sigma was meant", "0.1 % constant fallback",
                          "0.05 % saturation at each edge") for dtype in ("float32", "float64")]
    rows.append(Row("check_atoms", "clip at +-3 sigma (power table)", "a 23-bit fixed-point uniform (the null's edge)",
                    f"{_P}[clip at +-3 sigma (atoms of 0.135 % at the cuts)]", fixed))
    rows += [Row("check_resolution", wrong, _EXACT, lost.format(wrong), lost.format(wrong))
             for wrong in ("normal computed in bfloat16", "normal computed in float16", "uniform from 16 random bits",
                           "float64 normal computed in float32", "float64 uniform from 32 random bits")]
    rows.append(Row("check_resolution", "uniform from 16 random bits (power table)",
                    "a 23-bit fixed-point uniform (5x the rounded law's ties)",
                    f"{_P}[uniform from 16 random bits (7 bits lost)]", fixed))
    rows += [Row("check_pair_dependence", wrong, _EXACT, paired.format(wrong), paired.format(wrong))
             for wrong in ("antithetic second half", "quarter block tiled", "correlation 0.05 at stride 64",
                           "magnitudes copied half a kernel away", "magnitudes correlated 0.3 half a kernel away")]
    rows += [Row("check_pair_dependence", "float64 antithetic half on a rank-3 kernel (mirror count)", _EXACT,
                 _DE + "test_exact_mirrors_are_counted_in_float64_on_any_shape",
                 _DE + "test_non_symmetric_and_bounded_laws_pass"),
             Row("check_pair_dependence", "correlation 0.05 at flat stride 64 (power table)", _EXACT,
                 f"{_P}[correlation 0.05 at flat stride 64]", f"{_P}[correlation 0.05 at flat stride 64]")]
    rows += [Row("check_rank_independence", wrong, _EXACT, shared.format(wrong),
                 _DE + "test_non_symmetric_and_bounded_laws_pass")
             for wrong in ("one random scale per kernel", "one shared component per kernel")]
    rows.append(Row("check_rank_independence", "all entries of a kernel correlated 0.1 (power table)", _EXACT,
                    f"{_P}[all entries of a kernel correlated 0.1 (one shared component)]",
                    f"{_P}[all entries of a kernel correlated 0.1 (one shared component)]"))
    twin = "default_rng(seed); a zig-zag map keeping the sign"
    rows += [Row("check_seed_collisions", f"seed mangled: {bug}", twin, seeds.format(bug), seeds.format(bug))
             for bug in ("seed % 1000", "seed & 0xFFFF (16 bits)", "seed & 0xFFFFFFFF (32 bits)", "abs(seed)")]
    rows += [Row("check_seed_collisions", "seeds outside the declared range truncated silently",
                 "the same, raising ValueError outside the range", _SE + "test_a_declared_range_is_enforced_both_ways",
                 _SE + "test_a_declared_range_is_enforced_both_ways"),
             Row("check_seed_collisions", "numpy.int64 seeds treated as no seed", "numpy seeds rejected with TypeError",
                 _SE + "test_numpy_integer_seeds_must_draw_like_python_ints_or_raise",
                 _SE + "test_numpy_integer_seeds_must_draw_like_python_ints_or_raise"),
             Row("check_seed_collisions", "negative seeds crash with RuntimeError", twin,
                 _SE + "test_an_unclear_error_for_an_undocumented_seed_fails",
                 seeds.format("seed % 1000")),
             Row("check_seed_collisions", "seed folded modulo 1000 (power table)", twin,
                 f"{_P}[seed folded modulo 1000]", f"{_P}[seed folded modulo 1000]")]
    return rows


#: Every layer kind of initcheck.checks.layers.LAYER_KINDS, written out (a new kind needs a row).
LAYER_KINDS = ("dense", "conv1d", "conv2d", "conv3d", "depthwise_conv2d", "separable_conv2d", "conv1d_transpose",
               "conv2d_transpose", "conv3d_transpose", "einsum_dense", "multi_head_attention", "embedding", "lstm",
               "gru", "simple_rnn")


def _layers() -> list[Row]:
    rows = [Row(f"check_layer_variance_{kind}", "declared Normal(0.05), samples std 0.1", _EXACT,
                f"{_L}test_layer_variance_catches_a_wrong_std[{kind}]",
                f"{_L}test_layer_variance_catches_a_wrong_std[{kind}]") for kind in LAYER_KINDS]
    oracle = [
        ("dense", "He law drawn at fan_out (swapped fans)", "He law at fan_in",
         "test_dense_layer_passes_a_correct_spec_and_catches_swapped_fans"),
        ("conv2d_transpose", "He law at Keras's (swapped) transposed-conv fans", "Glorot law (fan_avg)",
         "test_transposed_conv_fan_in_is_caught_and_fan_avg_is_not_falsely_flagged"),
        ("depthwise_conv2d", "He law at fan_in counting the input channels", "law at fan_out",
         "test_depthwise_and_recurrent_oracles"),
        ("lstm", "law at fan_out counting all four gates", "law at fan_in", "test_depthwise_and_recurrent_oracles"),
    ]
    rows += [Row(f"check_layer_variance_{kind}", wrong, right, _L + test, _L + test)
             for kind, wrong, right, test in oracle]
    rows.append(Row("check_layer_independence_multi_head_attention",
                    "seeded NumPy initializer: identical query/key/value kernels",
                    "stateful NumPy initializer: a fresh draw per call",
                    _L + "test_mha_kernels_must_be_independent_draws",
                    _L + "test_mha_kernels_must_be_independent_draws"))
    return rows


def _structured() -> list[Row]:
    haar = f"{_P}[orthogonal without the sign correction (not Haar)]"
    angle = _T + "test_haar_passes_sign_corrected_qr_and_angle_check_catches_uncorrected"
    return [
        Row("check_orthogonality", "orthogonal matrix without its gain 2.5", "sign-corrected QR times the gain",
            _T + "test_orthogonality_in_both_orientations[shape0]",
            _T + "test_orthogonality_in_both_orientations[shape0]"),
        Row("check_haar", "QR without Mezzadri's sign correction (not Haar)", "sign-corrected QR", haar, haar),
        Row("check_haar_rotation_angle", "QR without Mezzadri's sign correction (2x2 angle not uniform)",
            "sign-corrected QR", angle, angle),
        Row("check_spectrum", "rows correlated 0.3 (Marchenko-Pastur broken)", "i.i.d. normal, uniform, truncated",
            _T + "test_spectrum_matches_marchenko_pastur_and_sees_correlated_rows",
            _T + "test_spectrum_matches_marchenko_pastur_and_sees_correlated_rows"),
    ]


def _propagation() -> list[Row]:
    keep = _G + "test_builtin_specs_keep_their_signal[{}]"
    return [
        Row("check_signal_propagation", "GlorotUniform declared for relu (r ~ 0.5 per layer)", "HeNormal for relu",
            _G + "test_negative_control_glorot_relu_vanishes", keep.format("HeNormal")),
        Row("check_signal_propagation", "N(0, 0.01^2) declared for relu (signal vanishes)", "HeNormal for relu",
            _G + "test_negative_control_small_normal_relu_vanishes", keep.format("HeNormal")),
        Row("check_signal_propagation", "N(0, 1) declared for relu (signal explodes)", "HeNormal for relu",
            _G + "test_negative_control_standard_normal_relu_explodes", keep.format("HeNormal")),
        Row("check_signal_propagation", "gain 5/3 declared for tanh (gradients grow)", "GlorotUniform for tanh",
            _G + "test_negative_control_tanh_gain_five_thirds_gradients_grow", keep.format("GlorotUniform")),
        Row("check_signal_propagation_conv", "GlorotNormal declared for relu (conv)", "HeUniform for relu (conv)",
            _G + "test_negative_control_glorot_relu_conv_vanishes", _G + "test_builtin_conv_variant_passes"),
        Row("check_linear_isometry", "Gaussian values claiming the orthogonal law", "Keras Orthogonal",
            _G + "test_isometry_check_passes_orthogonal_and_catches_gaussian",
            _G + "test_isometry_check_passes_orthogonal_and_catches_gaussian"),
    ]


def _convergence() -> list[Row]:
    gate = _V + "test_gate_check_passes_he_and_catches_a_mislabelled_spec"
    thorough = _V + "test_thorough_check_passes_glorot_and_catches_a_mislabelled_spec"
    return [
        Row("check_trains_deep_relu", "He's law drawing GlorotUniform values (q = 1)", "HeNormal", gate, gate),
        Row("check_convergence_expectations", "Glorot's law drawing HeNormal values (q = 2: SGD does not stall)",
            "GlorotUniform", thorough, thorough),
    ]


#: (check, wrong double) of the planted optimizer bugs (common.optimizer_bugs.CASES).
OPTIMIZER_BUGS = (
    ("check_trajectory_matches_reference", "eps_sign", "Adam with epsilon subtracted"),
    ("check_trajectory_matches_reference", "eps_inside", "Adam with epsilon inside the square root"),
    ("check_trajectory_matches_reference", "no_bias_correction", "Adam without bias correction"),
    ("check_trajectory_at_defaults", "no_bias_correction", "Adam without bias correction"),
    ("check_trajectory_matches_reference", "momentum_twice", "SGD applying momentum twice"),
    ("check_weight_decay", "decay_unscaled", "SGD decaying weights without the learning rate"),
    ("check_sparse_matches_dense", "sparse_sorted", "SGD sorting sparse indices but not their values"),
    ("check_checkpoint_resume", "hidden_step", "Adam counting steps in an untracked variable"),
    ("check_weights_file_resume", "hidden_step", "Adam counting steps in an untracked variable"),
    ("check_clipping", "momentum_twice", "SGD applying momentum twice"),
    ("check_learning_rate_forms", "momentum_twice", "SGD applying momentum twice"),
    ("check_ema", "momentum_twice", "SGD applying momentum twice"),
    ("check_loss_scaling", "momentum_twice", "SGD applying momentum twice"),
    ("check_mirrored_strategy", "replica_mean", "SGD averaging the replicas' gradients (Keras sums)"),
)


def _optimizer() -> list[Row]:
    rows = []
    for check, bug, wrong in OPTIMIZER_BUGS:
        node = f"{_O}test_wrong_optimizer_is_caught[{check}-{bug}]"
        rows.append(Row(check, wrong, "the built-in Keras spec", node, node))
    clipping = f"{_O}test_wrong_optimizer_is_caught[check_clipping-momentum_twice]"
    drift = _O + "test_invariant_checks_catch_a_drifting_optimizer[{}]"
    contract = "tests/teeth/test_optimizer_contract.py::"
    rows += [Row("check_optimizer_contract", wrong, "Keras SGD", f"{contract}test_contract_catches[{node}]",
                 f"{contract}test_contract_passes_keras_sgd")
             for node, wrong in (("factory raises", "optimizer whose factory raises"),
                                 ("step raises", "optimizer whose apply_gradients raises"),
                                 ("NaN after one step", "SGD with a NaN learning rate (NaN weights after one step)"),
                                 ("inf after one step", "optimizer that sets the weights to inf"))]
    rows += [
        Row("check_clipping", "SGD accepting clipnorm with global_clipnorm (drops one)", "Keras SGD",
            _O + "test_clip_check_catches_accepted_conflict", clipping),
        Row("check_clipping", "SGD dropping clipvalue when a norm clip is also set (Keras 2 allows both)",
            "SGD applying both clips, in either order",
            "tests/teeth/test_clip_combinations.py::test_check_clipping_runs_the_documented_combinations",
            "tests/teeth/test_clip_combinations.py::test_check_clipping_runs_the_documented_combinations"),
        Row("check_sparse_matches_dense", "SGD applying momentum twice (the dense control part; the sparse part "
            "still runs)", "the built-in Keras spec", _O + "test_multi_part_checks_report_every_part",
            f"{_O}test_wrong_optimizer_is_caught[check_sparse_matches_dense-sparse_sorted]"),
        Row("check_config_round_trip", "SGD whose get_config drops momentum", "Keras SGD",
            _O + "test_config_round_trip_catches_a_forgotten_hyperparameter",
            _O + "test_config_round_trip_catches_a_forgotten_hyperparameter"),
        Row("check_accumulation_matches_mean_step", "a reference that counts micro-steps as updates",
            "Keras Adam against the update-counting reference",
            _O + "test_accumulation_catches_wrong_step_count", _O + "test_accumulation_catches_wrong_step_count"),
        Row("check_documented_defaults", "Adam whose beta_2 defaults to 0.99", "Keras Adam",
            _O + "test_defaults_check_catches_wrong_default", _O + "test_defaults_check_catches_wrong_default"),
        Row("check_elementwise", "Adafactor (factored moments) tagged elementwise", "Keras Adam",
            _O + "test_elementwise_check_catches_a_coupling_rule_tagged_elementwise[Adafactor]",
            _O + "test_elementwise_check_passes_an_elementwise_rule_on_the_same_case"),
        Row("check_elementwise", "LAMB (per-variable trust ratio) tagged elementwise", "Keras Adam",
            _O + "test_elementwise_check_catches_a_coupling_rule_tagged_elementwise[Lamb]",
            _O + "test_elementwise_check_passes_an_elementwise_rule_on_the_same_case"),
        Row("check_lr_zero_leaves_weights", "SGD moving every weight by +0.01 per step", "Keras SGD",
            drift.format("check_lr_zero_leaves_weights"), drift.format("check_lr_zero_leaves_weights")),
        Row("check_zero_gradient_leaves_weights", "SGD moving every weight by +0.01 per step", "Keras SGD",
            drift.format("check_zero_gradient_leaves_weights"), drift.format("check_zero_gradient_leaves_weights")),
        Row("check_small_step_decreases_quadratic", "SGD ascending (w += lr * g)", "Keras SGD",
            _O + "test_descent_check_catches_an_ascending_optimizer",
            _O + "test_descent_check_catches_an_ascending_optimizer"),
    ]
    return rows


TABLE: tuple[Row, ...] = tuple(_structural() + _marginal() + _blind_spots() + _layers() + _structured()
                               + _propagation() + _convergence() + _optimizer())
