"""`python -m kit ...` como o aluno roda, em processos separados."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow


def _kit(home, *args, port=None, timeout=180):
    env = {**os.environ, "KIT_HOME": str(home), "LOG_CONSOLE_LEVEL": "WARNING"}
    if port:
        env["API_PORT"] = str(port)
    return subprocess.run([sys.executable, "-m", "kit", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _gauge(url, name):
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} ausente")


def test_missing_model_message(tmp_path):
    r = _kit(tmp_path, "evaluate", "--lote", "novos_2")
    assert r.returncode == 1
    assert "python -m kit train" in r.stderr


def test_serve_refuses_busy_port(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        r = _kit(tmp_path, "serve", "--port", str(port))
    assert r.returncode == 2 and f"porta {port} já está em uso" in r.stderr


def test_production_story_through_the_cli(tmp_path):
    """prepare → serve → evaluate (F2 cai, a API publica) → retrain (F2 volta)."""
    assert _kit(tmp_path, "prepare").returncode == 0
    assert (tmp_path / "outputs" / "predicoes.csv").exists()
    port = free_port()
    env = {**os.environ, "KIT_HOME": str(tmp_path), "LOG_CONSOLE_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "kit", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/health").json()["status"] == "ok":
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        trained_f2 = _gauge(url, 'model_f2_score{dataset="teste"}')
        assert trained_f2 >= 0.7
        r = _kit(tmp_path, "evaluate", "--lote", "novos_2", port=port)
        assert r.returncode == 0 and "ModelF2Low" in r.stdout and "recarregada" in r.stdout
        assert _gauge(url, 'model_f2_score{dataset="producao"}') < 0.7  # o processo servido publica o lote rotulado
        r = _kit(tmp_path, "retrain", "--lote", "novos_2", port=port)
        assert r.returncode == 0 and "v2" in r.stdout
        assert _gauge(url, 'model_f2_score{dataset="teste"}') >= 0.7
        assert 'model_f2_score{dataset="producao"}' not in httpx.get(f"{url}/metrics").text  # v2: sem rótulos ainda
        assert 'version="v2"' in httpx.get(f"{url}/metrics").text
        assert _kit(tmp_path, "predict", "--lote", "novos_2").returncode == 0
        r = _kit(tmp_path, "drift", "--lote", "novos_2", port=port)
        assert r.returncode == 0 and "idade" in r.stdout and "drift" in r.stdout and "recarregada" in r.stdout
        # o job terminou; quem publica o PSI (e o alerta DataDrift enxerga) é a API
        assert _gauge(url, 'data_drift_psi{feature="idade"}') > 0.2
    finally:
        server.terminate()
        server.wait(timeout=15)
