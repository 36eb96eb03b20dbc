"""Semana 6 — as conferências das tarefas "Sua vez": um cenário de carga e o SLO em PromQL.

    from kit import tasks
    pico = tasks.week6.load_scenario(meu_cenario, aula.api.url)             # 6.1
    p95, taxa_5xx = tasks.week6.slo_queries(consulta_slo_p95, consulta_slo_5xx, aula)  # 6.2

6.1 roda o SEU cenário contra a API da aula e confere, nos contadores da própria API
(`api_requests_total` do /metrics, por status), que ele fez o tráfego que diz ter feito.
6.2 roda as SUAS consultas no Prometheus da aula e compara com as consultas de referência no mesmo
instante e na mesma janela. Sem Prometheus, diz o que não deu para conferir — nunca levanta exceção.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from kit import load, prom
from kit.tasks import Outcome, Unsolved, _is_unsolved, outcomes, run_task

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
