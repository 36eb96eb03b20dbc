"""Os botões do Binder no README, gerados de um lugar só (cada aula abre na cópia do aluno, minhas_aulas/).

    python scripts/binder_links.py                        # reescreve o bloco de botões do README
    python scripts/binder_links.py --repositorio org/repo # troca o repositório (pyproject.toml) e reescreve
    python scripts/binder_links.py --conferir             # só confere (os testes usam isto); sai 1 se difere

O repositório do GitHub que os botões abrem fica em `pyproject.toml`, `[tool.monitoramento-mlops]`,
`binder-repo`. O bloco entre `<!-- binder:inicio -->` e `<!-- binder:fim -->` do README é gerado daqui:
o botão principal abre o README como página renderizada (o JupyterLab do Binder e o do `make lab` usam a
"Markdown Preview" para .md — binder/overrides.json) e há um botão por aula, com o título da aula.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT, README = ROOT / "pyproject.toml", ROOT / "README.md"
START, END = "<!-- binder:inicio -->", "<!-- binder:fim -->"
BADGE = "https://mybinder.org/badge_logo.svg"
LANDING = "README.md"


def repository(pyproject: Path = PYPROJECT) -> str:
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["monitoramento-mlops"]["binder-repo"]


def launch_url(repo: str, path: str) -> str:
    return f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{path}"


def lesson_title(notebook: Path) -> str:
    """'Semana 1 — Preparação do ambiente' → 'Preparação do ambiente' (o primeiro título # da aula)."""
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].split("—", 1)[-1].strip()
    return notebook.stem


def block(repo: str, root: Path = ROOT) -> str:
    lines = [START,
             f"[![Abrir no Binder]({BADGE})]({launch_url(repo, LANDING)}) — abre o JupyterLab no mapa do curso "
             "(este README, como página).", "", "| aula | abrir direto |", "|---|---|"]
    for notebook in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        path = f"minhas_aulas/{notebook.name}"  # a cópia do aluno, criada pelo binder/postBuild
        lines.append(f"| {notebook.name[:2]} — {lesson_title(notebook)} | "
                     f"[![Binder]({BADGE})]({launch_url(repo, path)}) |")
    lines.append(END)
    return "\n".join(lines)


def render(readme_text: str, repo: str, root: Path = ROOT) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme_text):
        raise SystemExit(f"O README não tem o bloco {START} … {END}: recoloque os marcadores onde vão os botões.")
    return pattern.sub(lambda _: block(repo, root), readme_text)


def set_repository(repo: str, pyproject: Path = PYPROJECT) -> None:
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise SystemExit(f"'{repo}' não parece um repositório do GitHub: use dono/nome (ex.: minha-org/monitoramento-mlops).")
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(re.sub(r'(?m)^binder-repo = ".*"$', f'binder-repo = "{repo}"', text), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repositorio", help="dono/nome do repositório no GitHub (grava em pyproject.toml)")
    parser.add_argument("--conferir", action="store_true", help="não escreve: sai com 1 se o README está desatualizado")
    args = parser.parse_args(argv)
    if args.repositorio:
        set_repository(args.repositorio)
    text = README.read_text(encoding="utf-8")
    expected = render(text, repository())
    if args.conferir:
        if expected != text:
            print("Os botões do Binder no README estão desatualizados: rode python scripts/binder_links.py",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(expected, encoding="utf-8")
    print(f"Botões do Binder do README apontam para {repository()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
