"""Running forward-error bounds for the NumPy reference rules (pure NumPy, no TensorFlow).

The optimizer checks compare an implementation running in a case dtype
(float32 or float64) with the float64 reference rule.  How far apart may
they be?  This module answers with a bound that holds by construction for
the rule's arithmetic: the reference rule is run once more on
:class:`Bounded` numbers, which carry next to every float64 value an
absolute bound on the error that an evaluation of the same formula in the
case dtype can have accumulated (a running first-order error analysis in
the sense of Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd
ed., Sections 2.2-3.3, with the second-order terms kept where they are
cheap).  Nothing in the reference rules is special-cased by name: the rules
in :mod:`initcheck.references.optimizers` are ordinary NumPy code, and
``Bounded`` implements ``__array_ufunc__`` / ``__array_function__`` for the
operations they use.

The model
=========

``u`` is the unit roundoff of the dtype (``2**-24`` for float32, ``2**-53``
for float64); every basic operation ``+ - * /`` and ``sqrt`` is correctly
rounded (IEEE 754), i.e. ``fl(x op y) = (x op y)(1 + d)``, ``|d| <= u``.
For operands ``x~ = x + dx``, ``|dx| <= e_x`` (likewise ``y``) the rules
are (``z = x op y`` the exact result on exact operands)::

    x +- y : e_x + e_y + u (|x| + |y|)
    x * y  : |y| e_x + |x| e_y + e_x e_y + u |z|
    x / y  : (e_x + |z| e_y) / (|y| - e_y) + u |z|        (inf when e_y >= |y|)
    sqrt x : e_x / (sqrt(x) + sqrt(max(x - e_x, 0))) + u |z|
    x ** p : max over x~ in [x - e_x, x + e_x] of |x~**p - x**p|
             + |z| (exp(|ln x| e_p) - 1) + c_pow u |z|
    max, min, clip, abs, -x : the operands' largest error (1-Lipschitz, exact)
    sign x : 0 where |x| > e_x, else 2
    sum of n terms (any order) : sum e_i + (n - 1) u sum |x_i|

(every propagated part is multiplied by ``1 + u`` for the rounding of the
perturbed result).  ``c_pow = max(POW_ULPS, n - 1)`` for an integer
exponent ``n`` (a library ``pow`` within ``POW_ULPS`` unit roundoffs, i.e.
about one ulp, or ``n - 1`` repeated multiplications) and ``POW_ULPS``
otherwise; this accuracy of ``pow`` is the one assumption beyond IEEE 754
arithmetic.  An addition with an exact zero operand and a product with an
exact power of two are not charged a rounding.  Two
operands that carry no error and are scalars (constants computed from the
hyperparameters, such as ``1 - beta``) are combined *exactly* (rational
arithmetic) and charged the exact rounding of the result to the dtype: by
Sterbenz's lemma ``1 - beta`` is often exact, and charging it ``u`` would
make ``1 - 0.999`` look a thousand times less accurate than it is.

Inputs.  Weights and gradients are the dtype-rounded values the checks feed
to both sides (no error).  A constant that is not a float32 number (a
literal such as ``0.96``, ``1/sqrt(t)``) is charged its rounding to the
dtype; hyperparameters are drawn float32-exact and carry none; a learning
rate computed by a Keras schedule carries ``lr_ulps`` float32 ulps.

Two bounds at once.  Each ``Bounded`` carries two error columns: the
implementation in the case dtype (column 0, inputs with their
representation errors) and the float64 reference itself (column 1, unit
roundoff ``2**-53``, exact inputs).  The comparison then uses
``|impl - ref| <= |impl - exact| + |ref - exact|``.

Evaluation order: the factor
============================

An implementation need not evaluate the rule in the reference's order or
form.  The bound covers that as follows.

1. *Sums.*  The sum rule charges ``u (|x| + |y|)``, not ``u |x + y|``.  In
   a tree of binary additions every leaf is a direct operand of exactly one
   addition, so the charged rounding ``R`` of a sum of ``n`` terms is at
   least ``u sum |x_i|``, while *any* order of evaluating the same ``n``
   terms errs by at most ``gamma_{n-1} sum |x_i| ~ (n - 1) u sum |x_i|``
   (Higham, eq. 4.4).  So ``(n - 1) R`` covers every order; the rules'
   sums have at most three terms (Nesterov's ``w + m v - lr g``,
   FTRL's ``quadratic``), hence factor 2.
2. *Products and quotients* in any order and grouping have the same
   number of roundings, each ``u`` relative to the same product: a chain
   of ``n`` factors errs by ``gamma_{n-1}`` whatever the order; the rules
   are sums of such chains.
3. *Interpolations* ``c1 x + c2 y`` with ``c1 + c2 = 1`` (moment
   estimates, EMAs: ``b m + (1 - b) g``) are the one place where
   implementations change the *terms*: Keras writes ``m + (g - m)(1 - b)``,
   whose roundings scale with ``|m|``, not ``|b m|`` -- for ``b`` near 0 an
   unbounded ratio, which no constant factor can cover (it is what made
   the heuristic tolerance fail for Adam at ``beta_2 = 0``).  A product
   of a scalar and an array remembers its coefficient, and a sum of two
   such products whose coefficients add up to 1 is charged the largest
   first-order bound of the forms in use, each with the rounding of its
   coefficient: ``c1 x + c2 y`` (the formula; Keras's RMSprop, Adadelta,
   Lion, EMA), ``x + c2 (y - x)`` for every ``c2`` (Keras's Adam family,
   Nadam, Adamax, LAMB) and ``y + c1 (x - y)`` where ``c1 <= 1/2`` (a
   ``lerp`` that switches forms at weight 1/2, as PyTorch's does).  The
   mirror image of Keras's form for ``c1 > 1/2`` (``g + (m - g) b`` at
   ``b = 0.9999``, which loses four digits) is not covered: no library
   writes it.
4. *Extra operations.*  An implementation may round a constant that the
   reference computes in one Python expression in up to two operations
   (``1 / sqrt(t)``), rescale an unclipped gradient by
   ``c / max(norm, c) = 1`` (two roundings; the clipping checks declare
   them as gradient input error), or compute ``w * wd * lr`` as
   ``w * (lr * wd)``.  Each adds at most one rounding to a reference
   operation whose own charge is at least as large.

Items 1, 2 and 4 are covered by :data:`FACTOR` ``= 2`` applied to the
implementation column; the reference column needs no factor (it *is* the
reference's own evaluation; its sums are bounded for any order, which
covers NumPy's pairwise summation).  The tolerance is therefore::

    tol = FACTOR * bound_impl + bound_ref

What the bound does not cover (by design): a branch decided by a
comparison within rounding of its threshold -- Python ``if`` in the rule
(clipping at ``norm == clipnorm``, LAMB's zero norms) follows the
reference's branch; ``np.where``, ``max``/``min``, ``clip`` and ``sign`` are
covered.  Such ties occur with probability ``O(u)`` per case; Lion's sign
ties are excluded by the checks anyway.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = [
    "Bounded",
    "BoundUnavailable",
    "FACTOR",
    "POW_ULPS",
    "TraceBounds",
    "analysis",
    "bounded",
    "trajectory_bounds",
    "unit_roundoff",
]

#: Factor on the implementation's bound covering other evaluation orders and forms (module docstring).
FACTOR = 2.0
#: Accuracy assumed of a library ``pow``, in unit roundoffs u (2 u is about one ulp; glibc's pow is
#: within one ulp).  Integer exponents n also allow n - 1 roundings (repeated multiplication).
POW_ULPS = 2.0
#: Tolerance (relative, float64) for recognising coefficients that add up to 1.
_ONE_SUM_TOL = 1e-12

U64 = 2.0 ** -53


class BoundUnavailable(TypeError):
    """The rule used an operation without an error rule (or dropped a bound with ``float()``)."""


def unit_roundoff(dtype: Any) -> float:
    """``u`` of a floating dtype: ``2**-24`` for float32, ``2**-53`` for float64."""
    return float(np.finfo(np.dtype(dtype)).eps) / 2.0


@dataclass(frozen=True)
class _Context:
    dtype: np.dtype
    u: np.ndarray  # (2,): implementation in dtype, float64 reference


_CTX: contextvars.ContextVar[Optional[_Context]] = contextvars.ContextVar("initcheck_error_bounds", default=None)


@contextlib.contextmanager
def analysis(dtype: Any) -> Iterator[_Context]:
    """Run the enclosed ``Bounded`` arithmetic for an implementation in ``dtype``."""
    ctx = _Context(np.dtype(dtype), np.array([unit_roundoff(dtype), U64]))
    token = _CTX.set(ctx)
    try:
        yield ctx
    finally:
        _CTX.reset(token)


def _ctx() -> _Context:
    ctx = _CTX.get()
    if ctx is None:
        raise BoundUnavailable("Bounded arithmetic outside error_bounds.analysis(dtype)")
    return ctx


@functools.lru_cache(maxsize=4096)
def _scalar_representation_error(v: float, dtype: np.dtype) -> np.ndarray:
    arr = np.asarray(v)
    err = _array_representation_error(arr, dtype)
    err.setflags(write=False)
    return err


def _representation_error(v: np.ndarray, ctx: _Context) -> np.ndarray:
    """Error columns of a constant: its rounding to the dtype, plus float64's when it is not a float32 number."""
    if v.ndim == 0:
        return _scalar_representation_error(float(v), ctx.dtype)
    return _array_representation_error(v, ctx.dtype)


def _array_representation_error(v: np.ndarray, dtype: np.dtype) -> np.ndarray:
    with np.errstate(all="ignore"):
        r32 = np.abs(v.astype(np.float32).astype(np.float64) - v)
        inexact = np.where(np.isfinite(r32) & (r32 > 0), U64 * np.abs(v), 0.0)
        rdt = np.abs(v.astype(dtype).astype(np.float64) - v) if dtype != np.float64 else np.zeros_like(v)
    rdt = np.nan_to_num(rdt, nan=np.inf)
    return np.stack([rdt + inexact, inexact], axis=-1)


class Bounded(NDArrayOperatorsMixin):
    """A float64 array with two absolute error bounds per element.

    ``value``: the float64 values (bit for bit those the plain reference
    computes).  ``err``: shape ``value.shape + (2,)``; ``err[..., 0]``
    bounds the error of an implementation in the dtype of the enclosing
    :func:`analysis`, ``err[..., 1]`` that of the float64 reference.
    """

    __slots__ = ("value", "err", "lin")
    __array_priority__ = 100
    #: Duck-type marker read by :mod:`initcheck.references.optimizers` (keep the number, do not ``float()`` it).
    _tracks_error = True

    def __init__(self, value: Any, err: Any = None, lin: Optional[tuple] = None):
        self.value = value if type(value) is np.ndarray and value.dtype == np.float64 else np.asarray(
            value, dtype=np.float64)
        shape = self.value.shape + (2,)
        if err is None:
            err = np.zeros(shape)
        elif type(err) is not np.ndarray or err.shape != shape:
            err = np.broadcast_to(np.asarray(err, dtype=np.float64), shape)
        self.err = err
        # (coefficient, rest): this value is coefficient * rest, with ``rest()`` computing the
        # Bounded rest on demand (only an interpolation needs it).
        self.lin = lin

    # ------------------------------------------------------------ array protocol
    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def impl(self) -> np.ndarray:
        """Bound for the implementation in the analysed dtype."""
        return np.asarray(self.err[..., 0])

    @property
    def ref(self) -> np.ndarray:
        """Bound for the float64 reference."""
        return np.asarray(self.err[..., 1])

    def copy(self) -> "Bounded":
        return Bounded(self.value.copy(), np.array(self.err), self.lin)

    def __len__(self) -> int:
        return len(self.value)

    def __getitem__(self, index: Any) -> "Bounded":
        idx = index if isinstance(index, tuple) else (index,)
        eidx = idx + (slice(None),) if any(i is Ellipsis for i in idx) else idx + (Ellipsis, slice(None))
        return Bounded(self.value[index], self.err[eidx])

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        raise BoundUnavailable("float() of a Bounded number would drop its error bound")

    def __repr__(self) -> str:
        return f"Bounded({self.value!r}, impl={self.impl!r}, ref={self.ref!r})"

    def sum(self, axis: Any = None, keepdims: bool = False) -> "Bounded":
        return _reduce_sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> "Bounded":
        return _reduce_mean(self, axis, keepdims)

    # ---------------------------------------------------------------- dispatch
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs.get("out") is not None or kwargs.get("where", True) is not True:
            raise BoundUnavailable(f"no error rule for {ufunc.__name__}.{method} with {sorted(kwargs)}")
        if ufunc in _COMPARISONS:
            return _compare(ufunc, *inputs)
        rule = _UFUNC_RULES.get(ufunc)
        if rule is None:
            raise BoundUnavailable(f"no error rule for numpy.{ufunc.__name__}")
        ctx = _ctx()
        args = [bounded(x) for x in inputs]
        if all(a.value.ndim == 0 and a.lin is None for a in args):
            return _scalar_op(ufunc, rule, ctx, args)
        return rule(ctx, *args)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rule = _FUNCTION_RULES.get(func)
        if rule is None:
            raise BoundUnavailable(f"no error rule for numpy.{getattr(func, '__name__', func)}")
        return rule(*args, **kwargs)


#: Results of operations on scalars (hyperparameter arithmetic: ``1 - beta``, ``beta ** t``, bias
#: corrections), keyed by the operands' values and bounds: the rules repeat them at every step and for
#: every variable, and each costs as much Python as an operation on a whole array.
_SCALAR_RESULTS: dict = {}
_SCALAR_RESULTS_MAX = 65536


def _scalar_op(ufunc: Any, rule: Callable[..., Bounded], ctx: _Context, args: list) -> Bounded:
    key = (ufunc, ctx.dtype.str) + tuple((float(a.value), float(a.err[0]), float(a.err[1])) for a in args)
    hit = _SCALAR_RESULTS.get(key)
    if hit is not None:
        return Bounded(hit[0], hit[1])
    out = rule(ctx, *args)
    if out.lin is None and out.value.ndim == 0:
        if len(_SCALAR_RESULTS) >= _SCALAR_RESULTS_MAX:
            _SCALAR_RESULTS.clear()
        err = np.array(out.err)
        err.setflags(write=False)
        _SCALAR_RESULTS[key] = (out.value, err)
    return out


def bounded(x: Any, err: Any = None) -> Bounded:
    """``x`` as a :class:`Bounded`: unchanged if it is one; a constant gets its representation error."""
    if isinstance(x, Bounded):
        return x
    if isinstance(x, Decision):
        x = np.asarray(x)
    v = np.asarray(x, dtype=np.float64)
    if err is not None:
        return Bounded(v, err)
    return Bounded(v, _representation_error(v, _ctx()))


class Decision(np.ndarray):
    """A boolean array from comparing Bounded numbers; ``uncertain`` marks elements within rounding of the tie."""

    uncertain: np.ndarray

    def __array_finalize__(self, obj: Any) -> None:
        self.uncertain = getattr(obj, "uncertain", np.zeros(np.shape(self), dtype=bool))


_COMPARISONS = {np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal}


def _compare(ufunc: Any, *inputs: Any) -> Decision:
    ctx = _ctx()
    a, b = (bounded(x) for x in inputs)
    out = np.asarray(ufunc(a.value, b.value)).view(Decision)
    with np.errstate(all="ignore"):
        out.uncertain = np.asarray(np.abs(a.value - b.value) <= a.err[..., 0] + b.err[..., 0])
    del ctx
    return out


# ----------------------------------------------------------------------- helpers
def _col(v: np.ndarray) -> np.ndarray:
    """Values broadcast against error columns."""
    return np.asarray(v)[..., None]


def _finish(z: np.ndarray, prop: np.ndarray, ctx: _Context, rounding: bool = True) -> Bounded:
    """Result ``z`` with propagated error ``prop``; plus the rounding of the perturbed result."""
    if not rounding:
        return Bounded(z, prop)
    u = ctx.u
    return Bounded(z, prop * (1.0 + u) + u * _col(np.abs(z)))


def _zero_mask(x: Bounded) -> np.ndarray:
    """Elements that are exactly zero and carry no error: adding or subtracting them is exact."""
    return (x.value == 0) & ~x.err.any(axis=-1)


def _is_exact_power_of_two(x: Bounded) -> bool:
    """An error-free scalar +-2^k (1 included): multiplying by it is exact (barring under/overflow)."""
    if x.value.ndim != 0 or x.err.any():
        return False
    v = abs(float(x.value))
    return v > 0 and math.isfinite(v) and math.frexp(v)[0] == 0.5


def _is_exact_scalar(x: Bounded) -> bool:
    return x.value.ndim == 0 and not x.err.any() and math.isfinite(x.value)


def _exact_scalar_op(op: Callable[[Fraction, Fraction], Fraction], x: Bounded, y: Bounded, z: np.ndarray,
                     ctx: _Context) -> Optional[Bounded]:
    """Two error-free scalars: charge the exact rounding of the rational result to each column's dtype."""
    if not (_is_exact_scalar(x) and _is_exact_scalar(y)):
        return None
    err = _exact_scalar_error(op, float(x.value), float(y.value), ctx.dtype)
    return None if err is None else Bounded(z, err)


@functools.lru_cache(maxsize=8192)
def _exact_scalar_error(op: Callable[[Fraction, Fraction], Fraction], xv: float, yv: float,
                        dtype: np.dtype) -> Optional[np.ndarray]:
    """The error columns of ``op(xv, yv)`` rounded to ``dtype`` and to float64 (cached: the rules combine
    the same hyperparameters at every step and for every variable)."""
    try:
        exact = op(Fraction(xv), Fraction(yv))
    except ZeroDivisionError:
        return None
    z64 = float(exact)  # correctly rounded to float64
    e64 = abs(Fraction(z64) - exact)
    zdt = float(np.asarray(z64).astype(dtype))
    edt = abs(Fraction(zdt) - exact) if math.isfinite(zdt) else math.inf
    # Fractions are exact; the float conversions of the (tiny) errors round up by at most one ulp.
    err = np.array([float(edt) * (1 + 2 * U64), float(e64) * (1 + 2 * U64)])
    err.setflags(write=False)
    return err


def _op_add(a: Fraction, b: Fraction) -> Fraction:
    return a + b


def _op_sub(a: Fraction, b: Fraction) -> Fraction:
    return a - b


def _op_mul(a: Fraction, b: Fraction) -> Fraction:
    return a * b


def _op_div(a: Fraction, b: Fraction) -> Fraction:
    return a / b


# --------------------------------------------------------------------- ufuncs
def _add_like(sign: float) -> Callable[..., Bounded]:
    def rule(ctx: _Context, x: Bounded, y: Bounded) -> Bounded:
        z = np.add(x.value, y.value) if sign > 0 else np.subtract(x.value, y.value)
        exact = _exact_scalar_op(_op_add if sign > 0 else _op_sub, x, y, z, ctx)
        if exact is not None:
            return exact
        if sign > 0 and x.lin is not None and y.lin is not None:
            interp = _interpolation(ctx, x, y, z)
            if interp is not None:
                return interp
        u = ctx.u
        prop = x.err + y.err
        rounding = u * (_col(np.abs(x.value)) + _col(np.abs(y.value)))
        if not (x.value.all() and y.value.all()):  # adding an exact zero is exact
            exact = _zero_mask(x) | _zero_mask(y)
            if exact.any():
                rounding = np.where(_col(exact), 0.0, rounding)
        return Bounded(z, prop * (1.0 + u) + rounding)
    return rule


def _interpolation(ctx: _Context, tx: Bounded, ty: Bounded, z: np.ndarray) -> Optional[Bounded]:
    """``c1 x + c2 y`` with ``c1 + c2 = 1``: the largest bound of its three usual forms (module docstring, item 3)."""
    c1, rest1 = tx.lin
    c2, rest2 = ty.lin
    if abs(float(c1.value) + float(c2.value) - 1.0) > _ONE_SUM_TOL:
        return None
    x, y = rest1(), rest2()
    u = ctx.u
    a1, a2 = abs(float(c1.value)), abs(float(c2.value))
    ec1, ec2 = c1.err, c2.err  # (2,)
    X, Y = _col(np.abs(x.value)), _col(np.abs(y.value))
    D = _col(np.abs(y.value - x.value))
    Z = _col(np.abs(z))
    # Each form is a fixed sequence of binary operations: u |result| per rounding, none where
    # an operation is exact (a difference with an exact zero, a product with an exact 2^k).
    m1 = 0.0 if _is_exact_power_of_two(c1) else 1.0
    m2 = 0.0 if _is_exact_power_of_two(c2) else 1.0
    d = np.where(_col(_zero_mask(x) | _zero_mask(y)), 0.0, 1.0)
    prop = a1 * x.err + a2 * y.err + (ec1 + ec2) * (x.err + y.err)
    r_a = ec1 * X + ec2 * Y + u * (m1 * a1 * X + m2 * a2 * Y) + u * Z  # c1 x + c2 y
    r_b = ec2 * D + (d + m2) * u * a2 * D + u * Z                      # x + c2 (y - x)
    r_c = ec1 * D + (d + m1) * u * a1 * D + u * Z                      # y + c1 (x - y)
    worst = np.maximum(r_a, r_b)
    if a1 <= 0.5:  # lerp's form for a weight c2 >= 1/2 (see the module docstring)
        worst = np.maximum(worst, r_c)
    err = (prop + worst) * (1.0 + u)
    return Bounded(z, err)


def _multiply(ctx: _Context, x: Bounded, y: Bounded) -> Bounded:
    z = np.multiply(x.value, y.value)
    exact = _exact_scalar_op(_op_mul, x, y, z, ctx)
    if exact is not None:
        out = exact
    else:
        # An operand without error (a drawn hyperparameter, an input) drops two of the three terms.
        x_exact, y_exact = not x.err.any(), not y.err.any()
        if y_exact:
            prop = _col(np.abs(y.value)) * x.err
        elif x_exact:
            prop = _col(np.abs(x.value)) * y.err
        else:
            prop = _col(np.abs(y.value)) * x.err + _col(np.abs(x.value)) * y.err + x.err * y.err
        exact = (x_exact and _is_exact_power_of_two(x)) or (y_exact and _is_exact_power_of_two(y))
        out = _finish(z, prop, ctx, rounding=not exact)
    out.lin = _lin_after(ctx, x, y, np.multiply)
    return out


def _lin_after(ctx: _Context, x: Bounded, y: Bounded, op: Any) -> Optional[tuple]:
    """Remember ``coefficient * rest`` through products (and quotients by a non-coefficient).

    A bare scalar times an array starts a new term (the outermost scalar is the
    coefficient: in ``(1 - b) * g * g`` it is ``1 - b`` even if ``g`` itself was
    ``clipnorm * g0 / norm``); a tagged term times or over anything else stays
    tagged with its coefficient.
    """
    if op is np.multiply:
        if x.value.ndim == 0 and x.lin is None and y.value.ndim > 0:
            return (x, lambda: _untagged(y))
        if y.value.ndim == 0 and y.lin is None and x.value.ndim > 0:
            return (y, lambda: _untagged(x))
    if x.lin is not None:
        c, rest = x.lin
        rule = _UFUNC_RULES[op]
        return (c, lambda: _plain(rule(ctx, rest(), _untagged(y))))
    if op is np.multiply and y.lin is not None:
        c, rest = y.lin
        return (c, lambda: _plain(_multiply(ctx, rest(), _untagged(x))))
    return None


def _untagged(x: Bounded) -> Bounded:
    return Bounded(x.value, x.err) if x.lin is not None else x


def _plain(x: Bounded) -> Bounded:
    x.lin = None
    return x


def _divide(ctx: _Context, x: Bounded, y: Bounded) -> Bounded:
    z = np.divide(x.value, y.value)
    exact = _exact_scalar_op(_op_div, x, y, z, ctx)
    if exact is not None:
        out = exact
    else:
        Y, Z = _col(np.abs(y.value)), _col(np.abs(z))
        room = Y - y.err
        prop = np.where(room > 0, (x.err + Z * y.err) / np.where(room > 0, room, 1.0), np.inf)
        prop = np.where((x.err == 0) & (y.err == 0), 0.0, prop)
        out = _finish(z, prop, ctx)
    out.lin = _lin_after(ctx, x, y, np.divide)
    return out


def _sqrt(ctx: _Context, x: Bounded) -> Bounded:
    z = np.sqrt(x.value)
    X = _col(x.value)
    den = np.sqrt(np.maximum(X, 0.0)) + np.sqrt(np.maximum(X - x.err, 0.0))
    prop = np.where(den > 0, x.err / np.where(den > 0, den, 1.0), np.sqrt(x.err))
    return _finish(z, prop, ctx)


def _square(ctx: _Context, x: Bounded) -> Bounded:
    X = _col(np.abs(x.value))
    return _finish(np.square(x.value), 2.0 * X * x.err + x.err * x.err, ctx)


def _power(ctx: _Context, x: Bounded, p: Bounded) -> Bounded:
    with np.errstate(all="ignore"):
        return _power_rule(ctx, x, p)


def _power_rule(ctx: _Context, x: Bounded, p: Bounded) -> Bounded:
    z = np.power(x.value, p.value)
    if p.value.ndim == 0 and not p.err.any() and not x.err.any():
        pv = float(p.value)
        if pv == round(pv):
            if pv in (0.0, 1.0):
                return Bounded(z, None)
            c = max(POW_ULPS, abs(pv) - 1.0)
        else:
            c = POW_ULPS
        return Bounded(z, c * ctx.u * _col(np.abs(z)))
    pv = np.broadcast_to(p.value, np.broadcast_shapes(x.value.shape, p.value.shape))
    xv = np.broadcast_to(x.value, pv.shape)
    integer = np.isfinite(pv) & (pv == np.round(pv))
    ex = np.broadcast_to(x.err, pv.shape + (2,))
    X, P = _col(xv), _col(pv)
    Z = _col(np.power(xv, pv))
    # Propagation through the base: the extreme of the monotone pieces is at an endpoint (or 0).
    lo = X - ex
    hi = X + ex
    lo_real = np.where(_col(integer), lo, np.maximum(lo, 0.0))
    cand = [np.abs(np.power(lo_real, P) - Z), np.abs(np.power(hi, P) - Z)]
    crosses = (lo < 0) & (hi > 0)
    cand.append(np.where(crosses, np.abs(np.power(np.zeros_like(lo), P) - Z), 0.0))
    prop_x = np.maximum(np.maximum(cand[0], cand[1]), cand[2])
    prop_x = np.where(ex == 0, 0.0, prop_x)
    prop_x = np.where((~_col(integer)) & (lo < 0) & (P < 0) & (ex > 0), np.inf, prop_x)
    # Propagation through the exponent: |x^(p+dp) - x^p| <= |z| (exp(|ln x| e_p) - 1).
    ep = np.broadcast_to(p.err, pv.shape + (2,))
    lnx = np.abs(np.log(np.where(X > 0, np.abs(X), 1.0)))
    prop_p = np.where(ep > 0, (np.abs(Z) + prop_x) * np.expm1(lnx * ep), 0.0)
    # Rounding: a library pow, or repeated multiplication for integer exponents.
    c_pow = np.where(_col(integer), np.maximum(POW_ULPS, np.abs(P) - 1.0), POW_ULPS)
    trivial = _col(integer & ((pv == 0) | (pv == 1)))
    u = ctx.u
    prop = (prop_x + prop_p) * (1.0 + c_pow * u)
    err = np.where(trivial, prop, prop + c_pow * u * np.abs(Z))
    return Bounded(z, np.nan_to_num(err, nan=np.inf))


def _exact_unary(fn: Any) -> Callable[..., Bounded]:
    def rule(ctx: _Context, x: Bounded) -> Bounded:
        return Bounded(fn(x.value), x.err)
    return rule


def _sign(ctx: _Context, x: Bounded) -> Bounded:
    z = np.sign(x.value)
    undecided = (_col(np.abs(x.value)) <= x.err) & (x.err > 0)
    err = np.where(undecided, 2.0, 0.0)
    return Bounded(z, err)


def _extremum(fn: Any) -> Callable[..., Bounded]:
    def rule(ctx: _Context, x: Bounded, y: Bounded) -> Bounded:
        z = fn(x.value, y.value)
        return Bounded(z, np.maximum(x.err, y.err))
    return rule


_UFUNC_RULES: dict = {
    np.add: _add_like(1.0),
    np.subtract: _add_like(-1.0),
    np.multiply: _multiply,
    np.divide: _divide,
    np.true_divide: _divide,
    np.sqrt: _sqrt,
    np.square: _square,
    np.power: _power,
    np.float_power: _power,
    np.negative: _exact_unary(np.negative),
    np.positive: _exact_unary(np.positive),
    np.absolute: _exact_unary(np.absolute),
    np.sign: _sign,
    np.maximum: _extremum(np.maximum),
    np.minimum: _extremum(np.minimum),
    np.fmax: _extremum(np.fmax),
    np.fmin: _extremum(np.fmin),
}


# ------------------------------------------------------------------ reductions
def _axes(ndim: int, axis: Any) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(int(a) % ndim for a in axis)
    return (int(axis) % ndim,)


def _reduce_sum(x: Any, axis: Any = None, keepdims: bool = False, **kw: Any) -> Bounded:
    if kw.get("dtype") not in (None, np.float64, "float64") or kw.get("out") is not None:
        raise BoundUnavailable(f"no error rule for numpy.sum with {sorted(kw)}")
    ctx = _ctx()
    x = bounded(x)
    axes = _axes(x.ndim, axis)
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    z = np.sum(x.value, axis=axes, keepdims=keepdims)
    abs_sum = np.sum(np.abs(x.value), axis=axes, keepdims=keepdims)
    prop = np.sum(x.err, axis=axes, keepdims=keepdims)
    u = ctx.u
    # Any order of summation: gamma_{n-1} sum |x_i|, first order (Higham, eq. 4.4).
    return Bounded(z, prop * (1.0 + u) + max(n - 1, 0) * u * _col(abs_sum) * (1.0 + n * u))


def _reduce_mean(x: Any, axis: Any = None, keepdims: bool = False, **kw: Any) -> Bounded:
    x = bounded(x)
    axes = _axes(x.ndim, axis)
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    return _divide(_ctx(), _reduce_sum(x, axis, keepdims, **kw), bounded(float(n)))


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Bounded:
    if ord is not None or axis is not None:
        raise BoundUnavailable("numpy.linalg.norm: only the 2-norm of the whole array has an error rule")
    ctx = _ctx()
    x = bounded(x)
    return _sqrt(ctx, _reduce_sum(_square(ctx, x), None, keepdims))


def _where(cond: Any, a: Any, b: Any) -> Bounded:
    ctx = _ctx()
    a, b = bounded(a), bounded(b)
    c = np.asarray(cond, dtype=bool)
    shape = np.broadcast_shapes(c.shape, a.shape, b.shape)
    z = np.where(c, a.value, b.value)
    chosen = np.where(_col(c), a.err, b.err)
    uncertain = np.asarray(getattr(cond, "uncertain", np.zeros(c.shape, dtype=bool)))
    # Within rounding of the tie an implementation may take the other branch.
    other = np.maximum(a.err, b.err) + _col(np.abs(a.value - b.value))
    err = np.where(_col(uncertain), np.maximum(chosen, other), chosen)
    del ctx
    return Bounded(np.broadcast_to(z, shape), np.broadcast_to(err, shape + (2,)))


def _clip(x: Any, lo: Any, hi: Any, **kw: Any) -> Bounded:
    if kw:
        raise BoundUnavailable(f"no error rule for numpy.clip with {sorted(kw)}")
    _ctx()
    x, lo, hi = bounded(x), bounded(lo), bounded(hi)
    z = np.clip(x.value, lo.value, hi.value)
    return Bounded(z, np.maximum(np.maximum(x.err, lo.err), hi.err))


def _like(fill: Optional[float]) -> Callable[..., Bounded]:
    def rule(a: Any, fill_value: Any = None, dtype: Any = None, **kw: Any) -> Bounded:
        if dtype not in (None, np.float64, "float64", float):
            raise BoundUnavailable(f"{dtype} array from a Bounded one")
        shape = np.shape(a.value if isinstance(a, Bounded) else a)
        value = fill if fill is not None else fill_value
        c = bounded(value)
        return Bounded(np.broadcast_to(c.value, shape).copy(), np.broadcast_to(c.err, shape + (2,)).copy())
    return rule


def _zeros_like(a: Any, dtype: Any = None, **kw: Any) -> Bounded:
    return _like(0.0)(a, None, dtype, **kw)


def _ones_like(a: Any, dtype: Any = None, **kw: Any) -> Bounded:
    return _like(1.0)(a, None, dtype, **kw)


def _copy(a: Any, **kw: Any) -> Bounded:
    return bounded(a).copy()


def _shape(a: Any) -> tuple:
    return bounded(a).shape


_FUNCTION_RULES: dict = {
    np.sum: _reduce_sum,
    np.mean: _reduce_mean,
    np.linalg.norm: _norm,
    np.where: _where,
    np.clip: _clip,
    np.zeros_like: _zeros_like,
    np.ones_like: _ones_like,
    np.full_like: _like(None),
    np.copy: _copy,
    np.shape: _shape,
}


# ------------------------------------------------------------- trajectories
@dataclass
class TraceBounds:
    """Per-variable bounds on the final weights (and EMA) of a trajectory.

    ``impl[i]``: bound on |implementation in the case dtype - exact rule|;
    ``ref[i]``: bound on |float64 reference - exact rule|; ``values``: the
    float64 values of the bounded run (equal to the plain reference's).
    """

    values: list[np.ndarray]
    impl: list[np.ndarray]
    ref: list[np.ndarray]
    ema_impl: Optional[list[np.ndarray]] = None
    ema_ref: Optional[list[np.ndarray]] = None


def _hp_bounded(hp: Mapping[str, Any]) -> dict:
    out = {}
    for key, value in hp.items():
        if isinstance(value, float) and not isinstance(value, bool) and not key.startswith("_"):
            out[key] = bounded(value)
        else:
            out[key] = value
    return out


def trajectory_bounds(rule: Any, w0: Sequence[np.ndarray], grads: Sequence[Sequence[np.ndarray]],
                      lrs: Sequence[float], hp: Mapping[str, Any], dtype: Any, *, lr_ulps: float = 0.0,
                      grad_ulps: float = 0.0, grad_err: Optional[Sequence[Sequence[np.ndarray]]] = None,
                      trajectory: Optional[Callable[..., Any]] = None, **kw: Any) -> TraceBounds:
    """Run the reference ``trajectory`` on Bounded inputs and return the bounds of its results.

    Args:
        rule, w0, grads, lrs, hp, **kw: As for
            :func:`initcheck.references.optimizers.trajectory` (``grads``
            must be a list, not a callable).
        dtype: The implementation's dtype (``"float32"`` / ``"float64"``).
        lr_ulps: Error of each learning rate in float32 ulps (a schedule
            that Keras evaluates in float32); 0 for float32-exact rates.
        grad_ulps: Error of each gradient coordinate in ulps of ``dtype``
            (gradients the implementation receives after extra roundings,
            e.g. a replica sum); 0 for the dtype-rounded gradients.
        grad_err: Optional absolute errors of the gradients, ``grad_err[s][i]``
            shaped like ``grads[s][i]`` (added to ``grad_ulps``'s).
    """
    if trajectory is None:
        from .optimizers import trajectory as trajectory  # noqa: PLC0414
    if callable(grads):
        raise BoundUnavailable("gradients given as a function of the weights")
    if _mergeable(rule, w0, kw):
        return _merged_bounds(rule, w0, grads, lrs, hp, dtype, lr_ulps=lr_ulps, grad_ulps=grad_ulps,
                              grad_err=grad_err, trajectory=trajectory, **kw)
    with analysis(dtype) as ctx:
        u = float(ctx.u[0])
        w = [bounded(np.asarray(x, dtype=np.float64), 0.0) for x in w0]
        g = []
        for s, step in enumerate(grads):
            row = []
            for i, x in enumerate(step):
                x = np.asarray(x, dtype=np.float64)
                e = grad_ulps * u * np.abs(x)
                if grad_err is not None:
                    e = e + np.broadcast_to(np.asarray(grad_err[s][i], dtype=np.float64), x.shape)
                row.append(bounded(x, np.stack([e, np.zeros(x.shape)], axis=-1)))
            g.append(row)
        lr_b = []
        for x in lrs:
            lr_b.append(Bounded(float(x), np.array([lr_ulps * 2.0 ** -24 * abs(float(x)), 0.0]))
                        if lr_ulps else bounded(float(x)))
        kw_b = {k: (bounded(v) if isinstance(v, float) else v) for k, v in kw.items()}
        with np.errstate(all="ignore"):
            tr = trajectory(rule, w, g, lr_b, _hp_bounded(hp), **kw_b)
        finals = [bounded(x) for x in tr.final]
        out = TraceBounds([f.value for f in finals], [_no_nan(f.impl) for f in finals],
                          [_no_nan(f.ref) for f in finals])
        if tr.ema is not None:
            emas = [bounded(x) for x in tr.ema]
            out.ema_impl = [_no_nan(e.impl) for e in emas]
            out.ema_ref = [_no_nan(e.ref) for e in emas]
    return out


def _mergeable(rule: Any, w0: Sequence[np.ndarray], kw: Mapping[str, Any]) -> bool:
    """Several variables of an element-wise rule, with nothing per-variable in the options.

    Each operation of a :class:`Bounded` number costs the same Python
    overhead whatever its size, so one run on the variables concatenated
    costs what a run on one variable costs.  Element-wise rules
    (``Rule.coupling``) treat every entry alike; a global norm is the norm
    of the concatenation.  Per-variable options (``clipnorm``, a decay mask
    that differs between variables) keep the variables apart.
    """
    if getattr(rule, "coupling", None) != "elementwise" or len(w0) < 2 or kw.get("clipnorm"):
        return False
    mask = kw.get("decay_mask")
    return mask is None or len({bool(m) for m in mask}) == 1


def _merged_bounds(rule: Any, w0: Sequence[np.ndarray], grads: Sequence[Sequence[np.ndarray]],
                   lrs: Sequence[float], hp: Mapping[str, Any], dtype: Any, *,
                   grad_err: Optional[Sequence[Sequence[np.ndarray]]] = None, **kw: Any) -> TraceBounds:
    """:func:`trajectory_bounds` of the variables concatenated into one, split back (see :func:`_mergeable`)."""
    shapes = [np.shape(w) for w in w0]
    cuts = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]

    def flat(xs: Sequence[Any]) -> list[np.ndarray]:
        return [np.concatenate([np.ravel(np.asarray(x, dtype=np.float64)) for x in xs])]

    def split(x: Optional[list]) -> Optional[list]:
        if x is None:
            return None
        return [p.reshape(s) for p, s in zip(np.split(x[0], cuts), shapes)]

    if kw.get("decay_mask") is not None:
        kw["decay_mask"] = [bool(kw["decay_mask"][0])]
    errs = None
    if grad_err is not None:
        errs = [flat([np.broadcast_to(np.asarray(e, dtype=np.float64), np.shape(g)) for e, g in zip(es, gs)])
                for es, gs in zip(grad_err, grads)]
    tb = trajectory_bounds(rule, flat(w0), [flat(step) for step in grads], lrs, hp, dtype, grad_err=errs, **kw)
    return TraceBounds(split(tb.values), split(tb.impl), split(tb.ref), split(tb.ema_impl), split(tb.ema_ref))


def _no_nan(err: np.ndarray) -> np.ndarray:
    """An undefined bound (``inf - inf`` on the way) is no bound: infinity."""
    return np.where(np.isnan(err), np.inf, err)
