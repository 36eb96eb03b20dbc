"""JupyterLab num navegador de verdade: o Chromium do Debian, guiado pelo Playwright.

Como no `make lab` (JupyterLab do .venv, a stack rápida já no ar, kernels por IPC): o README — o mapa do
curso, onde cai o botão do Binder — abre como página renderizada, e a aula 1 na cópia do aluno (minhas_aulas/,
tarefas "Sua vez" em branco, numa pasta temporária) roda inteira com Run → Run All Cells como um aluno que
pula as tarefas: toda célula de código roda, nenhuma termina em erro, cada tarefa diz ⏳ e cada 🔑 Solução de
referência aparece fechada. As outras aulas rodam no papermill/nbval (tests/test_notebooks.py); aqui
basta uma para provar que o JupyterLab abre e executa o curso. Capturas em test-artifacts/browser/ (fora
do git).

Cada execução usa um KIT_HOME, portas e pastas de configuração do JupyterLab próprios.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests._tools import jupyter_process, require_binary
from tests._tools import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
NOTEBOOK = ROOT / "notebooks" / "01_preparacao_ambiente.ipynb"
CHROMIUM = "/usr/bin/chromium"
RUN_TIMEOUT_S = 150  # por notebook (no modo rápido cada um leva de 5 a 30 s)


def _lab_settings(folder: Path) -> Path:
    """Configurações do JupyterLab só deste teste: sem o aviso de notícias cobrindo a captura."""
    target = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`jupyter lab` real numa porta livre, com token, sobre uma cópia dos notebooks."""
    require_binary("chromium", "apt-get install chromium")
    tmp = tmp_path_factory.mktemp("browser")
    workdir = tmp / "curso"  # como a raiz do repositório: README.md e notebooks/
    shutil.copytree(ROOT / "notebooks", workdir / "notebooks")
    from kit import _lessons  # a cópia do aluno, como o make lab cria: tarefas "Sua vez" em branco
    _lessons.write_copies(workdir / "notebooks", workdir / "minhas_aulas", [NOTEBOOK.name[:2]], force=True)
    shutil.copy2(ROOT / "README.md", workdir / "README.md")
    env = dict(os.environ)
    for name in ("PROMETHEUS_URL", "GRAFANA_URL", "ALERTMANAGER_URL", "API_HOST"):
        env.pop(name, None)
    env.update(KIT_HOME=str(tmp / "kit-home"), STACK_MODE="auto",
               JUPYTERLAB_SETTINGS_DIR=str(_lab_settings(tmp / "lab-settings")),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"))
    for name in ("API_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT", "ALERT_RECEIVER_PORT", "GRAFANA_PORT",
        "PUSHGATEWAY_PORT"):
        env[name] = str(free_port())
    port, token = free_port(), "token-do-navegador"
    command = [sys.executable, "-m", "jupyterlab", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
               f"--ServerApp.root_dir={workdir}", "--KernelManager.transport=ipc"]
    # Como o `make lab`: a stack rápida sobe antes e serve às seis aulas (cada uma a reaproveita).
    kit_stack = [sys.executable, "-m", "kit", "stack"]
    subprocess.run([*kit_stack, "up", "--rapido"], env=env, check=True, capture_output=True, timeout=120)
    base = f"http://127.0.0.1:{port}"
    try:  # no fim, o servidor e os kernels que ele iniciou param juntos (mesmo grupo de processos)
        with jupyter_process(command, env, tmp / "jupyterlab.log", f"{base}/api/status?token={token}"):
            yield {"base": base, "token": token, "log": tmp / "jupyterlab.log", "workdir": workdir}
    finally:
        subprocess.run([*kit_stack, "down"], env=env, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


VISIBLE_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# Estado das células no DOM do JupyterLab: prompt "[n]:" (rodou), "[*]:" (rodando/na fila), "[ ]:" (não rodou).
CELL_STATE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return {prompts, kernel: status ? status.getAttribute('data-status') : null};
}"""


def _menu(page, menu: str, command: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').first.click()


def _errors_in_saved_notebook(path: Path) -> list[str]:
    """Saídas de erro (output_type == "error") no notebook como o JupyterLab o salvou.

    No DOM um erro e um aviso em stderr (a Loguru escreve lá) se parecem; no arquivo, não.
    """
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [f"célula {i}: {out['ename']}: {out['evalue']}" for i, cell in enumerate(cells)
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def _shutdown_kernel(lab: dict, name: str) -> None:
    """Encerra a sessão (e o kernel) deste notebook: seis kernels ociosos só gastariam memória."""
    api = f"{lab['base']}/api/sessions"
    params = {"token": lab["token"]}
    for session in httpx.get(api, params=params).json():
        if session["path"].endswith(name):
            httpx.delete(f"{api}/{session['id']}", params=params)


def _save(page) -> None:
    _menu(page, "File", "docmanager:save")
    deadline = time.monotonic() + 30
    while page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() and time.monotonic() < deadline:
        time.sleep(0.2)


def _started(page, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(prompt != "[ ]:" for prompt in page.evaluate(CELL_STATE_JS)["prompts"]):
            return True
        time.sleep(0.25)
    return False


def _run_notebook(page, lab: dict, name: str) -> dict:
    # ?reset: área de trabalho limpa (sem reabrir o notebook do teste anterior)
    page.goto(f"{lab['base']}/lab/tree/{name}?reset&token={lab['token']}")
    page.locator(f"{VISIBLE_PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=90_000)
    page.locator(f"{VISIBLE_PANEL} .jp-CodeCell").first.click()  # foco no notebook (os menus agem nele)
    _menu(page, "Edit", "editmenu:clear-all")
    for attempt in range(1, 4):
        # Com o kernel recém-iniciado, o primeiro Run All às vezes não pega (nenhuma célula entra na
        # fila); um aluno clicaria de novo — o teste também, no máximo três vezes.
        _menu(page, "Run", "runmenu:run-all")
        if _started(page, timeout=20):
            break
    deadline = time.monotonic() + RUN_TIMEOUT_S
    quiet_polls = 0  # kernel ocioso e nada na fila: terminou (ou o Run All parou num erro)
    while time.monotonic() < deadline:
        state = page.evaluate(CELL_STATE_JS)
        running = any("*" in prompt for prompt in state["prompts"])
        if state["kernel"] == "idle" and not running:
            if all(prompt.strip("[]: ").isdigit() for prompt in state["prompts"]):
                return {**state, "run_all_clicks": attempt}
            quiet_polls += 1
            if quiet_polls >= 10:
                return {**state, "run_all_clicks": attempt}
        else:
            quiet_polls = 0
        time.sleep(0.5)
    return {**page.evaluate(CELL_STATE_JS), "run_all_clicks": attempt}


def _screenshots(page, prefix: str) -> Path:
    """NN-fim.png: a tela do aluno ao fim do Run All; NN.png: o notebook inteiro (janela alta)."""
    page.screenshot(path=str(ARTIFACTS / f"{prefix}-fim.png"))
    scroller = f"{VISIBLE_PANEL} .jp-WindowedPanel-outer"
    height = page.evaluate(f"() => document.querySelector('{scroller}')?.scrollHeight || 0")
    page.set_viewport_size({"width": 1440, "height": int(min(max(height + 250, 1000), 30_000))})
    page.evaluate(f"() => document.querySelector('{scroller}')?.scrollTo(0, 0)")
    time.sleep(1.5)  # o JupyterLab desenha as células que passaram a caber na janela
    shot = ARTIFACTS / f"{prefix}.png"
    page.screenshot(path=str(shot), full_page=True)
    return shot


def test_venv_opens_markdown_rendered_like_binder():
    """O `make venv` instala as mesmas preferências do Binder (binder/overrides.json) no JupyterLab do .venv."""
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.is_file(), f"{installed} não existe: rode `make venv` (ele instala binder/overrides.json)"
    assert json.loads(installed.read_text()) == json.loads((ROOT / "binder" / "overrides.json").read_text())


def test_readme_course_map_opens_as_a_rendered_page(lab, browser):
    """O botão principal do Binder abre lab/tree/README.md: o aluno deve ver a página, não o Markdown cru."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        page.goto(f"{lab['base']}/lab/tree/README.md?reset&token={lab['token']}")
        heading = page.locator(".jp-MarkdownViewer .jp-RenderedMarkdown h1").first
        heading.wait_for(timeout=60_000)
        assert "Monitoramento MLOps" in heading.inner_text()
        assert page.locator(".jp-MarkdownViewer .jp-RenderedMarkdown table").count() >= 1  # o mapa do curso
        assert page.locator(".jp-FileEditor:visible").count() == 0, "o README abriu no editor de texto"
    finally:
        page.screenshot(path=str(ARTIFACTS / "readme.png"))
        page.close()


def test_lesson_runs_all_cells_in_jupyterlab(lab, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    notebook = NOTEBOOK
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    start = time.perf_counter()
    try:
        state = _run_notebook(page, lab, f"minhas_aulas/{notebook.name}")
        _save(page)
        reveal = page.locator(".jp-RenderedMarkdown details")  # 🔑 Solução de referência: fechada até o clique
        state["reveals"] = reveal.count()
        state["reveals_open"] = sum(1 for i in range(reveal.count()) if reveal.nth(i).get_attribute("open") is not None)
    finally:
        shot = _screenshots(page, notebook.name[:2])
        page.close()
        _shutdown_kernel(lab, notebook.name)
    seconds = time.perf_counter() - start
    print(f"\n[navegador] {notebook.name}: {seconds:.1f} s, {len(state['prompts'])} células de código, "
          f"Run All clicado {state['run_all_clicks']}x; captura em {shot}")
    saved = lab["workdir"] / "minhas_aulas" / notebook.name
    errors = _errors_in_saved_notebook(saved)
    assert not errors, f"{notebook.name}: erro em célula:\n" + "\n".join(errors)
    tasks = saved.read_text(encoding="utf-8").count('"sua-vez"')
    assert tasks >= 2 and saved.read_text(encoding="utf-8").count("⏳ Sua vez") == tasks, (
        "cada tarefa em branco deve dizer ⏳ ainda não resolvida")
    assert state["reveals"] == tasks and state["reveals_open"] == 0, state
    assert state["prompts"], f"{notebook.name}: nenhuma célula de código encontrada no JupyterLab"
    pending = [p for p in state["prompts"] if not p.strip("[]: ").isdigit()]
    assert not pending, f"{notebook.name}: células que não rodaram: {pending} (kernel: {state['kernel']})"
