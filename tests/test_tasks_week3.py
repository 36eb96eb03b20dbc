"""Sua vez da semana 3: a referência passa, o esboço intocado fica "ainda não resolvida", respostas erradas plausíveis
ganham a dica certa — contra um CollectorRegistry raspado, um app FastAPI com requisições de verdade e um
Prometheus real (com o tráfego gravado de exercises/dados/ex06_metricas.om: nenhum Prometheus da aula no ar aqui)."""

import time
from typing import Literal

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from kit import instrumentation, metrics, prom, tasks
from kit.tasks import week3
from tests._tools import free_port, require_binary


def _outcome(capsys, task):
    out = capsys.readouterr().out
    return tasks.outcomes[task].status, out


# --- 3.1 ---------------------------------------------------------------------------------------------------
def _metrics_answer(kind):
    """(registro_tarefa, consultas, duracao) como o aluno deixaria a célula da 3.1."""
    registry, elsewhere = CollectorRegistry(), CollectorRegistry()
    if kind == "todo":
        return registry, None, None
    target = elsewhere if kind == "global" else registry  # "global": esqueceu o registry=registro_tarefa
    if kind == "gauge":
        counter = Gauge("consultas_risco", "doc", ["canal"], registry=target)
    else:
        counter = Counter("consultas_risco_total", "doc", ["pais"] if kind == "wrong_labels" else ["canal"],
                          registry=target)
    if kind == "no_histogram":
        return registry, counter, None
    histogram = Histogram("consulta_risco_ms" if kind == "ms" else "consulta_risco_seconds", "doc", registry=target)
    return registry, counter, histogram


@pytest.mark.parametrize("kind, status, hint", [
    ("reference", "ok", "certo!"),
    ("todo", "todo", "ainda não resolvida"),
    ("wrong_labels", "wrong", 'um rótulo só, canal: ["canal"]'),
    ("gauge", "wrong", "consultas deve ser um Counter do prometheus_client"),
    ("global", "wrong", "crie a métrica com registry=registro_tarefa"),
    ("no_histogram", "wrong", "falta o Histogram"),
    ("ms", "wrong", "o nome diz a unidade: _seconds"),
])
def test_metrics_task(capsys, kind, status, hint):
    registry, counter, histogram = _metrics_answer(kind)
    result = week3.metrics(registry, counter, histogram)
    got, out = _outcome(capsys, "3.1")
    assert (got, hint in out) == (status, True), out
    registro, consultas, duracao = result  # a aula continua com isto, certo ou errado
    assert isinstance(consultas, Counter) and isinstance(duracao, Histogram)
    assert (registro is registry) == (status == "ok")


# --- 3.2 ---------------------------------------------------------------------------------------------------
def _app_factory(kind):
    def criar_app(consultas, duracao):
        if kind == "todo":
            return None
        app = FastAPI()
        canal_type = str if kind == "free_label" else Literal["app", "agencia", "telefone"]

        @app.get("/churn/{id_cliente}" if kind == "wrong_path" else "/risco/{id_cliente}")
        def risco(id_cliente: int, canal: canal_type = "app"):
            inicio = time.perf_counter()
            if kind == "id_label":
                consultas.labels(id_cliente=id_cliente).inc()
            elif kind == "constant_label":
                consultas.labels(canal="app").inc()
            elif kind != "no_count":
                consultas.labels(canal=canal).inc()
            if kind != "no_observe":
                duracao.observe(time.perf_counter() - inicio)
            return {"id_cliente": id_cliente}

        return app
    return criar_app


@pytest.mark.parametrize("kind, status, hint", [
    ("reference", "ok", "certo!"),
    ("todo", "todo", "ainda não resolvida"),
    ("no_count", "wrong", "o contador não subiu"),
    ("id_label", "wrong", "levantou ValueError"),
    ("constant_label", "wrong", "com o canal que veio nela"),
    ("free_label", "wrong", "um rótulo com valores livres multiplica as séries"),
    ("wrong_path", "wrong", "respondeu 404"),
    ("no_observe", "wrong", "o histograma recebeu 0 observações"),
])
def test_route_task(capsys, kind, status, hint):
    registry, consultas, duracao = week3._new_metrics()
    app = week3.route(_app_factory(kind), consultas, duracao)
    got, out = _outcome(capsys, "3.2")
    assert (got, hint in out) == (status, True), out
    # o app devolvido (o do aluno ou o de referência) conta nas métricas da aula, não nas da conferência
    from fastapi.testclient import TestClient
    with TestClient(app) as client:
        assert client.get("/risco/10112517", params={"canal": "telefone"}).status_code == 200
    assert registry.get_sample_value("consultas_risco_total", {"canal": "telefone"}) == 1


def test_reference_app_is_what_the_lesson_solution_does(capsys):
    """A referência de 3.2 passa na própria conferência (nenhuma dica a inventa)."""
    week3.route(week3.reference_app, *week3._new_metrics()[1:])
    assert tasks.outcomes["3.2"].status == "ok", capsys.readouterr().out


# --- 3.3 ---------------------------------------------------------------------------------------------------
RATE, P95 = week3.REFERENCE_RATE, week3.REFERENCE_P95


@pytest.fixture
def no_lesson_prometheus(monkeypatch):
    """A aula sem Prometheus: o endereço dela aponta para uma porta sem ninguém. (A stack de sessão dos testes
    ao vivo — tests/conftest.py, live_stack — pode estar no ar neste processo do xdist, na porta da aula.)"""
    from kit.config import settings

    monkeypatch.setattr(settings, "prometheus_url", f"http://127.0.0.1:{free_port()}")
    assert not prom.available()


@pytest.fixture
def recorded_prometheus(no_lesson_prometheus):
    require_binary("prometheus", "apt-get install prometheus")
    require_binary("promtool", "apt-get install prometheus")


@pytest.mark.parametrize("rate, p95, status, hint", [
    (RATE, P95, "ok", "certo!"),
    (None, None, "todo", "ainda não resolvida"),
    ("rate(api_requests_total[1m])", P95, "wrong", "some por rota com sum by (endpoint)"),
    ("sum(rate(api_requests_total[1m]))", P95, "wrong", "perdeu o rótulo endpoint"),
    ("sum by (endpoint) (api_requests_total)", P95, "wrong", "use rate(...[1m]) no counter"),
    ("sum by (endpoint) (rate(api_requests_total[5m]))", P95, "wrong", "use a janela pedida, [1m]"),
    (RATE, "histogram_quantile(0.95, rate(api_request_duration_seconds_bucket[1m]))", "wrong",
     "some os buckets mantendo só le"),
    (RATE, P95.replace("0.95", "0.5"), "wrong", "o P95 é o quantil 0.95"),
    (RATE, "histogram_quantile(0.95, sum by (le) (api_request_duration_seconds_bucket))", "wrong",
     "use rate(...[1m]) nos buckets"),
    (RATE, P95[:-1], "wrong", "O Prometheus recusou a consulta"),
    (RATE, 0.95, "wrong", "p95_api deve ser o texto da consulta PromQL"),
])
def test_promql_task(capsys, recorded_prometheus, rate, p95, status, hint):
    result = week3.promql(rate, p95)
    got, out = _outcome(capsys, "3.3")
    assert (got, hint in out) == (status, True), out
    assert result == ((rate, p95) if status == "ok" else (RATE, P95))
    if status == "wrong":
        assert "conferido com o tráfego gravado" in out or "recusou" in out or "deve ser o texto" in out


def test_promql_without_any_prometheus_says_not_checked(capsys, monkeypatch, no_lesson_prometheus):
    monkeypatch.setattr(week3, "RECORDED", week3.RECORDED.with_name("nao_existe.om"))
    assert week3.promql(RATE, P95) == (RATE, P95)
    out = capsys.readouterr().out
    assert tasks.outcomes["3.3"].status == "todo" and "⚠ Sua vez 3.3" in out and "não conferido" in out


# --- item 5: a instrumentação da API é prometheus_client puro, num módulo público ------------------------
def test_api_metrics_are_the_plain_prometheus_client_objects_of_kit_instrumentation():
    assert metrics.api_requests_total is instrumentation.api_requests_total
    assert metrics.api_request_duration_seconds is instrumentation.api_request_duration_seconds
    assert type(instrumentation.api_requests_total) is Counter
    assert type(instrumentation.api_request_duration_seconds) is Histogram
    labels = {"method": "GET", "endpoint": "/teste-instrumentacao"}
    before = REGISTRY.get_sample_value("api_errors_total", {**labels, "status_code": "404"}) or 0
    instrumentation.record_request("GET", "/teste-instrumentacao", "404", 0.3)
    assert REGISTRY.get_sample_value("api_requests_total", {**labels, "status_code": "404"}) == 1
    assert REGISTRY.get_sample_value("api_request_duration_seconds_bucket", {**labels, "le": "0.5"}) == 1
    assert REGISTRY.get_sample_value("api_errors_total", {**labels, "status_code": "404"}) == before + 1
    instrumentation.record_request("GET", "/teste-instrumentacao", "200", 0.01)
    assert REGISTRY.get_sample_value("api_errors_total", {**labels, "status_code": "200"}) is None


def test_the_lesson_promql_solution_is_the_kit_reference():
    import nbformat

    from kit.config import settings

    nb = nbformat.read(settings.root / "notebooks" / "03_metricas_prometheus.ipynb", as_version=4)
    answers = {}
    exec(next(c.source for c in nb.cells if "sua-vez" in c.metadata.get("tags", []) and "p95_api" in c.source), {}, answers)
    assert (answers["taxa_por_rota"], answers["p95_api"]) == (RATE, P95)
