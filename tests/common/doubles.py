"""Every shared test double: objects that break (or keep) one promise on purpose.

* NumPy initializers -- :func:`np_spec` wraps a sampler ``(rng, shape, law,
  fans) -> array`` in a spec promising ``law``; :func:`exact` is the correct
  sampler, the others are wrong in one named way (scale, shift, shape of the
  law, truncation, fans, outliers, correlation, Haar sign; the blind spots of
  issue #14: atoms, lost resolution, hidden dependence, colliding seeds --
  :data:`SEED_MAPS` for the last, through ``np_spec(seed_map=...)``);
* wrong Keras initializers -- each a ``factory(seed)`` around GlorotUniform
  with one planted bug (ignores its seed, tiles one row, loses its config...),
  and :func:`make_spec` to declare one as GlorotUniform's law;
* broken Keras optimizers -- Adam and SGD subclasses with one planted bug
  each (:func:`broken_adam_class`, :func:`broken_sgd_class`), one whose
  config forgets a hyperparameter (:func:`forgetful_sgd_class`), an SGD with
  any update step (:func:`sgd_variant`), and :func:`wrong_optimizer`, a
  built-in spec whose factory builds the broken class;
* propagation -- NumPy weight stacks for the simulator, and initializer specs
  declared for an activation they do not suit (or do).

Nothing here imports TensorFlow at import time; built-in specs are looked up
on first use (:mod:`common.builtins`).
"""

from __future__ import annotations

import dataclasses
import math
import types
from typing import Any, Callable, Optional

import numpy as np

from common.plugin_site import dtype_name

from initcheck import keras_compat as kc
from initcheck.laws import (Fans, Law, Normal, Orthogonal, TruncatedNormal, Uniform, shape_fans,
                            truncated_normal_std_ratio)
from initcheck.spec import InitializerSpec

from . import builtins

# =========================================================================== NumPy initializers

Sampler = Callable[[np.random.Generator, tuple, Law, Fans], np.ndarray]


def cast(x: np.ndarray, dtype: Optional[str]) -> np.ndarray:
    """Round float64 values to ``dtype`` (to nearest), bfloat16 through ml_dtypes."""
    dtype = dtype or "float32"
    if dtype == "bfloat16":
        import ml_dtypes

        return x.astype(np.float32).astype(ml_dtypes.bfloat16)
    return x.astype(dtype)


def np_spec(name: str, law: Any, sampler: Sampler, *, structured_law: bool = False,
            dtypes: tuple[str, ...] = ("float32", "float64"),
            ranks: tuple[int, ...] = (1, 2, 3, 4, 5),
            seed_map: Optional[Callable[[int], int]] = None, **fields: Any) -> InitializerSpec:
    """A spec promising ``law`` whose initializer draws with ``sampler`` (plain ``init(shape, dtype=None)``).

    The generator is ``numpy.random.default_rng(seed)`` (a negative seed raises
    ``ValueError``), or ``default_rng(seed_map(seed))``; ``fields`` go to the spec.
    """
    def factory(seed: Any) -> Callable:
        def init(shape: Any, dtype: Any = None) -> np.ndarray:
            shape = tuple(int(s) for s in shape)
            rng = np.random.default_rng(seed if seed is None or seed_map is None else seed_map(seed))
            spec_law = law if isinstance(law, Law) else law(shape, shape_fans(shape))
            # Keras 3 passes a dtype name, tf.keras 2 a tf.DType (whose str is "<dtype: 'float32'>").
            name = str(getattr(dtype, "name", dtype)) if dtype else None
            return cast(sampler(rng, shape, spec_law, shape_fans(shape)), name)

        return init

    tags = frozenset({"structured", "seeded"}) if structured_law else frozenset({"iid", "seeded"})
    return InitializerSpec(name=name, factory=factory, law=law, tags=tags, dtypes=dtypes, ranks=ranks,
                           namespace="doubles", **fields)


def _truncated(rng: np.random.Generator, shape: tuple, std: float, cut: float, loc: float = 0.0) -> np.ndarray:
    """Rejection sampling: exact and much faster than inverse-CDF ``truncnorm.rvs``."""
    size = math.prod(shape)
    out = np.empty(0)
    while out.size < size:
        z = rng.standard_normal(int(size * 1.1) + 16)
        out = np.concatenate([out, z[np.abs(z) <= cut]])
    return loc + std * out[:size].reshape(shape)


def exact(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """The correct sampler: the law itself."""
    if isinstance(law, Normal):
        return law.loc + law.std * rng.standard_normal(shape)
    if isinstance(law, TruncatedNormal):
        return _truncated(rng, shape, law.std, law.cut, law.loc)
    if isinstance(law, Uniform):
        return rng.uniform(law.low, law.high, size=shape)
    return np.asarray(law.dist().rvs(size=shape, random_state=rng), dtype=np.float64)


def normal_fan_law(scale: float, mode: str) -> Callable[[tuple, Fans], Law]:
    """``N(0, scale / fan)`` (He for ``(2, "fan_in")``)."""
    def law(shape: tuple, fans: Fans) -> Law:
        return Normal(std=math.sqrt(scale / fans.get(mode)))

    return law


def truncated_fan_law(scale: float, mode: str) -> Callable[[tuple, Fans], Law]:
    """A normal cut at 2 std with variance ``scale / fan`` (VarianceScaling's truncated normal)."""
    def law(shape: tuple, fans: Fans) -> Law:
        return TruncatedNormal.with_variance(scale / fans.get(mode), cut=2.0)

    return law


def orthogonal_law(gain: float) -> Callable[[tuple, Fans], Law]:
    def law(shape: tuple, fans: Fans) -> Law:
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        return Orthogonal(gain=gain, rows=rows, cols=shape[-1])

    return law


def haar_sampler(sign_fix: bool) -> Sampler:
    """Orthogonal via QR of a Gaussian matrix, with or without Mezzadri's sign correction."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        if sign_fix:
            q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return law.gain * q.reshape(shape)

    return sampler


def scaled(factor: float) -> Sampler:
    """The law's values scaled about its mean by ``factor`` (std off by ``factor``)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return law.mean() + factor * (exact(rng, shape, law, fans) - law.mean())

    return sampler


def shifted(shift_in_std: float) -> Sampler:
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return exact(rng, shape, law, fans) + shift_in_std * math.sqrt(law.variance())

    return sampler


def uniform_same_variance(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    limit = math.sqrt(3 * law.variance())
    return rng.uniform(-limit, limit, size=shape) + law.mean()


def truncated_at(cut: float) -> Sampler:
    """Truncated normal cut at ``cut`` sigma with the law's variance (the law is cut at 2)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        s = math.sqrt(law.variance()) / truncated_normal_std_ratio(cut)
        return _truncated(rng, shape, s, cut)

    return sampler


def no_truncation_correction(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """tf.random.truncated_normal(stddev=sqrt(var)) without dividing by 0.8796."""
    return _truncated(rng, shape, math.sqrt(law.variance()), 2.0)


def fans_swapped(scale: float, mode: str) -> Sampler:
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        wrong = Fans(fans.fan_out, fans.fan_in)
        return rng.standard_normal(shape) * math.sqrt(scale / wrong.get(mode))

    return sampler


def receptive_field_ignored(scale: float) -> Sampler:
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return rng.standard_normal(shape) * math.sqrt(scale / shape[-2])

    return sampler


def corrupted(rate: float, mode: str) -> Sampler:
    """Replace a fraction ``rate`` of values by the support edge (``clamp``) or 1.5x beyond it (``escape``)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        x = exact(rng, shape, law, fans)
        hit = rng.random(shape) < rate
        edge = law.support()[1]
        sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
        x[hit] = (sign * edge * (1.0 if mode == "clamp" else 1.5))[hit]
        return x

    return sampler


def rows_correlated(rho: float) -> Sampler:
    """Right N(0, s^2) marginal, but every pair of rows has correlation ``rho`` (a shared component)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        s = math.sqrt(law.variance())
        common = rng.standard_normal((1,) + shape[1:])
        own = rng.standard_normal(shape)
        return s * (math.sqrt(rho) * common + math.sqrt(1 - rho) * own)

    return sampler


# --------------------------------------------------------------------------- blind spots (issue #14)
# Each claims the law it is given and has one realistic bug; ``exact`` is the correct twin of every one.

def clipped(cut: float) -> Sampler:
    """A normal clipped (``np.clip``, like ``tf.clip_by_value``) at ``+-cut`` of the law's std parameter:
    atoms at the cuts (an outlier guard on a normal; a clip where a truncated normal was meant)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        std = law.std if isinstance(law, (Normal, TruncatedNormal)) else math.sqrt(law.variance())
        return law.mean() + np.clip(std * rng.standard_normal(shape), -cut * std, cut * std)

    return sampler


def constant_fallback(rate: float, value: float = 0.0) -> Sampler:
    """A fraction ``rate`` of the entries replaced by ``value`` (a masked or failed draw's fallback): one atom."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        x = exact(rng, shape, law, fans)
        x[rng.random(shape) < rate] = value
        return x

    return sampler


def saturated(widen: float) -> Sampler:
    """A uniform drawn on a range ``widen`` wider on each side and clipped back: atoms at both edges."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        lo, hi = law.support()
        pad = widen * (hi - lo) / 2.0
        return np.clip(rng.uniform(lo - pad, hi + pad, size=shape), lo, hi)

    return sampler


def computed_in(dtype: str) -> Sampler:
    """The law's values rounded to a narrower ``dtype`` (drawn or computed there) and cast back up."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        return cast(exact(rng, shape, law, fans), dtype).astype(np.float64)

    return sampler


def uniform_bits(bits: int) -> Sampler:
    """A uniform built from a ``bits``-bit random integer (cell midpoints): ``2^bits`` values."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        lo, hi = law.support()
        k = rng.integers(0, 2 ** bits, size=shape)
        return lo + (hi - lo) * (k + 0.5) / 2.0 ** bits

    return sampler


def _flat_normal(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.standard_normal(size)


def _as_law(z: np.ndarray, law: Law, shape: tuple) -> np.ndarray:
    return (law.mean() + math.sqrt(law.variance()) * z).reshape(shape)


def antithetic_half(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """'Variance reduction': the second half of the flattened kernel is minus the first."""
    size = math.prod(shape)
    z, h = _flat_normal(rng, size), size // 2
    z[size - h:] = -z[:h]
    return _as_law(z, law, shape)


def tiled_quarter(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """A block of a quarter of the kernel drawn once and tiled (``np.tile``) to fill it."""
    size = math.prod(shape)
    return _as_law(np.tile(_flat_normal(rng, -(-size // 4)), 4)[:size], law, shape)


def stride_correlated(stride: int, c: float) -> Sampler:
    """A smoothing leak: each entry mixes in the one ``stride`` places earlier (correlation ``c / (1 + c^2)``)."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        size = math.prod(shape)
        z = _flat_normal(rng, size + stride)
        return _as_law((z[stride:] + c * z[:-stride]) / math.sqrt(1 + c * c), law, shape)

    return sampler


def magnitudes_shared(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """Fresh signs, but the second half reuses the first half's magnitudes: ``x`` uncorrelated, ``|x|`` copied."""
    size = math.prod(shape)
    z, signs, h = _flat_normal(rng, size), rng.choice([-1.0, 1.0], size), size // 2
    z[size - h:] = np.abs(z[:h]) * signs[size - h:]
    return _as_law(z, law, shape)


def magnitudes_correlated(rho: float) -> Sampler:
    """The partner half a kernel away has magnitude ``|rho z + sqrt(1 - rho^2) w|`` and a fresh sign."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        size = math.prod(shape)
        z, w, h = _flat_normal(rng, size), _flat_normal(rng, size), size // 2
        signs = rng.choice([-1.0, 1.0], size)
        z[size - h:] = signs[size - h:] * np.abs(rho * z[:h] + math.sqrt(1 - rho * rho) * w[:h])
        return _as_law(z, law, shape)

    return sampler


def shared_scale(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
    """One random scale per kernel (``s^2 = 1 + 0.5 tanh(u)``): every pair of entries dependent through ``|x|``."""
    s2 = 1.0 + 0.5 * math.tanh(rng.standard_normal())
    return _as_law(math.sqrt(s2) * _flat_normal(rng, math.prod(shape)), law, shape)


def equicorrelated(rho: float) -> Sampler:
    """One shared normal component per kernel: every pair of entries correlated ``rho``, the marginal exact."""
    def sampler(rng: np.random.Generator, shape: tuple, law: Law, fans: Fans) -> np.ndarray:
        z = math.sqrt(rho) * rng.standard_normal() + math.sqrt(1 - rho) * _flat_normal(rng, math.prod(shape))
        return _as_law(z, law, shape)

    return sampler


#: Seed-mangling bugs (``np_spec(seed_map=...)``), each with the fold it makes.
SEED_MAPS: dict[str, Callable[[int], int]] = {
    "seed % 1000": lambda s: s % 1000,
    "seed & 0xFFFF (16 bits)": lambda s: s & 0xFFFF,
    "seed & 0xFFFFFFFF (32 bits)": lambda s: s & 0xFFFFFFFF,
    "abs(seed)": abs,
}


def zigzag(seed: int) -> int:
    """The correct twin of ``abs``: every integer a valid seed, the sign kept (injective onto ``N``)."""
    return 2 * seed if seed >= 0 else -2 * seed - 1


# =========================================================================== wrong Keras initializers

RANDOM_TAGS = frozenset({"iid", "seeded", "keras_object", "saveable"})


def glorot_law() -> Any:
    """GlorotUniform's law (the law every Keras initializer double below declares)."""
    from initcheck.builtin.initializers import variance_scaling_law

    return variance_scaling_law(1.0, "fan_avg", "uniform")


def glorot(seed: Any) -> Any:
    """The correct double: Keras's own GlorotUniform."""
    return kc.keras().initializers.GlorotUniform(seed=seed)


def make_spec(factory: Callable, name: str = "Doubled", tags: frozenset = RANDOM_TAGS, **kw: Any) -> InitializerSpec:
    """A spec declaring GlorotUniform's law for ``factory`` (seeded calls repeat, unseeded may)."""
    kw.setdefault("seeded_repeat", "same")
    kw.setdefault("unseeded_repeat", "any")
    return InitializerSpec(name=name, factory=factory, law=glorot_law(), tags=tags, **kw)


def ignores_seed(seed: Any) -> Any:
    return glorot(None)


def ignores_seed_zero(seed: Any) -> Any:
    return glorot(seed if seed else None)  # the classic `if seed:` bug


def tiles_one_row(seed: Any) -> Callable:
    inner = glorot(seed)

    def init(shape: Any, dtype: Any = None) -> Any:
        t = tensor_ops()
        values = inner(shape, dtype=dtype)
        if len(shape) < 2:
            return values
        rows = math.prod(shape) // shape[-1]
        flat = t.reshape(values, (rows, shape[-1]))
        return t.reshape(t.tile(flat[:1], [rows, 1]), shape)

    return init


def always_float32(seed: Any) -> Callable:
    inner = glorot(seed)
    return lambda shape, dtype=None: inner(shape, dtype="float32")


def touches_numpy_rng(seed: Any) -> Callable:
    inner = glorot(seed)

    def init(shape: Any, dtype: Any = None) -> Any:
        np.random.random()  # e.g. a helper that draws a jitter from the global state
        return inner(shape, dtype=dtype)

    return init


def _forgetful_class() -> type:
    keras = kc.keras()

    class Forgetful(keras.initializers.GlorotUniform):
        def get_config(self) -> dict:  # loses its seed
            config = dict(super().get_config())
            config["seed"] = None
            return config

    return Forgetful


def loses_config(seed: Any) -> Any:
    return _forgetful_class()(seed=seed)


def nan_every_call(seed: Any) -> Callable:
    inner = glorot(seed)

    def init(shape: Any, dtype: Any = None) -> Any:
        v = inner(shape, dtype=dtype)
        return v if math.prod(shape) == 0 else v * float("nan")

    return init


def unregistered_initializer_class() -> type:
    """A Keras initializer subclass never registered for serialization (a saved model cannot load it)."""
    keras = kc.keras()

    class Unregistered(keras.initializers.Initializer):
        def __init__(self, seed: Any = None) -> None:
            self.seed = seed

        def __call__(self, shape: Any, dtype: Any = None) -> Any:
            if kc.backend() == "tensorflow":
                return kc.tf().random.stateless_normal(shape, seed=[int(self.seed or 0), 1], dtype=dtype or "float32")
            return keras.random.normal(shape, seed=int(self.seed or 0), dtype=dtype or "float32")

        def get_config(self) -> dict:
            return {"seed": self.seed}

    return Unregistered


# =========================================================================== broken Keras optimizers

def slot(opt: Any, slots: Any, variable: Any) -> Any:
    """The slot of ``variable`` in the list ``slots`` (Keras 3 / Keras 2 private index)."""
    if hasattr(opt, "_get_variable_index"):
        return slots[opt._get_variable_index(variable)]
    return slots[opt._index_dict[opt._var_key(variable)]]


def tensor_ops() -> Any:
    """The few tensor operations the planted-bug doubles use: TensorFlow's own on the TensorFlow backend (Keras 2
    and 3: sparse ``IndexedSlices`` and ``tf.distribute`` exist only there, ``tf`` is that module), ``keras.ops``
    on Keras 3's other backends (``tf`` is ``None``)."""
    if kc.backend() == "tensorflow":
        tf = kc.tf()
        return types.SimpleNamespace(
            tf=tf, cast=tf.cast, sqrt=tf.sqrt, reshape=tf.reshape, tile=tf.tile, ones_like=tf.ones_like,
            dense=lambda g: tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g,
            counter=lambda: tf.Variable(0, dtype="int64", trainable=False))
    keras = kc.keras()
    ops = keras.ops
    return types.SimpleNamespace(
        tf=None, cast=ops.cast, sqrt=ops.sqrt, reshape=ops.reshape, tile=ops.tile,
        ones_like=lambda x: ops.ones(tuple(x.shape), dtype=x.dtype),  # x may be a keras.Variable
        dense=lambda g: g, counter=lambda: keras.Variable(0, dtype="int64", trainable=False))


def broken_adam_class() -> type:
    """Adam with one planted bug (``bug``): eps_sign, eps_inside, no_bias_correction, hidden_step, none."""
    t = tensor_ops()
    base = kc.optimizer_class("Adam")

    class BrokenAdam(base):
        """Adam with one planted bug (``bug``)."""

        def __init__(self, bug: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._bug = bug
            self._hidden = types.SimpleNamespace(step=None)  # not tracked: not checkpointed

        def apply_gradients(self, grads_and_vars: Any, *args: Any, **kwargs: Any) -> Any:
            out = super().apply_gradients(grads_and_vars, *args, **kwargs)
            if self._hidden.step is None:
                self._hidden.step = t.counter()
            self._hidden.step.assign_add(1)
            return out

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any = None) -> None:
            lr = self.learning_rate if learning_rate is None else learning_rate
            dt = variable.dtype
            g = t.cast(t.dense(gradient), dt)
            lr = t.cast(lr, dt)
            if self._bug == "hidden_step" and self._hidden.step is not None:
                step = t.cast(self._hidden.step + 1, dt)
            else:
                step = t.cast(self.iterations + 1, dt)
            b1, b2, eps = t.cast(self.beta_1, dt), t.cast(self.beta_2, dt), t.cast(self.epsilon, dt)
            m = slot(self, self._momentums, variable)
            v = slot(self, self._velocities, variable)
            m.assign(b1 * m + (1 - b1) * g)
            v.assign(b2 * v + (1 - b2) * g * g)
            alpha = lr * t.sqrt(1 - b2 ** step) / (1 - b1 ** step)
            if self._bug == "eps_sign":
                variable.assign_sub(alpha * m / (t.sqrt(v) - eps))
            elif self._bug == "eps_inside":
                variable.assign_sub(alpha * m / t.sqrt(v + eps))
            elif self._bug == "no_bias_correction":
                variable.assign_sub(lr * m / (t.sqrt(v) + eps))
            else:
                variable.assign_sub(alpha * m / (t.sqrt(v) + eps))

    return BrokenAdam


def broken_sgd_class() -> type:
    """SGD with one planted bug (``bug``): replica_mean, decay_unscaled, sparse_sorted, momentum_twice."""
    t = tensor_ops()
    tf = t.tf  # None off TensorFlow: no IndexedSlices there, replicas through JAX's sharding only
    base = kc.optimizer_class("SGD")

    class BrokenSGD(base):
        """SGD with one planted bug (``bug``)."""

        def __init__(self, bug: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._bug = bug
            self._replicas = 1

        def build(self, variables: Any) -> None:
            super().build(variables)
            if kc.backend() == "jax" and variables:
                # JAX: the replicas are the devices a variable is laid out over (keras.distribution.DataParallel
                # replicates it on each); one device is a plain run, where this SGD is right.
                self._replicas = len(variables[0].value.sharding.device_set)

        def apply_gradients(self, grads_and_vars: Any, *args: Any, **kwargs: Any) -> Any:
            if (self._bug == "replica_mean" and tf is not None and tf.distribute.has_strategy()
                    and not tf.distribute.in_cross_replica_context()):
                # Wrong: averages the replicas' gradients (Keras documents a sum).
                n = tf.distribute.get_strategy().num_replicas_in_sync
                grads_and_vars = [(g / n, v) for g, v in grads_and_vars]
            return super().apply_gradients(grads_and_vars, *args, **kwargs)

        def _apply_weight_decay(self, variables: Any) -> Any:
            if self._bug != "decay_unscaled" or self.weight_decay is None:
                return super()._apply_weight_decay(variables)
            for variable in variables:
                if self._use_weight_decay(variable):
                    variable.assign(variable - variable * t.cast(self.weight_decay, variable.dtype))

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any = None) -> None:
            lr = self.learning_rate if learning_rate is None else learning_rate
            dt = variable.dtype
            if tf is not None and isinstance(gradient, tf.IndexedSlices) and self._bug == "sparse_sorted":
                # Wrong densification: indices sorted, values left in their order.
                idx = tf.sort(gradient.indices)
                gradient = tf.IndexedSlices(gradient.values, idx, gradient.dense_shape)
            g = t.cast(t.dense(gradient), dt)
            if self._bug == "replica_mean" and self._replicas > 1:
                g = g / self._replicas  # Wrong (JAX): averages the replicas' gradients (Keras sums)
            lr = t.cast(lr, dt)
            if self.momentum == 0:
                variable.assign_sub(lr * g)
                return
            mom = t.cast(self.momentum, dt)
            vel = slot(self, self.momentums, variable)
            vel.assign(mom * vel - lr * g)
            if self._bug == "momentum_twice":
                variable.assign_add(vel + mom * vel)
            elif self.nesterov:
                variable.assign_add(mom * vel - lr * g)
            else:
                variable.assign_add(vel)

    return BrokenSGD


def forgetful_sgd_class(forgets: str = "momentum") -> type:
    """Plain Keras SGD whose ``get_config`` loses one hyperparameter (``forgets``).

    It trains exactly like SGD; only ``from_config(get_config())`` rebuilds it
    at that hyperparameter's default.
    """
    base = kc.optimizer_class("SGD")

    class ForgetfulSGD(base):
        def get_config(self) -> dict:
            config = dict(super().get_config())
            config.pop(forgets, None)
            return config

    return ForgetfulSGD


def _no_jit(kwargs: dict) -> dict:
    if kc.keras_major() < 3:
        kwargs.setdefault("jit_compile", False)
    return kwargs


def wrong_optimizer(spec_name: str, cls_fn: Callable[[], type], bug: str, **fixed: Any) -> Any:
    """The built-in spec ``spec_name`` with its factory building ``cls_fn()(bug=bug)`` (no declared findings)."""
    cls = cls_fn()
    spec = builtins.optimizer(spec_name)

    def factory(**kwargs: Any) -> Any:
        kwargs.update(fixed)
        return cls(bug=bug, **_no_jit(kwargs))

    return dataclasses.replace(spec, factory=factory, expected_failures={})


def optimizer_of_class(spec_name: str, cls: type) -> Any:
    """The built-in spec ``spec_name`` with its factory building ``cls`` (no declared findings)."""
    spec = builtins.optimizer(spec_name)
    return dataclasses.replace(spec, factory=lambda **kw: cls(**_no_jit(kw)), expected_failures={})


def sgd_variant(update: Callable[[Any, Any, Any], Any]) -> Any:
    """A spec for SGD whose update step is replaced by ``update(gradient, variable, lr)``."""
    sgd = kc.optimizer_class("SGD")

    class Variant(sgd):
        def update_step(self, gradient: Any, variable: Any, learning_rate: Any = None) -> None:
            lr = self.learning_rate if learning_rate is None else learning_rate
            update(tensor_ops().dense(gradient), variable, lr)

    return dataclasses.replace(builtins.optimizer("SGD"), factory=lambda **kw: Variant(**_no_jit(kw)))


# =========================================================================== propagation

def gaussian_stack(rng: np.random.Generator, seeds: int, depth: int, n: int, sigma_w2: float) -> np.ndarray:
    """``(seeds, depth, n, n)`` i.i.d. N(0, sigma_w2 / n) weights, drawn by NumPy."""
    return rng.standard_normal((seeds, depth, n, n)) * math.sqrt(sigma_w2 / n)


def haar_stack(rng: np.random.Generator, batch: tuple, n: int) -> np.ndarray:
    """Haar orthogonal matrices: QR of a Gaussian with the signs of R's diagonal fixed (Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal(tuple(batch) + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def keras_spec(name: str, class_name: str, activations: tuple[str, ...], **kwargs: Any) -> InitializerSpec:
    """A Keras initializer class with fixed arguments, declared for ``activations``."""
    def factory(seed: Any) -> Any:
        return kc.initializer_class(class_name)(seed=seed, **kwargs)

    law = Normal(std=kwargs.get("stddev", 1.0))  # only used to explain; see each test
    return InitializerSpec(name=name, factory=factory, law=law, activations=activations,
                           tags=frozenset({"iid", "seeded"}), ranks=(2, 3))


def declared_for(spec: Any, name: str, *activations: str) -> Any:
    """``spec`` renamed and declared for ``activations`` (a right law for the wrong activation, or the reverse)."""
    return dataclasses.replace(spec, name=name, activations=tuple(activations))


def small_normal_for_relu() -> InitializerSpec:
    """The example plugin's N(0, 0.01^2) spec declared for ReLU, or an equivalent drawn by NumPy where the plugin is
    not installed or cannot run (its object calls ``tf.random``: TensorFlow backend only)."""
    spec = None
    if kc.backend() == "tensorflow":
        try:
            from initcheck_example.initializers import SMALL_NORMAL as spec
        except ImportError:
            pass
    if spec is None:
        def factory(seed: Any) -> Callable:
            def small_normal(shape: Any, dtype: Any = None) -> np.ndarray:
                return np.random.default_rng(seed).normal(0.0, 0.01, size=shape).astype(dtype_name(dtype))
            return small_normal

        spec = InitializerSpec(name="small_normal", factory=factory, law=Normal(std=0.01), tags=frozenset({"iid"}),
                               unseeded_repeat="different")
    return dataclasses.replace(spec, activations=("relu",))


def laplace_he() -> InitializerSpec:
    """Correct but unusual: i.i.d. Laplace entries (excess kurtosis 3) with He's variance 2 / fan_in,
    drawn by NumPy (not a Keras object), declared for ReLU."""
    from scipy import stats as sst

    from initcheck.laws import ScipyLaw

    def factory(seed: Any) -> Callable:
        def init(shape: Any, dtype: Any = None) -> np.ndarray:
            b = math.sqrt(2.0 / shape[-2] / np.prod(shape[:-2]) / 2.0)  # Var = 2 b^2 = 2 / fan_in
            return np.random.default_rng(seed).laplace(0.0, b, size=shape).astype(dtype_name(dtype))
        return init

    def law(shape: tuple, fans: Fans) -> Law:
        return ScipyLaw(sst.laplace(scale=math.sqrt(1.0 / fans.fan_in)))

    return InitializerSpec(name="LaplaceHe", factory=factory, law=law, activations=("relu",),
                           tags=frozenset({"iid", "seeded"}), ranks=(2, 3))
