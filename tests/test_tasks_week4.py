"""Sua vez da semana 4: a referência passa, o esboço intocado fica "ainda não resolvida", respostas erradas plausíveis
ganham a dica certa — com as regras da casa para painéis, o motor PromQL do promtool e promtool check/test rules."""
import copy

import pytest

from kit import dashboards, tasks
from kit.tasks import week4
from tests._tools import require_binary


@pytest.fixture(scope="module", autouse=True)
def promtool():
    require_binary("promtool", "apt-get install prometheus")


def _panel(change):
    panel = copy.deepcopy(week4.REFERENCE_PANEL)
    change(panel)
    return panel


def _expr(text):
    return lambda p: p["targets"][0].update(expr=text)


RAW_RATIO = ("sum(model_cache_hits_total) / (sum(model_cache_hits_total) + sum(model_cache_misses_total))"
             " + 0 * sum(rate(model_cache_hits_total[$__rate_interval]))")  # só para ter a variável do Grafana


@pytest.mark.parametrize("change, status, hint", [
    (lambda p: None, "ok", "certo!"),
    (None, "todo", "ainda não resolvida"),
    (lambda p: p["fieldConfig"]["defaults"].update(unit="percent"), "wrong", "unidade percentunit"),
    (lambda p: p.update(type="graph"), "wrong", "use um tipo moderno"),
    (lambda p: p.update(datasource={"type": "prometheus", "uid": "${DS_PROMETHEUS}"}), "wrong", "Nada de __inputs"),
    (lambda p: p.pop("description"), "wrong", "escreva uma descrição"),
    (lambda p: p.pop("gridPos"), "wrong", "defina a posição no grid"),
    (_expr("sum(rate(model_cache_hits_total[1m])) / (sum(rate(model_cache_hits_total[1m]))"
           " + sum(rate(model_cache_misses_total[1m])))"), "wrong", "[$__rate_interval]"),
    (_expr("sum(rate(model_cache_misses_total[$__rate_interval])) / (sum(rate(model_cache_hits_total"
           "[$__rate_interval])) + sum(rate(model_cache_misses_total[$__rate_interval])))"), "wrong",
     "a taxa de acerto é acertos / (acertos + erros)"),
    (_expr(RAW_RATIO), "wrong", "não deu 0.9"),
    (_expr("sum(rate(model_cache_hits_total[$__rate_interval])"), "wrong", "o promtool não entendeu a consulta"),
])
def test_panel_task(capsys, change, status, hint):
    answer = None if change is None else _panel(change)
    result = week4.panel(answer)
    out = capsys.readouterr().out
    assert (tasks.outcomes["4.1"].status, hint in out) == (status, True), out
    assert result == (answer if status == "ok" else week4.REFERENCE_PANEL)


def test_the_reference_panel_is_what_the_preview_draws():
    """A aula desenha o painel devolvido com kit.dashboards.preview (um dashboard em dicionário)."""
    queries = dashboards.panel_queries(week4.dashboard_of(week4.REFERENCE_PANEL))
    assert [q["unit"] for q in queries] == ["percentunit"] and "[1m]" in queries[0]["expr"]
    figure = dashboards.preview(week4.dashboard_of(week4.REFERENCE_PANEL), minutes=1)  # sem Prometheus: explica
    assert "sua-vez-4-1" in figure._suptitle.get_text()


RULE, TEST = week4.REFERENCE_RULE, week4.REFERENCE_TEST
QUIET_CASE = TEST[TEST.index("  - interval: 1m          # 5 %"):]


@pytest.mark.parametrize("rule, test, status, hint", [
    (RULE, TEST, "ok", "certo!"),
    (None, None, "todo", "ainda não resolvida"),
    (RULE.replace("for: 5m", "for: 0m"), TEST, "wrong", "a condição precisa durar 5 min (for: 5m)"),
    (RULE.replace("> 0.2", "> 0.02"), TEST.replace("0+95x20", "0+99x20").replace("0+5x20", "0+1x20"), "wrong",
     "o limite é 20 %"),
    (RULE.replace("> 0.2", "> 0.5"), TEST.replace("0+70x20", "0+40x20").replace("0+30x20", "0+60x20"), "wrong",
     "a sua regra não disparou"),
    (RULE, TEST.replace(QUIET_CASE, ""), "wrong", "fica QUIETO (exp_alerts: [])"),
    (RULE, TEST.replace("severity: warning}", "severity: critical}"), "wrong", "promtool test rules falhou"),
    (RULE.replace("alert: ClientesForaDoLote", "alert: ForaDoLote"), TEST, "wrong", "não achei a regra"),
    (RULE.replace("sum(rate(model_cache_hits_total[5m]))", "sum(rate(model_cache_hits_total[5m])"), TEST,
     "wrong", "promtool check rules recusou a regra"),
    (RULE.replace("    rules:", "\trules:"), TEST, "wrong", "não é YAML válido"),
])
def test_alert_rule_task(capsys, rule, test, status, hint):
    result = week4.alert_rule(rule, test)
    out = capsys.readouterr().out
    assert (tasks.outcomes["4.2"].status, hint in out) == (status, True), out
    assert result == ((rule, test) if status == "ok" else (RULE, TEST))


def test_without_promtool_the_checks_say_not_checked(capsys, monkeypatch):
    monkeypatch.setattr(week4.promlab, "tool", lambda name: None)
    assert week4.alert_rule(RULE, TEST) == (RULE, TEST)
    assert week4.panel({"type": "stat"}) == week4.REFERENCE_PANEL
    out = capsys.readouterr().out
    assert out.count("não conferido") == 2 and tasks.outcomes["4.2"].status == "todo"


def test_the_lesson_solutions_are_the_kit_references():
    """A solução que a aula mostra e a referência com que a conferência segue são a mesma (não divergem)."""
    import nbformat

    from kit.config import settings

    nb = nbformat.read(settings.root / "notebooks" / "04_dashboards_grafana.ipynb", as_version=4)
    answers = {}
    for cell in nb.cells:
        if "sua-vez" in cell.metadata.get("tags", []):
            exec(cell.source, {}, answers)  # só literais: o painel e os dois textos YAML
    assert answers["painel"] == week4.REFERENCE_PANEL
    assert answers["regra"].strip() == RULE.strip() and answers["teste"].strip() == TEST.strip()
