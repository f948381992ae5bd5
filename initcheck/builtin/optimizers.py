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

from typing import Any, Callable, Mapping, Optional, Sequence, Union

from .. import keras_compat as kc
from ..dtypes import float32_exact
from ..references.optimizers import RULES
from ..spec import OptimizerSpec
from ..strategies import epsilons, learning_rates, unit_interval
from .findings import (ADAFACTOR_DOCSTRING_RELATIVE_STEP, FLOAT64_BETAS, FLOAT64_CONSTANTS, FTRL_DOCSTRING_L2,
                       LOSS_SCALE_EAGER_JAX, LOSS_SCALE_SKIP_COUNTS, NADAM_LOSS_SCALE_U_PRODUCT,
                       NADAM_MIRRORED_U_PRODUCT, NADAM_RESUME, RMSPROP_CENTERED_SPARSE_CRASH,
                       SPARSE_DUPLICATES, TORCH_FLOAT64_MAXIMUM, TORCH_FLOAT64_MEAN,
                       TORCH_PYTHON_FLOAT_FLOAT32, TORCH_WEIGHT_DECAY_FLOAT32, early_keras3_findings,
                       moved_to_findings)

__all__ = ["builtin_specs", "OUT_OF_SCOPE", "keras_factory", "COMMON_TAGS"]

#: Moved to :mod:`initcheck.builtin.findings` in 0.2 (kept importable from here for one release).
_MOVED_FINDINGS = ("CLIP_CONFLICT_ACCEPTED", "LR_CALLABLE_GETS_ITERATIONS", "ACCUMULATION_EVERY_CALL",
                   "MIRRORED_NOT_SUMMED", "EARLY_KERAS3_FINDINGS", "early_keras3_findings", "SPARSE_DUPLICATES",
                   "LOSS_SCALE_SKIP_COUNTS", "NADAM_RESUME", "FLOAT64_CONSTANTS", "FLOAT64_BETAS")


__getattr__ = moved_to_findings(__name__, _MOVED_FINDINGS)

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


def _spec(name: str, rule: str, space: dict, defaults: dict, *, drop: tuple = (), add: tuple = (),
          conventions: Optional[dict] = None, expected: Union[Mapping[str, Any], Sequence[Mapping[str, Any]], None] = None,
          description: str = "",
          class_name: Optional[str] = None, **extra: Any) -> OptimizerSpec:
    tags = set(COMMON_TAGS - set(drop)) | set(add)
    # How the rule couples entries (elementwise, layerwise, factored) is a capability the spec carries;
    # check_elementwise verifies the elementwise claim, the batched seed ensemble relies on it.
    tags.add(RULES[rule].coupling)
    # Each check gets every declaration that concerns it (one per cause, each matched on its own failure);
    # ``expected`` may be several tables, joined by _merged so that a check named in two keeps both.
    tables = [expected] if isinstance(expected, Mapping) else list(expected or ())
    expected_failures = _merged(early_keras3_findings(frozenset(tags)), *tables,
                                {"check_loss_scaling": LOSS_SCALE_EAGER_JAX} if "loss_scaling" in tags else {})
    return OptimizerSpec(
        name=name, factory=keras_factory(class_name or name), rule=RULES[rule], space=space,
        conventions=conventions or {}, defaults=defaults, tags=frozenset(tags),
        tag_versions={t: v for t, v in TAG_VERSIONS.items() if t in tags}, namespace="keras",
        expected_failures=expected_failures, description=description,
        **extra,
    )


def _merged(*tables: Mapping[str, Any]) -> dict[str, Any]:
    """``{check: declaration or [declarations]}`` tables joined: a check named twice carries the list of both."""
    out: dict[str, list] = {}
    for table in tables:
        for check, value in table.items():
            out.setdefault(check, []).extend(value if isinstance(value, (list, tuple)) else [value])
    return {check: items[0] if len(items) == 1 else items for check, items in out.items()}


#: Torch-backend findings (scoped ``backends=("torch",)``: nothing changes elsewhere), declared where the
#: ``ci`` gate on torch has a failing case: a drawn one, or the designed float64 case that check_weight_decay,
#: check_clipping (clipnorm), check_accumulation_matches_mean_step, check_loss_scaling and
#: check_learning_rate_forms run on every spec with float64
#: (measured 2026-12-03/04, keras 3.15.1, torch 2.13.0; each attributed by replaying the failing case without the
#: cause, and on 2026-12-04 the whole set by the replay of docs/data/backends/torch_float64_patched.py: with the
#: ops patched every one of these items passes, and each declaration's own patch is the one that mends it).
#: Beside the early-Keras-3 findings on the same checks (a check carries one declaration per cause).
#: _TORCH_WD: float64 weight decay (check_weight_decay); _TORCH_WD_ACC: the same on
#: check_accumulation_matches_mean_step (its float64 cases carry weight_decay 0.1); _TORCH_CLIPNORM: float64
#: clipnorm through keras.ops.maximum (check_clipping, cases without weight decay).  _TORCH_LAMB: a Python float
#: rounded to float32 by ops.multiply & co. (1 - beta_2); _TORCH_ADAFACTOR: float64 ops.mean and maximum/minimum
#: computed in float32 (its RMS), beside the weight-decay finding where the case has weight decay.  Each attributed
#: by replaying the failing case with the op patched to keep float64 (docs/backends.md).
_TORCH_WD = {"check_weight_decay": TORCH_WEIGHT_DECAY_FLOAT32}
_TORCH_WD_ACC = {"check_accumulation_matches_mean_step": TORCH_WEIGHT_DECAY_FLOAT32}
_TORCH_CLIPNORM = {"check_clipping": TORCH_FLOAT64_MAXIMUM}
_TORCH_LAMB = {check: TORCH_PYTHON_FLOAT_FLOAT32
               for check in ("check_trajectory_matches_reference", "check_learning_rate_forms", "check_ema",
                             "check_clipping", "check_loss_scaling")}  # loss scaling: its small-beta designed case
_TORCH_ADAFACTOR = {check: TORCH_FLOAT64_MEAN
                    for check in ("check_trajectory_matches_reference", "check_learning_rate_forms", "check_ema",
                                  "check_weight_decay", "check_accumulation_matches_mean_step", "check_clipping",
                                  "check_loss_scaling")}


def builtin_specs(every_release: bool = False) -> list[OptimizerSpec]:
    """A spec for every optimizer of the installed Keras (except :data:`OUT_OF_SCOPE`).

    Args:
        every_release: Also the specs of optimizers the installed Keras lacks (Lion before TF 2.13, Lamb before
            Keras 3.5), for listings that must not depend on the installed versions (the findings catalogue:
            which checks each finding is declared on).  Never run them: their classes may not exist here.
    """
    keras3 = kc.keras_major() >= 3
    public = set(kc.public_optimizer_names()) | (set(_RELEASE_DEPENDENT) if every_release else set())
    eps = epsilons()
    b = unit_interval
    specs = [
        _spec("SGD", "sgd", {"momentum": _momenta(), "nesterov": _bools()},
              {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
              add=("momentum", "nesterov"), conventions={"momentum_form": "lr_inside"},
              expected=(_TORCH_CLIPNORM, _TORCH_WD, _TORCH_WD_ACC),
              description="SGD with (Nesterov) momentum; learning rate inside the velocity"),
        _spec("Adam", "adam", {"beta_1": b(), "beta_2": b(), "epsilon": eps, "amsgrad": _bools()},
              {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
              add=("amsgrad",), conventions={"epsilon_form": "epsilon_hat"},
              expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS},
                        _TORCH_WD, _TORCH_WD_ACC, _TORCH_CLIPNORM),
              description="Adam / AMSGrad with Keras's epsilon-hat"),
        _spec("AdamW", "adam", {"beta_1": b(), "beta_2": b(), "epsilon": eps, "amsgrad": _bools(),
                                "weight_decay": _floats(0.0, 0.5)},
              {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
               "amsgrad": False},
              add=("amsgrad",), conventions={"epsilon_form": "epsilon_hat"}, default_weight_decay=0.004,
              expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS},
                        {check: TORCH_WEIGHT_DECAY_FLOAT32  # its default weight decay reaches every float64 case
                         for check in ("check_trajectory_matches_reference", "check_ema", "check_clipping",
                                       "check_learning_rate_forms", "check_loss_scaling")},
                        _TORCH_WD, _TORCH_WD_ACC),
              description="Adam with decoupled weight decay (default 0.004, scaled by the learning rate)"),
        _spec("Adamax", "adamax", {"beta_1": b(), "beta_2": b(), "epsilon": eps},
              {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
              expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS},
                        _TORCH_WD, _TORCH_WD_ACC, _TORCH_CLIPNORM)),
        _spec("Nadam", "nadam", {"beta_1": b(0.0, 0.99), "beta_2": b(), "epsilon": eps},
              {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
              conventions={"nadam_schedule": "keras_0.96_pow_t"}, dtypes=("float32",),
              expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES, "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS,
                         "check_checkpoint_resume": NADAM_RESUME, "check_mirrored_strategy": NADAM_MIRRORED_U_PRODUCT},
                        {"check_loss_scaling": NADAM_LOSS_SCALE_U_PRODUCT}),
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
              expected=({"check_sparse_matches_dense": [SPARSE_DUPLICATES, RMSPROP_CENTERED_SPARSE_CRASH]},
                        _TORCH_WD, _TORCH_WD_ACC, _TORCH_CLIPNORM)),
        _spec("Adagrad", "adagrad", {"initial_accumulator_value": _floats(0.0, 1.0), "epsilon": eps},
              {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
              conventions={"epsilon_placement": "inside_sqrt"},
              expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES}, _TORCH_WD, _TORCH_WD_ACC,
                        _TORCH_CLIPNORM)),
        _spec("Adadelta", "adadelta", {"rho": b(), "epsilon": eps},
              {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
              expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES}, _TORCH_WD, _TORCH_WD_ACC, _TORCH_CLIPNORM)),
        _spec("Ftrl", "ftrl", _ftrl_space(), _FTRL_DEFAULTS, drop=("lr_zero_fixed", "zero_grad_fixed", "descent"),
              conventions={"ftrl_l2": "doubled"},
              expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES}, _TORCH_WD, _TORCH_WD_ACC,
                        _TORCH_CLIPNORM),
              description="FTRL-Proximal; l2 doubled as TensorFlow's ApplyFtrl documents"),
        _spec("Ftrl-docstring", "ftrl", _ftrl_space(l2_min=0.05), _FTRL_DEFAULTS,
              drop=tuple(COMMON_TAGS - {"trajectory", "keras_object"}), conventions={"ftrl_l2": "paper"},
              class_name="Ftrl",
              expected={"check_trajectory_matches_reference": FTRL_DOCSTRING_L2},
              description="Ftrl held to its own docstring's lambda_2 (documentation finding)"),
        _spec("Adafactor", "adafactor", _adafactor_space(), _ADAFACTOR_DEFAULTS,
              conventions={"adafactor_relative_step": "always"},
              expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES,
                         "check_loss_scaling": LOSS_SCALE_SKIP_COUNTS},
                        _TORCH_ADAFACTOR, _TORCH_WD, _TORCH_WD_ACC),
              description="Adafactor; the step is capped at 1/sqrt(t) in every case"),
        _spec("Adafactor-docstring", "adafactor", {**_adafactor_space(), "relative_step": False},
              _ADAFACTOR_DEFAULTS, drop=tuple(COMMON_TAGS - {"trajectory", "keras_object"}),
              conventions={"adafactor_relative_step": "documented"}, class_name="Adafactor",
              learning_rate=learning_rates(0.6, 1.0),
              expected={"check_trajectory_matches_reference": ADAFACTOR_DOCSTRING_RELATIVE_STEP},
              description="Adafactor held to its docstring on relative_step=False (documentation finding)"),
    ]
    specs += [build(keras3, eps) for name, build in _RELEASE_DEPENDENT.items() if name in public]
    return specs


def _lion(keras3: bool, eps: Any) -> OptimizerSpec:
    # Keras 2 and 3 both reject beta_1 = 0 ("degenerates to SignSGD").  Lion is linear in g up to the sign of c,
    # so repeated sparse indices do not matter (no SPARSE_DUPLICATES).
    return _spec("Lion", "lion", {"beta_1": unit_interval(0.001), "beta_2": unit_interval()},
                 {"learning_rate": 0.001 if keras3 else 0.0001, "beta_1": 0.9, "beta_2": 0.99},
                 expected=(_TORCH_WD, _TORCH_WD_ACC),
                 description="Lion (sign of interpolated momentum); default lr 1e-3 in Keras 3, 1e-4 in Keras 2")


def _lamb(keras3: bool, eps: Any) -> OptimizerSpec:
    return _spec("Lamb", "lamb", {"beta_1": unit_interval(), "beta_2": unit_interval(), "epsilon": eps},
                 {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
                 expected=({"check_sparse_matches_dense": SPARSE_DUPLICATES}, _TORCH_WD, _TORCH_WD_ACC, _TORCH_LAMB))


#: The optimizers only some supported Keras releases have, each with its spec's builder: Lion is public from
#: Keras 2.13 (TF 2.13) on, Lamb from Keras 3.5.  The one table both the installed-Keras listing and
#: ``builtin_specs(every_release=True)`` read.
_RELEASE_DEPENDENT: dict[str, Callable[[bool, Any], OptimizerSpec]] = {"Lion": _lion, "Lamb": _lamb}


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
