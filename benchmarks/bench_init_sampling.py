"""Initializer sampling throughput: every built-in initializer against NumPy drawing the same law.

Why: initialising a large model draws hundreds of millions of values; a user
comparing initializers (or a plugin author comparing theirs with Keras's) wants
values per second, and a yardstick -- NumPy's PCG64 generator drawing the same
law in float32 -- that says whether the cost is the law or the framework.

The NumPy side is written from the law (``spec.law_for(shape)``), never from
the initializer: uniform by scaling ``Generator.random``; normal by scaling
``Generator.standard_normal``; truncated normal by rejection (redraw what falls
outside ``+-cut``; at ``cut=2`` about 4.6 % of draws are redrawn); orthogonal
by the QR of a Gaussian matrix with the signs of ``diag(R)`` folded in, which
is Haar-distributed (Mezzadri 2007, "How to generate random matrices from the
classical compact groups"); constant and identity by ``np.full``/``np.eye``.

Shapes: :data:`SHAPE` for every law except the orthogonal ones, which are
timed at :data:`ORTHOGONAL_SHAPE` because a QR decomposition is cubic in the
side (a 4096 x 4096 QR takes tens of seconds on a small CPU); values per second
are computed from the shape actually used (``extra_info["values"]``).  The
default run uses 2048 x 2048 (4.2 M values; orthogonal 512 x 512) and, of the
nine ``VarianceScaling`` grid specs, the three ``fan_in`` ones (one per
distribution: the others differ only in a scalar); ``INITCHECK_BENCH_FULL=1``
times every spec at 4096 x 4096 (orthogonal 1024 x 1024).

Only float32 is timed (the dtype layers ask for by default); specs that exist
to pin another dtype (``Orthogonal-bfloat16``, ``Constant-float64``) are left
out because their float32 twin is already timed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import models as M
from initcheck import keras_compat as kc
from initcheck.laws import Constant, Identity, Law, Normal, Orthogonal, TruncatedNormal, Uniform

SHAPE = (4096, 4096) if M.full_matrix() else (2048, 2048)
ORTHOGONAL_SHAPE = (1024, 1024) if M.full_matrix() else (512, 512)


def _specs() -> list:
    """float32 built-in specs; the default run keeps one VarianceScaling grid spec per distribution."""
    from initcheck.builtin.initializers import builtin_specs

    specs = [s for s in builtin_specs() if "float32" in s.dtypes]
    if not M.full_matrix():
        specs = [s for s in specs if not s.name.startswith("VarianceScaling-") or "-fan_in-" in s.name]
    return specs


def shape_for(spec: Any) -> tuple[int, int]:
    """The kernel shape timed for ``spec`` (smaller for structured orthogonal laws)."""
    return ORTHOGONAL_SHAPE if spec.has("structured") else SHAPE


def numpy_sample(law: Law, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw ``law`` at ``shape`` in float32 with NumPy only (the yardstick)."""
    n = math.prod(shape)
    if isinstance(law, Uniform):
        out = rng.random(n, dtype=np.float32)
        out *= np.float32(law.high - law.low)
        out += np.float32(law.low)
        return out.reshape(shape)
    if isinstance(law, Normal):
        out = rng.standard_normal(n, dtype=np.float32)
        out *= np.float32(law.std)
        out += np.float32(law.loc)
        return out.reshape(shape)
    if isinstance(law, TruncatedNormal):
        out = rng.standard_normal(n, dtype=np.float32)
        bad = np.flatnonzero(np.abs(out) > law.cut)
        while bad.size:
            out[bad] = rng.standard_normal(bad.size, dtype=np.float32)
            bad = bad[np.abs(out[bad]) > law.cut]
        out *= np.float32(law.std)
        out += np.float32(law.loc)
        return out.reshape(shape)
    if isinstance(law, Orthogonal):
        rows, cols = law.rows, law.cols
        a = rng.standard_normal((max(rows, cols), min(rows, cols)), dtype=np.float32)
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (np.float32(law.gain) * q).reshape(shape)
    if isinstance(law, Constant):
        return np.full(shape, law.value, dtype=np.float32)
    if isinstance(law, Identity):
        return np.float32(law.gain) * np.eye(shape[0], shape[1], dtype=np.float32)
    raise NotImplementedError(f"no NumPy sampler for law {type(law).__name__}")


SPECS = _specs()
IDS = [s.name for s in SPECS]


def _info(benchmark: Any, spec: Any, sampler: str, shape: tuple[int, int]) -> None:
    benchmark.group = f"init_sampling {spec.name}"
    benchmark.extra_info.update(kind="init_sampling", initializer=spec.name, sampler=sampler,
                                shape=list(shape), values=math.prod(shape), dtype="float32",
                                law=str(spec.law_for(shape)), keras_api=kc.keras_major())


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_keras_sampling(benchmark: Any, spec: Any) -> None:
    """``initializer(shape, dtype="float32")`` for a large kernel.

    ``extra_info["paired_over_numpy"]``: Keras time / NumPy time measured in
    alternating rounds (same load), see :func:`models.paired_ratio`.
    """
    shape = shape_for(spec)
    init = spec.factory(0)
    _info(benchmark, spec, "keras", shape)

    def call() -> Any:
        return init(shape, dtype="float32")

    first = call()
    assert tuple(first.shape) == shape
    M.time_pedantic(benchmark, call, max_iterations=1, warmup_rounds=0)
    law, rng = spec.law_for(shape), np.random.default_rng(1)
    benchmark.extra_info["paired_over_numpy"] = M.paired_ratio(
        call, lambda: numpy_sample(law, shape, rng), rounds=3, max_iterations=1)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_numpy_sampling(benchmark: Any, spec: Any) -> None:
    """NumPy drawing the same law at the same shape (float32, PCG64)."""
    shape = shape_for(spec)
    law = spec.law_for(shape)
    rng = np.random.default_rng(0)
    _info(benchmark, spec, "numpy", shape)

    def call() -> Any:
        return numpy_sample(law, shape, rng)

    first = call()
    assert first.shape == shape and first.dtype == np.float32
    # The yardstick must draw the law it claims: a cheap sanity check of the
    # variance (>= 0.26 M values: relative s.e. <= sqrt(2/n) ~ 3e-3; 2 % is > 6 s.e.).
    if law.iid and not law.deterministic:
        assert abs(float(np.var(first, dtype=np.float64)) / law.variance() - 1.0) < 0.02
    M.time_pedantic(benchmark, call, max_iterations=1, warmup_rounds=0)
