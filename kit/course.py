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
import time
from dataclasses import dataclass

import pandas as pd

import kit
from kit import alerts, prom, runner, stack
from kit.config import settings


@dataclass
class Session:
    """O que a aula tem no ar — e desde quando (para as consultas olharem só o tráfego desta aula)."""
    api: runner.ApiServer
    mode: str               # compose | native | none (none também quando a aula não pediu a stack)
    prometheus: bool        # o Prometheus responde?
    stack_requested: bool = True
    started_at: float = 0.0  # quando a API desta aula subiu (time.time())

    def __repr__(self) -> str:
        if not self.stack_requested:
            extra = "esta aula não usa a stack" + (" (um Prometheus está no ar, mas não é consultado)"
                                                   if self.prometheus else "")
        elif self.prometheus:
            extra = f"stack {self.mode}, Prometheus no ar"
        else:
            extra = "sem Prometheus (lendo /metrics direto)"
        return f"<Aula: API em {self.api.url}, {extra}>"

    def elapsed(self) -> float:
        """Segundos desde que a API desta aula subiu."""
        return time.time() - self.started_at

    def window(self, minimum: int = 2) -> str:
        """Janela PromQL que começa quando a API desta aula subiu, ex.: "37s".

        Uma stack que fica no ar entre as aulas guarda o tráfego (e as APIs) das aulas anteriores na mesma
        série; com `rate(x[{aula.window()}])` a conta usa só as coletas desta aula.
        """
        return f"{max(minimum, int(self.elapsed()))}s"


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
    if not hasattr(api, "lesson_started_at"):  # rodar a célula de novo devolve a mesma API e o mesmo início
        api.lesson_started_at = time.time()
    session = Session(api=api, mode=mode, prometheus=prom.available(), stack_requested=stack_up,
                      started_at=api.lesson_started_at)
    if mode != "none" and not session.prometheus:
        print("O Prometheus não respondeu; rode `python -m kit doctor` para ver por quê.")
    return session


def wait_for_scrape(timeout: float = 30.0, after: float | None = None) -> bool:
    """Espera o Prometheus raspar a API (True) — ou desiste sem erro (False).

    `after` (um `time.time()`): espera uma coleta que começou depois desse instante, isto é, o Prometheus já
    guardou tudo o que a API contou até ali — em vez de dormir um intervalo de coleta "por garantia".
    """
    if not prom.available():
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # início da última coleta que deu certo (timestamp() só dá o horário da amostra sobre um seletor puro)
            scraped_at = prom.value('timestamp(up{job="api-churn"}) and up{job="api-churn"} == 1')
        except prom.PrometheusIndisponivel:
            return False
        if scraped_at is not None and scraped_at >= (after or 0.0):
            return True
        time.sleep(0.1)  # no modo rápido a coleta é a cada 1 s
    return False


def wait_for_next_scrape(timeout: float = 30.0) -> bool:
    """Espera uma coleta que comece depois de agora (True): o Prometheus passa a ter o que a API publicou até aqui."""
    since = time.time()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (prom.value('timestamp(up{job="api-churn"})') or 0) > since:
                return True
        except prom.PrometheusIndisponivel:
            return False
        time.sleep(0.3)
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
