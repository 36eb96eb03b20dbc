"""Roda o curso inteiro sem interface (papermill), notebook por notebook, e mostra o tempo de cada um.

    python scripts/run_course.py                 # modo rápido, stack que a máquina tiver
    STACK_MODE=none python scripts/run_course.py # sem stack
    python scripts/run_course.py --saida /tmp/execucao --notebooks 01 03

Os notebooks executados vão para outputs/execucao/ (os de notebooks/ não são tocados).
Sai com código 1 se algum notebook falhar, dizendo qual e em que célula.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import papermill as pm

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def notebooks(selected: list[str] | None = None) -> list[Path]:
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if selected:
        found = [nb for nb in found if nb.name[:2] in selected]
    return found


def run(paths: list[Path], output_dir: Path, parameters: dict | None = None) -> list[tuple[str, float, str]]:
    output_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for path in paths:
        start = time.perf_counter()
        status = "ok"
        try:
            pm.execute_notebook(str(path), str(output_dir / path.name), parameters=parameters or {"RAPIDO": True},
                                cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False)
        except pm.PapermillExecutionError as exc:
            status = f"ERRO na célula {exc.exec_count}: {exc.ename}: {exc.evalue}"
        results.append((path.name, time.perf_counter() - start, status))
        print(f"{path.name:<34} {results[-1][1]:6.1f} s  {status}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saida", type=Path, default=ROOT / "outputs" / "execucao")
    parser.add_argument("--notebooks", nargs="*", help="prefixos (01 02 ...); padrão: todos")
    args = parser.parse_args()
    paths = notebooks(args.notebooks)
    if not paths:
        print("Nenhum notebook encontrado em notebooks/.", file=sys.stderr)
        return 1
    results = run(paths, args.saida)
    total = sum(seconds for _, seconds, _ in results)
    failed = [name for name, _, status in results if status != "ok"]
    print(f"{'total':<34} {total:6.1f} s  ({len(results) - len(failed)}/{len(results)} ok)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
