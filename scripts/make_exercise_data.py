"""Gera os dados fixos dos exercícios em solutions/dados/ (determinístico: mesma semente, mesmos bytes).

    .venv/bin/python scripts/make_exercise_data.py [pasta]   # depois: make exercises (copia para exercises/dados/)

- ex01_validacao.csv — rótulo e risco previsto de 1 200 clientes de validação;
- ex02_api.json      — um log JSON da API (formato de logs/api.json) de três horas de uso;
- ex03_clientes.csv, ex03_predicoes.csv, ex03_metricas.om — clientes, lote previsto e o contador por país gravado;
- ex04_metricas.om   — três versões do modelo servidas lado a lado (v2 e v3 entram em produção depois);
- ex05_segmentos.om  — F2 por segmento e global em duas horas: os rótulos do lote 1, depois os do lote 2;
- ex06_metricas.om   — dez minutos de um teste de carga (latência e 5xx pioram no fim).

Os arquivos .om (OpenMetrics com carimbo de tempo) viram um banco do Prometheus com
`promtool tsdb create-blocks-from openmetrics` (veja kit/promlab.py).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from kit import data
from kit.model import risk_level

OUT = Path(__file__).resolve().parent.parent / "solutions" / "dados"
JOB = 'job="api-churn"'
T_EX03 = 1768471200  # 2026-01-15 10:00 UTC
T_EX04 = 1768478400  # 2026-01-15 12:00 UTC
T_EX06 = 1768485600  # 2026-01-15 14:00 UTC
T_EX05 = 1770624000  # 2026-02-09 08:00 UTC


def _risk(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Um risco parecido com o de um modelo: o processo gerador verdadeiro + ruído."""
    filled = frame.fillna({"idade": 40, "escore_credito": 650, "salario_estimado": 100_000, "pais": "França"})
    z = data._churn_logit(filled, drifted=False)
    return np.round(1 / (1 + np.exp(-(0.8 * z + rng.normal(0, 0.9, len(z))))), 4)


def ex01() -> None:
    frame = data.make_frame(1200, seed=101)
    rng = np.random.default_rng(101)
    pd.DataFrame({"id_cliente": frame[data.ID], "saiu": frame[data.TARGET], "risco": _risk(frame, rng)}).to_csv(
        OUT / "ex01_validacao.csv", index=False, lineterminator="\n")


def ex02() -> None:
    rng = np.random.default_rng(202)
    tz = timezone(timedelta(hours=-3))
    start = datetime(2026, 3, 10, 9, 0, tzinfo=tz)
    customers = [int(i) for i in data.make_frame(60, seed=202)[data.ID]]
    weights = np.array([40, 30, 22, 16, 12] + [6] * 15 + [2] * 40, dtype=float)
    endpoints = [("GET", "/churn/{id_cliente}"), ("POST", "/predict"), ("GET", "/health"), ("GET", "/model")]
    lines, seconds = [], np.sort(rng.uniform(5, 3 * 3600, 900))
    lines.append((0.5, {"level": "INFO", "message": "Modelo v1 e 2000 predições carregados"}))
    for n, sec in enumerate(seconds, start=1):
        method, endpoint = endpoints[rng.choice(4, p=[0.7, 0.15, 0.1, 0.05])]
        late = sec > 2 * 3600
        status = 200
        if endpoint == "/churn/{id_cliente}":
            status = int(rng.choice([200, 404, 500], p=[0.9, 0.07, 0.03] if late else [0.92, 0.07, 0.01]))
        elif endpoint == "/predict":
            status = int(rng.choice([200, 422, 500], p=[0.94, 0.04, 0.02]))
        ms = round(float(rng.lognormal(np.log(25 if endpoint != "/predict" else 60), 0.5)), 3)
        fields = {"kind": "request", "message": f"{method} {endpoint} {status} {ms:.1f}ms",
                  "request_id": f"5e1f0a-{n:06x}", "method": method, "endpoint": endpoint,
                  "status_code": status, "duration_ms": ms}
        if endpoint == "/churn/{id_cliente}":
            fields["id_cliente"] = customers[rng.choice(len(customers), p=weights / weights.sum())]
        level = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        lines.append((sec, {"level": level, **fields}))
        if status == 500 and rng.random() < 0.5:
            lines.append((sec + 0.001, {"level": "ERROR", "message": "Erro inesperado na API",
                                        "request_id": fields["request_id"],
                                        "exception": "Traceback (most recent call last):\nTimeoutError: banco lento"}))
    lines.append((3 * 3600 - 30, {"level": "WARNING", "message": "Injeção de falhas alterada",
                                  "latencia_s": 0.0, "taxa_erro": 0.0}))
    with open(OUT / "ex02_api.json", "w", encoding="utf-8", newline="\n") as fh:
        for sec, fields in sorted(lines, key=lambda item: item[0]):
            stamp = (start + timedelta(seconds=float(sec))).isoformat(timespec="milliseconds")
            fh.write(json.dumps({"time": stamp, "level": fields.pop("level"), "component": "api", **fields},
                               ensure_ascii=False) + "\n")


def _series(name: str, labels: str, points) -> list[str]:
    return [f"{name}{{{labels}}} {value:.6g} {ts}" for ts, value in points]


def _om(path: Path, families: dict[str, tuple[str, list[str]]]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for name, (kind, samples) in families.items():
            fh.write(f"# TYPE {name} {kind}\n")
            fh.write("\n".join(samples) + "\n")
        fh.write("# EOF\n")


def ex03() -> None:
    frame = data.make_frame(300, seed=303).dropna(subset=["pais"])
    rng = np.random.default_rng(303)
    frame[[data.ID, "pais"]].to_csv(OUT / "ex03_clientes.csv", index=False, lineterminator="\n")
    risks = _risk(frame, rng)
    pd.DataFrame({"id_cliente": frame[data.ID], "risco": risks, "nivel": [risk_level(r) for r in risks]}).to_csv(
        OUT / "ex03_predicoes.csv", index=False, lineterminator="\n")
    # Duas réplicas da API por duas horas; a réplica 2 reinicia aos 70 min (o contador volta a zero).
    rates = {"França": 0.9, "Espanha": 0.5, "Alemanha": 0.3, "desconhecido": 0.0}
    samples = []
    for instance, share in (("api-1:8000", 0.6), ("api-2:8000", 0.4)):
        for pais, rate in rates.items():
            total, points = 0.0, []
            for step in range(0, 2 * 3600 + 1, 15):
                if instance == "api-2:8000" and step == 70 * 60:
                    total = 0.0
                elif step:
                    total += round(rate * share * 15 * (1.5 if step > 3600 else 1.0))
                points.append((T_EX03 + step, total))
            samples += _series("api_clientes_por_pais_total", f'{JOB},instance="{instance}",pais="{pais}"', points)
    _om(OUT / "ex03_metricas.om", {"api_clientes_por_pais_total": ("unknown", samples)})


def ex04() -> None:
    versions = [("v1", "api-1:8000", 0, "2026-01-14T09:12:00+00:00", 6000, 0.771, -0.030, 0.861),
                ("v2", "api-2:8000", 3600, "2026-01-15T12:40:00+00:00", 8000, 0.742, 0.0, 0.848),
                ("v3", "api-3:8000", 7200, "2026-01-15T13:45:00+00:00", 8000, 0.793, 0.0, 0.879)]
    info, f2, auc, samples_ = [], [], [], []
    for version, instance, start, trained_at, n, f2_0, f2_slope, auc_0 in versions:
        steps = range(start, 3 * 3600 + 1, 30)
        labels = f'{JOB},instance="{instance}"'
        info += _series("model_version_info", f'{labels},trained_at="{trained_at}",version="{version}"',
                        [(T_EX04 + s, 1) for s in steps])
        f2 += _series("model_f2_score", labels, [(T_EX04 + s, round(f2_0 + f2_slope * s / 3600, 4)) for s in steps])
        auc += _series("model_auc_score", labels, [(T_EX04 + s, round(auc_0 - 0.004 * s / 3600, 4)) for s in steps])
        samples_ += _series("model_training_samples", labels, [(T_EX04 + s, n) for s in steps])
    _om(OUT / "ex04_metricas.om", {"model_version_info": ("unknown", info), "model_f2_score": ("unknown", f2),
                                   "model_auc_score": ("unknown", auc),
                                   "model_training_samples": ("unknown", samples_)})


def ex05() -> None:
    # (pais, faixa_etaria, F2) publicados pela API: na 1ª hora, com os rótulos do lote 1; na 2ª, com os do lote 2
    # (os números da aula 5). Só aparecem segmentos com churners rotulados suficientes.
    hours = [[("Alemanha", "36_50", 0.800), ("Alemanha", "51_mais", 0.917), ("Espanha", "36_50", 0.711),
              ("França", "36_50", 0.734), ("França", "51_mais", 0.896), ("França", "ate_35", 0.549)],
             [("Alemanha", "36_50", 0.846), ("Alemanha", "ate_35", 0.707), ("Espanha", "36_50", 0.735),
              ("Espanha", "ate_35", 0.302), ("França", "36_50", 0.702)]]
    segment, window = [], []
    for hour, (segments, f2_global) in enumerate(zip(hours, (0.780, 0.566))):
        steps = range(hour * 3600, (hour + 1) * 3600, 30)
        for pais, band, f2 in segments:
            segment += _series("model_segment_f2_score", f'{JOB},instance="api:8000",pais="{pais}",faixa_etaria="{band}"',
                               [(T_EX05 + s, f2) for s in steps])
        window += _series("model_window_f2_score", f'{JOB},instance="api:8000",version="v1"',
                          [(T_EX05 + s, f2_global) for s in steps])
    _om(OUT / "ex05_segmentos.om", {"model_segment_f2_score": ("unknown", segment),
                                    "model_window_f2_score": ("unknown", window)})


def ex06() -> None:
    buckets = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, float("inf"))
    # fração das requisições de cada 15 s em cada faixa de latência (fase normal e fase degradada)
    normal = (0.05, 0.15, 0.35, 0.25, 0.12, 0.05, 0.02, 0.01, 0, 0, 0, 0, 0)
    slow = (0.01, 0.04, 0.15, 0.20, 0.15, 0.15, 0.12, 0.10, 0.05, 0.02, 0.01, 0, 0)
    endpoints = {("GET", "/churn/{id_cliente}"): 600, ("POST", "/predict"): 75}  # requisições a cada 15 s
    counts, bucket_samples, sums = [], [], []
    for (method, endpoint), per_step in endpoints.items():
        labels = f'{JOB},instance="api-1:8000",method="{method}",endpoint="{endpoint}"'
        cum = {b: 0.0 for b in buckets}
        total_sum, status_tot = 0.0, {"200": 0, "404": 0, "500": 0}
        series_b = {b: [] for b in buckets}
        series_s, series_status = [], {k: [] for k in status_tot}
        for step in range(0, 601, 15):
            if step:
                degraded = step > 360
                shares = slow if degraded else normal
                running = 0.0
                for b, share in zip(buckets, shares):
                    running += share * per_step
                    cum[b] += running
                mids = [0.003, 0.008, 0.018, 0.04, 0.07, 0.17, 0.37, 0.7, 1.4, 2.2, 3.5, 7, 12]
                total_sum += sum(share * per_step * m for share, m in zip(shares, mids))
                err = 0.04 if degraded else 0.0
                not_found = 0.1 if endpoint.startswith("/churn") else 0.0
                status_tot["500"] += round(per_step * err)
                status_tot["404"] += round(per_step * not_found)
                status_tot["200"] += per_step - round(per_step * err) - round(per_step * not_found)
            ts = T_EX06 + step
            for b in buckets:
                series_b[b].append((ts, round(cum[b])))
            series_s.append((ts, round(total_sum, 3)))
            for code in status_tot:
                series_status[code].append((ts, status_tot[code]))
        for b in buckets:
            le = "+Inf" if b == float("inf") else repr(b)
            bucket_samples += _series("api_request_duration_seconds_bucket", f'{labels},le="{le}"', series_b[b])
        sums += _series("api_request_duration_seconds_sum", labels, series_s)
        for code, points in series_status.items():
            if code != "404" or endpoint.startswith("/churn"):
                counts += _series("api_requests_total", f'{labels},status_code="{code}"', points)
    _om(OUT / "ex06_metricas.om", {"api_request_duration_seconds_bucket": ("unknown", bucket_samples),
                                   "api_request_duration_seconds_sum": ("unknown", sums),
                                   "api_requests_total": ("unknown", counts)})


if __name__ == "__main__":
    import sys

    OUT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else OUT  # (os testes geram numa pasta temporária)
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (ex01, ex02, ex03, ex04, ex05, ex06):
        make()
    for path in sorted(OUT.iterdir()):
        print(f"{path.name:<22} {path.stat().st_size:>9,} bytes")
