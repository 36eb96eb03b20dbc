"""Como a API mede cada requisição — `prometheus_client` puro, o que a aula 3 mostra.

    from kit import instrumentation
    instrumentation.record_request("GET", "/churn/{id_cliente}", "200", 0.004)

As três métricas HTTP do contrato (`kit.metrics.CONTRACT`) nascem aqui, com as classes do próprio
prometheus_client, no registro global (o `/metrics` da API). O middleware da API
(`kit.api`, que descobre o modelo da rota, o status e a duração) chama `record_request`
uma vez por requisição, depois da resposta. `kit.metrics` reexporta estes objetos junto
com o resto do contrato.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

# Passam de 2 s: o alerta "P95 > 2 s" precisa de buckets acima de 2 s para ser observável.
# 0.3: o limite do SLO de latência da semana 7 (fração das requisições em até 300 ms, bucket le="0.3").
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)

# `endpoint` é o modelo da rota (/churn/{id_cliente}), nunca o caminho real: valores limitados.
api_requests_total = Counter(
    "api_requests_total", "Requisições HTTP atendidas pela API.", ["method", "endpoint", "status_code"])
api_request_duration_seconds = Histogram(
    "api_request_duration_seconds", "Tempo de resposta da API em segundos.", ["method", "endpoint"],
    buckets=LATENCY_BUCKETS)
api_errors_total = Counter(
    "api_errors_total", "Respostas de erro (4xx e 5xx) da API.", ["method", "endpoint", "status_code"])


def record_request(method: str, endpoint: str, status_code: str, seconds: float) -> None:
    """Uma requisição atendida: conta, mede a duração e, se foi 4xx/5xx, conta o erro."""
    api_requests_total.labels(method=method, endpoint=endpoint, status_code=status_code).inc()
    api_request_duration_seconds.labels(method=method, endpoint=endpoint).observe(seconds)
    if status_code.startswith(("4", "5")):
        api_errors_total.labels(method=method, endpoint=endpoint, status_code=status_code).inc()
