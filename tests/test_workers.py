"""Vários workers (kit.workers): a API real em processos reais, raspada pela rede.

- com o modo multiprocesso, N requisições espalhadas por 2 workers fazem o api_requests_total raspado
  subir exatamente N;
- um worker morto (SIGKILL, com uma requisição em andamento) é trocado pelo supervisor: o que já foi
  contado continua lá e o gauge de requisições em andamento não guarda a requisição do morto;
- sem o modo multiprocesso (a demonstração da aula), nenhuma coleta vê as N requisições;
- as conexões que os workers aceitam têm TCP_NODELAY (sem ele, ~40 ms a mais por resposta keep-alive).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from kit import workers
from kit.config import settings
from tests._tools import free_port, wait_until

pytestmark = pytest.mark.slow
CHURN = "/churn/{id_cliente}"


@pytest.fixture(scope="module")
def ids(trained):
    return [int(i) for i in pd.read_csv(settings.predictions_path)["id_cliente"][:400]]


@pytest.fixture(scope="module")
def two_workers(trained):
    api = workers.start(2, timeout=180)
    yield api
    workers.stop(api)
    assert not api.folder.exists(), "a pasta do modo multiprocesso ficou para trás"


def scrape(url: str) -> dict[str, float]:
    """{métrica: valor} do /metrics (api_requests_total só de /churn/{id_cliente}), numa conexão nova."""
    text = httpx.get(f"{url}/metrics", headers={"Connection": "close"}).text
    values = {"churn": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "api_requests_total" and sample.labels.get("endpoint") == CHURN:
                values["churn"] += sample.value
            elif sample.name in ("api_active_requests", "api_predictions_loaded"):
                values[sample.name] = sample.value
            elif sample.name == "model_version_info":
                values.setdefault("versions", []).append(sample.labels["version"])
    return values


def churn_per_worker(folder) -> dict[int, float]:
    """Quantas /churn/{id} cada worker contou, lido dos arquivos mmap de cada PID."""
    out = {}
    for path in folder.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        out[pid] = sum(value for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path))
                       if json.loads(key)[1] == "api_requests_total" and json.loads(key)[2].get("endpoint") == CHURN)
    return out


def send(url: str, ids: list[int]) -> int:
    """Uma conexão nova por requisição, 8 em paralelo: o sistema as reparte entre os workers."""
    def get(i):
        return httpx.get(f"{url}/churn/{i}", headers={"Connection": "close"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(get, ids))
    assert statuses == [200] * len(ids)
    return len(ids)


def test_scraped_counter_rises_by_exactly_the_requests_sent(two_workers, ids):
    before = scrape(two_workers.url)["churn"]
    sent = 0
    for round_ in range(5):  # até as requisições caírem nos dois workers
        sent += send(two_workers.url, ids[40 * round_: 40 * (round_ + 1)])
        busy = [pid for pid, n in churn_per_worker(two_workers.folder).items() if n > 0]
        if len(busy) >= 2:
            break
    assert len(busy) >= 2, f"as {sent} requisições não se espalharam pelos 2 workers: {busy}"
    for _ in range(4):  # qualquer worker que atenda a coleta dá o mesmo total
        assert scrape(two_workers.url)["churn"] - before == sent


def test_a_killed_worker_loses_nothing_and_leaves_no_stale_gauge(two_workers, ids):
    send(two_workers.url, ids[:20])
    before = scrape(two_workers.url)
    assert before["api_active_requests"] == 1  # só a própria coleta
    # Uma requisição que fica em andamento: cabeçalhos de um POST e só metade do corpo.
    hold = socket.create_connection(("127.0.0.1", two_workers.port))
    hold.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")

    def worker_holding_it():
        for path in two_workers.folder.glob("gauge_livesum_*.db"):
            if any(json.loads(key)[1] == "api_active_requests" and value >= 1
                   for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path))):
                return int(path.stem.split("_")[2])
        return None

    victim = wait_until(worker_holding_it, timeout=20, fail="a requisição presa não apareceu em nenhum worker")
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(p := two_workers.pids(ready=True)) == 2 and victim not in p,
               timeout=120, fail="o supervisor não trocou o worker morto")
    hold.close()
    after = scrape(two_workers.url)
    assert after["churn"] == before["churn"], "o que o worker morto já tinha contado se perdeu"
    assert after["api_active_requests"] == 1, (
        f"o gauge de requisições em andamento guardou a do worker morto ({after['api_active_requests']})")
    assert after["api_predictions_loaded"] > 0 and len(after["versions"]) == 1, after


def test_without_multiprocess_mode_no_scrape_sees_every_request(trained, ids):
    api = workers.start(2, multiprocess=False, timeout=180)
    try:
        sent, seen = 0, []
        for round_ in range(5):
            sent += send(api.url, ids[40 * round_: 40 * (round_ + 1)])
            seen = [scrape(api.url)["churn"] for _ in range(6)]
            if max(seen) < sent:
                break
    finally:
        workers.stop(api)
    assert max(seen) < sent, f"sem multiprocesso uma coleta viu as {sent} requisições: {seen}"


def test_connections_accepted_on_the_workers_socket_have_tcp_nodelay():
    """O socket que o supervisor divide entre os workers, servido como o uvicorn serve (create_server(sock=)).

    Sem TCP_NODELAY na conexão aceita, o Nagle segura o corpo da resposta até o ACK atrasado do cliente
    (~40 ms) e 2 workers atendiam 5× menos que 1 (bench/bench_workers.py; uvicorn#3149).
    """
    import uvicorn

    sock = workers._listening_socket(uvicorn.Config("kit.api:create_app", host="127.0.0.1", port=free_port()))
    address, nodelay = sock.getsockname(), []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            nodelay.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one():
        async with await asyncio.get_running_loop().create_server(Probe, sock=sock):
            _, writer = await asyncio.open_connection(*address)
            for _ in range(500):
                if nodelay:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(accept_one())
    assert nodelay == [1], f"a conexão aceita pelo worker ficou com o Nagle ligado (TCP_NODELAY={nodelay})"
