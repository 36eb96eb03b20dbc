"""A stack de monitoramento (Prometheus, Alertmanager, Grafana) — onde e como ela roda.

    from kit import stack
    stack.up()        # escolhe o modo, sobe o que der e explica a escolha
    stack.status()    # tabela: o que roda onde
    stack.down()      # para o que subimos

Três modos, na ordem de preferência (DESIGN §8), com os MESMOS arquivos de monitoring/:
- compose: um Docker engine responde → `docker compose up -d`;
- native : binários `prometheus` / `prometheus-alertmanager` / `prometheus-pushgateway` / `grafana` no PATH →
  iniciados aqui, com os alvos reescritos para 127.0.0.1 e dados numa pasta temporária;
- binder : no mybinder.org — Prometheus e Grafana atrás do jupyter-server-proxy (Launcher), sob o
  prefixo da sessão (veja kit/binder.py); Alertmanager nativo; sem Docker, sessão efêmera;
- none   : nada para subir; os notebooks leem /metrics direto e avisam o que não dá para mostrar.
Force um modo com STACK_MODE=compose|native|binder|none no .env.
"""
from __future__ import annotations

import json
import shutil
import string
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from kit import _hub, _native_services, _process, prom
from kit._native_services import render_grafana_provisioning  # noqa: F401 (kit.binder usa)
from kit.binder import EXPLANATION as BINDER_EXPLANATION
from kit.config import settings
from kit.errors import ErroDoKit

MONITORING = settings.root / "monitoring"
STATE_FILE = settings.home / ".run" / "stack.json"
# Modo rápido (testes e demonstrações): coleta e avaliação a cada 1 s, `for` curtos.
FAST = {"scrape_interval": "1s", "evaluation_interval": "1s", "for": "5s", "group_wait": "1s", "group_interval": "2s"}


class ErroDaStack(ErroDoKit, RuntimeError):
    """A stack não subiu (porta ocupada, binário ausente, `docker compose` falhou...)."""


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        print(message)


# --- descobrir o modo --------------------------------------------------------------
def docker_engine_available(timeout: float = 5.0) -> bool:
    """True se há um Docker engine respondendo (não basta o comando `docker` existir)."""
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=timeout).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_binary(*names: str) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


def detect_mode() -> tuple[str, str]:
    """(modo, motivo em português)."""
    forced = settings.stack_mode
    if forced in ("compose", "native", "binder", "none"):
        return forced, f"STACK_MODE={forced} no .env/ambiente"
    if settings.on_binder:
        return "binder", BINDER_EXPLANATION
    if docker_engine_available():
        return "compose", "há um Docker engine respondendo: uso o docker-compose.yml"
    if find_binary("prometheus"):
        return "native", ("sem Docker engine, mas o binário `prometheus` está no PATH: "
                          "subo Prometheus/Alertmanager nativos com os mesmos arquivos de monitoring/")
    return "none", ("sem Docker e sem Prometheus instalado: os notebooks leem /metrics direto. Para ter a "
                    "stack, instale o Docker (docker compose up -d) ou `sudo apt-get install prometheus "
                    "prometheus-alertmanager`")


# --- configurações reescritas para o modo nativo -------------------------------------
def render_optional_receivers(base: dict, template: dict, env: dict) -> dict:
    """Liga e-mail/Slack (receivers_opcionais.yml.example) quando o .env define as variáveis."""
    config = json.loads(json.dumps(base))

    def substitute(node, mapping):
        if isinstance(node, str):
            return string.Template(node).substitute(mapping)
        if isinstance(node, list):
            return [substitute(item, mapping) for item in node]
        if isinstance(node, dict):
            return {key: substitute(value, mapping) for key, value in node.items()}
        return node

    for block in template.values():
        if all(env.get(var) for var in block["requires"]):
            mapping = {**block.get("defaults", {}), **env}
            config["route"].setdefault("routes", []).append(substitute(block["route"], mapping))
            config["receivers"].append(substitute(block["receiver"], mapping))
    return config


def render_native_configs(run_dir: Path, *, api_port: int | None = None, receiver_port: int | None = None,
                          alertmanager_port: int | None = None, fast: bool = False) -> dict[str, Path]:
    """Copia os arquivos de monitoring/ para `run_dir`, trocando os endereços do Docker por 127.0.0.1."""
    api_port = api_port or settings.api_port
    receiver_port = receiver_port or settings.alert_receiver_port
    alertmanager_port = alertmanager_port or settings.alertmanager_port
    (run_dir / "targets").mkdir(parents=True, exist_ok=True)  # o file_sd (kit.replicas) vigia esta pasta desde já

    rules = yaml.safe_load((MONITORING / "prometheus" / "alert_rules.yml").read_text(encoding="utf-8"))
    if fast:
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = FAST["for"]
    (run_dir / "alert_rules.yml").write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False))
    shutil.copy(MONITORING / "prometheus" / "recording_rules.yml", run_dir / "recording_rules.yml")

    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    for job in config["scrape_configs"]:
        job.pop("dns_sd_configs", None)  # o DNS dos contêineres (réplicas no Compose) só existe no Compose
        for static in job.get("static_configs", []):
            static["targets"] = [t.replace("host.docker.internal:8000", f"127.0.0.1:{api_port}")
                                 for t in static["targets"]]
        if fast:
            job.update(scrape_interval=FAST["scrape_interval"], scrape_timeout=FAST["scrape_interval"])
    for manager in config.get("alerting", {}).get("alertmanagers", []):
        for static in manager.get("static_configs", []):
            static["targets"] = [f"127.0.0.1:{alertmanager_port}"]
    config["rule_files"] = [str(run_dir / "recording_rules.yml"), str(run_dir / "alert_rules.yml")]
    _native_services.rewrite_pushgateway_target(config)
    if fast:
        config["global"].update(scrape_interval=FAST["scrape_interval"],
                                evaluation_interval=FAST["evaluation_interval"])
    (run_dir / "prometheus.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))

    am = yaml.safe_load((MONITORING / "alertmanager" / "alertmanager.yml").read_text(encoding="utf-8"))
    for receiver in am["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = f"http://127.0.0.1:{receiver_port}/alertas"
    template = yaml.safe_load((MONITORING / "alertmanager" / "receivers_opcionais.yml.example").read_text("utf-8"))
    am = render_optional_receivers(am, template, settings.alert_env)
    if fast:
        am["route"].update(group_wait=FAST["group_wait"], group_interval=FAST["group_interval"])
    (run_dir / "alertmanager.yml").write_text(yaml.safe_dump(am, allow_unicode=True, sort_keys=False))
    return {"prometheus": run_dir / "prometheus.yml", "alertmanager": run_dir / "alertmanager.yml",
            "rules": run_dir / "alert_rules.yml"}


# --- estado (PIDs) -----------------------------------------------------------------------
def _read_state() -> dict:
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return {}


# --- subir / descer ---------------------------------------------------------------------------
def _start_native(fast: bool, quiet: bool, api_port: int | None, receiver_port: int | None) -> dict:
    prometheus_bin = find_binary("prometheus")
    run_dir = Path(tempfile.mkdtemp(prefix="kit-stack-"))
    files = render_native_configs(run_dir, api_port=api_port, receiver_port=receiver_port, fast=fast)
    state = {"mode": "native", "run_dir": str(run_dir), "pids": {}, "urls": {}, "fast": fast}
    plan = []
    alertmanager = _alertmanager_command(run_dir, files)
    if alertmanager:
        plan.append(("alertmanager", settings.alertmanager_port, alertmanager))
    else:
        _say("Alertmanager não encontrado (apt-get install prometheus-alertmanager): alertas ficam só no "
             "Prometheus.", quiet)
    pushgateway = _native_services.pushgateway_command(run_dir)
    if pushgateway:
        plan.append(("pushgateway", settings.pushgateway_port, pushgateway))
    else:
        _say(_native_services.PUSHGATEWAY_HINT, quiet)
    plan.append(("prometheus", settings.prometheus_port, [
        prometheus_bin, f"--config.file={files['prometheus']}", f"--storage.tsdb.path={run_dir / 'prom-data'}",
        f"--web.listen-address=127.0.0.1:{settings.prometheus_port}", "--web.enable-lifecycle"]))
    for name, port, command in plan:
        _launch(state, name, port, command, f"http://127.0.0.1:{port}", quiet)
    grafana = _native_services.start_native_grafana(run_dir, quiet)
    if grafana:
        state["pids"]["grafana"], state["urls"]["grafana"] = grafana
    return state


def _launch(state: dict, name: str, port: int, command: list[str], url: str, quiet: bool) -> None:
    """Inicia um processo da stack, registra o PID no estado e espera ele ficar pronto (url + /-/ready)."""
    if not _process.port_is_free("127.0.0.1", port):
        stop_native(state)
        raise ErroDaStack(f"A porta {port} ({name}) já está ocupada por outro processo. Pare-o (talvez um "
                           f"`docker compose up` ou outra stack) ou troque a porta no .env "
                           f"({name.upper()}_PORT).")
    log = Path(state["run_dir"]) / f"{name}.log"
    proc = _process.launch(command, log)
    state["pids"][name] = proc.pid
    state["urls"][name] = url
    try:
        _process.wait_ready(name, f"{url}/-/ready", proc=proc, log=log)
    except _process.ProcessoNaoSubiu as exc:
        stop_native(state)
        raise ErroDaStack(str(exc)) from None
    _say(f"  {name} no ar em {url} (PID {proc.pid})", quiet)


def _alertmanager_command(run_dir: Path, files: dict) -> list[str] | None:
    binary = find_binary("prometheus-alertmanager", "alertmanager")
    if not binary:
        return None
    return [binary, f"--config.file={files['alertmanager']}", f"--storage.path={run_dir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{settings.alertmanager_port}", "--cluster.listen-address="]


def _start_binder(fast: bool, quiet: bool, api_port: int | None) -> dict:
    """Binder: Alertmanager nativo; o Prometheus é o do Launcher (jupyter-server-proxy), sob o prefixo.

    Se ninguém abriu o Prometheus pelo Launcher ainda, subo-o aqui com o MESMO comando do proxy
    (`python -m kit.binder prometheus`), na mesma porta e prefixo: o proxy passa a usá-lo.
    """
    run_dir = Path(tempfile.mkdtemp(prefix="kit-stack-"))
    files = render_native_configs(run_dir, api_port=api_port, fast=fast)
    state = {"mode": "binder", "run_dir": str(run_dir), "pids": {}, "fast": fast,
             "urls": {"prometheus": settings.prometheus_url, "grafana": settings.grafana_url}}
    command = _alertmanager_command(run_dir, files)
    if command:
        _launch(state, "alertmanager", settings.alertmanager_port, command,
                f"http://127.0.0.1:{settings.alertmanager_port}", quiet)
    if command := _native_services.pushgateway_command(run_dir):
        _launch(state, "pushgateway", settings.pushgateway_port, command,
                f"http://127.0.0.1:{settings.pushgateway_port}", quiet)
    if prom.available():
        _say(f"  prometheus do Binder já no ar em {settings.prometheus_url} (aberto pelo Launcher)", quiet)
    else:
        _launch(state, "prometheus", settings.prometheus_port,
                [sys.executable, "-m", "kit.binder", "prometheus", "--port", str(settings.prometheus_port),
                 "--base-url", settings.service_prefix], settings.prometheus_url, quiet)
    _say("  No Launcher do JupyterLab (+), os ícones Prometheus e Grafana abrem as interfaces.", quiet)
    return state


def stop_native(state: dict) -> None:
    for pid in state.get("pids", {}).values():
        _process.terminate(pid)
    if state.get("run_dir"):
        shutil.rmtree(state["run_dir"], ignore_errors=True)


def _compose(*args: str, quiet: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "compose", *args], cwd=settings.root, capture_output=quiet, text=True)


def up(mode: str | None = None, *, fast: bool = False, quiet: bool = False, receiver: bool = True,
       api_port: int | None = None) -> dict:
    """Sobe a stack no melhor modo disponível (idempotente) e devolve o estado.

    O estado devolvido traz `already_running`: True se já havia uma stack no ar antes desta chamada
    (subida por `make lab`, `python -m kit stack up` ou outra aula) — quem a subiu é quem a para.
    """
    current = _read_state()
    local = current.get("mode") in ("native", "binder")
    alive = local and bool(current.get("pids")) and all(_process.alive(p) for p in current["pids"].values())
    # Num hub compartilhado as portas do aluno podem mudar entre sessões: uma stack em outras portas é resto.
    alive = alive and current.get("prometheus_port", settings.prometheus_port) == settings.prometheus_port
    if alive and current.get("fast", False) == fast:
        _say(f"A stack ({current['mode']}) já está no ar (nada a fazer).", quiet)
        if receiver:
            _start_receiver(quiet)
        return {**current, "already_running": True}
    if local:
        if alive:
            _say("A stack no ar usa outros tempos (rápido/produção): reiniciando com os pedidos.", quiet)
        stop_native(current)  # restos de uma execução anterior (ou outro modo rápido/lento)
    chosen, reason = (mode, "pedido explícito") if mode else detect_mode()
    _say(f"Modo da stack: {chosen} — {reason}.", quiet)
    already_running = alive
    if chosen == "compose":
        already_running = prom.available()  # `docker compose up -d` com tudo no ar não muda nada
        if not (settings.root / ".env").exists():
            _say("Falta o .env: copie .env.example para .env e defina GRAFANA_ADMIN_PASSWORD.", quiet)
        result = _compose("up", "-d", quiet=quiet)
        if result.returncode != 0:
            raise ErroDaStack("`docker compose up -d` falhou; veja a mensagem acima (o .env tem "
                               "GRAFANA_ADMIN_PASSWORD?).")
        state = {"mode": "compose", "urls": {"prometheus": settings.prometheus_url,
                                             "alertmanager": settings.alertmanager_url,
                                             "pushgateway": settings.pushgateway_url,
                                             "grafana": settings.grafana_url}}
        _say("Lembre: com o Prometheus em Docker, suba a API com runner.start(host='0.0.0.0').", quiet)
    elif chosen == "native":
        if not find_binary("prometheus"):
            raise ErroDaStack("Modo nativo pedido, mas `prometheus` não está no PATH. Instale com "
                               "`sudo apt-get install prometheus prometheus-alertmanager`.")
        state = _start_native(fast, quiet, api_port, None)
        state["prometheus_port"] = settings.prometheus_port
        if settings.multiuser and (watcher := _hub.start_watcher(STATE_FILE)):
            state["pids"]["vigia"] = watcher  # para esta stack quando o servidor Jupyter do aluno parar
    elif chosen == "binder":
        if not find_binary("prometheus"):
            raise ErroDaStack("Modo binder, mas `prometheus` não está no PATH (ele vem do binder/apt.txt).")
        state = _start_binder(fast, quiet, api_port)
    else:
        state = {"mode": "none", "urls": {}}
        _say("Nada para subir: os notebooks vão ler /metrics direto e avisar o que não dá para mostrar.", quiet)
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2))
    if receiver and chosen != "none":
        _start_receiver(quiet, public=(chosen == "compose"))
    return {**state, "already_running": already_running}


def _start_receiver(quiet: bool, public: bool = False) -> None:
    from kit import alerts

    try:
        url = alerts.start_receiver(host="0.0.0.0" if public else None)
        _say(f"  receptor de alertas em {url} (os alertas aparecem em kit.alerts.table())", quiet)
    except RuntimeError as exc:
        _say(f"  {exc}", quiet)


def down(quiet: bool = False) -> None:
    """Para o que `up()` subiu (no modo compose: `docker compose down`; os volumes ficam)."""
    state = _read_state()
    mode = state.get("mode")
    if mode == "native":
        stop_native(state)
        _say("Stack nativa parada e pasta temporária removida.", quiet)
    elif mode == "binder":
        stop_native(state)
        _say("Parado o que o kit subiu no Binder. Prometheus/Grafana abertos pelo Launcher continuam no ar até a "
             "sessão acabar.", quiet)
    elif mode == "compose":
        _compose("down", quiet=quiet)
        _say("`docker compose down` feito (os dados ficam nos volumes; apague com `docker compose down -v`).",
             quiet)
    else:
        _say("Nenhuma stack registrada por este kit.", quiet)
    STATE_FILE.unlink(missing_ok=True)


def status(quiet: bool = False) -> list[dict]:
    """Tabela do que roda onde (e imprime, a menos que quiet=True)."""
    from kit import alerts

    mode = _read_state().get("mode") or ("binder" if settings.on_binder else "nenhum registrado")
    up_now = lambda url: _process.http_ok(url, client=prom.http)  # noqa: E731
    rows = [
        {"componente": "API (notebook)", "endereco": settings.api_url, "no_ar": up_now(f"{settings.api_url}/health")},
        {"componente": "Prometheus", "endereco": settings.prometheus_url, "no_ar": prom.available()},
        {"componente": "Alertmanager", "endereco": settings.alertmanager_url, "no_ar": up_now(f"{settings.alertmanager_url}/-/ready")},
        {"componente": "Pushgateway", "endereco": settings.pushgateway_url,
         "no_ar": up_now(f"{settings.pushgateway_url}/-/ready")},
        {"componente": "Grafana", "endereco": settings.grafana_url, "no_ar": up_now(f"{settings.grafana_url}/api/health")},
        {"componente": "Receptor de alertas", "endereco": alerts.receiver_url() or "(parado neste processo)",
         "no_ar": alerts.receiver_url() is not None},
    ]
    if not quiet:
        print(f"Modo da stack: {mode}")
        if settings.multiuser:
            print(f"JupyterHub compartilhado: portas e pasta só de {settings.hub_user} ({settings.home}).")
        for row in rows:
            print(f"  {row['componente']:<20} {'no ar ' if row['no_ar'] else 'parado'}  {row['endereco']}")
        if mode == "binder":
            print(f"Modo binder — {BINDER_EXPLANATION}.")
            print("  Abra pelo Launcher (+) → Prometheus ou Grafana, ou rode `course.start()` no notebook.")
        if not rows[1]["no_ar"]:
            print("Prometheus parado: `python -m kit stack up` (ou `docker compose up -d`). "
                  "Diagnóstico completo: `python -m kit doctor`.")
    return rows
