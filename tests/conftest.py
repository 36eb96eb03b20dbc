"""Configuração comum: o kit escreve dados, modelos e logs numa pasta temporária."""
from __future__ import annotations

import os
import random
import socket
import tempfile
from pathlib import Path

_HANDED_OUT: set[int] = set()


def _ephemeral_range() -> range:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return range(low, high + 1)
    except (OSError, ValueError):
        return range(32768, 61000)  # o padrão do Linux


def free_port() -> int:
    """Uma porta livre FORA da faixa efêmera do sistema, nunca repetida nesta sessão.

    A porta que o sistema dá com bind(0) é da faixa efêmera: entre o sorteio e o uso (minutos depois, na
    stack da sessão) qualquer conexão de saída pode tomá-la como porta local, e a API não sobe.
    """
    ephemeral = _ephemeral_range()
    candidates = [p for p in range(20000, 32768) if p not in ephemeral and p not in _HANDED_OUT]
    for port in random.sample(candidates, 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("Nenhuma porta livre entre 20000 e 32767.")


# Antes de qualquer import do kit: nada de sujar data/, models/ e logs/ do repositório,
# e portas livres para a stack (não colidir com a stack de quem roda os testes).
_HOME = Path(tempfile.mkdtemp(prefix="kit-test-home-"))
os.environ["KIT_HOME"] = str(_HOME)
os.environ.setdefault("LOG_CONSOLE_LEVEL", "WARNING")
os.environ["STACK_MODE"] = "auto"
for _name in ("API_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT", "ALERT_RECEIVER_PORT", "GRAFANA_PORT"):
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
    from kit import runner

    server = runner.start(port=free_port())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_stack(trained):
    """Stack nativa real (Prometheus + Alertmanager) em modo rápido, raspando a API numa thread.

    Yields (api, state). A API fica na porta API_PORT (o alvo que o prometheus.yml reescrito usa).
    """
    from tests._tools import require_binary

    require_binary("prometheus", "apt-get install prometheus")
    require_binary("prometheus-alertmanager", "apt-get install prometheus-alertmanager")
    from kit import alerts, runner, stack
    from kit.config import settings

    state = stack.up(mode="native", fast=True, quiet=True)
    server = runner.start(port=settings.api_port)
    yield server, state
    runner.stop(settings.api_port)
    alerts.stop_receiver()
    stack.down(quiet=True)
