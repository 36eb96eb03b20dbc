"""A primeira hora do aluno e o laço do mantenedor: o que o `make lab` instala, o `make help`, os botões do
Binder. (O `make course` fora do checkout é provado em test_notebooks.py, na execução sem stack.)"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import binder_links  # noqa: E402
import check_course_env  # noqa: E402

CHECK = [sys.executable, str(ROOT / "scripts" / "check_course_env.py")]


def _notebook(folder: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Aula"), nbformat.v4.new_code_cell(source)]
    path = folder / "aula.ipynb"
    nbformat.write(nb, path)
    return path


def test_course_env_finds_what_the_lessons_import(tmp_path):
    _notebook(tmp_path, "import pandas as pd\nfrom sklearn.metrics import fbeta_score\nimport os, json\n"
                        "%matplotlib inline\nfrom kit import course")
    assert check_course_env.notebook_imports([tmp_path]) == {"pandas", "sklearn", "kit"}
    real = check_course_env.notebook_imports()
    assert {"pandas", "prometheus_client", "loguru", "matplotlib"} <= real, real


def test_course_env_fails_in_pt_br_when_a_lesson_imports_something_missing(tmp_path):
    _notebook(tmp_path, "import pacote_que_ninguem_instalou")
    proc = subprocess.run([*CHECK, "--pastas", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Faltam pacotes que as aulas usam" in proc.stderr and "pacote_que_ninguem_instalou" in proc.stderr
    assert "make venv" in proc.stderr  # diz o que fazer


def test_course_env_passes_here_and_sem_dev_catches_development_packages():
    """Neste .venv (o de `make test`) os pacotes das aulas importam (senão a mensagem seria "Faltam pacotes"), e
    --sem-dev tem de reclamar do pytest, que só o `make test` instala."""
    proc = subprocess.run([*CHECK, "--sem-dev"], capture_output=True, text=True)
    assert "Faltam pacotes" not in proc.stderr, proc.stderr
    assert proc.returncode == 1 and "pytest" in proc.stderr and "requirements-dev.txt" in proc.stderr


def test_student_requirements_hold_nothing_from_the_dev_extras():
    course = check_course_env.requirement_names([ROOT / "requirements.txt"])
    assert not course & check_course_env.requirement_names(), course & check_course_env.requirement_names()
    assert {"pytest", "nbval", "playwright", "nbgrader", "pytest-xdist"} <= check_course_env.requirement_names()


def test_make_lab_installs_only_the_course_and_make_test_adds_the_extras():
    makefile = (ROOT / "Makefile").read_text()
    course_recipe = makefile.split("$(STAMP): ", 1)[1].split("\n\n", 1)[0]
    assert "requirements.txt" in course_recipe and "requirements-dev" not in course_recipe
    assert "requirements-instructor" not in course_recipe and "check_course_env.py" in course_recipe
    assert re.search(r"^lab: prepare stack minhas-aulas$", makefile, re.M) and re.search(r"^prepare: venv$", makefile, re.M)
    assert re.search(r"^test: venv-dev", makefile, re.M)


def test_make_help_lists_every_target():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):(?!=)", makefile, re.M))
    targets.discard("help")
    shown = subprocess.run(["make", "-s", "-C", str(ROOT), "help"], capture_output=True, text=True).stdout
    missing = sorted(t for t in targets if not re.search(rf"make {re.escape(t)}\b", shown))
    assert not missing, f"make help não menciona: {missing}"


def test_binder_buttons_come_from_one_place():
    assert subprocess.run([sys.executable, str(ROOT / "scripts" / "binder_links.py"), "--conferir"]).returncode == 0
    readme = (ROOT / "README.md").read_text()
    repo = binder_links.repository()
    urls = re.findall(r"https://mybinder\.org/v2/gh/([^/]+/[^/]+)/main\?urlpath=lab/tree/(\S+?)\)", readme)
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert {slug for slug, _ in urls} == {repo}, "todos os botões usam o repositório do pyproject.toml"
    assert [path for _, path in urls] == ["README.md", *[f"minhas_aulas/{name}" for name in lessons]]
    other = binder_links.render(readme, "outra-org/outro-repo")
    assert {slug for slug, _ in re.findall(r"mybinder\.org/v2/gh/([^/]+/[^/]+)/main\?urlpath=lab/tree/(\S+?)\)",
                                           other)} == {"outra-org/outro-repo"}


def test_binder_main_button_lands_on_a_rendered_page():
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Markdown Preview"
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "overrides.json" in post_build and "share/jupyter/lab/settings" in post_build


@pytest.mark.parametrize("path", ["entregas/aluna/ex01_limiar_f2.ipynb", "notas/grades.csv",
                                  "meus_exercicios/ex01_limiar_f2.ipynb"])
def test_student_and_grading_folders_are_git_ignored(path):
    proc = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", path])
    assert proc.returncode == 0, f"{path} deveria estar no .gitignore"
