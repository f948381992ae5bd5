"""Optimizer checks of every mode: sparse, clipped, scheduled, decayed, averaged, accumulated,
loss-scaled, resumed, distributed, reconfigured."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from hypothesis import strategies as st

from ...dtypes import float32_exact
from ...references.optimizers import clip_gradients
from ...strategies import optimizer_cases
from .. import register_check
from ..evidence import CheckFailure, Evidence, Parts, fail, ok
from .runner import (REPLICA_SUM_ULPS, Reference, case_rng, compare_to_reference, constant_lrs, expect_reference,
                     fresh_variables, gradient_sequence, has, initial_weights, reference, run_keras, same_setting,
                     tolerance)

__all__ = [
    "check_sparse_matches_dense", "check_clipping", "check_learning_rate_forms", "check_weight_decay", "check_ema",
    "check_accumulation_matches_mean_step", "check_loss_scaling", "check_checkpoint_resume",
    "check_mirrored_strategy", "check_config_round_trip", "rejected_clip_combinations", "allowed_clip_combinations",
    "assert_clip_combinations", "resume_learning_rate",
]


def _sparse_cases(spec: Any) -> Any:
    def rows(c: dict) -> Any:
        n = int(c["shapes"][0][0])
        return st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n + 2)
    base = optimizer_cases(spec, steps=3, n_vars=(1, 1)).filter(lambda c: len(c["shapes"][0]) >= 1)
    return base.flatmap(lambda c: st.lists(rows(c), min_size=int(c["steps"]), max_size=int(c["steps"])).map(
        lambda idx: dict(c, indices=idx)))


def _slices(case: Mapping[str, Any], grads_dense_rows: list[np.ndarray], s: int) -> tuple[Any, np.ndarray]:
    """IndexedSlices for step ``s`` (repeated indices allowed) and the equivalent dense gradient."""
    from ... import keras_compat as kc

    shape = tuple(case["shapes"][0])
    idx = list(case["indices"][s])
    values = grads_dense_rows[s][: len(idx)]
    dense = np.zeros(shape)
    for r, v in zip(idx, values):
        dense[r] += v
    return kc.indexed_slices(values.astype(case["dtype"]), idx, shape), dense.astype(case["dtype"]).astype(np.float64)


def _row_values(case: Mapping[str, Any]) -> list[np.ndarray]:
    rng = case_rng(case, 4)
    shape = tuple(case["shapes"][0])
    out = []
    for s in range(int(case["steps"])):
        n = len(case["indices"][s])
        v = rng.normal(0, 1, size=(n,) + shape[1:]) * float(case["grad_scale"])
        out.append(v.astype(case["dtype"]).astype(np.float64))
    return out


#: Repeated and unsorted rows in every step of the designed sparse cases (a 3-row variable).
DESIGNED_SPARSE_INDICES = ([0, 0, 2], [2, 1, 1, 2], [1, 0, 0, 0])


def _documented_hp(spec: Any) -> dict:
    """The spec's documented defaults of the hyperparameters its rule reads (the designed cases start there)."""
    return {k: v for k, v in dict(spec.defaults).items() if k in spec.space}


def designed_float64_cases(spec: Any, steps: int, **extra: Any) -> list[dict]:
    """One float64 case at the documented defaults (rounded to float32, as the drawn cases are), two rank-2
    variables, unit gradients and ``extra``; none when the spec has no float64.  The checks of the modes a
    backend runs through its own code (weight decay, clipnorm, accumulation, loss scaling, a schedule) run it.

    A float64 case is where a backend that computes part of a step in float32 shows (a float32 weight-decay
    factor, a float64 norm clipped through a float32 ``maximum``): the drawn cases reach float64 only by luck,
    so a strict declaration of such a difference could not hold in the derandomized gate.
    """
    if "float64" not in spec.dtypes:
        return []
    hp = {k: float32_exact(v) if isinstance(v, float) else v for k, v in _documented_hp(spec).items()}
    return [{"shapes": [[3, 2], [4, 2]], "dtype": "float64", "seed": 15, "grad_scale": 1.0,
             "lr": float32_exact(0.01), "hp": hp, "steps": steps, **extra}]


def small_decay_rates(spec: Any) -> dict:
    """The decay rates of the spec's rule (:attr:`~initcheck.references.optimizers.Rule.decay_rates`: Adam's
    betas, RMSprop's ``rho``) that it documents in (0, 1), each set to 0.001 rounded to float32; else ``{}``.

    ``1 - rate`` is then near 1, where a constant rounded to float32 inside a float64 update is off by up to
    6e-8 of the whole step (at the defaults ``1 - rate`` is small and the same rounding moves the step less
    than the float64 tolerance): the case that reaches such a rounding on purpose (Lamb's ``1 - beta_2`` on
    torch, ``torch-python-float-float32``).
    """
    return {k: float32_exact(0.001) for k, v in _documented_hp(spec).items()
            if k in spec.rule.decay_rates and isinstance(v, float) and 0.0 < v < 1.0}


def _loss_scaling_designed(spec: Any) -> list[dict]:
    """The float64 case at the defaults, and (rules with decay rates) the same case with small decay rates."""
    cases = designed_float64_cases(spec, 4, scale=1024.0, bad_step=1, bad="inf")
    rates = small_decay_rates(spec)
    return cases + [dict(c, hp=dict(c["hp"], **rates)) for c in cases if rates]


def designed_sparse_cases(spec: Any) -> list[dict]:
    """One case with the defaults, one per boolean option of the spec switched (``centered``, ``amsgrad``,
    ``nesterov``...) and, for specs with momentum, one with every option and momentum 0.9; each with repeated
    indices in every step: the combinations the search draws only by luck (issue #15: ``centered=True`` with a
    repeated index crashed only at case seed 3 of the thorough profile).
    """
    hp = _documented_hp(spec)
    options = [k for k, v in hp.items() if isinstance(v, bool)]
    base = {"shapes": [[3, 2]], "dtype": "float32", "seed": 15, "grad_scale": 1.0, "lr": 0.01,
            "steps": len(DESIGNED_SPARSE_INDICES), "indices": [list(i) for i in DESIGNED_SPARSE_INDICES]}
    cases = [dict(base, hp=dict(hp))]
    cases += [dict(base, hp=dict(hp, **{k: not hp[k]})) for k in options]
    if "momentum" in hp and options:  # every option together, with momentum (nesterov means nothing without it)
        cases.append(dict(base, hp=dict(hp, momentum=0.9, **{k: not hp[k] for k in options})))
    return cases


@register_check(kind="optimizer", family="optimizer", applies=has("sparse"), strategy=_sparse_cases, examples=6,
                needs=("tf_indexed_slices",), designed=designed_sparse_cases)
def check_sparse_matches_dense(spec: Any, case: dict) -> Evidence:
    """IndexedSlices gradients (indices repeated, unsorted) give the result of the summed dense gradient.

    Two parts, both always run and reported: the dense run against the
    reference (the control), and the sparse run against the dense run.
    """
    rows = _row_values(case)
    pairs = [_slices(case, rows, s) for s in range(int(case["steps"]))]
    dense = [[p[1]] for p in pairs]
    lrs = constant_lrs(case)
    ref = reference(spec, case, dense, lrs)
    dense_run = run_keras(spec, case, dense)
    parts = Parts(case)
    parts.run("dense run (control)",
              lambda: compare_to_reference(spec, case, dense_run.weights[-1], ref, "dense run (control)"))

    def sparse() -> Evidence:
        sparse_run = run_keras(spec, case, [[p[0]] for p in pairs])
        # The sparse run gets the rows, not their float64 sum rounded once: it may sum or apply a
        # coordinate's k rows in any order, (k - 1) u sum|v| + the dense sum's rounding u |sum v|.
        u = float(np.finfo(np.dtype(case["dtype"])).eps) / 2.0
        row_err = []
        for s in range(int(case["steps"])):
            abs_sum, count = np.zeros(dense[s][0].shape), np.zeros(dense[s][0].shape)
            for r, v in zip(case["indices"][s], rows[s]):
                abs_sum[r] += np.abs(v)
                count[r] += 1
            row_err.append([count * u * abs_sum])
        tols = lambda: tolerance(spec, case, dense, lrs, ref.trace, grad_err=row_err).between_runs()  # noqa: E731
        return compare_to_reference(spec, case, sparse_run.weights[-1], Reference(ref.trace, tols),
                                    "sparse (IndexedSlices) run", expected=dense_run.weights[-1],
                                    history=sparse_run.weights, reference_history=dense_run.weights)

    parts.run("sparse (IndexedSlices) run", sparse)
    return parts.verdict()


def _clip_cases(spec: Any) -> Any:
    # A sparse first gradient (IndexedSlices) where the backend has none is a case that cannot run: the battery
    # replaces it and says how many were not run (_clip_case_needs), instead of the draws changing silently.
    return optimizer_cases(spec, steps=4, n_vars=(2, 2), extra={
        "clip": st.sampled_from(["clipnorm", "clipvalue", "global_clipnorm"]),
        "threshold": st.sampled_from([0.05, 0.3, 1.0]).map(float32_exact),
        "sparse_first": st.booleans(),
    })


def _clip_case_needs(case: dict) -> tuple[str, ...]:
    """A case whose first gradient is sparse (IndexedSlices) needs them: TensorFlow only."""
    return ("tf_indexed_slices",) if case.get("sparse_first") and len(case["shapes"][0]) >= 1 else ()


def rejected_clip_combinations() -> list[tuple[str, str]]:
    """Pairs of clipping options the installed Keras documents as exclusive.

    Keras 3: "Only one of clipnorm, clipvalue and global_clipnorm can be
    set"; Keras 2: "At most one of clipnorm and global_clipnorm can be set".
    """
    from ... import keras_compat as kc

    if kc.keras_major() >= 3:
        return [("clipnorm", "clipvalue"), ("clipnorm", "global_clipnorm"), ("clipvalue", "global_clipnorm")]
    return [("clipnorm", "global_clipnorm")]


def allowed_clip_combinations() -> list[tuple[str, str]]:
    """Pairs of clipping options the installed Keras documents as combinable: both must apply.

    Keras 2 documents each option as "if set, the gradient ... is clipped"
    and only clipnorm with global_clipnorm as exclusive, so a norm clip
    together with clipvalue clips by both; Keras 3 allows one option at a
    time (:func:`rejected_clip_combinations`).
    """
    from ... import keras_compat as kc

    if kc.keras_major() >= 3:
        return []
    return [("clipnorm", "clipvalue"), ("global_clipnorm", "clipvalue")]


def assert_clip_combinations(spec: Any, case: dict, combinations: list[tuple[str, str]]) -> None:
    """Raise unless every ``(norm option, "clipvalue")`` pair applies both clips (dense gradients).

    ``clipvalue`` is half the smallest per-step largest entry that the norm
    clip leaves, so it binds at every step and dropping it moves the weights
    off the reference (:func:`~initcheck.references.optimizers.clip_gradients`
    applies every option given: norm, then value).  The documentation gives
    no order, so clipping by value first and then by norm passes too.
    """
    grads = gradient_sequence(case)
    for norm, value in combinations:
        threshold = case["threshold"]
        largest = [max(float(np.max(np.abs(g), initial=0.0)) for g in clip_gradients(step, **{norm: threshold}))
                   for step in grads]
        limit = float32_exact(0.5 * min(largest))
        if limit == 0.0:  # a step of zero gradients: nothing to clip
            continue
        options = {norm: threshold, value: limit}
        observed = run_keras(spec, case, grads, options=options).weights[-1]
        what = f"{norm}={threshold} with {value}={limit} (both applied, in either order)"
        try:
            expect_reference(spec, case, observed, grads, constant_lrs(case), what, **options)
        except CheckFailure as norm_first:
            value_first = [[np.clip(g, -limit, limit) for g in step] for step in grads]
            try:
                expect_reference(spec, case, observed, value_first, constant_lrs(case), what, **{norm: threshold})
            except CheckFailure:
                raise norm_first from None


@register_check(kind="optimizer", family="optimizer", applies=has("clipping"), strategy=_clip_cases, examples=6,
                case_needs=_clip_case_needs,
                designed=lambda spec: designed_float64_cases(spec, 4, clip="clipnorm", threshold=float32_exact(0.3),
                                                             sparse_first=False))
def check_clipping(spec: Any, case: dict) -> Evidence:
    """clipnorm / clipvalue / global_clipnorm clip as documented (dense and sparse); conflicts are rejected.

    Combinations the installed Keras documents as allowed apply every option
    given (:func:`assert_clip_combinations`: Keras 2, a norm clip with clipvalue).
    Each part -- every rejected pair, the allowed combinations, the clipping
    itself -- is run and reported (:class:`~initcheck.checks.evidence.Parts`).
    """
    from ... import keras_compat as kc

    parts = Parts(case)

    def rejects(a: str, b: str) -> Evidence:
        try:
            spec.build(case["lr"], case["hp"], **{a: 1.0, b: 1.0})
        except ValueError as exc:
            return ok(f"{a} with {b} rejected", case, error=str(exc)[:200])
        raise fail(f"conflicting options {a} and {b} were accepted", case, documented="only one of them may be set")

    for a, b in rejected_clip_combinations():
        parts.run(f"{a} with {b} rejected", lambda a=a, b=b: rejects(a, b))
    allowed = allowed_clip_combinations()
    if allowed:
        parts.run("allowed combinations apply both clips",
                  lambda: assert_clip_combinations(spec, case, allowed) or ok("both clips applied", case))

    def clipped() -> Evidence:
        grads = gradient_sequence(case)
        keras_grads: list[list[Any]] = [list(g) for g in grads]
        if case["sparse_first"] and len(case["shapes"][0]) >= 1:
            # Step 0's first gradient as IndexedSlices over all rows (each once).
            g0 = grads[0][0]
            keras_grads[0][0] = kc.indexed_slices(g0.astype(case["dtype"]), list(range(g0.shape[0])), g0.shape)
        option = {case["clip"]: case["threshold"]}
        run = run_keras(spec, case, keras_grads, options=option)
        return expect_reference(spec, case, run.weights[-1], grads, constant_lrs(case),
                                f"{case['clip']}={case['threshold']}", history=run.weights, **option)

    parts.run(f"{case['clip']}={case['threshold']}", clipped)
    return parts.verdict()


def _lr_cases(spec: Any) -> Any:
    forms = [f for f, tag in (("callable", "lr_callable"), ("exponential", "lr_schedule"),
                              ("piecewise", "lr_schedule")) if spec.has(tag)]
    return optimizer_cases(spec, steps=5, extra={"form": st.sampled_from(forms or ["float"]),
                                                 "decay_rate": st.sampled_from([0.5, 0.9]).map(float32_exact)})


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("trajectory") and (s.has("lr_callable") or s.has("lr_schedule")),
                strategy=_lr_cases, examples=6,
                designed=lambda spec: designed_float64_cases(
                    spec, 5, form="exponential" if spec.has("lr_schedule") else "callable",
                    decay_rate=float32_exact(0.5)))
def check_learning_rate_forms(spec: Any, case: dict) -> Evidence:
    """A zero-argument callable and a schedule give the rule at each step's rate; schedules advance per iteration."""
    from ... import keras_compat as kc

    lr0, n = float(case["lr"]), int(case["steps"])
    form = case["form"]
    if form == "callable":
        lr: Any = lambda: lr0  # noqa: E731 - the documented zero-argument callable form
        lrs = [lr0] * n
    elif form == "exponential":
        # Keras docs: initial_learning_rate * decay_rate ** (step / decay_steps)
        lr = kc.learning_rate_schedule("exponential", lr0, decay_steps=2, decay_rate=case["decay_rate"])
        lrs = [float(np.float32(lr0 * case["decay_rate"] ** (s / 2.0))) for s in range(n)]
    elif form == "piecewise":
        # Keras docs: values[0] while step <= boundaries[0], then values[1], ...
        values = [lr0, float(np.float32(lr0 * case["decay_rate"]))]
        lr = kc.learning_rate_schedule("piecewise", lr0, boundaries=[1], values=values)
        lrs = [values[0] if s <= 1 else values[1] for s in range(n)]
    else:
        lr, lrs = lr0, [lr0] * n
    grads = gradient_sequence(case)
    run = run_keras(spec, case, grads, learning_rate=lr)
    lr_form = {"float": "constant", "callable": "callable"}.get(form, "schedule")
    return expect_reference(spec, case, run.weights[-1], grads, lrs, f"learning rate as {form}",
                            extra={"learning_rates": lrs}, lr_computed=form in ("exponential", "piecewise"),
                            learning_rate_form=lr_form, history=run.weights)


def _wd_cases(spec: Any) -> Any:
    return optimizer_cases(spec, steps=4, n_vars=(2, 2), extra={
        "weight_decay": st.sampled_from([0.01, 0.1, 0.5]).map(float32_exact), "exclude": st.booleans()})


@register_check(kind="optimizer", family="optimizer", applies=lambda s: s.has("weight_decay") and s.has("trajectory"),
                strategy=_wd_cases, examples=6,
                designed=lambda spec: designed_float64_cases(spec, 4, weight_decay=float32_exact(0.1), exclude=False))
def check_weight_decay(spec: Any, case: dict) -> Evidence:
    """weight_decay follows the decoupled, lr-scaled convention and honours exclude_from_weight_decay."""
    grads = gradient_sequence(case)
    wd = float(case["weight_decay"])
    names = ["kernel_a", "bias_b"]

    def exclude(opt: Any, variables: list) -> None:
        if case["exclude"]:
            opt.exclude_from_weight_decay(var_names=["bias"])

    run = run_keras(spec, case, grads, options={"weight_decay": wd}, names=names, before_first=exclude)
    return expect_reference(spec, case, run.weights[-1], grads, constant_lrs(case),
                            f"weight_decay={wd} (bias excluded: {case['exclude']})",
                            extra={"decay_convention": "w -= lr * weight_decay * w before the update"},
                            weight_decay=wd, decay_mask=[True, not case["exclude"]], history=run.weights)


def _ema_cases(spec: Any) -> Any:
    return optimizer_cases(spec, steps=5, extra={
        "ema_momentum": st.sampled_from([0.0, 0.5, 0.9, 0.99]).map(float32_exact),
        "overwrite": st.sampled_from([None, 2, 3])})


@register_check(kind="optimizer", family="optimizer", applies=lambda s: s.has("ema") and s.has("trajectory"),
                strategy=_ema_cases, examples=5)
def check_ema(spec: Any, case: dict) -> Evidence:
    """use_ema keeps ema = m*ema + (1-m)*w (start as the Keras version defines it) and overwrites every N steps."""
    from ... import keras_compat as kc

    grads = gradient_sequence(case)
    opts = {"use_ema": True, "ema_momentum": case["ema_momentum"], "ema_overwrite_frequency": case["overwrite"]}
    run = run_keras(spec, case, grads, options=opts)
    ref = reference(spec, case, grads, constant_lrs(case), ema_momentum=case["ema_momentum"],
                    ema_overwrite_frequency=case["overwrite"],
                    ema_start="initial" if kc.ema_starts_at_initial_weights() else "first_update")
    parts = Parts(case)
    parts.run("weights with EMA overwrite",
              lambda: compare_to_reference(spec, case, run.weights[-1], ref, "weights with EMA overwrite"))

    def averages() -> Evidence:
        ema = kc.ema_values(run.optimizer, run.variables)
        tols = lambda: ref.tolerances.ema if ref.tolerances.ema is not None else ref.tolerances  # noqa: E731
        return compare_to_reference(spec, case, ema, Reference(ref.trace, tols), "moving average of the weights",
                                    expected=ref.trace.ema)

    parts.run("moving average of the weights", averages)
    return parts.verdict()


def _acc_cases(spec: Any) -> Any:
    # Weight decay in every case where the optimizer has it: decay (and clipping) belong to
    # the update step only, the part of the contract early Keras 3 releases broke.
    decay = [float32_exact(0.1)] if spec.has("weight_decay") else [None]
    return optimizer_cases(spec, steps=6, extra={
        "micro": st.sampled_from([2, 3]), "clipnorm": st.sampled_from([None, 0.5]),
        "weight_decay": st.sampled_from(decay)})


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("accumulation") and s.has("trajectory"), strategy=_acc_cases, examples=5,
                designed=lambda spec: designed_float64_cases(
                    spec, 6, micro=2, clipnorm=None,
                    weight_decay=float32_exact(0.1) if spec.has("weight_decay") else None))
def check_accumulation_matches_mean_step(spec: Any, case: dict) -> Evidence:
    """k accumulated micro-steps equal one step on their mean gradient (clipping and decay applied once)."""
    grads = gradient_sequence(case)
    k = int(case["micro"])
    opts = {"gradient_accumulation_steps": k, "clipnorm": case["clipnorm"], "weight_decay": case["weight_decay"]}
    run = run_keras(spec, case, grads, options=opts)
    parts = Parts(case)

    def still() -> Evidence:
        # Between updates the weights must not move at all.
        moved = [s + 1 for s in range(len(grads)) if (s + 1) % k != 0
                 and not all(np.array_equal(a, b) for a, b in zip(run.weights[s + 1], run.weights[s]))]
        if moved:
            raise fail(f"weights moved on micro-step(s) {moved}, which are not update steps", case)
        return ok("weights still between updates", case)

    def trajectory() -> Evidence:
        ref = reference(spec, case, grads, constant_lrs(case), accumulation_steps=k, clipnorm=case["clipnorm"],
                        weight_decay=case["weight_decay"])
        return compare_to_reference(spec, case, run.weights[-1], ref,
                                    f"{len(grads)} calls with gradient_accumulation_steps={k}",
                                    {"updates": ref.trace.updates}, history=run.weights)

    parts.run("weights still between updates", still)
    parts.run(f"{len(grads)} calls with gradient_accumulation_steps={k}", trajectory)
    return parts.verdict()


def _ls_cases(spec: Any) -> Any:
    return optimizer_cases(spec, steps=4, extra={
        "scale": st.sampled_from([1.0, 2.0, 1024.0, 32768.0]).map(float), "bad_step": st.integers(0, 3),
        "bad": st.sampled_from(["inf", "-inf", "nan"])})


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("loss_scaling") and s.has("trajectory"), strategy=_ls_cases, examples=5,
                designed=_loss_scaling_designed)
def check_loss_scaling(spec: Any, case: dict) -> Evidence:
    """A loss-scale wrapper equals the inner optimizer on finite gradients and skips non-finite steps (where the
    backend has it, also through ``stateless_apply`` under ``jax.jit``: the path Keras's JAX trainer takes)."""
    from ... import keras_compat as kc

    grads = gradient_sequence(case)
    scale = float(case["scale"])
    unscales = kc.loss_scale_unscales_in_apply()
    bad = {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}[case["bad"]]
    fed, kept = [], []
    current = scale
    for s, g in enumerate(grads):
        step = [x * (current if unscales else 1.0) for x in g]
        if s == case["bad_step"]:
            step[0] = step[0].copy()
            step[0].flat[0] = bad
            current = max(current / 2.0, kc.loss_scale_floor())  # halves after a non-finite step
        else:
            kept.append(g)
        fed.append(step)
    expected = _LossScaled(spec, case, kept, current, unscales)
    parts = Parts(case)
    jitted = kc.capability_missing(("jax_stateless_jit",)) is None
    lso = expected.fresh_optimizer()
    try:
        run = run_keras(spec, case, fed, optimizer=lso)
    except Exception as exc:
        if not jitted:
            raise
        # Another path follows: the eager failure is one part, so it cannot hide what the jitted path shows.
        parts.failed_with("apply_gradients", exc)
    else:
        expected.judge(parts, run.weights, lso)
    if jitted:  # JAX: the same steps as Keras's trainer takes them, stateless_apply under jax.jit
        prefix = "stateless_apply under jax.jit: "
        lso = expected.fresh_optimizer()
        try:
            weights = kc.jitted_stateless_steps(lso, fresh_variables(case),
                                                [[x.astype(case["dtype"]) for x in g] for g in fed])
        except Exception as exc:  # a part of its own too: the eager part's verdict stays in the report
            parts.failed_with(prefix + "the run", exc)
        else:
            expected.judge(parts, weights, lso, prefix=prefix)
    return parts.verdict(unscaled_inside_apply=unscales)


@dataclass(frozen=True)
class _LossScaled:
    """What a loss-scaled run of one case must show: the finite gradients ``kept`` (unscaled) applied as the
    reference applies them, the non-finite step skipped, the dynamic scale at ``final_scale``."""

    spec: Any
    case: dict
    kept: list
    final_scale: float
    unscales: bool

    def fresh_optimizer(self) -> Any:
        from ... import keras_compat as kc

        return kc.loss_scale_optimizer(self.spec.build(self.case["lr"], self.case["hp"]),
                                       initial_scale=float(self.case["scale"]), dynamic_growth_steps=1000)

    def judge(self, parts: Parts, weights: list, lso: Any, prefix: str = "") -> None:
        """The three properties of a run (its weights after every step, its wrapper), each a part."""
        from ... import keras_compat as kc

        case, spec = self.case, self.spec

        def skipped() -> Evidence:
            after = weights[case["bad_step"] + 1]
            before = weights[case["bad_step"]]
            if not all(np.array_equal(a, b) for a, b in zip(after, before)):
                raise fail(f"a {case['bad']} gradient was applied instead of skipped", case)
            return ok(f"the {case['bad']} step was skipped", case)

        def scale_after() -> Evidence:
            have = kc.loss_scale_value(lso)
            if have != self.final_scale:
                raise fail(f"loss scale is {have}, documented dynamic scale {self.final_scale}", case,
                           initial_scale=float(case["scale"]))
            return ok(f"loss scale {have} as documented", case, initial_scale=float(case["scale"]))

        what = f"loss-scaled run (scale {float(case['scale'])}, {case['bad']} at step {case['bad_step']})"
        parts.run(prefix + "non-finite step skipped", skipped)
        parts.run(prefix + "dynamic loss scale", scale_after)
        parts.run(prefix + what, lambda: expect_reference(
            spec, case, weights[-1], self.kept, constant_lrs(case, len(self.kept)), prefix + what,
            extra={"unscaled_inside_apply": self.unscales}))


def _ck_cases(spec: Any) -> Any:
    # At least two variables: a resumed model always has several, and state shared across
    # variables (Keras 2 Nadam's u-product cache) only shows with more than one.
    return optimizer_cases(spec, steps=6, n_vars=(2, 3), extra={"split": st.integers(1, 5),
                                                 "decay_rate": st.sampled_from([0.5, 0.9]).map(float32_exact)})


def resume_learning_rate(spec: Any, case: dict) -> Any:
    """A resume case's learning rate: a fresh exponential schedule (state that must survive) where the spec
    takes schedules, else the case's constant."""
    from ... import keras_compat as kc

    if spec.has("lr_schedule"):
        return kc.learning_rate_schedule("exponential", float(case["lr"]), decay_steps=2,
                                         decay_rate=case["decay_rate"])
    return case["lr"]


@register_check(kind="optimizer", family="optimizer", applies=has("checkpoint"), strategy=_ck_cases, examples=3,
                needs=("tf_checkpoint",))
def check_checkpoint_resume(spec: Any, case: dict) -> Evidence:
    """Train k steps, save, restore into a fresh optimizer and variables, continue: identical to uninterrupted."""
    from ... import keras_compat as kc

    grads = gradient_sequence(case)
    split = int(case["split"])

    def schedule() -> Any:
        return resume_learning_rate(spec, case)

    whole = run_keras(spec, case, grads, learning_rate=schedule())
    first = run_keras(spec, case, grads[:split], learning_rate=schedule())
    with tempfile.TemporaryDirectory() as tmp:
        prefix = kc.checkpoint_save(os.path.join(tmp, "ck"), first.optimizer, first.variables)
        fresh_vars = [kc.variable(np.zeros(tuple(s), dtype=case["dtype"]), name=f"var{i}")
                      for i, s in enumerate(case["shapes"])]
        fresh = spec.build(schedule(), case["hp"])
        kc.checkpoint_restore(prefix, fresh, fresh_vars)
    iters = kc.optimizer_iterations(fresh)
    if iters != split:
        raise fail(f"restored iterations={iters}, saved after {split} steps", case)
    second = run_keras(spec, case, grads[split:], optimizer=fresh, variables=fresh_vars)
    diffs = [float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(second.weights[-1], whole.weights[-1])]
    data = {"max_abs_difference": diffs, "split": split}
    if any(d != 0.0 for d in diffs):
        raise fail("resumed training differs from uninterrupted training", case, **data)
    return ok("resume is bit-identical", case, **data)


def designed_mirrored_cases(spec: Any) -> list[dict]:
    """The documented defaults, run before the drawn case: the one example the gate draws may switch a rule's
    state off (Nadam's ci case has beta_1 = 0, so its momentum schedule -- where Keras 2 goes wrong under
    MirroredStrategy, issue #15 -- never mattered)."""
    return [{"shapes": [[3, 2]], "dtype": "float32", "seed": 15, "grad_scale": 1.0, "lr": float32_exact(0.01),
             "hp": _documented_hp(spec), "steps": 3}]


@register_check(kind="optimizer", family="optimizer",
                applies=lambda s: s.has("distributed") and s.has("trajectory"),
                strategy=lambda spec: optimizer_cases(spec, steps=3, n_vars=(1, 1), dtypes=["float32"]).map(
                    lambda c: dict(c, grad_scale=1.0, lr=max(c["lr"], float32_exact(0.01)))), examples=1,
                needs=("data_parallel",), designed=designed_mirrored_cases)
def check_mirrored_strategy(spec: Any, case: dict) -> Evidence:
    """Under MirroredStrategy on two logical CPUs (gradients summed over replicas) the result equals one device.

    On JAX the same replicas by JAX's own means (issue #17): the variable and
    the optimizer built under ``keras.distribution.DataParallel`` over two
    host CPU devices, each step's two gradient parts sharded one per device
    and summed inside one jitted ``stateless_apply`` step, as Keras's JAX
    trainer runs a data-parallel step (:func:`~initcheck.keras_compat.
    data_parallel_run`); the evidence names the devices of the result and the
    all-reduce ops XLA compiled, and a step that ran on one device is an error
    of the instrument, not a pass.

    One example in the gate (a strategy is costly); the case is drawn with
    unit gradients and a learning rate of at least 0.01 so that the update
    dwarfs the float32 tolerance and a wrong replica reduction shows.  The
    two replicas' parts of each gradient have opposite signs (replica 0
    gets ``-u g``, replica 1 ``(1 + u) g``, u in [0.25, 1]), so applying
    one replica's part, or the mean, differs from the sum even for rules
    that normalise the gradient's scale (Adam, RMSprop, Lion, Adafactor).

    Isolation: the check runs on the process's one strategy
    (:func:`~initcheck.keras_compat.mirrored_strategy`: strategies created
    per case collide in the collective executor), and a collective error
    is retried once on a fresh executor (:func:`~initcheck.keras_compat.
    reset_collectives`), so an earlier failure in the same process cannot
    fail this check; the evidence records the reset.
    """
    from ... import keras_compat as kc

    if not kc.ensure_logical_cpus(2):
        raise RuntimeError(f"the data-parallel check needs two host CPU devices, but {kc.backend()} was initialised "
                           f"before they could be configured ({kc._LOGICAL_CPUS.get('how')}); run it in a fresh "
                           "process")
    grads = gradient_sequence(case)
    single = run_keras(spec, case, grads)
    if kc.backend() == "jax":
        return _check_sharded(spec, case, grads, single)
    try:
        have, inherited = _replicated_run(spec, case, grads), None
    except Exception as exc:
        if not kc.is_collective_error(exc):
            raise fail(f"applying gradients under MirroredStrategy raised {type(exc).__name__}: "
                       f"{str(exc)[:300]}", case) from None
        # The collective executor may have been aborted by an earlier operation of this process:
        # reset it and run again; only a failure on a fresh executor is this optimizer's.
        inherited = f"{type(exc).__name__}: {str(exc)[:300]}"
        kc.reset_collectives()
        try:
            have = _replicated_run(spec, case, grads)
        except Exception as again:
            kc.reset_collectives()  # leave a working executor to the checks that follow
            raise fail(f"applying gradients under MirroredStrategy raised {type(again).__name__} on a fresh "
                       f"collective executor: {str(again)[:300]}", case) from None
    extra = {"collective_reset": inherited} if inherited else None
    return expect_reference(spec, case, [have], grads, constant_lrs(case), "MirroredStrategy(2 CPUs) vs one device",
                            expected=single.weights[-1], between_runs=True, grad_ulps=REPLICA_SUM_ULPS, extra=extra)


def _replica_parts(case: dict, grads: list) -> list[list[np.ndarray]]:
    """Each step's gradient as two parts of opposite signs, one per replica (replica 0 ``-u g``, replica 1
    ``(1 + u) g``, u in [0.25, 1]): applying one part, or their mean, differs from the sum."""
    rng = case_rng(case, 5)
    out = []
    for g in grads:
        g0 = g[0].astype(case["dtype"])
        part = (-g0 * rng.uniform(0.25, 1.0, size=g0.shape)).astype(case["dtype"])
        out.append([part, (g0 - part).astype(case["dtype"])])
    return out


def _check_sharded(spec: Any, case: dict, grads: list, single: Any) -> Evidence:
    """JAX's data-parallel step (two host devices, the parts summed by XLA) against one device and the reference."""
    from ... import keras_compat as kc

    initial = initial_weights(case)[0].astype(case["dtype"])
    try:
        have, placement = kc.data_parallel_run(lambda: spec.build(case["lr"], case["hp"]), initial,
                                               _replica_parts(case, grads))
    except Exception as exc:
        raise fail(f"a data-parallel step over two JAX devices raised {type(exc).__name__}: {str(exc)[:300]}",
                   case) from None
    if len(placement["devices"]) < 2 or not placement["all_reduce_ops"]:
        raise RuntimeError(f"the sharded step did not span two devices ({placement}): the check measured nothing")
    return expect_reference(spec, case, [have.astype(np.float64)], grads, constant_lrs(case),
                            "DataParallel sharding (2 JAX host devices) vs one device", expected=single.weights[-1],
                            between_runs=True, grad_ulps=REPLICA_SUM_ULPS, extra=placement)


def _replicated_run(spec: Any, case: dict, grads: list) -> np.ndarray:
    """The case's steps under the process's MirroredStrategy, each gradient split over the two replicas."""
    from ... import keras_compat as kc

    tf = kc.tf()
    strategy = kc.mirrored_strategy(2)
    with strategy.scope():
        var = kc.variable(initial_weights(case)[0].astype(case["dtype"]), name="var0")
        opt = spec.build(case["lr"], case["hp"])
        opt.build([var])
    for halves in _replica_parts(case, grads):
        per_replica = strategy.experimental_distribute_values_from_function(
            lambda ctx, halves=halves: tf.constant(halves[ctx.replica_id_in_sync_group]))

        def replica_fn(grad: Any) -> None:
            opt.apply_gradients([(grad, var)])

        strategy.run(tf.function(replica_fn), args=(per_replica,))
    return kc.to_numpy(var).astype(np.float64)


@register_check(kind="optimizer", family="optimizer", applies=has("config"),
                strategy=lambda spec: optimizer_cases(spec, steps=2), examples=3)
def check_config_round_trip(spec: Any, case: dict) -> Evidence:
    """from_config(get_config()) keeps the class and every hyperparameter, and trains the same."""
    from ... import keras_compat as kc

    opt = spec.build(case["lr"], case["hp"])
    config = kc.get_config(opt)
    clone = kc.from_config(opt, config)
    if type(clone) is not type(opt):
        raise fail(f"class changed: {type(opt).__name__} -> {type(clone).__name__}", case)
    again = kc.get_config(clone)
    missing = [k for k in case["hp"] if k not in config]
    changed = {k: (config[k], again.get(k)) for k in config
               if k != "name" and not same_setting(config[k], again.get(k))}
    data = {"config": config, "missing": missing, "changed": changed}
    if missing or changed:
        raise fail("the config round trip lost or changed hyperparameters", case, **data)
    for key, value in case["hp"].items():
        if not same_setting(config[key], value):
            raise fail(f"config[{key!r}]={config[key]!r} but built with {value!r}", case, **data)
    grads = gradient_sequence(case)
    a = run_keras(spec, case, grads, optimizer=opt)
    b = run_keras(spec, case, grads, optimizer=clone)
    if not all(np.array_equal(x, y) for x, y in zip(a.weights[-1], b.weights[-1])):
        raise fail("the rebuilt optimizer trains differently", case, **data)
    return ok("config round trip exact", case, **data)

