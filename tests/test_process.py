"""kit._process: a caixa de ferramentas de portas e processos (stack, promlab, runner, binder)."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from kit import _process
from kit.errors import ErroDoKit


def test_free_port_is_free_until_someone_listens():
    port = _process.free_port()
    assert _process.port_is_free("127.0.0.1", port)
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        assert not _process.port_is_free("127.0.0.1", port)
    assert _process.port_is_free("127.0.0.1", port)


def test_wait_until_returns_as_soon_as_the_condition_holds_or_gives_up():
    calls = []
    assert _process.wait_until(lambda: calls.append(1) or len(calls) >= 3, timeout=5, interval=0.01)
    assert len(calls) == 3
    started = time.monotonic()
    assert not _process.wait_until(lambda: False, timeout=0.3, interval=0.05)
    assert 0.3 <= time.monotonic() - started < 2


def test_wait_ready_reports_a_process_that_died_with_its_log(tmp_path):
    log = tmp_path / "morre.log"
    proc = _process.launch([sys.executable, "-c", "print('porta ocupada, desisto'); raise SystemExit(3)"], log)
    with pytest.raises(_process.ProcessoNaoSubiu) as caught:
        _process.wait_ready("morre", f"http://127.0.0.1:{_process.free_port()}/", proc=proc, log=log, timeout=20)
    assert isinstance(caught.value, ErroDoKit)
    assert "código 3" in str(caught.value) and "porta ocupada, desisto" in str(caught.value)


def test_wait_ready_gives_up_on_a_process_that_never_answers(tmp_path):
    proc = _process.launch([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(_process.ProcessoNaoSubiu, match="não ficou pronto em 1s"):
            _process.wait_ready("mudo", f"http://127.0.0.1:{_process.free_port()}/", proc=proc, timeout=1)
    finally:
        _process.terminate(proc)
    assert proc.poll() is not None


def test_wait_ready_returns_when_the_url_answers(tmp_path):
    port = _process.free_port()
    proc = _process.launch([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                            "--directory", str(tmp_path)])
    try:
        _process.wait_ready("http.server", f"http://127.0.0.1:{port}/", proc=proc, timeout=20)
        assert _process.http_ok(f"http://127.0.0.1:{port}/")
    finally:
        _process.terminate(proc)
    assert not _process.http_ok(f"http://127.0.0.1:{port}/")


STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('pronto', flush=True); time.sleep(60)"


@pytest.mark.parametrize("by", ["popen", "pid"])
def test_terminate_kills_a_process_that_ignores_sigterm(by):
    proc = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "pronto"  # o SIGTERM já está sendo ignorado
    started = time.monotonic()
    _process.terminate(proc if by == "popen" else proc.pid, timeout=0.5)
    proc.wait(5)
    assert proc.returncode == -9 and time.monotonic() - started < 5
    assert not _process.alive(proc.pid)


def test_alive_is_false_for_a_zombie():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    assert _process.wait_until(lambda: open(f"/proc/{proc.pid}/stat").read().split()[2] == "Z", 10, 0.02)
    assert not _process.alive(proc.pid)  # terminou, ninguém recolheu: não conta como vivo
    proc.wait()
