"""Where the suite finds external tools.

In CI (CI=true) a missing tool is a failure, never a silent skip; on a student's or
developer's machine it is a skip whose message says what to install.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str, install_hint: str) -> str:
    """Return the absolute path of `name`, or skip (locally) / fail (in CI)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"'{name}' não encontrado no PATH. Instale com: {install_hint}"
    if IN_CI:
        pytest.fail(f"[CI] {message}")
    pytest.skip(message)


@contextmanager
def jupyter_process(command: list[str], env: dict, log_path: Path, status_url: str, headers: dict | None = None,
                    timeout: float = 60):
    """A real Jupyter server in its own process group: waits for `status_url` to answer 200, and at the end
    stops the whole group (server, kernels, whatever jupyter-server-proxy started)."""
    if os.geteuid() == 0:
        command = [*command, "--allow-root"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(status_url, headers=headers or {}).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
            yield proc
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)


def wait_until(predicate, timeout: float = 60.0, fail: str | None = None, poll: float = 0.5):
    """Poll `predicate` until it returns something truthy (returned). On timeout: fail the test with
    `fail`, or return None so the caller can assert with its own message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    if fail:
        pytest.fail(fail)
    return None


_HANDED_OUT: set[int] = set()


def _ephemeral_range() -> range:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return range(low, high + 1)
    except (OSError, ValueError):
        return range(32768, 61000)  # o padrão do Linux


def free_port() -> int:
    """A free port OUTSIDE the kernel's ephemeral range, never handed out twice in this test session.

    A port from bind(0) is ephemeral: between drawing it and using it (minutes later, for the session
    stack) any outgoing connection may take it as its local port and the API cannot bind. Under
    pytest-xdist each worker draws from its own residue class, so two workers never pick the same port.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index, count = int(worker.removeprefix("gw") or 0), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    ephemeral = _ephemeral_range()
    candidates = [p for p in range(20000, 32768)
                  if p % count == index and p not in ephemeral and p not in _HANDED_OUT]
    for port in random.sample(candidates, min(200, len(candidates))):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("Nenhuma porta livre entre 20000 e 32767.")


@contextmanager
def running_api(**kwargs):
    """The real API in a thread on a free port, stopped at the end (one factory for every API fixture)."""
    from kit import runner

    server = runner.start(port=free_port(), **kwargs)
    try:
        yield server
    finally:
        server.stop()
