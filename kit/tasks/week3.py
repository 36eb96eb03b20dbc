"""As conferências das tarefas "Sua vez" da semana 3 (métricas com Prometheus).

    from kit import tasks
    registro, consultas, duracao = tasks.week3.metrics(registro_tarefa, consultas, duracao)   # 3.1
    app_tarefa = tasks.week3.route(criar_app, consultas, duracao)                                # 3.2
    taxa_por_rota, p95_api = tasks.week3.promql(taxa_por_rota, p95_api)                          # 3.3

Cada uma roda o seu código contra coisas reais — um CollectorRegistry raspado com generate_latest, o seu
app FastAPI recebendo requisições de verdade (TestClient), o Prometheus da aula (ou, sem ele, um Prometheus
com dados gravados) — mostra ✔, ✘ com a dica ou ⏳, e devolve com o que a aula continua.
"""
from __future__ import annotations

import re
import time
import warnings
from typing import Literal

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kit import prom, promlab
from kit.config import settings
from kit.tasks import _checks, _describe, outcomes, run_task

COUNTER, HISTOGRAM = "consultas_risco_total", "consulta_risco_seconds"
CANAIS = ("app", "agencia", "telefone")
# A requisição de teste de 3.2: (id_cliente, canal) — dois pelo app, um pela agência.
REQUESTS = ((10112517, "app"), (10112517, "app"), (20224455, "agencia"))
RECORDED = settings.root / "exercises" / "dados" / "ex06_metricas.om"  # tráfego gravado da API (sem stack)


def _families(registry: CollectorRegistry) -> dict:
    """O que um scrape desse registro leria, por nome de família."""
    return {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}


# --- 3.1 Counter e Histogram --------------------------------------------------------------------------
def _new_metrics() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    return (registry,
            Counter(COUNTER, "Consultas de risco, por canal.", ["canal"], registry=registry),
            Histogram(HISTOGRAM, "Tempo de cada consulta de risco.", registry=registry))


def _judge_metrics(registry, counter, histogram) -> str | None:
    if counter is None or histogram is None:
        falta = "o Counter (consultas)" if counter is None else "o Histogram (duracao)"
        return f"falta {falta}: escreva as duas linhas."
    if not isinstance(counter, Counter):
        return (f"consultas deve ser um Counter do prometheus_client (veio {type(counter).__name__}): "
                f'Counter("{COUNTER}", "…", ["canal"], registry=registro_tarefa).')
    if not isinstance(histogram, Histogram):
        return (f"duracao deve ser um Histogram do prometheus_client (veio {type(histogram).__name__}): "
                f'Histogram("{HISTOGRAM}", "…", registry=registro_tarefa).')
    if getattr(counter, "_labelvalues", ()):
        return "consultas deve ser o Counter em si, não um filho de .labels(...): tire o .labels() da criação."
    if counter._name != COUNTER.removesuffix("_total"):
        return f"o Counter deve se chamar {COUNTER} (o cliente põe _total no fim se você esquecer); veio {counter._name}."
    if tuple(counter._labelnames) != ("canal",):
        return f'o Counter tem um rótulo só, canal: ["canal"] (veio {list(counter._labelnames)}).'
    if histogram._name != HISTOGRAM:
        hint = " Durações vão em segundos, e o nome diz a unidade: _seconds." if not histogram._name.endswith(
            "_seconds") else ""
        return f"o Histogram deve se chamar {HISTOGRAM} (veio {histogram._name}).{hint}"
    if tuple(histogram._labelnames):
        return f"o Histogram desta tarefa não tem rótulos (veio {list(histogram._labelnames)}): tire o labelnames."
    families = _families(registry)
    for name, kind in ((COUNTER.removesuffix("_total"), "counter"), (HISTOGRAM, "histogram")):
        if name not in families or families[name].type != kind:
            return (f"o scrape de registro_tarefa não mostra {name}: crie a métrica com registry=registro_tarefa "
                    "(sem ele, ela vai para o registro global, o da API).")
    return None


def metrics(registry, counter, histogram):
    """Sua vez 3.1: um Counter e um Histogram num CollectorRegistry novo. Devolve (registro, counter, histogram)."""
    def attempt():
        if counter is None and histogram is None:
            return None
        return registry, counter, histogram

    return run_task("3.1", "Counter e Histogram", attempt, lambda value: _judge_metrics(*value), _new_metrics,
                    todo_hint="Crie as duas métricas com Counter(...) e Histogram(...) e rode a célula.")


# --- 3.2 uma rota instrumentada ----------------------------------------------------------------------
def reference_app(consultas: Counter, duracao: Histogram) -> FastAPI:
    """O app da solução de referência: GET /risco/{id_cliente}?canal=..., contado e medido."""
    app = FastAPI()

    @app.get("/risco/{id_cliente}")
    def risco(id_cliente: int, canal: Literal["app", "agencia", "telefone"] = "app"):
        inicio = time.perf_counter()
        consultas.labels(canal=canal).inc()
        resposta = {"id_cliente": id_cliente, "canal": canal, "risco": (id_cliente % 100) / 100}
        duracao.observe(time.perf_counter() - inicio)
        return resposta

    return app


def _judge_route(app, registry) -> str | None:
    from starlette.applications import Starlette

    with warnings.catch_warnings():  # o Starlette avisa (em inglês) que prefere o httpx2; com o httpx funciona igual
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    if not isinstance(app, Starlette):
        return f"criar_app deve devolver o app FastAPI (return app); devolveu {type(app).__name__}."
    with TestClient(app) as client:
        for id_cliente, canal in REQUESTS:
            try:
                response = client.get(f"/risco/{id_cliente}", params={"canal": canal})
            except Exception as error:  # a rota do aluno levantou: é a dica
                return (f"GET /risco/{id_cliente}?canal={canal} levantou {_describe(error)} dentro da rota. "
                        'O Counter tem o rótulo canal: consultas.labels(canal=canal).inc().')
            if response.status_code == 404:
                return ('GET /risco/10112517 respondeu 404: declare a rota com @app.get("/risco/{id_cliente}") '
                        "dentro de criar_app.")
            if response.status_code != 200:
                return f"GET /risco/{id_cliente}?canal={canal} respondeu {response.status_code}: {response.text[:200]}"
        livre = client.get("/risco/10112517", params={"canal": "canal-inventado"}).status_code
    families = _families(registry)
    counts = {s.labels.get("canal"): s.value for s in families["consultas_risco"].samples}
    expected = {}
    for _, canal in REQUESTS:
        expected[canal] = expected.get(canal, 0) + 1
    if not any(counts.values()):
        return ("o contador não subiu: dentro da rota, chame consultas.labels(canal=canal).inc() — e use o "
                "consultas que criar_app recebe, não outro.")
    if "canal-inventado" in counts:
        return ('canal="canal-inventado" virou uma série nova: um rótulo com valores livres multiplica as séries. '
                'Declare canal: Literal["app", "agencia", "telefone"] = "app" (o FastAPI responde 422 aos outros).')
    if counts != expected:
        return (f"depois de 2 consultas pelo app e 1 pela agência o contador mostra {counts}: conte 1 por "
                "requisição, com o canal que veio nela (consultas.labels(canal=canal).inc()).")
    if livre != 422:
        return f"GET /risco/10112517?canal=canal-inventado respondeu {livre}: restrinja canal com Literal[...]."
    samples = {s.name: s.value for s in families[HISTOGRAM].samples}
    observed = samples[f"{HISTOGRAM}_count"]
    if observed != len(REQUESTS):
        return (f"o histograma recebeu {observed:.0f} observações em {len(REQUESTS)} requisições: meça cada uma "
                "(time.perf_counter() no início e no fim) e chame duracao.observe(segundos) uma vez.")
    if not 0 < samples[f"{HISTOGRAM}_sum"] < 5:
        return (f"a soma das durações deu {samples[f'{HISTOGRAM}_sum']:.4g} s em 3 consultas instantâneas: observe "
                "time.perf_counter() - inicio, em segundos.")
    return None


def route(criar_app, consultas, duracao):
    """Sua vez 3.2: criar_app(consultas, duracao) devolve um FastAPI com GET /risco/{id_cliente} instrumentada.

    A conferência usa métricas novas (um registro só dela) e requisições de verdade; devolve o app montado com
    as SUAS métricas da 3.1 (ou o de referência), com o qual a aula continua.
    """
    registry, counter, histogram = _new_metrics()
    app = run_task("3.2", "uma rota instrumentada", lambda: criar_app(counter, histogram),
                   lambda app: _judge_route(app, registry), lambda: reference_app(consultas, duracao),
                   todo_hint="Escreva o corpo de criar_app e rode a célula.")
    if outcomes["3.2"].status == "ok":
        try:
            return criar_app(consultas, duracao)
        except Exception:  # conferido com outras métricas; com as da aula, se algo falhar, segue a referência
            return reference_app(consultas, duracao)
    return app


# --- 3.3 PromQL: taxa por rota e P95 ---------------------------------------------------------------------
WINDOW = "1m"
NO_SCRAPE = 'endpoint!="/metrics"'
REFERENCE_RATE = f"sum by (endpoint) (rate(api_requests_total{{{NO_SCRAPE}}}[{WINDOW}]))"
REFERENCE_P95 = f"histogram_quantile(0.95, sum by (le) (rate(api_request_duration_seconds_bucket{{{NO_SCRAPE}}}[{WINDOW}])))"


def _source():
    """(consulta(expr), de onde vêm os dados) — o Prometheus da aula com tráfego recente, senão o gravado."""
    if prom.available():
        at = time.time()
        ask = lambda expr: prom.query(expr, at=at)  # noqa: E731 — as duas consultas no mesmo instante
        if any(r["value"] == r["value"] for r in ask(REFERENCE_P95)):
            return ask, "o Prometheus da aula"
    try:
        lab = promlab.recorded(RECORDED) if RECORDED.is_file() else None
    except RuntimeError:  # o Prometheus dos dados gravados não subiu
        lab = None
    if lab is None:
        return None, ""
    at = max(int(line.rsplit(" ", 1)[-1]) for line in RECORDED.read_text("utf-8").splitlines()
             if line and not line.startswith("#"))
    return (lambda expr: lab.query(expr, at)), "o tráfego gravado de exercises/dados/ex06_metricas.om"


def _window(expr: str) -> str | None:
    return None if re.search(r"\[\s*(1m|60s)\s*\]", expr) else f"use a janela pedida, [{WINDOW}]."


def _judge_rate(expr: str, got: list[dict], want: list[dict]) -> str | None:
    if not got:
        return "a consulta de taxa não devolveu nenhuma série: confira o nome (api_requests_total) e os rótulos."
    extra = sorted({k for r in got for k in r["metric"]} - {"endpoint"})
    if extra:
        return (f"a taxa devolve uma série por {', '.join(extra)}: some por rota com sum by (endpoint) (...) — "
                "o resultado deve ter só o rótulo endpoint.")
    if any("endpoint" not in r["metric"] for r in got):
        return "a taxa perdeu o rótulo endpoint: use sum by (endpoint) (...), não sum(...)."
    got_, want_ = _checks.by_labels(got), _checks.by_labels(want)
    if any(dict(k).get("endpoint") == "/metrics" for k in got_):
        return f'deixe de fora o scrape do Prometheus: api_requests_total{{{NO_SCRAPE}}}.'
    if set(got_) != set(want_):
        return f"as rotas não batem: esperava {sorted(dict(k)['endpoint'] for k in want_)}."
    if "rate(" not in expr:
        return "use rate(...[1m]) no counter: o valor bruto é o total desde que a API subiu, não por segundo."
    if _window(expr) or all(_checks.close(got_[k], want_[k]) for k in want_):
        return _window(expr)
    return "os valores não batem com os da consulta de referência (rate por segundo, somado por endpoint)."


def _judge_p95(expr: str, got: list[dict], want: list[dict]) -> str | None:
    if not got:
        return "a consulta do P95 não devolveu nada: confira o nome api_request_duration_seconds_bucket."
    if len(got) > 1 or got[0]["metric"]:
        labels = sorted({k for r in got for k in r["metric"]})
        return (f"o P95 veio em {len(got)} série(s), com os rótulos {labels}: some os buckets mantendo só le — "
                "histogram_quantile(0.95, sum by (le) (rate(..._bucket[1m]))) — para ter UM P95 da API.")
    if _checks.close(got[0]["value"], want[0]["value"]):
        return _window(expr)
    if "0.95" not in expr:
        return "o P95 é o quantil 0.95: histogram_quantile(0.95, ...)."
    if "_bucket" not in expr:
        return "histogram_quantile lê os buckets: api_request_duration_seconds_bucket."
    if "rate(" not in expr:
        return "use rate(...[1m]) nos buckets antes de somar: os buckets são counters."
    if NO_SCRAPE.replace(" ", "") not in expr.replace(" ", ""):
        return f'deixe de fora o scrape do Prometheus: api_request_duration_seconds_bucket{{{NO_SCRAPE}}}.'
    return _window(expr) or "o valor não bate com o P95 de referência. Releia o enunciado."


def promql(rate_expr, p95_expr):
    """Sua vez 3.3: as consultas de taxa por rota e P95, comparadas com as de referência no mesmo Prometheus."""
    title = "PromQL: taxa e P95"
    reference = lambda: (REFERENCE_RATE, REFERENCE_P95)  # noqa: E731
    ask, where = (None, "") if rate_expr is None and p95_expr is None else _source()
    if rate_expr is not None or p95_expr is not None:
        if ask is None:
            return _checks.not_checked("3.3", title, "sem Prometheus para rodar as consultas.", reference)

    def judge(value):
        rate, p95 = value
        for name, expr in (("taxa_por_rota", rate), ("p95_api", p95)):
            if not isinstance(expr, str) or not expr.strip():
                return f"{name} deve ser o texto da consulta PromQL (uma string)."
        try:
            hint = _judge_rate(rate, ask(rate), ask(REFERENCE_RATE))
            hint = hint or _judge_p95(p95, ask(p95), ask(REFERENCE_P95))
        except (prom.ConsultaInvalida, ValueError) as error:
            return f"{error}. Confira parênteses, chaves e aspas."
        return hint and f"{hint} (conferido com {where})"

    return run_task("3.3", title, lambda: (rate_expr, p95_expr), judge, reference,
                    todo_hint="Escreva as duas consultas (strings) e rode a célula.")
