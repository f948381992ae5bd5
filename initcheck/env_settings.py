"""Numbers read from ``INITCHECK_*`` environment variables, with errors that name the variable.

One reader for every setting the environment may give (``INITCHECK_TIMEOUT``, ``INITCHECK_JOBS``, the
error budget's rates): unset or blank means the default; anything else must parse as the kind asked for
and meet its lower bound, or it is a ``ValueError`` saying which variable holds what.  Imports nothing heavy.
"""

from __future__ import annotations

import os
from typing import Callable, Optional, TypeVar

__all__ = ["env_number"]

N = TypeVar("N", int, float)


def env_number(name: str, parse: Callable[[str], N], default: N, *, minimum: Optional[N] = None,
               what: str = "a number") -> N:
    """``parse(os.environ[name])``, or ``default`` when it is unset or blank.

    Args:
        name: The environment variable.
        parse: ``int`` or ``float``.
        default: The value when the variable is unset or blank.
        minimum: The smallest value allowed (inclusive), if any.
        what: What the value must be, for the error message ("a positive integer").

    Raises:
        ValueError: The value does not parse or is below ``minimum``; the message names the variable.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = parse(text)
    except ValueError:
        raise ValueError(f"{name} must be {what}, got {text!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {what}, got {text!r}")
    return value
