"""Teeth of check_clipping's combination part (Keras 2 documents a norm clip with clipvalue as allowed).

The installed Keras 3 rejects every pair, so the doubles clip their own
gradients around a plain SGD: one drops clipvalue when a norm clip is given
(what Keras 2 and Keras 3.0-3.2.0 do), two apply both, in either order (the
documentation gives none).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from initcheck import keras_compat as kc
from initcheck.builtin.optimizers import builtin_specs
from initcheck.checks.evidence import CheckFailure
from initcheck.checks.optimizer import modes

KERAS2_PAIRS = [("clipnorm", "clipvalue"), ("global_clipnorm", "clipvalue")]
CASE = {"shapes": [[3], [2, 2]], "dtype": "float32", "seed": 3, "grad_scale": 1.0, "lr": 0.125,
        "hp": {"momentum": 0.5, "nesterov": False}, "steps": 4, "clip": "clipnorm", "threshold": 0.3,
        "sparse_first": False}


class SelfClippingSGD:
    """SGD that clips its gradients itself: ``order`` is "norm_first", "value_first" or "drop_value"."""

    def __init__(self, order, learning_rate, clipnorm=None, global_clipnorm=None, clipvalue=None, **hp):
        self.inner = kc.optimizer_class("SGD")(learning_rate=learning_rate, **hp)
        self.order, self.clipnorm, self.global_clipnorm, self.clipvalue = order, clipnorm, global_clipnorm, clipvalue

    def _by_norm(self, grads):
        if self.clipnorm:
            grads = [g * min(1.0, self.clipnorm / max(np.linalg.norm(g), 1e-300)) for g in grads]
        if self.global_clipnorm:
            total = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
            grads = [g * min(1.0, self.global_clipnorm / max(total, 1e-300)) for g in grads]
        return grads

    def _by_value(self, grads):
        if self.clipvalue and self.order != "drop_value":
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def apply_gradients(self, pairs):
        pairs = list(pairs)
        grads = [kc.to_numpy(g).astype(np.float64) for g, _ in pairs]
        grads = self._by_norm(self._by_value(grads)) if self.order == "value_first" else self._by_value(
            self._by_norm(grads))
        to_tensor = kc.keras().ops.convert_to_tensor if kc.keras_major() >= 3 else kc.tf().constant
        self.inner.apply_gradients([(to_tensor(g, dtype=v.dtype), v) for g, (_, v) in zip(grads, pairs)])


def _spec(order):
    sgd = next(s for s in builtin_specs() if s.name == "SGD")
    return dataclasses.replace(sgd, factory=lambda **kw: SelfClippingSGD(order, **kw))


@pytest.mark.parametrize("pair", KERAS2_PAIRS, ids=lambda p: "+".join(p))
def test_dropping_clipvalue_is_caught(pair):
    with pytest.raises(CheckFailure, match="both applied"):
        modes.assert_clip_combinations(_spec("drop_value"), CASE, [pair])


@pytest.mark.parametrize("order", ["norm_first", "value_first"])
def test_both_clips_pass_in_either_order(order):
    modes.assert_clip_combinations(_spec(order), CASE, KERAS2_PAIRS)


def test_check_clipping_runs_the_documented_combinations(monkeypatch):
    """check_clipping asks allowed_clip_combinations (Keras 2's pairs here) and fails the dropping double."""
    monkeypatch.setattr(modes, "rejected_clip_combinations", lambda: [])
    monkeypatch.setattr(modes, "allowed_clip_combinations", lambda: KERAS2_PAIRS)
    with pytest.raises(CheckFailure, match="both applied") as info:
        modes.check_clipping(_spec("drop_value"), CASE)
    assert info.value.evidence.check == "check_clipping"
    modes.check_clipping(_spec("norm_first"), CASE)


def test_allowed_combinations_follow_the_installed_keras():
    expected = [] if kc.keras_major() >= 3 else KERAS2_PAIRS
    assert modes.allowed_clip_combinations() == expected
