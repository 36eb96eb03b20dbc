"""Sua vez da semana 7: a referência passa, o stub fica ⏳, e cada erro plausível recebe a dica certa.

As conferências rodam coisas de verdade: o promtool com as regras de gravação do curso (7.1) e um
Pushgateway próprio numa porta livre (7.3).
"""
from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, push_to_gateway

from kit import tasks
from kit.tasks import week7
from tests._tools import require_binary

PAGE = week7.reference_page_expr()
ONLY_SHORT = "job:slo_errors_per_request:ratio_rate5m > (14.4 * 0.01)"
ONLY_FAST_PAIR = ("job:slo_errors_per_request:ratio_rate1h > (14.4 * 0.01) and "
                  "job:slo_errors_per_request:ratio_rate5m > (14.4 * 0.01)")
BUDGET_AS_THRESHOLD = PAGE.replace("14.4 * 0.01", "0.01").replace("6 * 0.01", "0.01")


@pytest.mark.parametrize("answer, status, hint", [
    (PAGE, "ok", "certo"),
    (None, "todo", "ainda não resolvida"),
    (ONLY_SHORT, "wrong", "um pico de 3 minutos acordaria alguém"),
    (ONLY_FAST_PAIR, "wrong", "falta o segundo par de janelas"),
    (BUDGET_AS_THRESHOLD, "wrong", "merece um ticket, não acordar alguém"),
    ("job:slo_errors_per_request:ratio_rate1h > (14.4 * 0.01", "wrong", "o promtool recusou a expressão"),
], ids=["referencia", "stub", "so-janela-curta", "sem-par-6h", "limiar-sem-burn-rate", "sintaxe"])
def test_7_1_burn_rate_page(capsys, answer, status, hint):
    require_binary("promtool", "apt-get install prometheus")
    value = week7.burn_rate_page(answer)
    assert tasks.outcomes["7.1"].status == status, capsys.readouterr().out
    assert hint in capsys.readouterr().out
    assert value == (answer if status == "ok" else PAGE)


def _push(job="churn-exportacao", instance=lambda: "aula07", registry=None):
    def empurrar(gateway, linhas):
        registro = registry or CollectorRegistry()
        if registry is None:
            Gauge("batch_job_rows", "linhas", registry=registro).set(linhas)
        push_to_gateway(gateway, job=job, registry=registro, grouping_key={"instance": instance()})
        return registro
    return empurrar


def _stub(gateway, linhas):
    ...  # o que a cópia do aluno deixa no lugar da solução


def _fixed_rows(gateway, linhas):
    return _push()(gateway, 100)


@pytest.mark.parametrize("function, status, hint", [
    (week7.reference_push, "ok", "certo"),
    (_stub, "todo", "ainda não resolvida"),
    (_push(instance=lambda: str(time.time())), "wrong", "criou outro grupo em vez de substituir"),
    (_push(job="exportacao"), "wrong", 'a tarefa pede job="churn-exportacao"'),
    (_push(registry=REGISTRY), "wrong", "registro inteiro da API"),
    (_fixed_rows, "wrong", "guardou 100"),
], ids=["referencia", "stub", "chave-muda", "job-errado", "registro-da-api", "valor-fixo"])
def test_7_2_push_job(capsys, function, status, hint):
    require_binary("prometheus-pushgateway", "apt-get install prometheus-pushgateway")
    import kit.metrics  # noqa: F401 — o registro padrão com as métricas da API, como num notebook

    returned = week7.push_job(function)
    assert tasks.outcomes["7.3"].status == status, capsys.readouterr().out
    assert hint in capsys.readouterr().out
    assert returned is (function if status == "ok" else week7.reference_push)
