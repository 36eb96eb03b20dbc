"""O juiz da correção oficial: roda no processo de correção, fora do kernel do aluno.

- `captures`: lê as capturas (kit/_grading.py) das saídas das células de conferência.
- `verdict`: compara as capturas de uma entrega com as da solução (obtidas pelo mesmo processo
  rodando solutions/ antes das entregas) ou aplica a regra que a captura da solução indicar
  (ex.: dashboard_problems, promtool) ao artefato capturado. Só tipos exatos do JSON entram aqui:
  nenhum objeto do aluno, nenhum `__eq__` dele.
- `scan`: lê o código das células do aluno (sem executar) e aponta adulterações: ajudantes
  redefinidos, atributos do kit/pandas/builtins trocados, sys.modules, `__eq__` próprio, saída
  antecipada do kernel, exec/eval, ganchos do IPython, caminhos para fora da pasta da entrega.
"""
from __future__ import annotations

import ast
import json
import re
import tempfile
from pathlib import Path

from kit._grading import HELPERS, MIME

CAPTURE_DIR_HINT = "as conferências escondidas não chegaram a registrar a resposta"


def captures(notebook) -> dict[str, list[dict]]:
    """grade_id → capturas que aquela célula de conferência emitiu (na ordem)."""
    found: dict[str, list[dict]] = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {}) if out.get("output_type") == "display_data" else {}
            if MIME in data and isinstance(data[MIME], dict):
                found.setdefault(grade_id, []).append(json.loads(json.dumps(data[MIME])))  # dict, não NotebookNode
    return found


# --- comparação de valores simples ----------------------------------------------------------------
def _type_of(value) -> str:
    if isinstance(value, dict) and "__series__" in value:
        return "pandas.Series"
    if isinstance(value, dict) and "__dataframe__" in value:
        return "pandas.DataFrame"
    return type(value).__name__


def same(got, want, tolerance: float) -> bool:
    """Igualdade entre valores já em JSON (tipos exatos); números com tolerância relativa."""
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if type(want) in (int, float) and type(got) in (int, float):
        return abs(got - want) <= tolerance * max(1.0, abs(want))
    if type(got) is not type(want):
        return False
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w, tolerance) for g, w in zip(got, want))
    if isinstance(want, dict):
        if "__series__" in want:  # contagens por rótulo: a ordem dos empates não importa
            as_map = lambda pairs: {json.dumps(k): v for k, v in pairs} if isinstance(pairs, list) else None  # noqa: E731
            g, w = as_map(got.get("__series__")), as_map(want["__series__"])
            return g is not None and set(g) == set(w) and all(same(g[k], w[k], tolerance) for k in w)
        return set(got) == set(want) and all(same(got[k], want[k], tolerance) for k in want)
    return got == want


# --- regras que julgam o artefato do aluno (a captura da solução diz qual usar) -----------------
def _rule_contains(value, params) -> str:
    if type(value) is not str:
        return "a resposta deveria ser um texto (str)"
    missing = [t for t in params.get("contem", []) if t not in value]
    extra = [t for t in params.get("nao_contem", []) if t in value]
    return f"faltou {missing} / sobrou {extra}" if missing or extra else ""


def _rule_dashboard(value, params) -> str:
    from kit.exercises import dashboard_problems

    problems = dashboard_problems(value) if type(value) is dict else ["o dashboard deve ser um dict"]
    return "; ".join(problems)


def _rule_version_variable(value, params) -> str:
    if type(value) is not dict:
        return "a variável versao deve ser um dict"
    query = value.get("query")
    query = query.get("query", "") if type(query) is dict else str(query or "")
    ok = (value.get("name") == "versao" and value.get("type") == "query"
          and "label_values(model_version_info" in query.replace(" ", "") and "version" in query
          and (value.get("multi") is True or value.get("includeAll") is True)
          and type(value.get("datasource")) is dict and value["datasource"].get("uid") == "prometheus-churn")
    return "" if ok else "a variável versao não segue o enunciado"


def _rule_sentences(value, params) -> str:
    ok = (type(value) is list and len(value) >= params.get("minimo", 1)
          and all(type(s) is str and len(s.strip()) >= params.get("caracteres", 1) for s in value))
    return "" if ok else "a lista de frases não segue o enunciado"


def _rule_ranges(value, params) -> str:
    if type(value) is not dict:
        return "a resposta deveria ser um dict"
    for key, (low, high) in params.get("faixas", {}).items():
        number = value.get(key)
        if type(number) not in (int, float) or not low <= number <= high:
            return f"{key} fora da faixa [{low}, {high}]"
    return ""


def _rule_alerts_fire(value, params) -> str:
    """Cada caso de `casos` — [séries, minuto, deve disparar?] do `alerta`, ou [alerta, séries, minuto, deve?] —
    no promtool. `gravacao=True` carrega também as regras de gravação do curso (os alertas de burn rate do ex07)."""
    from kit import promlab

    if type(value) is not str:
        return "a regra deveria ser um texto YAML (str)"
    with tempfile.TemporaryDirectory(prefix="kit-juiz-") as tmp:
        path = Path(tmp) / "regra.yml"
        path.write_text(value, encoding="utf-8")
        checked = promlab.check_rules(path)
        if checked is None or not checked[0]:
            return "promtool check rules recusou a regra (ou não está instalado)"
    try:
        for case in params.get("casos", []):
            alert, series, minutes, expected = case if len(case) == 4 else (params["alerta"], *case)
            if promlab.alert_fires(value, alert, series, minutes, recording=params.get("gravacao", False)) is not expected:
                return f"aos {minutes} min o {alert} deveria {'disparar' if expected else 'ficar quieto'}"
    except Exception as exc:  # noqa: BLE001 — YAML sem o alerta, expr inválida...
        return f"a regra não pôde ser avaliada ({type(exc).__name__})"
    return ""


def _rule_rule_tests(value, params) -> str:
    """Os testes do aluno passam no promtool com a regra dele (arquivos `regra`/`teste`; `gravacao=True` põe ao
    lado as regras de gravação do curso como gravacao.yml)."""
    import shutil

    import yaml
    from kit import promlab
    from kit.config import settings

    if type(value) is not dict or type(value.get("regra")) is not str or type(value.get("testes")) is not str:
        return "faltou a regra ou os testes (textos YAML)"
    try:
        tests = yaml.safe_load(value["testes"]) or {}
        cases = [c for t in tests.get("tests", []) for c in t.get("alert_rule_test", [])]
    except Exception:  # noqa: BLE001
        return "os testes não são um YAML válido"
    if not any(c.get("exp_alerts") for c in cases) or not any(not c.get("exp_alerts") for c in cases):
        return "faltou um caso que dispara e um caso quieto"
    rule, test = params.get("regra", "regra_drift.yml"), params.get("teste", "teste_regra_drift.yml")
    with tempfile.TemporaryDirectory(prefix="kit-juiz-") as tmp:
        if params.get("gravacao"):
            shutil.copy(settings.root / "monitoring" / "prometheus" / "recording_rules.yml", Path(tmp) / "gravacao.yml")
        (Path(tmp) / rule).write_text(value["regra"], encoding="utf-8")
        (Path(tmp) / test).write_text(value["testes"], encoding="utf-8")
        result = promlab.test_rules(Path(tmp) / test)
    return "" if result is not None and result[0] else "promtool test rules falhou (ou não está instalado)"


def _rule_panels(value, params) -> str:
    try:
        every = [(str(e), list(v)) for e, v in value["todas"]]
        only_v2 = [(str(e), list(v)) for e, v in value["so_v2"]]
    except (TypeError, KeyError, ValueError):
        return "faltam as consultas dos painéis"
    for metric in ("model_f2_score", "model_auc_score"):
        if not any(metric in e and v == ["v1", "v2", "v3"] for e, v in every):
            return f"falta um painel com {metric} e uma série por versão"
    if not all(set(v) <= {"v2"} for _, v in only_v2) or not any("model_f2_score" in e and v == ["v2"] for e, v in only_v2):
        return "com versao = v2 os painéis deveriam mostrar só a v2"
    return ""


def _rule_annotations(value, params) -> str:
    if type(value) is not list or not value or not all(type(m) in (int, float) for m in value):
        return "a anotação não marca nenhum instante"
    if not all(any(d <= m <= d + 5 for m in value) for d in (60, 120)):
        return "falta uma marca logo depois de cada deploy"
    return "marca instantes sem deploy" if any(20 <= m <= 55 or 80 <= m <= 115 for m in value) else ""


RULES = {"paineis": _rule_panels, "anotacoes": _rule_annotations, "contem": _rule_contains, "dashboard": _rule_dashboard, "variavel_versao": _rule_version_variable,
         "frases": _rule_sentences, "faixas": _rule_ranges, "regra_drift": _rule_alerts_fire,
         "testes_regra": _rule_rule_tests}


def verdict(reference: list[dict], submitted: list[dict]) -> tuple[str, list[str]]:
    """('' se a conferência vale, senão o motivo em pt-BR; adulterações que as capturas relataram)."""
    tampered = sorted({t for entry in submitted for t in entry.get("adulteracao") or [] if isinstance(t, str)})
    if not reference:
        return "a solução não registrou nada nesta conferência (fale com o instrutor)", tampered
    mine: dict[str, dict] = {}
    for entry in submitted:
        key = entry.get("chave")
        if key in mine and mine[key].get("valor") != entry.get("valor"):
            return f"a resposta '{key}' foi registrada duas vezes com valores diferentes", tampered + [
                f"capturas duplicadas da chave '{key}'"]
        mine[key] = entry
    for ref in reference:
        key, hint = ref["chave"], ref.get("dica") or "a resposta não bate com a da solução"
        entry = mine.get(key)
        if entry is None:
            return f"{CAPTURE_DIR_HINT} ('{key}')", tampered
        if "tipo_recusado" in entry:
            return (f"a resposta '{key}' é do tipo {entry['tipo_recusado']}, mas a tarefa pede "
                    f"{_type_of(ref.get('valor'))} (sem subclasses): converta com o tipo pedido"), tampered
        if "valor" not in entry:
            return f"{CAPTURE_DIR_HINT} ('{key}')", tampered
        rule = ref.get("regra", "igual")
        if rule == "igual":
            if not same(entry["valor"], ref.get("valor"), float(ref.get("parametros", {}).get("tolerancia", 1e-6))):
                return hint, tampered
        elif rule in RULES:
            problem = RULES[rule](entry["valor"], ref.get("parametros", {}))
            if problem:
                return f"{hint} ({problem})", tampered
        else:
            return f"regra de correção desconhecida: {rule}", tampered
    return "", tampered


# --- leitura do código do aluno (sem executar) ---------------------------------------------------
UNSOLVED = "Ainda não resolvido"  # a mensagem do esboço que o nbgrader põe no lugar de cada solução


def unsolved_functions(source: str) -> list[str]:
    """As funções de uma célula de resposta cujo corpo ainda levanta o NotImplementedError do esboço.

    Definir a função não dá erro (o esboço só levanta quando ela é chamada, na conferência): sem isto, a
    célula de resposta intocada não apareceria como "ainda não resolvida" no feedback."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                isinstance(inner, ast.Raise) and UNSOLVED in ast.unparse(inner) for inner in ast.walk(node)):
            found.append(node.name)
    return found


EXITS = {("os", "_exit"), ("os", "kill"), ("os", "abort"), ("os", "killpg"), ("sys", "exit"), ("signal", "raise_signal")}
INTROSPECTION = {"settrace", "setprofile", "_getframe", "get_objects", "get_referrers", "currentframe", "stack",
                 "register", "set_custom_exc", "input_transformers_cleanup", "ast_transformers", "do_shutdown",
                 "ask_exit", "shutdown_kernel"}
PATH_WORDS = re.compile(r"gradebook|solutions|autograded|submitted|feedback|grades\.csv|(^|/)\.\.(/|$)|kit-correcao")


def _root(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node) -> str:
    return ast.unparse(node) if hasattr(ast, "unparse") else "?"


def bindings(source: str) -> dict[str, str]:
    """Nomes que os imports de uma célula ligam: nome → 'módulo' ou 'módulo.atributo'."""
    found = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                found[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                found[a.asname or a.name] = f"{node.module}.{a.name}"
    return found


def scan(source: str, protected: dict[str, str]) -> list[str]:
    """Adulterações no código de uma célula do aluno. `protected`: nomes da preparação (nome → import)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # o erro de sintaxe já aparece no feedback; código que não roda não adultera nada
    modules = set(protected) | set(bindings(source)) | {"builtins", "__builtins__", "sys", "kit", "IPython"}
    guarded = set(HELPERS) | set(protected)
    own = bindings(source)
    found = []

    def note(text):
        if text not in found:
            found.append(text)

    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in guarded:
            note(f"redefine `{node.name}` (nome usado pelas conferências)")
        for target in [t for tgt in targets for t in (tgt.elts if isinstance(tgt, ast.Tuple) else [tgt])]:
            if isinstance(target, ast.Name) and target.id in guarded:
                note(f"redefine `{target.id}` (nome usado pelas conferências)")
            elif isinstance(target, (ast.Attribute, ast.Subscript)) and _root(target) in modules | guarded \
                    and ".options." not in _dotted(target):  # pd.options.display...: só aparência
                note(f"altera `{_dotted(target)}` (módulo ou nome usado pelas conferências)")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name, target in own.items():
                if name in guarded and protected.get(name, target) != target or name in HELPERS and \
                        not target.startswith("kit.exercises."):
                    note(f"redefine `{name}` por um import")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = _root(func.value) if isinstance(func, ast.Attribute) else None
            if name in ("setattr", "delattr") and node.args and _root(node.args[0]) in modules | guarded:
                note(f"altera `{_dotted(node.args[0])}` com {name}")
            elif (owner, name) in EXITS or name in ("exit", "quit") and owner is None:
                note(f"tenta encerrar o kernel antes das conferências ({_dotted(func)})")
            elif name in ("exec", "eval", "compile", "__import__") and owner in (None, "builtins"):
                note(f"executa código montado na hora ({name}), que a correção não consegue ler")
            elif name in INTROSPECTION:
                note(f"mexe no interpretador ou no kernel ({_dotted(func)})")
        if isinstance(node, ast.Attribute) and node.attr in ("modules", "__dict__", "__class__") and \
                isinstance(node.ctx, ast.Load) and _root(node) in modules:
            note(f"mexe em `{_dotted(node)}`")
        if isinstance(node, ast.Name) and node.id == "__builtins__":
            note("mexe em `__builtins__`")
        if isinstance(node, ast.FunctionDef) and node.name in ("__eq__", "__ne__", "__hash__", "__instancecheck__"):
            note(f"define `{node.name}` (um objeto que pode mentir nas comparações)")
        if isinstance(node, ast.Constant) and node.value in ("__eq__", "__ne__"):
            note(f"usa `{node.value}` (um objeto que pode mentir nas comparações)")
        hit = PATH_WORDS.search(node.value) if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
        if hit:
            start = max(0, hit.start() - 40)
            note(f"usa um caminho fora da pasta da entrega ({hit.group(0).strip('/')!r} em {node.value[start:hit.end() + 40]!r})")
    return found
