"""The example plugin is what a third party writes: it imports initcheck's public facade only."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "plugins" / "initcheck-example" / "src" / "initcheck_example"


def _initcheck_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, "from X import ..." or "import X")`` for every import of initcheck in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "initcheck":
            out.append((node.lineno, f"from {'.' * node.level}{node.module} import ..."))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] == "initcheck"]
    return out


def test_example_plugin_imports_only_the_facade() -> None:
    modules = sorted(SRC.glob("*.py"))
    assert {p.name for p in modules} >= {"initializers.py", "optimizers.py"}
    found = {p.name: _initcheck_imports(p) for p in modules}
    assert any(found.values()), "the example plugin should import initcheck at all"
    deep = [f"{name}:{line}: {stmt}" for name, imports in found.items() for line, stmt in imports
            if stmt != "from initcheck import ..."]
    assert not deep, "the example plugin reaches past the facade (`from initcheck import ...`): " + "; ".join(deep)
