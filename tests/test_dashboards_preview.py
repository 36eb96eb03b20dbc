"""A prévia dos dashboards (kit.dashboards) contra processos reais: a API numa thread e um
`prometheus` nativo raspando-a a cada 1 s, com as regras de alerta do repositório.

Os testes ao vivo são `slow` + `stack`; os de substituição de variáveis, uid desconhecido e
Prometheus fora do ar não precisam de nada e rodam no `make test-fast`."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

import httpx
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from kit import dashboards, prom
from kit.config import settings
from kit.data import FEATURES
from tests._tools import require_binary
from tests._tools import free_port

UIDS = ["api-health", "business-churn", "ml-metrics", "overview"]
CLIENTE = {"pais": "Alemanha", "genero": "Feminino", "idade": 52, "anos_cliente": 2, "saldo_conta": 90000.0,
           "numero_produtos": 3, "cartao_credito": "Sim", "salario_estimado": 80000.0, "escore_credito": 610}


def _load(api) -> None:
    ids = list(api.app.state.service.predictions)[:15]
    with httpx.Client(base_url=api.url, timeout=10) as client:
        for i in ids:
            assert client.get(f"/churn/{i}").status_code == 200
        for i in (1, 2, 3):
            assert client.get(f"/churn/{i}").status_code == 404
        for _ in range(2):
            assert client.post("/predict", json=CLIENTE).status_code == 200


@pytest.fixture(scope="module")
def stack(trained, tmp_path_factory):
    """API real + Prometheus nativo com alguns segundos de histórico. Devolve a URL do Prometheus."""
    binary = require_binary("prometheus", "sudo apt-get install prometheus (ou baixe de prometheus.io)")
    from kit import drift, runner

    api, proc, folder = runner.start(port=free_port()), None, tmp_path_factory.mktemp("prometheus")
    try:
        drift.check("novos_2")  # publica data_drift_psi
        shutil.copy(settings.root / "monitoring/prometheus/alert_rules.yml", folder / "alert_rules.yml")
        (folder / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: [alert_rules.yml]\n"
            f"scrape_configs:\n  - job_name: api-churn\n    static_configs: [{{targets: ['127.0.0.1:{api.port}']}}]\n",
            encoding="utf-8")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(folder / "prometheus.log", "w") as log:
            proc = subprocess.Popen([binary, f"--config.file={folder / 'prometheus.yml'}",
                                     f"--storage.tsdb.path={folder / 'data'}",
                                     f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not (prom.available(base, timeout=0.5) and prom.query('up{job="api-churn"}', base=base)):
            assert proc.poll() is None and time.monotonic() < deadline, (folder / "prometheus.log").read_text()
            time.sleep(0.2)
        for _ in range(3):  # carga depois do 1º scrape e espalhada: rate() enxerga o aumento
            _load(api)
            time.sleep(1.2)
        time.sleep(2)
        yield base
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        api.stop()


def _panel_count(uid: str) -> int:
    dash = json.loads((settings.root / f"monitoring/grafana/dashboards/{uid}.json").read_text(encoding="utf-8"))
    panels = [q for p in dash["panels"] for q in (p.get("panels", []) if p["type"] == "row" else [p])]
    return len(panels)


def _texts(obj) -> list[str]:
    return [t.get_text() for t in obj.findobj(Text) if t.get_text()]


def _axes(fig: Figure, title: str):
    return next(ax for ax in fig.axes if ax.get_title(loc="left") == title)


@pytest.mark.parametrize("uid", UIDS)
@pytest.mark.slow
@pytest.mark.stack
def test_panel_queries_are_substituted_and_valid(stack, uid):
    queries = dashboards.panel_queries(dashboards.load(uid))
    assert queries
    for q in queries:
        assert set(q) >= {"panel", "type", "refId", "expr", "legend", "unit"}
        assert "$" not in q["expr"], q
        prom.query(q["expr"], base=stack)  # ConsultaInvalida se a substituição quebrou o PromQL


def test_template_variables_become_regex_all():
    dash = {"templating": {"list": [{"name": "version", "type": "query"}, {"name": "win", "type": "interval",
                                                                        "current": {"value": "5m"}}]},
            "panels": [{"type": "row", "panels": [{"type": "timeseries", "title": "t", "targets": [
                {"refId": "A", "expr": 'rate(x{v="$version", w=~"${version}", u!~"$version"}[$win])'
                                       ' / rate(y[$__rate_interval]) + z[$__range:] + w[$__interval]'
                                       ' + label_replace(k, "a", "$1", "b", "(.*)")'}]}]}]}
    [q] = dashboards.panel_queries(dash, minutes=10)
    assert q["expr"] == ('rate(x{v=~".*", w=~".*", u!~".*"}[5m]) / rate(y[1m]) + z[10m:] + w[15s]'
                         ' + label_replace(k, "a", "$1", "b", "(.*)")')


@pytest.mark.parametrize("uid", UIDS)
@pytest.mark.slow
@pytest.mark.stack
def test_preview_draws_every_panel(stack, uid, tmp_path):
    png = tmp_path / f"{uid}.png"
    fig = dashboards.preview(uid, base=stack, save_to=png)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == _panel_count(uid)
    assert "PRÉVIA" in fig.get_suptitle()
    assert png.stat().st_size > 10_000
    assert plt.get_fignums() == []  # nenhuma figura esquecida no pyplot
    if os.environ.get("KIT_PREVIEW_DIR"):  # para olhar as imagens: KIT_PREVIEW_DIR=/tmp/previews pytest ...
        shutil.copy(png, os.path.join(os.environ["KIT_PREVIEW_DIR"], png.name))


@pytest.mark.slow
@pytest.mark.stack
def test_preview_shows_live_data(stack):
    fig = dashboards.preview("api-health", base=stack)
    rate_lines = [ln for ln in _axes(fig, "Requisições/segundo").get_lines() if len(ln.get_xdata())]
    assert rate_lines and max(max(ln.get_ydata()) for ln in rate_lines) > 0
    assert "NO AR" in _texts(_axes(fig, "Status da API"))
    loaded = _texts(_axes(fig, "Predições Carregadas"))
    assert any(re.search(r"\d", t) for t in loaded), loaded
    drift_panel = _axes(dashboards.preview("ml-metrics", base=stack), "Data Drift — PSI por feature")
    assert len(drift_panel.patches) == 2 * len(FEATURES)  # fundo + barra, uma por feature


def test_preview_without_prometheus_explains():
    base = f"http://127.0.0.1:{free_port()}"
    fig = dashboards.preview("overview", base=base)
    assert isinstance(fig, Figure)
    assert any("indisponível" in t and base in t for t in _texts(fig))
    assert plt.get_fignums() == []


def test_unknown_dashboard():
    with pytest.raises(ValueError, match="não encontrado.*Disponíveis: api-health"):
        dashboards.load("nao-existe")
    with pytest.raises(ValueError):
        dashboards.preview("nao-existe")
