"""Vários alunos na mesma máquina (JupyterHub): portas e dados de cada um.

Num laptop, um aluno usa as portas fixas do `.env` (API 8000, Prometheus 9090, Alertmanager 9093,
receptor 9099). Num JupyterHub em que todos os servidores dividem a mesma rede (The Littlest JupyterHub,
LocalProcessSpawner) essas portas colidiriam — ou, pior, o notebook de um aluno leria o Prometheus de outro.
Então, nesse caso, cada aluno ganha um bloco de portas só dele e uma pasta de dados só dele:

- o bloco preferido vem do nome do usuário (estável entre sessões); ele é reservado num registro comum
  (`/tmp/kit-portas/bloco-NNNNN`, criado atomicamente) e cada porta é conferida livre antes de ser usada;
  se outro usuário já o reservou, ou uma porta está ocupada, o kit usa o próximo bloco livre e avisa;
- a escolha fica gravada no estado do usuário (`<pasta do aluno>/.run/portas.json`) com a identidade da
  sessão do servidor: os outros kernels e terminais da mesma sessão reusam as mesmas portas, e um estado
  de uma sessão que morreu (servidor derrubado) é conferido de novo em vez de reaproveitado às cegas;
- um vigia (`python -m kit._hub vigiar`) para a stack do aluno quando o servidor dele para.

Num pod do Kubernetes (Zero to JupyterHub) ou no Binder, cada usuário tem a própria rede: as portas fixas
servem, e este módulo não muda nada. `KIT_PORTAS=por_usuario|fixas` força um dos dois comportamentos.
Este módulo não lê variáveis de ambiente: kit/config.py lhe passa os valores.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

# Portas de cada bloco, na ordem. Os blocos ficam abaixo da faixa efêmera do Linux (32768+): uma conexão
# de saída nunca toma a porta de um aluno entre a reserva e o uso.
NAMES = ("API_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT", "ALERT_RECEIVER_PORT", "GRAFANA_PORT",
        "PUSHGATEWAY_PORT")
FIRST, BLOCK, BLOCKS = 10000, 10, 1000  # blocos 10000, 10010, ..., 19990
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass
class Assignment:
    """O que o kit usa para um aluno num hub compartilhado."""
    user: str
    home: Path
    ports: dict[str, int]
    notices: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {name: str(port) for name, port in self.ports.items()}


def shared_host(mode: str, user: str, hub_api_url: str, on_binder: bool) -> bool:
    """True se este servidor divide a rede com os de outros usuários.

    `auto`: há um usuário do JupyterHub e o hub é alcançado pelo loopback (mesma rede que o hub, logo que
    os outros servidores); num pod/contêiner o hub é outro host (`http://hub:8081/...`) e as portas fixas servem.
    """
    if mode in ("por_usuario", "por-usuario"):
        return True
    if mode in ("fixas", "fixo") or on_binder or not user:
        return False
    host = (urlparse(hub_api_url).hostname or "").lower()
    return host in LOOPBACK or host.startswith("127.")


def preferred_block(user: str) -> int:
    """Bloco derivado do nome (sha256, estável entre máquinas e sessões)."""
    digest = int(hashlib.sha256(user.encode()).hexdigest(), 16)
    return FIRST + (digest % BLOCKS) * BLOCK


def ports_of(block: int) -> dict[str, int]:
    return {name: block + i for i, name in enumerate(NAMES)}


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def claim(registry: Path, block: int, user: str) -> str:
    """Reserva o bloco para `user` (criação atômica) e devolve o dono — `user` se ficou ou já era dele."""
    path = registry / f"bloco-{block}"
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            return path.read_text(encoding="utf-8").strip() or "?"
        except OSError:
            return "?"
    except OSError:
        return user  # registro inacessível: sobra a conferência de porta livre
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(user)
    return user


def _registry(path: Path) -> Path:
    """A pasta comum das reservas (como /tmp: todos escrevem, só o dono apaga o que é seu)."""
    try:
        path.mkdir(mode=0o1777, exist_ok=True)
        if path.stat().st_uid == os.getuid():
            path.chmod(0o1777)  # o umask tira o bit de escrita dos outros no mkdir
    except OSError:
        pass
    return path


def session_id() -> str:
    """Identidade da sessão do servidor Jupyter deste processo: PID + instante de início (sobrevive a reúso de PID)."""
    pid = server_pid()
    if pid is None:
        return ""
    try:
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = "?"
    return f"{pid}:{start}"


def server_pid() -> int | None:
    """O servidor Jupyter (jupyterhub-singleuser, jupyter-lab...) acima deste processo: kernel → servidor."""
    pid = os.getpid()
    for _ in range(12):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:3]
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        names = [os.path.basename(arg.decode(errors="replace")) for arg in argv]
        if any(n.startswith(("jupyterhub-singleuser", "jupyter-lab", "jupyter-server", "jupyter-notebook"))
               for n in names):
            return pid
        if ppid <= 1:
            return None
        pid = ppid
    return None


def assign(user: str, home: Path, registry: Path, session: str | None = None) -> Assignment:
    """Portas deste usuário: as da sessão atual, ou um bloco reservado, livre e gravado."""
    session = session_id() if session is None else session
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    state_file = home / ".run" / "portas.json"
    state_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    ports = state.get("portas") if state.get("usuario") == user else None
    if ports and set(ports) == set(NAMES) and state.get("sessao") == session:
        return Assignment(user, home, ports)  # mesma sessão: outro kernel/terminal do mesmo aluno
    first = min(ports.values()) if ports else preferred_block(user)  # sessão anterior: confiro de novo
    registry = _registry(registry)
    taken = []
    for step in range(BLOCKS):
        block = FIRST + ((first - FIRST) // BLOCK + step) % BLOCKS * BLOCK
        owner = claim(registry, block, user)
        busy = [] if owner != user else [p for p in ports_of(block).values() if not port_free(p)]
        if owner == user and not busy:
            break
        taken.append(f"{block} (reservado por {owner})" if owner != user else f"{block} (portas ocupadas: {busy})")
    else:
        raise RuntimeError("Nenhum bloco de portas livre entre 10000 e 19999 nesta máquina: peça ao instrutor "
                           "para conferir quem está usando as portas (ss -ltnp).")
    notices = []
    if taken:
        where = (f"O estado de uma sessão anterior ({state_file}) apontava para portas" if ports
                 else f"As portas preferidas de {user} estão")
        notices.append(f"{where} em uso por outro usuário ou processo ({taken[0]}); usando {block}–{block + 4} "
                       f"(API {block}, Prometheus {block + 1}). Nada a fazer: os notebooks, o doctor e as prévias "
                       "já usam estas portas.")
    ports = ports_of(block)
    state_file.write_text(json.dumps({"usuario": user, "sessao": session, "portas": ports}, indent=2))
    return Assignment(user, home, ports, notices)


# --- o vigia: para a stack do aluno quando o servidor dele para ---------------------------------
def start_watcher(state_file: Path) -> int | None:
    """Sobe o vigia do servidor deste processo (None se não há servidor Jupyter acima de nós)."""
    pid = server_pid()
    if pid is None:
        return None
    proc = subprocess.Popen([sys.executable, "-m", "kit._hub", "vigiar", str(pid), str(state_file)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    return proc.pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def watch(server: int, state_file: Path, every: float = 1.0) -> None:
    """Espera o servidor sumir; então encerra os processos da stack registrados em `state_file`."""
    while _alive(server):
        time.sleep(every)
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    pids = [pid for pid in state.get("pids", {}).values() if pid != os.getpid()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    if state.get("run_dir"):
        import shutil

        shutil.rmtree(state["run_dir"], ignore_errors=True)
    state_file.unlink(missing_ok=True)


if __name__ == "__main__" and sys.argv[1:2] == ["vigiar"]:
    watch(int(sys.argv[2]), Path(sys.argv[3]))
