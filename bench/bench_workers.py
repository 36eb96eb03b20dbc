"""Vários workers: vazão de GET /churn/{id} com 1, 2 e 4 workers, e o custo do modo multiprocesso no /metrics.

Mesma máquina, mesma ferramenta de carga (a de bench_instrumentation: `wrk` se existir, senão httpx em
threads), mesma execução. Cada variante é a API real instrumentada (`python -m kit serve --workers N`, via
kit.workers), numa porta livre; 1 worker = o `serve` de sempre (um processo, registro na memória).
Reportamos as razões em relação a 1 worker, e o tempo de uma coleta de /metrics com 4 workers
(modo multiprocesso: lê e junta os arquivos de cada PID) ÷ com 1 worker (registro na memória).

A vazão só cresce com os workers se eles ganham núcleos: por isso, para cada variante, o uso de CPU
(% de um núcleo) da API (supervisor + workers), da ferramenta de carga e da máquina inteira (o que
sobra é de outros processos). Numa máquina de 2 núcleos, `cpu_api_pct` perto de 100 com 2 workers
quer dizer que eles dividiram um núcleo só — a razão não mede os workers, mede a máquina ocupada.
`cpu_api_ms_por_req` (CPU da API por requisição) não depende de quantos núcleos sobraram: é o custo.

    python bench/bench_workers.py [--seconds 5] [--connections 16] [--scrapes 50]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

from bench_instrumentation import load_httpx, load_wrk  # mesmo gerador de carga do outro benchmark
from _report import save

import httpx  # noqa: E402

from kit import _process, model, workers  # noqa: E402
from kit.config import settings  # noqa: E402


def _single(port: int) -> subprocess.Popen:
    proc = _process.launch([sys.executable, "-m", "kit", "serve", "--port", str(port)])
    _process.wait_ready("API (1 worker)", f"http://127.0.0.1:{port}/health", proc=proc, timeout=120)
    return proc


def _cpu_s(pids: list[int]) -> float:
    """Segundos de CPU (usuário + sistema) já gastos pelos processos `pids` (Linux: /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (em tiques)
    return total / os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """Segundos de CPU ocupada na máquina inteira, somando os núcleos (/proc/stat)."""
    ticks = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # menos idle e iowait


def _measure(load, url: str, ids: list[int], seconds: float, connections: int, api_pids) -> dict:
    """Vazão, e o uso de CPU (% de um núcleo) da API, da carga (este processo + o wrk) e da máquina."""
    def own() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system  # children: o wrk, que já terminou

    pids = api_pids()
    api0, load0, machine0, start = _cpu_s(pids), own(), _machine_busy_s(), time.perf_counter()
    rps = load(url, ids, seconds, connections)
    wall = time.perf_counter() - start
    api = _cpu_s(pids) - api0
    pct = lambda used: round(100 * used / wall)  # noqa: E731
    return {"req_s": round(rps, 1), "cpu_api_ms_por_req": round(1000 * api / (rps * wall), 3),
            "cpu_api_pct": pct(api), "cpu_carga_pct": pct(own() - load0), "cpu_maquina_pct": pct(_machine_busy_s() - machine0)}


def _scrape_ms(url: str, n: int) -> float:
    times = []
    with httpx.Client() as client:
        for _ in range(n):
            start = time.perf_counter()
            client.get(f"{url}/metrics").raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args()
    model.train()
    ids = [int(i) for i in model.predict_batch("novos_1")["id_cliente"][:500]]
    load, tool = (load_wrk, "wrk") if shutil.which("wrk") else (load_httpx, "httpx em threads")
    results = {}
    for n in (1, 2, 4):
        port = _process.free_port()
        handle = _single(port) if n == 1 else workers.start(n, port=port, timeout=180)
        url = f"http://127.0.0.1:{port}"
        try:
            load(url, ids, 1.0, args.connections)  # aquecimento
            pids = (lambda: [handle.pid]) if n == 1 else (lambda: [handle.proc.pid, *handle.pids()])
            results[n] = _measure(load, url, ids, args.seconds, args.connections, pids)
            results[n]["metrics_ms"] = round(_scrape_ms(url, args.scrapes), 2)
        finally:
            if n == 1:
                _process.terminate(handle)
            else:
                workers.stop(handle)
        print(f"{n} worker(s): {results[n]}", flush=True)
    report = {
        "maquina": f"{os.cpu_count()} núcleos", "ferramenta": tool, "segundos": args.seconds,
        "conexoes": args.connections, "por_workers": results,
        "vazao_2_sobre_1": round(results[2]["req_s"] / results[1]["req_s"], 2),
        "vazao_4_sobre_1": round(results[4]["req_s"] / results[1]["req_s"], 2),
        "coleta_metrics_4_sobre_1": round(results[4]["metrics_ms"] / results[1]["metrics_ms"], 2),
        "nota": ("a carga roda na mesma máquina e divide os núcleos com os workers; cpu_*_pct em % de um núcleo "
                 f"(a máquina tem {os.cpu_count() * 100}); cpu_maquina_pct - cpu_api_pct - cpu_carga_pct = outros "
                 "processos"),
    }
    save("bench_workers", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
