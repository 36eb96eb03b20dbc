"""Conferências das tarefas "Sua vez" da semana 2 (notebooks/02_logging_loguru.ipynb).

    sink_id = tasks.week2.sink(sink_id, pasta_rotacao)                # o seu logger.add(...) de verdade
    processar_lote = tasks.week2.context(processar_lote)              # bind / contextualize
    taxa_5xx = tasks.week2.error_ratio(taxa_5xx, requisicoes)         # uma pergunta ao log, com pandas

As conferências usam o Loguru de verdade: escrevem mensagens de teste no seu sink e leem os arquivos,
ou capturam as mensagens que a sua função registra. Nunca levantam exceção (veja kit.tasks).
"""
from __future__ import annotations

import json
import numbers
import uuid
from pathlib import Path

from loguru import logger

from kit.tasks import Unsolved, outcomes, run_task

COMPONENT = "rotacao"   # as mensagens do exemplo de rotação (o filter do seu sink deixa passar só estas)


def only_rotation(record) -> bool:
    """O filtro do sink de referência: só as mensagens do componente "rotacao"."""
    return record["extra"].get("component") == COMPONENT


def reference_sink(folder: Path) -> int:
    """O sink da solução de referência — a mesma chamada que a tarefa pede."""
    return logger.add(Path(folder) / "rotacao.json", serialize=True, rotation="1 KB", retention=3,
                      level="DEBUG", filter=only_rotation)


# --- Sua vez 2.1: um sink JSON com rotação e retenção -----------------------------------------------
def _sink_problem(sink_id, folder: Path) -> str | None:
    if not isinstance(sink_id, int) or isinstance(sink_id, bool):
        return "guarde em sink_id o número que logger.add(...) devolve (sink_id = logger.add(...))."
    marker = uuid.uuid4().hex[:8]
    for number in range(8):
        logger.bind(component=COMPONENT).debug("conferência da Sua vez 2.1", numero=number, conferencia=marker)
    # por último: a retenção não pode apagá-la antes de a conferência ler a pasta
    logger.bind(component="outro_componente").debug("conferência: esta não deveria chegar", conferencia=marker)
    logger.complete()  # se o sink tiver enqueue=True, espera as mensagens chegarem ao arquivo
    files = sorted(p for p in Path(folder).iterdir() if p.is_file())
    if not files:
        return ("nenhum arquivo apareceu em pasta_rotacao: o primeiro argumento do logger.add é o caminho do "
                "arquivo, pasta_rotacao / \"rotacao.json\".")
    records = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line)["record"])
            except (ValueError, KeyError, TypeError):
                return (f"{path.name} tem linhas que não são o JSON do Loguru: passe serialize=True "
                        "(uma linha JSON por mensagem, com o campo record).")
    mine = [r for r in records if r.get("extra", {}).get("conferencia") == marker]
    if not mine:
        return ("as mensagens de teste (nível DEBUG, componente rotacao) não chegaram ao arquivo: confira o "
                "level (\"DEBUG\") e o filter.")
    if any(r["extra"].get("component") != COMPONENT for r in mine):
        return ("o sink gravou uma mensagem de outro componente: passe "
                "filter=lambda r: r[\"extra\"].get(\"component\") == \"rotacao\".")
    if len(files) == 1:
        return "oito mensagens e um arquivo só: não houve rotação. Passe rotation=\"1 KB\"."
    if len(files) > 4:
        return (f"{len(files)} arquivos na pasta: a retenção não apagou os antigos. Passe retention=3 "
                "(o atual + 3 rotacionados).")
    return None


def _remove_if_writing_to(sink_id, folder: Path) -> None:
    """Tira o sink `sink_id` só se ele grava em `folder` (nunca um sink do kit; logger.remove(None) tiraria todos)."""
    if not isinstance(sink_id, int) or isinstance(sink_id, bool):
        return
    handler = getattr(getattr(logger, "_core", None), "handlers", {}).get(sink_id)  # o Loguru não tem API pública
    if handler is not None and str(folder) in str(getattr(handler, "_name", "")):
        logger.remove(sink_id)


def sink(sink_id, folder) -> int:
    """Sua vez 2.1: confere o sink (escrevendo mensagens DEBUG nele) e devolve o id do sink que a aula usa."""
    folder = Path(folder)

    def reference():
        _remove_if_writing_to(sink_id, folder)  # o sink errado sai; a referência entra na pasta limpa
        for path in folder.iterdir():
            path.unlink()
        return reference_sink(folder)

    return run_task("2.1", "um sink JSON com rotação e retenção", lambda: sink_id,
                    lambda value: _sink_problem(value, folder), reference,
                    todo_hint="Escreva sink_id = logger.add(...).")


# --- Sua vez 2.2: contexto com bind / contextualize ---------------------------------------------------
def process_batch(log, lote, linhas):
    """A solução de referência da 2.2."""
    with logger.contextualize(lote=lote):
        log.info("Processando lote", linhas=linhas)
        log.success("Lote processado")


CONTEXT_COMPONENT = "sua_vez_2_2"   # o logger de teste que a conferência passa à sua função


def _capture(function) -> list[dict]:
    """Chama function(log, "lote_de_teste", 123) e devolve os registros (records) que ela emitiu."""
    if function is None or function is Ellipsis:
        raise Unsolved()
    if not callable(function):
        raise TypeError("processar_lote deve ser a função definida acima (passe o nome dela, sem chamar)")
    captured = []
    capture = logger.add(captured.append, level="TRACE", format="{message}",
                         filter=lambda r: r["extra"].get("component") == CONTEXT_COMPONENT)
    try:
        returned = function(logger.bind(component=CONTEXT_COMPONENT), "lote_de_teste", 123)
    finally:
        logger.remove(capture)
    if not captured and returned is None:
        raise Unsolved()  # o esboço (corpo `...`): não registrou nada
    return [message.record for message in captured]


def _context_problem(records) -> str | None:
    if len(records) < 2:
        return f"a função registrou {len(records)} mensagem; são duas: o início (log.info) e o fim (log.success)."
    for record in records:
        if record["extra"].get("lote") != "lote_de_teste":
            where = " (ele está no texto, não num campo)" if "lote_de_teste" in record["message"] else ""
            return (f"a mensagem \"{record['message']}\" não tem o campo lote{where}: use log.bind(lote=lote) ou "
                    "with logger.contextualize(lote=lote) para carimbar as duas.")
    if not any(record["extra"].get("linhas") == 123 for record in records):
        return "nenhuma mensagem tem o campo linhas: passe linhas=linhas como argumento nomeado no log.info."
    if records[-1]["level"].name != "SUCCESS":
        return "a última mensagem deveria ser de nível SUCCESS (log.success): o lote terminou bem."
    return None


def context(function):
    """Sua vez 2.2: roda processar_lote(log, "lote_de_teste", 123) capturando as mensagens e confere os campos."""
    run_task("2.2", "contexto nos logs", lambda: _capture(function), _context_problem, lambda: None,
             todo_hint="Escreva o corpo de processar_lote (por enquanto ela não registra nada).")
    return function if outcomes["2.2"].status == "ok" else process_batch


# --- Sua vez 2.3: uma pergunta ao log JSON com pandas -------------------------------------------------
def _ratio_problem(value, requests) -> str | None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return "taxa_5xx deve ser um número (a fração das requisições com status >= 500)."
    status = requests["status_code"].astype(int)
    expected = float((status >= 500).mean())
    if abs(value - expected) <= 1e-9:
        return None
    if abs(value - (status >= 400).mean()) <= 1e-9:
        return ("você contou também os 4xx: um 404 (cliente fora do lote) é resposta normal. Erro do serviço é "
                "status >= 500.")
    if abs(value - int((status >= 500).sum())) <= 1e-9:
        return "esse é o número de erros 5xx; a taxa é a fração: divida pelo total de requisições (ou use .mean())."
    if abs(value - 100 * expected) <= 1e-6:
        return "isso é a porcentagem; a tarefa pede a fração (entre 0 e 1): não multiplique por 100."
    return (f"{value:.4f} não é a fração de requisições com status_code >= 500: conte as linhas de requisicoes "
            "com status >= 500 e divida pelo total de linhas (ou tire a média da comparação).")


def error_ratio(value, requests) -> float:
    """Sua vez 2.3: taxa_5xx = fração das requisições do teste que terminaram em 5xx."""
    def reference():
        return float((requests["status_code"].astype(int) >= 500).mean())

    answer = run_task("2.3", "a taxa de erros 5xx no log", lambda: value,
                      lambda v: _ratio_problem(v, requests), reference, todo_hint="Calcule taxa_5xx com pandas.")
    return float(answer)
