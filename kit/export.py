"""Relatório de métricas em CSV e JSON (o `export_metrics.py` do projeto original).

    from kit import export
    relatorio = export.export(minutes=15)      # grava outputs/relatorio_metricas.{csv,json}
    relatorio.source                           # "prometheus" ou "metrics"
    relatorio.frame.head()                     # o mesmo conteúdo do CSV, num DataFrame

Duas fontes, nesta ordem:

1. **Prometheus no ar** → para cada consulta de `QUERIES`, uma *range query* dos
   últimos N minutos: a série histórica, um ponto a cada `step` segundos.
2. **Prometheus fora do ar** → uma leitura única do `/metrics` da API: só os
   valores *atuais* das métricas do contrato (contadores desde que a API subiu,
   sem taxas nem percentis — isso exige histórico, que é o trabalho do Prometheus).

O relatório diz qual fonte usou (`source`, e a `mensagem` no JSON).

Formato "longo" (uma linha por ponto): `timestamp, metrica, labels, valor`.
`metrica` é o nome da consulta (fonte prometheus) ou da amostra do /metrics
(fonte metrics); `labels` é um JSON com os rótulos da série.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

from kit import prom
from kit.config import settings
from kit.errors import ErroDoKit
from kit.metrics import CONTRACT

# Janela do rate(): fixa aqui (no Grafana seria $__rate_interval). Cobre vários scrapes
# tanto no modo rápido (1 s) quanto no normal (10 s).
RATE_WINDOW = "1m"
_API = 'endpoint!="/metrics"'  # o scrape do próprio Prometheus não é tráfego de cliente
QUERIES = {
    # Requisições por segundo, por rota.
    "requisicoes_por_s_por_endpoint":
        f"sum by (endpoint) (rate(api_requests_total{{{_API}}}[{RATE_WINDOW}]))",
    # Fração das respostas que foram 5xx (404 de cliente desconhecido não é erro do serviço).
    "proporcao_5xx":
        f'sum(rate(api_requests_total{{{_API}, status_code=~"5.."}}[{RATE_WINDOW}])) / '
        f"sum(rate(api_requests_total{{{_API}}}[{RATE_WINDOW}]))",
    # P95 da latência da API, em segundos (somar os buckets por `le` antes do quantil).
    "latencia_p95_s":
        f"histogram_quantile(0.95, sum by (le) (rate(api_request_duration_seconds_bucket{{{_API}}}[{RATE_WINDOW}])))",
    # Predições servidas por minuto, por nível de risco.
    "predicoes_por_min_por_nivel": f"sum by (level) (rate(model_predictions_total[{RATE_WINDOW}])) * 60",
    # Gauges: o valor direto (rate() só em contadores).
    "model_f2_score": "model_f2_score",
    "model_auc_score": "model_auc_score",
    "churn_predictions_high_risk": "churn_predictions_high_risk",
    "churn_predictions_by_level": "churn_predictions_by_level",
    "data_drift_psi": "data_drift_psi",
    # A API estava no ar (1) ou não (0) em cada scrape.
    "api_up": 'up{job="api-churn"}',
}
COLUMNS = ["timestamp", "metrica", "labels", "valor"]
CSV_NAME, JSON_NAME = "relatorio_metricas.csv", "relatorio_metricas.json"
# Famílias do contrato como o parser as nomeia (contadores sem _total; o Info mantém o _info).
_FAMILIES = {name.removesuffix("_total") for name in CONTRACT}


class MetricasIndisponiveis(ErroDoKit, RuntimeError):
    """Nem o Prometheus nem o /metrics da API responderam."""


@dataclass
class Report:
    """O relatório gravado: de onde vieram os dados, onde estão os arquivos e a tabela."""

    source: str            # "prometheus" ou "metrics"
    message: str
    csv_path: Path
    json_path: Path
    frame: pd.DataFrame


def _labels(metric: dict) -> str:
    return json.dumps(dict(sorted(metric.items())), ensure_ascii=False)


def from_prometheus(minutes: float = 15, step: float | None = None, base: str | None = None) -> pd.DataFrame:
    """As consultas de `QUERIES` nos últimos `minutes` minutos (range queries)."""
    rows = []
    for name, expr in QUERIES.items():
        for series in prom.query_range(expr, minutes=minutes, step=step, base=base):
            labels = _labels(series["metric"])
            rows.extend((t, name, labels, v) for t, v in zip(series["times"], series["values"]))
    return _frame(rows)


def from_metrics_endpoint(api_url: str | None = None, timeout: float = 5.0) -> pd.DataFrame:
    """Os valores atuais das métricas do contrato, lidos uma vez do /metrics da API."""
    url = (api_url or settings.api_url).rstrip("/")
    response = httpx.get(f"{url}/metrics", timeout=timeout)
    response.raise_for_status()
    now = datetime.now().timestamp()
    rows = [(now, sample.name, _labels(sample.labels), sample.value)
            for family in text_string_to_metric_families(response.text) if family.name in _FAMILIES
            for sample in family.samples]
    return _frame(rows)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    local_tz = datetime.now().astimezone().tzinfo
    stamps = pd.to_datetime(frame["timestamp"], unit="s", utc=True).dt.round("ms")
    frame["timestamp"] = stamps.dt.tz_convert(local_tz)
    frame["valor"] = frame["valor"].astype(float)
    return frame


def export(output_dir: Path | str | None = None, minutes: float = 15, step: float | None = None,
           base: str | None = None, api_url: str | None = None) -> Report:
    """Grava `relatorio_metricas.csv` e `.json` em `output_dir` (padrão: outputs/).

    Usa o Prometheus em `base` (padrão: settings.prometheus_url) se ele responder;
    senão lê uma vez o /metrics da API em `api_url` (padrão: settings.api_url).
    """
    source = "prometheus"
    prometheus_url = (base or settings.prometheus_url).rstrip("/")
    frame = None
    if prom.available(base):
        try:
            frame = from_prometheus(minutes, step, base)
            message = (f"Dados do Prometheus em {prometheus_url}: {len(QUERIES)} consultas dos últimos "
                       f"{minutes:g} minutos (séries históricas).")
        except prom.PrometheusIndisponivel:
            frame = None  # caiu no meio do caminho: vale o plano B
    if frame is None:
        source = "metrics"
        api = (api_url or settings.api_url).rstrip("/")
        try:
            frame = from_metrics_endpoint(api)
        except httpx.HTTPError as exc:
            raise MetricasIndisponiveis(
                f"Nem o Prometheus ({prometheus_url}) nem a API ({api}/metrics) responderam "
                f"({type(exc).__name__}). Suba a API (runner.start() ou python -m kit serve) e, para ter "
                "histórico, a stack (python -m kit stack up).") from exc
        message = (f"Prometheus indisponível em {prometheus_url}: exportei os valores atuais do {api}/metrics "
                   "(uma leitura só, sem histórico, taxas ou percentis). Suba a stack com "
                   "`python -m kit stack up` para exportar séries históricas.")

    folder = Path(output_dir or settings.outputs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = folder / CSV_NAME, folder / JSON_NAME
    frame.to_csv(csv_path, index=False)
    document = {
        "fonte": source,
        "mensagem": message,
        "gerado_em": datetime.now().astimezone().isoformat(timespec="seconds"),
        "janela_minutos": minutes if source == "prometheus" else None,
        "consultas": QUERIES if source == "prometheus" else None,
        "colunas": COLUMNS,
        "linhas": [
            {"timestamp": ts.isoformat(), "metrica": name, "labels": json.loads(labels),
             "valor": None if math.isnan(value) or math.isinf(value) else value}  # JSON não tem NaN/Inf
            for ts, name, labels, value in frame.itertuples(index=False)
        ],
    }
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return Report(source, message, csv_path, json_path, frame)
