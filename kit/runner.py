"""Roda a API numa thread dentro do kernel do notebook.

    from kit import runner
    api = runner.start()          # volta quando a API já responde
    api.url                       # 'http://127.0.0.1:8000'
    runner.stop()                 # para e libera a porta

Usamos `uvicorn.Server` numa thread (e não `uvicorn.run`, que bloquearia a
célula). Rodar `start()` de novo no mesmo kernel devolve a instância que já
está no ar — nada de "address already in use".
"""
from __future__ import annotations

import threading

import uvicorn

from kit import _process
from kit._process import port_is_free  # noqa: F401 — parte da API pública do runner (aula 06)
from kit.config import settings
from kit.errors import ErroDoKit
from kit.logger import flush as flush_logs


# Tamanho máximo da linha de requisição + cabeçalhos. O padrão do h11 (16 KB) só vale quando os bytes
# chegam aos pedaços: o mesmo pedido longo ora chegava à API (422 em pt-BR), ora era cortado pelo
# servidor (400 em inglês, conexão resetada), conforme a carga da máquina. Com folga, a resposta é a da API.
MAX_REQUEST_HEAD = 256 * 1024


class PortaEmUso(ErroDoKit, RuntimeError):
    exit_code = 2  # na linha de comando: escolha outra --port

    """A porta pedida já está ocupada por outro processo."""


class ApiServer:
    """Uma API rodando numa thread: `url`, `app`, `stop()`."""

    def __init__(self, app, host: str, port: int):
        self.app, self.host, self.port = app, host, port
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                lifespan="off", timeout_graceful_shutdown=2,
                                h11_max_incomplete_event_size=MAX_REQUEST_HEAD)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"api-churn:{port}", daemon=True)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.thread.is_alive() and not self.server.should_exit

    def start(self, timeout: float = 20.0) -> "ApiServer":
        self.thread.start()

        def ready() -> bool:
            if not self.thread.is_alive():
                raise RuntimeError(f"A API não conseguiu subir na porta {self.port}. Veja logs/api.log.")
            return self.server.started and _process.http_ok(f"{self.url}/health")

        if _process.wait_until(ready, timeout, interval=0.05):
            return self
        self.stop()
        raise TimeoutError(f"A API não respondeu em {timeout:.0f}s na porta {self.port}. Veja logs/api.log.")

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
        if not self.thread.is_alive():
            self._release_port()
        _RUNNING.pop(self.port, None)
        flush_logs()  # as linhas por requisição que ainda estavam no lote

    def _release_port(self) -> None:
        """Fecha os sockets de escuta que uma thread que morreu (sem desligar o uvicorn) deixou abertos.

        Sem isto a porta continua presa neste processo e o próximo start() diria "porta em uso".
        """
        for server in getattr(self.server, "servers", None) or []:
            for sock in getattr(server, "_sockets", None) or []:  # asyncio.Server não expõe isto publicamente
                sock.close()

    def __repr__(self) -> str:
        return f"<API {'no ar' if self.running else 'parada'} em {self.url}>"


_RUNNING: dict[int, ApiServer] = {}


def start(host: str | None = None, port: int | None = None, app=None, timeout: float = 20.0, **app_kwargs) -> ApiServer:
    """Sobe a API numa thread e espera ela responder. Idempotente por porta."""
    host = host or settings.api_host
    port = int(port or settings.api_port)
    current = _RUNNING.get(port)
    if current is not None and current.running:
        return current
    if current is not None:  # a thread dessa API morreu: libera a porta antes de subir outra
        current.stop()
    if not port_is_free(host, port):
        raise PortaEmUso(
            f"A porta {port} já está em uso por outro processo. Pare esse processo "
            f"(ex.: outro notebook ou `python -m kit serve`) ou escolha outra porta: "
            f"runner.start(port={port + 1}) ou API_PORT={port + 1} no .env."
        )
    if app is None:
        from kit.api import create_app

        app = create_app(**app_kwargs)
    server = ApiServer(app, host, port).start(timeout)
    _RUNNING[port] = server
    return server


def stop(port: int | None = None) -> bool:
    """Para a API da porta (ou a padrão). Devolve True se havia algo rodando."""
    server = _RUNNING.get(int(port or settings.api_port))
    if server is None:
        return False
    server.stop()
    return True


def stop_all() -> None:
    for server in list(_RUNNING.values()):
        server.stop()
