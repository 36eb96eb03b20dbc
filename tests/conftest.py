"""Configuração comum: o kit escreve dados, modelos e logs numa pasta temporária."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests._tools import free_port, running_api

# Antes de qualquer import do kit: nada de sujar data/, models/ e logs/ do repositório,
# e portas livres para a stack (não colidir com a stack de quem roda os testes).
_HOME = Path(tempfile.mkdtemp(prefix="kit-test-home-"))
os.environ["KIT_HOME"] = str(_HOME)
os.environ.setdefault("LOG_CONSOLE_LEVEL", "WARNING")
os.environ["STACK_MODE"] = "auto"
for _name in ("API_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT", "ALERT_RECEIVER_PORT", "GRAFANA_PORT",
        "PUSHGATEWAY_PORT"):
    os.environ[_name] = str(free_port())
for _name in ("PROMETHEUS_URL", "ALERTMANAGER_URL", "GRAFANA_URL", "API_HOST"):
    os.environ.pop(_name, None)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def kit_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def trained(kit_home):
    """Um modelo v1 treinado e o lote novos_1 previsto (uma vez por sessão de testes)."""
    from kit import model

    meta = model.train()
    model.predict_batch("novos_1")
    return meta


@pytest.fixture
def api(trained):
    """A API real, numa thread, numa porta livre; parada no fim do teste."""
    with running_api() as server:
        yield server


@pytest.fixture(scope="module")
def module_api(trained):
    """A mesma API, uma para o módulo inteiro (quem faz centenas de requisições, como o fuzzing)."""
    with running_api() as server:
        yield server


@pytest.fixture(scope="session")
def _live_stack_session(trained):
    """O que a sessão do processo sobe uma vez (e para no fim): veja live_stack."""
    from tests._tools import require_binary

    require_binary("prometheus", "apt-get install prometheus")
    require_binary("prometheus-alertmanager", "apt-get install prometheus-alertmanager")
    require_binary("prometheus-pushgateway", "apt-get install prometheus-pushgateway")
    from kit import alerts, runner, stack
    from kit.config import settings

    kept: dict = {}  # a app da primeira API: quem a sobe de novo usa a mesma (estado, falhas injetadas)
    yield kept
    runner.stop(settings.api_port)
    alerts.stop_receiver()
    stack.down(quiet=True)


@pytest.fixture(scope="module")
def live_stack(_live_stack_session):
    """Stack nativa real (Prometheus + Alertmanager + Pushgateway) em modo rápido, raspando a API numa thread.

    Yields (api, state). A API fica na porta API_PORT (o alvo que o prometheus.yml reescrito usa).
    Sobe uma vez por processo do xdist e é conferida a cada arquivo: um arquivo anterior pode ter parado a API
    (`course.finish()` e `runner.stop_all()` param todas as APIs do processo) ou a stack (test_stack_live);
    `stack.up` e `runner.start` são idempotentes, então aqui só volta o que faltar, com a mesma app.
    """
    from kit import runner, stack
    from kit.config import settings

    state = stack.up(mode="native", fast=True, quiet=True)  # também (re)liga o receptor de alertas
    server = runner.start(port=settings.api_port, app=_live_stack_session.get("app"))
    _live_stack_session.setdefault("app", server.app)
    yield server, state


# Os arquivos mais longos primeiro: com o xdist (make test usa --dist loadfile --no-loadscope-reorder) cada um
# começa logo, num processo diferente, em vez de ficar para o fim da fila e esticar a suíte.
LONGEST_FIRST = ("test_exercises.py", "test_notebooks.py", "test_course_modes.py", "test_notebooks_later.py", "test_hub.py",
                 "test_browser.py")


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # estável: a ordem dentro do arquivo fica


def pytest_terminal_summary(terminalreporter):
    """No fim, o tempo de cada arquivo de teste (setup + chamada + teardown): onde a suíte gasta."""
    totals: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) in ("setup", "call", "teardown"):
                path = report.nodeid.split("::")[0]
                totals[path] = totals.get(path, 0.0) + report.duration
    if totals:
        terminalreporter.write_sep("=", "tempo por arquivo de teste (soma dos testes, em todos os processos)")
        for path, seconds in sorted(totals.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
