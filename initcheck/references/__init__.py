"""References: readable NumPy formulas written from papers and documentation.

Nothing in this package imports TensorFlow or calls the code under test; a
reference that did would be a circular oracle.
"""

from __future__ import annotations

__all__ = ["optimizers"]
