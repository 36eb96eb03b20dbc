"""Prova ao vivo: Prometheus e Alertmanager nativos (Debian) raspando a API real numa thread.

Modo rápido (kit.stack.FAST): coleta/avaliação a cada 1 s e `for` de 5 s, para que cada
alerta dispare em segundos. Os mesmos arquivos de monitoring/ que o aluno usa.
"""
from __future__ import annotations

import re
import time

import httpx
import pytest
import yaml

from kit import _process, alerts, data, doctor, drift, labels, metrics, model, prom, push, runner, stack
from kit.config import settings
from tests._tools import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.stack]
RULES = settings.root / "monitoring" / "prometheus" / "alert_rules.yml"

# A grandeza por trás de cada alerta (a expressão sem o limiar final). Cada uma precisa
# aparecer, letra por letra, na regra — assim este mapa não se descola de alert_rules.yml.
ALERT_QUANTITIES = {
    "ApiDown": 'up{job="api-churn"}',
    "ApiReplicaDown": 'up{job="api-churn"}',
    "ApiHighLatencyP95": 'histogram_quantile(0.95, sum by (le) (rate(api_request_duration_seconds_bucket'
                         '{endpoint!="/metrics"}[5m])))',
    "ApiHigh5xxRate": 'sum(rate(api_requests_total{endpoint!="/metrics", status_code=~"5.."}[5m])) / '
                      'sum(rate(api_requests_total{endpoint!="/metrics"}[5m]))',
    "ModelF2Low": 'model_f2_score{dataset="producao"}',
    "NoPredictions": "sum(increase(model_predictions_total[5m]))",
    "DataDrift": "data_drift_psi",
    "SegmentF2Low": "model_segment_f2_score",
    "DataQualityIssues": "sum(rate(data_quality_issues_total[5m])) / sum(rate(data_quality_requests_total[5m]))",
    # SLO (semana 7): as séries gravadas que os alertas de burn rate comparam com o limiar
    "ApiErrorBudgetBurnFast": "job:slo_errors_per_request:ratio_rate1h",
    "ApiErrorBudgetBurnSlow": "job:slo_errors_per_request:ratio_rate3d",
    "ApiLatencyBudgetBurnFast": "job:slo_slow_per_request:ratio_rate1h",
    "ApiLatencyBudgetBurnSlow": "job:slo_slow_per_request:ratio_rate3d",
}
# Precisam de mais histórico do que um teste tem; cobertos pelos testes do promtool
# (monitoring/prometheus/tests/alert_rules_test.yml).
NEEDS_HISTORY = {"HighRiskSpike": "compara com `offset 1h`: só há dado depois de 1 h de coleta"}


def _rules():
    return {r["alert"]: r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]
            if "alert" in r}


def _normalize(expr: str) -> str:
    return re.sub(r"\s+", "", expr)


def _load(api, n_ok=30, n_404=10):
    ids = list(api.app.state.service.predictions)[:n_ok]
    with httpx.Client(base_url=api.url) as client:
        for i in ids:
            client.get(f"/churn/{i}")
        for i in range(n_404):
            client.get(f"/churn/{10_000_000 + i}")
        client.get("/churn/abc")
        cliente = {"pais": "Espanha", "genero": "Feminino", "idade": 30, "anos_cliente": 1, "saldo_conta": 0.0,
                   "numero_produtos": 1, "cartao_credito": "Sim", "salario_estimado": 40000.0, "escore_credito": 700}
        client.post("/predict", json=cliente)
        client.post("/predict", json={**cliente, "pais": "Brasil"})  # categoria nova: um problema de qualidade


@pytest.fixture(scope="module")
def scraped(live_stack):
    api, _ = live_stack
    start = time.monotonic()
    assert wait_until(lambda: prom.value('up{job="api-churn"}') == 1, timeout=60), "alvo api-churn nunca ficou UP"
    first_sample = time.monotonic() - start
    print(f"\n[medida] API no ar → primeira amostra no Prometheus (modo rápido): {first_sample:.1f} s")
    drift.check("novos_2")
    # Rótulos do lote 1 (sem drift): a série model_f2_score{dataset="producao"} passa a existir, como na aula 5.
    # Sem isso ela só existiria se outro teste do mesmo processo tivesse avaliado um lote.
    model.evaluate("novos_1")
    # Semana 5: o lote 2 previsto pela v1 entra no registro de predições e 80 % dos rótulos chegam (2 arquivos).
    estimator, meta = model.load(publish=False)
    frame = data.load("novos_2")
    labels.log_batch(frame, model.predict_frame(estimator, frame), "novos_2", meta["version"],
                     estimator.predict(frame[data.FEATURES]))
    service = api.app.state.service
    service.labels.load_log()
    for path in labels.simulate_arrival("novos_2", n_files=2):
        service.labels.receive(path)
    _load(api)
    # dois scrapes depois da carga: rate() precisa de duas amostras com a carga dentro
    time.sleep(3)
    _load(api)
    time.sleep(3)
    return api


def test_quantity_map_matches_the_rule_file():
    rules = _rules()
    assert set(ALERT_QUANTITIES) | set(NEEDS_HISTORY) == set(rules)
    for name, quantity in ALERT_QUANTITIES.items():
        assert _normalize(quantity) in _normalize(rules[name]), name


@pytest.mark.parametrize("alert", sorted(ALERT_QUANTITIES))
def test_every_alert_quantity_has_data(scraped, alert):
    result = prom.query(ALERT_QUANTITIES[alert])
    assert result, f"{alert}: a grandeza {ALERT_QUANTITIES[alert]!r} não devolveu série"


def test_every_dashboard_panel_query_returns_data(scraped):
    from kit import dashboards

    empty, checked = [], 0
    for uid in dashboards.list_dashboards():
        for q in dashboards.panel_queries(dashboards.load(uid)):
            if "offset 1h" in q["expr"]:
                continue  # precisa de 1 h de histórico (listado em NEEDS_HISTORY / promtool)
            checked += 1
            if not prom.query(q["expr"]):
                empty.append(f"{uid} / {q['panel']} [{q['refId']}]: {q['expr']}")
    assert checked >= 30
    assert not empty, "painéis sem dados:\n" + "\n".join(empty)


def test_the_degraded_segment_is_found_by_a_query_and_the_global_f2_does_not_show_it(scraped):
    """Aula 5: uma consulta ao Prometheus aponta os jovens espanhóis; o F2 global (sem segmento) não aponta nada."""
    (worst,) = prom.query("bottomk(1, model_segment_f2_score)")
    assert (worst["metric"]["pais"], worst["metric"]["faixa_etaria"]) == ("Espanha", "ate_35")
    version = scraped.app.state.service.meta["version"]
    (global_f2,) = prom.query(f'model_window_f2_score{{version="{version}"}}')
    assert "pais" not in global_f2["metric"] and "faixa_etaria" not in global_f2["metric"]
    # o mesmo limiar do alerta de segmento (0,5) aplicado ao F2 global fica quieto; no segmento, dispara
    assert worst["value"] < 0.5 < global_f2["value"]
    assert prom.query(f'model_window_f2_score{{version="{version}"}} < 0.5') == []
    assert prom.query("model_segment_f2_score < 0.5")


def test_rules_loaded_and_doctor_is_happy(scraped):
    assert {r["nome"] for r in prom.rules()} == set(_rules())
    findings = {f["verificacao"]: f for f in doctor.run(quiet=True)}
    for name in ("API responde", "API saudável", "Prometheus no ar", "Alvo api-churn", "Pushgateway",
                 "Regras de alerta carregadas", "Alertmanager conectado", "Dados da API no Prometheus"):
        assert findings[name]["ok"] is True, findings[name]


def test_recording_rules_loaded_and_recorded(scraped):
    """As regras de gravação rodam no Prometheus ao vivo: cada série gravada tem valor."""
    recording = yaml.safe_load((settings.root / "monitoring/prometheus/recording_rules.yml").read_text())
    records = [r["record"] for g in recording["groups"] for r in g["rules"]]
    missing = [name for name in records if not prom.query(name)]
    assert not missing, f"séries gravadas sem valor: {missing}"
    # orçamento de séries (DESIGN §6): uma por regra e por job; a do P95 por endpoint, uma por rota
    recorded = prom.query('{__name__=~"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+"}')
    assert len(recorded) <= 30, f"{len(recorded)} séries gravadas: uma regra nova multiplicou as séries?"


def test_training_pushes_and_a_second_run_replaces(scraped, tmp_path):
    """Um treino empurra para o Pushgateway; o Prometheus guarda o job do treino (honor_labels); o segundo
    treino substitui o grupo em vez de duplicá-lo."""
    import platform

    query = 'batch_job_last_success_timestamp_seconds{job="churn-treino"}'
    before = prom.value(query) or 0.0
    model.train(models_dir=tmp_path)
    assert wait_until(lambda: (prom.value(query) or 0.0) > before, timeout=30), "o treino não chegou ao Prometheus"
    (series,) = prom.query(query)
    assert series["metric"]["job"] == "churn-treino", series["metric"]  # sem honor_labels seria "pushgateway"
    assert series["metric"]["instance"] == platform.node()
    assert "exported_job" not in series["metric"]
    first = series["value"]
    rows = prom.value('batch_job_rows{job="churn-treino"}')
    assert rows == 6000, rows  # as linhas do conjunto de treino
    model.train(models_dir=tmp_path)
    assert wait_until(lambda: (prom.value(query) or 0.0) > first, timeout=30), "o segundo treino não chegou"
    assert len(prom.query(query)) == 1, "o segundo treino duplicou a série em vez de substituí-la"
    assert [g["job"] for g in push.grouped()].count("churn-treino") == 1


def test_doctor_explains_a_dead_prometheus_and_a_dead_api():
    findings = doctor.check_prometheus("http://127.0.0.1:1")
    assert findings[0]["ok"] is False and "kit stack up" in findings[0]["como_corrigir"]
    findings = doctor.check_api("http://127.0.0.1:1")
    assert findings[0]["ok"] is False and "runner.start()" in findings[0]["como_corrigir"]
    findings = doctor.check_loopback_with_docker("compose", "127.0.0.1")
    assert findings[0]["ok"] is False and "0.0.0.0" in findings[0]["como_corrigir"]
    assert doctor.check_loopback_with_docker("compose", "0.0.0.0")[0]["ok"] is True


def test_injected_5xx_fire_the_error_rate_alert(scraped):
    api = scraped
    api.app.state.faults.error_rate = 1.0
    try:
        deadline = time.monotonic() + 90
        got = None
        while time.monotonic() < deadline and got is None:
            _load(api, n_ok=20, n_404=0)
            got = alerts.received("ApiHigh5xxRate", "firing") or None
            time.sleep(0.5)
    finally:
        api.app.state.faults.error_rate = 0.0
    assert got, "ApiHigh5xxRate não chegou ao receptor"
    assert "5xx" in got[-1]["resumo"] or "erro" in got[-1]["resumo"].lower()


def test_f2_alert_fires_on_labelled_batch_2_and_resolves_after_retraining(scraped, tmp_path):
    api = scraped
    result = model.evaluate("novos_2")  # o processo da API publica o F2 do lote rotulado
    assert result["f2"] < 0.7
    fired = alerts.wait_for("ModelF2Low", "firing", timeout=90)
    assert fired, "ModelF2Low não chegou ao receptor"
    assert fired["labels"]["dataset"] == "producao"
    # Um F2 de teste alto (o que um retreino publica) não resolve a queda vista em produção.
    meta = model.load(publish=False)[1]  # os metadados com a avaliação do lote 2
    assert meta["avaliacoes"][-1]["f2"] < 0.7
    resolved_before = len(alerts.received("ModelF2Low", "resolved"))
    metrics.publish_model({**meta, "f2": 0.95, "auc": 0.99})
    assert wait_until(lambda: prom.value('model_f2_score{dataset="teste"}') == 0.95, timeout=30)
    time.sleep(3)  # várias avaliações da regra (1 s no modo rápido) com o F2 de teste em 0,95
    assert [a["state"] for a in prom.alerts() if a["labels"]["alertname"] == "ModelF2Low"] == ["firing"]
    assert len(alerts.received("ModelF2Low", "resolved")) == resolved_before, "um F2 de teste resolveu o alerta de produção"
    model.retrain("novos_2")
    api.app.state.service.reload()
    # a v2 ainda não foi avaliada em produção: a série "producao" some (não vira o F2 do teste)
    assert wait_until(lambda: prom.value('model_f2_score{dataset="producao"}') is None, timeout=30)
    assert (prom.value('model_f2_score{dataset="teste"}') or 0) >= 0.7
    resolved = alerts.wait_for("ModelF2Low", "resolved", timeout=90)
    assert resolved, "ModelF2Low não foi resolvido depois do retreino"
    assert prom.value('model_version_info{version="v2"}') == 1


def test_api_down_alert_reaches_the_receiver(scraped, live_stack):
    api = scraped
    runner.stop(api.port)
    stopped = time.monotonic()
    got = alerts.wait_for("ApiDown", "firing", timeout=120)
    elapsed = time.monotonic() - stopped
    assert got, "ApiDown não chegou ao receptor"
    assert got["severidade"] == "critical"
    print(f"\n[medida] API parada → alerta ApiDown no receptor (modo rápido): {elapsed:.1f} s")
    # a API volta (o resto da sessão pode precisar dela)
    runner.start(port=api.port)


def test_a_lesson_keeps_a_stack_it_did_not_start(live_stack, capsys):
    """`make lab` sobe a stack antes das aulas; o course.finish() de uma aula não pode derrubá-la."""
    from kit import course

    _, state = live_stack
    session = course.start(stack_up=True, fast=True)
    assert session.prometheus and session.mode == "native"
    course.finish()
    _bring_back(live_stack)
    assert "continua no ar" in capsys.readouterr().out
    assert all(_process.alive(pid) for pid in state["pids"].values())
    assert prom.available()
    assert stack.up(mode="native", fast=True, quiet=True)["already_running"] is True


def _bring_back(live_stack) -> None:
    """Os testes que derrubam a stack ou a API (course.finish() para as APIs do processo) as devolvem no ar para
    os testes seguintes deste arquivo (a fixture live_stack confere tudo só no começo de cada arquivo) — com a
    mesma app, para as falhas injetadas valerem."""
    api, state = live_stack
    if not prom.available():
        state.clear()
        state.update(stack.up(mode="native", fast=True, quiet=True))
    runner.start(port=api.port, app=api.app)


def test_up_is_idempotent_and_down_stops_everything(live_stack):
    _, state = live_stack
    again = stack.up(mode="native", fast=True, quiet=True)
    assert again["pids"] == state["pids"]
    stack.down(quiet=True)
    try:
        assert not any(_process.alive(pid) for pid in state["pids"].values())
        assert not prom.available()
        assert not stack.STATE_FILE.exists()
        from pathlib import Path

        assert not Path(state["run_dir"]).exists()
    finally:
        _bring_back(live_stack)


def test_a_lesson_stops_the_stack_it_started(live_stack, capsys):
    from kit import course

    stack.down(quiet=True)  # garante: nada no ar antes da aula
    session = course.start(stack_up=True, fast=True)
    assert session.prometheus
    pids = stack._read_state()["pids"]
    course.finish()
    try:
        assert "a stack que esta aula subiu" in capsys.readouterr().out
        assert not any(_process.alive(pid) for pid in pids.values())
        assert not prom.available()
    finally:
        _bring_back(live_stack)

