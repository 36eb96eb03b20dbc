"""Os seis notebooks como testes: papermill em kernels novos (com e sem stack) e duas vezes no mesmo kernel.

Cada execução usa um KIT_HOME e portas próprios (não colide com a API/stack de outros testes).
A comparação de saídas marcadas (nbval-check-output) roda à parte: `make test` chama
`pytest --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/`.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests._tools import require_binary
from tests.conftest import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import run_course  # noqa: E402

pytestmark = pytest.mark.slow
NOTEBOOKS = run_course.notebooks()


def _isolated_env(monkeypatch, stack_mode: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix="kit-nb-home-"))
    monkeypatch.setenv("KIT_HOME", str(home))
    monkeypatch.setenv("STACK_MODE", stack_mode)
    for name in ("API_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT", "ALERT_RECEIVER_PORT", "GRAFANA_PORT"):
        monkeypatch.setenv(name, str(free_port()))
    return home


def test_six_notebooks_exist_in_order():
    assert [nb.name[:2] for nb in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]
    for nb in NOTEBOOKS:
        cells = nbformat.read(nb, as_version=4).cells
        tags = [set(c.metadata.get("tags", [])) for c in cells]
        assert any("parameters" in t for t in tags), f"{nb.name}: falta a célula 'parameters'"
        assert "course.finish()" in cells[-1].source, f"{nb.name}: a última célula deve parar o que subiu"


@pytest.mark.parametrize("stack_mode", ["native", "none", "binder"])
def test_papermill_runs_the_whole_course(monkeypatch, tmp_path, stack_mode):
    if stack_mode in ("native", "binder"):
        require_binary("prometheus", "apt-get install prometheus")
    _isolated_env(monkeypatch, stack_mode)
    if stack_mode == "binder":  # Prometheus sob o prefixo da sessão, como atrás do jupyter-server-proxy
        monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/teste/")
    results = run_course.run(NOTEBOOKS, tmp_path)
    failures = [f"{name}: {status}" for name, _, status in results if status != "ok"]
    assert not failures, "\n".join(failures)
    total = sum(seconds for _, seconds, _ in results)
    print(f"\n[medida] curso inteiro (modo rápido, stack={stack_mode}): {total:.1f} s")
    if stack_mode == "binder":  # o curso usou mesmo o Prometheus com prefixo (sem ele, só degradaria)
        text = "".join(Path(tmp_path / nb.name).read_text() for nb in NOTEBOOKS)
        assert "/user/teste/prometheus" in text, "os notebooks deveriam mostrar o Prometheus do modo binder"
    if stack_mode == "none":
        text = "".join(Path(tmp_path / nb.name).read_text() for nb in NOTEBOOKS)
        assert "Sem Prometheus" in text or "sem Prometheus" in text, "o notebook deve dizer o que não pôde mostrar"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_notebook_runs_twice_in_the_same_kernel(monkeypatch, path):
    _isolated_env(monkeypatch, "auto")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel(env=dict(os.environ)):
        for round_ in (1, 2):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)  # levanta CellExecutionError se algo falhar
