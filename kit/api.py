"""A API de churn (o `api_churn` do projeto original), instrumentada.

Rotas: `GET /`, `GET /health`, `GET /churn/{id_cliente}`, `POST /predict`,
`GET /model`, `GET /metrics` — mais `/admin/falhas` (injeção de falhas para
fazer alertas dispararem de propósito), `/admin/recarregar` e `/admin/rotulos`
(um arquivo de rótulos que chegou: a API junta com as predições, kit.labels).

Instrumentação numa única passada de middleware por requisição: o middleware do
prometheus-fastapi-instrumentator mede cada requisição (rota como template,
status, duração) e chama as nossas funções `_record_metrics` (que passa a requisição a
`kit.instrumentation.record_request`, prometheus_client puro) e `_log_request`,
que alimentam as métricas `api_*` do contrato e escrevem uma linha de log
estruturada (request_id, endpoint, status, duração) em logs/api.json.
"""
from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path as PathParam, Request
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from kit import _psi_file, data_quality, instrumentation, labels, metrics, model as churn_model
from kit._api_errors import MAX_BODY_BYTES, BodyLimit, errors as _errors, install_handlers, request_id as _request_id
from kit.config import settings
from kit.logger import get_logger, request_line_logger

HOW_TO_FIX = "Rode: python -m kit train && python -m kit predict"
MAX_ID = 99_999_999_999  # ids reais têm 8 dígitos; acima disto é certamente erro de digitação
__all__ = ["create_app", "router", "Service", "Faults", "Cliente", "Falhas", "ArquivoRotulos", "MAX_BODY_BYTES",
           "MAX_ID"]


@dataclass
class Faults:
    """Falhas injetadas (desligadas por padrão). Mude em tempo de execução: `app.state.faults.error_rate = 0.2`.

    No JSON de /admin/falhas os mesmos campos se chamam `latencia_s` e `taxa_erro` (o modelo `Falhas`).
    """
    latency_s: float = 0.0
    error_rate: float = 0.0

    def as_body(self) -> dict:
        return {"latencia_s": self.latency_s, "taxa_erro": self.error_rate}

    def update(self, body: "Falhas") -> None:
        self.latency_s, self.error_rate = body.latencia_s, body.taxa_erro


class Service:
    """O que a API tem em memória: modelo, metadados e o lote de predições."""

    def __init__(self, models_dir: Path | None = None, predictions_path: Path | None = None):
        self.models_dir = models_dir
        self.predictions_path = Path(predictions_path or settings.predictions_path)
        self.model = None
        self.meta: dict | None = None
        self.predictions: dict[int, tuple[float, str]] = {}
        self.problems: list[str] = []
        self.log = get_logger("api")
        self.labels = labels.LabelJoin()  # rótulos que chegam depois: receive(arquivo) junta e publica
        self.reload()

    def reload(self) -> None:
        """(Re)carrega modelo e predições e publica as métricas deles."""
        self.problems = []
        try:
            self.model, self.meta = churn_model.load(models_dir=self.models_dir)
            if "version" not in self.meta:
                raise KeyError("version")
        except churn_model.ModeloAusente as exc:
            self.model, self.meta = None, None
            self.problems.append(str(exc))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # metadados sem os campos ({}, [] ...)
            self.model, self.meta = None, None
            self.problems.append(f"Metadados do modelo inválidos ({type(exc).__name__}). "
                                 "Treine de novo com: python -m kit train")
        try:
            frame = pd.read_csv(self.predictions_path)
            bad = ~pd.to_numeric(frame["risco"], errors="coerce").between(0, 1) | ~frame["nivel"].isin(metrics.LEVELS)
            if bad.any():  # risco vazio/fora de [0, 1] ou nível desconhecido: arquivo corrompido
                raise ValueError(f"{int(bad.sum())} linhas inválidas")
            self.predictions = {int(i): (float(r), str(n)) for i, r, n in
                                zip(frame["id_cliente"], frame["risco"], frame["nivel"])}
            metrics.publish_batch(frame["risco"], settings.risk_high, settings.risk_medium)
        except (OSError, KeyError, ValueError, pd.errors.ParserError) as exc:
            self.predictions = {}
            self.problems.append(f"Predições em lote indisponíveis ({type(exc).__name__}): {HOW_TO_FIX}")
        metrics.api_predictions_loaded.set(len(self.predictions))
        self.labels.load_log(self.predictions_path.with_name("registro_predicoes.csv"))  # rótulos já juntados ficam
        _psi_file.publish_saved()  # o PSI da última verificação (python -m kit drift grava em outputs/drift.json)
        if self.problems:
            self.log.warning("API em modo degradado: " + " | ".join(self.problems))
        else:
            self.log.info(f"Modelo {self.meta['version']} e {len(self.predictions)} predições carregados")

    @property
    def status(self) -> str:
        return "ok" if not self.problems else "degradado"


def _json_number(value):
    """Só números do JSON, como o OpenAPI documenta: true/false e "52" (texto) não valem; 52.0 é inteiro."""
    if isinstance(value, (bool, str)):  # o pydantic, sozinho, aceitaria true como 1 e "52" como 52
        raise PydanticCustomError("json_number", "deve ser um número")
    return value


Int = Annotated[int, BeforeValidator(_json_number)]
Float = Annotated[float, BeforeValidator(_json_number)]


class Cliente(BaseModel):
    """Um cliente para pontuar em POST /predict (mesmas colunas do treino)."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # (com Field dentro do Annotated: assim o OpenAPI mostra exclusiveMinimum/maximum, não gt/le)
    id_cliente: Annotated[int, Field(gt=0, le=MAX_ID), BeforeValidator(_json_number)] | None = None
    pais: Literal["França", "Espanha", "Alemanha"]
    genero: Literal["Masculino", "Feminino"]
    idade: Int = Field(ge=18, le=120)
    anos_cliente: Int = Field(ge=0, le=80)
    saldo_conta: Float = Field(ge=0, le=1e10)
    numero_produtos: Int = Field(ge=1, le=4)
    cartao_credito: Literal["Sim", "Não"]
    salario_estimado: Float = Field(ge=0, le=1e10)
    escore_credito: Int = Field(ge=300, le=900)


class Falhas(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    latencia_s: Float = Field(default=0.0, ge=0, le=30)
    taxa_erro: Float = Field(default=0.0, ge=0, le=1)


class ArquivoRotulos(BaseModel):
    """Um arquivo de rótulos que chegou, em outputs/rotulos/ (POST /admin/rotulos)."""
    model_config = ConfigDict(extra="forbid")
    arquivo: str = Field(min_length=1, max_length=200, description="Nome do CSV em outputs/rotulos/")


class _InstrumentedMiddleware(PrometheusInstrumentatorMiddleware):
    """O middleware do instrumentator, mais o gauge de requisições ativas — na mesma passada.

    (O gauge "inprogress" do próprio instrumentator é registrado de novo a cada app
    criado no processo, o que quebraria ao reiniciar a API no mesmo kernel.)
    """

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        metrics.api_active_requests.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            metrics.api_active_requests.dec()


def _record_metrics(info) -> None:
    """Chamada pelo middleware uma vez por requisição, depois da resposta (o registro em si: kit.instrumentation)."""
    instrumentation.record_request(info.method, info.modified_handler, info.modified_status, info.modified_duration)


def _make_request_logger():
    write = request_line_logger("api")

    def _log_request(info) -> None:
        state = info.request.scope.get("state", {})  # o mesmo dicionário que request.state usa
        status = int(info.modified_status)
        fields = {"request_id": _request_id(info.request), "method": info.method,
                  "endpoint": info.modified_handler, "status_code": status,
                  "duration_ms": round(info.modified_duration * 1000, 3)}
        cliente = state.get("id_cliente")  # já validado pela rota (int)
        if cliente is None and "id_cliente" in info.request.path_params:
            cliente = str(info.request.path_params["id_cliente"])[:32]  # entrada inválida, guardada como texto
        if cliente is not None:
            fields["id_cliente"] = cliente
        level = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        write(level, f"{info.method} {info.modified_handler} {status} {fields['duration_ms']:.1f}ms", **fields)

    return _log_request


async def inject_faults(request: Request) -> None:
    """Dependência das rotas de negócio: a latência e os 500 pedidos em /admin/falhas."""
    faults = request.app.state.faults
    if faults.latency_s > 0:
        await asyncio.sleep(faults.latency_s)
    if faults.error_rate > 0 and request.app.state.rng.random() < faults.error_rate:
        raise HTTPException(500, "Falha injetada de propósito (/admin/falhas). Desligue com taxa_erro=0.")


# --- as rotas (cada app criado por create_app tem o seu Service e as suas Faults em app.state) -------
router = APIRouter()


@router.get("/")
async def root():
    return {"servico": "api-churn", "mensagem": "API de risco de churn. Documentação em /docs.",
            "rotas": ["/health", "/churn/{id_cliente}", "/predict", "/model", "/metrics"]}


@router.get("/health")
async def health(request: Request):
    service = request.app.state.service
    body = {"status": service.status, "modelo": (service.meta or {}).get("version"),
            "predicoes_carregadas": len(service.predictions)}
    if service.problems:
        body.update(problemas=service.problems, como_resolver=HOW_TO_FIX)
    return body


@router.get("/churn/{id_cliente}", dependencies=[Depends(inject_faults)], responses=_errors(404, 422, 500, 503))
async def churn(request: Request,
                id_cliente: int = PathParam(gt=0, le=MAX_ID, description="Id do cliente (8 dígitos)")):
    request.state.id_cliente = id_cliente
    service = request.app.state.service
    if not service.predictions:
        raise HTTPException(503, f"Predições em lote não carregadas. {HOW_TO_FIX}")
    found = service.predictions.get(id_cliente)
    if found is None:
        metrics.model_cache_misses_total.inc()
        raise HTTPException(404, f"Cliente {id_cliente} não está no lote de predições carregado. "
                                 "Confira o id ou pontue o cliente com POST /predict.")
    metrics.model_cache_hits_total.inc()
    risco, nivel = found
    metrics.model_predictions_total.labels(level=nivel).inc()
    return {"id_cliente": id_cliente, "risco": risco, "nivel": nivel}


@router.post("/predict", dependencies=[Depends(inject_faults)], responses=_errors(400, 413, 422, 500, 503))
def predict(cliente: Cliente, request: Request):
    service = request.app.state.service
    if service.model is None:
        raise HTTPException(503, f"Nenhum modelo carregado. {HOW_TO_FIX}")
    request.state.id_cliente = cliente.id_cliente
    data_quality.check_valid(cliente.model_dump())
    row = pd.DataFrame([cliente.model_dump()]).assign(id_cliente=cliente.id_cliente or 0)
    result = churn_model.predict_frame(service.model, row).iloc[0]
    metrics.model_predictions_total.labels(level=result["nivel"]).inc()
    return {"id_cliente": cliente.id_cliente, "risco": float(result["risco"]), "nivel": result["nivel"],
            "versao_modelo": service.meta["version"]}


@router.get("/model", responses=_errors(503))
async def model_info(request: Request):
    service = request.app.state.service
    if service.meta is None:
        raise HTTPException(503, f"Nenhum modelo carregado. {HOW_TO_FIX}")
    return service.meta


@router.get("/admin/falhas")
async def get_faults(request: Request):
    return request.app.state.faults.as_body()


@router.post("/admin/falhas", responses=_errors(400, 413, 422))
async def set_faults(falhas: Falhas, request: Request):
    faults, service = request.app.state.faults, request.app.state.service
    faults.update(falhas)
    service.log.warning("Injeção de falhas alterada", **faults.as_body())
    return faults.as_body()


@router.post("/admin/rotulos", responses=_errors(400, 404, 413, 422))
def receive_labels(body: ArquivoRotulos, request: Request):
    """Os rótulos de um arquivo que chegou em outputs/rotulos/: a API junta e publica (kit.labels)."""
    folder = (settings.outputs_dir / "rotulos").resolve()
    try:
        path = (folder / body.arquivo).resolve()
        found = path.is_relative_to(folder) and path.is_file()
    except (OSError, ValueError):  # nome com byte nulo, longo demais para o sistema etc.
        found = False
    if not found:
        raise HTTPException(404, f"Arquivo de rótulos {body.arquivo[:60]!r} não encontrado em outputs/rotulos/. "
                                 "Copie o CSV (colunas id_cliente, saiu, lote) para essa pasta e mande só o nome.")
    return request.app.state.service.labels.receive(path)


@router.post("/admin/recarregar", responses=_errors(409))
def reload(request: Request):
    if settings.multiprocess_dir:  # vários workers (kit.workers): este pedido chega a UM deles
        raise HTTPException(409, "A API roda com vários workers: recarregar por aqui trocaria o modelo de um só "
                                 f"deles. Reinicie todos (um a um, sem derrubar a API) com: kill -HUP {os.getppid()}")
    service = request.app.state.service
    service.reload()
    return {"status": service.status, "modelo": (service.meta or {}).get("version"),
            "predicoes_carregadas": len(service.predictions)}


def create_app(models_dir: Path | None = None, predictions_path: Path | None = None,
               instrument: bool = True) -> FastAPI:
    """Cria a API. `instrument=False` existe só para medir o custo da instrumentação."""
    app = FastAPI(title="API de Churn — Monitoramento MLOps", version="1.0",
                  description="Risco de churn por cliente, instrumentada com Prometheus e Loguru.")
    app.state.service = Service(models_dir, predictions_path)
    app.state.faults = Faults()
    app.state.rng = random.Random(settings.seed)
    install_handlers(app)
    app.include_router(router)
    app.add_middleware(BodyLimit)  # antes do instrumentator: os 413 também são medidos e registrados
    if instrument:
        app.add_middleware(_InstrumentedMiddleware, should_group_status_codes=False, should_group_untemplated=True,
                           instrumentations=[_record_metrics, _make_request_logger()])
    Instrumentator().expose(app, endpoint="/metrics", include_in_schema=True, should_gzip=False)
    # Rotas do negócio antes das de documentação: cada requisição percorre a lista em ordem
    # (no roteador e no instrumentator, que descobre o template da rota).
    app.router.routes.sort(key=lambda r: getattr(r, "path", "").startswith(("/docs", "/redoc", "/openapi")))
    return app
