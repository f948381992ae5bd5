"""What the test folders share: test doubles, built-in spec look-ups, the tables several folders run.

Importable as ``common`` (``pythonpath = ["tests"]`` in pyproject.toml).
Nothing here imports TensorFlow at import time: Keras is reached inside the
functions, through :mod:`initcheck.keras_compat`.

* :mod:`.doubles` -- every shared double: NumPy samplers and :func:`~.doubles.np_spec`,
  wrong Keras initializers, broken optimizer classes, propagation specs;
* :mod:`.builtins` -- the built-in specs, looked up once per process;
* :mod:`.power_table` -- the power table's rows (teeth runs one seed, slow ten);
* :mod:`.optimizer_bugs` -- the planted optimizer bugs and their explicit cases;
* :mod:`.plugin_site` -- plugins as a third party ships them (a site directory of modules and
  ``.dist-info`` entry points, or fake entry points in this process).
"""
