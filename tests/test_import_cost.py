"""pytest loads the initcheck plugin in every project: it must not import TensorFlow."""

import subprocess
import sys


def test_plugin_and_registry_import_no_tensorflow():
    code = ("import sys, initcheck, initcheck.plugin, initcheck.registry, initcheck.testing, initcheck.cli; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
