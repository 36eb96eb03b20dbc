"""Quanto tempo leva corrigir uma turma: N alunos sintéticos × todos os exercícios, com `make grade`.

Gera N entregas (metade cópias de solutions/, nota máxima; metade cópias de exercises/ intocados, nota
zero — o nbgrader executa as duas por inteiro), roda a correção oficial (scripts/grading.py grade, a
mesma do `make grade`) com JOBS correções simultâneas e mede o tempo de parede. Extrapola linearmente
para a turma pedida em --turma (o custo por entrega não depende do tamanho da turma; a conta é rotulada
como extrapolada).

    .venv/bin/python bench/bench_grade_class.py --alunos 10 --jobs 2            # amostra (≈ 5–10 min em 2 núcleos)
    .venv/bin/python bench/bench_grade_class.py --alunos 100 --jobs 8           # a turma inteira, numa máquina quieta

Grava outputs/bench_grade_class.json. Precisa do nbgrader e do prometheus/promtool (como `make grade`).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_submissions(folder: Path, students: int) -> list[str]:
    """entregas/alunoNNN/exNN_*.ipynb — pares: solução; ímpares: exercício intocado."""
    exercises = sorted(p.name for p in (ROOT / "solutions").glob("ex[0-9][0-9]_*.ipynb"))
    for i in range(students):
        source = ROOT / ("solutions" if i % 2 == 0 else "exercises")
        dest = folder / f"aluno{i + 1:03d}"
        dest.mkdir(parents=True)
        for name in exercises:
            shutil.copy(source / name, dest / name)
    return exercises


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alunos", type=int, default=10, help="alunos sintéticos (padrão 10)")
    parser.add_argument("--jobs", type=int, default=2, help="correções simultâneas (JOBS do make grade; padrão 2)")
    parser.add_argument("--timeout", type=int, default=120, help="segundos por célula (TIMEOUT do make grade)")
    parser.add_argument("--turma", type=int, default=100, help="tamanho da turma para a extrapolação (padrão 100)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    exercises = make_submissions(work / "entregas", args.alunos)
    submissions = args.alunos * len(exercises)
    load_before = os.getloadavg()
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "grading.py"), "grade", str(work / "entregas"),
                    "--output", str(work / "notas"), "--jobs", str(args.jobs), "--timeout", str(args.timeout)],
                   check=True, env={**os.environ, "KIT_GRADING": "1"}, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    with open(work / "notas" / "grades.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    full = sum(1 for r in rows if float(r["points"]) == float(r["max"]))
    result = {
        "alunos": args.alunos, "exercicios": len(exercises), "entregas": submissions, "jobs": args.jobs,
        "nucleos": os.cpu_count(), "load_antes": [round(x, 2) for x in load_before],
        "load_depois": [round(x, 2) for x in os.getloadavg()],
        "tempo_parede_s": round(wall, 1), "linhas_csv": len(rows), "entregas_nota_maxima": full,
        "s_por_entrega_parede": round(wall / submissions, 2),
        "s_por_entrega_trabalho": round(wall * args.jobs / submissions, 2),
        f"extrapolado_{args.turma}_alunos_min": round(wall / args.alunos * args.turma / 60, 1),
    }
    out = ROOT / "outputs" / "bench_grade_class.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if len(rows) != submissions or full != (args.alunos + 1) // 2 * len(exercises):
        sys.exit("A correção não deu o esperado (soluções com nota máxima, exercícios intocados com zero): "
                 f"veja {work / 'notas'}.")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
