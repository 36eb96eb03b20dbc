"""kit.doctor: o diagnóstico em pt-BR diz o que está errado e como corrigir."""
from __future__ import annotations

from kit import _process, binder, doctor


def _by_name(findings):
    return {f["verificacao"]: f for f in findings}


def test_nothing_running_says_how_to_start_each_piece(capsys):
    closed = f"http://127.0.0.1:{_process.free_port()}"
    findings = _by_name(doctor.run(api_url=closed, base=closed))
    assert findings["API responde"]["ok"] is False and "runner.start()" in findings["API responde"]["como_corrigir"]
    assert findings["Prometheus no ar"]["ok"] is False
    assert "python -m kit stack up" in findings["Prometheus no ar"]["como_corrigir"]
    out = capsys.readouterr().out
    assert "✘ API responde" in out and "→ No notebook: `from kit import runner; runner.start()`" in out


def test_a_healthy_api_is_reported_with_its_model(api):
    findings = _by_name(doctor.check_api(api.url))
    assert findings["API responde"]["ok"] is True
    assert findings["API saudável"]["ok"] is True and "modelo v" in findings["API saudável"]["detalhe"]


def test_a_degraded_api_points_to_the_fix(trained, tmp_path):
    from kit import runner

    server = runner.start(port=_process.free_port(), predictions_path=tmp_path / "nao_existe.csv")
    try:
        healthy = _by_name(doctor.check_api(server.url))["API saudável"]
    finally:
        server.stop()
    assert healthy["ok"] is False and "python -m kit predict" in healthy["como_corrigir"]


def test_the_classic_docker_mistake_and_binder():
    [finding] = doctor.check_loopback_with_docker("compose", "127.0.0.1")
    assert finding["ok"] is False and "host='0.0.0.0'" in finding["como_corrigir"]
    assert doctor.check_loopback_with_docker("compose", "0.0.0.0")[0]["ok"] is True
    assert doctor.check_loopback_with_docker("native", "127.0.0.1") == []
    assert doctor.check_binder(True)[0]["detalhe"] == binder.EXPLANATION and doctor.check_binder(False) == []
