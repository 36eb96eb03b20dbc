"""O modelo de churn: treinar, avaliar, prever, retreinar — com artefatos versionados.

Pipeline (imbalanced-learn): imputação → one-hot/escala → SMOTE → gradient boosting,
embrulhado num `TunedThresholdClassifierCV` que escolhe o limiar de decisão que
maximiza o F2 da classe churn (F2 dá mais peso ao recall: perder um cliente que
vai sair custa mais que um alarme falso).

Artefatos em `models/`: `modelo_vN.joblib` + `modelo_vN.json` (metadados:
version, trained_at, duration, samples, f2, auc, threshold, lotes, avaliacoes).
O modelo servido é sempre a versão mais nova.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import fbeta_score, make_scorer, roc_auc_score
from sklearn.model_selection import TunedThresholdClassifierCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from kit import data, labels, metrics, push
from kit.config import settings
from kit.errors import ErroDoKit
from kit.logger import get_logger

F2 = make_scorer(fbeta_score, beta=2)
# OpenMP (HistGradientBoosting) com 1 thread: com a CPU disputada, 2 threads esperando uma pela outra levam minutos.
threadpool_limits(1, user_api="openmp")
_VERSION_RE = re.compile(r"modelo_v(\d+)\.json$")


class ModeloAusente(ErroDoKit, FileNotFoundError):
    """Não há modelo treinado (ou o arquivo está corrompido)."""


def build_pipeline(seed: int = 0) -> TunedThresholdClassifierCV:
    """Monta o pipeline completo (ainda não treinado)."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore"))
    pipeline = Pipeline([
        ("preparo", ColumnTransformer([("num", numeric, data.FEATURES_NUM), ("cat", categorical, data.FEATURES_CAT)])),
        ("smote", SMOTE(random_state=seed)),
        ("classificador", HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=seed)),
    ])
    return TunedThresholdClassifierCV(pipeline, scoring=F2, cv=3, random_state=seed)


def risk_level(risk: float) -> str:
    """baixo < 0.5 ≤ medio < 0.7 ≤ alto (limiares em kit.config)."""
    if risk >= settings.risk_high:
        return "alto"
    if risk >= settings.risk_medium:
        return "medio"
    return "baixo"


def score(model, frame: pd.DataFrame) -> dict:
    """F2 (classe 1) e AUC do modelo num lote rotulado."""
    X, y = frame[data.FEATURES], frame[data.TARGET]
    return {"f2": float(fbeta_score(y, model.predict(X), beta=2)),
            "auc": float(roc_auc_score(y, model.predict_proba(X)[:, 1]))}


# --- versões -------------------------------------------------------------------
def list_versions(models_dir: Path | None = None) -> list[int]:
    folder = Path(models_dir or settings.models_dir)
    return sorted(int(m.group(1)) for p in folder.glob("modelo_v*.json") if (m := _VERSION_RE.search(p.name)))


def _paths(version: int, models_dir: Path | None = None) -> tuple[Path, Path]:
    folder = Path(models_dir or settings.models_dir)
    return folder / f"modelo_v{version}.joblib", folder / f"modelo_v{version}.json"


def load(version: int | None = None, models_dir: Path | None = None, publish: bool = True):
    """Carrega (modelo, metadados) — a versão mais nova se `version` for None.

    Quem carrega o modelo publica as métricas dele (é o processo que o Prometheus raspa).
    """
    versions = list_versions(models_dir)
    if not versions:
        raise ModeloAusente("Nenhum modelo treinado em models/. Rode: python -m kit train")
    version = versions[-1] if version is None else version
    model_path, meta_path = _paths(version, models_dir)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        model = joblib.load(model_path)
    except Exception as exc:  # arquivo ausente, truncado ou de outra versão de biblioteca
        raise ModeloAusente(
            f"Não consegui carregar o modelo v{version} ({type(exc).__name__}). "
            "Treine de novo com: python -m kit train"
        ) from exc
    if publish:
        metrics.publish_model(meta)
    return model, meta


def save_metadata(meta: dict, models_dir: Path | None = None) -> None:
    _, meta_path = _paths(int(meta["version"].lstrip("v")), models_dir)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")


# --- treino --------------------------------------------------------------------
def train(extra_batches: tuple[str, ...] = (), component: str = "training", models_dir: Path | None = None) -> dict:
    """Treina uma nova versão (treino + lotes extras), salva e publica. Devolve os metadados."""
    log = get_logger(component)
    folder = Path(models_dir or settings.models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    log.info("Etapa 1: carregando dados", lotes=["treino", *extra_batches])
    frame = pd.concat([data.load("treino"), *(data.load(b) for b in extra_batches)], ignore_index=True)
    log.info("Etapa 2: separando treino/teste (80/20 estratificado)")
    fit_part, test_part = train_test_split(frame, test_size=0.2, stratify=frame[data.TARGET], random_state=settings.seed)
    log.debug("Formato do treino", linhas=len(fit_part), colunas=len(data.FEATURES))
    log.info("Etapas 3-6: imputação, codificação, SMOTE, classificador e ajuste do limiar para F2")
    model = build_pipeline(settings.seed).fit(fit_part[data.FEATURES], fit_part[data.TARGET])
    quality = score(model, test_part)
    duration = time.perf_counter() - start
    version = (list_versions(folder) or [0])[-1] + 1
    meta = {
        "version": f"v{version}",
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "duration": round(duration, 3),
        "samples": int(len(frame)),
        "f2": round(quality["f2"], 4),
        "auc": round(quality["auc"], 4),
        "threshold": round(float(model.best_threshold_), 4),
        "lotes": ["treino", *extra_batches],
        "avaliacoes": [],
    }
    model_path, _ = _paths(version, folder)
    joblib.dump(model, model_path)
    save_metadata(meta, folder)
    metrics.publish_model(meta)
    push.batch_job("churn-treino", duration, len(frame))  # o job termina antes da coleta: empurra (semana 7)
    log.success(f"Modelo {meta['version']} treinado em {duration:.1f}s", f2=meta["f2"], auc=meta["auc"],
                samples=meta["samples"], threshold=meta["threshold"])
    return meta


def retrain(batch: str, models_dir: Path | None = None) -> dict:
    """Retreina com treino + o lote rotulado `batch`, gerando uma nova versão."""
    get_logger("retraining").info(f"Retreinando com treino + {batch}")
    return train(extra_batches=(batch,), component="retraining", models_dir=models_dir)


# --- predição e avaliação ---------------------------------------------------------
def predict_frame(model, frame: pd.DataFrame) -> pd.DataFrame:
    """Risco (probabilidade de churn) e nível para cada linha de `frame`."""
    risks = model.predict_proba(frame[data.FEATURES])[:, 1]
    return pd.DataFrame({"id_cliente": frame[data.ID].to_numpy(), "risco": np.round(risks, 4),
                         "nivel": [risk_level(r) for r in risks]})


def predict_batch(batch: str = "novos_1", output: Path | None = None, models_dir: Path | None = None) -> pd.DataFrame:
    """Prevê o lote, grava `outputs/predicoes.csv` (o que a API serve), acrescenta o lote ao registro de
    predições (`registro_predicoes.csv`, ao lado: id, versão, hora, segmento — kit.labels) e publica o retrato."""
    log = get_logger("prediction")
    start = time.perf_counter()
    model, meta = load(models_dir=models_dir)
    log.info(f"Prevendo lote {batch} com o modelo {meta['version']}")
    frame = data.load(batch)
    result = predict_frame(model, frame)
    labels.log_batch(frame, result, batch, meta["version"], model.predict(frame[data.FEATURES]),
                     path=None if output is None else Path(output).with_name("registro_predicoes.csv"))
    output = Path(output or settings.predictions_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(output, index=False, lineterminator="\n")
    counts = metrics.publish_batch(result["risco"], settings.risk_high, settings.risk_medium)
    push.batch_job("churn-predicao-lote", time.perf_counter() - start, len(result))
    log.success(f"Predições concluídas: {len(result)} clientes", lote=batch, arquivo=str(output), **counts,
                score_medio=round(float(result["risco"].mean()), 4))
    return result


def evaluate(batch: str, models_dir: Path | None = None) -> dict:
    """Os rótulos de `batch` chegaram: mede F2/AUC do modelo servido e registra como métrica atual."""
    log = get_logger("evaluation")
    model, meta = load(models_dir=models_dir, publish=False)
    quality = score(model, data.load(batch))
    result = {"lote": batch, "f2": round(quality["f2"], 4), "auc": round(quality["auc"], 4),
              "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    meta.setdefault("avaliacoes", []).append(result)
    save_metadata(meta, models_dir)
    metrics.publish_model(meta)
    level = "warning" if result["f2"] < settings.f2_alert_threshold else "success"
    log.log(level.upper(), f"Modelo {meta['version']} no lote {batch}: F2={result['f2']:.3f} AUC={result['auc']:.3f}",
            **result)
    return {"version": meta["version"], **result}
