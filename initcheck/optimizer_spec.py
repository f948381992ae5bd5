"""Optimizer specs: what an optimizer promises about its update rule.

An :class:`OptimizerSpec` names a factory, the hyperparameter space
(Hypothesis strategies, extreme but legal values included), the reference
rule (:mod:`initcheck.references.optimizers`) with the *named conventions*
the optimizer follows where frameworks differ, its documented defaults, and
capability tags that select the checks.  A tag may hold only for some
Keras versions (``tag_versions={"accumulation": "keras>=3.0.2"}``): the spec
states the range, so a capability missing from an old Keras is declared, not
hidden behind ``try/except``.

Like :class:`~initcheck.spec.InitializerSpec`, a spec is validated at
registration; an invalid one raises :class:`~initcheck.spec.SpecError`
naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Union

from .references.optimizers import Rule
from .spec import ExpectedFailure, SpecError, _as_expected, validate_name

__all__ = [
    "OptimizerSpec",
    "OPTIMIZER_TAGS",
    "OPTIMIZER_DTYPES",
    "float32_exact",
    "unit_interval",
    "epsilons",
    "learning_rates",
    "installed_keras",
]

OPTIMIZER_DTYPES: tuple[str, ...] = ("float32", "float64")

#: Capability tags an optimizer spec may carry (each selects checks).
OPTIMIZER_TAGS: Mapping[str, str] = {
    "keras_object": "a Keras optimizer (apply_gradients, iterations, get_config/from_config)",
    "trajectory": "the k-step trajectory equals the reference rule",
    "lr_zero_fixed": "learning rate 0 leaves the weights unchanged",
    "zero_grad_fixed": "a zero gradient from a fresh state leaves the weights unchanged",
    "descent": "a small step on a convex quadratic decreases the loss",
    "sparse": "accepts IndexedSlices gradients, equal to the dense gradient (repeated indices summed)",
    "momentum": "has a momentum hyperparameter",
    "nesterov": "has a nesterov flag",
    "amsgrad": "has an amsgrad flag",
    "centered": "has a centered flag",
    "weight_decay": "decoupled weight decay ``w -= lr * wd * w`` with exclusions",
    "ema": "exponential moving average of the weights (use_ema)",
    "accumulation": "gradient_accumulation_steps",
    "loss_scaling": "can be wrapped by a loss-scale optimizer",
    "clipping": "clipnorm, clipvalue and global_clipnorm",
    "lr_callable": "learning rate may be a zero-argument callable",
    "lr_schedule": "learning rate may be a LearningRateSchedule",
    "checkpoint": "state saves and restores with tf.train.Checkpoint",
    "distributed": "runs under tf.distribute.MirroredStrategy",
    "config": "get_config/from_config round trip",
    "defaults": "documented defaults are listed in ``defaults``",
    "elementwise": ("each entry's update reads only that entry's gradient and state, so a stacked variable "
                    "trains like separate ones (checked; the batched seed ensemble relies on it)"),
    "non_elementwise": "an entry's update reads other entries (the batched seed ensemble refuses it)",
    "layerwise": "the update reads per-variable statistics such as norms (LAMB's trust ratio)",
    "factored": "second moments are factored across axes (Adafactor)",
    "orthogonalized": "the update is orthogonalised over the whole matrix (Muon)",
}


def installed_keras() -> dict[str, str]:
    """Versions of TensorFlow and of the Keras in use, read without importing TensorFlow."""
    from . import keras_compat as kc

    return dict(kc.versions_without_import())


def float32_exact(x: float) -> float:
    """``x`` rounded to the nearest float32, as a Python float.

    Hyperparameters are drawn float32-exact so a float32 optimizer and the
    float64 reference start from the *same* number; otherwise ``1 - beta^t``
    for ``beta`` near 1 differs by the rounding of ``beta`` alone.
    """
    import numpy as np

    return float(np.float32(x))


def unit_interval(lo: float = 0.0, hi: float = 0.9999) -> Any:
    """Decay rates in ``{lo} U [max(lo, 1e-3), hi]``, the extremes near 0 and near 1 drawn often.

    Values in ``(0, 1e-3)`` are left out: Keras writes the moment updates in
    the incremental form ``m += (g - m) * (1 - beta)``, which for such betas
    cancels catastrophically in float32 (a zero gradient leaves a one-ulp
    residue ~6e-8 * v instead of ``beta * v``); that is a property of the
    algebraic form in float32, not of the rule, and would drown the checks.
    """
    from hypothesis import strategies as st

    floor = max(lo, 1e-3)
    edges = [v for v in (lo, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, hi) if lo <= v <= hi]
    return st.one_of(st.sampled_from(edges), st.floats(floor, hi)).map(float32_exact)


def epsilons(lo: float = 1e-8, hi: float = 10.0) -> Any:
    """Epsilons from ``lo`` to ``hi``, log-uniform, large ones included.

    A large epsilon is what makes a misplaced epsilon visible: at 1e-7 an
    epsilon inside instead of outside the root moves a 5-step trajectory by
    less than 1e-6.
    """
    from hypothesis import strategies as st

    return st.one_of(st.sampled_from([lo, 1e-3, 0.1, 1.0, hi]),
                     st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)).map(float32_exact)


def learning_rates(lo: float = 1e-4, hi: float = 0.5) -> Any:
    """Learning rates, log-uniform in ``[lo, hi]``."""
    from hypothesis import strategies as st

    return st.one_of(st.sampled_from([lo, 0.01, hi]),
                     st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)).map(float32_exact)


@dataclass(frozen=True)
class OptimizerSpec:
    """What an optimizer promises.

    Args:
        name: Short name, unique within its distribution (``Adam``).
        factory: ``factory(**kwargs) -> optimizer``.  ``kwargs`` holds
            ``learning_rate``, the hyperparameters of ``space`` and, for mode
            checks, Keras's common options (``clipnorm``, ``weight_decay``,
            ``use_ema``, ``gradient_accumulation_steps`` ...).
        rule: The reference :class:`~initcheck.references.optimizers.Rule`.
        space: ``{hyperparameter: Hypothesis strategy}`` for the rule's
            hyperparameters (legal values only, extremes included).  A value
            may also be a constant.
        conventions: ``{convention: value}`` for the rule's named conventions
            (where frameworks differ); unspecified ones take the rule's default.
        defaults: Documented default values (``learning_rate`` included) that
            ``check_documented_defaults`` compares with a default-built object.
        tags: Capability tags from :data:`OPTIMIZER_TAGS`.
        tag_versions: ``{tag: "keras>=3.0"}``: the tag holds only for those
            versions (requirement strings over ``keras`` and ``tensorflow``,
            ``;``-separated).
        learning_rate: Strategy for learning rates (default 1e-4..0.5).
        dtypes: Variable dtypes the optimizer supports.
        namespace: Overrides the distribution part of the qualified name.
        expected_failures: ``{check_name: ExpectedFailure or reason}``.
        description: One line for listings.
        min_rank: Smallest variable rank the rule accepts.
        default_weight_decay: The decay the optimizer applies when no
            ``weight_decay`` is passed (AdamW: 0.004); ``None`` for none.
    """

    name: str
    factory: Callable[..., Any]
    rule: Rule
    space: Mapping[str, Any] = field(default_factory=dict)
    conventions: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    tags: frozenset = frozenset()
    tag_versions: Mapping[str, str] = field(default_factory=dict)
    learning_rate: Any = None
    dtypes: tuple[str, ...] = OPTIMIZER_DTYPES
    namespace: Optional[str] = None
    expected_failures: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    min_rank: int = 1
    default_weight_decay: Optional[float] = None

    kind = "optimizer"

    # ------------------------------------------------------------ capabilities
    def has(self, tag: str) -> bool:
        """Does the spec carry ``tag`` for the installed Keras version?"""
        if tag not in self.tags:
            return False
        versions = self.tag_versions.get(tag)
        if not versions:
            return True
        return ExpectedFailure(reason="tag range", versions=versions).applies(installed_keras())

    def expected_failure(self, check: str) -> Optional[ExpectedFailure]:
        value = self.expected_failures.get(check)
        return None if value is None else _as_expected(value)

    def reference_hp(self, hparams: Mapping[str, Any]) -> dict[str, Any]:
        """Hyperparameters plus this spec's conventions, as the rule reads them."""
        out = dict(hparams)
        out.update(self.conventions)
        return out

    def hyperparameter_strategy(self, overrides: Optional[Mapping[str, Any]] = None) -> Any:
        """A strategy of hyperparameter dicts (constants become ``just``)."""
        from hypothesis import strategies as st

        parts = {}
        for key, value in {**dict(self.space), **dict(overrides or {})}.items():
            parts[key] = value if isinstance(value, st.SearchStrategy) else st.just(value)
        return st.fixed_dictionaries(parts)

    def learning_rate_strategy(self) -> Any:
        return self.learning_rate if self.learning_rate is not None else learning_rates()

    def build(self, learning_rate: Any, hparams: Mapping[str, Any], **options: Any) -> Any:
        """The optimizer for these hyperparameters and options.

        An option set to ``None`` means "not given": it neither reaches the
        factory nor overrides a drawn hyperparameter of the same name.
        """
        given = {k: v for k, v in options.items() if v is not None}
        kwargs = {k: v for k, v in {**dict(hparams), **given}.items() if v is not None}
        return self.factory(learning_rate=learning_rate, **kwargs)

    # -------------------------------------------------------------- validation
    def validate(self) -> None:
        """Raise :class:`SpecError` naming the first bad field."""
        name = validate_name(self.name)
        if self.factory is None or not callable(self.factory):
            raise SpecError(name, "factory", f"must be a callable (**kwargs) -> optimizer, got {self.factory!r}")
        if not isinstance(self.rule, Rule):
            raise SpecError(name, "rule", "must be an initcheck.references.optimizers.Rule "
                            f"(init/step functions), got {type(self.rule).__name__}")
        unknown = set(self.tags) - set(OPTIMIZER_TAGS)
        if unknown:
            raise SpecError(name, "tags", f"unknown tag(s) {sorted(unknown)}; known: {sorted(OPTIMIZER_TAGS)}")
        for tag, versions in dict(self.tag_versions).items():
            if tag not in self.tags:
                raise SpecError(name, "tag_versions", f"range given for tag {tag!r} that is not in tags")
            try:
                ExpectedFailure(reason="x", versions=versions).applies({"tensorflow": "2.0", "keras": "2.0"})
            except Exception as exc:
                raise SpecError(name, f"tag_versions[{tag!r}]", f"cannot parse {versions!r}: {exc}") from None
        if not isinstance(self.space, Mapping):
            raise SpecError(name, "space", "must map hyperparameter names to Hypothesis strategies or constants")
        extra = set(self.space) - set(self.rule.hyperparameters) - {"weight_decay"}
        if extra:
            raise SpecError(name, "space", f"hyperparameter(s) {sorted(extra)} are not read by rule "
                            f"{self.rule.name!r} (it reads {list(self.rule.hyperparameters)})")
        for conv, value in dict(self.conventions).items():
            if conv not in self.rule.conventions:
                raise SpecError(name, "conventions", f"rule {self.rule.name!r} has no convention {conv!r}; "
                                f"known: {sorted(self.rule.conventions)}")
            if value not in self.rule.conventions[conv]:
                raise SpecError(name, f"conventions[{conv!r}]",
                                f"{value!r} is not one of {self.rule.conventions[conv]}")
        if "defaults" in self.tags and "learning_rate" not in self.defaults:
            raise SpecError(name, "defaults", "tag 'defaults' needs at least the documented 'learning_rate'")
        for key, value in dict(self.defaults).items():
            if not isinstance(key, str):
                raise SpecError(name, "defaults", f"keys must be argument names, got {key!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise SpecError(name, f"defaults[{key!r}]", f"must be finite, got {value!r}")
        bad = [d for d in self.dtypes if d not in OPTIMIZER_DTYPES]
        if not self.dtypes or bad:
            raise SpecError(name, "dtypes", f"must be a non-empty subset of {OPTIMIZER_DTYPES}, got {self.dtypes!r}")
        if not isinstance(self.min_rank, int) or not 1 <= self.min_rank <= 3:
            raise SpecError(name, "min_rank", f"must be 1, 2 or 3, got {self.min_rank!r}")
        for tag, needs in (("nesterov", "momentum"),):
            if tag in self.tags and needs not in self.tags:
                raise SpecError(name, "tags", f"{tag!r} needs {needs!r}")
        coupled = sorted(set(self.tags) & {"non_elementwise", "layerwise", "factored", "orthogonalized"})
        if "elementwise" in self.tags and coupled:
            raise SpecError(name, "tags", f"'elementwise' contradicts {coupled}")
        for check, value in dict(self.expected_failures).items():
            _as_expected(value).validate(name, check)
        # Draw one example so a broken strategy fails now, not mid-run.
        try:
            from hypothesis import strategies as st

            for key, value in dict(self.space).items():
                if isinstance(value, st.SearchStrategy):
                    value.validate()
            strategy = self.learning_rate_strategy()
            if not isinstance(strategy, st.SearchStrategy):
                raise TypeError(f"learning_rate must be a Hypothesis strategy, got {type(strategy).__name__}")
            strategy.validate()
        except SpecError:
            raise
        except Exception as exc:
            raise SpecError(name, "space", f"invalid strategy: {type(exc).__name__}: {exc}") from None


SpaceValue = Union[Any, float, int, bool, str]
