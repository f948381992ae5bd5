"""The battery: checks x specs x cases, and one runner used by pytest and the CLI.

:mod:`.items` pairs every registered spec with the checks that apply to it
(:func:`plan`); :mod:`.verdicts` runs one pair (:func:`run_one`, through the
search of :mod:`.search`) and returns an :class:`Outcome`, the one verdict
every runner reports; :mod:`.options` holds the options every runner shares
(profile, run seed, error budget, time limit); :mod:`.workers` runs whole
specs in worker processes (``initcheck check --jobs N``).  Importing it
imports no TensorFlow (the check modules it plans with bring NumPy).
"""

from ..reports.results import BAD, STATUSES
from .items import Item, Outcome, check_patterns, load, plan, reproduce_command, spec_label
from .options import (DEFAULT_TIMEOUT, ENV_SEED, PROFILES, CheckTimeout, apply_budget, default_profile,
                      default_timeout, hypothesis_settings, item_seed, run_seed, time_limit)
from .search import CaseNotApplicable, run_check
from .verdicts import blocked_by, expected_failure_for, not_applicable, reset_run_state, run_one

__all__ = ["Outcome", "Item", "plan", "check_patterns", "run_one", "run_check", "hypothesis_settings", "PROFILES", "STATUSES", "BAD",
           "reproduce_command", "expected_failure_for", "blocked_by", "spec_label", "default_profile",
           "apply_budget", "default_timeout", "time_limit", "CheckTimeout", "DEFAULT_TIMEOUT", "load",
           "reset_run_state", "ENV_SEED", "run_seed", "item_seed", "not_applicable", "CaseNotApplicable"]
