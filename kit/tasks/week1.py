"""Conferências das tarefas "Sua vez" da semana 1 (notebooks/01_preparacao_ambiente.ipynb).

    limiar_f2, f2_limiar, f2_05 = tasks.week1.threshold(limiar_f2, f2_limiar, f2_05, y_val, risco_val)
    resposta, vai_sair = tasks.week1.api_answer(resposta, vai_sair, aula.api.url, cliente, limiar_f2)

Cada conferência refaz as contas com o scikit-learn (ou pergunta à API de verdade) e compara com o que
você escreveu; nunca levanta exceção (veja kit.tasks).
"""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.metrics import fbeta_score

from kit.tasks import run_task

GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)   # os limiares candidatos: 0.01, 0.02, ..., 0.99
TOLERANCE = 0.002                                 # F2 a no máximo isto do melhor da grade conta como "o melhor"


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value


def _f_beta(y_true, risk, limit: float, beta: float = 2) -> float:
    return float(fbeta_score(y_true, (np.asarray(risk) >= limit).astype(int), beta=beta, zero_division=0))


def _f_beta_grid(y_true, risk, beta: float) -> np.ndarray:
    """O F-beta da classe 1 em cada limiar da grade, de uma vez (a mesma conta do fbeta_score, sem 99 chamadas)."""
    y = np.asarray(y_true).astype(bool)
    predicted = np.asarray(risk)[None, :] >= GRID[:, None]
    tp = (predicted & y).sum(axis=1)
    fp, fn = (predicted & ~y).sum(axis=1), (~predicted & y).sum(axis=1)
    denominator = (1 + beta ** 2) * tp + beta ** 2 * fn + fp
    return np.divide((1 + beta ** 2) * tp, denominator, out=np.zeros(len(GRID)), where=denominator > 0)


def best_threshold(y_true, risk, beta: float = 2) -> float:
    """O limiar da grade 0.01..0.99 com o maior F-beta (o menor, no empate)."""
    return float(GRID[int(np.argmax(_f_beta_grid(y_true, risk, beta)))])


# --- Sua vez 1.1: o limiar que maximiza o F2 na validação, comparado com 0,5 --------------------------
def _threshold_problem(answer, y_true, risk) -> str | None:
    limit, f2_limit, f2_half = answer
    names = {"limiar_f2": limit, "f2_limiar": f2_limit, "f2_05": f2_half}
    missing = [name for name, value in names.items() if value is None]
    if missing:
        return f"falta preencher {', '.join(missing)}: as três variáveis são números (o limiar e dois F2)."
    if not all(_is_number(v) for v in names.values()):
        return "limiar_f2, f2_limiar e f2_05 devem ser números (float), não listas nem textos."
    if not 0 < limit < 1:
        return f"o limiar deve ficar entre 0 e 1 (é um corte no risco); você deu {limit}."
    best = best_threshold(y_true, risk)
    best_f2 = _f_beta(y_true, risk, best)
    if _f_beta(y_true, risk, limit) < best_f2 - TOLERANCE:
        if limit == 0.5:
            return ("0.5 é o limiar padrão, não o escolhido: teste vários limiares (0.01 a 0.99) e fique com o de "
                    "maior F2.")
        if abs(limit - best_threshold(y_true, risk, beta=1)) < 1e-9:
            return "esse é o limiar que maximiza o F1: use fbeta_score(..., beta=2) para dar mais peso ao recall."
        return (f"no limiar {limit:.2f} o F2 da validação é {_f_beta(y_true, risk, limit):.3f}, mas há limiar com F2 "
                f"{best_f2:.3f}. Teste todos de 0.01 a 0.99 (np.arange) e fique com o de maior F2.")
    for name, value, at in (("f2_limiar", f2_limit, limit), ("f2_05", f2_half, 0.5)):
        expected = _f_beta(y_true, risk, at)
        if abs(value - expected) > 1e-6:
            hint = (f"{name} deveria ser o F2 da validação no limiar {at:g} ({expected:.4f}); você deu {value:.4f}.")
            if abs(value - _f_beta(y_true, risk, at, beta=1)) < 1e-6:
                hint += " Esse é o F1: passe beta=2."
            else:
                hint += " Preveja churn quando risco >= limiar: fbeta_score(y_val, (risco_val >= limiar).astype(int), beta=2)."
            return hint
    return None


def threshold(limit, f2_limit, f2_half, y_true, risk) -> tuple[float, float, float]:
    """Sua vez 1.1: (limiar_f2, f2_limiar, f2_05) — o melhor limiar na validação e o F2 dele contra o de 0,5."""
    def reference():
        best = best_threshold(y_true, risk)
        return best, _f_beta(y_true, risk, best), _f_beta(y_true, risk, 0.5)

    def accept(answer):
        return tuple(float(v) for v in answer)

    answer = run_task("1.1", "o limiar do F2 na validação", lambda: (limit, f2_limit, f2_half),
                      lambda a: _threshold_problem(a, y_true, risk), reference,
                      todo_hint="Preencha limiar_f2, f2_limiar e f2_05.")
    return accept(answer)


# --- Sua vez 1.2: perguntar à API por um cliente e interpretar a resposta ---------------------------
def _api_problem(answer, url: str, customer: int, limit: float) -> str | None:
    import httpx

    response, will_leave = answer
    if response is None:
        return f"falta a resposta: resposta = httpx.get(f\"{{aula.api.url}}/churn/{{cliente}}\")."
    if not isinstance(response, httpx.Response):
        return ("resposta deve ser o que httpx.get devolve (um httpx.Response), não o .json() nem um texto: "
                "guarde a resposta inteira e leia resposta.json() depois.")
    if response.status_code != 200:
        return (f"a API respondeu {response.status_code}, não 200: confira a URL "
                f"(f\"{{aula.api.url}}/churn/{{cliente}}\") e o id ({customer}).")
    body = response.json()
    if body.get("id_cliente") != customer:
        return f"essa resposta é do cliente {body.get('id_cliente')}, não do cliente {customer} (a variável cliente)."
    truth = httpx.get(f"{url}/churn/{customer}", timeout=10).json()
    if body.get("risco") != truth["risco"]:
        return "o risco da sua resposta não é o que a API devolve agora: chame a API (httpx.get) em vez de copiar números."
    if will_leave is None:
        return "falta vai_sair: True se o risco passa do limiar do F2 (risco >= limiar_f2), senão False."
    if not isinstance(will_leave, (bool, np.bool_)):
        return "vai_sair deve ser True ou False (uma comparação), não um texto nem um número."
    if bool(will_leave) != (truth["risco"] >= limit):
        return (f"com risco {truth['risco']} e limiar {limit:.2f}, a decisão é {truth['risco'] >= limit}. "
                f"O nível '{truth['nivel']}' usa outros cortes (0,5 e 0,7): a decisão \"vai sair\" é risco >= limiar_f2.")
    return None


def api_answer(response, will_leave, url: str, customer: int, limit: float):
    """Sua vez 1.2: (resposta, vai_sair) — GET /churn/{cliente} com httpx e a decisão pelo limiar do F2."""
    def reference():
        import httpx

        try:
            answer = httpx.get(f"{url}/churn/{customer}", timeout=10)
            return answer, bool(answer.json()["risco"] >= limit)
        except (httpx.HTTPError, KeyError, ValueError) as error:
            print(f"(a solução de referência também não conseguiu falar com a API: {type(error).__name__}. "
                  "Rode a célula do course.start() acima e depois esta de novo.)")
            return None, None

    return run_task("1.2", "consultar a API", lambda: (response, will_leave),
                    lambda a: _api_problem(a, url, customer, limit), reference,
                    todo_hint="Preencha resposta (httpx.get) e vai_sair.")
