"""Optimizer checks: the update is the documented rule, step after step, in every mode.

* :mod:`.contract` -- the optimizer builds and takes one sane step (every
  other optimizer check depends on it);
* :mod:`.runner` -- case data (initial weights, gradients from the case
  seed), the Keras runner, the float64 reference run and its tolerance, and
  the one comparison every check makes (:func:`~.runner.expect_reference`);
* :mod:`.rules` -- the rule itself: trajectories, documented defaults, fixed
  points (lr 0, zero gradients), element-wise coupling, descent;
* :mod:`.modes` -- every mode: sparse, clipping, learning-rate forms, weight
  decay, EMA, accumulation, loss scaling, checkpoint resume, MirroredStrategy,
  config round trip;
* :mod:`.saving` -- resume through Keras's own weights file (every Keras 3
  backend).
"""

from __future__ import annotations

from . import contract, modes, rules, saving  # noqa: F401 - registers the checks
from .runner import (C_ULPS, PERTURB_ULPS, SPREAD_FACTOR, KerasRun, Reference, Tolerances, compare_to_reference,
                     expect_reference, gradient_sequence, heuristic_tolerance, initial_weights, reference,
                     reference_trace, run_keras, tolerance)

__all__ = ["C_ULPS", "PERTURB_ULPS", "SPREAD_FACTOR", "KerasRun", "Reference", "Tolerances", "compare_to_reference",
           "expect_reference", "gradient_sequence", "heuristic_tolerance", "initial_weights", "reference",
           "reference_trace", "run_keras", "tolerance"]
