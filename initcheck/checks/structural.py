"""Structural checks: the contract every initializer keeps, whatever its law.

* ``check_output_contract`` - requested shape and dtype, finite values.
* ``check_exact_values`` - deterministic laws (constants, identity) exactly.
* ``check_seed_contract`` - same seed same values, seed 0 honoured, different
  seeds differ, two unseeded instances differ.
* ``check_repeat_call`` - one instance called twice does what the spec declares.
* ``check_global_rng_untouched`` - Python's and NumPy's global state unchanged.
* ``check_symmetry_breaking`` - no two rows/columns equal; two layers differ.
* ``check_config_round_trip`` - ``get_config``/``from_config`` keeps class,
  config and draws.
* ``check_keras_save_load`` - a model using it survives ``.keras`` save/load
  in safe mode with identical weights.

Equality claims between *random* draws ("must differ") are only made where a
chance collision is negligible: at least :data:`MIN_DISTINCT` entries, each a
continuous draw rounded to at worst bfloat16 (8 significant bits), so the
chance that all of them collide is below ``(2**-6)**16 = 8e-29`` per
comparison, far under any run budget.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
from typing import Any

import numpy as np

from ..dtypes import np_dtype
from ..strategies import initializer_cases, seeds
from . import register_check
from .evidence import Evidence, fail, ok, plugin_traceback

__all__ = [
    "check_output_contract",
    "check_exact_values",
    "check_seed_contract",
    "check_repeat_call",
    "check_global_rng_untouched",
    "check_symmetry_breaking",
    "check_config_round_trip",
    "check_keras_save_load",
    "draw",
    "MIN_DISTINCT",
    "MIN_LINE",
]

#: Fewest entries for which "two random draws differ" is asserted.
MIN_DISTINCT = 16
#: Fewest entries in a row/column for which "no two rows are equal" is asserted.
#: Per pair, a chance collision of 8 continuous bfloat16 draws is < (2**-6)**8 = 3.6e-15.
MIN_LINE = 8

_CONTRACT = ("check_output_contract",)


def _kc() -> Any:
    from .. import keras_compat

    return keras_compat


def draw(spec: Any, shape: Any, dtype: str, seed: Any) -> np.ndarray:
    """One draw ``spec.factory(seed)(shape, dtype=dtype)`` as float64 NumPy."""
    values = spec.factory(seed)(tuple(shape), dtype=dtype)
    return np.asarray(_kc().to_numpy(values), dtype=np.float64)


def _random(spec: Any) -> bool:
    return not spec.has("deterministic")


@register_check(kind="initializer", family="structural", strategy=initializer_cases, examples=12)
def check_output_contract(spec: Any, case: dict) -> Evidence:
    """The requested shape and dtype come back, with finite values.

    Every other initializer check depends on this one: a contract violation
    is one failure, and the spec's other checks are reported blocked.
    """
    shape, dtype, seed = tuple(case["shape"]), case["dtype"], case["seed"]
    kc = _kc()
    try:
        out = spec.factory(seed)(shape, dtype=dtype)
    except Exception as exc:
        raise fail(f"calling the initializer raised {type(exc).__name__}: {exc}", case,
                   traceback=plugin_traceback(exc)) from None
    try:
        got_shape = tuple(int(s) for s in getattr(out, "shape", np.shape(out)))
        got_dtype = kc.dtype_name(out)
    except Exception as exc:
        raise fail(f"the initializer returned a {type(out).__name__}, not a tensor or array", case,
                   traceback=plugin_traceback(exc)) from None
    if got_shape != shape:
        raise fail(f"asked for shape {shape}, got {got_shape}", case,
                    expected_shape=shape, observed_shape=got_shape)
    if got_dtype != dtype:
        raise fail(f"asked for dtype {dtype}, got {got_dtype}", case,
                    expected_dtype=dtype, observed_dtype=got_dtype)
    values = np.asarray(kc.to_numpy(out), dtype=np.float64)
    bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
    if bad:
        raise fail(f"{bad} of {values.size} values are NaN or infinite", case,
                    non_finite=bad, n=int(values.size))
    return ok("shape, dtype and finiteness as requested", case, n=int(values.size))


@register_check(kind="initializer", family="structural", applies=lambda s: s.has("deterministic"),
                strategy=initializer_cases, examples=8, depends_on=_CONTRACT)
def check_exact_values(spec: Any, case: dict) -> Evidence:
    """Deterministic laws (constant, identity) are reproduced exactly (at the dtype)."""
    shape, dtype = tuple(case["shape"]), case["dtype"]
    law = spec.law_for(shape)
    values = draw(spec, shape, dtype, case["seed"])
    expected = law.expected(shape)
    # Compare with the expectation rounded to the requested dtype: exactness
    # means "the nearest representable value", not the real number.
    rounded = np.asarray(expected).astype(np_dtype(dtype)).astype(np.float64)
    mismatch = int(np.count_nonzero(values != rounded))
    if mismatch:
        idx = np.unravel_index(int(np.argmax(values != rounded)), values.shape)
        raise fail(f"{mismatch} of {values.size} entries differ from {law}", case,
                    first_index=[int(i) for i in idx], observed=float(values[idx]), expected=float(rounded[idx]))
    return ok(f"all {values.size} entries equal {law}", case)


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape and bit-for-bit equal values."""
    return a.shape == b.shape and bool(np.array_equal(a, b))


@register_check(kind="initializer", family="structural", applies=lambda s: s.has("seeded"),
                strategy=lambda s: initializer_cases(s).filter(lambda c: math.prod(c["shape"]) >= MIN_DISTINCT),
                examples=8, depends_on=_CONTRACT)
def check_seed_contract(spec: Any, case: dict) -> Evidence:
    """Same seed gives the same values (seed 0 too); other seeds and no seed differ."""
    shape, dtype, seed = tuple(case["shape"]), case["dtype"], case["seed"]
    a, b = draw(spec, shape, dtype, seed), draw(spec, shape, dtype, seed)
    if not same_values(a, b):
        raise fail(f"two instances with seed={seed} gave different values", case,
                    max_abs_difference=float(np.max(np.abs(a - b))))
    z1, z2 = draw(spec, shape, dtype, 0), draw(spec, shape, dtype, 0)
    if not same_values(z1, z2):
        raise fail("two instances with seed=0 gave different values: seed 0 is treated as 'no seed'",
                    case, max_abs_difference=float(np.max(np.abs(z1 - z2))))
    other = seed + 1 if seed < 2**31 - 1 else seed - 1
    c = draw(spec, shape, dtype, other)
    if same_values(a, c):
        raise fail(f"seeds {seed} and {other} gave identical values: the seed is ignored", case)
    u1, u2 = draw(spec, shape, dtype, None), draw(spec, shape, dtype, None)
    if same_values(u1, u2):
        raise fail("two unseeded instances gave identical values", case)
    return ok("seeded draws reproducible (seed 0 included), distinct seeds and unseeded draws differ",
               case, n=int(a.size))


def _repeat_declared(spec: Any) -> bool:
    """Seeded specs, and unseeded random ones that declare what a repeat call does."""
    return spec.has("seeded") or (not spec.has("deterministic") and spec.unseeded_repeat != "any")


@register_check(kind="initializer", family="structural", applies=_repeat_declared,
                strategy=lambda s: initializer_cases(s).filter(lambda c: math.prod(c["shape"]) >= MIN_DISTINCT),
                examples=6, depends_on=_CONTRACT)
def check_repeat_call(spec: Any, case: dict) -> Evidence:
    """One instance called twice behaves as ``seeded_repeat`` / ``unseeded_repeat`` declare."""
    shape, dtype, seed = tuple(case["shape"]), case["dtype"], case["seed"]
    observed = {}
    modes = [("seeded", seed, spec.seeded_repeat)] if spec.has("seeded") else []
    for label, s, declared in modes + [("unseeded", None, spec.unseeded_repeat)]:
        init = spec.factory(s)
        kc = _kc()
        first = np.asarray(kc.to_numpy(init(shape, dtype=dtype)), dtype=np.float64)
        second = np.asarray(kc.to_numpy(init(shape, dtype=dtype)), dtype=np.float64)
        same = same_values(first, second)
        observed[label] = "same" if same else "different"
        if declared != "any" and observed[label] != declared:
            raise fail(f"a {label} instance called twice gave {observed[label]} values; "
                        f"the spec declares {declared!r}", case, declared=declared, observed=observed[label])
    return ok("repeat calls behave as declared", case, observed=observed,
               declared={"seeded": spec.seeded_repeat, "unseeded": spec.unseeded_repeat})


@register_check(kind="initializer", family="structural", applies=lambda s: s.has("seeded"),
                strategy=initializer_cases, examples=4, depends_on=_CONTRACT)
def check_global_rng_untouched(spec: Any, case: dict) -> Evidence:
    """Building a seeded initializer and drawing leaves Python's and NumPy's global RNG alone."""
    shape, dtype, seed = tuple(case["shape"]), case["dtype"], case["seed"]
    _kc().keras()  # importing Keras and its backend (TensorFlow, JAX...) is not the initializer's doing
    np_before = np.random.get_state()
    py_before = random.getstate()
    draw(spec, shape, dtype, seed)
    np_after = np.random.get_state()
    moved = []
    if not (np_before[0] == np_after[0] and np.array_equal(np_before[1], np_after[1]) and np_before[2:] == np_after[2:]):
        moved.append("numpy.random")
    if random.getstate() != py_before:
        moved.append("random")
    if moved:
        np.random.set_state(np_before)
        random.setstate(py_before)
        raise fail(f"drawing with seed={seed} advanced the global state of {', '.join(moved)}",
                    case, moved=moved)
    return ok("global NumPy and Python RNG states unchanged", case)


def _small_dense_cases() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"shape": st.tuples(st.integers(1, 32), st.integers(1, 32)).map(list),
                                  "seed": seeds()})


def _distinct_lines(mat: np.ndarray) -> int:
    """The number of distinct rows of ``mat`` by value (as ``np.unique(mat, axis=0)`` counts them, in a tenth of
    its time): rows are compared as bytes after ``+ 0``, which turns -0.0 into 0.0 (equal values, equal bytes);
    the values are finite (the contract check ran first)."""
    canon = np.ascontiguousarray(mat + np.zeros((), dtype=mat.dtype))
    return len({row.tobytes() for row in canon})


def _lines_ok(values: np.ndarray) -> tuple[bool, str]:
    flat = values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values.reshape(1, -1)
    for axis_name, mat in (("rows", flat), ("columns", flat.T)):
        if mat.shape[1] < MIN_LINE or mat.shape[0] < 2:
            continue
        distinct = _distinct_lines(mat)
        if distinct != mat.shape[0]:
            return False, f"{mat.shape[0] - distinct} of {mat.shape[0]} {axis_name} repeat another"
    return True, ""


@register_check(kind="initializer", family="structural", applies=lambda s: not s.has("deterministic"),
                strategy=lambda s: initializer_cases(s, min_size=2), examples=8, depends_on=_CONTRACT)
def check_symmetry_breaking(spec: Any, case: dict) -> Evidence:
    """No two rows or columns of a kernel are equal; two layers with distinct seeds differ."""
    shape, dtype, seed = tuple(case["shape"]), case["dtype"], case["seed"]
    values = draw(spec, shape, dtype, seed)
    distinct, why = _lines_ok(values)
    if not distinct:
        raise fail(f"symmetry not broken: {why}", case)
    if spec.has("seeded") and 2 in spec.ranks:
        kc = _kc()
        keras = kc.keras()
        fan_in, units = max(shape[0], 4), max(shape[-1], 4)
        kernels = []
        for s in (seed, seed + 1 if seed < 2**31 - 1 else seed - 1):
            layer = keras.layers.Dense(units, kernel_initializer=spec.factory(s), dtype="float32")
            layer.build((None, fan_in))
            kernels.append(np.asarray(kc.to_numpy(layer.kernel), dtype=np.float64))
        if same_values(kernels[0], kernels[1]):
            raise fail("two Dense layers built with distinct seeds have identical kernels", case,
                        layer_shape=[fan_in, units])
    return ok("rows and columns distinct; layers with distinct seeds differ", case)


@register_check(kind="initializer", family="structural", applies=lambda s: s.has("keras_object"),
                strategy=initializer_cases, examples=6, depends_on=_CONTRACT)
def check_config_round_trip(spec: Any, case: dict) -> Evidence:
    """``from_config(get_config())`` keeps the class, the config and (seeded) the draws."""
    kc = _kc()
    shape, dtype, seed = tuple(case["shape"]), case["dtype"], case["seed"]
    init = spec.factory(seed)
    try:
        config = kc.get_config(init)
        clone = kc.from_config(init, config)
    except Exception as exc:
        raise fail(f"config round trip raised {type(exc).__name__}: {exc}", case) from None
    if type(clone) is not type(init):
        raise fail(f"clone is a {type(clone).__name__}, not a {type(init).__name__}", case)
    clone_config = kc.get_config(clone)
    if clone_config != config:
        raise fail("the clone's config differs from the original's", case,
                    original=config, clone=clone_config)
    if spec.has("seeded") or spec.has("deterministic"):
        a = np.asarray(kc.to_numpy(init(shape, dtype=dtype)), dtype=np.float64)
        b = np.asarray(kc.to_numpy(clone(shape, dtype=dtype)), dtype=np.float64)
        if not same_values(a, b):
            raise fail("the clone draws different values than the original with the same seed",
                        case, max_abs_difference=float(np.max(np.abs(a - b))), config=config)
    return ok("class, config and draws survive the round trip", case, config=config)


@register_check(kind="initializer", family="structural", applies=lambda s: s.has("saveable") and 2 in s.ranks,
                strategy=lambda s: _small_dense_cases(),
                examples=2, depends_on=_CONTRACT)
def check_keras_save_load(spec: Any, case: dict) -> Evidence:
    """A model using the initializer saves to ``.keras`` and loads (safe mode) with identical weights."""
    kc = _kc()
    fan_in, units = case["shape"]
    init = spec.factory(case["seed"])
    model = kc.dense_model(units, fan_in, init)
    before = [np.asarray(kc.to_numpy(w)) for w in model.weights]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        try:
            loaded = kc.save_and_load(model, path)
        except Exception as exc:
            raise fail(f"saving or loading in safe mode raised {type(exc).__name__}: {exc} "
                        "(is the initializer registered for Keras serialization?)", case) from None
    after = [np.asarray(kc.to_numpy(w)) for w in loaded.weights]
    if len(before) != len(after) or not all(same_values(x, y) for x, y in zip(before, after)):
        raise fail("weights changed across .keras save/load", case)
    loaded_init = loaded.layers[-1].kernel_initializer
    if type(loaded_init) is not type(init):
        raise fail(f"the loaded layer's initializer is a {type(loaded_init).__name__}, "
                    f"not a {type(init).__name__}", case)
    return ok("weights and initializer class survive .keras save/load in safe mode", case)
