"""Consultas ao Prometheus pela API HTTP, com erros em português.

    from kit import prom
    prom.query('up{job="api-churn"}')                  # lista de séries (instantâneo)
    prom.query_range('rate(api_requests_total[1m])', minutes=10)
    prom.value('sum(api_active_requests)')             # um número (ou None)

Se o Prometheus não estiver no ar, as funções levantam `PrometheusIndisponivel`
com a mensagem do que fazer; `available()` responde True/False sem levantar.
"""
from __future__ import annotations

import time

import httpx

from kit.config import settings
from kit.errors import ErroDoKit


class PrometheusIndisponivel(ErroDoKit, RuntimeError):
    """O Prometheus não respondeu (não está rodando, ou está em outro endereço)."""


class ConsultaInvalida(ErroDoKit, ValueError):
    """O Prometheus recusou a expressão PromQL."""


# Um cliente HTTP para todas as consultas: criar um por chamada (httpx.get) monta um contexto TLS
# novo a cada vez (~25 ms de CPU), e uma prévia de dashboard faz dezenas de consultas.
http = httpx.Client()


def _url(base: str | None) -> str:
    return (base or settings.prometheus_url).rstrip("/")


def _get(path: str, params: dict, base: str | None, timeout: float):
    url = _url(base)
    try:
        response = http.get(f"{url}{path}", params=params, timeout=timeout)
    except httpx.HTTPError as exc:
        raise PrometheusIndisponivel(
            f"O Prometheus não respondeu em {url} ({type(exc).__name__}). Suba a stack com "
            "`python -m kit stack up` (ou `docker compose up -d`) e confira com `python -m kit doctor`."
        ) from exc
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code == 400 or body.get("errorType") == "bad_data":
        raise ConsultaInvalida(f"PromQL inválida: {body.get('error', response.text)}")
    if response.status_code != 200 or body.get("status") != "success":
        raise PrometheusIndisponivel(f"O Prometheus em {url} respondeu {response.status_code}: "
                                     f"{body.get('error', response.text[:200])}")
    return body["data"]


def available(base: str | None = None, timeout: float = 2.0) -> bool:
    try:
        return http.get(f"{_url(base)}/-/ready", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def query(expr: str, base: str | None = None, timeout: float = 10.0, at: float | None = None) -> list[dict]:
    """Consulta instantânea (agora, ou no instante `at` em segundos): [{'metric': {...labels}, 'value': float}]."""
    params = {"query": expr} if at is None else {"query": expr, "time": at}
    data = _get("/api/v1/query", params, base, timeout)
    if data["resultType"] == "scalar":
        return [{"metric": {}, "value": float(data["result"][1])}]
    return [{"metric": r["metric"], "value": float(r["value"][1])} for r in data["result"]]


def value(expr: str, base: str | None = None) -> float | None:
    """O valor da primeira série de `expr`, ou None se não houver série."""
    result = query(expr, base)
    return result[0]["value"] if result else None


def query_range(expr: str, minutes: float = 15, step: float | None = None, base: str | None = None,
                end: float | None = None, start: float | None = None) -> list[dict]:
    """Série temporal dos últimos `minutes` até `end` (ou de `start` a `end`): [{'metric', 'times', 'values'}]."""
    end = end or time.time()
    if start is None:
        start = end - minutes * 60
    else:
        minutes = (end - start) / 60
    step = step or max(1.0, minutes * 60 / 240)
    data = _get("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step}, base, 30)
    return [{"metric": r["metric"], "times": [float(t) for t, _ in r["values"]],
             "values": [float(v) for _, v in r["values"]]} for r in data["result"]]


def label_values(label: str, match: str, base: str | None = None) -> list[str]:
    """Os valores de `label` nas séries que casam com `match`."""
    return _get(f"/api/v1/label/{label}/values", {"match[]": match}, base, 10)


def targets(base: str | None = None) -> list[dict]:
    """Alvos de scrape ativos (job, endereço, saúde, último erro)."""
    data = _get("/api/v1/targets", {"state": "active"}, base, 10)
    return [{"job": t["labels"].get("job"), "url": t["scrapeUrl"], "health": t["health"],
             "erro": t.get("lastError", "")} for t in data["activeTargets"]]


def alerts(base: str | None = None) -> list[dict]:
    """Alertas pendentes ou disparando, como o Prometheus os vê."""
    return _get("/api/v1/alerts", {}, base, 10)["alerts"]


def rules(base: str | None = None) -> list[dict]:
    """Regras de alerta carregadas (nome, estado, expressão)."""
    groups = _get("/api/v1/rules", {"type": "alert"}, base, 10)["groups"]
    return [{"nome": r["name"], "estado": r["state"], "expr": r["query"]} for g in groups for r in g["rules"]]
