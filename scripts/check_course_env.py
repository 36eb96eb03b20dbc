"""Confere o ambiente do aluno: tudo o que as aulas e os exercícios importam está instalado.

    python scripts/check_course_env.py            # `make venv` roda isto ao terminar a instalação
    python scripts/check_course_env.py --sem-dev  # e também: nada só de desenvolvimento veio junto

Lê os imports das células de notebooks/ e exercises/, importa cada pacote (e todos os módulos do kit,
que puxam as dependências dele) e as ferramentas que os comandos do aluno usam (JupyterLab, papermill).
Com --sem-dev, falha se um pacote de requirements-dev.txt ou requirements-instructor.txt estiver
instalado: o `make lab` do aluno instala só requirements.txt (o `make test` acrescenta o resto).
Sai com 1 e diz o que fazer se faltar algo.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.metadata
import json
import pkgutil
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_FOLDERS = (ROOT / "notebooks", ROOT / "exercises")
TOOLS = ("jupyterlab", "ipykernel", "papermill", "nbclient", "nbformat")  # make lab / make course
DEV_REQUIREMENTS = (ROOT / "requirements-dev.txt", ROOT / "requirements-instructor.txt")


def notebook_imports(folders=NOTEBOOK_FOLDERS) -> set[str]:
    """Os pacotes de primeiro nível importados nas células de código (sem a biblioteca padrão)."""
    found: set[str] = set()
    for folder in folders:
        for path in sorted(Path(folder).glob("*.ipynb")):
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
                if cell["cell_type"] != "code":
                    continue
                source = "".join(cell["source"])
                source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
                try:
                    tree = ast.parse(source)
                except SyntaxError:  # esboço de exercício incompleto: o que interessa são os imports
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        found.update(alias.name.split(".")[0] for alias in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                        found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names}


def requirement_names(paths=DEV_REQUIREMENTS) -> set[str]:
    """Nomes de distribuição fixados nos arquivos de requisitos (sem -r, comentários e versões)."""
    names = set()
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower())
    return names


def missing_imports(modules) -> list[str]:
    problems = []
    for name in sorted(modules):
        try:
            importlib.import_module(name)
        except Exception as exc:  # ImportError ou um pacote quebrado: os dois impedem a aula
            problems.append(f"{name} ({type(exc).__name__}: {exc})")
    return problems


def kit_modules() -> list[str]:
    import kit

    return [f"kit.{info.name}" for info in pkgutil.iter_modules(kit.__path__) if info.name != "__main__"]


def installed(names) -> list[str]:
    present = []
    for name in sorted(names):
        try:
            present.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return present


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sem-dev", action="store_true", help="falha se pacotes de desenvolvimento estiverem instalados")
    parser.add_argument("--pastas", nargs="*", type=Path, help="pastas de notebooks (padrão: notebooks/ e exercises/)")
    args = parser.parse_args(argv)
    wanted = notebook_imports(args.pastas or NOTEBOOK_FOLDERS) - {"kit"}
    problems = missing_imports(wanted | set(TOOLS))
    if not problems:
        problems = missing_imports(kit_modules())
    if problems:
        print("Faltam pacotes que as aulas usam:\n  " + "\n  ".join(problems), file=sys.stderr)
        print("Reinstale o ambiente: rm -rf .venv && make venv (ou: .venv/bin/pip install -r requirements.txt -e .)",
              file=sys.stderr)
        return 1
    if args.sem_dev:
        extra = installed(requirement_names())
        if extra:
            print("O ambiente do aluno não deveria ter pacotes de desenvolvimento, mas tem:\n  " + "\n  ".join(extra),
                  file=sys.stderr)
            print("Eles vêm de requirements.txt (direta ou indiretamente)? Mova-os para requirements-dev.txt.",
                  file=sys.stderr)
            return 1
    print(f"Ambiente do curso ok: {len(wanted)} pacotes das aulas e {len(TOOLS)} ferramentas importam"
          + (", sem pacotes de desenvolvimento." if args.sem_dev else "."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
