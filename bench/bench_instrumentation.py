"""Custo da instrumentação: vazão de GET /churn/{id} com e sem métricas + log por requisição.

Mesma máquina, mesma ferramenta de carga, mesma execução: cada variante roda numa
thread do mesmo processo (como no notebook) e é medida em rodadas alternadas;
reportamos a mediana da razão (instrumentada ÷ sem instrumentação). Meta: ≥ 0,8.

Ferramenta de carga: `wrk` (apt-get install wrk) se existir — gasta pouca CPU;
senão um cliente httpx em threads (a razão continua válida, a vazão absoluta cai).

    python bench/bench_instrumentation.py [--seconds 5] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from _report import save  # bench/_report.py (os scripts rodam como `python bench/<nome>.py`)
from kit._process import free_port

os.environ.setdefault("KIT_HOME", tempfile.mkdtemp(prefix="kit-bench-"))
os.environ.setdefault("LOG_CONSOLE_LEVEL", "WARNING")

import httpx  # noqa: E402

from kit import model, runner  # noqa: E402
from kit.api import create_app  # noqa: E402
from kit.config import settings  # noqa: E402


WRK_LUA = """
local ids = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/churn/" .. ids[(n %% #ids) + 1])
end
"""


def load_wrk(url: str, ids: list[int], seconds: float, connections: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA % ",".join(map(str, ids)))
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(round(seconds))}s", "-s", fh.name, url],
                         capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"respostas não-2xx durante a carga: {non2xx.group(1)}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def load_httpx(url: str, ids: list[int], seconds: float, connections: int) -> float:
    done = [0] * connections
    stop = time.perf_counter() + seconds

    def worker(k):
        with httpx.Client(base_url=url) as client:
            i = k
            while time.perf_counter() < stop:
                client.get(f"/churn/{ids[i % len(ids)]}").raise_for_status()
                done[k] += 1
                i += connections

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    if not model.list_versions():
        model.train()
    if not (settings.outputs_dir / "predicoes.csv").exists():
        model.predict_batch("novos_1")
    tool = "wrk" if shutil.which("wrk") else "httpx"
    load = load_wrk if tool == "wrk" else load_httpx
    servers = {
        "instrumentada": runner.start(port=free_port(), app=create_app(instrument=True)),
        "sem_instrumentacao": runner.start(port=free_port(), app=create_app(instrument=False)),
    }
    ids = list(servers["instrumentada"].app.state.service.predictions)[:500]
    results = {name: [] for name in servers}
    try:
        for name, server in servers.items():  # aquecimento
            load(server.url, ids, 1, args.connections)
        for _ in range(args.rounds):
            for name, server in servers.items():
                results[name].append(load(server.url, ids, args.seconds, args.connections))
    finally:
        runner.stop_all()
    ratios = [a / b for a, b in zip(results["instrumentada"], results["sem_instrumentacao"])]
    report = {
        "ferramenta": tool, "segundos_por_rodada": args.seconds, "rodadas": args.rounds,
        "conexoes": args.connections,
        "req_s_instrumentada": [round(x, 1) for x in results["instrumentada"]],
        "req_s_sem_instrumentacao": [round(x, 1) for x in results["sem_instrumentacao"]],
        "razao_por_rodada": [round(r, 3) for r in ratios],
        "razao_mediana": round(statistics.median(ratios), 3),
        "meta": 0.8,
    }
    save("instrumentation", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
