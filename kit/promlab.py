"""promtool e um Prometheus com dados gravados, para os exercícios.

Os exercícios que precisam de dados do Prometheus (ex04, ex06) não dependem de
uma API rodando nem do relógio: eles trazem as séries gravadas num arquivo
OpenMetrics (`exercises/dados/*.om`). `recorded(path)` transforma o arquivo num
banco do Prometheus (`promtool tsdb create-blocks-from openmetrics`), sobe um
Prometheus nativo numa porta livre e numa pasta temporária, e devolve um objeto
para consultar as séries naquele intervalo de tempo fixo. Mesmo arquivo, mesmas
respostas — é o que torna a correção reproduzível.

Sem `prometheus`/`promtool` instalados, as funções devolvem None e a célula de
conferência diz o que não deu para conferir (`kit.exercises.not_checked`); na correção
do instrutor (KIT_GRADING=1) a falta é um erro.
"""
from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from kit.config import settings
from kit.errors import ErroDoKit

INSTALL_HINT = "sudo apt-get install prometheus (Debian/Ubuntu) ou baixe em https://prometheus.io/download/"


class FerramentaAusente(ErroDoKit, RuntimeError):
    """promtool/prometheus não estão instalados na máquina de correção."""


def tool(name: str) -> str | None:
    """Caminho do binário, ou None (a conferência avisa o aluno). Na correção oficial, a falta é erro."""
    path = shutil.which(name)
    if path is None and settings.grading:
        raise FerramentaAusente(f"'{name}' não está instalado na máquina de correção. Instale com: {INSTALL_HINT}")
    return path


def _run(args: list[str], timeout: float = 60) -> tuple[bool, str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def check_rules(path: Path | str) -> tuple[bool, str] | None:
    """`promtool check rules` (None se o promtool não estiver instalado)."""
    promtool = tool("promtool")
    return None if promtool is None else _run([promtool, "check", "rules", str(path)])


def test_rules(path: Path | str) -> tuple[bool, str] | None:
    """`promtool test rules` (None se o promtool não estiver instalado)."""
    promtool = tool("promtool")
    return None if promtool is None else _run([promtool, "test", "rules", str(path)])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordedPrometheus:
    """Um Prometheus nativo servindo só as séries gravadas de um arquivo OpenMetrics."""

    def __init__(self, openmetrics: Path):
        self.folder = Path(tempfile.mkdtemp(prefix="kit-promlab-"))
        ok, out = _run([tool("promtool") or "promtool", "tsdb", "create-blocks-from", "openmetrics",
                        str(openmetrics), str(self.folder / "tsdb")], timeout=120)
        if not ok:
            raise RuntimeError(f"Não consegui importar {openmetrics.name} no Prometheus: {out[-500:]}")
        config = self.folder / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 15s\n", encoding="utf-8")
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.process = subprocess.Popen(
            [tool("prometheus") or "prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={self.folder / 'tsdb'}", "--storage.tsdb.retention.time=100y",
             f"--web.listen-address={self.url.removeprefix('http://')}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("O Prometheus com os dados gravados não subiu. Confira com `prometheus --version`.")

    def _get(self, path: str, params: dict):
        response = httpx.get(f"{self.url}{path}", params=params, timeout=30)
        body = response.json()
        if body.get("status") != "success":
            raise ValueError(f"O Prometheus recusou a consulta: {body.get('error', response.text[:200])}")
        return body["data"]

    def query(self, expr: str, at: float) -> list[dict]:
        """Consulta instantânea no instante `at` (epoch em segundos): [{'metric': {...}, 'value': float}]."""
        data = self._get("/api/v1/query", {"query": expr, "time": at})
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": float(data["result"][1])}]
        return [{"metric": r["metric"], "value": float(r["value"][1])} for r in data["result"]]

    def query_range(self, expr: str, start: float, end: float, step: float = 60) -> list[dict]:
        data = self._get("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
        return [{"metric": r["metric"], "times": [float(t) for t, _ in r["values"]],
                 "values": [float(v) for _, v in r["values"]]} for r in data["result"]]

    def label_values(self, label: str, match: str) -> list[str]:
        return self._get(f"/api/v1/label/{label}/values", {"match[]": match})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


_RUNNING: dict[Path, RecordedPrometheus] = {}


def recorded(openmetrics: Path | str) -> RecordedPrometheus | None:
    """O Prometheus com as séries de `openmetrics` (um por arquivo e por kernel), ou None sem Prometheus."""
    path = Path(openmetrics).resolve()
    if path in _RUNNING and _RUNNING[path].process.poll() is None:
        return _RUNNING[path]
    if tool("promtool") is None or tool("prometheus") is None:
        return None
    _RUNNING[path] = RecordedPrometheus(path)
    return _RUNNING[path]


@atexit.register
def stop_all() -> None:
    for lab in _RUNNING.values():
        lab.stop()
    _RUNNING.clear()


def alert_fires(rules_yaml: str, alertname: str, series: list[dict], eval_minutes: int) -> bool | None:
    """O alerta `alertname` de `rules_yaml` está disparando (firing) aos `eval_minutes` com estas séries?

    Roda `promtool test rules` com uma cópia da regra: a expressão vira `count(expr) > 0` e as
    anotações saem, para o resultado não depender das labels que a sua expressão carrega.
    `series` = [{"series": 'metrica{a="b"}', "values": "0.3+0x60"}]. None se o promtool não existir.
    """
    import yaml

    promtool = tool("promtool")
    if promtool is None:
        return None
    groups = yaml.safe_load(rules_yaml)["groups"]
    rule = next(r for g in groups for r in g.get("rules", []) if r.get("alert") == alertname)
    probe = {"alert": alertname, "expr": f"count({rule['expr']}) > 0", "labels": rule.get("labels") or {}}
    if rule.get("for"):
        probe["for"] = rule["for"]
    folder = Path(tempfile.mkdtemp(prefix="kit-alerta-"))
    (folder / "regra.yml").write_text(yaml.safe_dump({"groups": [{"name": "sonda", "rules": [probe]}]}), encoding="utf-8")
    try:
        for firing in (True, False):
            expected = [{"exp_labels": {k: str(v) for k, v in probe["labels"].items()}}] if firing else []
            test = {"rule_files": ["regra.yml"], "evaluation_interval": "1m", "tests": [{
                "interval": "1m", "input_series": series,
                "alert_rule_test": [{"eval_time": f"{eval_minutes}m", "alertname": alertname, "exp_alerts": expected}]}]}
            (folder / "teste.yml").write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
            if _run([promtool, "test", "rules", str(folder / "teste.yml")])[0]:
                return firing
        raise ValueError(f"Não consegui avaliar o alerta {alertname} (a expressão roda no Prometheus?).")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
