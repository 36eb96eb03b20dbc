"""Conferências da semana 7 (SLOs e escala).

    expr = tasks.week7.burn_rate_page(expr_pagina)          # 7.1: a expressão do alerta que acorda alguém
    empurrar = tasks.week7.push_job(empurrar_exportacao)    # 7.3: um job em lote empurra para o Pushgateway

A 7.1 roda a sua expressão no promtool (com as regras de gravação do curso) em quatro cenários
simulados de horas — o que a aula, que dura minutos, não consegue viver de verdade. A 7.3 sobe um
Pushgateway só dela numa porta livre, chama a sua função duas vezes e lê o que ficou guardado.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import httpx
import yaml

from kit import _process, promlab
from kit.config import settings
from kit.tasks import outcomes, run_task

PROMETHEUS_DIR = settings.root / "monitoring" / "prometheus"
_REQ = 'api_requests_total{{job="api-churn", instance="a:8000", method="GET", endpoint="/churn/{{id_cliente}}", ' \
       'status_code="{code}"}}'


def _traffic(ok: str, errors: str) -> list[dict]:
    return [{"series": _REQ.format(code="200"), "values": ok}, {"series": _REQ.format(code="500"), "values": errors}]


# (nome, séries com uma amostra por minuto, minuto da avaliação, deve disparar?, dica se errar)
BURN_SCENARIOS = [
    ("20 % de 5xx por 10 min (burn rate 20×)", _traffic("0+80x15", "0+20x15"), 10, True,
     "com 20 % de 5xx por 10 minutos (20× o orçamento) a sua regra não disparou. Compare a fração de erros "
     "em 1 h e em 5 min com 14.4 * 0.01 (`job:slo_errors_per_request:ratio_rate1h > (14.4 * 0.01) and ...`)."),
    ("3 % de 5xx por 2 h (burn rate 3: ticket, não página)", _traffic("0+97x120", "0+3x120"), 120, False,
     "com 3 % de 5xx por 2 horas (burn rate 3) a sua regra disparou uma página: isso gasta o orçamento em 10 dias "
     "e merece um ticket, não acordar alguém. O limiar é o burn rate vezes o orçamento — 14.4 * 0.01 e 6 * 0.01, "
     "não 0.01 sozinho."),
    ("um pico de 3 min depois de 1 h 30 sadia", _traffic("0+100x90 9000x2 9000+100x10", "0x90 100+100x2 300x10"),
     95, False,
     "um pico de 3 minutos acordaria alguém: a janela curta sozinha dispara com qualquer soluço. Exija "
     "também a janela longa com `and` (1 h junto com 5 min; 6 h junto com 30 min)."),
    ("8 % de 5xx por 2 h (burn rate 8×)", _traffic("0+92x120", "0+8x120"), 120, True,
     "com 8 % de 5xx por 2 horas a sua regra não disparou: falta o segundo par de janelas, 6× em 6 h E em "
     "30 min (`or (... ratio_rate6h > (6 * 0.01) and ... ratio_rate30m > (6 * 0.01))`)."),
]


def reference_page_expr() -> str:
    """A expressão de ApiErrorBudgetBurnFast em monitoring/prometheus/alert_rules.yml."""
    rules = yaml.safe_load((PROMETHEUS_DIR / "alert_rules.yml").read_text(encoding="utf-8"))
    return next(r["expr"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == "ApiErrorBudgetBurnFast")


def judge_page_expr(expr) -> str | None:
    if not isinstance(expr, str):
        return f"a resposta deve ser um texto com a expressão PromQL, não {type(expr).__name__}."
    rules = yaml.safe_dump({"groups": [{"name": "sua-vez", "rules": [{"alert": "Pagina", "expr": expr}]}]})
    folder = Path(tempfile.mkdtemp(prefix="kit-semana7-"))
    try:
        (folder / "regra.yml").write_text(rules, encoding="utf-8")
        checked = promlab.check_rules(folder / "regra.yml")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if checked is None:
        return (f"não consegui conferir: o promtool não está instalado ({promlab.INSTALL_HINT}). "
                "Compare a sua expressão com a de ApiErrorBudgetBurnFast em monitoring/prometheus/alert_rules.yml.")
    if not checked[0]:
        error = checked[1].splitlines()[-1].split("could not parse expression: ")[-1] if checked[1] else "recusada"
        return f"o promtool recusou a expressão ({error}). Confira parênteses, nomes das séries e o `> (14.4 * 0.01)`."
    for name, series, minute, must_fire, hint in BURN_SCENARIOS:  # para no primeiro cenário errado
        if promlab.alert_fires(rules, "Pagina", series, minute, recording=True) is not must_fire:
            return f"cenário \"{name}\": {hint}"
    return None


def burn_rate_page(expr_pagina) -> str:
    """7.1 — a expressão do alerta de página (multi-janela, multi-burn-rate) para o SLO de 99 %."""
    return run_task("7.1", "o alerta de burn rate que acorda alguém", lambda: expr_pagina, judge_page_expr,
                    reference_page_expr, todo_hint="Escreva a expressão em `expr_pagina`.")


# --- 7.3: um job em lote empurra para o Pushgateway ---------------------------------------------
PUSH_JOB, PUSH_INSTANCE = "churn-exportacao", "aula07"


def reference_push(gateway: str, linhas: int):
    """A solução de referência da 7.3 (a mesma que a aula mostra)."""
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    registro = CollectorRegistry()
    Gauge("batch_job_rows", "Linhas exportadas na última execução.", registry=registro).set(linhas)
    push_to_gateway(gateway, job=PUSH_JOB, registry=registro, grouping_key={"instance": PUSH_INSTANCE})
    return registro


_NO_GATEWAY = "sem-pushgateway"


def _run_against_private_gateway(function):
    """Chama `function(gateway, 100)` e `function(gateway, 250)` num Pushgateway só desta conferência.

    Devolve os grupos que ficaram guardados; None se a função ainda é o stub (devolve None).
    """
    if not callable(function):
        return function
    binary = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if binary is None:
        return _NO_GATEWAY
    port = _process.free_port()
    # --persistence.file vazio: só na memória (o padrão do pacote Debian grava em /var/lib/prometheus)
    proc = _process.launch([binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="])
    url = f"http://127.0.0.1:{port}"
    try:
        _process.wait_ready("pushgateway", f"{url}/-/ready", proc=proc, timeout=20)
        if function(url, 100) is None:
            return None
        function(url, 250)  # a segunda execução do job
        return httpx.get(f"{url}/api/v1/metrics", timeout=5).json()["data"]
    finally:
        _process.terminate(proc)


def judge_push(groups) -> str | None:
    if groups == _NO_GATEWAY:
        return ("não consegui conferir: falta o Pushgateway nesta máquina (sudo apt-get install "
                "prometheus-pushgateway).")
    if not isinstance(groups, list):
        return "a resposta deve ser a função `empurrar_exportacao(gateway, linhas)`, que devolve o registro."
    if not groups:
        return ("nada chegou ao Pushgateway. No fim da função chame "
                "`push_to_gateway(gateway, job=\"churn-exportacao\", registry=registro, grouping_key=...)`.")
    mine = [g for g in groups if g["labels"].get("job") == PUSH_JOB]
    if not mine:
        return f"chegou um grupo com job={groups[0]['labels'].get('job')!r}; a tarefa pede job=\"{PUSH_JOB}\"."
    if len(mine) > 1:
        return ("a segunda execução criou outro grupo em vez de substituir o primeiro: a chave de agrupamento "
                f"deve ser fixa (grouping_key={{\"instance\": \"{PUSH_INSTANCE}\"}}), não mudar a cada execução.")
    group = mine[0]
    if group["labels"].get("instance") != PUSH_INSTANCE:
        return (f"o grupo ficou com instance={group['labels'].get('instance', '')!r}: passe "
                f"grouping_key={{\"instance\": \"{PUSH_INSTANCE}\"}} ao push_to_gateway.")
    if any(name.startswith(("api_", "python_", "process_")) for name in group):
        return ("você empurrou o registro inteiro da API (api_*, python_*...). Crie um `CollectorRegistry()` só "
                "do job e registre nele apenas o Gauge do job.")
    family = group.get("batch_job_rows")
    if not family:
        return "o grupo chegou sem a métrica `batch_job_rows` (um Gauge com as linhas exportadas)."
    value = float(family["metrics"][0]["value"])
    if value != 250:
        return (f"depois de empurrar 100 e depois 250 linhas, o Pushgateway guardou {value:g}: a métrica deve "
                "valer `linhas` (Gauge.set(linhas)), o número da última execução.")
    return None


def push_job(empurrar_exportacao):
    """7.3 — a função do job de exportação (empurra `batch_job_rows` e devolve o registro). Devolve a função
    com que a aula continua: a sua, se certa; senão a de referência."""
    run_task("7.3", "um job em lote empurra para o Pushgateway",
             lambda: _run_against_private_gateway(empurrar_exportacao), judge_push, lambda: None,
             todo_hint="Complete a função `empurrar_exportacao` (ela devolve o registro que empurrou).")
    return empurrar_exportacao if outcomes["7.3"].status == "ok" else reference_push


# --- 7.2: vários workers — como juntar cada gauge (multiprocess_mode) ------------------------------
# Cenário da dica: dois workers vivos (A e B) e um morto (C), cada um com o seu valor do gauge.
_WORKERS = {"api_active_requests": ({"A": 3, "B": 1, "C": 2}, "requisições em andamento"),
            "api_predictions_loaded": ({"A": 2000, "B": 0, "C": 2000}, "predições na memória (B falhou ao carregar)"),
            "churn_predictions_high_risk": ({"A": 350, "B": 350, "C": 350}, "clientes de alto risco do lote")}
_DEAD = {"C"}


def _aggregate(mode: str, values: dict) -> float | str:
    """O que o /metrics mostraria com esse modo (a regra do MultiProcessCollector, em miniatura)."""
    live = mode.startswith("live")
    pool = [v for w, v in values.items() if not (live and w in _DEAD)]
    base = mode.removeprefix("live")
    if base == "all":
        return "uma série por PID"
    return {"sum": sum, "max": max, "min": min, "mostrecent": lambda p: p[-1]}[base](pool)


def reference_modes() -> dict:
    from kit import metrics

    return {name: getattr(metrics, name)._multiprocess_mode for name in _WORKERS}


def judge_modes(modos) -> str | None:
    from prometheus_client import Gauge

    if not isinstance(modos, dict) or set(modos) != set(_WORKERS):
        return f"`modos` deve ser um dicionário com exatamente estas chaves: {sorted(_WORKERS)}."
    for name, mode in modos.items():
        if mode not in Gauge._MULTIPROC_MODES:
            return f"'{mode}' (em {name}) não é um multiprocess_mode; use um de {sorted(Gauge._MULTIPROC_MODES)}."
    right = reference_modes()
    for name, mode in modos.items():
        values, what = _WORKERS[name]
        got, want = _aggregate(mode, values), _aggregate(right[name], values)
        if got != want:
            return (f"{name} ({what}): com os workers A={values['A']}, B={values['B']} vivos e C={values['C']} "
                    f"morto, '{mode}' mostraria {got}, e o certo é {want}. Pense: um worker morto ainda conta? "
                    "Somar faz sentido, ou cada worker repete o mesmo número?")
    return None


def multiprocess_modes(modos) -> dict:
    """7.2 — o multiprocess_mode de três gauges da API com vários workers."""
    return run_task("7.2", "como juntar cada gauge entre workers", lambda: modos, judge_modes, reference_modes,
                    todo_hint="Preencha o dicionário `modos`.")
