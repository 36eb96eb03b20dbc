"""Tempos reais da stack nativa, com os intervalos de produção de monitoring/ (não o modo rápido).

- API no ar → primeira amostra no Prometheus (job api-churn UP);
- API parada → alerta ApiDown entregue ao receptor do kit (for: 1m + coleta + avaliação + group_wait).

    python bench/bench_stack.py       (≈ 2 min; precisa de prometheus e prometheus-alertmanager)
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

from _report import save  # bench/_report.py (os scripts rodam como `python bench/<nome>.py`)
from kit._process import free_port


os.environ.setdefault("KIT_HOME", tempfile.mkdtemp(prefix="kit-bench-"))
os.environ.setdefault("LOG_CONSOLE_LEVEL", "WARNING")
for name in ("PROMETHEUS_PORT", "ALERTMANAGER_PORT", "ALERT_RECEIVER_PORT"):
    os.environ[name] = str(free_port())

from kit import alerts, model, prom, runner, stack  # noqa: E402
from kit.config import settings  # noqa: E402


def wait(predicate, timeout):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.2)
    return None


def main() -> int:
    if not model.list_versions():
        model.train()
        model.predict_batch("novos_1")
    stack.up(mode="native", fast=False, quiet=True)
    try:
        api = runner.start(port=settings.api_port)
        first_sample = wait(lambda: prom.value('up{job="api-churn"}') == 1, 120)
        runner.stop(api.port)
        alert = wait(lambda: alerts.received("ApiDown", "firing"), 300)
    finally:
        stack.down(quiet=True)
    report = {"api_no_ar_ate_primeira_amostra_s": round(first_sample, 1) if first_sample else None,
              "api_parada_ate_alerta_no_receptor_s": round(alert, 1) if alert else None,
              "intervalos": "scrape 10s, avaliação 15s, ApiDown for 1m, group_wait 10s"}
    save("stack", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
