"""Vários workers: a API em N processos numa porta só, com as métricas juntadas entre eles.

    python -m kit serve --workers 4                      # 4 processos; o /metrics soma os 4
    python -m kit serve --workers 4 --sem-multiprocess   # o erro da aula: cada coleta vê UM worker

    from kit import workers
    api = workers.start(2)            # o mesmo comando, em segundo plano (notebook, testes, bench)
    api.url, api.pids()               # endereço e PIDs dos workers vivos
    workers.stop(api)

Por quê: cada processo tem os seus contadores na memória. O Prometheus pede /metrics, o sistema
entrega a conexão a UM worker, e a coleta vê só os números dele — o total "pula" entre coletas e
rate() enlouquece. No modo multiprocesso do prometheus_client (variável PROMETHEUS_MULTIPROC_DIR)
cada processo grava os seus valores em arquivos nessa pasta; o /metrics de qualquer worker lê todos
(`MultiProcessCollector`, que o prometheus-fastapi-instrumentator usa sozinho quando a variável existe)
e junta: contadores e histogramas somam; cada gauge segue o seu `multiprocess_mode` (kit/metrics.py).
Quando um worker morre, o supervisor chama `mark_process_dead(pid)`: os gauges "live*" dele somem,
os contadores ficam (o que já foi contado não se perde).

O supervisor é o do uvicorn (`--workers`: ele reinicia quem morre; `kill -HUP <pid>` troca todos,
um a um) com um passo a mais a cada volta: enterrar os mortos e anotar os PIDs vivos. E a porta: no
Linux cada worker escuta no seu próprio socket (SO_REUSEPORT) e o kernel reparte as conexões — num
socket só, um worker ficava com todas as conexões keep-alive (veja `_PerWorkerSocket`).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kit import _process
from kit.config import settings
from kit.errors import ErroDoKit

__all__ = ["serve", "start", "stop", "Workers", "multiprocess_dir"]


def multiprocess_dir(port: int) -> Path:
    """A pasta do modo multiprocesso de uma execução (uma por porta; limpa ao subir)."""
    return settings.home / ".run" / f"prometheus-multiproc-{port}"


def _state_file(port: int) -> Path:
    return settings.home / ".run" / f"workers-{port}.json"


def serve(host: str, port: int, workers: int, multiprocess: bool = True) -> None:
    """Sobe a API em `workers` processos (foreground, até Ctrl+C/SIGTERM). Usado por `python -m kit serve`."""
    import uvicorn
    from prometheus_client import multiprocess as mp
    from uvicorn.supervisors import Multiprocess

    from kit.runner import MAX_REQUEST_HEAD

    folder = multiprocess_dir(port) if multiprocess else None
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)  # arquivos de uma execução anterior somariam contadores velhos
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # os workers herdam (e leem ao importar o cliente)
    else:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    state = _state_file(port)
    state.parent.mkdir(parents=True, exist_ok=True)

    class Supervisor(Multiprocess):
        """O supervisor do uvicorn + mark_process_dead para cada worker que sai + PIDs vivos num arquivo."""

        known: set[int] = set()

        def tick(self) -> None:
            alive = {p.pid for p in self.processes if p.process.is_alive()}
            for pid in self.known - alive:
                if folder is not None:
                    mp.mark_process_dead(pid, str(folder))  # apaga os gauges live* do morto
            self.known = alive
            ready = [p.pid for p in self.processes if p.pid in alive and p.is_ready(timeout=1)]
            tmp = state.with_suffix(".tmp")
            tmp.write_text(json.dumps({"supervisor": os.getpid(), "workers": sorted(alive), "prontos": sorted(ready),
                                       "multiprocess": folder is not None}))
            os.replace(tmp, state)  # atômico: quem lê nunca vê o arquivo pela metade

        def keep_subprocess_alive(self) -> None:
            super().keep_subprocess_alive()
            self.tick()

        def join_all(self) -> None:
            super().join_all()
            self.tick()

    config = uvicorn.Config("kit.api:create_app", factory=True, host=host, port=port, workers=workers,
                            log_config=None, access_log=False, lifespan="off",
                            h11_max_incomplete_event_size=MAX_REQUEST_HEAD)
    sock = _listening_socket(host, port)
    try:
        Supervisor(config, sockets=[sock]).run()
    finally:
        sock.close()
        state.unlink(missing_ok=True)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


# Linux: cada worker escuta a porta no SEU socket (SO_REUSEPORT) e o kernel reparte as conexões novas entre eles.
# Noutros sistemas o SO_REUSEPORT não reparte: lá os workers dividem um socket só (o padrão do uvicorn).
_PER_WORKER = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _bind(family: int, address: tuple, per_worker: bool) -> socket.socket:
    """Um socket TCP ligado a `address` (ainda sem escutar: quem escuta é o worker).

    IPPROTO_TCP explícito: o asyncio só liga TCP_NODELAY nas conexões aceitas quando o socket diz que é TCP. O
    do uvicorn (`Config.bind_socket`) não diz (uvicorn#3149), e cada resposta numa conexão keep-alive esperava
    ~40 ms (Nagle × o ACK atrasado do cliente): 2 workers atendiam 5× menos que 1.
    """
    sock = (_PerWorkerSocket if per_worker else socket.socket)(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if per_worker:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ErroDoKit(f"Não consegui abrir {address[0]}:{address[1]} ({exc.strerror}). "
                        f"Escolha outra porta: --port {address[1] + 1}.") from exc
    sock.set_inheritable(True)
    return sock


class _PerWorkerSocket(socket.socket):
    """O socket que o supervisor entrega a cada worker — e que chega lá como um socket NOVO na mesma porta.

    O uvicorn passa o mesmo socket a todos os workers; num socket só, o worker que acorda primeiro aceita
    todas as conexões que esperam (o asyncio aceita até 2048 de uma vez) e, com keep-alive, atende sozinho
    enquanto os outros ficam parados (medido: as 16 conexões do wrk num worker só). Ao ser copiado para o
    processo do worker (pickle), este socket vira outro com SO_REUSEPORT: cada worker tem a sua fila.
    """

    def __reduce__(self):
        return _bind, (self.family, self.getsockname()[:2], True)


def _listening_socket(host: str, port: int) -> socket.socket:
    """O socket da porta, aberto pelo supervisor (reserva a porta) e entregue aos workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return _bind(family, (host, port), _PER_WORKER)


@dataclass
class Workers:
    """Uma API com vários workers rodando em segundo plano (devolvida por `start`)."""
    port: int
    workers: int
    multiprocess: bool
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def folder(self) -> Path | None:
        return multiprocess_dir(self.port) if self.multiprocess else None

    def pids(self, ready: bool = False) -> list[int]:
        """PIDs dos workers vivos (ou só dos que já atendem), anotados pelo supervisor a cada meio segundo."""
        try:
            return json.loads(_state_file(self.port).read_text())["prontos" if ready else "workers"]
        except (OSError, ValueError, KeyError):
            return []

    def __repr__(self) -> str:
        mode = "multiprocesso" if self.multiprocess else "SEM multiprocesso"
        return f"<API com {self.workers} workers ({mode}) em {self.url}>"


def start(workers: int = 2, port: int | None = None, multiprocess: bool = True, timeout: float = 90.0) -> Workers:
    """`python -m kit serve --workers N` em segundo plano; volta quando os N workers estão no ar."""
    port = port or _process.free_port()
    if not _process.port_is_free("127.0.0.1", port):
        raise ErroDoKit(f"A porta {port} já está em uso. Escolha outra (workers.start(..., port=...)).")
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    log = settings.logs_dir / f"workers-{port}.log"
    command = [sys.executable, "-m", "kit", "serve", "--port", str(port), "--workers", str(workers),
               "--multiprocess" if multiprocess else "--sem-multiprocess"]
    _state_file(port).unlink(missing_ok=True)
    handle = Workers(port, workers, multiprocess, _process.launch(command, log), log)
    try:
        _process.wait_ready("API com workers", f"{handle.url}/health", proc=handle.proc, log=log, timeout=timeout)
        if not _process.wait_until(lambda: len(handle.pids(ready=True)) == workers, timeout):
            raise _process.ProcessoNaoSubiu(f"Os {workers} workers não ficaram prontos em {timeout:.0f}s. Veja {log}.")
    except BaseException:
        stop(handle)
        raise
    return handle


def stop(handle: Workers) -> None:
    """Para o supervisor e os workers (SIGTERM: cada worker termina as requisições em andamento)."""
    _process.terminate(handle.proc, timeout=20)
