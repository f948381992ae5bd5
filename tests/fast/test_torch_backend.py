"""Keras 3 on the PyTorch backend (#17): what initcheck does differently there, testable on any backend.

A backend without a capability is simulated by narrowing the capability's backends in
``keras_compat.CAPABILITIES`` (the one table), as in ``test_not_applicable.py``; the subprocess tests run
``KERAS_BACKEND=torch`` for real and are skipped where torch is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from hypothesis import find

from initcheck import keras_compat as kc
from initcheck.builtin.optimizers import builtin_specs
from initcheck.checks.optimizer.modes import _clip_cases


def _sgd():
    return next(s for s in builtin_specs() if s.name == "SGD")


def test_clip_cases_with_a_sparse_first_gradient_need_indexed_slices(monkeypatch):
    """check_clipping's IndexedSlices first step needs tf.IndexedSlices: where the backend has none the case is
    one the battery cannot run (it is replaced and counted as not run), never an error.

    On torch such a case used to error (NotOnBackend from keras_compat.tf()) instead of checking the clipping.
    """
    from initcheck.checks import all_checks

    check = all_checks()["check_clipping"]
    sparse = find(_clip_cases(_sgd()), lambda c: c["sparse_first"])
    dense = find(_clip_cases(_sgd()), lambda c: not c["sparse_first"])
    assert check.case_needs(sparse) == ("tf_indexed_slices",) and check.case_needs(dense) == ()
    what, _ = kc.CAPABILITIES["tf_indexed_slices"]
    monkeypatch.setitem(kc.CAPABILITIES, "tf_indexed_slices", (what, ()))  # no backend has it
    assert kc.capability_missing(check.case_needs(sparse)) is not None
    assert kc.capability_missing(check.case_needs(dense)) is None
    for option in ("clipnorm", "clipvalue", "global_clipnorm"):  # every clipping option is still drawn
        assert find(_clip_cases(_sgd()), lambda c, o=option: c["clip"] == o)["clip"] == option


def test_tensorflow_only_capabilities_are_missing_on_torch():
    for name in ("tf_indexed_slices", "tf_distribute", "tf_checkpoint", "tf_function", "tf_keras"):
        assert kc.capability_missing((name,), on="torch") == \
            f"not applicable on torch: needs {name} ({kc.CAPABILITIES[name][0]})"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch installed")
def test_list_on_torch_loads_every_spec_without_tensorflow():
    """`initcheck list` on KERAS_BACKEND=torch: all specs load on Keras 3 over torch; TensorFlow is never imported."""
    if kc.versions_from_metadata().get("keras_api") == "2":
        pytest.skip("Keras 2 has no other backend")
    code = ("import sys, contextlib, io\nfrom initcheck.cli import main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n    rc = main(['list'])\n"
            "out = buf.getvalue()\n"
            "print(rc, 'tensorflow' in sys.modules, 'torch' in sys.modules, out.count('checks:'), "
            "out.count('[not applicable on torch]'), '0 load errors' in out)")
    env = dict(os.environ, KERAS_BACKEND="torch")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    rc, tf_loaded, torch_loaded, listed, not_applicable, no_errors = out.stdout.strip().splitlines()[-1].split()
    assert (rc, tf_loaded, torch_loaded, no_errors) == ("0", "False", "True", "True")
    # The same specs as `initcheck list` in this process (whatever its backend), and the TensorFlow-only
    # optimizer checks marked on every optimizer that has them.
    import contextlib
    import io

    from initcheck.cli import main

    here = io.StringIO()
    with contextlib.redirect_stdout(here):
        assert main(["list"]) == 0
    assert int(listed) == here.getvalue().count("checks:") > 0
    assert int(not_applicable) >= len(builtin_specs())


class _TorchLikeDtype:
    """A dtype as torch prints it: no ``.name``, ``str`` is ``torch.<name>``."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __str__(self) -> str:
        return f"torch.{self._name}"


class _TorchLikeTensor:
    def __init__(self, name: str) -> None:
        self.dtype = _TorchLikeDtype(name)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_dtype_name_of_a_torch_dtype(name):
    """check_output_contract compares dtype_name(out) with the requested dtype: 'torch.float16' failed it."""
    assert kc.dtype_name(_TorchLikeTensor(name)) == name


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch installed")
def test_torch_tensors_to_numpy_bfloat16_kept_exactly():
    """torch's .numpy() has no bfloat16 (TypeError: Got unsupported ScalarType BFloat16): every check drawing bfloat16
    errored on torch.  The values come back as ml_dtypes.bfloat16, bit for bit."""
    import ml_dtypes
    import numpy as np
    import torch

    values = [1.0, 1 / 3, -2.5e-3, 3.0e38, 2.0 ** -133]
    t = torch.tensor(values, dtype=torch.bfloat16)
    out = kc.to_numpy(t)
    assert out.dtype == np.dtype(ml_dtypes.bfloat16) and kc.dtype_name(t) == "bfloat16"
    assert out.view(np.uint16).tolist() == t.view(torch.int16).numpy().astype(np.uint16).tolist()
    assert kc.to_numpy(torch.ones(2, dtype=torch.float16, requires_grad=True)).dtype == np.float16


def test_torch_findings_hold_on_torch_only():
    from initcheck.builtin import findings as f

    on = {backend: {"keras": "3.15.1", "keras_api": "3", "backend": backend} for backend in ("tensorflow", "jax", "torch")}
    for finding in (f.TORCH_WEIGHT_DECAY_FLOAT32, f.TORCH_FLOAT64_MAXIMUM):
        assert finding.applies(on["torch"]) and not finding.applies(on["tensorflow"])
        assert not finding.applies(on["jax"])
        assert not finding.applies(dict(on["torch"], keras="3.16.0"))  # measured on 3.15.1 only
    # The float64-constant findings are tf.cast's rounding of Python floats: exact on torch (strict XPASS there),
    # unchanged on TensorFlow and JAX.
    for finding in (f.FLOAT64_BETAS, f.FLOAT64_CONSTANTS, f.CONSTANT_FLOAT64):
        assert finding.applies(on["tensorflow"]) and finding.applies(on["jax"]) and not finding.applies(on["torch"])


def test_torch_float64_maximum_names_the_clipnorm_case_only():
    from initcheck.builtin.findings import TORCH_FLOAT64_MAXIMUM as finding

    assert finding.matches("check_clipping FAILED on keras>SGD: clipnorm=0.05000000074505806: weights differ from "
                           "the reference by 584x the tolerance [1 of 4 parts failed]")
    assert not finding.matches("check_clipping FAILED on keras>SGD: clipvalue=0.3: weights differ from the reference")
    assert not finding.matches("check_clipping FAILED on keras>SGD: clipnorm=0.05: raised NotOnBackend: tensorflow")


def test_torch_declarations_sit_on_the_measured_checks():
    """Where the torch runs (docs/backends.md, re-run 2026-12-03; the designed float64 cases of 2026-12-04) failed
    with each mechanism, beside the early-Keras-3 declarations those checks carry on TensorFlow (several
    declarations per check)."""
    from initcheck.builtin import findings as f
    from initcheck.spec import declarations

    declared = {(s.name, c): declarations(s.expected_failures[c]) for s in builtin_specs() for c in s.expected_failures}
    on = lambda finding: {k for k, v in declared.items() if finding in v}  # noqa: E731
    wd_acc = ("Adam", "Adamax", "RMSprop", "Adagrad", "Adadelta", "Ftrl", "Lion", "Lamb")
    measured_wd = {*((n, "check_weight_decay") for n in wd_acc if n != "Lamb"), ("Lamb", "check_weight_decay"),
                   *((n, "check_accumulation_matches_mean_step") for n in wd_acc),
                   ("AdamW", "check_trajectory_matches_reference"), ("AdamW", "check_ema"), ("AdamW", "check_clipping")}
    measured_wd |= {("Adafactor", "check_weight_decay"), ("Adafactor", "check_accumulation_matches_mean_step")}
    # 2026-12-04, the designed float64 cases (each attributed by docs/data/backends/torch_float64_patched.py)
    measured_wd |= {("SGD", "check_weight_decay"), ("SGD", "check_accumulation_matches_mean_step"),
                    ("AdamW", "check_weight_decay"), ("AdamW", "check_accumulation_matches_mean_step"),
                    ("AdamW", "check_learning_rate_forms"), ("AdamW", "check_loss_scaling")}
    measured_max = {("SGD", "check_clipping"), ("Adagrad", "check_clipping"), ("Ftrl", "check_clipping"),
                    *((n, "check_clipping") for n in ("Adam", "Adamax", "RMSprop", "Adadelta"))}
    measured_scalar = {("Lamb", c) for c in ("check_trajectory_matches_reference", "check_learning_rate_forms",
                                             "check_ema", "check_clipping",
                                             "check_loss_scaling")}  # its small-beta designed case, 2026-12-04
    measured_mean = {("Adafactor", c) for c in ("check_trajectory_matches_reference", "check_learning_rate_forms",
                                                "check_ema", "check_weight_decay",
                                                "check_accumulation_matches_mean_step", "check_clipping",
                                                "check_loss_scaling")}
    present = {s.name for s in builtin_specs()}  # the installed Keras's optimizers (Keras 2 has no Lion, no AdamW)
    assert on(f.TORCH_WEIGHT_DECAY_FLOAT32) == {(n, c) for n, c in measured_wd if n in present}
    assert on(f.TORCH_FLOAT64_MAXIMUM) == {(n, c) for n, c in measured_max if n in present}
    assert on(f.TORCH_PYTHON_FLOAT_FLOAT32) == {(n, c) for n, c in measured_scalar if n in present}
    assert on(f.TORCH_FLOAT64_MEAN) == {(n, c) for n, c in measured_mean if n in present}
    # The early-Keras-3 declarations those checks carry on TensorFlow are still there, first.
    assert declared[("SGD", "check_clipping")] == (f.CLIP_OPTIONS_ONE_APPLIED, f.TORCH_FLOAT64_MAXIMUM)
    assert declared[("Adam", "check_accumulation_matches_mean_step")] == (f.ACCUMULATION_EVERY_CALL,
                                                                          f.TORCH_WEIGHT_DECAY_FLOAT32)
    # Adafactor's weight-decay cases fail for two causes (float64 mean, weight decay): both are declared.
    assert declared[("Adafactor", "check_weight_decay")] == (f.TORCH_FLOAT64_MEAN, f.TORCH_WEIGHT_DECAY_FLOAT32)


def test_seeds_folded_on_tensorflow_and_torch_lines_not_jax():
    """torch's Generator is seeded with the seed modulo 2**32 on Keras 3.0-3.4 and from 3.14 (check_seed_collisions
    failed on GlorotUniform and HeNormal with the declared message); on 3.5-3.13 wide seeds raise torch's int32
    RuntimeError instead; TensorFlow folds on every Keras 3; JAX draws the designed seeds apart
    (docs/backends.md)."""
    from initcheck.builtin.findings import SEEDS_FOLDED, TORCH_SEED_INT32_OVERFLOW, TORCH_SEEDS_FOLDED

    on = lambda b, v="3.15.1": {"keras": v, "keras_api": "3", "backend": b}  # noqa: E731
    assert SEEDS_FOLDED.applies(on("tensorflow")) and SEEDS_FOLDED.applies(on("tensorflow", "3.8.0"))
    assert not SEEDS_FOLDED.applies(on("torch")) and not SEEDS_FOLDED.applies(on("jax"))
    holds = {v: (TORCH_SEEDS_FOLDED.applies(on("torch", v)), TORCH_SEED_INT32_OVERFLOW.applies(on("torch", v)))
             for v in ("3.0.5", "3.4.1", "3.5.0", "3.13.2", "3.14.1", "3.15.1")}
    assert holds == {"3.0.5": (True, False), "3.4.1": (True, False), "3.5.0": (False, True),
                     "3.13.2": (False, True), "3.14.1": (True, False), "3.15.1": (True, False)}
    assert not TORCH_SEEDS_FOLDED.applies(on("jax")) and not TORCH_SEEDS_FOLDED.applies(on("tensorflow"))
    folded = ("9299 pair(s) of distinct seeds draw identical values, e.g. 0 and 4294967296 (fold modulo "
              "4294967296 (boundary 4294967296+0)); every colliding pair differs by a multiple of 4294967296")
    assert TORCH_SEEDS_FOLDED.matches(folded) and SEEDS_FOLDED.matches(folded)
    overflow = ("165 seed(s) raised something other than ValueError, TypeError, OverflowError, e.g. "
                "(-9223372036854775808, 'RuntimeError: value cannot be converted to type int32 without overflow')")
    assert TORCH_SEED_INT32_OVERFLOW.matches(overflow) and not TORCH_SEEDS_FOLDED.matches(overflow)
    assert not TORCH_SEED_INT32_OVERFLOW.matches(overflow + "; 3 pair(s) of distinct seeds draw identical values")
