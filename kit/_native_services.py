"""Encanamento de kit.stack: os serviços nativos opcionais (Grafana, Pushgateway) e os arquivos deles.

kit.stack decide o modo e sobe Prometheus/Alertmanager; aqui ficam o Grafana nativo (raro numa máquina
de aluno) e o Pushgateway da semana 7 (`prometheus-pushgateway` do Debian), ambos opcionais: se faltam,
a stack sobe sem eles e diz o que instalar.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from kit import _process
from kit.config import settings

MONITORING = settings.root / "monitoring"
PUSHGATEWAY_TARGET = "pushgateway:9091"  # o endereço do docker-compose.yml; no modo nativo vira 127.0.0.1
PUSHGATEWAY_HINT = ("Pushgateway não encontrado (sudo apt-get install prometheus-pushgateway; no Docker ele já "
                    "vem no docker-compose.yml): os jobs em lote não terão para onde empurrar métricas.")


def say(message: str, quiet: bool) -> None:
    if not quiet:
        print(message)


def find_binary(*names: str) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


# --- Pushgateway -------------------------------------------------------------------------------
def pushgateway_command(run_dir: Path) -> list[str] | None:
    """O comando do Pushgateway nativo, ou None se o binário não existe.

    Os grupos ficam em `run_dir` (o padrão do pacote Debian seria /var/lib/prometheus, de todos os
    usuários da máquina): sobrevivem a um reinício do Pushgateway, somem no `stack down`.
    """
    binary = find_binary("prometheus-pushgateway", "pushgateway")
    if not binary:
        return None
    return [binary, f"--web.listen-address=127.0.0.1:{settings.pushgateway_port}",
            f"--persistence.file={run_dir / 'pushgateway.data'}"]


def rewrite_pushgateway_target(config: dict) -> None:
    """No prometheus.yml copiado: o job `pushgateway` aponta para o Pushgateway nativo em 127.0.0.1."""
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            static["targets"] = [f"127.0.0.1:{settings.pushgateway_port}" if t == PUSHGATEWAY_TARGET else t
                                 for t in static["targets"]]


# --- Grafana nativo ------------------------------------------------------------------------------
def render_grafana_provisioning(dest: Path, prometheus_url: str) -> Path:
    """Cópia de monitoring/grafana/provisioning com o datasource em `prometheus_url` e os dashboards do repo."""
    shutil.copytree(MONITORING / "grafana" / "provisioning", dest, dirs_exist_ok=True)
    ds = dest / "datasources" / "prometheus.yml"
    ds.write_text(ds.read_text().replace("http://prometheus:9090", prometheus_url))
    dash = dest / "dashboards" / "dashboards.yml"
    dash.write_text(dash.read_text().replace("/var/lib/grafana/dashboards", str(MONITORING / "grafana" / "dashboards")))
    return dest


def start_native_grafana(run_dir: Path, quiet: bool):
    """Grafana nativo (se instalado e com senha de admin no .env). Não verificável nesta máquina de CI."""
    binary = find_binary("grafana", "grafana-server")
    if not binary:
        say("  Grafana não encontrado no PATH: use as prévias em matplotlib (kit.dashboards) ou o Docker.", quiet)
        return None
    if not settings.grafana_admin_password:
        say("  Grafana encontrado, mas falta GRAFANA_ADMIN_PASSWORD no .env (sem senha padrão): não subi.", quiet)
        return None
    home = Path(binary).resolve().parent.parent
    home = next((p for p in (home / "share" / "grafana", home, Path("/usr/share/grafana")) if (p / "conf").exists()),
                home)
    prov = render_grafana_provisioning(run_dir / "grafana" / "provisioning", settings.prometheus_url)
    ini = run_dir / "grafana.ini"
    ini.write_text(
        f"[server]\nhttp_addr = 127.0.0.1\nhttp_port = {settings.grafana_port}\n"
        f"[paths]\ndata = {run_dir / 'grafana-data'}\nlogs = {run_dir}\nprovisioning = {prov}\n"
        f"[security]\nadmin_user = {settings.grafana_admin_user}\nadmin_password = {settings.grafana_admin_password}\n"
        "[auth.anonymous]\nenabled = false\n[analytics]\nreporting_enabled = false\ncheck_for_updates = false\n")
    command = [binary, "server"] if Path(binary).name == "grafana" else [binary]
    log = run_dir / "grafana.log"
    proc = _process.launch([*command, f"--homepath={home}", f"--config={ini}"], log)
    url = settings.grafana_url
    try:
        _process.wait_ready("grafana", f"{url}/api/health", proc=proc, log=log, timeout=60)
    except _process.ProcessoNaoSubiu as exc:
        say(f"  Grafana não subiu: {exc}", quiet)
        _process.terminate(proc)
        return None
    say(f"  grafana no ar em {url} (PID {proc.pid})", quiet)
    return proc.pid, url
