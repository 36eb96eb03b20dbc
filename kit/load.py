"""Testes de carga na API de churn (a seção 6.2 do projeto original), com barra de progresso.

    from kit import load
    resultado = load.run(cenario="media")          # 200 requisições, 10 workers
    resultado.table()                              # uma linha: req/s, status, p50/p95/p99
    resultados = load.run_scenarios(pause_s=2)     # leve → media → pesada, como no projeto original
    load.summary(resultados)                       # as três linhas numa tabela só

Cada requisição é um `GET /churn/{id_cliente}`. Os ids vêm do lote previsto
(`outputs/predicoes.csv`), mais uma fração controlada (`unknown_share`, 10 % por
padrão) de ids de 8 dígitos que *não* estão no lote: a API responde 404 para eles,
que é uma resposta normal ("cliente desconhecido"), não um erro do serviço.

O que medimos aqui é o lado do cliente: duração total, requisições por segundo,
contagem por status HTTP e percentis de latência (p50/p95/p99, em ms). Compare com
o que o Prometheus mostra do lado do servidor (`api_request_duration_seconds`):
a diferença é o tempo de rede, de fila e do próprio cliente.

Limites: cada execução tem um número fixo de requisições e um timeout por
requisição. Falhas de conexão no meio da execução são contadas em `errors`,
nunca levantadas — a execução sempre termina.
"""
from __future__ import annotations

import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import httpx
import numpy as np
import pandas as pd
# Barra de texto (não o widget do tqdm.auto): no notebook salvo fica o estado final, não um widget parado em 0 %.
from tqdm.std import tqdm

from kit.config import settings
from kit.errors import EntradaInvalida, ErroDoKit

# Os três cenários do projeto original: (requisições, workers em paralelo).
SCENARIOS = {"leve": (50, 5), "media": (200, 10), "pesada": (500, 20)}
ENDPOINT = "/churn/{id_cliente}"
# As colunas de `LoadResult.table()` (e de `summary()`), nesta ordem.
COLUMNS = ["cenario", "requisicoes", "workers", "duracao_s", "req_s", "status_200", "status_404",
           "status_5xx", "outros_status", "erros_conexao", "p50_ms", "p95_ms", "p99_ms"]


class ApiIndisponivel(ErroDoKit, ConnectionError):
    """A API não respondeu antes de começar o teste de carga."""


class PredicoesAusentes(ErroDoKit, FileNotFoundError):
    """Não há `outputs/predicoes.csv` de onde tirar ids de clientes conhecidos."""


@dataclass
class LoadResult:
    """O resultado de uma execução de carga, medido do lado do cliente."""

    scenario: str
    url: str
    requests: int
    workers: int
    duration_s: float
    req_s: float
    status_counts: dict[int, int]        # {200: 180, 404: 20, ...}
    errors: int                          # falhas de conexão/timeout (sem resposta HTTP)
    error_types: dict[str, int]          # {"ConnectError": 3, "ReadTimeout": 1, ...}
    unknown_ids: int                     # quantos ids desconhecidos foram sorteados (esperamos 404)
    p50_ms: float
    p95_ms: float
    p99_ms: float
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    def table(self) -> pd.DataFrame:
        """Uma linha com as colunas de `COLUMNS` (boa para mostrar num notebook)."""
        counts = self.status_counts
        ok, not_found = counts.get(200, 0), counts.get(404, 0)
        server_errors = sum(n for status, n in counts.items() if status >= 500)
        row = {"cenario": self.scenario, "requisicoes": self.requests, "workers": self.workers,
               "duracao_s": round(self.duration_s, 2), "req_s": round(self.req_s, 1),
               "status_200": ok, "status_404": not_found, "status_5xx": server_errors,
               "outros_status": sum(counts.values()) - ok - not_found - server_errors,
               "erros_conexao": self.errors,
               "p50_ms": round(self.p50_ms, 1), "p95_ms": round(self.p95_ms, 1), "p99_ms": round(self.p99_ms, 1)}
        return pd.DataFrame([row], columns=COLUMNS)


def summary(results: list[LoadResult]) -> pd.DataFrame:
    """As linhas de vários resultados numa tabela só."""
    return pd.concat([r.table() for r in results], ignore_index=True)


def known_ids() -> list[int]:
    """Os ids de clientes do lote previsto (o mesmo arquivo que a API carrega)."""
    path = settings.predictions_path
    try:
        ids = pd.read_csv(path, usecols=["id_cliente"])["id_cliente"]
    except (OSError, ValueError) as exc:
        raise PredicoesAusentes(
            f"Não achei as predições em lote em {path} ({type(exc).__name__}). "
            "Rode `python -m kit predict` (ou `python -m kit prepare`) e tente de novo.") from exc
    return sorted(int(i) for i in ids.unique())


def draw_ids(n: int, known: list[int], unknown_share: float = 0.1, seed: int | None = None) -> tuple[list[int], int]:
    """Sorteia `n` ids: conhecidos + exatamente round(n * unknown_share) desconhecidos.

    Os desconhecidos são números de 8 dígitos que com certeza não estão em `known`.
    Mesma semente → mesma lista. Devolve (ids, quantos_desconhecidos).
    """
    if not 0 <= unknown_share <= 1:
        raise EntradaInvalida(f"unknown_share deve estar entre 0 e 1 (recebi {unknown_share}).")
    if not known and unknown_share < 1:
        raise EntradaInvalida("Não há ids conhecidos para sortear: o lote de predições está vazio.")
    rng = random.Random(settings.seed if seed is None else seed)
    n_unknown = round(n * unknown_share)
    ids = rng.choices(known, k=n - n_unknown) if n > n_unknown else []
    known_set = set(known)
    while len(ids) < n:
        candidate = rng.randrange(10_000_000, 100_000_000)
        if candidate not in known_set:
            ids.append(candidate)
    rng.shuffle(ids)
    return ids, n_unknown


def check_api(url: str, timeout: float = 3.0) -> None:
    """Levanta `ApiIndisponivel` (em português) se a API não responde em `url`."""
    try:
        httpx.get(f"{url}/health", timeout=timeout)
    except httpx.HTTPError as exc:
        raise ApiIndisponivel(
            f"A API não responde em {url} ({type(exc).__name__}): suba com runner.start() "
            "ou python -m kit serve, e confira o endereço (--url).") from exc


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(url: str | None = None, cenario: str | None = None, requests: int | None = None,
        workers: int | None = None, unknown_share: float = 0.1, seed: int | None = None,
        timeout_s: float = 10.0, ids: list[int] | None = None, progress: bool = True) -> LoadResult:
    """Executa um teste de carga e devolve um `LoadResult`.

    `cenario` escolhe (requisições, workers) de `SCENARIOS`; `requests`/`workers`
    sobrescrevem. Sem nenhum dos dois, usa o cenário "leve". `ids` (opcional)
    substitui a lista de clientes conhecidos lida de outputs/predicoes.csv.
    `progress=False` desliga a barra de progresso.
    """
    url = (url or settings.api_url).rstrip("/")
    if cenario is not None and cenario not in SCENARIOS:
        raise EntradaInvalida(f"Cenário desconhecido: {cenario!r}. Use um de {list(SCENARIOS)}.")
    base_n, base_w = SCENARIOS[cenario or "leve"]
    n = int(base_n if requests is None else requests)
    w = int(base_w if workers is None else workers)
    if n < 1 or w < 1:
        raise EntradaInvalida(f"requests e workers devem ser pelo menos 1 (recebi {n} e {w}).")
    name = cenario or ("leve" if requests is None and workers is None else "personalizado")

    check_api(url)  # falha cedo e claro, em vez de n timeouts
    plan, n_unknown = draw_ids(n, ids if ids is not None else known_ids(), unknown_share, seed)

    # Um httpx.Client (conexão keep-alive) por thread do pool.
    local, clients = threading.local(), []

    def one_request(id_cliente: int) -> tuple[int | None, float, str | None]:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, timeout=timeout_s)
            clients.append(client)
        start = time.perf_counter()
        try:
            status = client.get(f"/churn/{id_cliente}").status_code
        except httpx.HTTPError as exc:  # conexão recusada, timeout...: conta, não interrompe
            return None, 0.0, type(exc).__name__
        return status, (time.perf_counter() - start) * 1000, None

    status_counts: dict[int, int] = {}
    error_types: dict[str, int] = {}
    latencies: list[float] = []
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=w, thread_name_prefix="carga") as pool:
            futures = [pool.submit(one_request, i) for i in plan]
            bar = tqdm(as_completed(futures), total=n, desc=f"carga {name}", unit="req",
                       disable=not progress, leave=True, mininterval=0.5, file=sys.stdout)
            for future in bar:
                status, ms, error = future.result()
                if error:
                    error_types[error] = error_types.get(error, 0) + 1
                else:
                    status_counts[status] = status_counts.get(status, 0) + 1
                    latencies.append(ms)
            bar.close()
    finally:
        for client in clients:
            client.close()
    duration = time.perf_counter() - started

    return LoadResult(
        scenario=name, url=url, requests=n, workers=w, duration_s=duration, req_s=n / duration,
        status_counts=dict(sorted(status_counts.items())), errors=sum(error_types.values()),
        error_types=error_types, unknown_ids=n_unknown,
        p50_ms=_percentile(latencies, 50), p95_ms=_percentile(latencies, 95), p99_ms=_percentile(latencies, 99),
        latencies_ms=latencies)


def run_scenarios(url: str | None = None, pause_s: float = 2.0, scenarios=tuple(SCENARIOS),
                  **kwargs) -> list[LoadResult]:
    """Roda os cenários em sequência (leve → media → pesada), com uma pausa entre eles.

    A pausa deixa o Prometheus coletar entre um cenário e outro (veja os degraus no painel).
    Os demais argumentos vão para `run()`.
    """
    results = []
    for i, name in enumerate(scenarios):
        if i and pause_s > 0:
            time.sleep(pause_s)
        results.append(run(url, cenario=name, **kwargs))
    return results
