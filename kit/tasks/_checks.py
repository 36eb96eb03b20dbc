"""Encanamento das conferências das semanas 3 e 4: o aviso "não conferido" e a comparação de resultados PromQL."""
from __future__ import annotations

import math
from typing import Any, Callable

from kit import tasks


def not_checked(task: str, title: str, reason: str, reference: Callable[[], Any]) -> Any:
    """Sem a ferramenta que confere (Prometheus, promtool): diz o quê instalar, não dá ✔ nem ✘, nunca levanta."""
    message = (f"⚠ Sua vez {task} ({title}): não conferido — {reason} Instale com `sudo apt-get install "
               "prometheus` e rode esta célula de novo. A aula segue com a solução de referência.")
    tasks.outcomes[task] = tasks.Outcome(task, "todo", message)
    print(message)
    return reference()


def by_labels(results: list[dict], ignore: tuple[str, ...] = ()) -> dict[tuple, float]:
    """[{'metric': {...}, 'value': v}] → {(rótulos ordenados): v} (para comparar dois resultados)."""
    return {tuple(sorted((k, v) for k, v in r["metric"].items() if k not in ignore)): r["value"] for r in results}


def close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def describe(key: tuple) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in key) + "}"
