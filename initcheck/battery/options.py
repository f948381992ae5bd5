"""The options every runner of the battery shares: the Hypothesis profile
(:func:`default_profile`, :func:`hypothesis_settings`), the run seed of a
``thorough`` run (:func:`run_seed`, :func:`item_seed`), the error budget
(:func:`apply_budget`) and the per-check time limit (:func:`default_timeout`,
:func:`time_limit`).  Importing it imports neither TensorFlow nor NumPy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Any, Iterator, Optional

__all__ = ["PROFILES", "ENV_PROFILE", "ENV_TIMEOUT", "DEFAULT_TIMEOUT", "default_profile", "ENV_SEED", "run_seed",
           "item_seed", "default_timeout", "CheckTimeout", "time_limit", "apply_budget", "hypothesis_settings"]

#: Hypothesis profiles: the gate is derandomized; ``thorough`` varies and digs deeper.
PROFILES = ("ci", "thorough")
ENV_PROFILE = "INITCHECK_PROFILE"
ENV_TIMEOUT = "INITCHECK_TIMEOUT"

#: Seconds one check may run (all its Hypothesis examples) before it fails as timed out.  The slowest
#: built-in check takes about 40 s of CPU on an idle 2-core machine; 600 s leaves room for a loaded one.
DEFAULT_TIMEOUT = 600.0


def default_profile() -> str:
    """``ci`` (derandomized, the gate) unless ``INITCHECK_PROFILE`` says otherwise."""
    return os.environ.get(ENV_PROFILE, "ci").strip() or "ci"


#: Seed of a ``thorough`` run (an integer): every item's Hypothesis search is seeded from it and the
#: item's id, so a thorough run can be recorded and replayed; unset, Hypothesis seeds itself.
ENV_SEED = "INITCHECK_SEED"


def run_seed() -> Optional[int]:
    """The thorough profile's run seed from ``INITCHECK_SEED`` (``None`` when unset; a non-integer is a ``ValueError``)."""
    text = os.environ.get(ENV_SEED, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{ENV_SEED} must be an integer, got {text!r}") from None


def item_seed(seed: int, item_id: str) -> int:
    """The Hypothesis seed of one item of a run seeded with ``seed`` (stable across processes)."""
    import zlib

    return (int(seed) * 1_000_003 + zlib.crc32(item_id.encode("utf-8"))) % 2 ** 32
def default_timeout() -> float:
    """:data:`DEFAULT_TIMEOUT` unless ``INITCHECK_TIMEOUT`` says otherwise (0 disables the limit)."""
    from ..stats import env_number

    return env_number(ENV_TIMEOUT, float, DEFAULT_TIMEOUT, minimum=0.0,
                      what="a number of seconds >= 0 (0: no limit)")


class CheckTimeout(BaseException):
    """Raised inside a check that ran past its time limit.

    A ``BaseException`` so that neither the check body's ``except Exception``
    nor Hypothesis (which would try to shrink it) swallows it.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"timed out after {seconds:g} s")


@contextlib.contextmanager
def time_limit(seconds: Optional[float]) -> Iterator[None]:
    """Raise :class:`CheckTimeout` in the block once it has run ``seconds`` (``None``/0: no limit).

    Uses ``SIGALRM``, so it works in the main thread on POSIX and is a no-op
    elsewhere.  The signal interrupts Python code (a ``time.sleep``, a loop);
    a hang inside one TensorFlow C++ op is interrupted only when the op
    returns control to Python.
    """
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CheckTimeout(float(seconds))  # type: ignore[arg-type]

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # Re-fire every second after the limit: an alarm that lands in a callback whose exceptions Python
    # ignores (a gc callback, a __del__) is lost, the next one is not.
    signal.setitimer(signal.ITIMER_REAL, float(seconds), 1.0)  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def apply_budget(false_fail: Optional[float], false_pass: Optional[float]) -> None:
    """Set the run's error budget (only when given); a rate outside (0, 1) is a ``ValueError``."""
    if false_fail is None and false_pass is None:
        return
    for name, value in (("false-fail", false_fail), ("false-pass", false_pass)):
        if value is not None and not (0.0 < value < 1.0):
            raise ValueError(f"--initcheck-{name} must be a probability in (0, 1), got {value}")
    from .. import stats

    stats.configure(false_fail=false_fail, false_pass=false_pass)


def hypothesis_settings(profile: str, examples: int, shrink: bool = True) -> Any:
    """Settings for one check run (never touches the user's global profile).

    ``shrink=False`` skips shrinking, for items declared to fail: their
    minimal case is already written in the declaration's evidence.
    """
    from hypothesis import HealthCheck, Phase, settings

    if profile not in PROFILES:
        raise ValueError(f"unknown initcheck profile {profile!r}; expected one of {PROFILES}")
    common = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=False,
                  report_multiple_bugs=False)
    if profile == "ci":
        phases = (Phase.explicit, Phase.generate) + ((Phase.shrink,) if shrink else ())
        return settings(max_examples=examples, derandomize=True, phases=phases, **common)
    phases = (Phase.explicit, Phase.reuse, Phase.generate) + ((Phase.shrink,) if shrink else ())
    return settings(max_examples=examples * 10, derandomize=False, phases=phases, **common)
