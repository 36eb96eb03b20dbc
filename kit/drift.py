"""Drift de dados: o lote novo se parece com o treino?

PSI (Population Stability Index) por feature, com faixas definidas pelos quantis
do treino (numéricas) ou pelas categorias (categóricas); valores ausentes
formam uma faixa própria. Regra prática: PSI < 0.1 estável, 0.1–0.2 moderado,
> 0.2 drift significativo (é o limiar do alerta DataDrift).

Também comparamos a distribuição do *score* do modelo (KS e diferença de média):
se o risco médio muda muito, algo mudou nos clientes ou no modelo.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from kit import _psi_file, data, metrics, push
from kit._psi_file import publish_saved  # noqa: F401 — quem importava daqui continua achando
from kit.config import settings
from kit.logger import get_logger

PSI_MODERATE, PSI_SIGNIFICANT = 0.1, settings.psi_alert_threshold
_EPS = 1e-4


def _shares(values: pd.Series, edges=None, categories=None) -> np.ndarray:
    missing = values.isna().to_numpy()
    present = values[~missing]
    if categories is not None:
        counts = [int((present == c).sum()) for c in categories]
    else:
        counts = list(np.histogram(present.astype(float), bins=edges)[0])
    counts.append(int(missing.sum()))
    shares = np.asarray(counts, dtype=float) / max(len(values), 1)
    return np.clip(shares, _EPS, None)


def psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> float:
    """PSI de uma feature: soma de (atual − ref) · ln(atual / ref) pelas faixas."""
    if not pd.api.types.is_numeric_dtype(reference):
        cats = sorted(set(reference.dropna()) | set(current.dropna()))
        ref, cur = _shares(reference, categories=cats), _shares(current, categories=cats)
    else:
        inner = np.unique(np.nanquantile(reference.astype(float), np.linspace(0, 1, bins + 1))[1:-1])
        edges = np.concatenate([[-np.inf], inner, [np.inf]])
        ref, cur = _shares(reference, edges=edges), _shares(current, edges=edges)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi_table(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """PSI e KS por feature, ordenado do maior PSI para o menor."""
    rows = []
    for feature in data.FEATURES:
        row = {"feature": feature, "psi": round(psi(reference[feature], current[feature]), 4)}
        if feature in data.FEATURES_NUM:
            ks = ks_2samp(reference[feature].dropna(), current[feature].dropna())
            row.update(ks=round(float(ks.statistic), 4), ks_pvalor=float(ks.pvalue))
        row["situacao"] = ("drift" if row["psi"] > PSI_SIGNIFICANT else
                           "moderado" if row["psi"] > PSI_MODERATE else "estável")
        rows.append(row)
    return pd.DataFrame(rows).sort_values("psi", ascending=False, ignore_index=True)


def score_shift(model, reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    """Como o risco previsto mudou entre o treino e o lote."""
    ref = model.predict_proba(reference[data.FEATURES])[:, 1]
    cur = model.predict_proba(current[data.FEATURES])[:, 1]
    ks = ks_2samp(ref, cur)
    return {"risco_medio_treino": round(float(ref.mean()), 4), "risco_medio_lote": round(float(cur.mean()), 4),
            "diferenca": round(float(cur.mean() - ref.mean()), 4), "ks": round(float(ks.statistic), 4),
            "ks_pvalor": float(ks.pvalue)}


saved_path = _psi_file.path


def check(batch: str = "novos_2", model=None, publish: bool = True) -> dict:
    """Compara o lote com o treino, publica `data_drift_psi` e devolve tabela + score shift.

    Com `publish`, o PSI também vai para outputs/drift.json: um job separado (`python -m kit drift`)
    termina antes de o Prometheus raspá-lo, então a API publica o arquivo ao recarregar.
    """
    log = get_logger("drift")
    start = time.perf_counter()
    reference, current = data.load("treino"), data.load(batch)
    table = psi_table(reference, current)
    if publish:
        for feature, value in zip(table["feature"], table["psi"]):
            metrics.data_drift_psi.labels(feature=feature).set(value)
        _psi_file.save(batch, dict(zip(table["feature"], table["psi"])))
        push.batch_job("churn-drift", time.perf_counter() - start, len(current))
    result = {"lote": batch, "psi": table}
    if model is not None:
        result["score"] = score_shift(model, reference, current)
    drifted = table.loc[table["psi"] > PSI_SIGNIFICANT, "feature"].tolist()
    if drifted:
        log.warning(f"Drift significativo no lote {batch}: {', '.join(drifted)}", lote=batch, features=drifted)
    else:
        log.info(f"Lote {batch} estável em relação ao treino", lote=batch)
    return result
