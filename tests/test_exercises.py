"""Exercícios: exercises/ é exatamente o que o nbgrader gera de solutions/, e a correção é honesta.

A correção de verdade (nbgrader autograde, um kernel por entrega) roda num lote com cinco "alunos":
a solução (nota máxima), os exercícios intocados (zero em toda conferência), uma solução parcial (entre
os dois), um laço infinito e uma célula apagada (corrigidos sem parar o lote) — e quem não entregou um
exercício leva zero com o motivo. O feedback aponta a célula de resposta que quebrou e o arquivo com nome errado.
Fora da correção: sem promtool/prometheus nenhuma conferência mostra ✔ sem ter conferido, e um NameError
ganha a dica em pt-BR sem deixar de ser erro.
"""
from __future__ import annotations

import copy
import csv
import filecmp
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests._tools import require_binary

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "grading.py"
EXERCISES = sorted(p.stem for p in (ROOT / "solutions").glob("ex[0-9][0-9]_*.ipynb"))


def _gid(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def test_seven_exercises_with_points():
    assert [e[:4] for e in EXERCISES] == ["ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07"]
    for ex in EXERCISES:
        cells = nbformat.read(ROOT / "solutions" / f"{ex}.ipynb", as_version=4).cells
        graded = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert graded and all(c.metadata["nbgrader"]["points"] > 0 for c in graded), ex
        assert any("### BEGIN SOLUTION" in c.source for c in cells), ex
        code = [c for c in cells if c.cell_type == "code"]
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), \
            f"{ex}: solutions/ vai executado de cima a baixo num kernel novo (make notebooks)"
        assert not any(o.output_type == "error" for c in code for o in c.outputs), ex


REGENERATE = ("Instrutor: rode `make exercises` e faça commit de exercises/. Aluno: não trabalhe em exercises/ — "
              "copie antes os notebooks que você editou para meus_exercicios/ (`make meus-exercicios` não sobrescreve "
              "nada) e continue lá.")


def test_exercises_are_exactly_what_make_exercises_generates(tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), "generate", "--dest", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "exercises") for p in (ROOT / "exercises").rglob("*")
                       if p.is_file() and p.suffix in (".ipynb", ".csv", ".json", ".om") and "dados" in p.parts
                       or p.suffix == ".ipynb" and p.parent == ROOT / "exercises")
    assert generated == committed, REGENERATE
    changed = [str(p) for p in generated if not filecmp.cmp(tmp_path / p, ROOT / "exercises" / p, shallow=False)]
    assert not changed, f"exercises/ difere do que `make exercises` gera: {changed}. {REGENERATE}"


def test_student_copies_hide_solutions_and_share_fixtures():
    for ex in EXERCISES:
        text = (ROOT / "exercises" / f"{ex}.ipynb").read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        assert "SEU CÓDIGO AQUI" in text and "Ainda não resolvido" in text
        cells = nbformat.read(ROOT / "exercises" / f"{ex}.ipynb", as_version=4).cells
        assert not any(c.get("outputs") or c.get("execution_count") for c in cells if c.cell_type == "code")
    for fixture in (ROOT / "solutions" / "dados").iterdir():
        assert filecmp.cmp(fixture, ROOT / "exercises" / "dados" / fixture.name, shallow=False), fixture.name


def test_fixtures_are_regenerated_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_exercise_data.py"), str(tmp_path)], check=True,
                   capture_output=True, timeout=120)
    for fixture in (ROOT / "solutions" / "dados").iterdir():
        assert filecmp.cmp(fixture, tmp_path / fixture.name, shallow=False), f"{fixture.name} não é reproduzível"


# --- a correção de verdade ---------------------------------------------------------------
def _submissions(folder: Path) -> None:
    sol = {ex: nbformat.read(ROOT / "solutions" / f"{ex}.ipynb", as_version=4) for ex in EXERCISES}
    blank = {ex: nbformat.read(ROOT / "exercises" / f"{ex}.ipynb", as_version=4) for ex in EXERCISES}
    for student in ("solucao", "em_branco", "parcial", "laco", "apagada"):
        (folder / student).mkdir(parents=True)
    for ex in EXERCISES:
        nbformat.write(sol[ex], folder / "solucao" / f"{ex}.ipynb")
        nbformat.write(blank[ex], folder / "em_branco" / f"{ex}.ipynb")
    ex = "ex02_analise_logs"
    answers = {_gid(c): c.source for c in sol[ex].cells}
    partial = copy.deepcopy(blank[ex])
    for cell in partial.cells:
        if _gid(cell) in ("resposta_leitura", "resposta_endpoints"):
            cell.source = answers[_gid(cell)]
    nbformat.write(partial, folder / "parcial" / f"{ex}.ipynb")
    # ex05: só a tarefa 4 (o pior segmento pelo Prometheus gravado) resolvida
    answers05 = {_gid(c): c.source for c in sol["ex05_alerta_drift"].cells}
    partial05 = copy.deepcopy(blank["ex05_alerta_drift"])
    for cell in partial05.cells:
        if _gid(cell) == "resposta_segmento":
            cell.source = answers05["resposta_segmento"]
    nbformat.write(partial05, folder / "parcial" / "ex05_alerta_drift.ipynb")
    slo = "ex07_slo_burn_rate"  # só a tarefa 1 (as regras de burn rate), sem os testes
    partial_slo = copy.deepcopy(blank[slo])
    for cell in partial_slo.cells:
        if _gid(cell) == "resposta_regra":
            cell.source = next(c.source for c in sol[slo].cells if _gid(c) == "resposta_regra")
    nbformat.write(partial_slo, folder / "parcial" / f"{slo}.ipynb")
    loop = copy.deepcopy(blank[ex])
    for cell in loop.cells:
        if _gid(cell) == "resposta_leitura":
            cell.source = answers["resposta_leitura"]
        if _gid(cell) == "resposta_erros":
            cell.source = "while True:\n    pass"
    nbformat.write(loop, folder / "laco" / f"{ex}.ipynb")
    nbformat.write(blank[ex], folder / "em_branco" / "ex02 (1).ipynb")  # nome errado: avisado, não corrigido
    broken = copy.deepcopy(sol["ex01_limiar_f2"])  # a resposta da tarefa 2 não compila
    for cell in broken.cells:
        if _gid(cell) == "resposta_relatorio":
            cell.source = "def report_at(y_true, risk, threshold:\n    return {}"
    nbformat.write(broken, folder / "laco" / "ex01_limiar_f2.ipynb")
    deleted = copy.deepcopy(sol[ex])  # apaga uma resposta e uma célula de conferência
    deleted.cells = [c for c in deleted.cells if _gid(c) not in ("resposta_endpoints", "conferencia_leitura")]
    nbformat.write(deleted, folder / "apagada" / f"{ex}.ipynb")
    _tampering(folder, folder.parent, sol[ex], blank[ex])


# --- quem tenta ganhar pontos sem o trabalho ----------------------------------------------------
# Respostas erradas do ex02 (a leitura está certa; o resto passa nas conferências visíveis ou quase):
WRONG = {
    "resposta_erros": 'def errors_last_hour(logs):\n'
                      '    start = logs["time"].max() - pd.Timedelta(hours=2)\n'
                      '    return int(((logs["level"] == "ERROR") & (logs["time"] >= start)).sum())\n',
    "resposta_endpoints": 'def requests_per_endpoint(logs):\n    return logs["endpoint"].value_counts()\n\n\n'
                          'def mean_response_ms(logs):\n    return float(logs["duration_ms"].median())\n',
    "resposta_clientes": 'def top_customers(logs, n=5):\n'
                         '    return [int(i) for i in logs["id_cliente"].dropna().astype("int64").unique()[:n]]\n',
}
LIAR = "    def __eq__(self, other):\n        return True\n\n    def __ne__(self, other):\n        return False\n\n" \
       "    __hash__ = object.__hash__\n"
# (aluno, célula, código posto ANTES da resposta errada daquela célula, o que o feedback deve nomear)
TRICKS = [
    ("rebind_check", "resposta_erros", "check = lambda *a, **k: None\npassed = lambda *a, **k: None\n",
     "redefine `check`"),
    ("patch_kit", "resposta_erros", "import kit._grading\nimport kit.exercises\n"
     "kit.exercises.check = lambda *a, **k: None\nkit._grading.record = lambda *a, **k: None\n"
     "kit.exercises.record = kit._grading.record\nfrom kit.exercises import check, record\n", "kit.exercises.check"),
    ("int_always_equal", "resposta_erros", "", "define `__eq__`"),
    ("list_always_equal", "resposta_clientes", "", "define `__eq__`"),
    ("series_always_equal", "resposta_endpoints", "", "define `__eq__`"),
    ("patch_builtins", "resposta_erros", "import builtins\nbuiltins.isinstance = lambda *a: True\n"
     "builtins.all = lambda *a: True\nbuiltins.len = lambda *a: 7\n", "builtins.isinstance"),
    ("os_exit", "resposta_clientes", "import os\nos._exit(0)\n", "os._exit"),
    ("sys_exit", "resposta_erros", "import sys\nsys.exit(0)\n", "sys.exit"),
    ("kernel_kill", "resposta_endpoints", "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n", "os.kill"),
    ("writes_outside", "resposta_erros", None, "grades.csv"),
    ("reads_reference", "resposta_erros", None, "'../../../**/ex02_analise_logs.ipynb'"),
]
ALWAYS_EQUAL = {  # a resposta errada embrulhada num tipo que diz que é igual a tudo
    "int_always_equal": ("resposta_erros", "class Sempre(int):\n" + LIAR + "\n\n",
                         lambda code: code.replace("return int(", "return Sempre(")),
    "list_always_equal": ("resposta_clientes", "class Sempre(list):\n" + LIAR + "\n\n",
                          lambda code: code.replace("return [", "return Sempre([").rstrip() + ")\n"),
    "series_always_equal": ("resposta_endpoints", "class Sempre(pd.Series):\n" + LIAR + "\n\n",
                            lambda code: code.replace('return logs["endpoint"].value_counts()',
                                                      'return Sempre(logs["endpoint"].value_counts())')),
}


def _outside_code(base: Path) -> str:
    """Um processo destacado que, enquanto o lote corre, tenta sobrescrever as notas e a entrega de outro aluno."""
    loop = (f"import time\nfor _ in range(1500):\n"
            f"    for path in ({str(base / 'notas' / 'grades.csv')!r}, {str(base / 'entregas' / 'solucao' / 'ex02_analise_logs.ipynb')!r}):\n"
            f"        try:\n            open(path, 'w').write('hack')\n        except OSError:\n            pass\n"
            f"    time.sleep(0.2)\n")
    return (f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {loop!r}], start_new_session=True,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n")


READS = ("import glob, json\n"
         "for path in glob.glob('../../../**/ex02_analise_logs.ipynb', recursive=True) + glob.glob('../../../**/*.db'):\n"
         "    try:\n        text = open(path, encoding='utf-8', errors='ignore').read()\n    except OSError:\n        continue\n"
         "    if 'BEGIN SOLUTION' in text and path.endswith('.ipynb'):\n"
         "        for c in json.loads(text)['cells']:\n"
         "            if 'def ' in ''.join(c['source']):\n"
         "                exec(''.join(c['source']).replace('### BEGIN SOLUTION', '').replace('### END SOLUTION', ''))\n")


def _tampering(folder: Path, base: Path, sol, blank) -> None:
    answers = {_gid(c): c.source for c in sol.cells}
    wrong = copy.deepcopy(blank)
    for cell in wrong.cells:
        if _gid(cell) == "resposta_leitura":
            cell.source = answers["resposta_leitura"]
        cell.source = WRONG.get(_gid(cell), cell.source)
    (folder / "errado").mkdir(parents=True)
    nbformat.write(wrong, folder / "errado" / "ex02_analise_logs.ipynb")
    for student, target, prefix, _ in TRICKS:
        notebook = copy.deepcopy(wrong)
        prefix = {"writes_outside": _outside_code(base), "reads_reference": READS}.get(student, prefix)
        for cell in notebook.cells:
            if _gid(cell) == target:
                if student in ALWAYS_EQUAL:
                    _, cls, wrap = ALWAYS_EQUAL[student]
                    cell.source = cls + wrap(cell.source)
                else:
                    cell.source = prefix + cell.source
        (folder / student).mkdir()
        nbformat.write(notebook, folder / student / "ex02_analise_logs.ipynb")


STUDENTS = {"solucao", "em_branco", "parcial", "laco", "apagada", "errado", *(t[0] for t in TRICKS)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_binary("promtool", "apt-get install prometheus")
    require_binary("prometheus", "apt-get install prometheus")
    base = tmp_path_factory.mktemp("correcao")
    _submissions(base / "entregas")
    run = subprocess.run([sys.executable, str(SCRIPT), "grade", str(base / "entregas"), "--output", str(base / "notas"),
                          "--timeout", "20", "--jobs", "2"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(base / "notas" / "grades.csv", encoding="utf-8") as fh:
        rows = {(r["student"], r["exercise"]): (float(r["points"]), float(r["max"])) for r in csv.DictReader(fh)}
    feedback = {p.stem: p.read_text(encoding="utf-8") for p in (base / "notas" / "feedback").glob("*.md")}
    return rows, feedback, run.stdout


@pytest.mark.slow
def test_every_student_and_exercise_is_graded(graded):
    rows, feedback, _ = graded
    assert len(rows) == len(STUDENTS) * len(EXERCISES)
    assert set(feedback) == STUDENTS


@pytest.mark.slow
def test_solutions_score_full_marks(graded):
    rows, feedback, _ = graded
    for ex in EXERCISES:
        points, maximum = rows[("solucao", ex)]
        assert maximum > 0 and points == maximum, f"{ex}: {points}/{maximum}\n{feedback['solucao']}"
    assert "🚩" not in feedback["solucao"] + feedback["parcial"] + feedback["errado"], "adulteração onde não houve"


@pytest.mark.slow
def test_untouched_exercises_score_zero_on_every_check(graded):
    rows, feedback, _ = graded
    for ex in EXERCISES:
        assert rows[("em_branco", ex)][0] == 0, ex
    assert "✔" not in feedback["em_branco"]
    assert feedback["em_branco"].count("NotImplementedError") + feedback["em_branco"].count("NameError") >= 20


@pytest.mark.slow
def test_partial_solution_scores_in_between(graded):
    rows, feedback, _ = graded
    points, maximum = rows[("parcial", "ex02_analise_logs")]
    assert 0 < points < maximum, feedback["parcial"]
    assert points == 3  # leitura (1) + endpoints (1) + tempo médio (1)
    points, maximum = rows[("parcial", "ex05_alerta_drift")]
    assert points == 2 and maximum == 7, feedback["parcial"]  # só a tarefa 4 (o pior segmento), 2 de 7 pontos
    assert rows[("parcial", "ex07_slo_burn_rate")] == (3, 5), feedback["parcial"]  # regras (3), sem os testes (2)


@pytest.mark.slow
def test_missing_notebooks_get_zero_with_reason(graded):
    rows, feedback, _ = graded
    assert rows[("parcial", "ex01_limiar_f2")] == (0, rows[("solucao", "ex01_limiar_f2")][1])
    assert "notebook não entregue" in feedback["parcial"]


@pytest.mark.slow
def test_infinite_loop_is_interrupted_and_graded(graded):
    rows, feedback, _ = graded
    points, maximum = rows[("laco", "ex02_analise_logs")]
    assert points == 1, feedback["laco"]  # a leitura, resolvida antes do laço, continua valendo
    assert "interrompida" in feedback["laco"]


@pytest.mark.slow
def test_deleted_cells_are_graded_with_reason(graded):
    rows, feedback, _ = graded
    points, maximum = rows[("apagada", "ex02_analise_logs")]
    assert points == maximum - 2, feedback["apagada"]  # endpoints e tempo médio dependiam da célula apagada
    assert "foi restaurada" in feedback["apagada"]
    assert "NameError" in feedback["apagada"] and "foi apagada" in feedback["apagada"]


@pytest.mark.slow
def test_feedback_names_the_answer_cell_that_broke(graded):
    rows, feedback, _ = graded
    assert rows[("laco", "ex01_limiar_f2")][0] == 4  # tarefas 1 e 3: cada conferência usa só as próprias entradas
    assert "erro na célula de resposta 'resposta_relatorio' — SyntaxError" in feedback["laco"]
    assert "a célula de resposta 'resposta_erros' passou de 20 s e foi interrompida" in feedback["laco"]
    assert "a célula de resposta 'resposta_dashboard' ainda não foi resolvida" in feedback["em_branco"]
    assert ("a célula de resposta 'resposta_limiar' ainda não foi resolvida (a função `best_threshold` ainda é o "
            "esboço" in feedback["em_branco"])  # a definição roda sem erro, mas o esboço é avisado igual
    assert "dashboard_versoes.json não foi gerado" in feedback["em_branco"]
    assert "FileNotFoundError" not in feedback["em_branco"]


@pytest.mark.slow
def test_misnamed_notebooks_are_reported_not_silently_ignored(graded):
    _, feedback, stdout = graded
    for text in (feedback["em_branco"], stdout):
        assert "'ex02 (1).ipynb' não foi corrigido" in text and "entregue como ex02_analise_logs.ipynb" in text


# --- na máquina do aluno --------------------------------------------------------------------
def _execute(notebook, folder: Path, env: dict):
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute(env=env)
    return notebook


def _text(cell) -> str:
    return "".join(o.get("text", "") + "".join(o.get("traceback", [])) for o in cell.get("outputs", []))


@pytest.mark.slow
def test_without_prometheus_no_check_pretends_it_checked(tmp_path):
    """Só o venv no PATH, notebook fora de exercises/ (os dados vêm de exercises/dados/)."""
    from kit.exercises import MISSING_TOOLS

    env = {k: v for k, v in os.environ.items() if k != "KIT_GRADING"}
    env["PATH"] = str(Path(sys.executable).parent)
    for ex in EXERCISES[2:]:  # ex03 a ex07 usam promtool/prometheus
        notebook = _execute(nbformat.read(ROOT / "solutions" / f"{ex}.ipynb", as_version=4), tmp_path, env)
        for cell in notebook.cells:
            assert not any(o.get("output_type") == "error" for o in cell.get("outputs", [])), f"{ex}: {_text(cell)}"
            if not cell.metadata.get("nbgrader", {}).get("grade"):
                continue
            out = _text(cell)
            if "not_checked(" in cell.source:
                assert MISSING_TOOLS in out and "✔" not in out, f"{ex}/{_gid(cell)}: {out!r}"
            else:
                assert "✔" in out, f"{ex}/{_gid(cell)}: {out!r}"


def test_check_before_answer_hints_in_portuguese_and_is_still_an_error(tmp_path):
    source = nbformat.read(ROOT / "exercises" / "ex05_alerta_drift.ipynb", as_version=4)
    notebook = copy.deepcopy(source)
    notebook.cells = [c for c in source.cells if _gid(c) in ("preparacao", "conferencia_regra")]
    env = {k: v for k, v in os.environ.items() if k != "KIT_GRADING"}
    check_cell = _execute(notebook, tmp_path, env).cells[-1]
    errors = [o for o in check_cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, check_cell.outputs  # o aluno vê o erro (o handler é quem o mostra), uma vez só
    error = errors[0]
    assert error.ename == "NameError" and "RULE_YAML" in error.evalue
    assert "rode primeiro a célula de resposta acima (a que define RULE_YAML)" in "".join(error.traceback)


# --- a tabela de trapaças: nenhuma ganha pontos, e o feedback diz qual foi -------------------------
@pytest.mark.slow
def test_wrong_answers_lose_points(graded):
    rows, feedback, _ = graded
    points, maximum = rows[("errado", "ex02_analise_logs")]
    assert 0 < points < maximum - 2, feedback["errado"]  # a base da tabela: errada, mas não zerada
    assert "a correção não confirmou a resposta" in feedback["errado"]  # passou na visível, caiu na escondida


@pytest.mark.slow
@pytest.mark.parametrize("student,cell,_code,named", TRICKS, ids=[t[0] for t in TRICKS])
def test_tampering_scores_no_more_than_the_same_wrong_answers(graded, student, cell, _code, named):
    rows, feedback, _ = graded
    honest = rows[("errado", "ex02_analise_logs")][0]
    assert rows[(student, "ex02_analise_logs")][0] <= honest, feedback[student]
    assert "🚩 adulteração" in feedback[student] and named in feedback[student], feedback[student]


@pytest.mark.slow
def test_always_equal_objects_are_reported_as_the_wrong_type(graded):
    _, feedback, _ = graded
    for student in ALWAYS_EQUAL:
        assert "Sempre" in feedback[student] and "sem subclasses" in feedback[student], feedback[student]


@pytest.mark.slow
def test_nothing_outside_the_submission_was_changed(graded, tmp_path_factory):
    """O processo destacado de writes_outside morreu antes das notas: elas e a entrega de outro aluno estão intactas."""
    rows, _, _ = graded
    base = Path(str(tmp_path_factory.getbasetemp())) / "correcao0"
    grades = (base / "notas" / "grades.csv").read_text(encoding="utf-8")
    time.sleep(1.5)  # se ainda estivesse vivo, já teria escrito de novo
    assert (base / "notas" / "grades.csv").read_text(encoding="utf-8") == grades and "hack" not in grades
    assert rows[("solucao", "ex02_analise_logs")][0] == rows[("solucao", "ex02_analise_logs")][1]


# --- ex01: cada conferência com as próprias entradas, a AUC conferida, a função intocada avisada ------------
EX01_WRONG_AUC = '''def report_at(y_true, risk, threshold):
    predicted = (np.asarray(risk) >= threshold).astype(int)
    return {"precisao": float(precision_score(y_true, predicted)), "recall": float(recall_score(y_true, predicted)),
            "f2": float(fbeta_score(y_true, predicted, beta=2)), "auc": float(roc_auc_score(y_true, predicted))}
'''


def test_ex01_text_points_to_the_data_where_it_is():
    """De meus_exercicios/ não há dados/ ao lado: o texto diz onde o arquivo está (exercises/dados/, via data_path)."""
    import re

    text = "\n".join(c.source for c in nbformat.read(ROOT / "exercises" / "ex01_limiar_f2.ipynb", as_version=4).cells
                     if c.cell_type == "markdown")
    assert "ex01_validacao.csv" in text and "exercises/dados/" in text and "meus_exercicios/" in text
    assert not re.search(r"(?<!exercises/)dados/ex01_validacao\.csv", text), "o texto aponta para dados/ ao lado"


@pytest.mark.slow
def test_ex01_checks_stand_alone_cover_the_auc_and_name_the_unsolved_function(tmp_path):
    """Aluno em outra pasta (sem dados/ ao lado): tarefa 1 intocada, tarefa 2 com a AUC da previsão 0/1 e depois
    certa, tarefa 3 resolvida — num kernel só, como no JupyterLab."""
    solution = {_gid(c): c for c in nbformat.read(ROOT / "solutions" / "ex01_limiar_f2.ipynb", as_version=4).cells}
    student = {_gid(c): c for c in nbformat.read(ROOT / "exercises" / "ex01_limiar_f2.ipynb", as_version=4).cells}
    answers = {gid: "\n".join(line for line in c.source.splitlines() if "### " not in line)
               for gid, c in solution.items() if "### BEGIN SOLUTION" in c.source}
    order = [("preparacao", None), ("resposta_limiar", None), ("conferencia_limiar", None),
             ("resposta_relatorio", EX01_WRONG_AUC), ("conferencia_relatorio", None),
             ("resposta_relatorio", answers["resposta_relatorio"]), ("conferencia_relatorio", None),
             ("resposta_leitura", answers["resposta_leitura"]), ("conferencia_leitura", None)]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source or student[gid].source) for gid, source in order]
    env = {k: v for k, v in os.environ.items() if k != "KIT_GRADING"}
    cells = _execute(notebook, tmp_path, env).cells
    outputs = [_text(c) for c in cells]
    errors = [next((o for o in c.outputs if o.output_type == "error"), None) for c in cells]
    assert errors[1] is None and errors[2].ename == "NotImplementedError", outputs[2]
    assert errors[5] is None, outputs[5]
    assert "💡 A função `best_threshold` ainda não foi resolvida" in outputs[2]
    assert errors[4].ename == "AssertionError" and "A auc mudou quando o limiar foi de 0.3 para 0.6" in errors[4].evalue
    assert "roc_auc_score(y_true, risk)" in errors[4].evalue
    assert errors[6] is None and "✔ precisao =" in outputs[6], outputs[6]  # sem a tarefa 1
    assert errors[8] is None and "✔ leitura do resultado" in outputs[8], outputs[8]  # sem as tarefas 1 e 2


def test_an_untouched_answer_function_is_reported_as_unsolved():
    """A célula que só define a função roda sem erro; o feedback avisa mesmo assim, como nas respostas do nível de cima."""
    sys.path.insert(0, str(SCRIPT.parent))
    import grading

    from kit._grading_judge import unsolved_functions

    blank = {_gid(c): c for c in nbformat.read(ROOT / "exercises" / "ex01_limiar_f2.ipynb", as_version=4).cells}
    solved = {_gid(c): c for c in nbformat.read(ROOT / "solutions" / "ex01_limiar_f2.ipynb", as_version=4).cells}
    assert unsolved_functions(blank["resposta_limiar"].source) == ["best_threshold"]
    assert unsolved_functions(solved["resposta_limiar"].source) == []
    assert unsolved_functions("def f(:\n") == []
    two = "def a():\n    raise NotImplementedError('Ainda não resolvido')\n\ndef b():\n    raise NotImplementedError('Ainda não resolvido')\n"
    executed = nbformat.v4.new_notebook()
    executed.cells = [copy.deepcopy(blank["resposta_limiar"]), copy.deepcopy(solved["resposta_relatorio"]),
                      nbformat.v4.new_code_cell(two, metadata={"nbgrader": {"solution": True, "grade_id": "duas"}})]
    notes = grading._cell_errors(executed, set(), 20)
    assert notes == ["a célula de resposta 'resposta_limiar' ainda não foi resolvida (a função `best_threshold` "
                     "ainda é o esboço: NotImplementedError)",
                     "a célula de resposta 'duas' ainda não foi resolvida (as funções `a`, `b` ainda são o esboço: "
                     "NotImplementedError)"]
