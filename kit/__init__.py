"""Kit do curso Monitoramento MLOps.

A face pública: o que um notebook, um exercício ou um aluno importa. Cada módulo abre com um
exemplo de uso (leia o docstring dele: `help(kit.runner)`).

    o projeto de churn
        kit.data        — os dados sintéticos: load("treino" | "novos_1" | "novos_2")
        kit.model       — train, evaluate, retrain, predict_batch, load, risk_level
        kit.api         — create_app (as rotas estão em kit.api.router)
        kit.runner      — start / stop: a API numa thread do notebook; port_is_free
        kit.workers     — serve, start, stop: a API em vários processos (modo multiprocesso)
        kit.replicas    — start, stop, targets: réplicas da API achadas pelo Prometheus (file_sd)
    o que a aula ensina a observar
        kit.logger      — setup, get_logger, read_json_logs, log_path, flush (Loguru)
        kit.metrics     — o contrato (CONTRACT) e counter / gauge / histogram / summary / info
        kit.instrumentation — record_request: as métricas HTTP da API em prometheus_client puro
        kit.prom        — query, query_range, value, targets, alerts, rules (PromQL pela API HTTP)
        kit.drift       — check, psi, psi_table, compare_methods (PSI, KS, qui², Wasserstein, Jensen–Shannon)
        kit.labels      — LabelJoin, simulate_arrival (rótulos atrasados, qualidade em janela e por segmento)
        kit.data_quality — check_rejected, check_valid (qualidade dos dados em POST /predict)
        kit.push        — batch_job, send, grouped (jobs em lote → Pushgateway)
        kit.load        — run, run_scenarios, summary (teste de carga)
        kit.export      — export (relatório de métricas em CSV e JSON)
        kit.dashboards  — preview, panel_queries (prévia dos painéis sem Grafana)
        kit.alerts      — start_receiver, table, wait_for (o receptor de alertas do Alertmanager)
    a aula e o ambiente
        kit.course      — check_environment, start, finish
        kit.stack       — up, down, status (Prometheus, Alertmanager, Grafana)
        kit.doctor      — run ("por que meu painel está vazio?")
        kit.config      — settings (a única leitura do .env)
        kit.errors      — ErroDoKit, a base de todo erro do kit (mensagens em pt-BR)
    exercícios
        kit.exercises   — check, passed, not_checked, data_path (as conferências)
        kit.promlab     — recorded, check_rules, test_rules, alert_fires (Prometheus com dados gravados)
        kit.tasks       — run_task, summary; kit.tasks.week1..week7: as conferências das tarefas "Sua vez"
    linha de comando e Binder
        kit.cli         — python -m kit <comando>
        kit.binder      — python -m kit.binder prometheus | grafana (jupyter-server-proxy)

O encanamento fica nos módulos com `_` (como no Loguru): `_process` (portas e processos),
`_fastlog` (velocidade do log por requisição), `_api_errors` (erros da API em pt-BR, limite
do corpo), `_psi_file` (o PSI gravado que a API publica), `_cli_args` (argparse em pt-BR),
`_grafana_look` (números e cores como o Grafana, para as prévias de kit.dashboards),
`_native_services` (Grafana e Pushgateway nativos, opcionais, para kit.stack).
Eles podem mudar sem aviso; os notebooks não os importam.
"""
__version__ = "0.1.0"

PUBLIC_MODULES = ("data", "model", "api", "runner", "logger", "metrics", "prom", "drift", "labels", "data_quality",
                  "load", "export", "dashboards", "alerts", "push", "course", "stack", "doctor", "config", "errors",
                  "exercises", "promlab", "tasks", "cli", "binder", "instrumentation", "workers", "replicas")
