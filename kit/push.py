"""Pushgateway: as métricas dos jobs em lote (treino, predição em lote, checagem de drift).

    from kit import push
    push.batch_job("churn-treino", duracao_s=3.2, linhas=6000)   # o que model.train() faz ao terminar
    push.grouped()                                               # o que o Pushgateway guarda agora

Um job em lote termina antes de o Prometheus coletá-lo (a coleta é a cada 10–15 s). Por isso ele
EMPURRA as métricas para o Pushgateway, que as guarda, e o Prometheus coleta o Pushgateway (job
`pushgateway` do prometheus.yml, com `honor_labels: true`). O código é o de sempre do
prometheus_client: um CollectorRegistry só do job, Gauges, e `push_to_gateway` no fim.

Cada envio usa a chave de agrupamento job + instance. `push_to_gateway` (PUT) SUBSTITUI tudo o que
havia naquele grupo — a segunda execução do treino troca os números da primeira, não os duplica;
`pushadd_to_gateway` (POST) só troca as métricas com o mesmo nome. O Pushgateway nunca esquece um
grupo sozinho: um job que parou de rodar continua lá com os últimos números (por isso cada job
publica `batch_job_last_success_timestamp_seconds`, e o alerta olha a idade dele).

Sem Pushgateway no ar (modo none, ou o pacote não instalado), o envio devolve False e o job segue:
monitoramento fora do ar nunca derruba um treino.
"""
from __future__ import annotations

import platform
import time
from urllib.error import URLError

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from kit.config import settings
from kit.logger import get_logger

JOBS = ("churn-treino", "churn-predicao-lote", "churn-drift")


def batch_job(job: str, duracao_s: float, linhas: int, instance: str | None = None,
              gateway: str | None = None) -> bool:
    """Empurra o resumo de uma execução de `job` (duração, linhas, horário do sucesso). True se chegou."""
    registry = CollectorRegistry()  # só deste envio: nada da API nem de outro job vai junto
    Gauge("batch_job_duration_seconds", "Duração da última execução do job em lote.",
          registry=registry).set(duracao_s)
    Gauge("batch_job_rows", "Linhas processadas na última execução do job em lote.", registry=registry).set(linhas)
    Gauge("batch_job_last_success_timestamp_seconds", "Quando o job em lote terminou com sucesso (Unix).",
          registry=registry).set(time.time())
    return send(job, registry, instance=instance, gateway=gateway)


def send(job: str, registry: CollectorRegistry, instance: str | None = None, gateway: str | None = None) -> bool:
    """`push_to_gateway` com a chave job + instance (padrão: o nome desta máquina). Nunca levanta erro."""
    gateway = gateway or settings.pushgateway_url
    key = {"instance": instance or platform.node() or "local"}
    try:
        push_to_gateway(gateway, job=job, registry=registry, grouping_key=key, timeout=2)
        return True
    except (URLError, OSError) as exc:
        get_logger("pushgateway").debug(f"Pushgateway em {gateway} não respondeu ({exc}); métricas do job {job} "
                                        "não enviadas (suba a stack ou instale prometheus-pushgateway)")
        return False


def grouped(gateway: str | None = None) -> list[dict]:
    """Os grupos guardados no Pushgateway: [{"job", "instance", "metricas": {nome: valor}}]."""
    import httpx

    answer = httpx.get(f"{gateway or settings.pushgateway_url}/api/v1/metrics", timeout=5).json()
    groups = []
    for group in answer.get("data", []):
        values = {name: float(family["metrics"][0]["value"]) for name, family in group.items()
                  if isinstance(family, dict) and family.get("metrics") and "value" in family["metrics"][0]}
        groups.append({**group["labels"], "metricas": values})
    return groups
