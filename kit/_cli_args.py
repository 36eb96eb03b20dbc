"""Encanamento da linha de comando: o argparse falando português e validando o que o aluno digita.

O argparse escreve os erros em inglês ("invalid choice: 'xyz' (choose from ...)") e sai com um
bloco de uso; aqui cada erro vira uma `EntradaInvalida` de uma linha, em pt-BR, que o `kit.cli.main`
imprime (código de saída 2). Os `type=` abaixo recusam o que o programa aceitaria e depois
quebraria (porta 99999, porta 1, zero requisições, fração 1.5, URL sem http://).
"""
from __future__ import annotations

import argparse
import re
import socket
from urllib.parse import urlsplit

from kit.errors import EntradaInvalida

# (padrão do argparse, tradução). O argparse monta "argument --port: <mensagem>"; a parte
# "argument X" vira só "X" antes destas trocas.
_MESSAGES = [
    (r"invalid choice: '?([^']*?)'? \(choose from (.*)\)",
     lambda m: f"'{m[1]}' não é uma opção válida; use uma destas: {m[2].replace(chr(39), '')}"),
    (r"invalid (int|float) value: '?([^']*?)'?$",
     lambda m: f"'{m[2]}' não é um número{' inteiro' if m[1] == 'int' else ''}"),
    (r"expected one argument", lambda m: "falta o valor depois da opção"),
    (r"the following arguments are required: (.*)", lambda m: f"falta informar: {m[1]}"),
    (r"unrecognized arguments: (.*)", lambda m: f"não conheço estes argumentos: {m[1]}"),
    (r"ambiguous option: (\S+) could match (.*)", lambda m: f"a opção {m[1]} é ambígua (pode ser {m[2]})"),
    (r"ignored explicit argument '?([^']*?)'?$", lambda m: f"esta opção não recebe valor ('{m[1]}')"),
]


def translate(message: str) -> str:
    """A mensagem de erro do argparse em português (o que não reconhecer, passa como veio)."""
    prefix = ""
    found = re.match(r"argument ([^:]+): (.*)", message, re.S)
    if found:
        prefix, message = f"{found[1]}: ", found[2]
    for pattern, render in _MESSAGES:
        match = re.match(pattern, message, re.S)
        if match:
            return prefix + render(match)
    return prefix + message


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix if prefix is not None else "uso: ")


class Parser(argparse.ArgumentParser):
    """Um ArgumentParser cujo erro é uma `EntradaInvalida` de uma linha em pt-BR (e a ajuda em pt-BR)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumentos"
        self._optionals.title = "opções"
        self.add_argument("-h", "--help", action="help", help="mostra esta ajuda e sai")

    def error(self, message: str):
        raise EntradaInvalida(f"{translate(message)}. Veja as opções com `{self.prog} --help`.")


# --- tipos validados (type=...) -----------------------------------------------------------------
def port(text: str) -> int:
    """Uma porta TCP que um usuário comum pode abrir: 1024 a 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' não é uma porta; use um número entre 1024 e 65535 "
                                         "(ex.: 8000)") from None
    if not 1024 <= value <= 65535:
        why = "abaixo de 1024 só o administrador abre" if 0 <= value < 1024 else "portas vão até 65535"
        raise argparse.ArgumentTypeError(f"{value} não serve ({why}); use um número entre 1024 e 65535 "
                                         "(ex.: 8000)")
    return value


def host(text: str) -> str:
    """Um endereço onde dá para escutar: 127.0.0.1, 0.0.0.0, localhost ou outro nome que resolva."""
    try:
        socket.getaddrinfo(text, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise argparse.ArgumentTypeError(f"'{text}' não é um endereço desta máquina; use 127.0.0.1 (só você) "
                                         "ou 0.0.0.0 (toda a rede)") from None
    return text


def _number(text: str, kind: type, what: str) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' não é {what}") from None


def positive_int(text: str) -> int:
    value = _number(text, int, "um número inteiro")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} não serve; use um inteiro a partir de 1")
    return value


def fraction(text: str) -> float:
    value = _number(text, float, "um número")
    if not 0 <= value <= 1:  # também recusa nan
        raise argparse.ArgumentTypeError(f"{text} não serve; use uma fração entre 0 e 1 (ex.: 0.1 = 10 %)")
    return value


def seconds(text: str) -> float:
    value = _number(text, float, "um número de segundos")
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} não serve; use de 0 a 3600 segundos")
    return value


def minutes(text: str) -> float:
    value = _number(text, float, "um número de minutos")
    if not 0 < value <= 7 * 24 * 60:
        raise argparse.ArgumentTypeError(f"{text} não serve; use mais que 0 e até 10080 minutos (7 dias)")
    return value


def url(text: str) -> str:
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 — levanta ValueError para porta fora de 0..65535 ou não numérica
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"'{text}' não é um endereço da API; use algo como "
                                         "http://127.0.0.1:8000")
    return text.rstrip("/")
