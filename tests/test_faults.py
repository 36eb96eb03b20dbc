"""Falhas de verdade: Prometheus fora do ar, artefatos corrompidos, pasta de logs
impossível, rotação de logs sob carga e a thread da API morrendo.

Tudo real: processos, sockets, arquivos e threads; nada do componente testado é simulado.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from loguru import logger

from kit import logger as kitlog
from kit import prom, runner
from kit.api import create_app
from kit.config import settings
from tests._tools import require_binary
from tests._tools import free_port

FIX_PROMETHEUS = "python -m kit stack up"


# --- Prometheus fora do ar -----------------------------------------------------------------------

def _assert_says_what_to_do(exc: prom.PrometheusIndisponivel, url: str) -> None:
    message = str(exc)
    assert "não respondeu" in message or "respondeu" in message, message
    assert url in message, message
    assert FIX_PROMETHEUS in message and "python -m kit doctor" in message, message
    assert "Traceback" not in message


def test_prometheus_on_a_closed_port_is_a_portuguese_error_fast():
    url = f"http://127.0.0.1:{free_port()}"  # ninguém escuta aqui
    start = time.perf_counter()
    assert prom.available(url) is False
    assert time.perf_counter() - start < 3
    for call in (lambda: prom.query("up", base=url), lambda: prom.value("up", base=url),
                 lambda: prom.targets(base=url), lambda: prom.query_range("up", minutes=1, base=url)):
        with pytest.raises(prom.PrometheusIndisponivel) as info:
            call()
        _assert_says_what_to_do(info.value, url)
    assert time.perf_counter() - start < 3


def test_prometheus_that_accepts_but_never_answers_does_not_hang():
    """Um Prometheus travado (aceita a conexão e não responde): available() desiste em < 3 s."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        start = time.perf_counter()
        assert prom.available(url) is False
        assert time.perf_counter() - start < 3
        with pytest.raises(prom.PrometheusIndisponivel) as info:
            prom.query("up", base=url, timeout=1)
        _assert_says_what_to_do(info.value, url)
        assert time.perf_counter() - start < 5


@pytest.fixture
def real_prometheus(tmp_path):
    """Um Prometheus de verdade (binário do apt), numa porta livre, só para este teste."""
    binary = require_binary("prometheus", "apt-get install prometheus")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                      f"  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
    with open(tmp_path / "prometheus.log", "w") as log:
        proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not prom.available(url, timeout=0.5):
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "o Prometheus não ficou pronto em 30 s"
            time.sleep(0.2)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


def test_prometheus_stopped_between_queries(real_prometheus):
    proc, url = real_prometheus
    assert prom.query("vector(1)", base=url) == [{"metric": {}, "value": 1.0}]
    proc.kill()  # cai de repente, como um `docker compose down` no meio da aula
    proc.wait(10)
    start = time.perf_counter()
    assert prom.available(url) is False
    with pytest.raises(prom.PrometheusIndisponivel) as info:
        prom.query("vector(1)", base=url)
    _assert_says_what_to_do(info.value, url)
    assert time.perf_counter() - start < 3


# --- artefatos corrompidos -----------------------------------------------------------------------

def _serve(app):
    return runner.start(port=free_port(), app=app)


def _copy_models(tmp_path: Path) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    for name in ("modelo_v1.joblib", "modelo_v1.json"):
        shutil.copy(settings.models_dir / name, models / name)
    return models


@pytest.mark.parametrize("artifact,content", [
    ("modelo_v1.joblib", "truncado"),          # download/cópia interrompida no meio
    ("modelo_v1.joblib", b""),
    ("modelo_v1.json", b"\x00\xff lixo"),
    ("modelo_v1.json", b"{}"),                  # JSON válido, mas sem versão
    ("modelo_v1.json", b"[]"),
])
def test_corrupt_model_artifact_serves_degraded_with_the_fix(tmp_path, trained, artifact, content):
    models = _copy_models(tmp_path)
    target = models / artifact
    if content == "truncado":
        data = target.read_bytes()
        content = data[: len(data) // 2]
    target.write_bytes(content)
    server = _serve(create_app(models_dir=models))
    try:
        health = httpx.get(f"{server.url}/health", timeout=30).json()
        assert health["status"] == "degradado"
        assert "python -m kit train" in health["como_resolver"]
        assert any("python -m kit train" in p for p in health["problemas"])
        r = httpx.post(f"{server.url}/predict", json={"pais": "França", "genero": "Feminino", "idade": 30,
                                                      "anos_cliente": 1, "saldo_conta": 0, "numero_produtos": 1,
                                                      "cartao_credito": "Sim", "salario_estimado": 1000,
                                                      "escore_credito": 600}, timeout=30)
        assert r.status_code == 503 and "python -m kit train" in r.json()["mensagem"]
        assert httpx.get(f"{server.url}/model", timeout=30).status_code == 503
        # As predições em lote não dependem do arquivo do modelo: continuam servidas.
        known = next(iter(server.app.state.service.predictions))
        assert httpx.get(f"{server.url}/churn/{known}", timeout=30).status_code == 200
    finally:
        server.stop()


GOOD_HEADER = "id_cliente,risco,nivel\n"


@pytest.mark.parametrize("content", [
    "a,b,c\n1,2,3\n",                                   # colunas erradas
    os.urandom(4096),                                    # bytes aleatórios
    b"",                                                 # arquivo vazio
    b"\x89PNG\r\n\x1a\n" + os.urandom(512),              # um arquivo de outro tipo com o nome errado
    GOOD_HEADER + "12345678,abc,alto\n",                 # risco que não é número
    GOOD_HEADER + "12345678,,alto\n",                    # risco vazio (NaN quebraria o JSON da resposta)
    GOOD_HEADER + "12345678,7.5,alto\n",                 # risco fora de [0, 1]
    GOOD_HEADER + "12345678,0.3,\n",                     # nível vazio (viraria label 'nan')
    GOOD_HEADER + "12345678,0.3,altíssimo\n",            # nível fora do contrato
    GOOD_HEADER + "xx,0.3,baixo\n",                      # id que não é número
    "diretório",                                         # uma pasta no lugar do arquivo
], ids=["colunas", "aleatorio", "vazio", "png", "risco_texto", "risco_vazio", "risco_7.5", "nivel_vazio",
        "nivel_invalido", "id_texto", "pasta"])
def test_corrupt_predictions_csv_serves_degraded_with_the_fix(tmp_path, trained, content):
    path = tmp_path / "predicoes.csv"
    if content == "diretório":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    server = _serve(create_app(predictions_path=path))
    try:
        health = httpx.get(f"{server.url}/health", timeout=30).json()
        assert health["status"] == "degradado", health
        assert "python -m kit predict" in health["como_resolver"]
        assert health["predicoes_carregadas"] == 0
        r = httpx.get(f"{server.url}/churn/12345678", timeout=30)
        assert r.status_code == 503, r.text
        assert "python -m kit predict" in r.json()["mensagem"]
        # O modelo continua pontuando clientes em POST /predict.
        r = httpx.post(f"{server.url}/predict", json={"pais": "França", "genero": "Feminino", "idade": 30,
                                                      "anos_cliente": 1, "saldo_conta": 0, "numero_produtos": 1,
                                                      "cartao_credito": "Sim", "salario_estimado": 1000,
                                                      "escore_credito": 600}, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        server.stop()


# --- logs ------------------------------------------------------------------------------------------

@pytest.fixture
def restore_api_logger():
    yield
    kitlog.flush()
    kitlog.setup("api")  # de volta a logs/ do KIT_HOME para os outros testes


def _request_lines(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("api*.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)  # toda linha, de todo arquivo, é JSON completo
            if row.get("kind") == "request":
                rows.append(row)
    return rows


def test_unwritable_log_dir_falls_back_and_the_api_keeps_serving(tmp_path, trained, restore_api_logger):
    # Como root, chmod não impede a escrita; um caminho *dentro de um arquivo* nunca pode virar pasta.
    blocker = tmp_path / "nao_sou_pasta"
    blocker.write_text("arquivo comum")
    impossible = blocker / "logs"
    fallback = Path(tempfile.gettempdir()) / "kit-logs"  # compartilhada: só contam as linhas novas
    before = {r["request_id"] for r in _request_lines(fallback)} if fallback.is_dir() else set()
    warnings: list[str] = []
    sink = logger.add(lambda m: warnings.append(m.record["message"]), level="WARNING", format="{message}")
    try:
        kitlog.setup("api", logs_dir=impossible)
    finally:
        logger.remove(sink)
    assert kitlog.log_path("api") == fallback / "api.json"
    (warning,) = [w for w in warnings if str(impossible) in w]
    assert str(fallback) in warning and "KIT_LOGS_DIR" in warning  # diz onde estão os logs e como mudar

    server = _serve(create_app())
    try:
        ids = list(server.app.state.service.predictions)[:20]
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert [client.get(f"/churn/{i}").status_code for i in ids] == [200] * 20
            # o prefixo dos request_id deste processo (a pasta reserva é compartilhada com outros)
            prefix = client.get("/churn/1000000000").json()["request_id"].split("-")[0]
    finally:
        server.stop()  # também grava o lote de linhas pendente
    kitlog.flush()
    new = [r for r in _request_lines(fallback)
           if r["request_id"] not in before and r["request_id"].startswith(prefix + "-")]
    ours = [r for r in new if r["endpoint"] == "/churn/{id_cliente}" and r["status_code"] == 200]
    assert sorted(r["id_cliente"] for r in ours) == sorted(ids)
    assert not impossible.exists() and blocker.read_text() == "arquivo comum"


def test_rotation_under_concurrent_api_load_keeps_every_request_line(tmp_path, trained, restore_api_logger):
    kitlog.setup("api", logs_dir=tmp_path, rotation="50 KB")
    server = _serve(create_app())
    threads, per_thread = 8, 250
    known = list(server.app.state.service.predictions)[:50]
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                for i in range(per_thread):
                    # alterna 200 (conhecido) e 404 (desconhecido): linhas de tamanhos e níveis diferentes
                    cid = known[(t * per_thread + i) % len(known)] if i % 2 else 1_000_000_000 + t * per_thread + i
                    assert client.get(f"/churn/{cid}").status_code in (200, 404)
        except BaseException as exc:  # noqa: BLE001 — reportado no fim
            errors.append(exc)

    try:
        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
    finally:
        server.stop()
    assert not errors, errors[:3]
    kitlog.flush()
    files = sorted(tmp_path.glob("api*.json"))
    assert len(files) >= 5, f"a rotação de 50 KB deveria ter gerado vários arquivos: {files}"
    assert all(p.stat().st_size < 50_000 + 200 * 400 for p in files)  # no máximo um lote além do limite
    rows = [r for r in _request_lines(tmp_path) if r["endpoint"] == "/churn/{id_cliente}"]
    assert len(rows) == threads * per_thread
    assert len({r["request_id"] for r in rows}) == len(rows)
    assert sum(r["status_code"] == 404 for r in rows) == threads * per_thread // 2
    assert all(r["level"] == ("WARNING" if r["status_code"] == 404 else "INFO") for r in rows)


# --- a thread da API morre ---------------------------------------------------------------------------

def _kill_server_thread(server) -> None:
    """Derruba o loop do uvicorn de dentro, como uma exceção fatal faria (sem desligamento limpo)."""
    def die():
        raise SystemExit("a thread da API morreu")

    server.server.servers[0].get_loop().call_soon_threadsafe(die)
    server.thread.join(10)
    assert not server.thread.is_alive()


# A morte da thread é de propósito: o aviso do pytest sobre a exceção na thread é esperado.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_dead_api_thread_then_stop_frees_the_port_and_start_works(trained):
    port = free_port()
    first = runner.start(port=port)
    _kill_server_thread(first)
    assert not first.running
    with pytest.raises(httpx.HTTPError):  # ninguém atende mais
        httpx.get(f"{first.url}/health", timeout=1)
    assert runner.stop(port) is True
    assert runner.port_is_free("127.0.0.1", port), "a thread morreu e a porta ficou presa"
    second = runner.start(port=port)
    try:
        assert second is not first
        assert httpx.get(f"{second.url}/health", timeout=30).status_code == 200
    finally:
        second.stop()
    assert runner.port_is_free("127.0.0.1", port)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_start_after_the_thread_died_recovers_without_explicit_stop(trained):
    port = free_port()
    first = runner.start(port=port)
    _kill_server_thread(first)
    second = runner.start(port=port)  # não é "outro processo": é a nossa thread morta
    try:
        assert second is not first and second.running
        assert httpx.get(f"{second.url}/health", timeout=30).json()["status"] == "ok"
    finally:
        second.stop()
