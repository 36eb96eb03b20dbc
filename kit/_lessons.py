"""As cópias de trabalho das aulas (minhas_aulas/): as tarefas "Sua vez" em branco.

    python -m kit minhas-aulas                  # notebooks/ → minhas_aulas/ (não sobrescreve nada)
    python -m kit minhas-aulas 03 --forcar      # recria só a aula 03 (perde o que você escreveu nela!)
    python -m kit minhas-aulas --destino /tmp/x # outra pasta (os testes usam)

Os notebooks de notebooks/ são a versão de referência: cada célula "Sua vez" (tag `sua-vez`) traz a
solução entre `### BEGIN SOLUTION` e `### END SOLUTION`, e as saídas gravadas mostram a aula completa.
Na cópia do aluno, cada trecho de solução vira um esboço — `nome = valor` no nível de cima vira
`nome = None  # ✍️ sua vez`, o resto vira `...` — as saídas são apagadas, e logo abaixo da tarefa entra
uma célula com a solução de referência escondida num "▶ Solução de referência" (clique para abrir).
"""
from __future__ import annotations

import re
from copy import deepcopy
from pathlib import Path

import nbformat

from kit.errors import EntradaInvalida
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
TASK_TAG = "sua-vez"
ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*(?::[^=]+)?=(?!=)")
REVEAL_TAG = "solucao-referencia"


def _stub(region: list[str]) -> list[str]:
    """O esboço que entra no lugar de um trecho de solução."""
    code = [line for line in region if line.strip() and not line.lstrip().startswith("#")]
    indent = min((len(line) - len(line.lstrip()) for line in code), default=0)
    pad = " " * indent
    if indent:
        return [f"{pad}# ✍️ sua vez: escreva aqui", f"{pad}..."]
    names = []
    for line in code:
        match = ASSIGNMENT.match(line)
        if match:
            names += [n.strip() for n in match.group(1).split(",") if n.strip() not in names]
    return [f"{name} = None  # ✍️ sua vez" for name in names] or ["# ✍️ sua vez: escreva aqui"]


def strip_solutions(source: str) -> tuple[str, str]:
    """(código com esboços, código de referência sem os marcadores)."""
    out, reference, region = [], [], None
    for line in source.splitlines():
        mark = line.strip()
        if mark == BEGIN:
            if region is not None:
                raise ValueError("BEGIN SOLUTION dentro de outro trecho de solução")
            region = []
        elif mark == END:
            if region is None:
                raise ValueError("END SOLUTION sem BEGIN SOLUTION")
            out += _stub(region)
            region = None
        else:
            reference.append(line)
            (out if region is None else region).append(line)
    if region is not None:
        raise ValueError("BEGIN SOLUTION sem END SOLUTION")
    return "\n".join(out), "\n".join(reference)


def is_task(cell) -> bool:
    return cell.cell_type == "code" and TASK_TAG in cell.get("metadata", {}).get("tags", [])


def student_notebook(nb):
    """A cópia do aluno de um notebook de referência (o original não muda)."""
    copy = nbformat.from_dict(deepcopy(nb))
    cells = []
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if BEGIN in cell.source and not is_task(cell):
                raise ValueError(f"célula com {BEGIN} sem a tag {TASK_TAG}: {cell.source[:60]!r}")
        if not is_task(cell):
            cells.append(cell)
            continue
        cell.source, reference = strip_solutions(cell.source)
        cells.append(cell)
        reveal = nbformat.v4.new_markdown_cell(
            "<details><summary>🔑 Solução de referência (clique para abrir — tente antes!)</summary>\n\n"
            f"```python\n{reference}\n```\n\n</details>")
        reveal.metadata["tags"] = [REVEAL_TAG]
        cells.append(reveal)
    copy.cells = cells
    return copy


def write_copies(source: Path, dest: Path, only: list[str], force: bool) -> list[str]:
    lessons = [p for p in sorted(source.glob("[0-9][0-9]_*.ipynb"))
               if not only or p.name.startswith(tuple(only))]
    if not lessons:
        raise EntradaInvalida(f"Não achei aulas {' '.join(only) or ''} em {source}: rode o comando de dentro do "
                              "repositório do curso (a pasta que tem notebooks/) e confira os números (01 a 07).")
    dest.mkdir(parents=True, exist_ok=True)
    report = []
    for path in lessons:
        target = dest / path.name
        if target.exists() and not force:
            report.append(f"mantida (já existe, não sobrescrevo o seu trabalho): {target.name}")
            continue
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
        report.append(f"copiada: {target.name}")
    return report
