"""Os dashboards provisionados passam pelos modelos do próprio Grafana (grafana-foundation-sdk).

O Grafana não roda nesta máquina; o que dá para conferir sem ele é o JSON contra os tipos que o Grafana
publica (gerados do esquema dele): cada dashboard é lido com `Dashboard.from_json` e escrito de volta. Um
campo que o modelo não conhece some na volta — é isso que o teste procura —, um tipo de painel sem esquema
e uma consulta que não vira `prometheus.Dataquery` (datasource de outro tipo ou com outro formato) também
falham. O que só um Grafana de verdade confere está no README ("Grafana: o que os testes cobrem").
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as grafana_dashboard
from grafana_foundation_sdk.models import prometheus as grafana_prometheus

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = sorted((ROOT / "monitoring" / "grafana" / "dashboards").glob("*.json"))
DATASOURCE = yaml.safe_load((ROOT / "monitoring/grafana/provisioning/datasources/prometheus.yml").read_text())
DATASOURCE_REF = {"type": "prometheus", "uid": DATASOURCE["datasources"][0]["uid"]}
# Painel do núcleo do Grafana cujo esquema o SDK não publica: o tipo é aceito, as opções não são conferidas aqui.
WITHOUT_SCHEMA = {"alertlist"}
# Campos que o esquema do dashboard deixa abertos para o plugin do datasource (o Prometheus os define): a consulta
# de uma anotação e a definição de uma variável. Só esses caminhos são dispensados, o resto do dashboard não.
DATASOURCE_OWNED = (".annotations.list[", ".templating.list[")
DATASOURCE_OWNED_KEYS = {"step", "titleFormat", "textFormat", "tagKeys", "useValueForTime", "target", "definition"}

plugins.register_default_plugins()


def _round_trip(raw: dict) -> dict:
    return json.loads(json.dumps(grafana_dashboard.Dashboard.from_json(raw), cls=JSONEncoder))


def lost_fields(original, back, path: str = "") -> list[str]:
    """Campos do JSON original que não voltaram do modelo do Grafana (= campos que o esquema não conhece)."""
    if isinstance(original, dict) and isinstance(back, dict):
        lost = []
        for key, value in original.items():
            if key not in back:
                if value is not None:
                    lost.append(f"{path}.{key}")
            else:
                lost += lost_fields(value, back[key], f"{path}.{key}")
        return lost
    if isinstance(original, list) and isinstance(back, list):
        return [f for i, (a, b) in enumerate(zip(original, back)) for f in lost_fields(a, b, f"{path}[{i}]")]
    return []


def _datasource_owned(field: str) -> bool:
    parts = field.split("].", 1)
    return field.startswith(DATASOURCE_OWNED) and len(parts) == 2 and parts[1].split(".")[0] in DATASOURCE_OWNED_KEYS


def schema_problems(raw: dict) -> list[str]:
    """Tudo o que o Grafana não reconheceria no dashboard (lista vazia = de acordo com o esquema)."""
    problems = []
    try:
        back = _round_trip(raw)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        return [f"o modelo do Grafana não lê este dashboard: {type(exc).__name__}: {exc}"]
    for index, (panel, panel_back) in enumerate(zip(raw.get("panels", []), back.get("panels", []))):
        where = f"painel {index} ({panel.get('title', '?')})"
        if panel.get("type") not in WITHOUT_SCHEMA:
            if cogruntime.panelcfg_config(panel.get("type", "")) is None:
                problems.append(f"{where}: tipo de painel desconhecido {panel.get('type')!r}")
            problems += [f"{where}: campo desconhecido {field}" for field in lost_fields(panel, panel_back)]
        if panel.get("datasource") != DATASOURCE_REF:
            problems.append(f"{where}: datasource {panel.get('datasource')} (esperado {DATASOURCE_REF})")
        for target in panel.get("targets", []):
            parsed = cogruntime.dataquery_from_json(target, (panel.get("datasource") or {}).get("type", ""))
            if not isinstance(parsed, grafana_prometheus.Dataquery) or target.get("datasource") != DATASOURCE_REF:
                problems.append(f"{where}: consulta {target.get('refId')} não é uma consulta Prometheus do "
                                f"datasource {DATASOURCE_REF['uid']} ({target.get('datasource')})")
    top = {k: v for k, v in raw.items() if k != "panels"}
    problems += [f"dashboard: campo desconhecido {field}" for field in lost_fields(top, back)
                 if not _datasource_owned(field)]
    return problems


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_matches_grafana_schema(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert len(raw.get("panels", [])) > 0
    problems = schema_problems(raw)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def _dashboard_with(**panel_changes) -> dict:
    raw = json.loads((ROOT / "monitoring/grafana/dashboards/api-health.json").read_text(encoding="utf-8"))
    panel = next(p for p in raw["panels"] if p["type"] == "stat")
    for key, value in panel_changes.items():
        if value is None:
            panel.pop(key)
        elif callable(value):
            value(panel)
        else:
            panel[key] = value
    return raw


@pytest.mark.parametrize("change, expected", [
    ({"type": "graph2"}, "tipo de painel desconhecido"),
    ({"unitt": "s"}, "campo desconhecido .unitt"),
    ({"options": lambda p: p["options"].update(colourMode="value")}, "campo desconhecido .options.colourMode"),
    ({"fieldConfig": lambda p: p["fieldConfig"]["defaults"].update(units="s")}, "fieldConfig.defaults.units"),
    ({"datasource": "${DS_PROMETHEUS}"}, "não lê este dashboard"),
    ({"datasource": {"type": "prometheus", "uid": "outro"}}, "datasource"),
    ({"targets": lambda p: p["targets"][0].update(datasource={"type": "loki", "uid": "x"})}, "não é uma consulta"),
])
def test_the_schema_check_catches_what_grafana_would_not_understand(change, expected):
    assert any(expected in p for p in schema_problems(_dashboard_with(**change))), schema_problems(_dashboard_with(**change))


def test_unknown_dashboard_level_fields_are_caught_too():
    raw = json.loads((ROOT / "monitoring/grafana/dashboards/ml-metrics.json").read_text(encoding="utf-8"))
    raw["refreshh"] = "10s"
    raw["templating"]["list"][0]["bogus"] = 1
    problems = schema_problems(raw)
    assert "dashboard: campo desconhecido .refreshh" in problems
    assert "dashboard: campo desconhecido .templating.list[0].bogus" in problems
