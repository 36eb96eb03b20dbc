"""Encanamento da API: erros em pt-BR com request_id e o limite de tamanho do corpo.

Todo erro da API tem o mesmo corpo (`ErroResposta`: erro, mensagem, request_id e, no 422,
os campos com o problema de cada um), em português e dizendo o que fazer. Este módulo traduz
as mensagens do FastAPI/pydantic/Starlette (`install_handlers`) e recusa corpos grandes demais
antes de lê-los (`BodyLimit`). As rotas ficam em `kit.api`.
"""
from __future__ import annotations

import itertools
import uuid

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from kit import data_quality

MAX_BODY_BYTES = 1_000_000  # um cliente em JSON tem ~300 bytes; corpos maiores são recusados com 413


class CampoInvalido(BaseModel):
    campo: str
    problema: str


class ErroResposta(BaseModel):
    """O corpo de todo erro da API — é o que o OpenAPI documenta em cada status de erro."""
    erro: str = Field(description="Código curto: entrada_invalida, nao_encontrado, indisponivel, ...")
    mensagem: str = Field(description="O que aconteceu e como resolver, em português")
    request_id: str = Field(description="O mesmo id da linha desta requisição em logs/api.json")
    campos: list[CampoInvalido] | None = Field(default=None, description="Só no 422: cada campo e o problema")


_ERROR_DOCS = {400: "Corpo ilegível (não é JSON em UTF-8)", 404: "Cliente não encontrado no lote",
               413: f"Corpo maior que {MAX_BODY_BYTES // 1000} KB", 422: "Entrada inválida (veja `campos`)",
               409: "Vários workers: reinicie-os em vez de recarregar um só",
               500: "Erro interno (procure o request_id em logs/api.json)", 503: "Modelo ou predições não carregados"}


def errors(*statuses: int) -> dict:
    """`responses=` de uma rota: os status de erro que ela devolve, todos com o corpo ErroResposta."""
    return {status: {"model": ErroResposta, "description": _ERROR_DOCS[status]} for status in statuses}


_PT = {
    "missing": "campo obrigatório ausente",
    "extra_forbidden": "campo não esperado",
    "int_parsing": "deve ser um número inteiro",
    "int_from_float": "deve ser um número inteiro (sem casas decimais)",
    "int_type": "deve ser um número inteiro",
    "float_parsing": "deve ser um número",
    "float_type": "deve ser um número",
    "finite_number": "deve ser um número finito (NaN/Infinity não valem)",
    "greater_than": "deve ser maior que {gt}",
    "greater_than_equal": "deve ser maior ou igual a {ge}",
    "less_than": "deve ser menor que {lt}",
    "less_than_equal": "deve ser menor ou igual a {le}",
    "literal_error": "deve ser um destes valores: {expected}",
    "json_invalid": "JSON malformado",
    "model_attributes_type": "o corpo deve ser um objeto JSON",
    "dict_type": "o corpo deve ser um objeto JSON",
    "string_type": "deve ser um texto",
    "int_parsing_size": "número grande demais",
    "json_number": "deve ser um número (sem aspas; true/false não valem)",
}


def _field_errors(problems) -> list[dict]:
    out = []
    for err in problems:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "path", "query")]
        if err.get("type") == "json_invalid":
            loc = []
        template = _PT.get(err.get("type"), "valor inválido")
        try:
            problem = template.format(**(err.get("ctx") or {})).replace(" or ", " ou ")
        except (KeyError, IndexError):
            problem = template
        out.append({"campo": ".".join(loc) or "corpo", "problema": problem})
    return out


_ID_PREFIX = uuid.uuid4().hex[:6]  # um por processo; depois só um contador (uuid4 por requisição custa)
_id_counter = itertools.count(1)


def request_id(request: Request) -> str:
    """O id desta requisição (único neste processo); o mesmo no log e no corpo de erro."""
    state = request.scope.setdefault("state", {})
    rid = state.get("request_id")
    if rid is None:
        rid = state["request_id"] = f"{_ID_PREFIX}-{next(_id_counter):06x}"
    return rid


def error(status: int, code: str, message: str, request: Request, **extra) -> JSONResponse:
    body = {"erro": code, "mensagem": message, "request_id": request_id(request), **extra}
    return JSONResponse(status_code=status, content=body)


BODY_TOO_LARGE = (f"Corpo da requisição grande demais (limite: {MAX_BODY_BYTES // 1000} KB). "
                  "Envie um cliente por requisição em POST /predict.")


class BodyLimit:
    """Recusa corpos maiores que MAX_BODY_BYTES com 413 (em pt-BR), sem guardá-los na memória.

    Sem isto o uvicorn aceitaria corpos de qualquer tamanho. Com Content-Length, responde
    antes de ler; sem ele (envio em pedaços), conta os bytes à medida que chegam.
    """

    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            return await error(413, "corpo_grande_demais", BODY_TOO_LARGE, Request(scope))(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, BODY_TOO_LARGE)  # vira o JSON de erro no on_http_error
            return message

        await self.app(scope, limited_receive, send)


def install_handlers(app: FastAPI) -> None:
    """Os tratadores de erro da API: todo erro vira um `ErroResposta` em pt-BR."""

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError):
        if request.url.path == "/predict":
            data_quality.check_rejected(exc.errors())  # o corpo recusado também é um dado de qualidade
        fields = _field_errors(exc.errors())
        names = ", ".join(f"{f['campo']}: {f['problema']}" for f in fields)
        return error(422, "entrada_invalida", f"Entrada inválida — {names}.", request, campos=fields)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException):
        code = {400: "entrada_invalida", 404: "nao_encontrado", 413: "corpo_grande_demais", 503: "indisponivel",
                500: "erro_interno"}.get(exc.status_code, "erro")
        detail = exc.detail if isinstance(exc.detail, str) else "Erro."
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Rota não encontrada. Veja as rotas em GET / ou na documentação em /docs."
        elif exc.status_code == 400 and detail == "There was an error parsing the body":  # UTF-8 inválido etc.
            detail = ("Não consegui ler o corpo da requisição: envie um objeto JSON em UTF-8 "
                      "(Content-Type: application/json).")
        elif exc.status_code == 405:
            detail = "Método não permitido nesta rota. Veja GET / ou /docs."
        return error(exc.status_code, code, detail, request)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception):
        log = request.app.state.service.log
        log.bind(request_id=request_id(request)).opt(exception=exc).error("Erro inesperado na API")
        return error(500, "erro_interno", "Erro interno. Procure o request_id em logs/api.json.", request)
