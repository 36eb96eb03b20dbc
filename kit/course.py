"""O que toda aula precisa: conferir o ambiente, preparar dados/modelo e subir/parar o que a aula usa.

    from kit import course
    course.check_environment()              # tabela: o que existe nesta máquina
    aula = course.start(stack=True)         # dados + modelo + API (+ stack, se houver)
    ...
    course.finish()                         # para o que start() subiu

Tudo é idempotente: rodar a célula de novo devolve o que já está no ar.
"""
from __future__ import annotations

import platform
import shutil
import sys
from dataclasses import dataclass

import pandas as pd

import kit
from kit import alerts, prom, runner, stack
from kit.config import settings


@dataclass
class Session:
    """O que a aula tem no ar."""
    api: runner.ApiServer
    mode: str               # compose | native | none
    prometheus: bool        # o Prometheus responde?

    def __repr__(self) -> str:
        extra = "Prometheus no ar" if self.prometheus else "sem Prometheus (lendo /metrics direto)"
        return f"<Aula: API em {self.api.url}, stack {self.mode}, {extra}>"


_started: dict = {}


def check_environment() -> pd.DataFrame:
    """Versões e ferramentas disponíveis (o que a aula vai conseguir mostrar)."""
    import fastapi
    import loguru
    import prometheus_client
    import sklearn

    rows = [
        ("Python", platform.python_version(), True),
        ("kit", kit.__version__, True),
        ("scikit-learn", sklearn.__version__, True),
        ("FastAPI", fastapi.__version__, True),
        ("Loguru", loguru.__version__, True),
        ("prometheus-client", prometheus_client.__version__ if hasattr(prometheus_client, "__version__") else "ok", True),
        ("Docker engine", "responde" if stack.docker_engine_available() else "ausente", stack.docker_engine_available()),
        ("prometheus (binário)", shutil.which("prometheus") or "ausente", bool(shutil.which("prometheus"))),
        ("alertmanager (binário)", stack.find_binary("prometheus-alertmanager", "alertmanager") or "ausente",
         bool(stack.find_binary("prometheus-alertmanager", "alertmanager"))),
        ("grafana (binário)", stack.find_binary("grafana", "grafana-server") or "ausente",
         bool(stack.find_binary("grafana", "grafana-server"))),
        ("Modo da stack", stack.detect_mode()[0], True),
    ]
    return pd.DataFrame(rows, columns=["item", "versão / situação", "ok"])


def prepare() -> dict:
    """Dados, modelo e predições — só o que faltar. Devolve os metadados do modelo."""
    from kit import data, model

    data.ensure_data()
    if not model.list_versions():
        model.train()
    if not settings.predictions_path.exists():
        model.predict_batch("novos_1")
    return model.load(publish=False)[1]


def start(stack_up: bool = True, fast: bool = True, api_port: int | None = None, quiet: bool = True) -> Session:
    """Prepara o projeto, sobe a stack possível (modo rápido por padrão) e a API numa thread."""
    prepare()
    mode = "none"
    if stack_up:
        try:
            state = stack.up(fast=fast, quiet=quiet)
            mode = state["mode"]
            # Só para no fim quem subiu: uma stack que já estava no ar (make lab, outra aula) continua.
            _started["stack"] = _started.get("stack", False) or (mode != "none" and not state["already_running"])
        except RuntimeError as exc:
            print(f"A stack não subiu: {exc}\nSeguindo sem ela (o notebook lê /metrics direto).")
    host = "0.0.0.0" if mode == "compose" else settings.api_host
    api = runner.start(host=host, port=api_port)
    session = Session(api=api, mode=mode, prometheus=prom.available())
    if mode != "none" and not session.prometheus:
        print("O Prometheus não respondeu; rode `python -m kit doctor` para ver por quê.")
    return session


def wait_for_scrape(timeout: float = 30.0) -> bool:
    """Espera o Prometheus raspar a API (True) — ou desiste sem erro (False)."""
    import time

    if not prom.available():
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if prom.value('up{job="api-churn"}') == 1:
                return True
        except prom.PrometheusIndisponivel:
            return False
        time.sleep(0.5)
    return False


def finish() -> None:
    """Para a API, o receptor de alertas e a stack — se foi esta aula que a subiu."""
    runner.stop_all()
    alerts.stop_receiver()
    if _started.pop("stack", False):
        stack.down(quiet=True)
        print("Tudo parado: API, receptor de alertas e a stack que esta aula subiu.")
    elif prom.available():
        print("API e receptor de alertas parados. A stack continua no ar (já estava antes desta aula) e "
              "serve à próxima; para pará-la: `python -m kit stack down`.")
    else:
        print("Tudo parado: API e receptor de alertas (esta aula rodou sem stack).")


def in_notebook() -> bool:
    return "ipykernel" in sys.modules
