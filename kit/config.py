"""Configuração do curso: um único objeto `settings`.

Este é o ÚNICO módulo que lê variáveis de ambiente. Todo o resto do kit importa
`settings` daqui. Para mudar uma porta ou um caminho, defina a variável no `.env`
(veja `.env.example`) ou no ambiente antes de importar o kit.
"""
from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kit import _hub


def _find_root() -> Path:
    """Pasta do projeto: onde está o pyproject.toml (funciona com `pip install -e .`)."""
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd()


def _load_dotenv(path: Path) -> dict[str, str]:
    """Lê um arquivo .env simples (CHAVE=valor, comentários com #). Não sobrescreve o ambiente."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if value[:1] in ("'", '"'):
            value = value[1:].split(value[0], 1)[0]  # entre aspas: vale tudo, até a aspa que fecha
        else:
            value = value.split(" #", 1)[0].strip()  # sem aspas: " # ..." é comentário
        values[key.strip()] = value
    return values


ROOT = _find_root()  # onde estão o código e monitoring/
_ENV = {**_load_dotenv(ROOT / ".env"), **os.environ}
_ON_BINDER_ENV = _ENV.get("STACK_MODE", "") == "binder" or any(
    _ENV.get(name) for name in ("BINDER_LAUNCH_HOST", "BINDER_REQUEST", "BINDER_REPO_URL"))
# Vários alunos na mesma máquina (JupyterHub em que os servidores dividem a rede): cada um com as suas
# portas e a sua pasta (kit/_hub.py). KIT_PORTAS=auto|por_usuario|fixas; num laptop nada muda.
HUB_USER = _ENV.get("JUPYTERHUB_USER", "")
MULTIUSER = _hub.shared_host(_ENV.get("KIT_PORTAS", "auto"), HUB_USER, _ENV.get("JUPYTERHUB_API_URL", ""),
                             _ON_BINDER_ENV)
if MULTIUSER:
    _own_clone = ROOT.is_relative_to(Path.home())  # o aluno clonou o curso na própria pasta: os dados ficam nele
    # KIT_HOME só do ambiente do processo: um .env na cópia comum do curso valeria para todos os alunos
    _home = Path(os.environ.get("KIT_HOME") or (ROOT if _own_clone else Path.home() / "monitoramento-mlops"))
    _registry = Path(_ENV.get("KIT_PORTAS_DIR") or Path(tempfile.gettempdir()) / "kit-portas")
    try:
        _ASSIGNMENT = _hub.assign(HUB_USER or Path.home().name, _home.resolve(), _registry)
    except OSError as _exc:  # pasta do aluno sem escrita (disco cheio, permissão): a aula roda, sem guardar nada
        _tmp = Path(tempfile.mkdtemp(prefix="kit-aluno-"))
        print(f"Não consegui usar {_home} ({_exc.strerror or _exc}); nesta sessão seus dados ficam em {_tmp} e somem "
              "ao fim. Peça ao professor para conferir o espaço e as permissões da sua pasta.", file=sys.stderr)
        _ASSIGNMENT = _hub.assign(HUB_USER or Path.home().name, _tmp, _registry)
    for _name in ("PROMETHEUS_URL", "ALERTMANAGER_URL", "GRAFANA_URL", "PUSHGATEWAY_URL", "KIT_DATA_DIR",
                  "KIT_MODELS_DIR", "KIT_LOGS_DIR", "KIT_OUTPUTS_DIR"):
        _ENV.pop(_name, None)  # um endereço ou pasta fixos apontariam todos para a mesma stack e os mesmos dados
    _ENV.update(_ASSIGNMENT.env(), KIT_HOME=str(_ASSIGNMENT.home))
    for _notice in _ASSIGNMENT.notices:
        print(_notice, file=sys.stderr)
# Onde ficam data/, models/, logs/, outputs/ (os testes apontam KIT_HOME para uma pasta temporária).
HOME = Path(_ENV.get("KIT_HOME", str(ROOT))).resolve()


def _get(name: str, default: str) -> str:
    return _ENV.get(name, default)


# Binder (mybinder.org): o BinderHub define BINDER_*; o binder/start define STACK_MODE=binder. Lá o
# Prometheus e o Grafana rodam atrás do jupyter-server-proxy, sob o prefixo do JupyterHub
# (JUPYTERHUB_SERVICE_PREFIX, ex.: /user/fulano-abc123/), e servem a própria API sob esse prefixo.
ON_BINDER = _ON_BINDER_ENV
_PREFIX = _get("JUPYTERHUB_SERVICE_PREFIX", "/").strip("/")
SERVICE_PREFIX = f"/{_PREFIX}/" if _PREFIX else "/"


def _local_url(port_var: str, default_port: str, app: str) -> str:
    """http://127.0.0.1:<porta>, mais /<prefixo>/<app> no Binder (onde o app serve sob o sub-caminho)."""
    base = f"http://127.0.0.1:{_get(port_var, default_port)}"
    return f"{base}{SERVICE_PREFIX}{app}" if ON_BINDER else base


@dataclass
class Settings:
    root: Path = ROOT
    home: Path = HOME
    # Pastas (criadas sob demanda)
    data_dir: Path = field(default_factory=lambda: Path(_get("KIT_DATA_DIR", str(HOME / "data"))))
    models_dir: Path = field(default_factory=lambda: Path(_get("KIT_MODELS_DIR", str(HOME / "models"))))
    logs_dir: Path = field(default_factory=lambda: Path(_get("KIT_LOGS_DIR", str(HOME / "logs"))))
    outputs_dir: Path = field(default_factory=lambda: Path(_get("KIT_OUTPUTS_DIR", str(HOME / "outputs"))))
    # API
    api_host: str = field(default_factory=lambda: _get("API_HOST", "127.0.0.1"))
    api_port: int = field(default_factory=lambda: int(_get("API_PORT", "8000")))
    # Stack de monitoramento
    prometheus_url: str = field(default_factory=lambda: _get(
        "PROMETHEUS_URL", _local_url("PROMETHEUS_PORT", "9090", "prometheus")))
    alertmanager_url: str = field(default_factory=lambda: _get(
        "ALERTMANAGER_URL", f"http://127.0.0.1:{_get('ALERTMANAGER_PORT', '9093')}"))
    grafana_url: str = field(default_factory=lambda: _get("GRAFANA_URL", _local_url("GRAFANA_PORT", "3000", "grafana")))
    prometheus_port: int = field(default_factory=lambda: int(_get("PROMETHEUS_PORT", "9090")))
    alertmanager_port: int = field(default_factory=lambda: int(_get("ALERTMANAGER_PORT", "9093")))
    grafana_port: int = field(default_factory=lambda: int(_get("GRAFANA_PORT", "3000")))
    pushgateway_port: int = field(default_factory=lambda: int(_get("PUSHGATEWAY_PORT", "9091")))
    pushgateway_url: str = field(default_factory=lambda: _get(
        "PUSHGATEWAY_URL", f"http://127.0.0.1:{_get('PUSHGATEWAY_PORT', '9091')}"))
    grafana_admin_user: str = field(default_factory=lambda: _get("GRAFANA_ADMIN_USER", "admin"))
    grafana_admin_password: str = field(default_factory=lambda: _get("GRAFANA_ADMIN_PASSWORD", ""))
    alert_receiver_host: str = field(default_factory=lambda: _get("ALERT_RECEIVER_HOST", "127.0.0.1"))
    alert_receiver_port: int = field(default_factory=lambda: int(_get("ALERT_RECEIVER_PORT", "9099")))
    stack_mode: str = field(default_factory=lambda: _get("STACK_MODE", "auto"))  # auto|compose|native|binder|none
    on_binder: bool = field(default_factory=lambda: ON_BINDER)
    multiuser: bool = MULTIUSER          # hub compartilhado: portas e pasta deste usuário (kit/_hub.py)
    hub_user: str = HUB_USER
    service_prefix: str = field(default_factory=lambda: SERVICE_PREFIX)  # base_url do Jupyter ("/" fora do hub)
    grafana_home: Path = field(default_factory=lambda: Path(_get("GRAFANA_HOME", str(Path.home() / ".local" / "grafana"))))
    # Receptores opcionais de alerta (vazio = desligado); veja monitoring/alertmanager/receivers_opcionais.yml.example
    alert_env: dict = field(default_factory=lambda: {k: v for k, v in _ENV.items() if k.startswith("ALERT_")})
    # Vários workers (kit.workers): a pasta do modo multiprocesso do prometheus_client. Só do ambiente do
    # processo (não do .env): é o `serve --workers` que a define para os workers, e o cliente lê a mesma.
    multiprocess_dir: str = field(default_factory=lambda: os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""))
    # Logs
    log_level: str = field(default_factory=lambda: _get("LOG_LEVEL", "INFO"))
    log_console_level: str = field(default_factory=lambda: _get("LOG_CONSOLE_LEVEL", "INFO"))
    log_rotation: str = field(default_factory=lambda: _get("LOG_ROTATION", "10 MB"))
    log_retention: str = field(default_factory=lambda: _get("LOG_RETENTION", "7 days"))
    # Modelo e negócio
    seed: int = field(default_factory=lambda: int(_get("KIT_SEED", "42")))
    risk_medium: float = field(default_factory=lambda: float(_get("RISK_MEDIUM", "0.5")))
    risk_high: float = field(default_factory=lambda: float(_get("RISK_HIGH", "0.7")))
    # Limiares dos alertas ModelF2Low e DataDrift: os mesmos números estão em
    # monitoring/prometheus/alert_rules.yml (tests/test_config.py falha se divergirem).
    f2_alert_threshold: float = 0.7
    psi_alert_threshold: float = 0.2
    # Correção oficial dos exercícios (make grade): ferramenta ausente vira erro, nunca "pulei"
    grading: bool = field(default_factory=lambda: _get("KIT_GRADING", "") == "1")

    def ensure_dirs(self) -> None:
        for folder in (self.data_dir, self.models_dir, self.logs_dir, self.outputs_dir):
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def predictions_path(self) -> Path:
        """O lote de predições que a API serve (`python -m kit predict` grava aqui)."""
        return self.outputs_dir / "predicoes.csv"

    @property
    def api_url(self) -> str:
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::") else self.api_host
        return f"http://{host}:{self.api_port}"


settings = Settings()
