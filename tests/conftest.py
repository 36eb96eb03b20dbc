"""Configuração comum: o kit escreve dados, modelos e logs numa pasta temporária."""
from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

# Antes de qualquer import do kit: nada de sujar data/, models/ e logs/ do repositório.
_HOME = Path(tempfile.mkdtemp(prefix="kit-test-home-"))
os.environ["KIT_HOME"] = str(_HOME)
os.environ.setdefault("LOG_CONSOLE_LEVEL", "WARNING")

import pytest  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
