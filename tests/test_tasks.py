"""O mecanismo "Sua vez": a conferência nunca trava a aula, e a cópia do aluno esconde as soluções."""
from __future__ import annotations

import nbformat
import pytest

from kit import _lessons as student_copies
from kit import tasks


def _judge_two(value):
    return None if value == 2 else "a resposta é o número de linhas com erro (2). Filtre level == 'ERROR'."


@pytest.mark.parametrize("attempt, status, shown, fallback", [
    (lambda: 2, "ok", "✔ Sua vez 9.1 (teste): certo!", 2),
    (lambda: None, "todo", "⏳ Sua vez 9.1 (teste) ainda não resolvida.", 7),
    (lambda: ..., "todo", "ainda não resolvida", 7),
    (lambda: "  ", "todo", "ainda não resolvida", 7),
    (lambda: (None, None), "todo", "ainda não resolvida", 7),
    (lambda: (_ for _ in ()).throw(NotImplementedError()), "todo", "ainda não resolvida", 7),
    (lambda: 3, "wrong", "✘ Sua vez 9.1 (teste): a resposta é o número de linhas com erro", 7),
    (lambda: 1 / 0, "wrong", "o seu código levantou ZeroDivisionError", 7),
    (lambda: {"x": 1}, "wrong", "a resposta é o número", 7),
])
def test_run_task_reports_and_never_raises(capsys, attempt, status, shown, fallback):
    value = tasks.run_task("9.1", "teste", attempt, _judge_two, lambda: 7)
    assert value == fallback
    assert tasks.outcomes["9.1"].status == status
    out = capsys.readouterr().out
    assert shown in out
    if status != "ok":
        assert "A aula segue com a solução de referência" in out


def test_a_judge_that_chokes_on_the_value_becomes_a_hint(capsys):
    value = tasks.run_task("9.2", "forma", lambda: "texto", lambda v: None if v + 1 == 3 else "não", lambda: 0)
    assert value == 0 and tasks.outcomes["9.2"].status == "wrong"
    assert "não tem a forma que a tarefa pede (TypeError" in capsys.readouterr().out


def test_summary_counts_the_session(capsys):
    tasks.outcomes.clear()
    tasks.run_task("9.3", "a", lambda: 2, _judge_two, lambda: 2)
    tasks.run_task("9.4", "b", lambda: None, _judge_two, lambda: 2)
    assert tasks.summary().splitlines()[0] == "Sua vez: 1 de 2 tarefas certas nesta sessão."


def test_unknown_week_is_a_pt_br_attribute_error():
    with pytest.raises(AttributeError, match="as semanas vão de week1 a week7"):
        tasks.week9  # noqa: B018


REFERENCE = '''# ✍️ Sua vez
def escolher(y, p):
    ### BEGIN SOLUTION
    return max(p)
    ### END SOLUTION

### BEGIN SOLUTION
consulta: str = "rate(x[1m])"
a, b = 1, 2
logger.add(
    "x")
### END SOLUTION
print(consulta)'''


def test_stub_keeps_the_names_the_check_reads_and_drops_the_solution():
    stub, reference = student_copies.strip_solutions(REFERENCE)
    assert "max(p)" not in stub and "rate(x" not in stub and "logger.add" not in stub
    assert "consulta = None  # ✍️ sua vez" in stub and "a = None" in stub and "b = None" in stub
    namespace = {}
    exec(stub, namespace)  # o esboço roda sem erro
    assert namespace["escolher"]([1], [0.3]) is None
    assert "BEGIN SOLUTION" not in reference and "return max(p)" in reference


@pytest.mark.parametrize("broken, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "sem END"),
    ("x = 1\n### END SOLUTION\n", "sem BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "dentro de outro"),
])
def test_unbalanced_markers_are_refused(broken, message):
    with pytest.raises(ValueError, match=message):
        student_copies.strip_solutions(broken)


def _lesson():
    nb = nbformat.v4.new_notebook()
    task = nbformat.v4.new_code_cell(REFERENCE, metadata={"tags": ["sua-vez"]})
    task.outputs = [nbformat.v4.new_output("stream", text="certo\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Aula"), task, nbformat.v4.new_code_cell("conferir()")]
    return nb


def test_student_copy_has_blank_tasks_a_hidden_reference_and_no_outputs(tmp_path):
    nb = _lesson()
    copy = student_copies.student_notebook(nb)
    assert "max(p)" in nb.cells[1].source and nb.cells[1].outputs  # o original não muda
    assert [c.cell_type for c in copy.cells] == ["markdown", "code", "markdown", "code"]
    assert "max(p)" not in copy.cells[1].source and not copy.cells[1].outputs
    assert "<details>" in copy.cells[2].source and "return max(p)" in copy.cells[2].source
    nbformat.validate(copy)


def test_solution_outside_a_task_cell_is_refused():
    nb = _lesson()
    nb.cells[1].metadata["tags"] = []
    with pytest.raises(ValueError, match="sem a tag sua-vez"):
        student_copies.student_notebook(nb)


def test_copies_never_overwrite_student_work(tmp_path):
    source, dest = tmp_path / "notebooks", tmp_path / "minhas_aulas"
    source.mkdir()
    nbformat.write(_lesson(), source / "01_aula.ipynb")
    assert student_copies.write_copies(source, dest, [], force=False) == ["copiada: 01_aula.ipynb"]
    (dest / "01_aula.ipynb").write_text("meu trabalho", encoding="utf-8")
    assert "mantida" in student_copies.write_copies(source, dest, [], force=False)[0]
    assert (dest / "01_aula.ipynb").read_text(encoding="utf-8") == "meu trabalho"
    student_copies.write_copies(source, dest, ["01"], force=True)
    assert "<details>" in (dest / "01_aula.ipynb").read_text(encoding="utf-8")


def test_unknown_lesson_number_is_a_pt_br_input_error(tmp_path):
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(_lesson(), source / "01_aula.ipynb")
    with pytest.raises(student_copies.EntradaInvalida, match="Não achei aulas 09"):
        student_copies.write_copies(source, tmp_path / "x", ["09"], force=False)
    assert not (tmp_path / "x").exists()
