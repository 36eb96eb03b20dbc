"""A forma do pacote: a face pública listada em kit/__init__.py, o encanamento em módulos `_`."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import kit

KIT = Path(kit.__file__).parent
ROOT = KIT.parent


def test_every_module_is_public_and_listed_or_private():
    modules = {p.stem for p in KIT.glob("*.py")} - {"__init__", "__main__"}
    modules |= {p.parent.name for p in KIT.glob("*/__init__.py")}  # subpacotes (kit.tasks)
    public = {m for m in modules if not m.startswith("_")}
    assert public == set(kit.PUBLIC_MODULES)
    for name in kit.PUBLIC_MODULES:
        assert f"kit.{name} " in kit.__doc__, f"kit.{name} falta na lista do docstring de kit/__init__.py"


def test_no_module_over_400_lines():
    sizes = {str(p.relative_to(KIT)): len(p.read_text(encoding="utf-8").splitlines()) for p in KIT.rglob("*.py")}
    assert not {name: n for name, n in sizes.items() if n > 400}


def _imported_kit_modules(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kit"):
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("kit")}
    return found


def test_notebooks_and_exercises_import_only_the_public_face():
    for path in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb")]:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            try:
                imported = _imported_kit_modules("\n".join(lines))
            except SyntaxError:
                continue
            private = [m for m in imported if any(part.startswith("_") for part in m.split(".")[1:2])]
            assert not private, f"{path.name} importa encanamento: {private}"


def test_api_does_not_import_drift():
    assert "kit.drift" not in _imported_kit_modules((KIT / "api.py").read_text(encoding="utf-8"))
    assert "drift" not in {n.split(".")[-1] for n in _imported_kit_modules((KIT / "api.py").read_text("utf-8"))}
