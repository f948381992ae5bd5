"""Evidence: what a check saw, whether it passed or not.

Every check returns an :class:`Evidence` when it passes and raises a
:class:`CheckFailure` carrying one when it fails.  Runners (pytest, the CLI,
reports) only ever read evidence; they never re-derive verdicts.

Check bodies build evidence with :func:`ok`, :func:`fail` and, for
statistical assertions, :func:`statistical_verdict`; they never type their
own name: :func:`~initcheck.checks.register_check` stamps the registered name
(and the spec's) on whatever a body returns or raises.
"""

from __future__ import annotations

import json
import os
import traceback as _tb
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

__all__ = ["Evidence", "CheckFailure", "DeclaredFailure", "Parts", "format_evidence", "ok", "fail", "consequence",
           "statistical_verdict", "plugin_traceback"]


@dataclass
class Evidence:
    """The record a check leaves behind.

    Attributes:
        check: Name of the check, e.g. ``"check_seed_contract"``.
        spec: Qualified spec name, e.g. ``"keras>GlorotUniform"``.
        passed: The verdict.
        message: One sentence a person can act on.
        case: The drawn case (shape, dtype, seed, ...) as plain data.
        data: Measurements: statistic, threshold, sample size, law,
            observed vs expected values, budget share, per-layer curves...
        reproduce: A command that replays exactly this case.
    """

    check: str
    spec: str
    passed: bool
    message: str
    case: Mapping[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    reproduce: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, for JSON reports."""
        return {
            "check": self.check,
            "spec": self.spec,
            "passed": self.passed,
            "message": self.message,
            "case": dict(self.case),
            "data": _plain(self.data),
            "reproduce": self.reproduce,
        }


class CheckFailure(AssertionError):
    """A check found the object under test breaking its promise.

    It is an ``AssertionError`` so pytest reports it as a test failure (not
    an error) and Hypothesis shrinks towards the smallest failing case.
    """

    def __init__(self, evidence: Evidence):
        self.evidence = evidence
        super().__init__(format_evidence(evidence))

    def refresh(self) -> "CheckFailure":
        """Re-render the message after a runner stamped names or the replay command on the evidence."""
        self.args = (format_evidence(self.evidence),)
        return self


class DeclaredFailure(CheckFailure):
    """A failure that the spec's own declarations predict: reported as an expected failure.

    A check raises it where a declared property of the spec has a known
    consequence that the check can verify (an initializer declaring
    ``fan_convention="shape"`` measured at the *shape* fans on a layer whose
    true fans differ; a seeded initializer that ``MultiHeadAttention`` clones
    into identical kernels).  The consequence is checked, not waived: anything
    else is a plain :class:`CheckFailure`.  Runners report it as ``xfailed``
    with :attr:`expected`'s reason.
    """

    def __init__(self, evidence: Evidence, expected: Any):
        self.expected = expected
        super().__init__(evidence)


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into JSON-friendly values."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        np = None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if np is not None:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def format_evidence(evidence: Evidence) -> str:
    """Render evidence as the multi-line text shown in a failure."""
    verdict = "PASSED" if evidence.passed else "FAILED"
    lines = [f"{evidence.check} {verdict} on {evidence.spec}: {evidence.message}"]
    if evidence.case:
        lines.append("  case: " + json.dumps(_plain(evidence.case), sort_keys=True))
    for key, value in evidence.data.items():
        if key in ("figure", "failures"):  # the report's arrays; the failed parts (the message lists them)
            continue
        text = json.dumps(_plain(value), sort_keys=True)
        if len(text) > 400:
            text = text[:400] + " ..."
        lines.append(f"  {key}: {text}")
    if evidence.reproduce:
        lines.append(f"  reproduce: {evidence.reproduce}")
    return "\n".join(lines)


def ok(message: str, case: Mapping[str, Any], **data: Any) -> Evidence:
    """Passing evidence (check and spec names are stamped by the registry)."""
    return Evidence(check="", spec="", passed=True, message=message, case=dict(case), data=data)


def fail(message: str, case: Mapping[str, Any], **data: Any) -> CheckFailure:
    """A failure to ``raise`` (check and spec names are stamped by the registry)."""
    return CheckFailure(Evidence(check="", spec="", passed=False, message=message, case=dict(case), data=data))


class Parts:
    """The independent properties one check tests, each run and reported on its own.

    A check that tests several properties (each mode, dense and sparse, the
    rejection of conflicting options and the clipping itself...) runs them
    all through :meth:`run`, so that one failure -- declared or not -- can
    never hide the next: a declared failure of one part and a new failure
    of another both show.  :meth:`verdict` passes when every part passed;
    otherwise it raises one failure whose message joins the message of
    *every* failed part (each begins with its part's name, so an
    ``ExpectedFailure(match=...)`` can name the part it expects) and whose
    evidence lists every part's result.  A part that raises anything else
    than a :class:`CheckFailure` is a failed part too (``"<part>: raised
    TypeError: ..."``): the other parts still run.
    """

    def __init__(self, case: Mapping[str, Any]):
        self.case = case
        self.results: list[dict[str, Any]] = []

    def run(self, name: str, body: Callable[[], Optional["Evidence"]]) -> Optional["Evidence"]:
        """Run part ``name``; record its evidence (or failure) and return the evidence, ``None`` if it failed."""
        try:
            ev = body()
        except CheckFailure as failure:
            self._record(name, False, failure.evidence.message, failure.evidence.data)
            return None
        except Exception as exc:  # a crash in one part must not stop the others
            self.failed_with(name, exc)
            return None
        self._record(name, True, ev.message if isinstance(ev, Evidence) else "passed",
                     ev.data if isinstance(ev, Evidence) else {})
        return ev

    def failed_with(self, name: str, exc: BaseException) -> None:
        """Record part ``name`` as failed by ``exc``, raised outside :meth:`run` (a step every part needs)."""
        if isinstance(exc, CheckFailure):
            self._record(name, False, exc.evidence.message, exc.evidence.data)
        else:
            self._record(name, False, f"raised {type(exc).__name__}: {str(exc)[:300]}", {})

    def _record(self, name: str, passed: bool, message: str, data: Mapping[str, Any]) -> None:
        if not message.startswith(name):
            message = f"{name}: {message}"
        self.results.append({"part": name, "passed": passed, "message": message, "data": dict(data)})

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["passed"]]

    def verdict(self, **data: Any) -> "Evidence":
        """Pass (every part passed) or raise naming every failed part; ``data`` goes into the evidence."""
        record = dict(data, parts=self.results)
        failed = self.failed
        if failed:
            passed = [r["part"] for r in self.results if r["passed"]]
            tail = f" [{len(failed)} of {len(self.results)} parts failed" + (
                f"; passed: {', '.join(passed)}]" if passed else "]")
            record["failures"] = [{"message": r["message"], "data": r["data"]} for r in failed]
            raise fail("; ".join(r["message"] for r in failed) + tail, self.case, **record)
        return ok("; ".join(r["message"] for r in self.results), self.case, **record)
def consequence(message: str, case: Mapping[str, Any], expected: Any, **data: Any) -> DeclaredFailure:
    """A :class:`DeclaredFailure` to ``raise``: the known consequence ``expected`` (an ExpectedFailure) was observed."""
    return DeclaredFailure(Evidence(check="", spec="", passed=False, message=message, case=dict(case),
                                    data={**data, "declared_by_spec": expected.reason}), expected)


#: Code that is never the plugin's own: dropped from tracebacks shown to a plugin author.
_FRAMEWORK_DIRS = tuple(os.path.dirname(os.path.dirname(os.path.abspath(p))) + os.sep for p in (__file__,))
_FRAMEWORK_PACKAGES = ("hypothesis", "_pytest", "pluggy", "pytest")
_LIBRARY_PACKAGES = ("tensorflow", "keras", "tf_keras", "numpy", "scipy", "absl")


def _package_of(filename: str) -> Optional[str]:
    parts = os.path.abspath(filename).split(os.sep)
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            i = parts.index(marker)
            return parts[i + 1] if i + 1 < len(parts) else None
    return None


def plugin_traceback(exc: BaseException, limit: int = 12) -> str:
    """The traceback of ``exc`` cut to the plugin's own frames.

    initcheck's, Hypothesis's and pytest's frames are dropped; a run of
    frames inside TensorFlow, Keras, NumPy or SciPy is folded into one line
    naming the library, keeping the frame that raised.  What remains is the
    plugin author's code and the exception.
    """
    frames = _tb.extract_tb(exc.__traceback__)
    lines: list[str] = []
    folded = 0
    for i, fr in enumerate(frames):
        fn = os.path.abspath(fr.filename)
        pkg = _package_of(fn)
        if fn.startswith(_FRAMEWORK_DIRS) or pkg in _FRAMEWORK_PACKAGES:
            continue
        if pkg in _LIBRARY_PACKAGES and i != len(frames) - 1:
            folded += 1
            continue
        if folded:
            lines.append(f"  ... {folded} frame(s) in libraries")
            folded = 0
        lines.append(f'  File "{fr.filename}", line {fr.lineno}, in {fr.name}')
        if fr.line:
            lines.append(f"    {fr.line.strip()}")
    lines = lines[-2 * limit:]
    if not lines:  # nothing of the plugin's own: the crash is in initcheck or a library; show where
        return "".join(_tb.format_exception(type(exc), exc, exc.__traceback__, limit=-6)).rstrip()
    head = "Traceback (the plugin's frames; initcheck, Hypothesis and pytest frames dropped):"
    return "\n".join([head, *lines, *_tb.format_exception_only(type(exc), exc)]).rstrip()


def statistical_verdict(results: list, case: Mapping[str, Any], data: Mapping[str, Any], what: str) -> Evidence:
    """Pass or raise on a list of :class:`~initcheck.stats.TestResult` (every assertion of one check).

    The evidence carries every test's statistic, threshold, ``n``, error
    rates and smallest detectable discrepancy, and the run's budget; a
    failure's message names every failing test with its figures.
    """
    from .. import stats

    b = stats.budget()
    record: dict[str, Any] = dict(data)
    record.update({"tests": [r.to_dict() for r in results], "alpha_per_check": b.alpha,
                   "budget_share": 1.0 / b.max_assertions, "budget": b.describe()})
    failed = [r for r in results if not r.passed]
    if failed:
        # Every failed test is named (a declared failure of one must not hide another).
        # Each failed test is also one part of the failure (``failures``): a declaration matches parts one by one.
        parts = [(f"{what}: {r.name} statistic {r.statistic:.6g} > threshold {r.threshold:.6g} at n={r.n} "
                  f"(false-fail rate {r.alpha:.3g}); observed {_short(r.observed)} vs expected {_short(r.expected)}",
                  r.to_dict()) for r in failed]
        record["failures"] = [{"message": m, "data": {"test": d}} for m, d in parts]
        raise fail("; ".join(m for m, _ in parts), case, **record)
    guaranteed = "; ".join(f"{r.name}: {r.discrepancy_unit} >= {r.smallest_detectable:.4g} caught w.p. >= "
                           f"1-{r.beta:.2g}" for r in results)
    return ok(f"{what} passed at n={results[0].n if results else 0}; guaranteed detectable: {guaranteed}", case,
              **record)


def _short(d: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items()
                     if not isinstance(v, (list, dict)))
