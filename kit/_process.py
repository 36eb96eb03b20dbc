"""Encanamento de processos e portas, o mesmo para stack, promlab, runner e binder.

    port = free_port()                               # uma porta livre em 127.0.0.1
    port_is_free("127.0.0.1", 9090)                  # dá para escutar ali?
    proc = launch(["prometheus", ...], log=pasta / "prometheus.log")
    wait_ready("prometheus", f"http://127.0.0.1:{port}/-/ready", proc=proc, log=...)
    terminate(proc)                                  # SIGTERM, espera, SIGKILL se preciso

Os processos sobem numa sessão própria (Ctrl+C no terminal não os derruba pela metade) e
`terminate` aceita tanto o `Popen` quanto só o PID guardado num arquivo de estado.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

import httpx

from kit.errors import ErroDoKit


class ProcessoNaoSubiu(ErroDoKit, RuntimeError):
    """Um processo lançado pelo kit terminou ao iniciar ou não ficou pronto a tempo."""


# --- portas --------------------------------------------------------------------------------------
def free_port(host: str = "127.0.0.1") -> int:
    """Uma porta livre agora (o sistema escolhe)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """True se dá para escutar em host:port (mesmo teste que o uvicorn e o Prometheus farão)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


# --- esperar -------------------------------------------------------------------------------------
def wait_until(condition: Callable[[], bool], timeout: float | None, interval: float = 0.1) -> bool:
    """Chama `condition()` até ela dar True (devolve True) ou o tempo acabar (False; None = sem limite)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if condition():
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def http_ok(url: str, timeout: float = 2.0, client: httpx.Client | None = None) -> bool:
    """`url` responde 200 agora?"""
    try:
        return (client or httpx).get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _tail(log: Path | None, chars: int = 1500) -> str:
    if log is None or not Path(log).exists():
        return ""
    return Path(log).read_text(errors="replace")[-chars:]


def wait_ready(name: str, url: str, *, proc: subprocess.Popen | None = None, log: Path | None = None,
               timeout: float = 40.0, interval: float = 0.25) -> None:
    """Espera `url` responder 200. Se `proc` terminar antes, ou o tempo acabar, levanta ProcessoNaoSubiu."""
    def ready() -> bool:
        if proc is not None and proc.poll() is not None:
            where = f" Últimas linhas de {log}:\n{_tail(log)}" if log else ""
            raise ProcessoNaoSubiu(f"{name} terminou logo ao iniciar (código {proc.returncode}).{where}")
        return http_ok(url)

    if not wait_until(ready, timeout, interval):
        where = f" Veja {log}." if log else ""
        raise ProcessoNaoSubiu(f"{name} não ficou pronto em {timeout:.0f}s ({url}).{where}")


# --- lançar e encerrar ---------------------------------------------------------------------------
def launch(command: list[str], log: Path | None = None) -> subprocess.Popen:
    """Inicia `command` numa sessão própria; saída (stdout+stderr) em `log`, ou descartada."""
    if log is None:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    with open(log, "w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def alive(pid: int | None) -> bool:
    """O processo existe e não é um zumbi (já terminou, ninguém recolheu)?"""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def terminate(target: subprocess.Popen | int | None, timeout: float = 10.0) -> None:
    """SIGTERM, espera até `timeout` segundos, e SIGKILL se ainda estiver vivo. Aceita Popen ou PID."""
    if isinstance(target, subprocess.Popen):
        if target.poll() is None:
            target.terminate()
            try:
                target.wait(timeout)
            except subprocess.TimeoutExpired:
                target.kill()
                target.wait()
        return
    pid = target
    if not alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return

    def gone() -> bool:
        try:
            os.waitpid(pid, os.WNOHANG)  # recolhe se for filho deste processo
        except ChildProcessError:
            pass
        return not alive(pid)

    if not wait_until(gone, timeout):
        os.kill(pid, signal.SIGKILL)
