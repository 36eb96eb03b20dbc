"""Sua vez da semana 6: cada tarefa com a referência (✔), o esboço intocado (⏳) e erros plausíveis (✘ + dica).

6.1 roda contra a API real (os contadores do /metrics dela); 6.2 contra um Prometheus real que raspou
tráfego de verdade (latência e 5xx injetados na rota /churn/{id_cliente}, 404 de ids desconhecidos).
"""
from __future__ import annotations

import time

import httpx
import pytest

from kit import course, load, tasks
from kit.tasks import week6


# --- 6.1 o cenário de carga ---------------------------------------------------------------------------
def _reference(url):
    return load.run(url, requests=80, workers=10, unknown_share=0.15, progress=False)


def _plain_httpx(url):
    """O mesmo pico escrito à mão com httpx: devolve as contagens que recebeu."""
    ids, _ = load.draw_ids(60, load.known_ids(), unknown_share=0.1)
    with httpx.Client(base_url=url) as client:
        status = [client.get(f"/churn/{i}").status_code for i in ids]
    return {"requisicoes": len(status), "status_404": status.count(404)}


def _runs_20_claims_60(url):
    result = load.run(url, requests=20, workers=5, progress=False)
    return {"requisicoes": 60, "status_404": result.status_counts.get(404, 0)}


def _hits_health(url):
    with httpx.Client(base_url=url) as client:
        for _ in range(60):
            client.get("/health")
    return {"requisicoes": 60, "status_404": 6}


def _stub(url):
    ...


@pytest.mark.parametrize("scenario, status, shown", [
    (_reference, "ok", "✔ Sua vez 6.1"),
    (_plain_httpx, "ok", "✔ Sua vez 6.1"),
    (None, "todo", "ainda não resolvida"),
    (_stub, "todo", "ainda não resolvida"),
    (_runs_20_claims_60, "wrong", "o seu cenário diz 60 requisições, mas os contadores da API registraram 20"),
    (_hits_health, "wrong", "nenhuma requisição do seu cenário chegou à rota"),
    (lambda url: load.run(url, requests=20, workers=5, progress=False), "wrong", "pelo menos 50 requisições"),
    (lambda url: load.run(url, requests=50, workers=2, progress=False), "wrong", "pelo menos 5 workers"),
    (lambda url: load.run(url, requests=50, workers=5, unknown_share=0, progress=False), "wrong",
     "nenhum id desconhecido"),
    (lambda url: 1 / 0, "wrong", "o seu código levantou ZeroDivisionError"),
])
def test_load_scenario(module_api, capsys, scenario, status, shown):
    value = week6.load_scenario(scenario, module_api.url)
    out = capsys.readouterr().out
    assert tasks.outcomes["6.1"].status == status, out
    assert shown in out
    assert isinstance(value, (load.LoadResult, dict))  # a aula sempre continua com um resultado de carga
    if status == "ok":
        assert "A API contou" in out
    else:  # a referência rodou de verdade
        assert isinstance(value, load.LoadResult) and value.requests == 80


# --- 6.2 o SLO em PromQL ---------------------------------------------------------------------------------
ROUTE = '{endpoint="/churn/{id_cliente}"}'
BUCKETS = "api_request_duration_seconds_bucket"


@pytest.fixture(scope="module")
def lesson(live_stack):
    """Uma "aula" com tráfego raspado: rápido, lento (latência injetada), 5xx (falha injetada) e 404."""
    api, _ = live_stack
    started = time.time()
    assert course.wait_for_scrape(timeout=30), "o Prometheus não raspou a API"
    faults = api.app.state.faults
    # Cada série (200, 404, 500 e os buckets) precisa de uma coleta ANTES do tráfego medido: o rate() não conta o
    # que uma série nova já trazia na primeira amostra (numa stack recém-criada o P95 saía do tráfego rápido só).
    known = load.known_ids()[0]
    with httpx.Client(base_url=api.url) as client:
        assert client.get(f"/churn/{known}").status_code == 200
        assert client.get("/churn/999999999").status_code == 404
        faults.error_rate = 1.0
        try:
            assert client.get(f"/churn/{known}").status_code == 500
        finally:
            faults.error_rate = 0.0
    assert course.wait_for_scrape(timeout=30, after=time.time())
    load.run(api.url, requests=40, workers=5, progress=False)
    try:
        faults.latency_s = 0.15
        load.run(api.url, requests=30, workers=10, progress=False)
        faults.latency_s, faults.error_rate = 0.0, 0.3
        load.run(api.url, requests=40, workers=5, progress=False)
    finally:
        faults.latency_s, faults.error_rate = 0.0, 0.0
    assert course.wait_for_scrape(timeout=30, after=time.time())
    return course.Session(api=api, mode="native", prometheus=True, started_at=started)


P95_OK = week6.REFERENCE_P95
RATIO_OK = week6.REFERENCE_5XX


@pytest.mark.slow
@pytest.mark.parametrize("p95, ratio, status, shown", [
    (P95_OK, RATIO_OK, "ok", "✔ Sua vez 6.2"),
    # outra forma, mesmo número: increase no lugar de rate, 5xx escrito como "5.*"
    (f"histogram_quantile(0.95, sum by (le) (increase({BUCKETS}{ROUTE}[$janela])))",
     'sum(increase(api_requests_total{endpoint="/churn/{id_cliente}", status_code=~"5.*"}[$janela]))'
     ' / sum(increase(api_requests_total{endpoint="/churn/{id_cliente}"}[$janela]))', "ok", "✔ Sua vez 6.2"),
    (None, None, "todo", "ainda não resolvida"),
    (P95_OK.replace("$janela", "1m"), RATIO_OK, "wrong", "não usa a janela $janela"),
    (f"histogram_quantile(0.95, sum by (le) (rate({BUCKETS}[$janela])))", RATIO_OK, "wrong",
     "mistura todas as rotas"),
    (P95_OK.replace("0.95", "0.5"), RATIO_OK, "wrong", "esse é o P50"),
    (f"histogram_quantile(0.95, rate({BUCKETS}[$janela]))", RATIO_OK, "wrong", "devolveu"),
    (f"histogram_quantile(0.95, sum by (le) (rate({BUCKETS}{ROUTE}[$janela]))", RATIO_OK, "wrong",
     "o Prometheus recusou consulta_slo_p95"),
    (f"histogram_quantile(0.95, sum by (le) (rate(api_latencia_bucket{ROUTE}[$janela])))", RATIO_OK, "wrong",
     "não devolveu nenhuma série"),
    (P95_OK, None, "wrong", "falta consulta_slo_5xx"),
    (P95_OK, RATIO_OK.replace('"5.."', '"[45].."'), "wrong", "conta também os 4xx"),
    (P95_OK, 'sum(rate(api_requests_total{status_code=~"5.."}[$janela])) / sum(rate(api_requests_total[$janela]))',
     "wrong", "usa todas as rotas"),
    (P95_OK, RATIO_OK.split(" / ")[0], "wrong", "o SLO pede a FRAÇÃO"),
])
def test_slo_queries(lesson, capsys, p95, ratio, status, shown):
    value = week6.slo_queries(p95, ratio, lesson)
    out = capsys.readouterr().out
    assert tasks.outcomes["6.2"].status == status, out
    assert shown in out
    # a aula continua com números do Prometheus: os da referência (ou os seus, iguais a eles)
    p95_s, fraction = value
    assert 0.1 <= p95_s < 2.5 and 0 < fraction < 1, value


@pytest.mark.parametrize("p95, ratio, shown", [
    (P95_OK, RATIO_OK, "não conferida — sem Prometheus"),
    (None, None, "ainda não resolvida"),
])
def test_slo_queries_without_prometheus_says_what_it_could_not_check(capsys, p95, ratio, shown):
    offline = course.Session(api=None, mode="none", prometheus=False, started_at=time.time())
    assert week6.slo_queries(p95, ratio, offline) == (None, None)
    assert shown in capsys.readouterr().out
    assert tasks.outcomes["6.2"].status == "todo"


# --- 6.3 um teste de integração --------------------------------------------------------------------------
def _known(client):
    return client.get(f"/churn/{load.known_ids()[0]}")


def _only_health(url):
    assert httpx.get(f"{url}/health").status_code == 200


def _no_asserts(url):
    """Faz as requisições certas e não confere nada."""
    with httpx.Client(base_url=url) as client:
        client.get("/health"), _known(client), client.get("/churn/1")


def _status_only(url):
    """Confere os status, mas não que o nível bate com o risco."""
    with httpx.Client(base_url=url) as client:
        answer = _known(client)
        assert answer.status_code == 200 and 0 <= answer.json()["risco"] <= 1
        assert client.get("/churn/1").status_code == 404


def _known_only(url):
    """Confere o cliente conhecido, mas nunca um id desconhecido."""
    with httpx.Client(base_url=url) as client:
        answer = _known(client)
        assert answer.status_code == 200
        risk, level = answer.json()["risco"], answer.json()["nivel"]
        assert level == ("alto" if risk >= 0.7 else "medio" if risk >= 0.5 else "baixo")


def _wrong_status(url):
    week6.reference_test(url)
    assert httpx.get(f"{url}/churn/1").status_code == 400


def _reads_body_first(url):
    """Lê o corpo sem conferir o status: com a API quebrada, para num KeyError, não num assert."""
    with httpx.Client(base_url=url) as client:
        body = _known(client).json()
        level = "alto" if body["risco"] >= 0.7 else "medio" if body["risco"] >= 0.5 else "baixo"
        assert body["nivel"] == level
        assert client.get("/churn/1").status_code == 404


def _crashes(url):
    return 1 / 0


def _stub(url):
    """O esboço da cópia do aluno: só a docstring e o `...`."""
    ...


@pytest.mark.parametrize("test, status, shown", [
    (week6.reference_test, "ok", "falhou nas 3 quebras injetadas"),
    (None, "todo", "ainda não resolvida"),
    (_stub, "todo", "ainda não resolvida"),
    ("assert True", "wrong", "deve ser uma função"),
    (_only_health, "wrong", "passou com a API quebrada (/churn/{id_cliente} respondendo 500"),
    (_no_asserts, "wrong", "passou com a API quebrada (/churn/{id_cliente} respondendo 500"),
    (_status_only, "wrong", "passou com a API quebrada (os níveis trocados"),
    (_known_only, "wrong", "passou com a API quebrada (um id desconhecido respondendo 200"),
    (_wrong_status, "wrong", "falhou com a API saudável na linha `assert httpx.get(f\"{url}/churn/1\").status_code == 400`"),
    (_reads_body_first, "wrong", "parou com KeyError"),
    (_crashes, "wrong", "falhou com a API saudável na linha `return 1 / 0` (ZeroDivisionError"),
])
def test_integration_test(module_api, capsys, test, status, shown):
    state = module_api.app.state
    predictions = state.service.predictions
    state.faults.latency_s, state.faults.error_rate = 0.0, 0.25   # uma falha ligada antes: o teste roda sem ela
    try:
        value = week6.integration_test(test, module_api)
        out = capsys.readouterr().out
        assert tasks.outcomes["6.3"].status == status, out
        assert shown in out, out
        assert value is (test if status == "ok" else week6.reference_test)
        # a API voltou exatamente ao estado de antes, aconteça o que acontecer
        assert (state.faults.latency_s, state.faults.error_rate) == (0.0, 0.25)
        assert state.service.predictions is predictions
    finally:
        state.faults.error_rate = 0.0
