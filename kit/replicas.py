"""Várias réplicas da API, achadas pelo Prometheus por arquivo (`file_sd_configs`).

    from kit import replicas
    grupo = replicas.start(3)              # 3 × `python -m kit serve`, cada uma na sua porta
    replicas.targets()                     # o que o Prometheus lê agora: [{"targets": [...]}]
    replicas.stop(grupo, grupo.ports[0])   # tira a réplica do arquivo e só DEPOIS a para
    replicas.stop(grupo)                   # todas

Uma réplica é um processo da API com a sua porta (numa empresa, uma máquina, um contêiner ou um pod).
O Prometheus não adivinha quem existe: o job `api-churn` lê, além do alvo fixo, os arquivos
`targets/*.json` ao lado do prometheus.yml (`file_sd_configs`) e os relê sozinho quando mudam.
O kit reescreve esse arquivo quando uma réplica sobe (depois que ela responde) e quando para (antes
de pará-la) — sempre de uma vez (arquivo temporário + `os.replace`): o Prometheus nunca lê um JSON
pela metade nem procura uma réplica parada de propósito. A que cai sem avisar continua no arquivo:
o alvo fica `up == 0` e dispara o ApiReplicaDown (todas fora = ApiDown).

No Compose quem sabe das réplicas é o DNS: `docker compose --profile replicas up -d --scale api=3`
e o `dns_sd_configs` do mesmo job pergunta ao DNS da rede do Compose os endereços do serviço `api`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kit import _process
from kit.config import settings

__all__ = ["Replicas", "start", "stop", "targets", "targets_file"]
FILE_NAME = "api-churn.json"
_registered: dict[Path, dict[int, subprocess.Popen]] = {}  # arquivo → {porta: processo} listados nele


def targets_file() -> Path:
    """O arquivo que o Prometheus da stack nativa lê (na pasta da stack); sem stack, um em .run/."""
    from kit import stack

    try:
        run_dir = json.loads(stack.STATE_FILE.read_text())["run_dir"]
    except (OSError, ValueError, KeyError):
        return settings.home / ".run" / "targets" / FILE_NAME  # nenhum Prometheus nativo o lê
    return Path(run_dir) / "targets" / FILE_NAME


def _write(path: Path) -> None:
    """Reescreve o arquivo com as réplicas registradas, de uma vez (quem lê vê o antigo ou o novo)."""
    ports = sorted(_registered.get(path, {}))
    groups = [{"targets": [f"127.0.0.1:{port}" for port in ports]}] if ports else []
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")  # começa com ".": o glob targets/*.json do Prometheus não o pega
    tmp.write_text(json.dumps(groups, indent=2))
    os.replace(tmp, path)


def targets(path: Path | None = None) -> list[dict]:
    """O conteúdo do arquivo de alvos (o que o Prometheus enxerga); [] se ainda não existe."""
    try:
        return json.loads((path or targets_file()).read_text())
    except (OSError, ValueError):
        return []


@dataclass
class Replicas:
    """As réplicas que `start` subiu: `ports`, `urls`, `procs`, e o arquivo onde estão listadas."""
    sd_file: Path
    procs: dict[int, subprocess.Popen] = field(default_factory=dict)

    @property
    def ports(self) -> list[int]:
        return sorted(self.procs)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def __repr__(self) -> str:
        return f"<{len(self.procs)} réplicas da API nas portas {self.ports}, listadas em {self.sd_file}>"


def start(n: int = 3, sd_file: Path | None = None, timeout: float = 120.0) -> Replicas:
    """Sobe `n` réplicas (portas livres), cada uma entra no arquivo só quando responde /health."""
    group = Replicas(Path(sd_file or targets_file()))
    listed = _registered.setdefault(group.sd_file, {})
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(n):  # todas sobem juntas; cada uma é registrada assim que fica pronta
        port = _process.free_port()
        log = settings.logs_dir / f"replica-{port}.log"
        group.procs[port] = _process.launch([sys.executable, "-m", "kit", "serve", "--port", str(port)], log)
    try:
        for port, proc in group.procs.items():
            _process.wait_ready(f"réplica {port}", f"http://127.0.0.1:{port}/health", proc=proc,
                                log=settings.logs_dir / f"replica-{port}.log", timeout=timeout)
            listed[port] = proc
            _write(group.sd_file)
    except BaseException:
        stop(group)
        raise
    return group


def stop(group: Replicas, port: int | None = None) -> None:
    """Para uma réplica (ou todas): primeiro sai do arquivo, depois o processo termina."""
    if port is not None and port not in group.procs:
        from kit.errors import EntradaInvalida

        raise EntradaInvalida(f"Nenhuma réplica deste grupo na porta {port}; as portas são {group.ports}.")
    for p in [port] if port is not None else list(group.procs):
        proc = group.procs.pop(p)
        _registered.get(group.sd_file, {}).pop(p, None)
        _write(group.sd_file)
        _process.terminate(proc)
