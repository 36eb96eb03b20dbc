"""Encanamento de velocidade dos logs — não é o que a aula 2 ensina (isso está em `kit.logger`).

Escrito para o benchmark de instrumentação (`bench/bench_instrumentation.py`), onde o log por
requisição custava boa parte da vazão da API. Três truques, cada um medido:

- `RequestLines`: as linhas por requisição (uma linha JSON cada) vão ao Loguru em lotes, já prontas;
- `SizeRotation`: rotação por tamanho sem perguntar ao arquivo o tamanho a cada linha;
- `ENCODE`: um único codificador JSON reaproveitado.

O efeito visível é um atraso de até 0,2 s para a linha da requisição aparecer em logs/api.json —
`kit.logger.flush()` a grava já (o `read_json_logs` e o `runner.stop` chamam).
"""
from __future__ import annotations

import atexit
import json
import re
import threading
import time
from datetime import datetime
from typing import Callable

from loguru import logger

from kit.config import settings

# Um codificador reaproveitado: json.dumps(..., opções) criaria um JSONEncoder novo a cada linha.
ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


class SizeRotation:
    """Rotação por tamanho que conta os caracteres escritos.

    Faz o mesmo que `rotation="10 MB"` do Loguru, mas sem perguntar ao arquivo o
    tamanho a cada linha (`file.tell()` num arquivo de texto é caro e aparecia
    no perfil da API com ~5% do tempo de cada requisição).
    """

    _UNITS = {"b": 1, "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000}

    def __init__(self, size: str | int):
        if isinstance(size, int):
            self.limit = size
        else:
            match = re.fullmatch(r"\s*([\d.]+)\s*([kmg]?b)\s*", size.lower())
            if not match:
                raise ValueError(f"Tamanho de rotação inválido: {size!r} (use, por exemplo, '10 MB').")
            self.limit = int(float(match.group(1)) * self._UNITS[match.group(2)])
        self._file = None
        self._size = 0

    def __call__(self, message, file) -> bool:
        if file is not self._file:  # arquivo novo (início ou depois de rotacionar)
            self._file = file
            self._size = file.seek(0, 2)
        self._size += len(message)
        return self._size > self.limit


class RequestLines:
    """Escreve eventos muito frequentes (uma linha JSON por requisição) em lotes.

    Cada requisição vira exatamente uma linha JSON em `logs/<componente>.json`,
    mas o Loguru é chamado uma vez por lote (até `max_lines` linhas, ou a cada
    `max_delay` segundos), com a mensagem já pronta e crua (`opt(raw=True)`):
    chamar o Loguru a cada requisição custava ~20% da vazão da API. O preço é um
    atraso de até `max_delay` segundos para a linha aparecer no arquivo — use
    `flush()` (ou `kit.logger.flush()`) quando precisar dela já.
    """

    def __init__(self, component: str, bound_logger, max_lines: int = 200, max_delay: float = 0.2):
        self.component, self.max_lines = component, max_lines
        self._raw = bound_logger.bind(kind="request").opt(raw=True)
        self._min_level = logger.level(settings.log_level).no
        self._tz = datetime.now().astimezone().tzinfo
        self._lines: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(target=self._flush_periodically, args=(max_delay,), daemon=True,
                         name=f"log-{component}").start()

    def write(self, level: str, message: str, **fields) -> None:
        if (_LEVEL_NO.get(level) or _level_no(level)) < self._min_level:
            return
        fields.update(time=time.time(), level=level, message=message)  # o JSON é montado no lote
        with self._lock:
            self._lines.append(fields)
            if len(self._lines) < self.max_lines:
                return
            batch, self._lines = self._lines, []
        self._emit(batch)

    def flush(self) -> None:
        with self._lock:
            batch, self._lines = self._lines, []
        self._emit(batch)

    def _emit(self, batch: list[dict]) -> None:
        if not batch:
            return
        lines = []
        for fields in batch:
            stamp = datetime.fromtimestamp(fields.pop("time"), self._tz).isoformat(timespec="milliseconds")
            lines.append(ENCODE({"time": stamp, "level": fields.pop("level"), "component": self.component,
                                  "kind": "request", "message": fields.pop("message"), **fields}))
        self._raw.log("INFO", "\n".join(lines) + "\n")

    def _flush_periodically(self, delay: float) -> None:
        while not self._wake.wait(delay):
            self.flush()


_LEVEL_NO: dict[str, int] = {}


def _level_no(name: str) -> int:
    _LEVEL_NO[name] = logger.level(name).no
    return _LEVEL_NO[name]


_request_writers: dict[str, RequestLines] = {}


def request_line_logger(component: str, get_logger: Callable):
    """A função `write(level, message, **campos)` do componente (uma por processo)."""
    writer = _request_writers.get(component)
    if writer is None:
        writer = _request_writers[component] = RequestLines(component, get_logger(component))
    return writer.write


def flush() -> None:
    """Grava já as linhas por requisição que ainda estão no lote."""
    for writer in _request_writers.values():
        writer.flush()


atexit.register(flush)
