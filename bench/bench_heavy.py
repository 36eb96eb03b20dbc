"""Dez vezes o cenário pesado (5 000 requisições, 50 workers) contra a API numa thread do mesmo processo.

Confere: zero 5xx, nada perdido (aumento de api_requests_total por status == contagem do cliente),
e a memória do processo (RSS) antes, depois e no pico.

    python bench/bench_heavy.py
"""
from __future__ import annotations

import os
import resource
import sys
import tempfile
from pathlib import Path

from _report import save  # bench/_report.py (os scripts rodam como `python bench/<nome>.py`)

os.environ.setdefault("KIT_HOME", tempfile.mkdtemp(prefix="kit-bench-"))
os.environ.setdefault("LOG_CONSOLE_LEVEL", "WARNING")

import httpx  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from kit import course, load, runner  # noqa: E402
from kit._process import free_port  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def requests_by_status(url: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for s in family.samples:
            if s.name == "api_requests_total" and s.labels.get("endpoint") == "/churn/{id_cliente}":
                out[s.labels["status_code"]] = out.get(s.labels["status_code"], 0) + s.value
    return out


def main() -> int:
    course.prepare()
    api = runner.start(port=free_port())
    before_rss = rss_mb()
    before = requests_by_status(api.url)
    result = load.run(url=api.url, requests=5000, workers=50, progress=False)
    import time

    time.sleep(0.5)  # a última métrica é registrada logo depois da resposta
    after = requests_by_status(api.url)
    after_rss = rss_mb()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runner.stop(port)
    server_counts = {code: int(after.get(code, 0) - before.get(code, 0)) for code in after}
    server_counts = {k: v for k, v in server_counts.items() if v}
    client_counts = {str(k): v for k, v in result.status_counts.items()}
    report = {
        "requisicoes": 5000, "workers": 50, "duracao_s": round(result.duration_s, 2), "req_s": round(result.req_s, 1),
        "p50_ms": round(result.p50_ms, 1), "p95_ms": round(result.p95_ms, 1), "p99_ms": round(result.p99_ms, 1),
        "status_cliente": client_counts, "status_servidor": server_counts,
        "nada_perdido": client_counts == server_counts, "erros_5xx": sum(v for k, v in client_counts.items()
                                                                       if k.startswith("5")),
        "erros_conexao": result.errors,
        "rss_antes_mb": round(before_rss, 1), "rss_depois_mb": round(after_rss, 1), "rss_pico_mb": round(peak_rss, 1),
    }
    save("heavy", report)
    return 0 if report["nada_perdido"] and report["erros_5xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
