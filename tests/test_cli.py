"""`python -m kit ...` como o aluno roda, em processos separados."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests._tools import free_port

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


# Tudo o que um aluno pode digitar errado: (argumentos, trecho da resposta). Cada um deve virar UMA
# linha em pt-BR que diz o que fazer, código 2, sem traceback e sem o inglês do argparse.
BAD_INPUT = [
    (["serve", "--port", "99999"], "entre 1024 e 65535"),
    (["serve", "--port", "1"], "entre 1024 e 65535"),
    (["serve", "--port", "0"], "entre 1024 e 65535"),
    (["serve", "--port", "oito"], "'oito' não é uma porta"),
    (["serve", "--host", "nao-existe.invalid"], "use 127.0.0.1"),
    (["xyz"], "'xyz' não é uma opção válida; use uma destas: train, predict"),
    ([], "falta informar: comando"),
    (["predict", "--lote", "novos_9"], "use uma destas: novos_1, novos_2"),
    (["retrain"], "falta informar: --lote"),
    (["evaluate", "--lote"], "falta o valor"),
    (["stack"], "falta informar: acao"),
    (["stack", "subir"], "use uma destas: up, down, status"),
    (["stack", "up", "--modo", "kubernetes"], "use uma destas: compose, native, binder, none"),
    (["train", "--rapido"], "não conheço estes argumentos: --rapido"),
    (["load", "--cenario", "extrema"], "use uma destas: leve, media, pesada"),
    (["load", "--requisicoes", "0"], "inteiro a partir de 1"),
    (["load", "--requests", "-3"], "inteiro a partir de 1"),
    (["load", "--requisicoes", "dez"], "'dez' não é um número inteiro"),
    (["load", "--workers", "0"], "inteiro a partir de 1"),
    (["load", "--desconhecidos", "1.5"], "fração entre 0 e 1"),
    (["load", "--desconhecidos", "nan"], "fração entre 0 e 1"),
    (["load", "--pausa", "-1"], "de 0 a 3600 segundos"),
    (["load", "--url", "127.0.0.1:8000"], "http://127.0.0.1:8000"),
    (["load", "--url", "http://127.0.0.1:99999"], "http://127.0.0.1:8000"),
    (["export", "--minutos", "0"], "mais que 0"),
    (["export", "--minutos", "quinze"], "'quinze' não é um número de minutos"),
]


@pytest.mark.parametrize("args,expected", BAD_INPUT, ids=[" ".join(a) or "(nada)" for a, _ in BAD_INPUT])
def test_bad_input_is_one_ptbr_line(tmp_path, args, expected):
    r = _kit(tmp_path, *args, timeout=60)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erro: "), r.stderr
    assert expected in lines[0]
    assert "--help" in lines[0]  # diz onde ver as opções
    for english in ("Traceback", "usage:", "invalid choice", "invalid int", "argument ", "choose from", "are required",
                    "expected one", "unrecognized"):
        assert english not in r.stderr
    assert r.stdout == ""


def test_help_is_ptbr(tmp_path):
    r = _kit(tmp_path, "load", "--help", timeout=60)
    assert r.returncode == 0
    assert r.stdout.startswith("uso: python -m kit load") and "mostra esta ajuda" in r.stdout
    assert "usage" not in r.stdout and "show this help" not in r.stdout


def test_unwritable_output_folder_is_one_line(tmp_path):
    blocker = tmp_path / "arquivo"
    blocker.write_text("não é pasta")
    r = _kit(tmp_path, "export", "--saida", str(blocker / "sub"), timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Erro: ")


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
