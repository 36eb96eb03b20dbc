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
import subprocess
import tempfile
from pathlib import Path

from kit import _process, prom
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
        self.url = f"http://127.0.0.1:{_process.free_port()}"
        self.process = _process.launch(
            [tool("prometheus") or "prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={self.folder / 'tsdb'}", "--storage.tsdb.retention.time=100y",
             f"--web.listen-address={self.url.removeprefix('http://')}"])
        try:
            _process.wait_ready("O Prometheus com os dados gravados", f"{self.url}/-/ready", proc=self.process,
                                timeout=30, interval=0.1)
        except _process.ProcessoNaoSubiu:
            self.stop()
            raise RuntimeError("O Prometheus com os dados gravados não subiu. Confira com `prometheus --version`.")

    def _refused_is_value_error(self, call, *args, **kwargs):
        """As consultas vão pelo `kit.prom`; uma consulta recusada continua sendo ValueError (as conferências
        dos exercícios contam com isso), como antes — inclusive os erros de execução (HTTP 422)."""
        try:
            return call(*args, base=self.url, **kwargs)
        except prom.ConsultaInvalida as exc:
            reason = str(exc).removeprefix("PromQL inválida: ")
            raise ValueError(f"O Prometheus recusou a consulta: {reason}") from None
        except prom.PrometheusIndisponivel as exc:
            if exc.__cause__ is not None:  # não respondeu (caiu): não é culpa da consulta
                raise
            raise ValueError(f"O Prometheus recusou a consulta: {str(exc).split(': ', 1)[-1]}") from None

    def query(self, expr: str, at: float) -> list[dict]:
        """Consulta instantânea no instante `at` (epoch em segundos): [{'metric': {...}, 'value': float}]."""
        return self._refused_is_value_error(prom.query, expr, timeout=30, at=at)

    def query_range(self, expr: str, start: float, end: float, step: float = 60) -> list[dict]:
        return self._refused_is_value_error(prom.query_range, expr, step=step, start=start, end=end)

    def label_values(self, label: str, match: str) -> list[str]:
        return self._refused_is_value_error(prom.label_values, label, match)

    def stop(self) -> None:
        _process.terminate(self.process)
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


def alert_fires(rules_yaml: str, alertname: str, series: list[dict], eval_minutes: int,
                recording: bool = False) -> bool | None:
    """O alerta `alertname` de `rules_yaml` está disparando (firing) aos `eval_minutes` com estas séries?

    Roda `promtool test rules` com uma cópia da regra: a expressão vira `count(expr) > 0` e as
    anotações saem, para o resultado não depender das labels que a sua expressão carrega.
    `series` = [{"series": 'metrica{a="b"}', "values": "0.3+0x60"}]. None se o promtool não existir.
    `recording=True` carrega também as regras de gravação do curso (monitoring/prometheus/recording_rules.yml):
    para alertas que leem séries gravadas, como os de burn rate (job:slo_errors_per_request:ratio_rate1h...).
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
    rule_files = ["regra.yml"]
    if recording:
        shutil.copy(settings.root / "monitoring" / "prometheus" / "recording_rules.yml", folder / "gravacao.yml")
        rule_files.insert(0, "gravacao.yml")
    try:
        for firing in (True, False):
            expected = [{"exp_labels": {k: str(v) for k, v in probe["labels"].items()}}] if firing else []
            test = {"rule_files": rule_files, "evaluation_interval": "1m", "tests": [{
                "interval": "1m", "input_series": series,
                "alert_rule_test": [{"eval_time": f"{eval_minutes}m", "alertname": alertname, "exp_alerts": expected}]}]}
            (folder / "teste.yml").write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
            if _run([promtool, "test", "rules", str(folder / "teste.yml")])[0]:
                return firing
        raise ValueError(f"Não consegui avaliar o alerta {alertname} (a expressão roda no Prometheus?).")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
