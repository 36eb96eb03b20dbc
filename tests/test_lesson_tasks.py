"""As tarefas "Sua vez" das aulas: onde ficam, e que a versão de referência mostra cada uma resolvida."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SIX_WEEKS = [p for p in LESSONS if p.name[:2] <= "06"]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _outputs(cell: dict) -> str:
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))


def _tasks(path: Path) -> list[int]:
    return [i for i, cell in enumerate(_cells(path)) if "sua-vez" in _tags(cell)]


def test_every_week_has_two_to_four_tasks():
    counts = {p.name: len(_tasks(p)) for p in SIX_WEEKS}
    print("\n" + "\n".join(f"{name}: {n} tarefas" for name, n in counts.items()))
    assert len(counts) == 6
    assert all(2 <= n <= 4 for n in counts.values()), counts
    assert sum(counts.values()) >= 15, f"as seis semanas têm {sum(counts.values())} tarefas Sua vez; o mínimo é 15: {counts}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_each_task_is_announced_solved_in_the_reference_and_checked_right_after(path):
    cells = _cells(path)
    week = int(path.name[:2])
    for i in _tasks(path):
        task = cells[i]
        heading = next(c for c in reversed(cells[:i]) if c["cell_type"] == "markdown")
        assert "✍️ Sua vez" in _text(heading), f"{path.name} célula {i}: falta o título ✍️ Sua vez antes da tarefa"
        assert "### BEGIN SOLUTION" in _text(task) and "### END SOLUTION" in _text(task), f"{path.name} célula {i}"
        check = cells[i + 1]
        assert "confere" in _tags(check), f"{path.name} célula {i + 1}: a conferência vem logo depois da tarefa"
        assert f"tasks.week{week}." in _text(check), f"{path.name} célula {i + 1}: confere com kit.tasks.week{week}"
        ast.parse(_text(check))
        shown = _outputs(check)
        assert "✔ Sua vez" in shown and "✘" not in shown and "⏳" not in shown, (
            f"{path.name} célula {i + 1}: a versão de referência deve mostrar a tarefa resolvida (✔); saída: {shown!r}")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_lesson_intro_explains_the_mechanism(path):
    intro = " ".join(_text(c) for c in _cells(path)[:3] if c["cell_type"] == "markdown")
    for word in ("minhas_aulas", "✔", "⏳", "🔑"):
        assert word in intro, f"{path.name}: a introdução deve explicar as tarefas ({word})"
