"""jupyter-server-proxy no Binder: Prometheus e Grafana no Launcher do JupyterLab, sob demanda.

O binder/postBuild copia este arquivo para ~/.jupyter/; os testes o carregam daqui com
`jupyter server --config=binder/jupyter_server_config.py`.

Os dois apps recebem o caminho inteiro (`absolute_url: True`) e sabem seu sub-caminho
(`{base_url}prometheus/`, `{base_url}grafana/`): veja kit/binder.py, que escreve as configurações e
executa os binários. As portas são fixas (as de kit.config.settings) para que o kit e o datasource do
Grafana achem o Prometheus em http://127.0.0.1:<porta>{base_url}prometheus.
"""
import sys

from kit.config import settings

c = get_config()  # noqa: F821 — injetado pelo carregador de configuração do Jupyter

ICONS = settings.root / "binder" / "icons"


def _kit_binder(app: str) -> list[str]:
    return [sys.executable, "-m", "kit.binder", app, "--port", "{port}", "--base-url", "{base_url}"]


c.ServerProxy.servers = {
    "prometheus": {
        "command": _kit_binder("prometheus"),
        "port": settings.prometheus_port,
        "absolute_url": True,
        "timeout": 60,
        "launcher_entry": {"title": "Prometheus", "icon_path": str(ICONS / "prometheus.svg")},
    },
    "grafana": {
        "command": _kit_binder("grafana"),
        "port": settings.grafana_port,
        "absolute_url": True,
        "timeout": 120,
        "launcher_entry": {"title": "Grafana", "icon_path": str(ICONS / "grafana.svg")},
    },
}
