"""Conferências das tarefas "Sua vez" da semana 5 (notebooks/05_metricas_ml.ipynb).

    publicar = tasks.week5.publish_metric(publicar_limiar, servico.meta)      # 5.1
    psi_idade, decisao = tasks.week5.psi_feature(calcular_psi, decisao, treino, lote2)   # 5.2

5.1 roda a sua função num `CollectorRegistry` novo de verdade (duas vezes, com metadados diferentes) e lê o texto
que o Prometheus rasparia; 5.2 roda o seu PSI em dois pares de lotes reais e compara com o do kit
(`kit.drift.psi`), e confere a sua decisão pela regra prática (< 0,1 estável, 0,1–0,2 moderado, > 0,2 drift).
"""
from __future__ import annotations

import math

import pandas as pd
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kit import drift
from kit.tasks import run_task

METRIC = "model_decision_threshold"
PSI_TOLERANCE = 0.02  # faixas e ausentes tratados de outro jeito mudam o PSI um pouco; a ideia tem de ser a mesma


# --- 5.1 publicar uma métrica do modelo ------------------------------------------------------------
def reference_publish(registro, meta):
    """A solução de referência de 5.1 (a aula segue com ela quando a sua não vale)."""
    limiar = Gauge(METRIC, "Limiar de decisão (F2) do modelo servido.", ["version"], registry=registro)
    limiar.labels(version=meta["version"]).set(meta["threshold"])
    return limiar


def _exposed(function, meta) -> tuple[object, dict]:
    registry = CollectorRegistry()
    returned = function(registry, meta)
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    return returned, families


def _judge_publish(function, meta) -> str | None:
    other = {**meta, "version": "v99", "threshold": round(meta["threshold"] / 2 + 0.25, 4)}
    for case in (meta, other):
        _, families = _exposed(function, case)
        family = families.get(METRIC)
        if family is None:
            found = ", ".join(sorted(families)) or "nenhuma"
            return (f"o registro recebido não tem a métrica {METRIC} (tem: {found}). Crie-a nele: "
                    f"Gauge(\"{METRIC}\", \"…\", [\"version\"], registry=registro).")
        if family.type != "gauge":
            return f"{METRIC} é um {family.type}; um limiar sobe e desce (muda a cada modelo): use Gauge."
        samples = {tuple(sorted(s.labels.items())): s.value for s in family.samples}
        if not any(dict(k).get("version") for k in samples):
            return "a série não tem a label version: use .labels(version=meta[\"version\"]) antes do .set()."
        value = samples.get((("version", case["version"]),))
        if value is None:
            return f"com meta['version'] = {case['version']!r} não há série {METRIC}{{version=\"{case['version']}\"}}."
        if value != case["threshold"]:
            return (f"com meta['threshold'] = {case['threshold']} a métrica vale {value}: publique o limiar do "
                    "modelo recebido (meta[\"threshold\"]), não um número fixo.")
    return None


def publish_metric(function, meta: dict):
    """Confere 5.1 e devolve a função com que a aula segue (a sua, se estiver certa)."""
    def attempt():
        returned, _ = _exposed(function, meta)
        return None if returned is None else function

    return run_task("5.1", "publicar uma métrica do modelo", attempt, lambda f: _judge_publish(f, meta),
                    lambda: reference_publish,
                    todo_hint="Escreva o corpo de publicar_limiar (e devolva a métrica criada).")


# --- 5.2 PSI de uma feature e a decisão -------------------------------------------------------------
def _verdict(value: float) -> str:
    return "drift" if value > drift.PSI_SIGNIFICANT else "moderado" if value > drift.PSI_MODERATE else "estável"


def _judge_psi(result, pairs) -> str | None:
    function, decision = result
    for reference, current in pairs:
        mine, kit = function(reference, current), drift.psi(reference, current)
        if not isinstance(mine, (int, float)) or isinstance(mine, bool) or not math.isfinite(mine):
            return (f"calcular_psi devolveu {mine!r}: o PSI é um número finito. Se deu inf ou nan, uma faixa ficou "
                    "vazia: troque as proporções 0 por um valor pequeno (np.clip(p, 1e-4, None)) antes do log.")
        if mine < 0:
            return ("o PSI deu negativo: cada faixa soma (atual − referência) · ln(atual / referência), e os dois "
                    "fatores têm sempre o mesmo sinal — confira a ordem dentro do log.")
        if abs(mine - kit) > PSI_TOLERANCE:
            return (f"o seu PSI deu {mine:.3f}, o do kit {kit:.3f}. Use as faixas dos quantis da REFERÊNCIA "
                    "(np.nanquantile(referencia, np.linspace(0, 1, faixas + 1))) e proporções (contagem / total) "
                    "nas duas amostras.")
    expected = _verdict(drift.psi(*pairs[0]))
    if decision not in ("estável", "moderado", "drift"):
        return f"decisao = {decision!r}: escreva \"estável\", \"moderado\" ou \"drift\"."
    if decision != expected:
        return (f"decisao = {decision!r}, mas pela regra prática (< 0,1 estável; 0,1–0,2 moderado; > 0,2 drift) "
                "o PSI desta feature pede outra decisão.")
    return None


def psi_feature(function, decision, reference: pd.Series, current: pd.Series, stable: tuple | None = None):
    """Confere 5.2: `function(referencia, atual)` no par da aula (e num par estável) e a `decision`.

    Devolve (PSI, decisão) com que a aula segue.
    """
    pairs = [(reference, current)] + ([stable] if stable else [])

    def attempt():
        if function(reference, current) is None:
            return None
        return function, decision

    def reference_result():
        value = drift.psi(reference, current)
        return value, _verdict(value)

    result = run_task("5.2", "PSI de uma feature e a decisão", attempt, lambda r: _judge_psi(r, pairs),
                      lambda: (drift.psi, reference_result()[1]),
                      todo_hint="Escreva o corpo de calcular_psi e a sua decisao.")
    chosen, decided = result
    return float(chosen(reference, current)), decided
