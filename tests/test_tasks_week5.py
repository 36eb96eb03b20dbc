"""Semana 5, "Sua vez": referência ✔, esboço intocado ⏳ (sem traceback), respostas erradas plausíveis ✘ com a dica."""
from __future__ import annotations

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge

from kit import data, tasks
from kit.tasks import week5

META = {"version": "v1", "threshold": 0.1113}


# --- 5.1 publicar uma métrica do modelo ------------------------------------------------------------
def untouched_publish(registro, meta):
    ...  # o esboço da cópia do aluno


def counter_publish(registro, meta):
    limiar = Counter("model_decision_threshold", "limiar", ["version"], registry=registro)
    limiar.labels(version=meta["version"]).inc(meta["threshold"])
    return limiar


def fixed_publish(registro, meta):
    limiar = Gauge("model_decision_threshold", "limiar", ["version"], registry=registro)
    limiar.labels(version=meta["version"]).set(0.1113)
    return limiar


def other_registry_publish(registro, meta):
    limiar = Gauge("model_decision_threshold", "limiar", ["version"], registry=CollectorRegistry())
    limiar.labels(version=meta["version"]).set(meta["threshold"])
    return limiar


def unlabelled_publish(registro, meta):
    limiar = Gauge("model_decision_threshold", "limiar", registry=registro)
    limiar.set(meta["threshold"])
    return limiar


PUBLISH_CASES = [
    # (resposta, status, trecho da mensagem)
    (week5.reference_publish, "ok", "certo!"),
    (untouched_publish, "todo", "ainda não resolvida"),
    (counter_publish, "wrong", "use Gauge"),
    (fixed_publish, "wrong", "não um número fixo"),
    (other_registry_publish, "wrong", "Crie-a nele"),
    (unlabelled_publish, "wrong", "não tem a label version"),
]


@pytest.mark.parametrize("answer, status, fragment", PUBLISH_CASES, ids=[c[0].__name__ for c in PUBLISH_CASES])
def test_task_5_1_publish_a_model_metric(capsys, answer, status, fragment):
    chosen = week5.publish_metric(answer, META)
    outcome = tasks.outcomes["5.1"]
    assert outcome.status == status and fragment in outcome.message, outcome.message
    assert "Traceback" not in capsys.readouterr().out
    assert chosen is (answer if status == "ok" else week5.reference_publish)  # a aula segue com uma função que vale


# --- 5.2 PSI de uma feature e a decisão -------------------------------------------------------------
def reference_psi(referencia, atual, faixas=10):
    bordas = np.unique(np.nanquantile(referencia, np.linspace(0, 1, faixas + 1)))
    bordas[0], bordas[-1] = -np.inf, np.inf
    ref = np.histogram(referencia.dropna(), bordas)[0] / referencia.notna().sum()
    cur = np.histogram(atual.dropna(), bordas)[0] / atual.notna().sum()
    ref, cur = np.clip(ref, 1e-4, None), np.clip(cur, 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def untouched_psi(referencia, atual, faixas=10):
    ...


def inverted_log_psi(referencia, atual, faixas=10):
    bordas = np.unique(np.nanquantile(referencia, np.linspace(0, 1, faixas + 1)))
    bordas[0], bordas[-1] = -np.inf, np.inf
    ref = np.histogram(referencia.dropna(), bordas)[0] / referencia.notna().sum()
    cur = np.histogram(atual.dropna(), bordas)[0] / atual.notna().sum()
    return float(np.sum((cur - ref) * np.log(ref / cur)))


def equal_width_psi(referencia, atual, faixas=10):
    bordas = np.linspace(referencia.min(), referencia.max(), faixas + 1)
    ref = np.histogram(referencia.dropna(), bordas)[0] / referencia.notna().sum()
    cur = np.histogram(atual.dropna(), bordas)[0] / atual.notna().sum()
    ref, cur = np.clip(ref, 1e-4, None), np.clip(cur, 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def no_clip_psi(referencia, atual, faixas=10):
    bordas = np.linspace(0, 200, 60)  # faixas finas: algumas ficam vazias e o log vira inf
    ref = np.histogram(referencia.dropna(), bordas)[0] / referencia.notna().sum()
    cur = np.histogram(atual.dropna(), bordas)[0] / atual.notna().sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum((cur - ref) * np.log(cur / ref)))


PSI_CASES = [
    # (função, decisão, status, trecho da mensagem)
    (reference_psi, "drift", "ok", "certo!"),
    (untouched_psi, None, "todo", "ainda não resolvida"),
    (inverted_log_psi, "drift", "wrong", "deu negativo"),
    (equal_width_psi, "drift", "wrong", "faixas dos quantis da REFERÊNCIA"),
    (no_clip_psi, "drift", "wrong", "o PSI é um número finito"),
    (reference_psi, "moderado", "wrong", "pede outra decisão"),
    (reference_psi, "sim", "wrong", "escreva \"estável\", \"moderado\" ou \"drift\""),
]


@pytest.fixture(scope="module")
def ages():
    return data.load("treino")["idade"], data.load("novos_1")["idade"], data.load("novos_2")["idade"]


@pytest.mark.parametrize("function, decision, status, fragment", PSI_CASES,
                         ids=[f"{c[0].__name__}-{c[1]}" for c in PSI_CASES])
def test_task_5_2_psi_of_one_feature_and_the_decision(capsys, ages, function, decision, status, fragment):
    treino, lote1, lote2 = ages
    value, decided = week5.psi_feature(function, decision, treino, lote2, stable=(treino, lote1))
    outcome = tasks.outcomes["5.2"]
    assert outcome.status == status and fragment in outcome.message, outcome.message
    assert "Traceback" not in capsys.readouterr().out
    assert decided == "drift" and value > 0.2  # certo ou não, a aula segue com um PSI e uma decisão que valem
