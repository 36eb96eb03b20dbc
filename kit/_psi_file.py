"""Encanamento do drift: o último PSI gravado em disco, e quem o publica.

`python -m kit drift` é um job que termina antes de o Prometheus raspá-lo; por isso o PSI que
ele calcula vai para `outputs/drift.json` (`save`), e a API publica esse arquivo na métrica
`data_drift_psi` quando (re)carrega (`publish_saved`). Fica aqui, abaixo de `drift` e de `api`,
para a API não depender do módulo de drift (scipy, dados de treino) só para ler um JSON.
"""
from __future__ import annotations

import json
from pathlib import Path

from kit import metrics
from kit.config import settings


def path() -> Path:
    return settings.outputs_dir / "drift.json"


def save(batch: str, psi: dict[str, float], segments: list | None = None) -> None:
    """Grava o PSI por feature do lote e o de cada segmento [[pais, faixa, psi], ...] (o que `publish_saved` lerá)."""
    path().parent.mkdir(parents=True, exist_ok=True)
    body = {"lote": batch, "psi": psi, "segmentos": segments or []}
    path().write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")


def publish_saved() -> dict:
    """Publica o último PSI gravado (a API chama isto ao (re)carregar); {} se não houver."""
    try:
        saved = json.loads(path().read_text(encoding="utf-8"))
        values = {str(f): float(v) for f, v in saved["psi"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # nenhuma verificação ainda (ou arquivo corrompido): nada a publicar
    for feature, value in values.items():
        metrics.data_drift_psi.labels(feature=feature).set(value)
    try:  # os valores de label vêm do arquivo: só os segmentos fechados do kit viram série
        segments = {(str(p), str(f)): float(v) for p, f, v in saved.get("segmentos", [])}
    except (TypeError, ValueError):
        segments = {}
    for (pais, band), value in segments.items():
        if pais in metrics.SEGMENT_COUNTRIES and band in metrics.SEGMENT_AGE_BANDS:
            metrics.data_drift_segment_psi.labels(pais=pais, faixa_etaria=band).set(value)
    return values
