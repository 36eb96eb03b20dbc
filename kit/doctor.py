"""Por que o meu painel está vazio? Um diagnóstico em português, com a correção de cada problema.

    python -m kit doctor        (ou, no notebook: from kit import doctor; doctor.run())

Percorre, na ordem em que costumam falhar: a API responde? está saudável? o
Prometheus está no ar? ele enxerga a API (alvo `api-churn` UP)? — inclusive o caso
clássico da API presa em 127.0.0.1 com o Prometheus dentro do Docker —, as regras
de alerta foram carregadas? o Alertmanager está conectado? já há dados? as regras
de gravação (SLIs) rodam e o Pushgateway (jobs em lote) é coletado? o Grafana alcança
o Prometheus (datasource)?
"""
from __future__ import annotations

import httpx
import yaml

from kit import prom
from kit.config import settings

EXPECTED_RULES = settings.root / "monitoring" / "prometheus" / "alert_rules.yml"
RECORDING_RULES = settings.root / "monitoring" / "prometheus" / "recording_rules.yml"


def _finding(name: str, ok: bool | None, detail: str, fix: str = "") -> dict:
    return {"verificacao": name, "ok": ok, "detalhe": detail, "como_corrigir": fix}


def _get(url: str, **kwargs):
    try:
        return prom.http.get(url, timeout=3, **kwargs)
    except httpx.HTTPError:
        return None


def check_api(api_url: str) -> list[dict]:
    r = _get(f"{api_url}/health")
    if r is None:
        return [_finding("API responde", False, f"nada respondeu em {api_url}",
                         "No notebook: `from kit import runner; runner.start()`. No terminal: "
                         "`python -m kit serve`. Confira API_PORT no .env.")]
    body = r.json()
    out = [_finding("API responde", True, f"{api_url}/health respondeu {r.status_code}")]
    if body.get("status") != "ok":
        out.append(_finding("API saudável", False, "; ".join(body.get("problemas", [])),
                            body.get("como_resolver", "python -m kit prepare")))
    else:
        out.append(_finding("API saudável", True, f"modelo {body.get('modelo')}, "
                                                  f"{body.get('predicoes_carregadas')} predições"))
    return out


def check_loopback_with_docker(mode: str, api_host: str | None) -> list[dict]:
    """O erro mais comum do modo compose: API escutando só em 127.0.0.1."""
    if mode != "compose":
        return []
    if api_host in (None, "127.0.0.1", "localhost"):
        return [_finding("API alcançável pelo Docker", False,
                         "o Prometheus roda num contêiner e chega na API por host.docker.internal, mas a API "
                         "escuta só em 127.0.0.1 (invisível de dentro do contêiner)",
                         "Suba a API com `runner.start(host='0.0.0.0')` (ou API_HOST=0.0.0.0 no .env) — "
                         "leia no README o que isso expõe.")]
    return [_finding("API alcançável pelo Docker", True, f"API escutando em {api_host}")]


def check_binder(on_binder: bool) -> list[dict]:
    """No Binder: onde ficam Prometheus e Grafana e o que não existe lá."""
    if not on_binder:
        return []
    from kit.binder import EXPLANATION

    return [_finding("Binder", None, EXPLANATION,
                     "Launcher (+) → Prometheus ou Grafana; no notebook, `course.start()` sobe a API e o "
                     "Prometheus. Para guardar seu trabalho, baixe os notebooks (File → Download).")]


def check_prometheus(base: str) -> list[dict]:
    if not prom.available(base):
        return [_finding("Prometheus no ar", False, f"nada respondeu em {base}/-/ready",
                         "`python -m kit stack up` (nativo) ou `docker compose up -d`; depois "
                         "`python -m kit stack status`.")]
    out = [_finding("Prometheus no ar", True, base)]
    targets = [t for t in prom.targets(base) if t["job"] == "api-churn"]
    if not targets:
        out.append(_finding("Alvo api-churn", False, "o Prometheus não tem o job api-churn",
                            "Confira scrape_configs em monitoring/prometheus/prometheus.yml e recarregue "
                            "(`python -m kit stack down && python -m kit stack up`)."))
    for t in targets:
        if t["health"] == "up":
            out.append(_finding("Alvo api-churn", True, f"{t['url']} UP"))
        elif t["health"] == "unknown":
            out.append(_finding("Alvo api-churn", False, f"{t['url']} ainda não foi raspado",
                                "Espere ~15 s (o Prometheus descobre alvos a cada 5 s e raspa a cada 10 s)."))
        else:
            fix = "Suba a API (runner.start()) na porta que o alvo usa"
            if "host.docker.internal" in t["url"]:
                fix += "; no Docker, a API precisa escutar em 0.0.0.0"
            out.append(_finding("Alvo api-churn", False, f"{t['url']} DOWN: {t['erro']}", fix + "."))
    expected = {r["alert"] for g in yaml.safe_load(EXPECTED_RULES.read_text(encoding="utf-8"))["groups"]
                for r in g["rules"] if "alert" in r}
    loaded = {r["nome"] for r in prom.rules(base)}
    missing = sorted(expected - loaded)
    out.append(_finding("Regras de alerta carregadas", not missing,
                        f"{len(loaded & expected)}/{len(expected)} carregadas" + (f"; faltam {missing}" if missing else ""),
                        "Confira rule_files no prometheus.yml e rode `promtool check rules "
                        "monitoring/prometheus/alert_rules.yml`." if missing else ""))
    managers = prom.http.get(f"{base}/api/v1/alertmanagers", timeout=3).json()["data"]["activeAlertmanagers"]
    out.append(_finding("Alertmanager conectado", bool(managers),
                        ", ".join(m["url"] for m in managers) or "nenhum Alertmanager ativo",
                        "" if managers else "Suba o Alertmanager (`python -m kit stack up`) e confira a seção "
                                            "alerting do prometheus.yml."))
    series = prom.query('api_requests_total{job="api-churn"}', base)
    out.append(_finding("Dados da API no Prometheus", bool(series), f"{len(series)} séries de api_requests_total",
                        "" if series else "Faça algumas requisições à API e espere um scrape (10 s)."))
    return out


def check_week7(base: str, gateway: str) -> list[dict]:
    """Semana 7: as regras de gravação (SLIs) carregadas e o Pushgateway no ar e coletado pelo Prometheus."""
    out = []
    if prom.available(base):
        expected = {r["record"] for g in yaml.safe_load(RECORDING_RULES.read_text(encoding="utf-8"))["groups"]
                    for r in g["rules"]}
        groups = prom.http.get(f"{base}/api/v1/rules", params={"type": "record"}, timeout=3).json()["data"]["groups"]
        missing = sorted(expected - {r["name"] for g in groups for r in g["rules"]})
        out.append(_finding("Regras de gravação carregadas", not missing,
                            f"{len(expected) - len(missing)}/{len(expected)} carregadas"
                            + (f"; faltam {missing}" if missing else ""),
                            "Confira rule_files no prometheus.yml (recording_rules.yml) e rode `promtool check rules "
                            "monitoring/prometheus/recording_rules.yml`." if missing else ""))
    if _get(f"{gateway}/-/ready") is None:
        out.append(_finding("Pushgateway", None, f"não respondeu em {gateway} (opcional: jobs em lote)",
                            "`sudo apt-get install prometheus-pushgateway` e reinicie a stack (`python -m kit stack "
                            "down && python -m kit stack up`); no Docker ele já vem no docker-compose.yml."))
        return out
    targets = [t for t in prom.targets(base) if t["job"] == "pushgateway"] if prom.available(base) else []
    up = any(t["health"] == "up" for t in targets)
    out.append(_finding("Pushgateway", up if targets else None,
                        f"no ar em {gateway}" + ("; o Prometheus o coleta (job pushgateway)" if up else
                                                 "; o Prometheus ainda não o coletou" if targets else ""),
                        "" if up else "Espere uma coleta (10 s) ou confira o job pushgateway no prometheus.yml."))
    return out


def check_grafana(url: str, user: str, password: str, on_binder: bool = False) -> list[dict]:
    r = _get(f"{url}/api/health")
    if r is None:
        start = ("No Binder: abra o Grafana pelo Launcher (+) — ele sobe sob demanda em ~20 s." if on_binder
                 else "Com Docker: `docker compose up -d` e abra http://127.0.0.1:3000.")
        return [_finding("Grafana", None, f"não respondeu em {url} (opcional)",
                         f"{start} Sem Grafana, use `kit.dashboards.preview('api-health')`.")]
    if on_binder:
        return [_finding("Grafana", True, f"no ar em {url} (somente leitura, anônimo atrás do login do Jupyter)")]
    if not password:
        return [_finding("Grafana → Prometheus (datasource)", None, "Grafana no ar; sem senha no .env para testar "
                         "o datasource", "Defina GRAFANA_ADMIN_PASSWORD no .env.")]
    ds = _get(f"{url}/api/datasources/uid/prometheus-churn/health", auth=(user, password))
    ok = ds is not None and ds.status_code == 200
    return [_finding("Grafana → Prometheus (datasource)", ok,
                     "datasource prometheus-churn OK" if ok else f"falhou ({ds.status_code if ds else 'sem resposta'})",
                     "" if ok else "No compose a URL do datasource é http://prometheus:9090; no modo nativo, o kit "
                                   "reescreve para 127.0.0.1. Reinicie a stack.")]


def run(quiet: bool = False, api_url: str | None = None, base: str | None = None) -> list[dict]:
    """Roda todas as verificações, imprime (✔/✘/–) e devolve a lista."""
    from kit import runner, stack

    api_url = api_url or settings.api_url
    base = base or settings.prometheus_url
    mode = stack._read_state().get("mode") or ("binder" if settings.on_binder else "none")
    running = next(iter(runner._RUNNING.values()), None)
    findings = check_binder(settings.on_binder)
    findings += check_api(api_url)
    findings += check_loopback_with_docker(mode, running.host if running else settings.api_host)
    findings += check_prometheus(base)
    findings += check_week7(base, settings.pushgateway_url)
    findings += check_grafana(settings.grafana_url, settings.grafana_admin_user, settings.grafana_admin_password,
                              settings.on_binder)
    if not quiet:
        print(f"Diagnóstico (modo da stack: {mode})")
        for f in findings:
            mark = {True: "✔", False: "✘", None: "–"}[f["ok"]]
            print(f" {mark} {f['verificacao']}: {f['detalhe']}")
            if f["ok"] is not True and f["como_corrigir"]:
                print(f"     → {f['como_corrigir']}")
    return findings
