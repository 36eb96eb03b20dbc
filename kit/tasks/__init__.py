"""As tarefas "Sua vez" das aulas: conferir o que você escreveu, na hora, sem nunca travar a aula.

    from kit import tasks
    limiar = tasks.week1.threshold(escolher_limiar, validacao)   # ✔, ✘ com dica, ou ⏳ ainda não resolvida

Cada aula tem células marcadas "✍️ Sua vez": você escreve ali o código da semana (a chamada de verdade da
biblioteca: `logger.add`, `Counter(...)`, uma consulta PromQL...). A célula seguinte chama a conferência
daquela tarefa, que roda o seu código contra coisas reais (um registro do prometheus_client, o Prometheus
da aula, o promtool) e mostra uma de três respostas:

    ✔  certo — a aula segue com o SEU resultado;
    ✘  errado — diz o que está errado e como corrigir; a aula segue com a solução de referência;
    ⏳ ainda não resolvida — você ainda não escreveu; a aula segue com a solução de referência.

A conferência nunca levanta exceção: com todas as tarefas em branco, a aula roda até o fim (e você volta
depois). As conferências de cada semana ficam em `kit.tasks.week1` ... `kit.tasks.week7`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

# Os sinais de "ainda não escrevi": o stub da cópia do aluno deixa None ou ... no lugar da resposta.
UNSOLVED = (None, Ellipsis)


@dataclass
class Outcome:
    """O resultado de uma conferência: status "ok" | "wrong" | "todo" e a mensagem mostrada."""
    task: str
    status: str
    message: str


outcomes: dict[str, Outcome] = {}   # a última conferência de cada tarefa nesta sessão do kernel


class Unsolved(Exception):
    """Levante (ou deixe o stub levantar) para dizer "ainda não resolvida"."""


def _is_unsolved(value) -> bool:
    if any(value is marker for marker in UNSOLVED):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    if isinstance(value, (tuple, list)) and value and all(_is_unsolved(v) for v in value):
        return True
    return False


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def run_task(task: str, title: str, attempt: Callable[[], Any], judge: Callable[[Any], str | None],
             reference: Callable[[], Any], todo_hint: str = "") -> Any:
    """Roda a tentativa do aluno, julga, mostra ✔/✘/⏳ e devolve com o que a aula continua.

    attempt()    roda o código do aluno e devolve o resultado (None/... = ainda não resolvida);
    judge(valor) devolve None se está certo, ou a dica em pt-BR (o que está errado e como corrigir);
    reference()  o resultado da solução de referência (a aula segue com ele quando a tentativa não vale).
    """
    header = f"Sua vez {task} ({title})"
    status, hint = "wrong", None
    try:
        value = attempt()
        if _is_unsolved(value):
            raise Unsolved()
    except (Unsolved, NotImplementedError):
        status = "todo"
    except Exception as error:  # o código do aluno pode levantar qualquer coisa: vira dica, não traceback
        hint = f"o seu código levantou {_describe(error)}. Leia a mensagem, corrija e rode de novo."
    else:
        try:
            hint = judge(value)
        except Exception as error:  # um resultado de forma inesperada (tipo, colunas...) também é dica
            hint = f"o resultado não tem a forma que a tarefa pede ({_describe(error)}). Releia o enunciado acima."
        status = "ok" if hint is None else "wrong"
    if status == "ok":
        message = f"✔ {header}: certo!"
    elif status == "todo":
        message = (f"⏳ {header} ainda não resolvida. {todo_hint}".rstrip()
                   + " A aula segue com a solução de referência; volte aqui quando quiser.")
    else:
        message = f"✘ {header}: {hint} A aula segue com a solução de referência."
    outcomes[task] = Outcome(task, status, message)
    print(message)
    return value if status == "ok" else reference()


def summary() -> str:
    """Uma linha por tarefa conferida nesta sessão: o placar da aula."""
    if not outcomes:
        return "Nenhuma tarefa conferida ainda nesta sessão."
    symbol = {"ok": "✔", "wrong": "✘", "todo": "⏳"}
    done = sum(o.status == "ok" for o in outcomes.values())
    lines = [f"Sua vez: {done} de {len(outcomes)} tarefas certas nesta sessão."]
    lines += [f"  {symbol[o.status]} {o.task}" for o in outcomes.values()]
    return "\n".join(lines)


def __getattr__(name: str):
    """`tasks.week1` carrega kit.tasks.week1 na primeira vez (cada semana importa só o que usa)."""
    if name.startswith("week"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"{__name__}.{name}":
                raise AttributeError(f"kit.tasks não tem {name}: as semanas vão de week1 a week7.") from None
            raise
    raise AttributeError(name)
