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
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from kit import _psi_file, data, labels, metrics, push
from kit._psi_file import publish_saved  # noqa: F401 — quem importava daqui continua achando
from kit.config import settings
from kit.logger import get_logger

PSI_MODERATE, PSI_SIGNIFICANT = 0.1, settings.psi_alert_threshold
_EPS = 1e-4


def _counts(values: pd.Series, edges=None, categories=None) -> np.ndarray:
    """Contagem por faixa (ou categoria), com os ausentes numa faixa própria no fim."""
    missing = values.isna().to_numpy()
    present = values[~missing]
    if categories is not None:
        counts = [int((present == c).sum()) for c in categories]
    else:
        counts = list(np.histogram(present.astype(float), bins=edges)[0])
    counts.append(int(missing.sum()))
    return np.asarray(counts, dtype=float)


def binned(reference: pd.Series, current: pd.Series, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """As contagens de referência e atual nas mesmas faixas: quantis do treino ou categorias."""
    if not pd.api.types.is_numeric_dtype(reference):
        cats = sorted(set(reference.dropna()) | set(current.dropna()))
        return _counts(reference, categories=cats), _counts(current, categories=cats)
    inner = np.unique(np.nanquantile(reference.astype(float), np.linspace(0, 1, bins + 1))[1:-1])
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    return _counts(reference, edges=edges), _counts(current, edges=edges)


def psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> float:
    """PSI de uma feature: soma de (atual − ref) · ln(atual / ref) pelas faixas."""
    ref, cur = (np.clip(c / max(c.sum(), 1), _EPS, None) for c in binned(reference, current, bins))
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


def compare_methods(reference: pd.DataFrame, current: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Os testes de drift lado a lado, por feature, nos mesmos lotes.

    - PSI (faixas dos quantis do treino) e Jensen–Shannon (distância, nas mesmas faixas): tamanho
      do efeito; não mudam com o tamanho da amostra, mas dependem das faixas;
    - KS (numéricas) e qui² (categóricas, e numéricas nas faixas): p-valor de um teste de hipótese —
      com amostras grandes, uma mudança minúscula já dá p < 0,05;
    - Wasserstein (numéricas): quanto a distribuição "andou", em desvios-padrão do treino.
    """
    rows = []
    for feature in data.FEATURES:
        ref, cur = reference[feature], current[feature]
        ref_counts, cur_counts = binned(ref, cur, bins)
        present = (ref_counts + cur_counts) > 0
        row = {"feature": feature, "psi": psi(ref, cur, bins),
               "jensen_shannon": float(jensenshannon(ref_counts, cur_counts)),
               "qui2_pvalor": float(chi2_contingency(np.vstack([ref_counts[present], cur_counts[present]]))[1])}
        if feature in data.FEATURES_NUM:
            ref_num, cur_num = ref.dropna().astype(float), cur.dropna().astype(float)
            row["ks_pvalor"] = float(ks_2samp(ref_num, cur_num).pvalue)
            row["wasserstein_dp"] = float(wasserstein_distance(ref_num, cur_num) / ref_num.std())
        rows.append(row)
    columns = ["feature", "psi", "jensen_shannon", "wasserstein_dp", "ks_pvalor", "qui2_pvalor"]
    return pd.DataFrame(rows)[columns].sort_values("psi", ascending=False, ignore_index=True)


# Evidently decide assim para lotes de referência com mais de 1 000 linhas (evidently 0.7.23,
# legacy/calculations/stattests/registry.py): Wasserstein normalizado (numéricas com mais de 5 valores)
# ou Jensen–Shannon (categóricas e numéricas com até 5 valores), drift a partir de 0,1.
EVIDENTLY_THRESHOLD = 0.1


def evidently_rule(reference: pd.DataFrame, table: pd.DataFrame) -> pd.Series:
    """Drift sim/não pela regra padrão do Evidently, aplicada às colunas de `compare_methods`."""
    many_values = {f: reference[f].nunique() > 5 for f in data.FEATURES_NUM}
    value = [row.wasserstein_dp if many_values.get(row.feature) else row.jensen_shannon for row in table.itertuples()]
    return pd.Series(value, index=table.index) >= EVIDENTLY_THRESHOLD


def evidently_report(reference: pd.DataFrame, current: pd.DataFrame):
    """O relatório de data drift do próprio Evidently nos mesmos lotes — ou None, dizendo por quê.

    Evidently não é dependência do curso: custa ~580 MB no ambiente e a versão mais nova (0.7.23) não
    importa com o pandas 3 que o curso usa. A aula roda sem ele (e aplica a regra dele: `evidently_rule`).
    """
    try:
        from evidently import Report
        from evidently.presets import DataDriftPreset
    except ModuleNotFoundError:
        print("Evidently não está instalado (não é dependência do curso: ~580 MB a mais no ambiente). A tabela "
              "acima já aplica a regra de drift dele; para o relatório interativo, use um ambiente à parte com "
              "pandas < 3: pip install evidently==0.7.23 'pandas<3'.")
        return None
    except ImportError as exc:
        print(f"Evidently está instalado, mas não importa com o pandas {pd.__version__} deste curso ({exc}). "
              "A tabela acima já aplica a regra de drift dele; para o relatório interativo, use um ambiente à "
              "parte com pandas < 3.")
        return None
    return Report([DataDriftPreset()]).run(reference_data=reference[data.FEATURES],
                                           current_data=current[data.FEATURES])


def segment_psi(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """A mistura de segmentos (país × faixa etária) mudou? O termo de cada segmento no PSI da mistura.

    Positivo e grande: o segmento pesa bem mais (ou bem menos) no lote do que no treino. A soma é o PSI da
    variável "segmento"; os valores de label são fechados (kit.labels.COUNTRIES × AGE_BANDS).
    """
    def shares(frame):
        segment = labels.country(frame["pais"]) + "|" + labels.age_band(frame["idade"])
        return segment.value_counts(normalize=True)

    index = pd.MultiIndex.from_product([labels.COUNTRIES, labels.AGE_BANDS], names=["pais", "faixa_etaria"])
    keys = [f"{p}|{f}" for p, f in index]
    ref, cur = (shares(f).reindex(keys, fill_value=0.0).to_numpy() for f in (reference, current))
    clipped_ref, clipped_cur = np.clip(ref, _EPS, None), np.clip(cur, _EPS, None)
    table = pd.DataFrame({"participacao_treino": ref, "participacao_lote": cur,
                          "psi": (clipped_cur - clipped_ref) * np.log(clipped_cur / clipped_ref)}, index=index)
    return table.sort_values("psi", ascending=False)


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
    table, segments = psi_table(reference, current), segment_psi(reference, current)
    if publish:
        for feature, value in zip(table["feature"], table["psi"]):
            metrics.data_drift_psi.labels(feature=feature).set(value)
        for (pais, band), value in segments["psi"].items():
            metrics.data_drift_segment_psi.labels(pais=pais, faixa_etaria=band).set(value)
        _psi_file.save(batch, dict(zip(table["feature"], table["psi"])),
                       [[pais, band, float(v)] for (pais, band), v in segments["psi"].items()])
        push.batch_job("churn-drift", time.perf_counter() - start, len(current))
    result = {"lote": batch, "psi": table, "segmentos": segments}
    if model is not None:
        result["score"] = score_shift(model, reference, current)
    drifted = table.loc[table["psi"] > PSI_SIGNIFICANT, "feature"].tolist()
    if drifted:
        log.warning(f"Drift significativo no lote {batch}: {', '.join(drifted)}", lote=batch, features=drifted)
    else:
        log.info(f"Lote {batch} estável em relação ao treino", lote=batch)
    return result
