"""kit.prom: PromQL pela API HTTP de um Prometheus real, com erros em pt-BR."""
from __future__ import annotations

import time

import pytest

from kit import _process, prom
from kit.errors import ErroDoKit
from tests._tools import require_binary

CONFIG = """
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [regras.yml]
scrape_configs:
  - job_name: alvo-fechado
    static_configs: [{targets: ["127.0.0.1:%d"]}]
"""
RULES = """
groups:
  - name: teste
    rules:
      - alert: SempreDisparando
        expr: vector(1) > 0
        labels: {severity: info}
"""


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    binary = require_binary("prometheus", "apt-get install prometheus")
    folder = tmp_path_factory.mktemp("prom")
    (folder / "prometheus.yml").write_text(CONFIG % _process.free_port())
    (folder / "regras.yml").write_text(RULES)
    port = _process.free_port()
    proc = _process.launch([binary, f"--config.file={folder / 'prometheus.yml'}",
                            f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                           folder / "prometheus.log")
    url = f"http://127.0.0.1:{port}"
    _process.wait_ready("prometheus", f"{url}/-/ready", proc=proc, log=folder / "prometheus.log")
    yield url
    _process.terminate(proc)


def test_instant_queries_vectors_and_scalars(prometheus):
    assert prom.available(prometheus)
    assert prom.query('vector(2) * 3', prometheus) == [{"metric": {}, "value": 6.0}]
    assert prom.query("1 + 1", prometheus) == [{"metric": {}, "value": 2.0}]  # escalar vira uma série sem labels
    assert prom.query("time()", prometheus, at=1_000) == [{"metric": {}, "value": 1000.0}]
    assert prom.value('label_replace(vector(7), "a", "b", "", "")', prometheus) == 7.0
    assert prom.value("vector(1) < 0", prometheus) is None  # nenhuma série


def test_range_queries_respect_start_end_and_step(prometheus):
    [series] = prom.query_range("time()", base=prometheus, start=1_000, end=1_600, step=60)
    assert series["times"] == [1000.0 + 60 * i for i in range(11)] and series["values"] == series["times"]
    [recent] = prom.query_range("vector(1)", minutes=2, step=30, base=prometheus)
    assert len(recent["values"]) in (4, 5) and set(recent["values"]) == {1.0}


def test_targets_rules_and_alerts(prometheus):
    assert _process.wait_until(lambda: [t["health"] for t in prom.targets(prometheus)] == ["down"], 20, 0.25)
    [target] = prom.targets(prometheus)
    assert target["job"] == "alvo-fechado" and target["erro"]  # ninguém escuta: o motivo vem junto
    assert prom.rules(prometheus) == [{"nome": "SempreDisparando", "estado": prom.rules(prometheus)[0]["estado"],
                                      "expr": "vector(1) > 0"}]
    assert _process.wait_until(lambda: [a["state"] for a in prom.alerts(prometheus)] == ["firing"], 20, 0.25)
    assert prom.label_values("job", "up", prometheus) == ["alvo-fechado"]


def test_a_bad_query_is_consulta_invalida_in_portuguese(prometheus):
    with pytest.raises(prom.ConsultaInvalida, match="PromQL inválida") as caught:
        prom.query("sum(", prometheus)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ErroDoKit)


def test_a_stopped_prometheus_says_what_to_do():
    closed = f"http://127.0.0.1:{_process.free_port()}"
    assert not prom.available(closed)
    with pytest.raises(prom.PrometheusIndisponivel, match="python -m kit stack up") as caught:
        prom.query("up", closed)
    assert isinstance(caught.value, ErroDoKit) and caught.value.exit_code == 1
    started = time.monotonic()
    assert not prom.available(closed, timeout=0.5) and time.monotonic() - started < 3
