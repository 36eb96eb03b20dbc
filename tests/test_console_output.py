"""O que o aluno vê no console do notebook: exceções curtas, sem caminhos; alertas só quando ele pede."""
from __future__ import annotations

import io
import json

import httpx
from loguru import logger

from kit import alerts, model
from kit import logger as kit_logger
from tests._tools import free_port


def test_console_shows_one_line_per_exception_and_the_file_keeps_the_traceback(tmp_path):
    console = io.StringIO()
    sink = logger.add(console, format=kit_logger._console_format, colorize=False)
    log = kit_logger.setup("console_teste", logs_dir=tmp_path)
    try:
        try:
            model.load(version=999, models_dir=tmp_path)
        except model.ModeloAusente:
            log.exception("Não consegui carregar o modelo pedido")
    finally:
        logger.remove(sink)
    text = console.getvalue()
    assert "Não consegui carregar o modelo pedido" in text
    assert "↳ ModeloAusente: " in text and "logs/console_teste.json" in text
    assert 'File "' not in text and "Traceback" not in text and str(tmp_path) not in text
    saved = json.loads((tmp_path / "console_teste.json").read_text(encoding="utf-8").splitlines()[-1])
    assert "Traceback" in saved["exception"] and "test_console_output.py" in saved["exception"]


def test_receiver_records_alerts_without_writing_to_the_console(monkeypatch):
    console = io.StringIO()
    # o mesmo filtro do console do kit: linhas kind="request" ficam só nos arquivos
    sink = logger.add(console, format=kit_logger._console_format, colorize=False,
                      filter=lambda r: r["extra"].get("kind") != "request")
    url = alerts.start_receiver(host="127.0.0.1", port=free_port())
    try:
        alerts.clear()
        body = {"alerts": [{"status": "firing", "labels": {"alertname": "ApiDown", "severity": "critical"},
                            "annotations": {"summary": "API fora do ar"}}]}
        assert httpx.post(url, json=body).status_code == 200
    finally:
        alerts.stop_receiver()
        logger.remove(sink)
    assert [a["alerta"] for a in alerts.received("ApiDown", "firing")] == ["ApiDown"]
    assert "ApiDown" not in console.getvalue()


class _Api:
    url = "http://127.0.0.1:8000"


def test_lesson_summary_never_contradicts_itself():
    from kit.course import Session

    assert "não usa a stack" in repr(Session(_Api(), "none", prometheus=True, stack_requested=False))
    assert "stack none" not in repr(Session(_Api(), "none", prometheus=True, stack_requested=False))
    assert "stack native, Prometheus no ar" in repr(Session(_Api(), "native", prometheus=True))
    assert "sem Prometheus" in repr(Session(_Api(), "none", prometheus=False))


def test_lesson_window_starts_when_the_lesson_api_started():
    import time

    from kit.course import Session

    session = Session(_Api(), "native", prometheus=True, started_at=time.time() - 42.7)
    assert session.window() == "42s"  # nada de antes da API desta aula (arredonda para baixo)
    assert Session(_Api(), "native", prometheus=True, started_at=time.time()).window() == "2s"  # mínimo p/ rate()
