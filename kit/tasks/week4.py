"""As conferências das tarefas "Sua vez" da semana 4 (dashboards e alertas).

    from kit import tasks
    painel = tasks.week4.panel(painel)                        # 4.1: um painel stat em JSON
    regra, teste = tasks.week4.alert_rule(regra, teste)       # 4.2: uma regra de alerta e o teste dela

As duas rodam o seu código contra coisas reais: as regras da casa para painéis (as mesmas do exercício 4), o
motor PromQL do `promtool` com séries inventadas, e `promtool check rules` / `promtool test rules`.
"""
from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import yaml

from kit import dashboards, exercises, promlab
from kit.tasks import _checks, run_task

# --- 4.1 um painel --------------------------------------------------------------------------------------------
HITS, MISSES = "model_cache_hits_total", "model_cache_misses_total"
REFERENCE_PANEL = {
    "type": "stat",
    "title": "Taxa de acerto do lote em memória",
    "description": "Fração das consultas /churn/{id_cliente} achadas no lote de predições carregado.",
    "datasource": {"type": "prometheus", "uid": "prometheus-churn"},
    "gridPos": {"x": 0, "y": 0, "w": 8, "h": 5},
    "fieldConfig": {"defaults": {"unit": "percentunit", "decimals": 1}},
    "targets": [{
        "refId": "A", "datasource": {"type": "prometheus", "uid": "prometheus-churn"},
        "expr": (f"sum(rate({HITS}[$__rate_interval]))\n/\n(sum(rate({HITS}[$__rate_interval])) + "
                 f"sum(rate({MISSES}[$__rate_interval])))")}],
}
# Séries inventadas (uma amostra a cada 15 s): 5 min meio a meio, depois 9 acertos para 1 erro. A taxa de acerto
# no último minuto é 0,9; quem divide os contadores brutos (sem rate) acha 0,7.
SERIES = [{"series": HITS, "values": "0+5x20 100+9x20"}, {"series": MISSES, "values": "0+5x20 100+1x20"}]
EXPECTED = 0.9


def dashboard_of(panel: dict) -> dict:
    """O painel dentro de um dashboard mínimo (é o que as regras da casa e a prévia recebem)."""
    return {"uid": "sua-vez-4-1", "title": "Sua vez 4.1", "panels": [panel]}


def _expr_value_problem(expr: str) -> str | None:
    """Roda a consulta no motor do promtool com SERIES e confere que dá EXPECTED (None = certo)."""
    promtool = promlab.tool("promtool")
    folder = Path(tempfile.mkdtemp(prefix="kit-tarefa-4-1-"))
    test = {"evaluation_interval": "15s", "tests": [{
        "interval": "15s", "input_series": SERIES,
        "promql_expr_test": [{"expr": expr, "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": EXPECTED}]}]}]}
    try:
        (folder / "teste.yml").write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
        ok, out = promlab._run([promtool, "test", "rules", str(folder / "teste.yml")])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if ok:
        return None
    if "parse error" in out or "could not parse" in out:
        return f"o promtool não entendeu a consulta: {out.splitlines()[-1].strip()}"
    if "rate(" not in expr:
        return "use rate(...[$__rate_interval]) nos dois counters: o valor bruto é o total desde que a API subiu."
    return (f"com {int(EXPECTED * 100)} % de acertos no último minuto a sua consulta não deu {EXPECTED} (um número só, "
            f"sem rótulos): a taxa de acerto é acertos / (acertos + erros), cada um com sum(rate(...)).")


def _judge_panel(panel) -> str | None:
    if not isinstance(panel, dict):
        return f"painel deve ser um dicionário Python (o JSON do painel); veio {type(panel).__name__}."
    problems = exercises.dashboard_problems(dashboard_of(panel))
    if problems:
        return problems[0]
    if panel.get("type") != "stat":
        return f'a tarefa pede um painel "stat" (um número grande); veio "{panel.get("type")}".'
    if panel["fieldConfig"]["defaults"]["unit"] != "percentunit":
        return "a taxa é uma fração de 0 a 1: unidade percentunit (o Grafana mostra 0,9 como 90 %)."
    grid = panel.get("gridPos") or {}
    if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
        return 'defina a posição no grid: "gridPos": {"x": 0, "y": 0, "w": 8, "h": 5} (24 colunas de largura).'
    if len(panel["targets"]) != 1:
        return "uma consulta só em targets: a taxa de acerto."
    if "$__rate_interval" not in panel["targets"][0]["expr"]:
        return "no Grafana a janela é [$__rate_interval] (ela se ajusta ao intervalo de coleta), não um valor fixo."
    return _expr_value_problem(dashboards.panel_queries(dashboard_of(panel))[0]["expr"])


def panel(painel):
    """Sua vez 4.1: um painel stat com a taxa de acerto do lote em memória. Devolve o painel (seu ou o de referência)."""
    title = "um painel em JSON"
    reference = lambda: copy.deepcopy(REFERENCE_PANEL)  # noqa: E731
    if painel is not None and promlab.tool("promtool") is None:
        return _checks.not_checked("4.1", title, "sem o promtool para rodar a consulta.", reference)
    return run_task("4.1", title, lambda: painel, _judge_panel, reference,
                    todo_hint="Escreva o dicionário do painel e rode a célula.")


# --- 4.2 uma regra de alerta e o teste dela ----------------------------------------------------------------------
ALERT = "ClientesForaDoLote"
REFERENCE_RULE = f"""groups:
  - name: sua-vez
    rules:
      - alert: {ALERT}
        expr: >
          sum(rate({MISSES}[5m]))
          / (sum(rate({HITS}[5m])) + sum(rate({MISSES}[5m]))) > 0.2
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: Mais de 20 % das consultas são de clientes fora do lote
          description: Confira se o lote de predições carregado é o de hoje (python -m kit predict).
"""
REFERENCE_TEST = f"""rule_files: [regra.yml]
evaluation_interval: 1m
tests:
  - interval: 1m          # 30 % das consultas fora do lote por 20 min: dispara
    input_series:
      - series: {HITS}
        values: 0+70x20
      - series: {MISSES}
        values: 0+30x20
    alert_rule_test:
      - eval_time: 15m
        alertname: {ALERT}
        exp_alerts:
          - exp_labels: {{severity: warning}}
            exp_annotations:
              summary: Mais de 20 % das consultas são de clientes fora do lote
              description: Confira se o lote de predições carregado é o de hoje (python -m kit predict).
  - interval: 1m          # 5 %: fica quieto
    input_series:
      - series: {HITS}
        values: 0+95x20
      - series: {MISSES}
        values: 0+5x20
    alert_rule_test:
      - eval_time: 15m
        alertname: {ALERT}
        exp_alerts: []
"""
# Os cenários que a conferência roda na SUA regra (além do seu teste): (séries, minuto, deve disparar?, dica)
SCENARIOS = [
    ([{"series": HITS, "values": "0+70x20"}, {"series": MISSES, "values": "0+30x20"}], 15, True,
     "com 30 % das consultas fora do lote por 20 min a sua regra não disparou: a condição é erros / (acertos + "
     "erros) > 0.2, com sum(rate(...[5m])) em cada um."),
    ([{"series": HITS, "values": "0+95x20"}, {"series": MISSES, "values": "0+5x20"}], 15, False,
     "com só 5 % das consultas fora do lote a sua regra disparou: o limite é 20 % (> 0.2)."),
    ([{"series": HITS, "values": "0+95x10 950+0x3"}, {"series": MISSES, "values": "0+5x10 50+100x3"}], 13, False,
     "um pico de 3 min já fez a sua regra disparar: a condição precisa durar 5 min (for: 5m) antes de acordar alguém."),
]


def _judge_rule(value) -> str | None:
    rule_text, test_text = value
    for name, text in (("regra", rule_text), ("teste", test_text)):
        if not isinstance(text, str):
            return f"{name} deve ser o texto YAML (uma string entre três aspas)."
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as error:
            return f"{name} não é YAML válido ({str(error).splitlines()[0]}). Confira a indentação (espaços, não tabs)."
    rules = [r for g in (yaml.safe_load(rule_text) or {}).get("groups") or [] for r in g.get("rules") or []]
    if not any(r.get("alert") == ALERT for r in rules):
        return f"não achei a regra alert: {ALERT} em groups → rules."
    test = yaml.safe_load(test_text) or {}
    cases = [c for t in test.get("tests") or [] for c in t.get("alert_rule_test") or [] if c.get("alertname") == ALERT]
    if not any(c.get("exp_alerts") for c in cases):
        return f"o teste precisa de um caso em que {ALERT} DISPARA (exp_alerts com o alerta esperado)."
    if not any(not c.get("exp_alerts") for c in cases):
        return f"o teste precisa de um caso em que {ALERT} fica QUIETO (exp_alerts: [])."
    folder = Path(tempfile.mkdtemp(prefix="kit-tarefa-4-2-"))
    try:
        (folder / "regra.yml").write_text(rule_text, encoding="utf-8")
        test["rule_files"] = ["regra.yml"]  # o seu teste lê a sua regra, onde quer que ela esteja
        (folder / "teste.yml").write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
        ok, out = promlab.check_rules(folder / "regra.yml")
        if not ok:
            return f"promtool check rules recusou a regra: {out.splitlines()[-1].strip()}"
        ok, out = promlab.test_rules(folder / "teste.yml")
        if not ok:
            detail = " ".join(line.strip() for line in out.splitlines() if line.strip())
            detail = detail[detail.find("FAILED"):][:500] if "FAILED" in detail else detail[-400:]
            return f"promtool test rules falhou — o seu teste não bate com a sua regra: {detail}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for series, minute, should_fire, hint in SCENARIOS:
        if promlab.alert_fires(rule_text, ALERT, series, minute) != should_fire:
            return hint
    return None


def alert_rule(regra, teste):
    """Sua vez 4.2: a regra ClientesForaDoLote e o teste dela (dispara e fica quieto), conferidos com o promtool."""
    title = "uma regra de alerta testada"
    reference = lambda: (REFERENCE_RULE, REFERENCE_TEST)  # noqa: E731
    if (regra is not None or teste is not None) and promlab.tool("promtool") is None:
        return _checks.not_checked("4.2", title, "sem o promtool para testar a regra.", reference)
    return run_task("4.2", title, lambda: (regra, teste), _judge_rule, reference,
                    todo_hint="Escreva a regra e o teste (YAML) e rode a célula.")
