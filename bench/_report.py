"""O que os quatro benchmarks têm em comum: imprimir o relatório e gravá-lo em bench/results/<nome>.json."""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def save(name: str, report: dict) -> Path:
    """Imprime `report` (JSON legível, pt-BR sem escapes) e o grava em bench/results/<name>.json."""
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    return path
