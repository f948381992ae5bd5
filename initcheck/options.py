"""Run options shared by the pytest plugin and the CLI (no TensorFlow import)."""

from __future__ import annotations

import os
from typing import Optional

__all__ = ["default_profile", "apply_budget"]

ENV_PROFILE = "INITCHECK_PROFILE"


def default_profile() -> str:
    """``ci`` (derandomized, the gate) unless ``INITCHECK_PROFILE`` says otherwise."""
    return os.environ.get(ENV_PROFILE, "ci").strip() or "ci"


def apply_budget(false_fail: Optional[float], false_pass: Optional[float]) -> None:
    """Set the run's error budget (only when given)."""
    if false_fail is None and false_pass is None:
        return
    for name, value in (("false-fail", false_fail), ("false-pass", false_pass)):
        if value is not None and not (0.0 < value < 1.0):
            raise ValueError(f"--initcheck-{name} must be a probability in (0, 1), got {value}")
    from . import stats

    stats.configure(false_fail=false_fail, false_pass=false_pass)
