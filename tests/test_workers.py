"""Vários workers (kit.workers): a API real em processos reais, raspada pela rede.

- com o modo multiprocesso, N requisições espalhadas por 2 workers fazem o api_requests_total raspado
  subir exatamente N;
- um worker morto (SIGKILL, com uma requisição em andamento) é trocado pelo supervisor: o que já foi
  contado continua lá e o gauge de requisições em andamento não guarda a requisição do morto;
- sem o modo multiprocesso (a demonstração da aula), nenhuma coleta vê as N requisições;
- as conexões que os workers aceitam têm TCP_NODELAY (sem ele, ~40 ms a mais por resposta keep-alive), e um
  worker não leva as conexões do outro (cada um com o seu socket na porta, SO_REUSEPORT).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.reduction import ForkingPickler

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



def socket_in_a_worker(sock):
    """O socket como um worker o recebe: o supervisor do uvicorn o passa por pickle ao processo novo."""
    return ForkingPickler.loads(ForkingPickler.dumps(sock))


def test_connections_accepted_by_a_worker_have_tcp_nodelay():
    """Servido como o uvicorn serve (create_server(sock=...)), o socket do worker aceita conexões com TCP_NODELAY.

    Sem ele o Nagle segura o corpo de cada resposta keep-alive até o ACK atrasado do cliente (~40 ms) e 2
    workers atendiam 5× menos que 1 (bench/bench_workers.py; uvicorn#3149).
    """
    parent = workers._listening_socket("127.0.0.1", free_port())
    sock, nodelay = socket_in_a_worker(parent), []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            nodelay.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one():
        async with await asyncio.get_running_loop().create_server(Probe, sock=sock):
            _, writer = await asyncio.open_connection(*parent.getsockname())
            for _ in range(500):
                if nodelay:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    try:
        asyncio.run(accept_one())
    finally:
        parent.close()
    assert nodelay == [1], f"a conexão aceita pelo worker ficou com o Nagle ligado (TCP_NODELAY={nodelay})"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="só no Linux o SO_REUSEPORT reparte conexões")
def test_a_greedy_worker_cannot_take_the_other_workers_connections():
    """Dois workers: um aceita tudo o que pode; o outro ainda tem conexões na fila dele.

    Com um socket só (o padrão do uvicorn), o worker que acorda primeiro levava todas as conexões abertas
    juntas (as 16 do wrk) e, com keep-alive, atendia sozinho: 2 workers não passavam de 1 núcleo.
    """
    parent = workers._listening_socket("127.0.0.1", free_port())
    greedy, other = socket_in_a_worker(parent), socket_in_a_worker(parent)
    for sock in (greedy, other):
        sock.listen(64)
        sock.setblocking(False)
    clients = [socket.create_connection(parent.getsockname()) for _ in range(32)]
    taken = {"greedy": [], "other": []}

    def drain(name, sock):
        while True:
            try:
                taken[name].append(sock.accept()[0])
            except BlockingIOError:
                return

    try:
        def all_accepted():
            drain("greedy", greedy)  # o guloso primeiro, sempre: leva tudo o que puder
            drain("other", other)
            return sum(map(len, taken.values())) == len(clients)

        wait_until(all_accepted, timeout=10, poll=0.05, fail="as 32 conexões não chegaram aos dois sockets")
        assert taken["other"], "o worker guloso aceitou as 32 conexões: o outro ficou parado"
    finally:
        for conn in clients + taken["greedy"] + taken["other"] + [greedy, other, parent]:
            conn.close()
