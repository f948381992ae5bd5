"""keras_compat knows the backend as Keras reads it, without importing TensorFlow or Keras to find out (#17)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from initcheck import keras_compat as kc


def _home_with(tmp_path, config) -> str:
    folder = tmp_path / ".keras"
    folder.mkdir()
    (folder / "keras.json").write_text(config if isinstance(config, str) else json.dumps(config))
    return str(tmp_path)


def test_default_is_tensorflow(tmp_path):
    assert kc.backend_from({}, keras_api="3", home=str(tmp_path)) == "tensorflow"


def test_environment_variable(tmp_path):
    assert kc.backend_from({"KERAS_BACKEND": "jax"}, keras_api="3", home=str(tmp_path)) == "jax"
    # An empty variable is ignored, as Keras ignores it.
    assert kc.backend_from({"KERAS_BACKEND": ""}, keras_api="3", home=str(tmp_path)) == "tensorflow"


def test_keras_json_then_environment(tmp_path):
    home = _home_with(tmp_path, {"backend": "torch", "floatx": "float32"})
    assert kc.backend_from({}, keras_api="3", home=home) == "torch"
    assert kc.backend_from({"KERAS_BACKEND": "jax"}, keras_api="3", home=home) == "jax"


def test_keras_home_and_unreadable_json(tmp_path):
    folder = tmp_path / "kh"
    folder.mkdir()
    (folder / "keras.json").write_text(json.dumps({"backend": "jax"}))
    assert kc.backend_from({"KERAS_HOME": str(folder)}, keras_api="3", home=str(tmp_path)) == "jax"
    home = _home_with(tmp_path, "{not json")
    assert kc.backend_from({}, keras_api="3", home=home) == "tensorflow"


def test_keras_2_is_always_tensorflow(tmp_path):
    home = _home_with(tmp_path, {"backend": "jax"})
    assert kc.backend_from({"KERAS_BACKEND": "torch"}, keras_api="2", home=home) == "tensorflow"


def _probe(env_backend: str, code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, KERAS_BACKEND=env_backend)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_backend_imports_nothing_heavy():
    code = ("import sys, initcheck.keras_compat as kc; b = kc.backend(); "
            "print(b, sorted(m for m in ('tensorflow', 'keras', 'tf_keras', 'jax', 'torch') if m in sys.modules))")
    out = _probe("jax", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] in ("jax", "tensorflow")  # tensorflow where Keras 2 is in use
    assert out.stdout.strip().endswith("[]")


def test_tensorflow_only_helper_names_the_backend():
    code = ("import sys, initcheck.keras_compat as kc\n"
            "try:\n    kc.tf()\nexcept kc.NotOnBackend as exc:\n    print('raised', exc)\n"
            "print('tensorflow' in sys.modules)")
    out = _probe("jax", code)
    assert out.returncode == 0, out.stderr
    if kc.versions_from_metadata().get("keras_api") == "2":
        pytest.skip("Keras 2 has no other backend")
    assert "raised" in out.stdout and "jax backend" in out.stdout
    assert out.stdout.strip().endswith("False")


def test_versions_record_the_backend():
    have = kc.versions()
    assert have["backend"] == kc.backend()
    if have["backend"] == "tensorflow":
        assert "tensorflow" in have
    else:
        assert "tensorflow" not in have
    if have["backend"] == "jax":
        assert "jax" in have and "jaxlib" in have
        assert have["jax_x64"] == ("on" if kc.x64_enabled() else "off")


@pytest.mark.skipif(not __import__("importlib").util.find_spec("jax"), reason="needs jax installed")
def test_list_on_jax_imports_no_tensorflow():
    """`initcheck list` on the JAX backend: the specs load (Keras 3 on JAX), TensorFlow is never imported."""
    if kc.versions_from_metadata().get("keras_api") == "2":
        pytest.skip("Keras 2 has no other backend")
    code = ("import sys, contextlib, io\nfrom initcheck.cli import main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n    rc = main(['list', '--select', 'keras>GlorotUniform,keras>SGD'])\n"
            "print(rc, 'tensorflow' in sys.modules, buf.getvalue().count('checks:'))")
    out = _probe("jax", code)
    assert out.returncode == 0, out.stderr[-2000:]
    rc, tf_loaded, listed = out.stdout.strip().splitlines()[-1].split()
    assert (rc, tf_loaded, listed) == ("0", "False", "2")


def test_vjp_is_the_backends_autodiff():
    """``keras_compat.vjp`` on the running backend against the derivative by hand: ``c^T d(x^3)/dx = 3 c x^2``."""
    if kc.versions_from_metadata().get("keras_api") == "2":
        pytest.skip("keras.ops is Keras 3's; on Keras 2 the propagation simulator is the tf.function graph pass")
    import numpy as np

    ops = kc.keras().ops
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]])
    c = np.array([[1.0, 2.0, -0.5], [0.0, -1.0, 4.0]])
    with kc.float64_scope():
        got = kc.vjp(lambda t: t * t * t, ops.convert_to_tensor(x, dtype="float64"),
                     ops.convert_to_tensor(c, dtype="float64"))
        got = kc.to_numpy(got)
    np.testing.assert_allclose(got, 3 * c * x ** 2, rtol=1e-14, atol=0)


def test_float64_ops_compute_in_float64():
    """``keras_compat.float64_ops`` keeps float64 where plain ``keras.ops`` computes in float32 (JAX: tanh, mean;
    torch: matmul, mean): a float32 step would be ~1e-8 off here."""
    if kc.versions_from_metadata().get("keras_api") == "2":
        pytest.skip("keras.ops is Keras 3's; on Keras 2 the propagation simulator is the tf.function graph pass")
    import numpy as np

    ops = kc.float64_ops()
    h = np.random.default_rng(3).standard_normal((3, 16, 32)) * 3
    with kc.float64_scope():
        x = kc.keras().ops.convert_to_tensor(h, dtype="float64")
        got = {"mean": kc.to_numpy(ops.mean(x, axis=(2,))),
               "matmul": kc.to_numpy(ops.matmul(x, kc.keras().ops.transpose(x, (0, 2, 1)))),
               "tanh": kc.to_numpy(ops.tanh(x))}
    want = {"mean": h.mean(axis=2), "matmul": h @ h.transpose(0, 2, 1), "tanh": np.tanh(h)}
    for name in want:
        assert got[name].dtype == np.float64, name
        np.testing.assert_allclose(got[name], want[name], rtol=1e-13, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_orthogonal_float16_is_a_spec_of_its_own_where_the_qr_lacks_it(monkeypatch, backend):
    """Where ``orthogonal-float16-qr`` holds (JAX, torch; Keras >= 3.10), float16 leaves Orthogonal's dtypes and
    becomes ``Orthogonal-float16``, carrying the declaration, so the contract failure blocks nothing else."""
    from initcheck.builtin import initializers
    from initcheck.builtin.findings import ORTHOGONAL_FLOAT16_QR

    monkeypatch.setattr(kc, "backend", lambda: backend)
    apart = ORTHOGONAL_FLOAT16_QR.applies({**kc.versions_from_metadata(), "backend": backend})
    if backend == "tensorflow":
        assert not apart
    specs = {s.name: s for s in initializers._structured_specs()}
    assert ("Orthogonal-float16" in specs) == apart
    for name in ("Orthogonal", "Orthogonal-gain2.5"):
        assert ("float16" in specs[name].dtypes) == (not apart), name
        assert {"float32", "float64"} <= set(specs[name].dtypes)
    if apart:
        f16 = specs["Orthogonal-float16"]
        assert f16.dtypes == ("float16",)
        assert f16.expected_failures["check_output_contract"] is ORTHOGONAL_FLOAT16_QR
    # the listings (initcheck findings, docs/findings.md) see it on every backend
    assert "Orthogonal-float16" in {s.name for s in initializers._structured_specs(every_backend=True)}


@pytest.mark.skipif(importlib.util.find_spec("jax") is None or importlib.util.find_spec("keras") is None,
                    reason="needs jax and Keras 3 installed")
@pytest.mark.parametrize("env, devices", [
    ({}, 2),                                                                  # initcheck asks for two
    ({"INITCHECK_LOGICAL_CPUS": "1"}, 1),                                     # turned off
    ({"XLA_FLAGS": "--xla_force_host_platform_device_count=3"}, 3),         # the user's count is left alone
])
def test_jax_gets_two_host_devices_before_its_first_operation(env, devices):
    """The data-parallel check's two devices (JAX's twin of TensorFlow's two logical CPUs), set at kc.keras()."""
    if kc.versions_from_metadata().get("keras_api") == "2":
        pytest.skip("Keras 2 has no JAX backend")
    code = ("from initcheck import keras_compat as kc\nkc.keras()\nimport jax\n"
            "print(len(jax.devices('cpu')), kc.ensure_logical_cpus(2))\n")
    clean = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "INITCHECK_LOGICAL_CPUS")}
    run = subprocess.run([sys.executable, "-c", code], env={**clean, "KERAS_BACKEND": "jax", **env},
                         capture_output=True, text=True, check=True)
    assert run.stdout.split() == [str(devices), str(devices >= 2)]


def test_jitted_stateless_steps_is_the_jax_trainers_path():
    """JAX: SGD(momentum) through one jitted ``stateless_apply`` per step equals the rule written out, and the
    final state is written back (iterations); another backend names the JAX path it is not on."""
    import numpy as np

    keras = kc.keras()
    if kc.backend() != "jax":
        with pytest.raises(kc.NotOnBackend, match="JAX path"):
            kc.jitted_stateless_steps(None, [], [])
        return
    w = keras.Variable(np.array([1.0, -2.0], dtype="float32"))
    opt = keras.optimizers.SGD(learning_rate=0.5, momentum=0.5)
    grads = [[np.array([1.0, 2.0], "float32")], [np.array([-1.0, 0.5], "float32")]]
    history = kc.jitted_stateless_steps(opt, [w], grads)
    velocity, expected = np.zeros(2), np.array([1.0, -2.0])
    for (g,) in grads:  # Keras's SGD: v = m * v - lr * g; w += v
        velocity = 0.5 * velocity - 0.5 * g
        expected = expected + velocity
    # The float32 run's distance from the exact rule, bounded by the project's running error analysis.
    from initcheck.references.error_bounds import FACTOR, trajectory_bounds
    from initcheck.references.optimizers import RULES

    bounds = trajectory_bounds(RULES["sgd"], [np.array([1.0, -2.0])], [[g.astype(np.float64)] for (g,) in grads],
                               [0.5, 0.5], {"momentum": 0.5, "nesterov": False}, "float32")
    tolerance = FACTOR * (bounds.impl[0] + bounds.ref[0])
    assert len(history) == 3 and np.all(np.abs(history[-1][0] - expected) <= tolerance)
    assert np.all(np.abs(np.asarray(w, dtype=np.float64) - expected) <= tolerance)
    assert kc.optimizer_iterations(opt) == 2
