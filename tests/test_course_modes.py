"""O curso inteiro nos outros dois modos da stack (veja a tabela em test_notebooks.py).

Num arquivo à parte para o pytest-xdist (--dist loadfile) poder rodá-lo noutro processo, ao mesmo tempo que
test_notebooks.py: são as três execuções mais longas da suíte.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._tools import require_binary
from tests.test_notebooks import NOTEBOOKS, PORT_VARIABLES, ROOT, _isolated_env, run_course

pytestmark = pytest.mark.slow


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _task_lines(text: str) -> dict[str, int]:
    return {mark: text.count(mark) for mark in ("✔ Sua vez", "✘ Sua vez", "⏳ Sua vez")}


def _task_count(paths) -> int:
    return sum(1 for path in paths for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
               if "sua-vez" in cell.get("metadata", {}).get("tags", []))


def test_make_course_without_stack_completes_and_never_touches_the_checkout():
    """O curso de um aluno sem Docker nem Prometheus que pula todas as tarefas "Sua vez" (cópias em branco):
    roda até o fim num KIT_HOME temporário e portas livres, e cada tarefa diz "ainda não resolvida"."""
    watched = {name: _tree_digest(ROOT / name) for name in ("models", "outputs", "logs")}
    env = dict(os.environ)
    for name in ("KIT_HOME", *PORT_VARIABLES):  # como no terminal do aluno: o run_course escolhe os seus
        env.pop(name, None)
    env["STACK_MODE"] = "none"
    # (07 sem os workers e réplicas de verdade: eles não dependem da stack e rodam no nbval e em test_workers.py)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_course.py"), "--em-branco",
                           "--parametro", "PROCESSOS_AO_VIVO=False"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    print("\n" + proc.stdout[-1500:])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    assert "without encryption" not in proc.stderr, "o kernel voltou a avisar de TCP sem criptografia"
    where = re.search(r"Cópias executadas em: (.+)", proc.stdout)
    assert where, "o make course deve dizer onde ficaram as cópias executadas"
    copies = Path(where.group(1).strip())
    assert ROOT not in copies.parents, f"as cópias executadas foram parar dentro do checkout: {copies}"
    text = "".join((copies / nb.name).read_text(encoding="utf-8") for nb in NOTEBOOKS)
    assert "Sem Prometheus" in text or "sem Prometheus" in text, "o notebook deve dizer o que não pôde mostrar"
    assert "### BEGIN SOLUTION" not in text, "a cópia do aluno não pode trazer a solução no código"
    lines = _task_lines(text)
    assert lines == {"✔ Sua vez": 0, "✘ Sua vez": 0, "⏳ Sua vez": _task_count(NOTEBOOKS)}, lines
    after = {name: _tree_digest(ROOT / name) for name in watched}
    assert after == watched, "o make course mudou arquivos do checkout (models/, outputs/ ou logs/)"


# No modo binder o que muda é o endereço do Prometheus (sob o prefixo do JupyterHub) e quem o sobe: a aula
# que consulta o Prometheus, desenha prévias e espera um alerta basta (a 04), mais a 07 (regras de gravação e
# o Pushgateway que o kit sobe ao lado) — esta sem os workers e réplicas de verdade (PROCESSOS_AO_VIVO=False:
# eles não dependem do modo da stack e rodam nas duas passadas do nbval e em tests/test_workers.py e
# tests/test_replicas.py). As outras aulas já rodam com a stack nativa em test_notebooks.py.
BINDER = ("04", "07")
BINDER_LESSONS = [nb for nb in NOTEBOOKS if nb.name[:2] in BINDER]


def test_papermill_runs_the_prometheus_lessons_in_binder_mode(monkeypatch, tmp_path):
    require_binary("prometheus", "apt-get install prometheus")
    env = _isolated_env("binder")
    env["JUPYTERHUB_SERVICE_PREFIX"] = "/user/teste/"  # Prometheus sob o prefixo, como atrás do proxy
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    from kit import _lessons  # com Prometheus e as tarefas em branco: a aula segue com as referências
    _lessons.write_copies(NOTEBOOKS[0].parent, tmp_path / "aulas", list(BINDER), force=True)
    results = run_course.run([tmp_path / "aulas" / nb.name for nb in BINDER_LESSONS], tmp_path,
                             parameters={"RAPIDO": True, "PROCESSOS_AO_VIVO": False})
    failures = [f"{name}: {status}" for name, _, status in results if status != "ok"]
    assert not failures, "\n".join(failures)
    print(f"\n[medida] aulas {' e '.join(BINDER)} (modo rápido, binder): {sum(s for _, s, _ in results):.1f} s")
    text = "".join(Path(tmp_path / nb.name).read_text() for nb in BINDER_LESSONS)
    assert "/user/teste/prometheus" in text, "os notebooks deveriam mostrar o Prometheus do modo binder"
    lines = _task_lines(text)
    assert lines == {"✔ Sua vez": 0, "✘ Sua vez": 0, "⏳ Sua vez": _task_count(BINDER_LESSONS)}, lines
