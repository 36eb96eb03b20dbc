"""Os seis notebooks como testes — cada propriedade provada uma vez, na execução mais barata que a prova.

| execução (fast mode)                          | prova                                                        |
|-----------------------------------------------|--------------------------------------------------------------|
| nbval, stack nativa (test_checked_outputs...) | o curso roda com Prometheus/Alertmanager nativos e as saídas  |
|                                               | marcadas `nbval-check-output` batem com as do commit          |
| `scripts/run_course.py` com STACK_MODE=none   | sem stack cada aula termina e diz o que não pôde mostrar, e o |
| (test_make_course_without_stack...)           | `make course` não toca models/, outputs/ nem logs/ do checkout |
| papermill no modo binder                      | o curso usa o Prometheus sob o prefixo do JupyterHub          |
| duas vezes no mesmo kernel, stack rápida      | rodar de novo qualquer célula não quebra nada (§2.2), contra  |
| compartilhada (como o `make lab`)             | uma stack que já estava no ar                                |

Cada execução usa um KIT_HOME e portas próprios (não colide com a API/stack de outros testes nem com a
stack de `make lab` de quem roda os testes). O teste de navegador (test_browser.py) roda uma aula no
JupyterLab; não repete as outras.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

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


def test_six_notebooks_exist_in_order():
    assert [nb.name[:2] for nb in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]
    for nb in NOTEBOOKS:
        cells = nbformat.read(nb, as_version=4).cells
        tags = [set(c.metadata.get("tags", [])) for c in cells]
        assert any("parameters" in t for t in tags), f"{nb.name}: falta a célula 'parameters'"
        assert "course.finish()" in cells[-1].source, f"{nb.name}: a última célula deve parar o que subiu"


def test_checked_outputs_match_the_commit_with_a_native_stack():
    """nbval (num pytest à parte, para os kernels herdarem um ambiente isolado) sobre notebooks/."""
    require_binary("prometheus", "apt-get install prometheus")
    env = _isolated_env("native")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "--nbval-lax",
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), "--rootdir", str(ROOT),
         *map(str, NOTEBOOKS)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    print(f"\n[nbval] {summary}")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_make_course_without_stack_completes_and_never_touches_the_checkout():
    """O `make course` de um aluno sem Docker nem Prometheus: roda num KIT_HOME temporário e portas livres."""
    watched = {name: _tree_digest(ROOT / name) for name in ("models", "outputs", "logs")}
    env = dict(os.environ)
    for name in ("KIT_HOME", *PORT_VARIABLES):  # como no terminal do aluno: o run_course escolhe os seus
        env.pop(name, None)
    env["STACK_MODE"] = "none"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_course.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    print("\n" + proc.stdout[-1500:])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    assert "without encryption" not in proc.stderr, "o kernel voltou a avisar de TCP sem criptografia"
    where = re.search(r"Cópias executadas em: (.+)", proc.stdout)
    assert where, "o make course deve dizer onde ficaram as cópias executadas"
    copies = Path(where.group(1).strip())
    assert ROOT not in copies.parents, f"as cópias executadas foram parar dentro do checkout: {copies}"
    text = "".join((copies / nb.name).read_text(encoding="utf-8") for nb in NOTEBOOKS)
    assert "Sem Prometheus" in text or "sem Prometheus" in text, "o notebook deve dizer o que não pôde mostrar"
    after = {name: _tree_digest(ROOT / name) for name in watched}
    assert after == watched, "o make course mudou arquivos do checkout (models/, outputs/ ou logs/)"


def test_papermill_runs_the_whole_course_in_binder_mode(monkeypatch, tmp_path):
    require_binary("prometheus", "apt-get install prometheus")
    env = _isolated_env("binder")
    env["JUPYTERHUB_SERVICE_PREFIX"] = "/user/teste/"  # Prometheus sob o prefixo, como atrás do proxy
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    results = run_course.run(NOTEBOOKS, tmp_path)
    failures = [f"{name}: {status}" for name, _, status in results if status != "ok"]
    assert not failures, "\n".join(failures)
    print(f"\n[medida] curso inteiro (modo rápido, binder): {sum(s for _, s, _ in results):.1f} s")
    text = "".join(Path(tmp_path / nb.name).read_text() for nb in NOTEBOOKS)
    assert "/user/teste/prometheus" in text, "os notebooks deveriam mostrar o Prometheus do modo binder"


@pytest.fixture(scope="module")
def shared_fast_stack():
    """Como o `make lab`: a stack rápida sobe antes das aulas e fica no ar entre elas."""
    require_binary("prometheus", "apt-get install prometheus")
    env = _isolated_env("native")
    subprocess.run([sys.executable, "-m", "kit", "stack", "up", "--rapido"], env=env, check=True,
                   capture_output=True, timeout=120)
    yield env
    subprocess.run([sys.executable, "-m", "kit", "stack", "down"], env=env, capture_output=True, timeout=60)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_notebook_runs_twice_in_the_same_kernel(shared_fast_stack, path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=180, kernel_name="python3", config=run_course.kernel_config(),
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel(env=shared_fast_stack):
        for _round in (1, 2):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)  # levanta CellExecutionError se algo falhar
