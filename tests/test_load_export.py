"""kit.load e kit.export contra a API real (sockets de verdade) e o Prometheus nativo.

"Nada se perde": o que o cliente de carga contou, por status, é exatamente o que o
contador `api_requests_total` da API subiu, e cada requisição virou uma linha de log.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kit import export, load, logger, metrics, prom, stack
from kit.config import settings
from tests._tools import wait_until
from tests._tools import free_port

pytestmark = pytest.mark.slow
CHURN = "/churn/{id_cliente}"


def _churn_counts(url: str) -> dict[int, float]:
    """api_requests_total{endpoint="/churn/{id_cliente}"} por status, lido do /metrics (sem o próprio scrape)."""
    counts: dict[int, float] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        if family.name != "api_requests":
            continue
        for sample in family.samples:
            if sample.name == "api_requests_total" and sample.labels["endpoint"] == CHURN:
                counts[int(sample.labels["status_code"])] = sample.value
    return counts


def _request_log_lines() -> int:
    """Linhas JSON `kind=request` de GET /churn/{id_cliente} nos logs da API (inclui arquivos rotacionados)."""
    logger.flush()
    total = 0
    for path in logger.log_path("api").parent.glob("api*.json"):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if '"kind":"request"' in line:
                    record = json.loads(line)
                    total += record.get("endpoint") == CHURN
    return total


def _eventually(read, expected, timeout=3.0):
    """Lê até bater com `expected` (a métrica é registrada logo depois da resposta sair)."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


def _kit(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, timeout=timeout)


# --- load ---------------------------------------------------------------------------------------

def test_draw_ids_is_deterministic_and_controls_unknown_share():
    known = list(range(10_000_000, 10_000_100))
    ids, n_unknown = load.draw_ids(200, known, unknown_share=0.25, seed=7)
    assert (ids, n_unknown) == load.draw_ids(200, known, unknown_share=0.25, seed=7)
    assert ids != load.draw_ids(200, known, unknown_share=0.25, seed=8)[0]
    unknown = [i for i in ids if i not in set(known)]
    assert len(ids) == 200 and n_unknown == len(unknown) == 50
    assert all(10_000_000 <= i < 100_000_000 for i in unknown)


def test_missing_predictions_say_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "outputs_dir", tmp_path)
    with pytest.raises(load.PredicoesAusentes, match="python -m kit predict"):
        load.known_ids()


@pytest.mark.parametrize("cenario", list(load.SCENARIOS))
def test_nothing_lost(api, cenario):
    before, lines_before = _churn_counts(api.url), _request_log_lines()
    result = load.run(api.url, cenario=cenario, progress=False)
    print(f"\n[medida] cenário {cenario}: {result.req_s:.0f} req/s, p95 {result.p95_ms:.1f} ms")

    n, workers = load.SCENARIOS[cenario]
    assert (result.requests, result.workers, result.errors) == (n, workers, 0)
    # Conhecidos → 200, desconhecidos → 404, e nada mais.
    assert result.unknown_ids == round(n * 0.1)
    assert result.status_counts == {200: n - result.unknown_ids, 404: result.unknown_ids}

    def rise():
        after = _churn_counts(api.url)
        diff = {s: after.get(s, 0) - before.get(s, 0) for s in after.keys() | before.keys()}
        return {s: d for s, d in diff.items() if d}

    assert _eventually(rise, result.status_counts) == result.status_counts
    assert _eventually(lambda: _request_log_lines() - lines_before, n) == n


def test_result_table(api):
    result = load.run(api.url, requests=40, workers=4, unknown_share=0.0, progress=False)
    table = result.table()
    assert list(table.columns) == load.COLUMNS and len(table) == 1
    row = table.iloc[0]
    assert row["cenario"] == "personalizado" and row["requisicoes"] == 40 and row["status_200"] == 40
    assert row["status_404"] == row["status_5xx"] == row["outros_status"] == row["erros_conexao"] == 0
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.req_s == pytest.approx(40 / result.duration_s)
    both = load.summary([result, result])
    assert list(both.columns) == load.COLUMNS and len(both) == 2


def test_closed_port_is_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(load.ApiIndisponivel, match=f"A API não responde em {url}"):
        load.run(url, requests=5, workers=1, progress=False)


def test_bad_sizes_are_rejected_before_any_request():
    with pytest.raises(ValueError, match="pelo menos 1"):
        load.run("http://127.0.0.1:1", requests=0, progress=False)
    with pytest.raises(ValueError, match="Cenário desconhecido"):
        load.run("http://127.0.0.1:1", cenario="extrema", progress=False)


def test_cli_load(api):
    r = _kit("load", "--url", api.url, "--requests", "30", "--workers", "3")
    assert r.returncode == 0, r.stderr
    assert f"Resultado do teste de carga em {api.url}" in r.stdout
    header, values = r.stdout.strip().splitlines()[-2:]
    assert header.split() == load.COLUMNS
    assert values.split()[:3] == ["personalizado", "30", "3"]


def test_cli_load_closed_port():
    url = f"http://127.0.0.1:{free_port()}"
    r = _kit("load", "--url", url, "--requests", "5")
    assert r.returncode == 1
    assert f"A API não responde em {url}" in r.stderr and "python -m kit serve" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


# --- export -------------------------------------------------------------------------------------

def test_export_from_prometheus(live_stack, tmp_path):
    api, _ = live_stack
    # Idempotente: se um teste de test_stack_live.py (no mesmo processo do xdist) parou a stack da sessão de
    # propósito, ela volta; senão, nada muda.
    stack.up(mode="native", fast=True, quiet=True)
    wait_until(lambda: prom.value('up{job="api-churn"}') == 1, 60, fail="o alvo api-churn nunca ficou UP")
    load.run(api.url, requests=60, workers=4, progress=False)
    wait_until(lambda: prom.query(f'sum(rate(api_requests_total{{endpoint="{CHURN}"}}[1m])) > 0'), 30,
               fail="a carga não apareceu no Prometheus")

    report = export.export(tmp_path, minutes=5)
    assert report.source == "prometheus"
    assert report.csv_path.exists() and report.json_path.exists()

    csv = pd.read_csv(report.csv_path)
    assert list(csv.columns) == export.COLUMNS
    rate = csv[csv["metrica"] == "requisicoes_por_s_por_endpoint"]
    endpoints = {json.loads(labels)["endpoint"] for labels in rate["labels"]}
    assert CHURN in endpoints and "/metrics" not in endpoints
    assert rate["valor"].max() > 0
    assert csv.loc[csv["metrica"] == "latencia_p95_s", "valor"].dropna().gt(0).any()
    for name in ("model_f2_score", "model_auc_score", "churn_predictions_high_risk", "api_up"):
        assert (csv["metrica"] == name).any(), name

    def no_nan(token):
        raise ValueError(f"JSON com {token}")

    document = json.loads(report.json_path.read_text(encoding="utf-8"), parse_constant=no_nan)
    assert document["fonte"] == "prometheus" and set(document["consultas"]) == set(export.QUERIES)
    assert len(document["linhas"]) == len(csv)

    r = _kit("export", "--saida", str(tmp_path / "cli"), "--minutos", "2")
    assert r.returncode == 0, r.stderr
    assert "Fonte: prometheus" in r.stdout
    assert (tmp_path / "cli" / export.CSV_NAME).exists()


def test_export_without_prometheus(api, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "prometheus_url", f"http://127.0.0.1:{free_port()}")
    load.run(api.url, requests=20, workers=2, progress=False)

    report = export.export(tmp_path, api_url=api.url)
    assert report.source == "metrics"
    document = json.loads(report.json_path.read_text(encoding="utf-8"))
    assert document["fonte"] == "metrics" and "Prometheus indisponível" in document["mensagem"]

    frame = report.frame
    exported = {}
    for name, labels, value in zip(frame["metrica"], frame["labels"].map(json.loads), frame["valor"]):
        if name == "api_requests_total" and labels["endpoint"] == CHURN:
            exported[int(labels["status_code"])] = value
    assert exported == _churn_counts(api.url)
    f2 = frame.loc[frame["metrica"] == "model_f2_score", "valor"]
    assert f2.tolist() == [s.value for f in metrics.model_f2_score.collect() for s in f.samples]
    assert pd.read_csv(report.csv_path).shape == frame.shape


def test_export_with_nothing_up_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "prometheus_url", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(export.MetricasIndisponiveis, match="Nem o Prometheus"):
        export.export(tmp_path, api_url=f"http://127.0.0.1:{free_port()}")
