"""pytest loads the initcheck plugin in every project: importing it must not import TensorFlow."""

import subprocess
import sys


def test_plugin_and_registry_import_no_tensorflow():
    code = ("import sys, initcheck, initcheck.testing, initcheck.registry, initcheck.battery, initcheck.cli; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_pytest_plugin_imports_no_numpy_and_no_plotting():
    """pytest loads initcheck.testing in every run of every project: it stays cheap (the report's modules load
    only when --initcheck-report is given)."""
    code = ("import sys, initcheck.testing, initcheck.reports.results; "
            "print(sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'jinja2', 'hypothesis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_check_modules_import_no_tensorflow() -> None:
    code = ("import sys, initcheck.stats, initcheck.checks; initcheck.checks.all_checks(); "
            "import initcheck.checks.distribution, initcheck.checks.layers, initcheck.checks.structured; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))[:3]")
    subprocess.run([sys.executable, "-c", code], check=True)
