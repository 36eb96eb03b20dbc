"""Binder: Prometheus e Grafana atrás do jupyter-server-proxy, sob o prefixo do JupyterHub.

O JupyterLab do Binder só deixa passar o que vem pelo próprio servidor Jupyter (que exige o login
da sessão). O `binder/jupyter_server_config.py` declara dois apps para o jupyter-server-proxy, que
os sobe sob demanda (ícones no Launcher) com:

    python -m kit.binder prometheus --port {port} --base-url {base_url}
    python -m kit.binder grafana    --port {port} --base-url {base_url}

Cada comando escreve as configurações numa pasta temporária e se transforma (exec) no binário real,
que o jupyter-server-proxy passa a supervisionar. Os dois servem sob o sub-caminho que o proxy
repassa inteiro (`absolute_url: True`): o Prometheus com `--web.external-url={base_url}prometheus/`
(a API fica em .../prometheus/api/v1/...), o Grafana com `root_url` + `serve_from_sub_path`.
O kit e o datasource do Grafana falam direto com http://127.0.0.1:<porta>{base_url}prometheus
(`settings.prometheus_url` no modo binder), sem passar pela autenticação do Jupyter.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path

from kit import _process, prom
from kit.config import settings

# O que `stack status` e `doctor` dizem a quem está no Binder.
EXPLANATION = (
    "estamos no Binder: Prometheus e Grafana abrem pelo Launcher do JupyterLab (sobem sob demanda, "
    "atrás do login da sessão); não há Docker, e a sessão é efêmera (baixe o que quiser guardar)")


def app_url(port: int, base_url: str, app: str) -> str:
    """Onde o app responde na própria porta: http://127.0.0.1:<porta>/<base_url>/<app>."""
    return f"http://127.0.0.1:{port}{_slashed(base_url)}{app}"


def prometheus_command(port: int, base_url: str, run_dir: Path, binary: str | None = None) -> list[str]:
    """Renderiza as configurações (alvos em 127.0.0.1, modo rápido) e devolve o comando do Prometheus."""
    from kit import stack

    binary = binary or stack.find_binary("prometheus")
    if not binary:
        raise RuntimeError("`prometheus` não está no PATH (no Binder ele vem do binder/apt.txt).")
    files = stack.render_native_configs(run_dir, fast=True)
    return [binary, f"--config.file={files['prometheus']}", f"--storage.tsdb.path={run_dir / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={_slashed(base_url)}prometheus/",
            "--web.enable-lifecycle"]


def grafana_command(port: int, base_url: str, run_dir: Path, home: Path | None = None) -> list[str]:
    """Escreve grafana.ini e o provisionamento (datasource no Prometheus com prefixo) e devolve o comando."""
    from kit import stack

    home = Path(home or settings.grafana_home)
    # o Prometheus que o mesmo proxy serve, sob o mesmo base_url (não passa pelo login do Jupyter)
    prometheus_url = app_url(settings.prometheus_port, base_url, "prometheus")
    provisioning = stack.render_grafana_provisioning(run_dir / "provisioning", prometheus_url)
    ini = run_dir / "grafana.ini"
    ini.write_text(grafana_ini(port, base_url, run_dir, provisioning), encoding="utf-8")
    return [str(home / "bin" / "grafana"), "server", f"--homepath={home}", f"--config={ini}"]


def grafana_ini(port: int, base_url: str, run_dir: Path, provisioning: Path) -> str:
    """Grafana sob o sub-caminho, só leitura para quem já passou pelo login do Jupyter."""
    home_dashboard = settings.root / "monitoring" / "grafana" / "dashboards" / "overview.json"
    return (
        "[server]\n"
        "http_addr = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"root_url = %(protocol)s://%(domain)s:%(http_port)s{_slashed(base_url)}grafana/\n"
        "serve_from_sub_path = true\n"
        "[paths]\n"
        f"data = {run_dir / 'data'}\nlogs = {run_dir / 'logs'}\nplugins = {run_dir / 'plugins'}\n"
        f"provisioning = {provisioning}\n"
        "[auth.anonymous]\n"
        "# Quem chega aqui já passou pela autenticação do Jupyter (token/login do Binder).\n"
        "enabled = true\norg_name = Main Org.\norg_role = Viewer\n"
        "[security]\n"
        # nunca a senha padrão do Grafana: uma senha aleatória por sessão (ninguém precisa dela para ver os painéis)
        f"admin_user = admin\nadmin_password = {secrets.token_urlsafe(18)}\n"
        "[users]\nallow_sign_up = false\n"
        "[dashboards]\n"
        f"default_home_dashboard_path = {home_dashboard}\n"
        "[analytics]\nreporting_enabled = false\ncheck_for_updates = false\ncheck_for_plugin_updates = false\n"
        "[news]\nnews_feed_enabled = false\n"
        "[log]\nmode = console\n"
    )


def _slashed(base_url: str) -> str:
    inner = base_url.strip("/")
    return f"/{inner}/" if inner else "/"


def serve_prometheus(port: int, base_url: str) -> int:
    """O que o jupyter-server-proxy executa. Se o kit já subiu este Prometheus, acompanha-o."""
    url = app_url(port, base_url, "prometheus")
    if prom.available(url):
        # Subido por `stack.up()` num notebook: o proxy já o alcança. Fico de sentinela; quando ele
        # parar, saio com erro e o jupyter-server-proxy me reinicia — e aí eu subo o meu.
        print(f"Prometheus já no ar em {url} (subido pelo kit); o proxy usa esse.", flush=True)
        _process.wait_until(lambda: not prom.available(url, timeout=5), timeout=None, interval=2)
        return 1
    command = prometheus_command(port, base_url, Path(tempfile.mkdtemp(prefix="kit-binder-prometheus-")))
    os.execv(command[0], command)
    return 0  # não chega aqui


GRAFANA_MISSING = (
    "Grafana não instalado nesta imagem: o binder/postBuild o baixa no build do Binder ({path} não existe). "
    "Enquanto isso, no notebook, kit.dashboards.preview('api-health') desenha os painéis com dados reais "
    "do Prometheus.")


def serve_grafana(port: int, base_url: str) -> int:
    run_dir = Path(tempfile.mkdtemp(prefix="kit-binder-grafana-"))
    command = grafana_command(port, base_url, run_dir)
    if not Path(command[0]).exists():
        # Sair com erro faria o proxy reiniciar este comando sem parar; melhor responder o porquê.
        return _explain_forever(port, GRAFANA_MISSING.format(path=command[0]))
    os.execv(command[0], command)
    return 0


def _explain_forever(port: int, message: str) -> int:
    """Responde 503 com `message` (pt-BR) em qualquer caminho, até ser encerrado pelo proxy."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    body = f"<!doctype html><meta charset='utf-8'><title>Grafana</title><p>{message}</p>".encode()

    class Explain(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — nome exigido por BaseHTTPRequestHandler
            self.send_response(503)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    print(message, file=sys.stderr, flush=True)
    HTTPServer(("127.0.0.1", port), Explain).serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kit.binder", description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=("prometheus", "grafana"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-url", default="/")
    args = parser.parse_args(argv)
    serve = serve_prometheus if args.app == "prometheus" else serve_grafana
    return serve(args.port, args.base_url)


if __name__ == "__main__":
    sys.exit(main())
