"""initcheck: verification of TensorFlow/Keras weight initializers and optimizers.

Importing the package is cheap (no TensorFlow).  Public names:

* :class:`~initcheck.spec.InitializerSpec`, :class:`~initcheck.spec.ExpectedFailure`,
  :class:`~initcheck.spec.SpecError` - what a plugin declares;
* :mod:`initcheck.laws` - the target laws;
* :func:`initcheck.testing.parametrize_with_checks` - the battery in your tests;
* :func:`initcheck.registry.load_registry` - the entry-point registry.
"""

from .evidence import CheckFailure, Evidence
from .spec import ExpectedFailure, InitializerSpec, SpecError

__all__ = ["CheckFailure", "Evidence", "ExpectedFailure", "InitializerSpec", "SpecError", "__version__"]
__version__ = "0.1.0"
