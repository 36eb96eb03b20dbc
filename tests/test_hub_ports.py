"""Vários alunos na mesma máquina: portas e pasta de cada um (kit/_hub.py e o gancho em kit/config.py)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit import _hub

HUB_LOCAL = "http://127.0.0.1:8081/hub/api"


@pytest.mark.parametrize("mode, user, url, binder, expected", [
    ("auto", "ana", HUB_LOCAL, False, True),                      # TLJH / LocalProcessSpawner: rede do hub
    ("auto", "ana", "http://localhost:15001/hub/api", False, True),
    ("auto", "ana", "http://hub:8081/hub/api", False, False),     # pod do Kubernetes: rede própria
    ("auto", "ana", HUB_LOCAL, True, False),                      # Binder: pod próprio
    ("auto", "", "", False, False),                               # laptop
    ("por_usuario", "", "", False, True),
    ("fixas", "ana", HUB_LOCAL, False, False),
])
def test_shared_host_detection(mode, user, url, binder, expected):
    assert _hub.shared_host(mode, user, url, binder) is expected


def _listen(port: int) -> socket.socket:
    """Alguém escutando na porta (SO_REUSEADDR: uma conexão antiga em TIME_WAIT não atrapalha o teste)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def _ports(block: int) -> set[int]:
    return set(_hub.ports_of(block).values())


def test_each_user_gets_a_stable_block_of_free_ports(tmp_path):
    registry = tmp_path / "reg"
    a = _hub.assign("ana", tmp_path / "ana", registry, session="s1")
    b = _hub.assign("bia", tmp_path / "bia", registry, session="s2")
    assert a.ports["API_PORT"] == _hub.preferred_block("ana") and not a.notices
    assert not _ports(a.ports["API_PORT"]) & _ports(b.ports["API_PORT"])
    assert all(10000 <= p < 20000 for p in (*a.ports.values(), *b.ports.values()))
    # mesma sessão (outro kernel do mesmo aluno): as mesmas portas, mesmo com a API dele já escutando
    with _listen(a.ports["API_PORT"]):
        assert _hub.assign("ana", tmp_path / "ana", registry, session="s1").ports == a.ports
    state = json.loads((tmp_path / "ana" / ".run" / "portas.json").read_text())
    assert state == {"usuario": "ana", "sessao": "s1", "portas": a.ports}
    assert oct((tmp_path / "ana").stat().st_mode & 0o777) == oct(0o700)  # ninguém mais lê a pasta do aluno


def test_block_reserved_by_another_user_is_skipped_with_a_message(tmp_path):
    registry = tmp_path / "reg"
    registry.mkdir()
    block = _hub.preferred_block("ana")
    (registry / f"bloco-{block}").write_text("bia")  # bia chegou antes (colisão do hash)
    a = _hub.assign("ana", tmp_path / "ana", registry, session="s1")
    assert a.ports["API_PORT"] == block + _hub.BLOCK
    assert "estão em uso por outro usuário" in a.notices[0] and "reservado por bia" in a.notices[0]
    assert (registry / f"bloco-{block + _hub.BLOCK}").read_text() == "ana"


def test_busy_port_moves_to_the_next_block(tmp_path):
    block = _hub.preferred_block("carla")
    with _listen(block + 1):  # um processo qualquer (não do kit) na porta do Prometheus dela
        c = _hub.assign("carla", tmp_path / "carla", tmp_path / "reg", session="s1")
    assert c.ports["API_PORT"] == block + _hub.BLOCK
    assert f"portas ocupadas: [{block + 1}]" in c.notices[0]


def test_stale_state_from_a_killed_session(tmp_path):
    registry, home = tmp_path / "reg", tmp_path / "davi"
    first = _hub.assign("davi", home, registry, session="velha")
    # nova sessão, portas livres: o mesmo bloco, sem alarde
    again = _hub.assign("davi", home, registry, session="nova")
    assert again.ports == first.ports and not again.notices
    # outra sessão nova, mas um processo de fora ficou com a porta da API: outro bloco, com a explicação
    with _listen(first.ports["API_PORT"]):
        moved = _hub.assign("davi", home, registry, session="terceira")
    assert moved.ports["API_PORT"] != first.ports["API_PORT"]
    assert "sessão anterior" in moved.notices[0] and str(home / ".run" / "portas.json") in moved.notices[0]
    assert json.loads((home / ".run" / "portas.json").read_text())["portas"] == moved.ports


def _kit_settings(env: dict) -> dict:
    code = ("import json; from kit.config import settings as s; print(json.dumps({'multi': s.multiuser, "
            "'home': str(s.home), 'api': s.api_port, 'prom': s.prometheus_url, 'am': s.alertmanager_url, "
            "'rec': s.alert_receiver_port, 'logs': str(s.logs_dir)}))")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KIT_", "JUPYTERHUB_"))}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         check=True)
    return {**json.loads(out.stdout), "stderr": out.stderr}


def test_config_uses_each_users_ports_and_folder_on_a_shared_hub(tmp_path):
    """O gancho de kit/config.py: tudo que lê `settings` (notebooks, doctor, prévias) segue o usuário."""
    common = {"JUPYTERHUB_API_URL": HUB_LOCAL, "KIT_PORTAS_DIR": str(tmp_path / "reg"),
              "PROMETHEUS_URL": "http://127.0.0.1:9090",  # um endereço ou pasta fixos não valem no hub
              "KIT_LOGS_DIR": str(tmp_path / "logs-de-todos")}
    ana = _kit_settings({**common, "JUPYTERHUB_USER": "ana", "HOME": str(tmp_path / "ana")})
    bia = _kit_settings({**common, "JUPYTERHUB_USER": "bia", "HOME": str(tmp_path / "bia")})
    for who, s in (("ana", ana), ("bia", bia)):
        assert s["multi"] and s["home"] == str(tmp_path / who / "monitoramento-mlops")
        assert s["logs"].startswith(s["home"])
        assert s["prom"] == f"http://127.0.0.1:{s['api'] + 1}" and s["am"] == f"http://127.0.0.1:{s['api'] + 2}"
    assert ana["api"] != bia["api"]
    laptop = _kit_settings({"HOME": str(tmp_path / "eu"), "API_PORT": "8000", "PROMETHEUS_PORT": "9090"})
    assert not laptop["multi"] and laptop["api"] == 8000 and laptop["prom"] == "http://127.0.0.1:9090"
    pod = _kit_settings({"JUPYTERHUB_USER": "ana", "JUPYTERHUB_API_URL": "http://hub:8081/hub/api",
                         "HOME": str(tmp_path / "pod"), "API_PORT": "8000"})
    assert not pod["multi"] and pod["api"] == 8000


def test_unwritable_student_folder_falls_back_to_a_temporary_one(tmp_path):
    blocker = tmp_path / "arquivo"
    blocker.write_text("não é pasta")
    s = _kit_settings({"JUPYTERHUB_USER": "eva", "JUPYTERHUB_API_URL": HUB_LOCAL, "HOME": str(tmp_path / "eva"),
                       "KIT_PORTAS_DIR": str(tmp_path / "reg"), "KIT_HOME": str(blocker / "dados")})
    assert s["multi"] and "kit-aluno-" in s["home"] and 10000 <= s["api"] < 20000
    assert "Não consegui usar" in s["stderr"] and "somem" in s["stderr"]


def _alive(pid: int) -> bool:
    return _hub._alive(pid)


def test_watcher_stops_the_users_stack_when_the_server_goes(tmp_path):
    """Servidor some → o vigia encerra os processos da stack registrados e apaga o estado."""
    server = subprocess.Popen(["sleep", "60"])
    stack_proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)  # de outro usuário: não é tocado
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"mode": "native", "run_dir": str(run_dir), "pids": {"prometheus": stack_proc.pid}}))
    watcher = subprocess.Popen([sys.executable, "-m", "kit._hub", "vigiar", str(server.pid), str(state)])
    try:
        time.sleep(1.5)
        assert _alive(stack_proc.pid) and watcher.poll() is None  # servidor no ar: nada acontece
        server.send_signal(signal.SIGTERM)
        server.wait()
        watcher.wait(timeout=20)
        stack_proc.wait(timeout=5)
        assert not state.exists() and not run_dir.exists()
        assert _alive(other.pid)
    finally:
        for proc in (server, stack_proc, other, watcher):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_server_pid_is_found_above_a_kernel(tmp_path):
    """Um processo com nome de servidor Jupyter acima de nós é a sessão (é assim que o kernel o acha)."""
    fake = tmp_path / "jupyterhub-singleuser"
    fake.write_text(f"#!{sys.executable}\nimport sys, subprocess\n"
                    "sys.exit(subprocess.run([sys.executable, '-c', 'from kit import _hub; "
                    "print(_hub.server_pid(), _hub.session_id())']).returncode)\n")
    fake.chmod(0o755)
    proc = subprocess.run([str(fake)], capture_output=True, text=True, check=True)
    pid, session = proc.stdout.split()
    assert pid != "None" and session.startswith(f"{pid}:")
    assert Path(f"/proc/{os.getpid()}").exists()
    assert _hub.server_pid() is None  # o pytest não roda dentro de um servidor Jupyter
