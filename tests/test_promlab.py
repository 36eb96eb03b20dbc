"""kit.promlab: o Prometheus com séries gravadas e o promtool que os exercícios usam."""
from __future__ import annotations

import pytest

from kit import promlab
from tests._tools import require_binary

T0 = 1_700_000_000  # as séries gravadas ficam num intervalo fixo (longe do relógio)
RECORDING = "\n".join([
    "# TYPE vendas gauge",
    *[f'vendas{{loja="a",turno="dia"}} {10 + i} {T0 + 60 * i}' for i in range(11)],
    *[f'vendas{{loja="a",turno="noite"}} {i} {T0 + 60 * i}' for i in range(11)],
    "# EOF",
]) + "\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_binary("promtool", "apt-get install prometheus")
    require_binary("prometheus", "apt-get install prometheus")
    path = tmp_path_factory.mktemp("lab") / "vendas.om"
    path.write_text(RECORDING)
    lab = promlab.recorded(path)
    assert promlab.recorded(path) is lab  # um por arquivo e por kernel
    yield lab
    promlab.stop_all()
    assert lab.process.poll() is not None and not lab.folder.exists()


def test_recorded_series_answer_at_their_fixed_time(lab):
    result = lab.query('vendas{turno="dia"}', at=T0 + 300)
    assert [(r["metric"]["loja"], r["value"]) for r in result] == [("a", 15.0)]
    assert lab.query("sum(vendas)", at=T0 + 600) == [{"metric": {}, "value": 30.0}]
    [series] = lab.query_range('vendas{turno="noite"}', T0, T0 + 600, step=120)
    assert series["times"] == [T0 + 120.0 * i for i in range(6)] and series["values"] == [0, 2, 4, 6, 8, 10]
    assert sorted(lab.label_values("turno", "vendas")) == ["dia", "noite"]


@pytest.mark.parametrize("expr", ["sum(vendas", "vendas + on(loja) vendas"])  # 400 de sintaxe; 422 na execução
def test_a_refused_query_is_a_value_error_as_the_exercise_checks_expect(lab, expr):
    with pytest.raises(ValueError, match="O Prometheus recusou a consulta: "):
        lab.query(expr, at=T0 + 300)
    with pytest.raises(ValueError, match="O Prometheus recusou a consulta: "):
        lab.query_range(expr, T0, T0 + 600)


def test_check_and_test_rules(tmp_path):
    require_binary("promtool", "apt-get install prometheus")
    good = tmp_path / "boa.yml"
    good.write_text("groups:\n  - name: g\n    rules:\n      - alert: Alto\n        expr: vendas > 12\n        for: 2m\n")
    bad = tmp_path / "ruim.yml"
    bad.write_text("groups:\n  - name: g\n    rules:\n      - alert: Alto\n        expr: vendas >\n")
    assert promlab.check_rules(good)[0] is True
    ok, output = promlab.check_rules(bad)
    assert ok is False and "parse error" in output
    series = [{"series": 'vendas{loja="a"}', "values": "10+1x10"}]  # 10, 11, 12, 13, ... a cada minuto
    assert promlab.alert_fires(good.read_text(), "Alto", series, eval_minutes=5) is True   # > 12 desde o minuto 3
    assert promlab.alert_fires(good.read_text(), "Alto", series, eval_minutes=3) is False  # ainda pendente (for: 2m)


def test_without_the_tools_it_says_so_or_fails_when_grading(monkeypatch):
    monkeypatch.setattr(promlab.shutil, "which", lambda name: None)
    assert promlab.check_rules("qualquer.yml") is None and promlab.recorded("nada.om") is None
    monkeypatch.setattr(promlab.settings, "grading", True)
    with pytest.raises(promlab.FerramentaAusente, match="apt-get install prometheus"):
        promlab.tool("promtool")
