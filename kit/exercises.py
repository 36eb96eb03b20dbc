"""Ajudantes dos exercícios: onde estão os dados e como uma conferência fala com você.

    from kit.exercises import data_path, check, passed
    logs = data_path("ex02_api.json")          # exercises/dados/ex02_api.json
    check(total == 42, "O total deveria contar só as linhas de erro. Filtre level == 'ERROR'.")
    passed("contagem de erros")

Cada célula de conferência dos notebooks usa `check`: se algo estiver errado, a
mensagem (em pt-BR) diz o quê e o que fazer; se tudo estiver certo, `passed`
mostra um ✔. As mesmas células valem pontos na correção do instrutor.

Trabalhe numa cópia em meus_exercicios/ (`make meus-exercicios`), nunca em exercises/:
`data_path` acha os dados em exercises/dados/ de qualquer pasta do repositório. Dentro
do Jupyter, um NameError ganha uma dica (rode antes a célula de resposta que define o nome), e uma
função de resposta ainda no esboço (NotImplementedError) diz qual é e onde escrevê-la.
"""
from __future__ import annotations

from pathlib import Path

from kit import _grading
from kit._grading import record  # noqa: F401 — as partes escondidas das conferências registram com ele
from kit.config import settings


MISSING_TOOLS = "⚠ parte não conferida (sem promtool/prometheus: instale com `sudo apt-get install prometheus`)"


def data_path(name: str) -> Path:
    """Um arquivo de `dados/` ao lado do notebook (ou em exercises/dados/ do repositório)."""
    for folder in (Path.cwd() / "dados", settings.root / "exercises" / "dados"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"Não achei o arquivo de dados '{name}'. Ele vem com o repositório em exercises/dados/: "
        "abra o notebook de dentro do repositório (em meus_exercicios/, criada por `make meus-exercicios`) "
        "e confira se exercises/dados/ existe (`git status exercises/`).")


def check(condition, message: str) -> None:
    """Falha com `message` (pt-BR: o que está errado e o que fazer) se `condition` for falsa."""
    if not condition:
        raise AssertionError(message)


def passed(what: str) -> None:
    print(f"✔ {what}: ok")


def not_checked(what: str) -> None:
    """Sem promtool/prometheus não há ✔: diz o que ficou sem conferir. Na correção oficial, é erro."""
    if settings.grading:
        raise RuntimeError(f"{MISSING_TOOLS}: {what} (a máquina de correção precisa deles)")
    print(f"{MISSING_TOOLS} — {what}. Depois de instalar, rode esta célula de novo.")


def close(value, expected: float, tolerance: float = 1e-6) -> bool:
    """`value` é um número a no máximo `tolerance` (relativa) de `expected`?"""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return False
    return abs(value - expected) <= tolerance * max(1.0, abs(expected))


MODERN_PANELS = {"timeseries", "stat", "gauge", "piechart", "barchart", "table", "bargauge", "text"}
DATASOURCE_UID = "prometheus-churn"  # o uid fixo de monitoring/grafana/provisioning/datasources/prometheus.yml


def dashboard_problems(dashboard: dict) -> list[str]:
    """O que falta num dashboard para seguir as regras da casa (lista vazia = tudo certo)."""
    problems = []
    if not isinstance(dashboard, dict):
        return ["O dashboard deve ser um dicionário (o JSON do Grafana)."]
    if not dashboard.get("uid") or not dashboard.get("title"):
        problems.append("Dê ao dashboard um uid fixo e um título (chaves uid e title).")
    if "__inputs" in dashboard or "${DS_" in str(dashboard):
        problems.append("Nada de __inputs/${DS_...}: referencie o datasource pelo uid prometheus-churn.")
    panels = dashboard.get("panels") or []
    if not panels:
        problems.append("O dashboard não tem painéis (chave panels).")
    for panel in panels:
        name = panel.get("title") or f"id {panel.get('id')}"
        if panel.get("type") not in MODERN_PANELS:
            problems.append(f"Painel '{name}': use um tipo moderno ({', '.join(sorted(MODERN_PANELS))}).")
        if panel.get("type") == "text":
            continue
        if (panel.get("datasource") or {}).get("uid") != DATASOURCE_UID:
            problems.append(f"Painel '{name}': datasource deve ser {{'type': 'prometheus', 'uid': '{DATASOURCE_UID}'}}.")
        targets = panel.get("targets") or []
        if not targets or not all(t.get("expr") for t in targets):
            problems.append(f"Painel '{name}': cada alvo (targets) precisa de uma consulta em expr.")
        if any((t.get("datasource") or {}).get("uid", DATASOURCE_UID) != DATASOURCE_UID for t in targets):
            problems.append(f"Painel '{name}': os alvos também usam o datasource {DATASOURCE_UID}.")
        if not ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit"):
            problems.append(f"Painel '{name}': defina a unidade em fieldConfig.defaults.unit.")
        if not str(panel.get("description") or "").strip():
            problems.append(f"Painel '{name}': escreva uma descrição (em português) em description.")
    return problems


def _unsolved_function(tb) -> str | None:
    """O nome da função de resposta cujo esboço levantou o NotImplementedError (None se foi no nível de cima)."""
    while tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_code.co_name
    return None if name.startswith("<") else name


def _hint(etype, value, tb) -> str:
    if issubclass(etype, NotImplementedError):
        function = _unsolved_function(tb)
        if function is None:
            return ""  # a própria célula de resposta: a mensagem do esboço já diz o que fazer
        return (f"\n💡 A função `{function}` ainda não foi resolvida: o `raise NotImplementedError` está no corpo dela, "
                f"na célula de resposta acima (a que define {function}). Escreva a solução lá, rode aquela célula e "
                "depois esta de novo.")
    name = getattr(value, "name", None) or "esse nome"
    return (f"\n💡 `{name}` ainda não existe: rode primeiro a célula de resposta acima (a que define {name}) "
            "e depois esta de novo. Se aquela célula deu erro, corrija-a antes; se o nome é seu, confira a grafia.")


def _exercise_hint(shell, etype, value, tb, tb_offset=None):
    """Mostra o traceback de sempre com, embaixo, o que fazer (pt-BR). Continua sendo um erro (zero na correção)."""
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    hint = _hint(etype, value, tb)
    if hint:
        value._render_traceback_ = lambda: stb + [hint]  # o IPython usa este traceback no lugar do padrão
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)  # o handler é quem mostra o erro


HINTED = (NameError, NotImplementedError)


def _install_hints() -> None:
    """Só dentro do IPython/Jupyter, e uma vez só (importar de novo não empilha nada)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and shell.custom_exceptions != HINTED:
        shell.set_custom_exc(HINTED, _exercise_hint)


_install_hints()
_grading.snapshot()  # a correção compara com este retrato o que as células de resposta mudarem
