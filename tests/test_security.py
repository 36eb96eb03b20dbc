"""Segurança do que o curso entrega: portas, credenciais, corpos de erro, dados pessoais nos
logs e cardinalidade das métricas (um id de cliente nunca vira série nova)."""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from kit import logger as kitlog
from kit.config import ROOT, _load_dotenv, settings

COMPOSE = ROOT / "docker-compose.yml"
THIS_FILE = Path(__file__).resolve()


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def _tracked_text_files() -> list[Path]:
    proc = _git("ls-files", "-z")
    assert proc.returncode == 0, proc.stderr
    files = []
    for name in filter(None, proc.stdout.split("\0")):
        path = ROOT / name
        if not path.is_file() or path.resolve() == THIS_FILE:
            continue
        head = path.read_bytes()[:4096]
        if b"\0" not in head:  # texto (os binários têm NUL logo no começo)
            files.append(path)
    assert len(files) > 20, "git ls-files devolveu quase nada: o teste não estaria olhando o repositório"
    return files


# --- docker compose -----------------------------------------------------------------------------

def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _host_ip(port) -> str | None:
    if isinstance(port, dict):  # sintaxe longa
        return port.get("host_ip")
    parts = re.sub(r"\$\{[^}]*\}", "VAR", str(port)).split(":")  # ${PORTA:-9090} também tem ':'
    return parts[0] if len(parts) == 3 else None  # "8080:80" ou "80" publicariam em 0.0.0.0


def test_compose_publishes_every_port_on_loopback_only():
    services = _compose()["services"]
    published = 0
    for name, svc in services.items():
        for port in svc.get("ports", []) or []:
            published += 1
            assert _host_ip(port) == "127.0.0.1", f"{name}: porta {port!r} publicada fora de 127.0.0.1"
    assert published >= 3  # Prometheus, Alertmanager, Grafana


def test_compose_host_network_only_behind_an_optional_profile():
    """`network_mode: host` expõe tudo o que o contêiner escuta; só num perfil que ninguém sobe sem pedir."""
    services = _compose()["services"]
    for name, svc in services.items():
        if svc.get("network_mode") == "host":
            profiles = svc.get("profiles") or []
            assert profiles and "default" not in profiles, f"{name}: rede do host no perfil padrão"
            assert not svc.get("ports"), f"{name}: com a rede do host, `ports` não vale (e engana quem lê)"


def test_compose_grafana_without_anonymous_access_or_default_password():
    env = _compose()["services"]["grafana"]["environment"]
    assert str(env["GF_AUTH_ANONYMOUS_ENABLED"]).lower() == "false"
    assert str(env.get("GF_USERS_ALLOW_SIGN_UP", "false")).lower() == "false"
    password = str(env["GF_SECURITY_ADMIN_PASSWORD"])
    # Só uma referência obrigatória ao .env (${VAR:?mensagem}), nunca um valor ou um padrão (${VAR:-admin}).
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]*\}", password), password


# --- credenciais -----------------------------------------------------------------------------------

def test_dotenv_is_git_ignored_and_not_tracked():
    assert _git("check-ignore", "-q", ".env").returncode == 0, ".env não está no .gitignore"
    tracked = _git("ls-files", "--", ".env", "*.env").stdout.split()
    assert tracked == [], f"arquivo de segredos versionado: {tracked}"


def test_env_example_documents_an_empty_grafana_password():
    example = ROOT / ".env.example"
    values = _load_dotenv(example)
    assert "GRAFANA_ADMIN_PASSWORD" in values
    assert values["GRAFANA_ADMIN_PASSWORD"] == "", "o .env.example não pode trazer uma senha pronta"
    for key, value in values.items():
        if re.search(r"PASSWORD|SECRET|TOKEN|WEBHOOK", key):
            assert value == "", f"{key} deveria vir vazio no .env.example"


# Montadas aos pedaços para este arquivo não acusar a si mesmo.
_ADMIN_ADMIN = re.compile(r"\badmin\s*[/:]\s*admin\b", re.IGNORECASE)
_GF_PASSWORD = re.compile("GF_SECURITY_" + r"ADMIN_PASSWORD\s*[:=]\s*(.*)")
_INI_PASSWORD = re.compile(r"^\s*admin_password\s*=\s*(.*)$", re.MULTILINE)


def test_no_default_or_committed_credentials_in_tracked_files():
    problems = []
    for path in _tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(ROOT)
        if _ADMIN_ADMIN.search(text):
            problems.append(f"{rel}: menciona admin/admin")
        for value in _GF_PASSWORD.findall(text):
            value = value.strip().strip("\"'")
            # aceita referência a variável (${...}, $VAR) ou leitura do ambiente; nunca um literal
            if value and not value.startswith("$") and "environ" not in value and "GRAFANA_ADMIN_PASSWORD" not in value:
                problems.append(f"{rel}: GF_SECURITY_ADMIN_PASSWORD com valor literal ({value[:20]}...)")
        for value in _INI_PASSWORD.findall(text):
            if value.strip() and "{" not in value and "$" not in value:
                problems.append(f"{rel}: admin_password literal num .ini")
    assert not problems, problems


# --- a API ---------------------------------------------------------------------------------------

def test_api_listens_on_loopback_by_default(api):
    assert settings.api_host == "127.0.0.1"
    addresses = {sock.getsockname()[0] for server in api.server.servers for sock in server.sockets}
    assert addresses == {"127.0.0.1"}, addresses


def test_readme_explains_what_binding_to_0000_exposes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    positions = [m.start() for m in re.finditer(re.escape("0.0.0.0"), readme)]
    assert positions, "o README não fala de 0.0.0.0"
    explained = False
    for pos in positions:
        around = readme[max(0, pos - 400): pos + 600].lower()
        if re.search(r"qualquer (máquina|computador|pessoa)|toda a rede|da sua rede|expõe|exp[õo]e", around) \
                and "127.0.0.1" in around:
            explained = True
    assert explained, "perto de 0.0.0.0 o README deve dizer que a API fica acessível pela rede (e voltar a 127.0.0.1)"


class _Exploding:
    """Um lote/modelo que estoura com uma mensagem cheia de detalhes internos."""

    SECRET = "segredo-interno em /work/main/kit/api.py linha 42"

    def __bool__(self) -> bool:
        return True

    def get(self, *_):
        raise RuntimeError(self.SECRET)

    def predict_proba(self, *_):
        raise RuntimeError(self.SECRET)


CLIENTE = {"id_cliente": 12345678, "pais": "Alemanha", "genero": "Feminino", "idade": 63, "anos_cliente": 4,
           "saldo_conta": 123456.78, "numero_produtos": 2, "cartao_credito": "Sim",
           "salario_estimado": 98765.43, "escore_credito": 777}


def _assert_opaque_500(r: httpx.Response) -> dict:
    assert r.status_code == 500
    body = r.json()
    assert set(body) == {"erro", "mensagem", "request_id"}, body
    assert body["erro"] == "erro_interno"
    text = r.text
    for leak in ("Traceback", "RuntimeError", "segredo", _Exploding.SECRET, "api.py", "site-packages", "line "):
        assert leak not in text, f"vazou {leak!r}: {text}"
    # O único "/" permitido é a dica do arquivo de log relativo.
    assert "/" not in body["mensagem"].replace("logs/api.json", ""), body["mensagem"]
    assert "/" not in body["request_id"]
    return body


@pytest.mark.parametrize("target", ["predictions", "model"])
def test_unexpected_exception_gives_an_opaque_500_and_the_traceback_goes_to_the_log(api, target):
    service = api.app.state.service
    original = getattr(service, target)
    kitlog.flush()
    log_file = kitlog.log_path("api")
    start = log_file.stat().st_size if log_file.exists() else 0
    setattr(service, target, _Exploding())
    try:
        if target == "predictions":
            r = httpx.get(f"{api.url}/churn/{CLIENTE['id_cliente']}", timeout=30)
        else:
            r = httpx.post(f"{api.url}/predict", json=CLIENTE, timeout=30)
    finally:
        setattr(service, target, original)
    body = _assert_opaque_500(r)
    # A promessa da mensagem vale: o request_id leva ao traceback no log.
    kitlog.flush()
    with open(log_file, encoding="utf-8") as fh:
        fh.seek(start)
        rows = [json.loads(line) for line in fh if line.strip()]
    errors = [row for row in rows if row.get("request_id") == body["request_id"] and "exception" in row]
    assert errors and _Exploding.SECRET in errors[0]["exception"]


PERSONAL = ("pais", "genero", "idade", "anos_cliente", "saldo_conta", "numero_produtos", "cartao_credito",
            "salario_estimado", "escore_credito")


def _new_log_text(folder: Path, sizes: dict) -> dict[Path, str]:
    out = {}
    for path in sorted(folder.glob("api*")):
        with open(path, encoding="utf-8") as fh:
            fh.seek(sizes.get(path, 0))
            out[path] = fh.read()
    return out


def test_logs_never_hold_personal_fields_beyond_the_customer_id(api):
    kitlog.flush()
    folder = kitlog.log_path("api").parent
    sizes = {p: p.stat().st_size for p in folder.glob("api*")}
    service = api.app.state.service
    with httpx.Client(base_url=api.url, timeout=30) as client:
        assert client.post("/predict", json=CLIENTE).status_code == 200
        assert client.post("/predict", json={**CLIENTE, "idade": 7}).status_code == 422
        assert client.post("/predict", json={**CLIENTE, "nome": "Maria"}).status_code == 422
        original, service.model = service.model, _Exploding()  # até no traceback de um erro inesperado
        try:
            assert client.post("/predict", json=CLIENTE).status_code == 500
        finally:
            service.model = original
    kitlog.flush()
    new = _new_log_text(folder, sizes)
    assert any(new.values()), "nada foi registrado: o teste não estaria olhando o log certo"
    strings = ("Alemanha", "Feminino", "123456.78", "98765.43", "Maria")
    for path, text in new.items():
        for value in strings:
            assert value not in text, f"{path.name} contém o dado pessoal {value!r}"
        if path.suffix == ".json":
            for line in text.splitlines():
                row = json.loads(line)
                assert not set(row) & set(PERSONAL), f"{path.name}: campo pessoal {set(row) & set(PERSONAL)}"
                for key, value in row.items():
                    if key in ("message", "exception", "time", "duration_ms", "line", "request_id"):
                        continue
                    assert value not in (63, 777, 123456.78, 98765.43), f"{path.name}: {key}={value!r}"
    requests_logged = [json.loads(line) for line in new.get(folder / "api.json", "").splitlines()
                       if '"kind":"request"' in line]
    # (outros processos com o mesmo KIT_HOME podem escrever no mesmo arquivo: só as nossas linhas de /predict)
    scored = [r for r in requests_logged if r["endpoint"] == "/predict" and r["status_code"] == 200]
    assert [r.get("id_cliente") for r in scored] == [CLIENTE["id_cliente"]]


# --- cardinalidade e custo do /metrics ----------------------------------------------------------

def _series(text: str) -> set[tuple]:
    return {(s.name, tuple(sorted(s.labels.items())))
            for family in text_string_to_metric_families(text) for s in family.samples}


IDS_SENT = 1_000  # mil ids distintos bastam: se um id virasse rótulo, seriam ~1 000 séries novas


def test_a_thousand_customer_ids_create_no_new_series_and_metrics_stays_fast(api):
    known = list(api.app.state.service.predictions)
    with httpx.Client(base_url=api.url, timeout=30) as client:
        # a primeira de cada tipo: 200, 404, 422 e rota desconhecida
        for path in (f"/churn/{known[0]}", "/churn/1000000000", "/churn/abc", "/nada/1", "/metrics"):
            client.get(path)  # o próprio GET /metrics cria as séries dele depois de responder
        before = _series(client.get("/metrics").text)

    ids = [known[i % len(known)] if i % 10 == 0 else 1_000_000_000 + i for i in range(IDS_SENT)]  # 90% desconhecidos
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(chunk):
        local: dict[int, int] = {}
        try:
            with httpx.Client(base_url=api.url, timeout=30) as client:  # keep-alive
                for cid in chunk:
                    code = client.get(f"/churn/{cid}").status_code
                    local[code] = local.get(code, 0) + 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        with lock:
            for code, n in local.items():
                statuses[code] = statuses.get(code, 0) + n

    threads = [threading.Thread(target=work, args=(ids[t::4],)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert not errors, errors[:3]
    assert statuses == {200: IDS_SENT // 10, 404: IDS_SENT * 9 // 10}, statuses

    with httpx.Client(base_url=api.url, timeout=30) as client:
        text = client.get("/metrics").text
        after = _series(text)
        timings = []
        for _ in range(20):
            t0 = time.perf_counter()
            assert client.get("/metrics").status_code == 200
            timings.append(time.perf_counter() - t0)
    assert after == before, sorted(after ^ before)[:10]
    label_values = {v for (_, labels) in after for (_, v) in labels}
    assert not any(str(i) in label_values for i in ids[:200])
    median_ms = statistics.median(timings) * 1000
    print(f"\nséries expostas: {len(before)} antes, {len(after)} depois de {IDS_SENT} ids; "
          f"/metrics mediana {median_ms:.2f} ms ({len(text)} bytes)")
    assert median_ms < 50, f"/metrics levou {median_ms:.1f} ms (mediana de 20)"
