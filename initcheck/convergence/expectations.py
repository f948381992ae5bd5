"""Declared convergence expectations, and their exact binomial decisions.

An :class:`Expectation` is declared data -- "variance gain
``q = fan_in * E[w^2]`` in [1.6, 2.5] trains the deep narrow ReLU net with
SGD in >= 90 % of seeds" -- selected by the spec's law, never by its name.
Its decision is an exact one-sided binomial test at the run's per-assertion
false-fail rate ``alpha`` (:func:`initcheck.stats.budget`): a "trains" claim
fails only when the upper one-sided ``1 - alpha`` Clopper-Pearson bound falls
below the claimed rate, so a true claim fails with probability ``<= alpha``;
the number of seeds comes from :func:`initcheck.stats.required_seeds`, so a
named smallest discrepancy (the true rate being ``p1`` instead) is caught
with probability ``>= 1 - beta``.  See docs/convergence.md for the arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from ..stats import cp_lower, cp_upper, required_seeds
from .cells import run_cell

__all__ = ["variance_gain", "Expectation", "EXPECTATIONS", "expectations_for", "Decision", "decide",
           "verify_expectation"]


def variance_gain(spec: Any, shape: tuple[int, int]) -> Optional[float]:
    """``q = fan_in * E[w^2]`` of ``spec``'s law for a ``shape`` kernel, or ``None``.

    For a ReLU layer the second moment of the pre-activations is multiplied
    by ``q / 2`` (He et al. 2015, eq. 10), so ``q = 2`` is the critical
    value.  Defined for zero-mean random laws (i.i.d. or orthogonal);
    deterministic laws (constants, identity) get ``None`` and no
    variance-keyed expectation.
    """
    if not (spec.has("iid") or spec.has("structured")):
        return None
    law = spec.law_for(tuple(shape))
    try:
        mean, var = float(law.mean()), float(law.variance())
    except NotImplementedError:
        return None
    if not (math.isfinite(mean) and math.isfinite(var)) or abs(mean) > 1e-12:
        return None
    return spec.fans(tuple(shape)).fan_in * var


@dataclass(frozen=True)
class Expectation:
    """A declared claim about every spec whose law falls in a variance-gain range.

    Args:
        name: Id (appears in evidence and ``-k``).
        task: Built-in task name.
        optimizer: Key of :data:`MATRIX_OPTIMIZERS`.
        gain: ``(low, high)`` range of :func:`variance_gain` on the task's
            hidden kernel shape.
        claim: ``"trains"`` (success rate ``>= p0``), ``"fails"`` (success
            rate ``<= p0``) or ``"diverges"`` (divergence rate ``>= p0``).
        p0: The claimed rate.
        p1: The named smallest discrepancy the check must catch with
            probability ``>= 1 - beta`` (sets the number of seeds).
        gate: Run in the default gate (else only ``thorough``).
        why: The theory behind the claim, with its citation.
    """

    name: str
    task: str
    optimizer: str
    gain: tuple[float, float]
    claim: str
    p0: float
    p1: float
    gate: bool = False
    why: str = ""

    def applies(self, spec: Any) -> bool:
        from .tasks import get_task

        task = get_task(self.task)
        shapes = task.kernel_shapes()
        hidden = shapes[len(shapes) // 2]
        q = variance_gain(spec, hidden)
        return q is not None and self.gain[0] <= q <= self.gain[1]

    def seeds(self, alpha: float, beta: float) -> int:
        """S from the power analysis, rounded up to a multiple of 8."""
        if self.claim == "diverges":
            n = required_seeds("trains", self.p0, self.p1, alpha, beta)
        else:
            n = required_seeds(self.claim, self.p0, self.p1, alpha, beta)
        return int(math.ceil(n / 8.0) * 8)


_DEEP_WHY = ("ReLU layers multiply the pre-activation second moment by q/2 (He et al. 2015, eq. 10); "
             "over 20 layers (q/2)^20 decides whether signal and gradient survive")

#: Declared expectations on the deep narrow ReLU task (hidden kernels 16x16).
EXPECTATIONS: tuple[Expectation, ...] = (
    Expectation("critical_gain_sgd_trains", "deep_narrow_relu", "sgd", (1.6, 2.5), "trains", 0.9, 0.25, gate=True,
                why="q = 2 (He) keeps the signal at every depth; " + _DEEP_WHY),
    Expectation("unit_gain_sgd_stalls", "deep_narrow_relu", "sgd", (0.8, 1.2), "fails", 0.1, 0.75,
                why="q = 1 (Glorot/LeCun/orthogonal on square ReLU layers) shrinks the signal by 2^-20; "
                    + _DEEP_WHY),
    Expectation("unit_gain_adam_rescues", "deep_narrow_relu", "adam", (0.8, 1.2), "trains", 0.9, 0.25,
                why="Adam divides each gradient by its own RMS (Kingma & Ba 2015), undoing the 2^-10 "
                    "gradient shrinkage that stalls SGD"),
    Expectation("tiny_gain_sgd_stalls", "deep_narrow_relu", "sgd", (0.0, 0.05), "fails", 0.1, 0.75,
                why="q <= 0.05 shrinks the signal by >= 40^20: the output is a constant"),
    Expectation("tiny_gain_adam_stalls", "deep_narrow_relu", "adam", (0.0, 0.01), "fails", 0.1, 0.75,
                why="q <= 0.01: the gradient of early layers underflows; no rescaling brings it back"),
    Expectation("huge_gain_sgd_diverges", "deep_narrow_relu", "sgd", (6.0, math.inf), "diverges", 0.9, 0.25,
                why="q >= 6 multiplies the signal by >= 3^20 ~ 3.5e9: loss and gradients overflow"),
)


def expectations_for(spec: Any, profile: str = "ci") -> list[Expectation]:
    """Declared expectations whose variance-gain range holds ``spec`` (gate ones only in ``ci``)."""
    return [e for e in EXPECTATIONS if (e.gate or profile == "thorough") and e.applies(spec)]


@dataclass
class Decision:
    """The verdict of an expectation on a cell, with its error rates."""

    expectation: str
    claim: str
    passed: bool
    count: int
    n: int
    p0: float
    p1: float
    alpha: float
    beta: float
    bound: float
    bound_kind: str
    certified: float
    message: str
    cell: dict[str, Any] = field(default_factory=dict)
    #: The cell's loss curves (:func:`~initcheck.convergence.cells.loss_curves`), for the report's figure.
    curves: Optional[dict] = field(default=None, repr=False)

    def data(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation, "claim": self.claim, "statistic": self.count, "n": self.n,
            "claimed_rate": self.p0, "smallest_detectable": self.p1, "alpha": self.alpha, "beta": self.beta,
            "threshold": self.bound, "threshold_kind": self.bound_kind, "certified_bound": self.certified,
            "cell": self.cell,
        }


def decide(claim: str, count: int, n: int, p0: float, p1: float, alpha: float, beta: float,
           name: str = "") -> Decision:
    """Exact one-sided Clopper-Pearson decision on ``count`` of ``n``.

    ``trains``: fail iff the upper ``1 - alpha`` bound on the success rate is
    below ``p0``.  ``fails`` / ``diverges``: ``count`` is the number of
    successes (``fails``) or divergences (``diverges``); fail iff the lower
    (``fails``) bound exceeds ``p0`` or the upper (``diverges``) bound is
    below ``p0``.  ``certified`` is the other-side bound: the rate the data
    *positively* support at the same ``alpha``.
    """
    if claim in ("trains", "diverges"):
        bound = cp_upper(count, n, alpha)
        passed = bound >= p0
        certified = cp_lower(count, n, alpha)
        kind = "upper"
        what = "success" if claim == "trains" else "divergence"
        msg = (f"{what} rate {count}/{n}: one-sided upper CP bound {bound:.3g} at alpha={alpha:.2g} "
               f"{'reaches' if passed else 'is below'} the claimed {p0:g}; certified >= {certified:.3g}")
    elif claim == "fails":
        bound = cp_lower(count, n, alpha)
        passed = bound <= p0
        certified = cp_upper(count, n, alpha)
        kind = "lower"
        msg = (f"success rate {count}/{n}: one-sided lower CP bound {bound:.3g} at alpha={alpha:.2g} "
               f"{'stays within' if passed else 'exceeds'} the claimed <= {p0:g}; certified <= {certified:.3g}")
    else:
        raise ValueError(f"unknown claim {claim!r}; expected trains, fails or diverges")
    return Decision(name, claim, passed, count, n, p0, p1, alpha, beta, bound, kind, certified, msg)


def verify_expectation(spec: Any, expectation: Expectation, *, alpha: Optional[float] = None,
                       beta: Optional[float] = None, seeds: Optional[int] = None) -> Decision:
    """Run the cell an expectation needs (S from the power analysis) and decide it."""
    from ..stats import budget

    b = budget()
    alpha = b.alpha if alpha is None else alpha
    beta = b.beta if beta is None else beta
    n = seeds or expectation.seeds(alpha, beta)
    cell = run_cell(spec, expectation.optimizer, expectation.task, n)
    count = cell.diverged if expectation.claim == "diverges" else cell.successes
    d = decide(expectation.claim, count, cell.n, expectation.p0, expectation.p1, alpha, beta, expectation.name)
    d.cell, d.curves = cell.row(), cell.curves
    return d
