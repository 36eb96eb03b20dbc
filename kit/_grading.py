"""Captura das respostas na correção oficial (`make grade`): dentro do kernel do aluno, só *registra*.

As partes escondidas das conferências chamam `record("chave", valor)`. Na correção
(KIT_GRADING=1), o valor vira JSON de tipos exatos (int, float, str, bool, None, list, dict;
escalares e arrays do numpy, Series e DataFrame exatos do pandas são convertidos; qualquer outro
tipo — inclusive uma subclasse de int/list/Series com um `__eq__` que mente — vira só o nome do
tipo) e sai como uma saída `application/vnd.kit.captura+json` da célula. Quem julga é o processo
de correção, fora do kernel: compara com os valores que ele mesmo obteve rodando a solução
(kit/_grading_judge.py). Fora da correção, `record` não faz nada (o aluno vê só o ✔ ou a dica).

O registro também conta o que mudou desde a preparação (ajudantes de kit.exercises redefinidos,
atributos do kit trocados, builtins alterados): o processo de correção põe isso no feedback.
Nada aqui é confiável sozinho — o aluno controla o kernel —, mas mentir nos valores exige
conhecer a resposta certa, que é o trabalho.
"""
from __future__ import annotations

import builtins
import os
import sys

MIME = "application/vnd.kit.captura+json"
HELPERS = ("check", "close", "passed", "not_checked", "data_path", "dashboard_problems", "record")
_SKIP_BUILTINS = {"_", "__", "___", "input", "raw_input"}  # o ipykernel troca input a cada execução
_PRISTINE: dict = {}  # preenchido por snapshot() quando kit.exercises é importado (na célula de preparação)


def snapshot() -> None:
    """Guarda as identidades de agora: os ajudantes, os atributos dos módulos kit.* e os builtins."""
    if _PRISTINE:
        return
    _PRISTINE["builtins"] = {k: id(v) for k, v in vars(builtins).items() if k not in _SKIP_BUILTINS}
    _PRISTINE["modules"] = {name: {k: id(v) for k, v in vars(mod).items() if not k.startswith("_")}
                            for name, mod in list(sys.modules.items()) if name == "kit" or name.startswith("kit.")}
    exercises = sys.modules.get("kit.exercises")
    _PRISTINE["helpers"] = {h: id(getattr(exercises, h)) for h in HELPERS if hasattr(exercises, h)}


def tampering(user_ns: dict | None) -> list[str]:
    """O que mudou desde snapshot() (frases curtas em pt-BR)."""
    if not _PRISTINE:
        return []
    found = []
    for name, ident in _PRISTINE["helpers"].items():
        if user_ns is not None and name in user_ns and id(user_ns[name]) != ident:
            found.append(f"o nome `{name}` (ajudante das conferências) foi redefinido")
    now = vars(builtins)
    found += [f"o builtin `{k}` foi trocado" for k, ident in _PRISTINE["builtins"].items()
              if k not in now or id(now[k]) != ident]
    for mod_name, attrs in _PRISTINE["modules"].items():
        mod = sys.modules.get(mod_name)
        if mod is None:
            found.append(f"o módulo `{mod_name}` foi tirado de sys.modules")
            continue
        found += [f"`{mod_name}.{k}` foi trocado" for k, ident in attrs.items()
                  if k not in vars(mod) or id(vars(mod)[k]) != ident]
    return found


class WrongType(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _type_name(value) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def plain(value):
    """`value` em tipos exatos do Python (sem subclasses); levanta WrongType com o nome do tipo recusado."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if value == value and abs(value) != float("inf") else repr(value)  # nan/inf viram texto
    if kind in (list, tuple):
        return [plain(v) for v in value]
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise WrongType("dict com chaves que não são str")
        return {k: plain(v) for k, v in value.items()}
    numpy, pandas = sys.modules.get("numpy"), sys.modules.get("pandas")
    if numpy is not None:
        if kind in (numpy.bool_,):
            return bool(value)
        if kind in (numpy.int8, numpy.int16, numpy.int32, numpy.int64, numpy.uint8, numpy.uint16, numpy.uint32,
                    numpy.uint64):
            return int(value)
        if kind in (numpy.float16, numpy.float32, numpy.float64):
            return plain(float(value))
        if kind is numpy.ndarray:
            return [plain(v) for v in value.tolist()]
    if pandas is not None:
        if kind is pandas.Series:
            return {"__series__": [[plain(k), plain(v)] for k, v in zip(value.index.tolist(), value.tolist())]}
        if kind is pandas.DataFrame:
            return {"__dataframe__": {"colunas": sorted(str(c) for c in value.columns), "linhas": int(value.shape[0])}}
    raise WrongType(_type_name(value))


def record(key: str, value, hint: str = "", rule: str = "igual", **params) -> None:
    """Registra `value` para o processo de correção julgar (não faz nada fora de `make grade`)."""
    if os.environ.get("KIT_GRADING") != "1":
        return
    entry = {"chave": key, "dica": hint, "regra": rule, "parametros": params}
    try:
        entry["valor"] = plain(value)
    except WrongType as exc:
        entry["tipo_recusado"] = exc.name
    except Exception as exc:  # noqa: BLE001 — um objeto que quebra na conversão também é recusado
        entry["tipo_recusado"] = f"{_type_name(value)} ({type(exc).__name__} ao converter)"
    try:
        from IPython import get_ipython

        shell = get_ipython()
        entry["adulteracao"] = tampering(shell.user_ns if shell is not None else None)
        from IPython.display import display

        display({MIME: entry}, raw=True)
    except ImportError:  # fora do IPython não há para onde mandar
        pass
