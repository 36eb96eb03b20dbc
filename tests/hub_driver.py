"""A real JupyterHub on loopback, driven like a class would: used by tests/test_hub.py and bench/bench_hub.py.

The hub runs the PyPI `jupyterhub` with the npm `configurable-http-proxy`, the local process spawner (every
user server is a `jupyterhub-singleuser` process on this host, sharing its network — the case in which the
kit must give each user their own ports) and a password set for the class. Users log in through the hub's
login form, start their server through /hub/spawn and run notebook cells in kernels of their own server,
over the server's REST and websocket API behind the proxy.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nbformat
import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "senha-da-turma-2026"
LESSON = ROOT / "notebooks" / "01_preparacao_ambiente.ipynb"
PROBE = """
import json, os
from kit import course, doctor, prom, stack
from kit.config import settings as s
course.wait_for_scrape(40)
stack.status()
found = {f["verificacao"]: [f["ok"], f["detalhe"]] for f in doctor.run(quiet=True)}
print("SONDA" + json.dumps({"user": s.hub_user, "multi": s.multiuser, "home": str(s.home), "api": s.api_port,
      "prom": s.prometheus_port, "am": s.alertmanager_port, "rec": s.alert_receiver_port,
      "pids": stack._read_state().get("pids", {}), "pid": os.getpid(), "doctor": found,
      "kit_prom_alvos": [t["metric"]["instance"] for t in prom.query('up{job="api-churn"}')]}))
"""


def find_proxy() -> str | None:
    """configurable-http-proxy: o instalado por scripts/install_system_deps.sh em .venv/node, ou o do PATH."""
    local = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else shutil.which("configurable-http-proxy")


@dataclass
class Hub:
    url: str
    token: str
    workdir: Path
    proc: subprocess.Popen
    users: list[str] = field(default_factory=list)
    owned: list[int] = field(default_factory=list)  # PIDs das stacks dos alunos: encerrados no fim, se sobrarem

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.url}/hub/api{path}", headers={"Authorization": f"token {self.token}"},
                             timeout=60, **kwargs)

    def server_ready(self, user: str) -> bool:
        model = self.api("GET", f"/users/{user}").json()
        server = (model.get("servers") or {}).get("")
        return bool(server and server.get("ready"))

    def stop_server(self, user: str, timeout: float = 60) -> None:
        self.api("DELETE", f"/users/{user}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.api("GET", f"/users/{user}").json().get("servers") or {}):
            time.sleep(0.3)


def _config(workdir: Path, users: list[str], port: int, hub_port: int, proxy_api_port: int, proxy: str,
            token: str, env: dict) -> str:
    # JupyterLab em pt-BR como no hub de verdade: deploy/jupyterhub/lab-pt-br.json em overrides.d/ (ao lado do
    # overrides.json de outras configurações, como na imagem do Binder)
    lab_settings = workdir / "lab-settings"
    (lab_settings / "overrides.d").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "deploy" / "jupyterhub" / "lab-pt-br.json", lab_settings / "overrides.d" / "monitoramento-pt-br.json")
    args = [f"--LabApp.app_settings_dir={lab_settings}"] + (["--allow-root"] if os.geteuid() == 0 else [])
    return f"""
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = "sqlite:///{workdir / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = "{workdir / 'cookie_secret'}"
c.JupyterHub.pid_file = "{workdir / 'hub.pid'}"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {PASSWORD!r}
c.Authenticator.allowed_users = {set(users)!r}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{workdir / 'home'}/{{username}}"
c.Spawner.cmd = [{str(BIN / 'jupyterhub-singleuser')!r}]
c.Spawner.args = {args!r}
c.Spawner.environment = {env!r}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{"name": "professor", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "professor", "services": ["professor"],
                            "scopes": ["admin:users", "admin:servers", "tokens", "read:users"]}}]
"""


@contextmanager
def running_hub(workdir: Path, users: list[str], ports: list[int], proxy: str, env: dict | None = None):
    """Sobe o hub (em seu próprio grupo de processos) e, no fim, para os servidores dos usuários e o hub."""
    port, hub_port, proxy_api_port = ports
    token = uuid.uuid4().hex
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "jupyterhub_config.py"
    config.write_text(_config(workdir, users, port, hub_port, proxy_api_port, proxy, token, env or {}))
    log = workdir / "hub.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(config)], cwd=workdir, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(f"http://127.0.0.1:{port}", token, workdir, proc, list(users))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{hub.url}/hub/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"o JupyterHub não subiu:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield hub
    finally:
        # tudo o que o hub e os alunos subiram (servidores, kernels, stacks): o que sobrar depois de parar os
        # servidores e o hub é encerrado aqui — um teste que falha não deixa Prometheus órfãos na máquina
        descendants = []
        for pid in (proc.pid, *hub.owned):
            try:
                process = psutil.Process(pid)
                descendants += [process] if pid in hub.owned else process.children(recursive=True)
            except psutil.Error:
                pass
        for user in users:
            try:
                hub.stop_server(user, timeout=30)
            except (httpx.HTTPError, ValueError):
                pass
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        for leftover in descendants:
            try:
                leftover.terminate()
            except psutil.Error:
                pass
        psutil.wait_procs(descendants, timeout=10)


def login(hub: Hub, user: str, password: str = PASSWORD) -> httpx.Client:
    """Entra pelo formulário de login do hub (como o navegador); devolve o cliente com os cookies."""
    client = httpx.Client(base_url=hub.url, follow_redirects=True, timeout=60)
    client.get("/hub/login")
    answer = client.post("/hub/login", data={"username": user, "password": password,
                                             "_xsrf": client.cookies.get("_xsrf", "")})
    if answer.status_code == 403 or answer.url.path.endswith("/login"):
        raise RuntimeError(f"login de {user} recusado")
    answer.raise_for_status()
    return client


def spawn(hub: Hub, client: httpx.Client, user: str) -> None:
    """Pede o servidor pela página /hub/spawn (o botão 'Start My Server')."""
    client.get("/hub/spawn", follow_redirects=False)


def wait_ready(hub: Hub, users: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = set(users)
    while pending and time.monotonic() < deadline:
        pending = {u for u in pending if not hub.server_ready(u)}
        time.sleep(0.3)
    if pending:
        raise RuntimeError(f"servidores não ficaram prontos: {sorted(pending)}\n"
                           f"{(hub.workdir / 'hub.log').read_text()[-3000:]}")


def user_token(hub: Hub, user: str) -> str:
    """Um token do próprio usuário, só com acesso ao servidor dele (como o do navegador, sem cookies)."""
    answer = hub.api("POST", f"/users/{user}/tokens", json={"scopes": [f"access:servers!user={user}"],
                                                            "note": "teste da turma"})
    answer.raise_for_status()
    return answer.json()["token"]


def lesson_cells(path: Path = LESSON, *, skip_finish: bool = True) -> list[str]:
    """As células de código da aula (sem a última, `course.finish()`, para a stack ficar no ar e ser medida)."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return [c for c in cells if not (skip_finish and "course.finish()" in c)]


async def _execute(ws, code: str, timeout: float) -> tuple[str, str]:
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": "", "session": uuid.uuid4().hex, "msg_type": "execute_request",
                   "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    out, reply, idle = [], None, False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while reply is None or not idle:
        raw = await asyncio.wait_for(ws.read_message(), max(deadline - loop.time(), 0.1))
        if raw is None:
            raise RuntimeError("o websocket do kernel fechou")
        if isinstance(raw, bytes):
            continue
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            out.append(content["data"].get("text/plain", "") + "\n")
        elif kind == "error":
            out.append(f"{content['ename']}: {content['evalue']}\n")
        elif kind == "execute_reply":
            reply = content
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    return reply["status"], "".join(out)


async def run_in_kernel(hub: Hub, user: str, token: str, cells: list[str], timeout: float = 120,
                        seconds: list[float] | None = None) -> list[str]:
    """Cria um kernel no servidor do usuário (pelo proxy do hub) e roda as células em ordem; para no 1º erro.
    Em `seconds`, se dada, o tempo de cada célula."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    headers = {"Authorization": f"token {token}"}
    async with httpx.AsyncClient(base_url=hub.url, headers=headers, timeout=60) as client:
        answer = await client.post(f"/user/{user}/api/kernels", json={"name": "python3"})
        answer.raise_for_status()
        kernel = answer.json()["id"]
    ws_url = hub.url.replace("http", "ws", 1) + f"/user/{user}/api/kernels/{kernel}/channels"
    ws = await websocket_connect(HTTPRequest(ws_url, headers=headers))
    outputs = []
    try:
        loop = asyncio.get_running_loop()
        for i, code in enumerate(cells):
            started = loop.time()
            status, text = await _execute(ws, code, timeout)
            if seconds is not None:
                seconds.append(loop.time() - started)
            outputs.append(text)
            if status != "ok":
                raise RuntimeError(f"{user}: a célula {i} falhou:\n{code[:300]}\n---\n{text[-2000:]}")
    finally:
        ws.close()
    return outputs


def probe(outputs: list[str]) -> dict:
    """O JSON que a célula PROBE imprimiu."""
    line = next(line for line in outputs[-1].splitlines() if line.startswith("SONDA"))
    return json.loads(line[len("SONDA"):])
