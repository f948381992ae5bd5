pytest_plugins = ["pytester"]

import os

# `initcheck check` runs specs in worker processes by default (one per CPU).  The tests of everything else run
# it in one process, as before: a worker pays TensorFlow's import again, and most tests select one spec anyway.
# tests/fast/test_parallel.py runs the workers on purpose.
os.environ.setdefault("INITCHECK_JOBS", "1")
