"""kit.stack sem subir nada: escolha do modo e arquivos reescritos para o modo nativo."""
from __future__ import annotations

import subprocess

import yaml

from kit import stack
from kit.config import settings
from tests._tools import require_binary


def test_native_configs_point_to_loopback_and_pass_promtool(tmp_path):
    promtool = require_binary("promtool", "apt-get install prometheus")
    amtool = require_binary("amtool", "apt-get install prometheus-alertmanager")
    files = stack.render_native_configs(tmp_path, api_port=8123, receiver_port=9199, alertmanager_port=9193)
    prom_cfg = yaml.safe_load(files["prometheus"].read_text())
    (job,) = [j for j in prom_cfg["scrape_configs"] if j["job_name"] == "api-churn"]
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:8123"]
    assert prom_cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9193"]
    assert prom_cfg["rule_files"] == [str(tmp_path / "recording_rules.yml"), str(tmp_path / "alert_rules.yml")]
    (push,) = [j for j in prom_cfg["scrape_configs"] if j["job_name"] == "pushgateway"]
    assert push["static_configs"][0]["targets"] == [f"127.0.0.1:{settings.pushgateway_port}"]
    assert push["honor_labels"] is True
    am_cfg = yaml.safe_load(files["alertmanager"].read_text())
    assert am_cfg["receivers"][0]["webhook_configs"][0]["url"] == "http://127.0.0.1:9199/alertas"
    assert "host.docker.internal" not in files["prometheus"].read_text() + files["alertmanager"].read_text()
    for cmd in ([promtool, "check", "config", str(files["prometheus"])],
                [amtool, "check-config", str(files["alertmanager"])]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_fast_mode_shortens_intervals_only_in_the_copy(tmp_path):
    files = stack.render_native_configs(tmp_path, fast=True)
    rules = yaml.safe_load(files["rules"].read_text())
    assert {r["for"] for g in rules["groups"] for r in g["rules"] if "for" in r} == {stack.FAST["for"]}
    assert yaml.safe_load(files["prometheus"].read_text())["global"]["evaluation_interval"] == "1s"
    original = (settings.root / "monitoring" / "prometheus" / "alert_rules.yml").read_text()
    assert "for: 1m" in original  # o arquivo do aluno não muda


def test_mode_detection_honours_override_and_explains(monkeypatch):
    monkeypatch.setattr(settings, "stack_mode", "none")
    mode, reason = stack.detect_mode()
    assert mode == "none" and "STACK_MODE" in reason
    monkeypatch.setattr(settings, "stack_mode", "auto")
    monkeypatch.setattr(stack, "docker_engine_available", lambda: False)
    monkeypatch.setattr(stack, "find_binary", lambda *names: None)
    mode, reason = stack.detect_mode()
    assert mode == "none" and "apt-get install prometheus" in reason and "Docker" in reason


def test_none_mode_says_what_it_cannot_show(capsys, monkeypatch, tmp_path):
    # estado próprio: não mexer na stack da sessão de testes (fixture live_stack)
    monkeypatch.setattr(stack, "STATE_FILE", tmp_path / "stack.json")
    state = stack.up(mode="none")
    assert state["mode"] == "none"
    assert "ler /metrics direto" in capsys.readouterr().out
    rows = stack.status()
    assert [r["componente"] for r in rows][:2] == ["API (notebook)", "Prometheus"]
    stack.down(quiet=True)
