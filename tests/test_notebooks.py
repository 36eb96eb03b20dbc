"""Os notebooks como testes — cada propriedade provada uma vez, na execução mais barata que a prova.

| execução (modo rápido)                        | prova                                                        |
|-----------------------------------------------|--------------------------------------------------------------|
| nbval sobre cada aula DUAS vezes no mesmo     | o curso roda com Prometheus/Alertmanager nativos; as saídas  |
| kernel, contra uma stack rápida que já estava | marcadas `nbval-check-output` batem com as do commit; rodar  |
| no ar (como no `make lab`)                    | a aula de novo no mesmo kernel não quebra nada (§2.2)        |
| `scripts/run_course.py` com STACK_MODE=none   | sem stack cada aula termina e diz o que não pôde mostrar, e o |
| (test_course_modes.py)                        | `make course` não toca models/, outputs/ nem logs/ do checkout |
| papermill das aulas 04 e 07 no modo binder    | o kit usa o Prometheus sob o prefixo do JupyterHub (consultas, |
| (test_course_modes.py)                        | prévias, alertas)                                            |

Antes eram sete execuções do curso por suíte (papermill em três modos, duas no mesmo kernel, o navegador
com as seis aulas e o nbval); agora são três e meia (duas passadas no nbval, uma sem stack, a 04 e a 07 no
modo binder), e o navegador roda uma aula (tests/test_browser.py).
Cada execução usa um KIT_HOME e portas próprios (não colide com a API/stack de outros testes nem com a
stack de `make lab` de quem roda os testes).
"""
from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from tests._tools import require_binary
from tests._tools import free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import run_course  # noqa: E402

pytestmark = pytest.mark.slow
NOTEBOOKS = run_course.notebooks()
PORT_VARIABLES = run_course.PORT_VARIABLES


def _isolated_env(stack_mode: str, base: dict | None = None) -> dict:
    """Um ambiente com KIT_HOME e portas próprios (para um subprocesso ou para os kernels)."""
    env = dict(os.environ if base is None else base)
    env["KIT_HOME"] = tempfile.mkdtemp(prefix="kit-nb-home-")
    env["STACK_MODE"] = stack_mode
    for name in PORT_VARIABLES:
        env[name] = str(free_port())
    for name in ("PROMETHEUS_URL", "ALERTMANAGER_URL", "GRAFANA_URL", "API_HOST", "JUPYTERHUB_SERVICE_PREFIX"):
        env.pop(name, None)
    return env


def test_seven_notebooks_exist_in_order():
    assert [nb.name[:2] for nb in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]
    for nb in NOTEBOOKS:
        cells = nbformat.read(nb, as_version=4).cells
        tags = [set(c.metadata.get("tags", [])) for c in cells]
        assert any("parameters" in t for t in tags), f"{nb.name}: falta a célula 'parameters'"
        assert "course.finish()" in cells[-1].source, f"{nb.name}: a última célula deve parar o que subiu"


@pytest.fixture(scope="module")
def shared_fast_stack():
    """Como o `make lab`: a stack rápida sobe antes das aulas e fica no ar entre elas."""
    require_binary("prometheus", "apt-get install prometheus")
    env = _isolated_env("native")
    subprocess.run([sys.executable, "-m", "kit", "stack", "up", "--rapido"], env=env, check=True,
                   capture_output=True, timeout=120)
    yield env
    subprocess.run([sys.executable, "-m", "kit", "stack", "down"], env=env, capture_output=True, timeout=60)


# A segunda passada também é comparada com o commit: a aula rodada de novo conta a mesma história.
CHECK_SECOND_PASS = True


def _twice(path: Path, folder: Path) -> Path:
    """Uma cópia da aula com as células repetidas: o nbval roda tudo num kernel só, duas vezes seguidas."""
    nb = nbformat.read(path, as_version=4)
    again = [nbformat.from_dict(copy.deepcopy(dict(cell))) for cell in nb.cells]
    for cell in again:
        if "id" in cell:
            cell["id"] = f"de-novo-{cell['id']}"[:64]  # ids únicos no notebook
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags and "PROCESSOS_AO_VIVO = True" in cell.source:
            # 07: os workers e as réplicas de verdade sobem na primeira passada (e em test_workers/test_replicas);
            # na segunda, as células dessas seções rodam de novo só explicando (≈ 25 s a menos por suíte)
            cell.source = cell.source.replace("PROCESSOS_AO_VIVO = True", "PROCESSOS_AO_VIVO = False")
        if not CHECK_SECOND_PASS and "nbval-check-output" in tags:
            cell.metadata["tags"] = [t for t in tags if t != "nbval-check-output"]
    marker = nbformat.v4.new_markdown_cell("## (teste) A mesma aula de novo, no mesmo kernel")
    nb.cells = [*nb.cells, marker, *again]
    target = folder / path.name
    nbformat.write(nb, target)
    return target


# O nbval roda as aulas em série; em dois arquivos de teste (este e test_notebooks_later.py) as duas metades
# vão para processos diferentes do xdist e rodam ao mesmo tempo, cada uma com a sua stack rápida.
SPLIT = 5
FIRST, LATER = NOTEBOOKS[:SPLIT], NOTEBOOKS[SPLIT:]


def run_nbval(lessons: list[Path], env: dict, folder: Path) -> None:
    """nbval (num pytest à parte, para os kernels herdarem o ambiente da stack compartilhada)."""
    copies = [_twice(path, folder) for path in lessons]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "--nbval-lax",
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), "--rootdir", str(folder),
         "--nbval-current-env", "--nbval-cell-timeout", "180", *map(str, copies)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=1200)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    print(f"\n[nbval, aulas {lessons[0].name[:2]}–{lessons[-1].name[:2]} duas vezes no mesmo kernel] {summary}")
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary


def test_the_two_nbval_halves_cover_every_lesson():
    assert FIRST and LATER and FIRST + LATER == NOTEBOOKS


def test_each_lesson_matches_the_commit_and_runs_again_in_the_same_kernel(shared_fast_stack, tmp_path):
    run_nbval(FIRST, shared_fast_stack, tmp_path)
