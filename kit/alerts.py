"""Receptor de alertas: o Alertmanager entrega aqui, e o notebook mostra o que chegou.

    from kit import alerts
    alerts.start_receiver()       # http://127.0.0.1:9099/alertas, numa thread
    alerts.received()             # lista de alertas recebidos (mais novos por último)
    alerts.table()                # o mesmo, como DataFrame

O Alertmanager faz POST de um JSON (formato "webhook" versão 4) com um grupo de
alertas; guardamos cada alerta com seu estado (firing/resolved), rótulos e
anotações (summary/description em português, vindas de alert_rules.yml).
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kit.config import settings
from kit.logger import get_logger

PATH = "/alertas"
_lock = threading.Lock()
_received: list[dict] = []
_server: ThreadingHTTPServer | None = None


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (nome exigido pelo http.server)
        if self.path.rstrip("/") != PATH:
            return self._reply(404, {"erro": f"use POST {PATH}"})
        try:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(min(length, 1_000_000)) or b"{}")
            alerts_in = body.get("alerts", [])
        except (ValueError, AttributeError):
            return self._reply(400, {"erro": "JSON inválido: esperado o formato webhook do Alertmanager"})
        now = time.time()
        rows = [{"recebido_em": now, "status": a.get("status"), "alerta": a.get("labels", {}).get("alertname"),
                 "severidade": a.get("labels", {}).get("severity"), "resumo": a.get("annotations", {}).get("summary"),
                 "descricao": a.get("annotations", {}).get("description"), "inicio": a.get("startsAt"),
                 "labels": a.get("labels", {})} for a in alerts_in if isinstance(a, dict)]
        with _lock:
            _received.extend(rows)
        # Só no arquivo logs/stack.json (kind="request": cada entrega é uma requisição ao receptor, e essas linhas
        # ficam fora do console, como as da API). O Alertmanager entrega a qualquer
        # momento, e um aviso no stderr cairia na célula que estivesse rodando. O notebook mostra os alertas
        # onde a aula pede, com alerts.table() / alerts.wait_for().
        log = get_logger("stack")
        for row in rows:
            log.bind(kind="request").info(f"Alerta {row['status']}: {row['alerta']} — {row['resumo']}",
                                          alerta=row["alerta"], status=row["status"])
        self._reply(200, {"recebidos": len(rows)})

    def do_GET(self):  # noqa: N802
        with _lock:
            return self._reply(200, {"alertas": list(_received)})

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # sem linhas de acesso no stderr do notebook
        pass


def start_receiver(host: str | None = None, port: int | None = None) -> str:
    """Sobe o receptor (idempotente) e devolve a URL que o Alertmanager deve chamar."""
    global _server
    host = host or settings.alert_receiver_host
    port = int(port or settings.alert_receiver_port)
    if _server is not None:
        return receiver_url()
    try:
        _server = ThreadingHTTPServer((host, port), _Handler)
    except OSError as exc:
        raise RuntimeError(
            f"A porta {port} do receptor de alertas já está em uso ({exc.strerror}). Feche o outro notebook/"
            f"processo ou defina ALERT_RECEIVER_PORT no .env (e rode `python -m kit stack up` de novo)."
        ) from exc
    _server.daemon_threads = True
    threading.Thread(target=_server.serve_forever, name="kit-alertas", daemon=True).start()
    return receiver_url()


def receiver_url() -> str | None:
    if _server is None:
        return None
    host, port = _server.server_address[:2]
    return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}{PATH}"


def stop_receiver() -> None:
    global _server
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _server = None


def received(alertname: str | None = None, status: str | None = None) -> list[dict]:
    """Alertas que chegaram (filtre por nome e/ou status 'firing'/'resolved')."""
    with _lock:
        rows = list(_received)
    return [r for r in rows if (alertname is None or r["alerta"] == alertname)
            and (status is None or r["status"] == status)]


def wait_for(alertname: str, status: str = "firing", timeout: float = 120.0, poll: float = 0.1) -> dict | None:
    """Espera um alerta chegar ao receptor (ou None depois de `timeout` segundos); o receptor está neste processo,
    então conferir a cada 0,1 s não custa nada e a aula não espera à toa."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = received(alertname, status)
        if found:
            return found[-1]
        time.sleep(poll)
    return None


def clear() -> None:
    with _lock:
        _received.clear()


def table():
    """Os alertas recebidos como DataFrame (para mostrar no notebook)."""
    import pandas as pd

    rows = received()
    frame = pd.DataFrame(rows, columns=["recebido_em", "status", "alerta", "severidade", "resumo"])
    if not frame.empty:
        frame["recebido_em"] = pd.to_datetime(frame["recebido_em"], unit="s")
    return frame
