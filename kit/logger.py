"""Logs estruturados com Loguru, um conjunto de arquivos por componente.

    from kit.logger import get_logger
    log = get_logger("training")
    log.info("Etapa 1: carregando dados", linhas=6000)

Cada componente (api, training, prediction, retraining, ...) escreve em
`logs/<componente>.log` (texto, para ler com os olhos) e
`logs/<componente>.json` (uma linha JSON por evento, para ler com pandas/jq).
Rotação por tamanho (10 MB) e retenção (7 dias) vêm de `kit.config`.

Chamar `setup()` de novo *substitui* os sinks daquele componente — nunca
duplica linhas, mesmo rodando a célula várias vezes. O logging da biblioteca
padrão (uvicorn, fastapi) é redirecionado para o Loguru.

Nunca registre dados pessoais: o id do cliente é o único identificador permitido.
"""
from __future__ import annotations

import json
import logging
import sys
import tempfile
import traceback
from pathlib import Path

from loguru import logger

from kit._fastlog import ENCODE, SizeRotation, flush, request_line_logger as _request_line_logger
from kit.config import settings

COMPONENTS = ("api", "training", "prediction", "retraining", "evaluation", "drift", "stack", "load", "notebook")
_sinks: dict[str, list[int]] = {}
_console_id: int | None = None
_paths: dict[str, Path] = {}
_STD_FIELDS = ("component", "_json")


def _json_format(record) -> str:
    """Uma linha JSON compacta por evento (campos do `bind`/kwargs viram chaves)."""
    if record["extra"].get("kind") == "request":  # já chega pronta, em lote (kit/_fastlog.py)
        return "{message}"
    payload = {
        "time": record["time"].isoformat(timespec="milliseconds"),
        "level": record["level"].name,
        "component": record["extra"].get("component"),
        "message": record["message"],
        "module": record["module"],
        "function": record["function"],
        "line": record["line"],
    }
    for key, value in record["extra"].items():
        if key not in _STD_FIELDS:
            payload[key] = value
    if record["exception"] is not None:
        exc = record["exception"]
        payload["exception"] = "".join(traceback.format_exception(exc.type, exc.value, exc.traceback))
    record["extra"]["_json"] = ENCODE(payload)
    return "{extra[_json]}\n"


_TEXT_FORMAT = ("{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {extra[component]} | "
                "{name}:{function}:{line} | {message}")  # o Loguru acrescenta "\n{exception}" a formatos em texto


def _console_format(record) -> str:
    comp = record["extra"].get("component", "-")
    line = "<green>{time:HH:mm:ss}</green> | <level>{level: <8}</level> | " + comp + " | <level>{message}</level>\n"
    if record["exception"] is None:
        return line
    # No console, só a última linha da exceção (sem caminhos da máquina); o traceback inteiro vai para o arquivo.
    exc = record["exception"]
    record["extra"]["_exc_line"] = f"    ↳ {exc.type.__name__}: {exc.value} (traceback completo em logs/{comp}.json)"
    return line + "{extra[_exc_line]}\n"


class InterceptHandler(logging.Handler):
    """Encaminha registros do `logging` padrão (uvicorn, fastapi) para o Loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.bind(component="api").opt(exception=record.exc_info).log(level, record.getMessage())


def _writable_dir(folder: Path) -> Path:
    """Devolve `folder` se der para escrever nele; senão uma pasta temporária (e avisa)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".escrita_ok"
        probe.write_text("ok")
        probe.unlink()
        return folder
    except OSError:
        fallback = Path(tempfile.gettempdir()) / "kit-logs"
        fallback.mkdir(parents=True, exist_ok=True)
        logger.bind(component="notebook").warning(
            f"Não consigo escrever em {folder}; os logs vão para {fallback}. "
            "Ajuste as permissões da pasta ou defina KIT_LOGS_DIR no .env."
        )
        return fallback


def _ensure_console() -> None:
    global _console_id
    if _console_id is not None:
        return
    try:
        logger.remove(0)  # o sink padrão do Loguru (duplicaria tudo no console)
    except ValueError:
        pass
    _console_id = logger.add(
        lambda msg: sys.stderr.write(msg),  # sys.stderr resolvido a cada linha (Jupyter troca o objeto)
        level=settings.log_console_level,
        format=_console_format,
        filter=lambda r: r["extra"].get("kind") != "request",  # linhas por requisição só nos arquivos
        colorize=False,
        diagnose=False,  # sem valores de variáveis nos tracebacks (vazariam dados pessoais do cliente)
    )


def setup(component: str = "notebook", *, level: str | None = None, logs_dir: Path | None = None,
          rotation: str | int | None = None, retention: str | int | None = None):
    """Configura (ou reconfigura) os sinks de um componente e devolve o logger dele."""
    _ensure_console()
    for sink_id in _sinks.pop(component, []):
        logger.remove(sink_id)
    folder = _writable_dir(Path(logs_dir or settings.logs_dir))
    only_this = lambda r, c=component: r["extra"].get("component") == c  # noqa: E731
    size = rotation or settings.log_rotation
    common = dict(level=level or settings.log_level, filter=only_this, encoding="utf-8",
                  retention=retention or settings.log_retention,
                  diagnose=False)  # diagnose=True escreveria os valores das variáveis (dados pessoais) no traceback
    not_request = lambda r, c=component: r["extra"].get("component") == c and r["extra"].get("kind") != "request"  # noqa: E731
    _sinks[component] = [
        # O texto fica para eventos; as linhas por requisição vão só para o JSON (mais barato e fácil de analisar).
        logger.add(folder / f"{component}.log", format=_TEXT_FORMAT, rotation=SizeRotation(size),
                   **{**common, "filter": not_request}),
        logger.add(folder / f"{component}.json", format=_json_format, rotation=SizeRotation(size), **common),
    ]
    _paths[component] = folder
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi"):
        std = logging.getLogger(name)
        std.handlers = [InterceptHandler()]
        std.propagate = False
    return logger.bind(component=component)


def get_logger(component: str = "notebook"):
    """Logger do componente; configura os arquivos dele na primeira chamada."""
    if component not in _sinks:
        return setup(component)
    return logger.bind(component=component)


def request_line_logger(component: str = "api"):
    """Escreve uma linha JSON por requisição em logs/<componente>.json, em lotes (veja kit/_fastlog.py)."""
    return _request_line_logger(component, get_logger)


__all__ = ["setup", "get_logger", "request_line_logger", "flush", "log_path", "read_json_logs", "COMPONENTS"]


def log_path(component: str, kind: str = "json") -> Path:
    """Caminho do arquivo de log atual do componente (`kind` = 'json' ou 'log')."""
    folder = _paths.get(component, settings.logs_dir)
    return folder / f"{component}.{kind}"


def read_json_logs(component: str = "api"):
    """Lê o log JSON de um componente (arquivo atual e rotacionados) num DataFrame."""
    import pandas as pd

    flush()
    folder = _paths.get(component, settings.logs_dir)
    rows = []
    for path in sorted(folder.glob(f"{component}*.json")):
        with open(path, encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return pd.DataFrame(rows)
