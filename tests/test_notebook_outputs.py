"""Lint das saídas gravadas nos notebooks: o que o aluno vê no GitHub (ou ao abrir o arquivo) antes de rodar.

Sem execução: lê os .ipynb de notebooks/ e solutions/ como estão no commit e recusa
- saída de erro fora de célula marcada como erro de propósito (tag `raises-exception`);
- caminhos absolutos da máquina de quem executou (/root, /home/, /tmp/, /work);
- célula de código com títulos de markdown colados como comentário (`# ## Entregável`);
- barra de progresso que ficou só como widget (no arquivo, ela aparece parada em 0 %);
- aviso do receptor de alertas caído numa célula qualquer (o alerta aparece onde a aula o pede, com
  `alerts.table()`/`alerts.wait_for()`, não no stderr da célula que estava rodando quando ele chegou).
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted((ROOT / "solutions").glob("ex*.ipynb"))
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/-])(/root\b|/home/|/tmp/|/work\b)")
MARKDOWN_HEADING_COMMENT = re.compile(r"^#\s+#{1,6}\s+\S", re.MULTILINE)
WIDGET = "application/vnd.jupyter.widget-view+json"
STRAY_ALERT = re.compile(r"\| stack \| Alerta (firing|resolved):")


def _texts(output) -> list[str]:
    if output.output_type == "stream":
        return [output.text]
    if output.output_type == "error":
        return ["\n".join(output.traceback)]
    return [value for value in output.get("data", {}).values() if isinstance(value, str)]


def problems(nb) -> list[str]:
    """Os problemas de um notebook já lido (lista vazia = limpo)."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"célula {index} ({cell.source.strip().splitlines()[0][:50] if cell.source.strip() else 'vazia'})"
        tags = set(cell.metadata.get("tags", []))
        if MARKDOWN_HEADING_COMMENT.search(cell.source):
            found.append(f"{where}: título de markdown colado como comentário — volte-o para uma célula de markdown")
        for output in cell.get("outputs", []):
            if output.output_type == "error" and "raises-exception" not in tags:
                found.append(f"{where}: saída de erro ({output.ename}) numa célula que não é um erro de propósito")
            data = output.get("data", {})
            if WIDGET in data and not any(k.startswith("image/") for k in data):
                found.append(f"{where}: barra de progresso só como widget (no arquivo ela fica em 0 %)")
            if output.output_type == "stream" and STRAY_ALERT.search(output.text):
                found.append(f"{where}: aviso do receptor de alertas no stderr de uma célula qualquer")
            for text in _texts(output):
                if match := ABSOLUTE_PATH.search(text):
                    context = text[max(0, match.start() - 30): match.end() + 40].replace("\n", " ")
                    found.append(f"{where}: caminho absoluto da máquina na saída: …{context}…")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name[:4]}")
def test_committed_outputs_are_clean(path):
    found = problems(nbformat.read(path, as_version=4))
    assert not found, f"{path.relative_to(ROOT)}:\n" + "\n".join(found)


def _nb(source: str, outputs: list, tags=()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = outputs
    cell.metadata["tags"] = list(tags)
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    return nb


@pytest.mark.parametrize("source, outputs, tags, expected", [
    ("1/0", [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="x", traceback=[])], (), "saída de erro"),
    ("x", [nbformat.v4.new_output("stream", name="stderr", text='File "/root/.pyenv/lib/x.py"')], (), "caminho absoluto"),
    ("x", [nbformat.v4.new_output("stream", name="stdout", text="gravado em /tmp/tmp.0X/outputs/a.csv")], (), "caminho"),
    ("x", [nbformat.v4.new_output("stream", name="stdout", text="/work/main/kit/model.py")], (), "caminho absoluto"),
    ("x", [nbformat.v4.new_output("stream", name="stdout", text="/home/ana/curso")], (), "caminho absoluto"),
    ("plot()\n#\n# ## Entregável: dashboards\n# - [x] feito", [], (), "título de markdown"),
    ("load.run()", [nbformat.v4.new_output("stream", name="stderr",
                                           text="13:28:41 | WARNING  | stack | Alerta firing: ApiDown — x")], (), "receptor"),
    ("load.run()", [nbformat.v4.new_output("display_data", data={
        WIDGET: {"model_id": "abc"}, "text/plain": "carga leve:   0%|          | 0/20"})], (), "widget"),
])
def test_the_lint_catches_each_kind_of_residue(source, outputs, tags, expected):
    assert any(expected in p for p in problems(_nb(source, outputs, tags)))


def test_the_lint_accepts_what_a_lesson_legitimately_shows():
    ok = _nb("# comentário comum\nprint('ok')  # ## não é título no começo da linha",
             [nbformat.v4.new_output("stream", name="stdout", text="http://127.0.0.1:9090/api/v1/query e logs/api.json"),
              nbformat.v4.new_output("error", ename="ValueError", evalue="de propósito", traceback=[])],
             tags=["raises-exception"])
    assert problems(ok) == []
