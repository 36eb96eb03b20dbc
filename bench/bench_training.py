"""Treino: o nosso pipeline contra a configuração do projeto original, na mesma execução.

Original: KNNImputer, PowerTransformer+StandardScaler, OneHotEncoder, TargetEncoder,
PolynomialFeatures (só interações), SMOTE k=10, RandomForest 1000 árvores max_depth=20,
TunedThresholdClassifierCV cv=5. Mesmos dados, mesma separação, mesma máquina.
Meta: o nosso ≥ 10× mais rápido com F2 no máximo 0,02 abaixo.

    python bench/bench_training.py
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

from _report import save  # bench/_report.py (os scripts rodam como `python bench/<nome>.py`)

os.environ.setdefault("KIT_HOME", tempfile.mkdtemp(prefix="kit-bench-"))

from imblearn.over_sampling import SMOTE  # noqa: E402
from imblearn.pipeline import Pipeline  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.impute import KNNImputer, SimpleImputer  # noqa: E402
from sklearn.model_selection import TunedThresholdClassifierCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import (OneHotEncoder, PolynomialFeatures, PowerTransformer,  # noqa: E402
                                   StandardScaler, TargetEncoder)

from kit import data, model  # noqa: E402
from kit.config import settings  # noqa: E402


def original_pipeline(seed: int = 0) -> TunedThresholdClassifierCV:
    numeric = make_pipeline(KNNImputer(), PowerTransformer(), StandardScaler(),
                            PolynomialFeatures(degree=2, interaction_only=True, include_bias=False))
    onehot = make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore"))
    target = make_pipeline(SimpleImputer(strategy="most_frequent"), TargetEncoder())
    prep = ColumnTransformer([("num", numeric, data.FEATURES_NUM),
                              ("onehot", onehot, ["genero", "cartao_credito"]),
                              ("target", target, ["pais"])])
    pipeline = Pipeline([("prep", prep), ("smote", SMOTE(k_neighbors=10, random_state=seed)),
                         ("rf", RandomForestClassifier(n_estimators=1000, max_depth=20, n_jobs=-1,
                                                       random_state=seed))])
    return TunedThresholdClassifierCV(pipeline, scoring=model.F2, cv=5, random_state=seed)


def measure(name, estimator, fit_part, checks):
    start = time.perf_counter()
    estimator.fit(fit_part[data.FEATURES], fit_part[data.TARGET])
    seconds = time.perf_counter() - start
    scores = {label: model.score(estimator, frame) for label, frame in checks.items()}
    return {"pipeline": name, "segundos": round(seconds, 2),
            **{f"f2_{label}": round(s["f2"], 4) for label, s in scores.items()},
            **{f"auc_{label}": round(s["auc"], 4) for label, s in scores.items()}}


def main() -> int:
    frame = data.load("treino")
    fit_part, test_part = train_test_split(frame, test_size=0.2, stratify=frame[data.TARGET],
                                           random_state=settings.seed)
    checks = {"teste": test_part, "novos_1": data.load("novos_1")}
    ours = measure("nosso", model.build_pipeline(settings.seed), fit_part, checks)
    original = measure("original", original_pipeline(settings.seed), fit_part, checks)
    report = {"nosso": ours, "original": original,
              "aceleracao": round(original["segundos"] / ours["segundos"], 1),
              "diferenca_f2_novos_1": round(ours["f2_novos_1"] - original["f2_novos_1"], 4),
              "diferenca_f2_teste": round(ours["f2_teste"] - original["f2_teste"], 4),
              "meta": "aceleracao >= 10 e diferenca_f2 >= -0.02"}
    save("training", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
