"""Qualidade dos dados que chegam em POST /predict: contada antes de virar drift.

Drift é a distribuição mudando devagar; problema de qualidade é o dado quebrado *hoje*: um campo que
não veio, um valor fora do que o modelo já viu, uma categoria nova, um corpo fora do esquema. A API
conta cada um em `data_quality_issues_total{feature, issue}` e cada corpo conferido em
`data_quality_requests_total` — a taxa de ausentes da idade, por exemplo, é

    rate(data_quality_issues_total{feature="idade", issue="ausente"}[5m])
      / rate(data_quality_requests_total[5m])

`issue`: ausente | fora_da_faixa | categoria_nova | esquema (DQ_ISSUES em kit.metrics); `feature`: as
features do modelo, `id_cliente` ou "outro" — nunca o nome que o cliente mandou (valores fechados).
Corpos recusados (422) são classificados pelo erro do pydantic (`check_rejected`); corpos aceitos
ainda podem estar fora da faixa do treino (`check_valid`: o modelo pontua, mas às cegas).
"""
from __future__ import annotations

from kit import data, metrics

FEATURES = (*data.FEATURES, "id_cliente", "outro")
# A faixa que os dados de treino cobrem (kit.data): fora dela o modelo extrapola.
TRAINING_RANGES = {"idade": (18, 92), "anos_cliente": (0, 10), "saldo_conta": (0, 300_000),
                   "numero_produtos": (1, 4), "salario_estimado": (11_000, 200_000), "escore_credito": (350, 850)}
# tipo do erro do pydantic → tipo de problema de qualidade
_BY_ERROR = {"missing": "ausente", "literal_error": "categoria_nova", "greater_than": "fora_da_faixa",
             "greater_than_equal": "fora_da_faixa", "less_than": "fora_da_faixa", "less_than_equal": "fora_da_faixa"}


def _feature(loc) -> str:
    names = [str(p) for p in loc if p != "body"]
    return names[0] if names and names[0] in FEATURES else "outro"


def classify(errors) -> list[tuple[str, str]]:
    """(feature, problema) de cada erro de validação do pydantic (`exc.errors()`)."""
    out = []
    for err in errors:
        issue = _BY_ERROR.get(err.get("type"), "esquema")
        if err.get("input") is None and err.get("type") not in ("missing", "json_invalid") and err.get("loc"):
            issue = "ausente"  # "idade": null conta como ausente, não como tipo errado
        out.append((_feature(err.get("loc", ())), issue))
    return out


def _count(issues) -> None:
    metrics.data_quality_requests_total.inc()
    for feature, issue in issues:
        metrics.data_quality_issues_total.labels(feature=feature, issue=issue).inc()


def check_rejected(errors) -> list[tuple[str, str]]:
    """Um corpo recusado (422): conta os problemas dele."""
    issues = classify(errors)
    _count(issues)
    return issues


def check_valid(body: dict) -> list[tuple[str, str]]:
    """Um corpo aceito: conta as features fora da faixa do treino (o modelo pontua mesmo assim)."""
    issues = [(f, "fora_da_faixa") for f, (low, high) in TRAINING_RANGES.items()
              if body.get(f) is not None and not low <= body[f] <= high]
    _count(issues)
    return issues


def init_series() -> None:
    """Ausentes e fora da faixa começam em 0 (o painel mostra 0, não "No data")."""
    for feature in data.FEATURES:
        metrics.data_quality_issues_total.labels(feature=feature, issue="ausente")
    for feature in TRAINING_RANGES:
        metrics.data_quality_issues_total.labels(feature=feature, issue="fora_da_faixa")


init_series()
