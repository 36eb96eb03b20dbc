"""As tarefas "Sua vez" da semana 2: a solução passa, o esboço fica "ainda não resolvida", o erro típico ganha a dica.

Tudo com o Loguru de verdade: sinks em pastas temporárias, mensagens capturadas, nenhum sink do kit tocado.
"""
from __future__ import annotations

import pandas as pd
import pytest
from loguru import logger

from kit import tasks
from kit.tasks import week2


def only_rotation(r):
    return r["extra"].get("component") == "rotacao"


SINKS = {  # o que a célula da 2.1 pode ter escrito: tarefa → (chamada, status, dica)
    "referencia": (lambda p: logger.add(p / "rotacao.json", serialize=True, rotation="1 KB", retention=3,
                                        level="DEBUG", filter=only_rotation), "ok", None),
    "esboco": (lambda p: None, "todo", None),
    "sem_serialize": (lambda p: logger.add(p / "rotacao.json", rotation="1 KB", retention=3, level="DEBUG",
                                           filter=only_rotation), "wrong", "passe serialize=True"),
    "sem_filtro": (lambda p: logger.add(p / "rotacao.json", serialize=True, rotation="1 KB", retention=3,
                                        level="DEBUG"), "wrong", "mensagem de outro componente"),
    "sem_rotacao": (lambda p: logger.add(p / "rotacao.json", serialize=True, retention=3, level="DEBUG",
                                         filter=only_rotation), "wrong", "não houve rotação"),
    "sem_retencao": (lambda p: logger.add(p / "rotacao.json", serialize=True, rotation="1 KB", level="DEBUG",
                                          filter=only_rotation), "wrong", "Passe retention=3"),
    "nivel_info": (lambda p: logger.add(p / "rotacao.json", serialize=True, rotation="1 KB", retention=3,
                                        level="INFO", filter=only_rotation), "wrong", "confira o level"),
    "outra_pasta": (lambda p: logger.add(p.parent / f"{p.name}-fora.json", serialize=True, filter=only_rotation),
                    "wrong", "nenhum arquivo apareceu em pasta_rotacao"),
    "caminho_no_lugar_do_id": (lambda p: str(p / "rotacao.json"), "wrong", "guarde em sink_id"),
}


@pytest.fixture
def kit_sink():
    """Um sink "do kit" (em outra pasta) que a conferência não pode tirar, mesmo com um sink_id errado."""
    from kit import logger as kit_logger

    kit_logger.get_logger("notebook")
    before = set(kit_logger._sinks["notebook"])
    yield before
    assert set(kit_logger._sinks["notebook"]) == before
    assert all(s in logger._core.handlers for s in before), "a conferência tirou um sink do kit"


@pytest.mark.parametrize("case", list(SINKS))
def test_sink(tmp_path, kit_sink, case):
    add, status, hint = SINKS[case]
    folder = tmp_path / "rotacao"
    folder.mkdir()
    attempt = add(folder)
    used = week2.sink(attempt, folder)
    try:
        outcome = tasks.outcomes["2.1"]
        assert outcome.status == status, outcome.message
        assert hint is None or hint in outcome.message, outcome.message
        if status != "ok" and isinstance(attempt, int):
            assert attempt not in logger._core.handlers or case == "outra_pasta", "o sink errado da pasta ficou"
        # a aula segue com um sink que funciona: 60 mensagens → rotação e retenção de verdade
        for number in range(60):
            logger.bind(component="rotacao").debug("evento", numero=number)
        files = sorted(folder.glob("rotacao*.json"))
        assert 1 < len(files) <= 4
    finally:
        for sink_id in {used, attempt}:
            if isinstance(sink_id, int) and not isinstance(sink_id, bool) and sink_id in logger._core.handlers:
                logger.remove(sink_id)


def _bound(log, lote, linhas):
    log_lote = log.bind(lote=lote)
    log_lote.info("Processando lote", linhas=linhas)
    log_lote.success("Lote processado")


def _contextualized(log, lote, linhas):
    with logger.contextualize(lote=lote):
        log.info("Processando lote", linhas=linhas)
        log.success("Lote processado")


def _stub(log, lote, linhas):
    ...


def _in_text(log, lote, linhas):
    log.info(f"Processando lote {lote}", linhas=linhas)
    log.success(f"Lote {lote} processado")


def _first_only(log, lote, linhas):
    log.bind(lote=lote).info("Processando lote", linhas=linhas)
    log.success("Lote processado")


def _no_rows(log, lote, linhas):
    log.bind(lote=lote).info("Processando lote")
    log.bind(lote=lote).success("Lote processado")


def _info_only(log, lote, linhas):
    log.bind(lote=lote).info("Processando lote", linhas=linhas)
    log.bind(lote=lote).info("Lote processado")


def _one_message(log, lote, linhas):
    log.bind(lote=lote).info("Processando lote", linhas=linhas)


@pytest.mark.parametrize("function, status, hint", [
    (_bound, "ok", None),
    (_contextualized, "ok", None),
    (_stub, "todo", None),
    (None, "todo", None),
    (_in_text, "wrong", "(ele está no texto, não num campo)"),
    (_first_only, "wrong", "\"Lote processado\" não tem o campo lote"),
    (_no_rows, "wrong", "passe linhas=linhas"),
    (_info_only, "wrong", "nível SUCCESS"),
    (_one_message, "wrong", "registrou 1 mensagem"),
    ("processar_lote", "wrong", "processar_lote deve ser a função"),
])
def test_context(function, status, hint):
    handlers = set(logger._core.handlers)
    result = week2.context(function)
    outcome = tasks.outcomes["2.2"]
    assert outcome.status == status, outcome.message
    assert hint is None or hint in outcome.message, outcome.message
    assert result is (function if status == "ok" else week2.process_batch)
    assert set(logger._core.handlers) == handlers, "a conferência deixou um sink para trás"


REQUESTS = pd.DataFrame({"status_code": [200] * 180 + [404] * 20 + [500] * 4})


@pytest.mark.parametrize("value, status, hint", [
    ((REQUESTS["status_code"] >= 500).mean(), "ok", None),
    (4 / 204, "ok", None),
    (None, "todo", None),
    (24 / 204, "wrong", "você contou também os 4xx"),
    (4, "wrong", "esse é o número de erros 5xx"),
    (100 * 4 / 204, "wrong", "não multiplique por 100"),
    (4 / 200, "wrong", "divida pelo total de linhas"),
    ("2%", "wrong", "deve ser um número"),
])
def test_error_ratio(value, status, hint):
    result = week2.error_ratio(value, REQUESTS)
    outcome = tasks.outcomes["2.3"]
    assert outcome.status == status, outcome.message
    assert hint is None or hint in outcome.message, outcome.message
    assert result == pytest.approx(4 / 204)
