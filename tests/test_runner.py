"""kit.runner: a API numa thread do kernel — sobe uma vez por porta, para e libera a porta.

(Os dois testes do runner que estavam em test_api.py vieram para cá.)
"""
from __future__ import annotations

import socket
import time

import httpx
import pytest

from kit import _process, runner
from kit.errors import ErroDoKit


def test_start_is_idempotent_and_stop_frees_the_port(trained):
    port = _process.free_port()
    first = runner.start(port=port)
    try:
        assert runner.start(port=port) is first  # rodar a célula de novo devolve a mesma API
        assert httpx.get(f"{first.url}/health").json()["status"] == "ok"
        assert not runner.port_is_free("127.0.0.1", port)
        assert repr(first) == f"<API no ar em http://127.0.0.1:{port}>"
    finally:
        assert runner.stop(port) is True
    assert runner.port_is_free("127.0.0.1", port)
    assert not first.running and runner.stop(port) is False
    second = runner.start(port=port)  # e sobe de novo na mesma porta
    try:
        assert second is not first and second.running
    finally:
        second.stop()


def test_a_port_taken_by_another_program_is_a_kit_error_with_the_fix(trained):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        started = time.perf_counter()
        with pytest.raises(runner.PortaEmUso, match=f"porta {port} já está em uso") as caught:
            runner.start(port=port)
        assert time.perf_counter() - started < 2  # recusa na hora, sem esperar a API "subir"
    assert isinstance(caught.value, ErroDoKit) and isinstance(caught.value, RuntimeError)
    assert caught.value.exit_code == 2
    assert f"runner.start(port={port + 1})" in str(caught.value)


def test_stop_all_stops_every_api(trained):
    ports = [_process.free_port(), _process.free_port()]
    servers = [runner.start(port=p) for p in ports]
    runner.stop_all()
    assert not any(s.running for s in servers)
    assert all(runner.port_is_free("127.0.0.1", p) for p in ports)
