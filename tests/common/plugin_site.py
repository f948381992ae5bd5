"""Third-party plugins as a throwaway site folder: modules plus dist-info entry points, as pip would leave them.

Tests that run initcheck end to end (pytest through pytester, the CLI and the
report in subprocesses) register their doubles this way, so the registry finds
them exactly as it finds a real plugin.  Every plugin module starts with
``from plugin_common import *``: :data:`COMMON` below, a NumPy normal
initializer and a spec maker.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Mapping

__all__ = ["COMMON", "write_site"]

COMMON = '''
import numpy as np
from initcheck import ExpectedFailure, InitializerSpec
from initcheck.laws import Normal

def numpy_normal(std=1.0):
    """factory(seed) -> init(shape, dtype): N(0, std^2) draws from NumPy, seeded."""
    def factory(seed):
        def init(shape, dtype=None):
            rng = np.random.default_rng(seed)
            return (std * rng.standard_normal(size=tuple(shape))).astype(dtype or "float32")
        return init
    return factory

def make(name, factory, **kw):
    kw.setdefault("dtypes", ("float32", "float64"))
    kw.setdefault("unseeded_repeat", "different")
    return InitializerSpec(name=name, factory=factory, law=Normal(std=1.0), **kw)
'''


def write_site(root: Path, plugins: Mapping[str, tuple[str, str]]) -> Path:
    """``root/site`` with one distribution per ``{dist: (module, body)}``; its entry point is ``module:SPEC``."""
    site = Path(root) / "site"
    site.mkdir()
    (site / "plugin_common.py").write_text(COMMON)
    for dist, (module, body) in plugins.items():
        (site / f"{module}.py").write_text("from plugin_common import *\n" + textwrap.dedent(body) + "\n")
        info = site / f"{module}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[initcheck.initializers]\nspec = {module}:SPEC\n")
    return site
