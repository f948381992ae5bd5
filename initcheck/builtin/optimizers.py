"""Built-in specs: every optimizer the installed Keras ships.

Each spec pairs a Keras optimizer class with a reference rule from
:mod:`initcheck.references.optimizers` (written from the papers and the Keras
documentation, never from Keras code) and names the conventions the Keras
docs state where frameworks differ:

* Adam/AdamW: ``epsilon_form="epsilon_hat"`` -- the Keras docstring: "This
  epsilon is 'epsilon hat' in the Kingma and Ba paper (in the formula just
  before Section 2.1), not the epsilon in Algorithm 1".
* RMSprop, Adagrad: ``epsilon_placement="inside_sqrt"``.
* SGD: ``momentum_form="lr_inside"`` (``velocity = momentum * velocity -
  learning_rate * g``).
* Nadam: ``nadam_schedule="keras_0.96_pow_t"``.
* Ftrl: ``ftrl_l2="doubled"`` as TensorFlow's ``ApplyFtrl`` documents; the
  Keras docstring writes ``lambda_2`` (the paper's), which the separate spec
  ``Ftrl-docstring`` holds it to (a declared, versioned expected failure).
* Every optimizer: weight decay ``w -= lr * weight_decay * w`` before the
  update (decoupled, scaled by the learning rate).

Keras 2 and Keras 3 differ in a few documented defaults (Lion's learning
rate: 1e-4 in Keras 2, 1e-3 in Keras 3) and capabilities (gradient
accumulation is Keras 3 only); the spec says which holds where.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import keras_compat as kc
from ..optimizer_spec import OptimizerSpec, epsilons, float32_exact, learning_rates, unit_interval
from ..references.optimizers import RULES
from ..spec import ExpectedFailure

__all__ = ["builtin_specs", "OUT_OF_SCOPE", "keras_factory", "COMMON_TAGS"]

#: Public Keras optimizer names deliberately without a spec, and why.
OUT_OF_SCOPE: dict[str, str] = {
    "Optimizer": "abstract base class",
    "OptimizerMap": "routes variables to other optimizers (Keras >= 3.13); it has no update rule of its own",
    "MultiOptimizer": "routes variables to other optimizers; it has no update rule of its own",
    "LossScaleOptimizer": "a wrapper: covered by check_loss_scaling on every spec tagged 'loss_scaling'",
    "Muon": ("Keras >= 3.10: Newton-Schulz orthogonalised momentum with an AdamW fallback chosen by "
             "layer path; its reference (Jordan et al. 2024) is not written yet"),
    "ScheduleFreeAdamW": ("Keras >= 3.12: schedule-free averaging (Defazio et al. 2024) whose trainable "
                          "variables are an interpolation, not the iterate; reference not written yet"),
}

#: Tags every Keras optimizer spec carries (then adjusted per optimizer).
COMMON_TAGS = frozenset({
    "keras_object", "trajectory", "lr_zero_fixed", "zero_grad_fixed", "descent", "sparse", "weight_decay",
    "ema", "accumulation", "loss_scaling", "clipping", "lr_callable", "lr_schedule", "checkpoint",
    "distributed", "config", "defaults",
})

#: Capabilities that exist only in some Keras versions: ``gradient_accumulation_steps`` from
#: Keras 3.0.2 (3.0.0-3.0.1 reject it); on Keras 3.0.x the TensorFlow-backend optimizer is
#: not a TF Trackable, so ``tf.train.Checkpoint`` refuses it (3.1.0 adds KerasAutoTrackable).
TAG_VERSIONS = {"accumulation": "keras>=3.0.2", "checkpoint": "keras!=3.0.*"}


def keras_factory(class_name: str) -> Callable[..., Any]:
    """``factory(**kwargs)`` building ``keras.optimizers.<class_name>`` of the Keras in use."""

    def factory(**kwargs: Any) -> Any:
        return kc.optimizer_class(class_name)(**kwargs)

    factory.__name__ = f"keras_{class_name}"
    return factory


def _bools() -> Any:
    from hypothesis import strategies as st

    return st.booleans()


def _momenta() -> Any:
    from hypothesis import strategies as st

    return st.one_of(st.just(0.0), unit_interval(0.0, 0.99))


def _floats(lo: float, hi: float) -> Any:
    from hypothesis import strategies as st

    return st.floats(lo, hi).map(float32_exact)


#: Rules whose documented update is element-wise (each entry reads only its own gradient and
#: state): their specs carry the ``elementwise`` tag, which ``check_elementwise`` verifies.
#: LAMB (per-variable trust ratio) and Adafactor (factored moments, RMS clipping) are not.
ELEMENTWISE_RULES = frozenset({"sgd", "adam", "adamax", "nadam", "rmsprop", "adagrad", "adadelta", "ftrl", "lion"})

#: Tags saying how the other rules couple entries (the batched seed ensemble refuses them).
COUPLING_TAGS = {"lamb": "layerwise", "adafactor": "factored"}


def _spec(name: str, rule: str, space: dict, defaults: dict, *, drop: tuple = (), add: tuple = (),
          conventions: Optional[dict] = None, expected: Optional[dict] = None, description: str = "",
          class_name: Optional[str] = None, **extra: Any) -> OptimizerSpec:
    tags = set(COMMON_TAGS - set(drop)) | set(add)
    tags.add("elementwise" if rule in ELEMENTWISE_RULES else COUPLING_TAGS.get(rule, "non_elementwise"))
    return OptimizerSpec(
        name=name, factory=keras_factory(class_name or name), rule=RULES[rule], space=space,
        conventions=conventions or {}, defaults=defaults, tags=frozenset(tags),
        tag_versions={t: v for t, v in TAG_VERSIONS.items() if t in tags}, namespace="keras",
        expected_failures={**early_keras3_findings(frozenset(tags)), **(expected or {})}, description=description,
        **extra,
    )


# ------------------------------------------------------------------ findings
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
)

MIRRORED_NOT_SUMMED = ExpectedFailure(
    reason=("Keras 3 before 3.5 does not sum the replicas' gradients under tf.distribute.MirroredStrategy on "
            "CPU: 3.0-3.2.0 have no all-reduce, 3.2.1-3.4 call it inside the merge function where the replica "
            "context is gone; 3.5.0 all-reduces before the merge"),
    versions="keras>=3.0,<3.5",
    evidence=("keras 3.0.5 on two logical CPUs: SGD under MirroredStrategy differs from one device by 180x the "
              "tolerance (check_mirrored_strategy); 3.2.1-3.4.1 bounded from the source "
              "(backend/tensorflow/optimizer.py `_all_reduce_sum_gradients` inside `merge_call`), not run"),
)

#: The findings above, by the capability tag whose check they break.
EARLY_KERAS3_FINDINGS = {
    "clipping": ("check_clipping", CLIP_CONFLICT_ACCEPTED),
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
)

LOSS_SCALE_SKIP_COUNTS = ExpectedFailure(
    reason=("Keras 2's LossScaleOptimizer advances the inner optimizer's `iterations` on a skipped (non-finite) "
            "step, so rules with bias corrections or step schedules continue at t+1: the run is not the inner "
            "optimizer on the finite gradients; Keras 3 does not advance it"),
    versions="keras>=2.11,<3",
    evidence=("tf_keras 2.21.0: Adam(0.01) wrapped, grads [1.0] then [nan]: inner iterations 1 -> 2 while w stays "
              "0.0900001; float64, beta_1=beta_2=0.5, eps=1e-3, lr=0.01, scale 1024, nan at step 2 of 4: "
              "0.105387 vs 0.105552 on the finite gradients alone (keras 3.15.1: iterations stay 1, check passes)"),
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
)

FLOAT64_CONSTANTS = ExpectedFailure(
    reason=("on float64 variables, Python-float constants of the rule (Nadam's 0.96 schedule base and "
            "0.5) are cast through float32 (`ops.cast(0.999, 'float64')` converts to a float32 tensor "
            "first), so a float64 optimizer carries float32-level errors (~1e-7 relative) in its bias corrections"),
    versions="keras>=2.11",
    evidence=("Nadam float64, float32-exact betas (beta_1=0.1, beta_2=0, epsilon=1e-8), lr=1e-4, w0 and g from "
              "seed 0, 5 steps: the rule ends at 0.10327279661034; Keras 3.15.1 at 0.10327279661054 (49x the "
              "float64 tolerance), tf_keras 2.21.0 at 0.10327279661067 (81x)"),
)


FLOAT64_BETAS = ExpectedFailure(
    reason=("on float64 variables Adam's documented betas (0.9, 0.999) enter the bias corrections rounded to "
            "float32 (a Python float is converted to a float32 tensor before the cast to float64), so the "
            "float64 trajectory carries float32-level error"),
    versions="keras>=2.11",
    evidence=("Adam() defaults, float64 w=[0.1], g=[0.003], one step: Keras 3.15.1 moves w by 0.000998940396, "
              "the documented rule in float64 by 0.000998947065 (relative 6.7e-6); tf_keras 2.21.0 over 5 steps "
              "at lr=1e-4: 0.10324277553 vs 0.10324277736 (4.3x the float64 tolerance)"),
)


def builtin_specs() -> list[OptimizerSpec]:
    """A spec for every optimizer of the installed Keras (except :data:`OUT_OF_SCOPE`)."""
    keras3 = kc.keras_major() >= 3
    eps = epsilons()
    b = unit_interval
    specs = [
        _spec("SGD", "sgd", {"momentum": _momenta(), "nesterov": _bools()},
              {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
              add=("momentum", "nesterov"), conventions={"momentum_form": "lr_inside"},
              description="SGD with (Nesterov) momentum; learning rate inside the velocity"),
        _spec("Adam", "adam", {"beta_1": b(), "beta_2": b(), "epsilon": eps, "amsgrad": _bools()},
              {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
              add=("amsgrad",), conventions={"epsilon_form": "epsilon_hat"},
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS},
              description="Adam / AMSGrad with Keras's epsilon-hat"),
        _spec("AdamW", "adam", {"beta_1": b(), "beta_2": b(), "epsilon": eps, "amsgrad": _bools(),
                                "weight_decay": _floats(0.0, 0.5)},
              {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
               "amsgrad": False},
              add=("amsgrad",), conventions={"epsilon_form": "epsilon_hat"}, default_weight_decay=0.004,
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS},
              description="Adam with decoupled weight decay (default 0.004, scaled by the learning rate)"),
        _spec("Adamax", "adamax", {"beta_1": b(), "beta_2": b(), "epsilon": eps},
              {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS}),
        _spec("Nadam", "nadam", {"beta_1": b(0.0, 0.99), "beta_2": b(), "epsilon": eps},
              {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
              conventions={"nadam_schedule": "keras_0.96_pow_t"}, dtypes=("float32",),
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS,
                        "check_checkpoint_resume": NADAM_RESUME},
              description="Nadam; float64 is checked by the Nadam-float64 spec (its constants are rounded to float32)"),
        _spec("Nadam-float64", "nadam", {"beta_1": b(0.0, 0.99), "beta_2": b(), "epsilon": eps},
              {}, drop=tuple(COMMON_TAGS - {"trajectory", "keras_object"}), class_name="Nadam",
              conventions={"nadam_schedule": "keras_0.96_pow_t"}, dtypes=("float64",),
              expected={"check_trajectory_matches_reference": FLOAT64_CONSTANTS},
              description="Nadam on float64 variables (documentation: the 0.96 schedule, in the variable's dtype)"),
        _spec("Adam-float64-defaults", "adam", {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
              {}, drop=tuple(COMMON_TAGS - {"trajectory", "keras_object"}), class_name="Adam",
              conventions={"epsilon_form": "epsilon_hat"}, dtypes=("float64",),
              expected={"check_trajectory_matches_reference": FLOAT64_BETAS},
              description="Adam on float64 variables at the documented (not float32-exact) betas"),
        _spec("RMSprop", "rmsprop", {"rho": b(), "momentum": _momenta(), "epsilon": eps, "centered": _bools()},
              {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False},
              add=("momentum", "centered"), conventions={"epsilon_placement": "inside_sqrt"},
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES}),
        _spec("Adagrad", "adagrad", {"initial_accumulator_value": _floats(0.0, 1.0), "epsilon": eps},
              {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
              conventions={"epsilon_placement": "inside_sqrt"},
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES}),
        _spec("Adadelta", "adadelta", {"rho": b(), "epsilon": eps},
              {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES}),
        _spec("Ftrl", "ftrl", _ftrl_space(), _FTRL_DEFAULTS, drop=("lr_zero_fixed", "zero_grad_fixed", "descent"),
              conventions={"ftrl_l2": "doubled"},
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES},
              description="FTRL-Proximal; l2 doubled as TensorFlow's ApplyFtrl documents"),
        _spec("Ftrl-docstring", "ftrl", _ftrl_space(l2_min=0.05), _FTRL_DEFAULTS,
              drop=tuple(COMMON_TAGS - {"trajectory", "keras_object"}), conventions={"ftrl_l2": "paper"},
              class_name="Ftrl",
              expected={"check_trajectory_matches_reference": ExpectedFailure(
                  reason=("the Keras Ftrl docstring (and McMahan et al. 2013, Algorithm 1) divide by "
                          "(beta + sqrt(n)) / alpha + lambda_2; Keras computes ... + 2 * lambda_2"),
                  versions="keras>=2.11",
                  evidence="any l2_regularization_strength > 0 moves w off the documented formula")},
              description="Ftrl held to its own docstring's lambda_2 (documentation finding)"),
        _spec("Adafactor", "adafactor", _adafactor_space(), _ADAFACTOR_DEFAULTS,
              conventions={"adafactor_relative_step": "always"},
              expected={"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS},
              description="Adafactor; the step is capped at 1/sqrt(t) in every case"),
        _spec("Adafactor-docstring", "adafactor", {**_adafactor_space(), "relative_step": False},
              _ADAFACTOR_DEFAULTS, drop=tuple(COMMON_TAGS - {"trajectory", "keras_object"}),
              conventions={"adafactor_relative_step": "documented"}, class_name="Adafactor",
              learning_rate=learning_rates(0.6, 1.0),
              expected={"check_trajectory_matches_reference": ExpectedFailure(
                  reason=("Keras documents that relative_step=True adjusts a constant learning rate, "
                          "implying relative_step=False does not; Keras caps the step at min(lr, 1/sqrt(t)) "
                          "whatever relative_step says"),
                  versions="keras>=2.11",
                  evidence=("relative_step=False, constant lr=0.6: from step 3 on Keras steps with "
                            "min(0.6, 1/sqrt(3)) = 0.577 instead of 0.6 (keras 3.15.1, tf_keras 2.21.0)"))},
              description="Adafactor held to its docstring on relative_step=False (documentation finding)"),
    ]
    # Lion is public from Keras 2.13 (TF 2.13) on; tf.keras 2.12 has no Lion.
    if "Lion" in kc.public_optimizer_names():
        # Keras 2 and 3 both reject beta_1 = 0 ("degenerates to SignSGD").
        specs.append(_spec("Lion", "lion", {"beta_1": b(0.001), "beta_2": b()},
                           {"learning_rate": 0.001 if keras3 else 0.0001, "beta_1": 0.9, "beta_2": 0.99},
                           # Lion is linear in g up to the sign of c, so repeated indices do not matter.
                           description="Lion (sign of interpolated momentum); default lr 1e-3 in Keras 3, "
                                       "1e-4 in Keras 2"))
    if "Lamb" in kc.public_optimizer_names():
        specs.append(_spec("Lamb", "lamb", {"beta_1": b(), "beta_2": b(), "epsilon": eps},
                           {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
                           expected={"check_sparse_matches_dense": SPARSE_DUPLICATES}))
    return specs


_FTRL_DEFAULTS = {"learning_rate": 0.001, "learning_rate_power": -0.5, "initial_accumulator_value": 0.1,
                  "l1_regularization_strength": 0.0, "l2_regularization_strength": 0.0,
                  "l2_shrinkage_regularization_strength": 0.0, "beta": 0.0}

_ADAFACTOR_DEFAULTS = {"learning_rate": 0.001, "beta_2_decay": -0.8, "epsilon_1": 1e-30, "epsilon_2": 1e-3,
                       "clip_threshold": 1.0, "relative_step": True}


def _ftrl_space(l2_min: float = 0.0) -> dict:
    return {
        "learning_rate_power": _floats(-1.0, 0.0),
        "initial_accumulator_value": _floats(0.01, 1.0),
        "l1_regularization_strength": _floats(0.0, 0.5),
        "l2_regularization_strength": _floats(l2_min, 1.0),
        "l2_shrinkage_regularization_strength": _floats(0.0, 0.5),
        "beta": _floats(0.0, 1.0),
    }


def _adafactor_space() -> dict:
    from hypothesis import strategies as st

    return {
        "beta_2_decay": _floats(-1.0, -0.5),
        "epsilon_1": st.sampled_from([1e-30, 1e-20, 1e-10, 1e-4]).map(float32_exact),
        "epsilon_2": epsilons(1e-4, 1.0),
        "clip_threshold": _floats(0.5, 4.0),
        "relative_step": st.just(True),
    }
