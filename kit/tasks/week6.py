"""Semana 6 — as conferências das tarefas "Sua vez": um cenário de carga, o SLO em PromQL e um teste de integração.

    from kit import tasks
    pico = tasks.week6.load_scenario(meu_cenario, aula.api.url)             # 6.1
    p95, taxa_5xx = tasks.week6.slo_queries(consulta_slo_p95, consulta_slo_5xx, aula)  # 6.2
    teste_integracao = tasks.week6.integration_test(teste_api, aula.api)    # 6.3

6.1 roda o SEU cenário contra a API da aula e confere, nos contadores da própria API
(`api_requests_total` do /metrics, por status), que ele fez o tráfego que diz ter feito.
6.2 roda as SUAS consultas no Prometheus da aula e compara com as consultas de referência no mesmo
instante e na mesma janela. Sem Prometheus, diz o que não deu para conferir — nunca levanta exceção.
6.3 roda o SEU teste contra a API da aula: ele tem de passar com ela saudável e FALHAR (num assert) com
cada uma de três quebras injetadas nela — e a API volta ao estado de antes, aconteça o que acontecer.
"""
from __future__ import annotations

import dis
import math
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from kit import load, prom
from kit.config import settings
from kit.tasks import Outcome, Unsolved, _describe, _is_unsolved, outcomes, run_task

ROUTE = "/churn/{id_cliente}"
MIN_REQUESTS, MIN_WORKERS = 50, 5

# 6.2: a janela que a conferência troca pela desta aula (aula.window()).
WINDOW_TOKEN = "$janela"
_ROUTE_FILTER = f'endpoint="{ROUTE}"'
REFERENCE_P95 = (f"histogram_quantile(0.95, sum by (le) "
                 f"(rate(api_request_duration_seconds_bucket{{{_ROUTE_FILTER}}}[$janela])))")
REFERENCE_5XX = (f'sum(rate(api_requests_total{{{_ROUTE_FILTER}, status_code=~"5.."}}[$janela]))'
                 f" / sum(rate(api_requests_total{{{_ROUTE_FILTER}}}[$janela]))")
# Erros comuns → a dica certa (a consulta do aluno dá o mesmo número que a variante errada).
_P95_SLIPS = (
    ("histogram_quantile(0.95, sum by (le) (rate(api_request_duration_seconds_bucket[$janela])))",
     f"o seu P95 mistura todas as rotas (inclusive as coletas do /metrics, rápidas): filtre {_ROUTE_FILTER}."),
    (f"histogram_quantile(0.5, sum by (le) (rate(api_request_duration_seconds_bucket{{{_ROUTE_FILTER}}}[$janela])))",
     "esse é o P50 (a mediana): o P95 é histogram_quantile(0.95, ...)."),
)
_5XX_SLIPS = (
    (f'sum(rate(api_requests_total{{{_ROUTE_FILTER}, status_code=~"[45].."}}[$janela]))'
     f" / sum(rate(api_requests_total{{{_ROUTE_FILTER}}}[$janela]))",
     "o numerador conta também os 4xx: o 404 de um cliente desconhecido é resposta normal; só 5xx (status_code=~\"5..\")."),
    ('sum(rate(api_requests_total{status_code=~"5.."}[$janela])) / sum(rate(api_requests_total[$janela]))',
     f"a sua razão usa todas as rotas (o /metrics entra no denominador): filtre {_ROUTE_FILTER} em cima e embaixo."),
    (f'sum(rate(api_requests_total{{{_ROUTE_FILTER}, status_code=~"5.."}}[$janela]))',
     "isso é a taxa de 5xx por segundo; o SLO pede a FRAÇÃO: divida pelo total de requisições da rota."),
)


# --- 6.1 o cenário de carga ------------------------------------------------------------------------
def route_counts(url: str) -> dict[str, float]:
    """`api_requests_total` da rota /churn/{id_cliente}, por status_code, lido do /metrics da API."""
    counts: dict[str, float] = {}
    text = httpx.get(f"{url.rstrip('/')}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "api_requests_total" and sample.labels.get("endpoint") == ROUTE:
                status = sample.labels.get("status_code", "?")
                counts[status] = counts.get(status, 0.0) + sample.value
    return counts


@dataclass
class _Run:
    result: object                 # o que o cenário do aluno devolveu (LoadResult ou dict)
    seen: dict[str, float]         # o que os contadores da API registraram durante o cenário, por status


def _claim(result) -> tuple[int, int, int | None]:
    """(requisições, 404, workers) que o cenário diz ter feito: um LoadResult ou um dict."""
    if isinstance(result, load.LoadResult):
        return result.requests, result.status_counts.get(404, 0), result.workers
    if isinstance(result, dict):
        workers = result.get("workers")
        return int(result["requisicoes"]), int(result["status_404"]), None if workers is None else int(workers)
    raise TypeError(f"devolva o LoadResult de load.run ou um dict, não {type(result).__name__}")


def _judge_scenario(run: _Run) -> str | None:
    requests, not_found, workers = _claim(run.result)
    seen_total = round(sum(run.seen.values()))
    seen_404 = round(run.seen.get("404", 0))
    if seen_total == 0:
        return (f"nenhuma requisição do seu cenário chegou à rota {ROUTE} (os contadores da API não mudaram). "
                "Use o `url` que a função recebe e a rota /churn/<id>.")
    if seen_total != requests:
        return (f"o seu cenário diz {requests} requisições, mas os contadores da API registraram {seen_total} em "
                f"{ROUTE}. Devolva o resultado da carga que você rodou (o LoadResult de load.run, ou as suas "
                "contagens), não um número escrito à mão.")
    if seen_404 != not_found:
        return (f"o seu cenário diz {not_found} respostas 404, mas a API contou {seen_404}. Conte os 404 das "
                "respostas que você recebeu.")
    if requests < MIN_REQUESTS:
        return f"um pico precisa de pelo menos {MIN_REQUESTS} requisições (o seu fez {requests}): aumente requests."
    if workers is not None and workers < MIN_WORKERS:
        return f"um pico tem clientes simultâneos: use pelo menos {MIN_WORKERS} workers (o seu usou {workers})."
    if seen_404 == 0:
        return ("o pico não teve nenhum id desconhecido (nenhum 404): um pico real tem erros de digitação — "
                "use unknown_share entre 0.05 e 0.2.")
    return None


def reference_scenario(url: str):
    """O cenário de referência: 80 requisições, 10 clientes simultâneos, 15 % de ids desconhecidos."""
    return load.run(url, requests=80, workers=10, unknown_share=0.15, progress=False)


def load_scenario(scenario, url: str):
    """6.1 — roda `scenario(url)` e confere, nos contadores da API, o tráfego que ele diz ter feito."""
    def attempt():
        if scenario is None:
            return None
        before = route_counts(url)
        result = scenario(url)
        if _is_unsolved(result):
            return None
        after = route_counts(url)
        return _Run(result, {s: after.get(s, 0.0) - before.get(s, 0.0) for s in after})

    run = run_task("6.1", "um cenário de carga", attempt, _judge_scenario, lambda: _Run(reference_scenario(url), {}),
                   todo_hint="Escreva o corpo de meu_cenario(url): rode a carga e devolva o resultado.")
    if run.seen:
        by_status = ", ".join(f"{status}: {n:.0f}" for status, n in sorted(run.seen.items()) if n)
        print(f"  A API contou {sum(run.seen.values()):.0f} requisições em {ROUTE} durante o seu cenário ({by_status}).")
    return run.result


# --- 6.2 o SLO em PromQL ------------------------------------------------------------------------------
def _evaluate(expr: str, window: str, at: float) -> list[dict]:
    return prom.query(expr.replace(WINDOW_TOKEN, window), at=at)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _judge_query(name: str, expr, reference: str, slips, window: str, at: float) -> str | None:
    if _is_unsolved(expr):
        return f"falta {name}: escreva as duas consultas."
    if not isinstance(expr, str):
        return f"{name} deve ser um texto com a consulta PromQL (recebi {type(expr).__name__})."
    if WINDOW_TOKEN not in expr:
        return (f"{name} não usa a janela {WINDOW_TOKEN}: escreva rate(...[{WINDOW_TOKEN}]) — a conferência troca "
                f"{WINDOW_TOKEN} pela janela desta aula ({window}), como o Grafana troca $__rate_interval.")
    try:
        result = _evaluate(expr, window, at)
    except prom.ConsultaInvalida as exc:
        return f"o Prometheus recusou {name}: {exc}"
    except prom.PrometheusIndisponivel as exc:
        return f"não consegui rodar {name}: {exc}"
    if not result:
        return (f"{name} não devolveu nenhuma série: confira os nomes das métricas (api_request_duration_seconds_bucket, "
                f"api_requests_total) e o filtro {_ROUTE_FILTER}.")
    if len(result) > 1:
        return (f"{name} devolveu {len(result)} séries; o SLO é um número só: agregue (sum by (le) dentro do "
                "histogram_quantile; sum(...) no numerador e no denominador).")
    mine, expected = result[0]["value"], _evaluate(reference, window, at)[0]["value"]
    if _same(mine, expected):
        return None
    for slip, hint in slips:
        found = _evaluate(slip, window, at)
        if found and _same(mine, found[0]["value"]):
            return f"{name}: {hint}"
    return (f"{name} deu {mine:.4g}, a consulta de referência dá {expected:.4g} (mesmo instante, mesma janela). "
            f"Confira a rota ({_ROUTE_FILTER}), a agregação e, na razão, só 5xx em cima.")


def _values(queries: tuple[str, str], window: str, at: float) -> tuple[float, float]:
    p95, ratio = (_evaluate(q, window, at) for q in queries)
    return p95[0]["value"], ratio[0]["value"]


def slo_queries(p95_query, ratio_query, aula) -> tuple[float | None, float | None]:
    """6.2 — as SUAS consultas do P95 e da fração de 5xx no Prometheus da aula, comparadas com as de referência.

    Devolve (p95_s, fracao_5xx) das suas consultas (ou das de referência, se as suas ainda não valem);
    (None, None) sem Prometheus.
    """
    title = "o SLO em PromQL"
    unsolved = _is_unsolved(p95_query) and _is_unsolved(ratio_query)
    if not aula.prometheus and not unsolved:
        message = (f"⚠ Sua vez 6.2 ({title}): não conferida — sem Prometheus nesta máquina, as consultas não rodam. "
                   "Instale com `sudo apt-get install prometheus prometheus-alertmanager` (ou `docker compose up -d`) "
                   "e rode a aula de novo.")
        outcomes["6.2"] = Outcome("6.2", "todo", message)
        print(message)
        return None, None
    window, at = aula.window(), time.time()

    def attempt():
        if unsolved:
            raise Unsolved()
        return p95_query, ratio_query

    def judge(queries):
        return (_judge_query("consulta_slo_p95", queries[0], REFERENCE_P95, _P95_SLIPS, window, at)
                or _judge_query("consulta_slo_5xx", queries[1], REFERENCE_5XX, _5XX_SLIPS, window, at))

    chosen = run_task("6.2", title, attempt, judge, lambda: (REFERENCE_P95, REFERENCE_5XX),
                      todo_hint=f"Escreva consulta_slo_p95 e consulta_slo_5xx com a janela {WINDOW_TOKEN}.")
    if not aula.prometheus:
        return None, None
    try:
        return _values(chosen, window, at)
    except (prom.PrometheusIndisponivel, prom.ConsultaInvalida, IndexError) as exc:  # sem tráfego na janela...
        print(f"Não consegui calcular o P95 e a fração de 5xx agora ({type(exc).__name__}): há tráfego desta aula "
              "na rota /churn/{id_cliente}? Rode as células de carga acima e esta de novo.")
        return None, None


# --- 6.3 um teste de integração ----------------------------------------------------------------------
def reference_test(url: str) -> None:
    """O teste de integração de referência (o mesmo da aula): saúde, um cliente conhecido, ids ruins."""
    with httpx.Client(base_url=url, timeout=10) as client:
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text
        answer = client.get(f"/churn/{load.known_ids()[0]}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert 0 <= body["risco"] <= 1, body
        expected = ("alto" if body["risco"] >= settings.risk_high else
                    "medio" if body["risco"] >= settings.risk_medium else "baixo")
        assert body["nivel"] == expected, body
        unknown = client.get("/churn/1")
        assert unknown.status_code == 404 and "não está no lote" in unknown.json()["mensagem"], unknown.text
        malformed = client.get("/churn/abc")
        assert malformed.status_code == 422, malformed.text


class _InventsUnknown(dict):
    """As predições de uma API que "inventa" risco 0 para quem não está no lote (em vez do 404)."""

    def get(self, key, default=None):
        return super().get(key, (0.0, "baixo"))


def _answer_500(app) -> None:
    app.state.faults.error_rate = 1.0


def _swap_levels(app) -> None:
    rotated = {"baixo": "alto", "medio": "baixo", "alto": "medio"}
    service = app.state.service
    service.predictions = {i: (risk, rotated[level]) for i, (risk, level) in service.predictions.items()}


def _invent_unknown(app) -> None:
    app.state.service.predictions = _InventsUnknown(app.state.service.predictions)


# (o que quebrou, como quebrar, o que o teste deveria ter conferido)
BREAKAGES = (
    ("/churn/{id_cliente} respondendo 500 a toda requisição", _answer_500,
     "confira o status de /churn/{id} de um cliente conhecido (assert resposta.status_code == 200, resposta.text)."),
    ("os níveis trocados: clientes de risco baixo saindo como alto, e vice-versa", _swap_levels,
     f"confira que o nível bate com o risco: baixo < {settings.risk_medium:g} ≤ medio < {settings.risk_high:g} ≤ alto "
     "(settings.risk_medium e settings.risk_high)."),
    ("um id desconhecido respondendo 200 com um risco inventado", _invent_unknown,
     "confira que um id que não existe (ex.: /churn/1) recebe 404."),
)


@contextmanager
def _api_state(app, breakage=None):
    """A API sem falhas (ou com `breakage` aplicada) durante o bloco; depois, exatamente como estava."""
    faults, service = app.state.faults, app.state.service
    saved = faults.latency_s, faults.error_rate, service.predictions
    try:
        faults.latency_s, faults.error_rate = 0.0, 0.0
        if breakage is not None:
            breakage(app)
        yield
    finally:
        faults.latency_s, faults.error_rate, service.predictions = saved


def _failure(test, url: str) -> BaseException | None:
    """Roda o teste do aluno como o pytest: None se passou, senão o que ele levantou."""
    try:
        test(url)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # AssertionError, mas também pytest.fail, sys.exit, KeyError...
        return error
    return None


def _where(error: BaseException, test) -> str:
    """A linha do teste do aluno onde ele falhou (ex.: `assert r.status_code == 400`), quando dá para achar."""
    code = getattr(test, "__code__", None)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if code and f.filename == code.co_filename]
    return f" na linha `{frames[-1].line}`" if frames and frames[-1].line else ""


def _does_nothing(test) -> bool:
    """O esboço da cópia do aluno (só docstring e `...`): o código compilado só devolve uma constante."""
    code = getattr(test, "__code__", None)
    idle = {"RESUME", "NOP", "LOAD_CONST", "POP_TOP", "RETURN_VALUE", "RETURN_CONST"}
    return code is not None and all(op.opname in idle for op in dis.get_instructions(code))


def _judge_test(test, api) -> str | None:
    if not callable(test):
        return f"teste_api deve ser uma função `def teste_api(url): ...` (recebi {type(test).__name__})."
    with _api_state(api.app):
        error = _failure(test, api.url)
    if error is not None:
        return (f"o seu teste falhou com a API saudável{_where(error, test)} ({_describe(error)}). Um teste de "
                "integração passa quando a API está certa: confira o status e os campos que a API devolve de verdade.")
    for what, breakage, hint in BREAKAGES:
        with _api_state(api.app, breakage):
            error = _failure(test, api.url)
        if error is None:
            return f"o seu teste passou com a API quebrada ({what}): {hint}"
        if not isinstance(error, AssertionError):
            return (f"com a API quebrada ({what}) o seu teste parou com {_describe(error)}{_where(error, test)}, "
                    "não num assert: confira o status antes de ler o corpo (assert resposta.status_code == 200, "
                    "resposta.text) — assim a falha diz o que aconteceu.")
    return None


def integration_test(test, api):
    """6.3 — roda `test(url)` contra a API da aula saudável (tem de passar) e com cada quebra de BREAKAGES
    (tem de falhar num assert). Devolve o teste que a aula usa dali em diante: o seu, ou o de referência."""
    def attempt():
        if test is None or _does_nothing(test):
            raise Unsolved()
        return test

    chosen = run_task("6.3", "um teste de integração", attempt, lambda t: _judge_test(t, api),
                      lambda: reference_test, todo_hint="Escreva o corpo de teste_api(url) com asserts sobre a API.")
    if outcomes["6.3"].status == "ok":
        print(f"  O seu teste passou com a API saudável e falhou nas {len(BREAKAGES)} quebras injetadas: "
              + "; ".join(what for what, _, _ in BREAKAGES) + ". A API voltou ao normal.")
    return chosen
