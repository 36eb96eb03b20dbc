"""Logs: JSON válido, rotação, sem duplicatas, uma linha por requisição."""
from __future__ import annotations

import json
import threading
import time

import httpx

from kit import logger as kitlog


def _json_lines(folder, component):
    lines = []
    for path in sorted(folder.glob(f"{component}*.json")):
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    return [json.loads(line) for line in lines if line.strip()]


def test_json_lines_parse_with_context_and_exceptions(tmp_path):
    log = kitlog.setup("training", logs_dir=tmp_path)
    log.bind(request_id="abc").info("olá", linhas=3)
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("falhou")
    rows = _json_lines(tmp_path, "training")
    assert rows[0]["message"] == "olá" and rows[0]["linhas"] == 3 and rows[0]["request_id"] == "abc"
    assert rows[0]["component"] == "training" and rows[0]["level"] == "INFO"
    assert "ZeroDivisionError" in rows[1]["exception"]
    assert (tmp_path / "training.log").read_text().count("olá") == 1


def test_setup_twice_does_not_duplicate(tmp_path):
    kitlog.setup("prediction", logs_dir=tmp_path)
    log = kitlog.setup("prediction", logs_dir=tmp_path)
    log.info("uma vez")
    assert [r["message"] for r in _json_lines(tmp_path, "prediction")] == ["uma vez"]


def test_components_do_not_mix(tmp_path):
    kitlog.setup("drift", logs_dir=tmp_path).info("do drift")
    kitlog.setup("evaluation", logs_dir=tmp_path).info("da avaliação")
    assert [r["message"] for r in _json_lines(tmp_path, "drift")] == ["do drift"]
    assert [r["message"] for r in _json_lines(tmp_path, "evaluation")] == ["da avaliação"]


def test_rotation_under_concurrency_keeps_every_line(tmp_path):
    log = kitlog.setup("load", logs_dir=tmp_path, rotation="20 KB")
    per_thread, threads = 400, 4

    def work(t):
        for i in range(per_thread):
            log.info("linha", t=t, i=i)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    files = list(tmp_path.glob("load*.json"))
    assert len(files) > 3, "a rotação por tamanho deveria ter criado vários arquivos"
    rows = _json_lines(tmp_path, "load")
    assert sorted((r["t"], r["i"]) for r in rows) == [(t, i) for t in range(threads) for i in range(per_thread)]


def test_one_log_line_per_request(api):
    path = kitlog.log_path("api")
    kitlog.flush()
    start = len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
    ids = list(api.app.state.service.predictions)[:5]
    with httpx.Client(base_url=api.url) as client:
        for i in ids:
            client.get(f"/churn/{i}")
        client.get("/churn/11111111")
        client.get("/churn/xyz")
    # A linha é escrita logo depois de a resposta sair: espere-a (no máximo 3 s), sem aceitar linhas a mais.
    deadline = time.monotonic() + 3
    while True:
        kitlog.flush()
        rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()[start:]]
        # (só /churn: o GET /health com que o runner confirma que a API subiu também gera linha, talvez atrasada)
        requests = [r for r in rows if r.get("kind") == "request" and r.get("endpoint") == "/churn/{id_cliente}"]
        if len(requests) >= 7 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(requests) == 7
    assert len({r["request_id"] for r in requests}) == 7
    assert [r["status_code"] for r in requests] == [200] * 5 + [404, 422]
    assert all(r["duration_ms"] >= 0 for r in requests)
    assert [r["id_cliente"] for r in requests[:5]] == ids
    allowed = {"time", "level", "component", "message", "module", "function", "line", "kind", "request_id",
               "method", "endpoint", "status_code", "duration_ms", "id_cliente"}
    assert all(set(r) <= allowed for r in requests), "nenhum dado pessoal além do id do cliente"
