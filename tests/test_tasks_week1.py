"""As tarefas "Sua vez" da semana 1: a solução passa, o esboço fica "ainda não resolvida", o erro típico ganha a dica.

A 1.1 é conferida com o scikit-learn sobre um risco sintético (sem modelo); a 1.2 pergunta à API de verdade.
"""
from __future__ import annotations

import httpx
import numpy as np
import pytest
from sklearn.metrics import fbeta_score

from kit import tasks
from kit.tasks import week1


def _validation():
    """Um risco sintético com churn de ~22 %: o melhor limiar do F2 fica bem abaixo de 0,5."""
    rng = np.random.default_rng(7)
    y = (rng.random(1500) < 0.22).astype(int)
    risk = np.clip(0.45 * y + rng.normal(0.2, 0.17, y.size), 0, 1)
    return y, risk


Y, RISK = _validation()
GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)


def _f(limit, beta=2):
    return fbeta_score(Y, (RISK >= limit).astype(int), beta=beta)


def _solution():
    scores = [_f(t) for t in GRID]
    best = float(GRID[int(np.argmax(scores))])
    return best, max(scores), _f(0.5)


BEST, F2_BEST, F2_HALF = _solution()
F1_BEST = float(GRID[int(np.argmax([_f(t, beta=1) for t in GRID]))])


def test_the_synthetic_case_separates_f1_f2_and_half():
    assert BEST < 0.5 and F1_BEST != BEST and _f(F1_BEST) < F2_BEST - week1.TOLERANCE


@pytest.mark.parametrize("answer, status, hint", [
    ((BEST, F2_BEST, F2_HALF), "ok", None),
    ((None, None, None), "todo", None),
    ((0.5, _f(0.5), F2_HALF), "wrong", "0.5 é o limiar padrão"),
    ((F1_BEST, _f(F1_BEST), F2_HALF), "wrong", "limiar que maximiza o F1: use fbeta_score(..., beta=2)"),
    ((0.9, _f(0.9), F2_HALF), "wrong", "Teste todos de 0.01 a 0.99"),
    ((BEST, _f(BEST, beta=1), F2_HALF), "wrong", "Esse é o F1: passe beta=2"),
    ((BEST, F2_BEST, None), "wrong", "falta preencher f2_05"),
    ((BEST, F2_BEST, F2_BEST), "wrong", "f2_05 deveria ser o F2 da validação no limiar 0.5"),
    ((17, F2_BEST, F2_HALF), "wrong", "o limiar deve ficar entre 0 e 1"),
    (("0.2", F2_BEST, F2_HALF), "wrong", "devem ser números"),
])
def test_threshold(capsys, answer, status, hint):
    result = week1.threshold(*answer, Y, RISK)
    assert tasks.outcomes["1.1"].status == status, capsys.readouterr().out
    assert result == pytest.approx((BEST, F2_BEST, F2_HALF)) if status != "ok" else result == answer
    if hint:
        assert hint in tasks.outcomes["1.1"].message


def test_the_api_task_against_the_real_api(module_api, trained):
    import pandas as pd

    from kit.config import settings

    url = module_api.url
    batch = pd.read_csv(settings.predictions_path)
    low_but_leaving = int(batch.query("0.3 <= risco < 0.5")["id_cliente"].iloc[0])
    other = int(batch["id_cliente"].iloc[0]) if int(batch["id_cliente"].iloc[0]) != low_but_leaving else \
        int(batch["id_cliente"].iloc[1])
    limit = 0.17
    good = httpx.get(f"{url}/churn/{low_but_leaving}")
    cases = [
        ((good, True), "ok", None),
        ((None, None), "todo", None),
        ((good, good.json()["nivel"] == "alto"), "wrong", "O nível 'baixo' usa outros cortes"),
        ((good, "sim"), "wrong", "vai_sair deve ser True ou False"),
        ((good, None), "wrong", "falta vai_sair"),
        ((good.json(), True), "wrong", "não o .json()"),
        ((httpx.get(f"{url}/churn/{other}"), True), "wrong", f"não do cliente {low_but_leaving}"),
        ((httpx.get(f"{url}/churn/12345678"), True), "wrong", "a API respondeu 404"),
    ]
    for answer, status, hint in cases:
        response, will_leave = week1.api_answer(*answer, url, low_but_leaving, limit)
        outcome = tasks.outcomes["1.2"]
        assert outcome.status == status, (answer, outcome.message)
        assert hint is None or hint in outcome.message, (hint, outcome.message)
        assert response.json()["id_cliente"] == low_but_leaving and will_leave is True  # a aula segue com a referência


def test_the_api_reference_never_raises_when_the_api_is_down(capsys):
    from tests._tools import free_port

    response, will_leave = week1.api_answer(None, None, f"http://127.0.0.1:{free_port()}", 123, 0.2)
    assert (response, will_leave) == (None, None) and tasks.outcomes["1.2"].status == "todo"
    assert "não conseguiu falar com a API" in capsys.readouterr().out


def test_the_vectorised_grid_is_sklearns_fbeta():
    y, risk = _validation()
    for beta in (1, 2):
        assert week1._f_beta_grid(y, risk, beta) == pytest.approx([_f(t, beta) for t in GRID], abs=1e-12)
    assert week1._f_beta_grid([0, 0], [0.2, 0.9], 2).tolist() == [0.0] * len(GRID)  # sem churn: 0, não divisão por 0
