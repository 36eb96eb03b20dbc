"""Quanto custa um aluno num JupyterHub: memória e CPU do servidor, kernel (com a API), Prometheus e
Alertmanager — ociosos e durante a aula 01 — e o tempo da aula com 1 aluno sozinho vs 3 ao mesmo tempo.

Sobe um JupyterHub real no loopback (o mesmo de tests/test_hub.py: spawner de processos locais, proxy do npm).
Cada aluno é novo (pasta vazia: gera os dados e treina o modelo, como no primeiro dia de aula).

    .venv/bin/python bench/bench_hub.py                 # ≈ 2–3 min; grava outputs/bench_hub.json
    .venv/bin/python bench/bench_hub.py --alunos 5      # outra turma simultânea
    .venv/bin/python bench/bench_hub.py --aula notebooks/06_integracao_testes.ipynb

Rode numa máquina quieta para números limpos: o resultado traz a carga (load average) antes e depois.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests/hub_driver.py (é um script, não um notebook)
from tests import hub_driver  # noqa: E402
from tests.conftest import free_port  # noqa: E402

MB = 1024 * 1024


def _components(seen: dict) -> dict[str, psutil.Process]:
    kernel = psutil.Process(seen["pid"])
    procs = {"servidor": kernel.parent(), "kernel+API": kernel}
    for name, pid in seen["pids"].items():
        procs[name] = psutil.Process(pid)
    return procs


class Sampler(threading.Thread):
    """Pico de RSS por componente (descendentes do hub) enquanto a aula roda — amostra a cada 0,5 s."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(root)
        self.peak: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for proc in self.root.children(recursive=True):
                try:
                    name, rss = _classify(proc.cmdline()), proc.memory_info().rss / MB
                except psutil.Error:
                    continue
                if name:
                    self.peak[name] = max(self.peak.get(name, 0), round(rss, 1))
            time.sleep(0.5)


def _classify(cmdline: list[str]) -> str | None:
    text = " ".join(cmdline[:4])
    for name, marker in (("alertmanager", "alertmanager"), ("prometheus", "prometheus"), ("vigia", "kit._hub"),
                         ("kernel+API", "ipykernel"), ("servidor", "jupyterhub-singleuser")):
        if marker in text:
            return name
    return None


def _measure_idle(procs: dict[str, psutil.Process], seconds: float) -> dict[str, dict]:
    before = {n: p.cpu_times() for n, p in procs.items()}
    time.sleep(seconds)
    out = {}
    for name, proc in procs.items():
        after = proc.cpu_times()
        cpu = (after.user + after.system - before[name].user - before[name].system) / seconds
        out[name] = {"rss_mb": round(proc.memory_info().rss / MB, 1), "cpu_pct": round(100 * cpu, 2),
                     "cpu_s_total": round(after.user + after.system, 2)}
    return out


def run_class(hub, users: list[str], lesson: Path) -> tuple[float, dict]:
    browsers = {u: hub_driver.login(hub, u) for u in users}
    for u, browser in browsers.items():
        hub_driver.spawn(hub, browser, u)
    hub_driver.wait_ready(hub, users)
    tokens = {u: hub_driver.user_token(hub, u) for u in users}
    cells = [*hub_driver.lesson_cells(lesson), hub_driver.PROBE]

    seconds = {u: [] for u in users}

    async def all_lessons():
        return await asyncio.gather(*(hub_driver.run_in_kernel(hub, u, tokens[u], cells, timeout=600,
                                                               seconds=seconds[u]) for u in users))

    outputs = asyncio.run(all_lessons())
    elapsed = max(sum(s[:-1]) for s in seconds.values())  # todos começam juntos; a sonda final não conta
    seen = {u: hub_driver.probe(out) for u, out in zip(users, outputs)}
    hub.owned += [pid for s in seen.values() for pid in s["pids"].values()]
    return elapsed, seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alunos", type=int, default=3, help="alunos simultâneos na 2ª rodada (padrão 3)")
    parser.add_argument("--aula", type=Path, default=hub_driver.LESSON, help="notebook da aula (padrão: a 01)")
    parser.add_argument("--ocioso", type=float, default=20, help="segundos de medição ociosa (padrão 20)")
    args = parser.parse_args()
    proxy = hub_driver.find_proxy()
    if not proxy:
        sys.exit("Falta o configurable-http-proxy: rode `bash scripts/install_system_deps.sh`.")
    work = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    solo, turma = ["solo"], [f"aluno{i}" for i in range(1, args.alunos + 1)]
    result = {"aula": args.aula.name, "maquina": {"nucleos": psutil.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
                          "load_antes": [round(x, 2) for x in os.getloadavg()]}}
    env = {"KIT_PORTAS_DIR": str(work / "portas"), "LOG_CONSOLE_LEVEL": "WARNING"}
    with hub_driver.running_hub(work / "hub", [*solo, *turma], [free_port(), free_port(), free_port()], proxy,
                                env) as hub:
        sampler = Sampler(hub.proc.pid)
        sampler.start()
        t1, seen1 = run_class(hub, solo, args.aula)
        sampler.stop.set()
        sampler.join()
        result["aula_1_aluno_s"] = round(t1, 1)
        result["pico_aula_mb"] = sampler.peak
        procs = _components(seen1["solo"])
        result["cpu_aula_s"] = {n: round(sum(p.cpu_times()[:2]), 2) for n, p in procs.items()}
        result["ocioso"] = _measure_idle(procs, args.ocioso)
        hub.stop_server("solo")
        tn, _ = run_class(hub, turma, args.aula)
        result[f"aula_{len(turma)}_alunos_s"] = round(tn, 1)
    result["maquina"]["load_depois"] = [round(x, 2) for x in os.getloadavg()]
    out = ROOT / "outputs" / "bench_hub.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"\nrazão {len(turma)} alunos juntos / 1 sozinho: {tn / t1:.2f}  (gravado em {out})")


if __name__ == "__main__":
    main()
