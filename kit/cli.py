"""Linha de comando do kit: `python -m kit <comando>`.

    python -m kit train                     # treina uma nova versão do modelo
    python -m kit predict --lote novos_1    # gera outputs/predicoes.csv
    python -m kit evaluate --lote novos_2   # os rótulos chegaram: mede F2/AUC
    python -m kit retrain --lote novos_2    # treino + lote → nova versão
    python -m kit drift --lote novos_2      # PSI por feature
    python -m kit serve --port 8000         # sobe a API (Ctrl+C para parar)
    python -m kit serve --workers 4         # a API em 4 processos, métricas juntadas (kit.workers)
    python -m kit prepare                   # dados + modelo + predições, se faltarem
    python -m kit load --cenario media      # teste de carga (sem --cenario: leve, media e pesada)
    python -m kit export --minutos 15       # outputs/relatorio_metricas.csv e .json
    python -m kit minhas-aulas              # minhas_aulas/: as aulas com as tarefas ✍️ Sua vez em branco
"""
from __future__ import annotations

import sys
from pathlib import Path

from kit import _cli_args as arg
from kit.config import settings
from kit.errors import ErroDoKit

BATCH_CHOICES = ("novos_1", "novos_2")


def _notify_api() -> None:
    """Pede para a API no ar recarregar o modelo (ela é quem o Prometheus raspa)."""
    import httpx

    try:
        response = httpx.post(f"{settings.api_url}/admin/recarregar", timeout=10)
        body = response.json()
        if response.status_code != 200:  # ex.: 409 da API com vários workers (o corpo diz o que fazer)
            print(f"A API em {settings.api_url} não recarregou: {body.get('mensagem') or body}")
            return
        print(f"API em {settings.api_url} recarregada: modelo {body.get('modelo')}.")
    except httpx.HTTPError:
        print(f"(A API não está no ar em {settings.api_url}; ela publicará o resultado quando subir.)")


def cmd_train(args) -> int:
    from kit import model

    meta = model.train()
    print(f"Modelo {meta['version']}: F2={meta['f2']:.3f} AUC={meta['auc']:.3f} "
          f"limiar={meta['threshold']:.3f} ({meta['duration']:.1f}s, {meta['samples']} amostras)")
    return 0


def cmd_predict(args) -> int:
    from kit import model

    result = model.predict_batch(args.lote)
    print(f"{len(result)} predições gravadas em {settings.predictions_path}")
    print(result["nivel"].value_counts().to_string())
    return 0


def cmd_retrain(args) -> int:
    from kit import model

    meta = model.retrain(args.lote)
    print(f"Nova versão {meta['version']} (treino + {args.lote}): F2={meta['f2']:.3f} AUC={meta['auc']:.3f}")
    _notify_api()
    return 0


def cmd_evaluate(args) -> int:
    from kit import model

    result = model.evaluate(args.lote)
    print(f"Modelo {result['version']} no lote {args.lote}: F2={result['f2']:.3f} AUC={result['auc']:.3f}")
    if result["f2"] < settings.f2_alert_threshold:
        print(f"F2 abaixo de {settings.f2_alert_threshold}: o alerta ModelF2Low vai disparar. "
              f"Investigue drift (python -m kit drift --lote {args.lote}) e retreine "
              f"(python -m kit retrain --lote {args.lote}).")
    _notify_api()
    return 0


def cmd_drift(args) -> int:
    from kit import drift

    result = drift.check(args.lote)
    print(result["psi"].to_string(index=False))
    _notify_api()
    return 0


def cmd_prepare(args) -> int:
    """Dados, modelo e predições — só o que faltar (usado pelo `make lab`)."""
    from kit import course

    meta = course.prepare()
    print(f"Pronto: dados em {settings.data_dir / 'raw'}, modelo {meta['version']}, "
          f"predições em {settings.predictions_path}.")
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from kit import runner

    if not runner.port_is_free(args.host, args.port):
        raise runner.PortaEmUso(f"A porta {args.port} já está em uso. Pare o outro processo ou use "
                                f"--port {args.port + 1}.")
    if args.workers > 1 or args.multiprocess is not None:
        from kit import workers

        multiprocess = args.multiprocess is not False
        how = ("métricas juntadas pelo modo multiprocesso" if multiprocess
               else "SEM multiprocesso: cada coleta de /metrics vê só um worker")
        print(f"API com {args.workers} workers em http://{args.host}:{args.port} ({how}). Ctrl+C para parar.",
              flush=True)
        workers.serve(args.host, args.port, args.workers, multiprocess=multiprocess)
        return 0
    from kit.api import create_app

    app = create_app()
    print(f"API no ar em http://{args.host}:{args.port} (documentação em /docs). Ctrl+C para parar.")
    if args.host == "0.0.0.0":
        print("Atenção: 0.0.0.0 expõe a API para toda a rede desta máquina (necessário só para o "
              "Prometheus em Docker alcançá-la).")
    uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_config=None, access_log=False,
                                  lifespan="off", h11_max_incomplete_event_size=runner.MAX_REQUEST_HEAD)).run()
    return 0


def cmd_stack(args) -> int:
    from kit import stack

    if args.acao == "up":
        state = stack.up(mode=args.modo, fast=args.rapido, receiver=False)
        if state["mode"] != "none":
            print("O receptor de alertas roda dentro do notebook: `from kit import alerts; "
                  "alerts.start_receiver()`.")
    elif args.acao == "down":
        stack.down()
    else:
        stack.status()
    return 0


def cmd_doctor(args) -> int:
    from kit import doctor

    findings = doctor.run()
    return 0 if all(f["ok"] for f in findings) else 1


def cmd_lessons(args) -> int:
    from kit import _lessons

    dest = args.destino or settings.root / "minhas_aulas"
    for line in _lessons.write_copies(settings.root / "notebooks", dest, args.aulas, args.forcar):
        print(line)
    where = dest.relative_to(settings.root) if dest.is_relative_to(settings.root) else dest
    print(f"Pronto: abra as aulas de {where}/ no JupyterLab e escreva nas células ✍️ Sua vez.")
    return 0


def cmd_load(args) -> int:
    from kit import load

    kwargs = dict(url=args.url, unknown_share=args.desconhecidos)
    if args.cenario is None and args.requests is None and args.workers is None:
        results = load.run_scenarios(pause_s=args.pausa, **kwargs)
    else:
        results = [load.run(cenario=args.cenario, requests=args.requests, workers=args.workers, **kwargs)]
    print(f"\nResultado do teste de carga em {results[0].url} (latências medidas no cliente, em ms):")
    print(load.summary(results).to_string(index=False))
    if any(r.errors for r in results):
        print("Atenção: houve requisições sem resposta (erros_conexao). A API caiu ou ficou lenta demais?")
    return 0


def cmd_export(args) -> int:
    from kit import export

    report = export.export(output_dir=args.saida, minutes=args.minutos)
    print(f"Fonte: {report.source} — {report.message}")
    print(f"{len(report.frame)} linhas gravadas em {report.csv_path} e {report.json_path}")
    return 0


def build_parser() -> arg.Parser:
    parser = arg.Parser(prog="python -m kit", description="Kit do curso Monitoramento MLOps.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="comando")
    sub.add_parser("train", help="treina uma nova versão do modelo").set_defaults(func=cmd_train)
    p = sub.add_parser("predict", help="prevê um lote e grava outputs/predicoes.csv")
    p.add_argument("--lote", choices=BATCH_CHOICES, default="novos_1")
    p.set_defaults(func=cmd_predict)
    for name, func, text in (("retrain", cmd_retrain, "retreina com treino + o lote"),
                             ("evaluate", cmd_evaluate, "mede F2/AUC do modelo servido num lote rotulado"),
                             ("drift", cmd_drift, "PSI por feature: lote vs treino")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--lote", choices=BATCH_CHOICES, required=(name != "drift"), default="novos_2")
        p.set_defaults(func=func)
    sub.add_parser("prepare", help="gera dados, modelo e predições se faltarem").set_defaults(func=cmd_prepare)
    p = sub.add_parser("stack", help="sobe/para/mostra a stack de monitoramento")
    p.add_argument("acao", choices=("up", "down", "status"))
    p.add_argument("--modo", choices=("compose", "native", "binder", "none"), default=None,
                   help="força um modo (padrão: o melhor disponível)")
    p.add_argument("--rapido", action="store_true",
                   help="modo rápido dos notebooks: coleta/avaliação a cada 1 s e alertas com for: 5s")
    p.set_defaults(func=cmd_stack)
    sub.add_parser("doctor", help="diagnostica por que um painel está vazio").set_defaults(func=cmd_doctor)
    p = sub.add_parser("serve", help="sobe a API (foreground)")
    p.add_argument("--host", type=arg.host, default=settings.api_host,
                   help="127.0.0.1 (padrão: só esta máquina) ou 0.0.0.0 (Prometheus em Docker)")
    p.add_argument("--port", type=arg.port, default=settings.api_port, help="porta, de 1024 a 65535")
    p.add_argument("--workers", type=arg.positive_int, default=1,
                   help="processos da API na mesma porta (padrão 1; com mais, métricas no modo multiprocesso)")
    p.add_argument("--multiprocess", dest="multiprocess", action="store_const", const=True, default=None,
                   help="modo multiprocesso do prometheus_client (padrão com --workers > 1)")
    p.add_argument("--sem-multiprocess", dest="multiprocess", action="store_const", const=False,
                   help="só para a aula: workers sem juntar métricas (cada coleta vê um worker)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("minhas-aulas", help="cria minhas_aulas/: as aulas com as tarefas em branco")
    p.add_argument("aulas", nargs="*", help="prefixos (01 02 ...); padrão: todas")
    p.add_argument("--destino", type=Path, help="outra pasta (padrão: minhas_aulas/ na raiz do projeto)")
    p.add_argument("--forcar", action="store_true", help="sobrescreve cópias existentes (perde o que você escreveu)")
    p.set_defaults(func=cmd_lessons)
    p = sub.add_parser("load", help="teste de carga em GET /churn/{id_cliente}")
    p.add_argument("--url", type=arg.url, default=None, help=f"endereço da API (padrão: {settings.api_url})")
    p.add_argument("--cenario", choices=("leve", "media", "pesada"), default=None,
                   help="leve=50/5, media=200/10, pesada=500/20 (requisições/workers); sem ele, os três")
    p.add_argument("--requisicoes", "--requests", dest="requests", type=arg.positive_int, default=None,
                   help="número de requisições (sobrescreve o cenário; --requests é o nome antigo)")
    p.add_argument("--workers", type=arg.positive_int, default=None,
                   help="requisições em paralelo (sobrescreve o cenário)")
    p.add_argument("--desconhecidos", type=arg.fraction, default=0.1, help="fração de ids fora do lote (404)")
    p.add_argument("--pausa", type=arg.seconds, default=2.0, help="segundos entre cenários")
    p.set_defaults(func=cmd_load)
    p = sub.add_parser("export", help="relatório de métricas em CSV e JSON")
    p.add_argument("--saida", default=None, help=f"pasta de saída (padrão: {settings.outputs_dir})")
    p.add_argument("--minutos", type=arg.minutes, default=15, help="janela das séries do Prometheus")
    p.set_defaults(func=cmd_export)
    return parser


_OS_ERRORS = {"EACCES": "sem permissão para", "EPERM": "sem permissão para", "ENOENT": "não existe",
              "EROFS": "sistema de arquivos somente leitura em", "ENOSPC": "disco cheio ao gravar",
              "ENOTDIR": "não é uma pasta:", "EISDIR": "é uma pasta, não um arquivo:"}


def _os_error(exc: OSError) -> str:
    import errno

    what = _OS_ERRORS.get(errno.errorcode.get(exc.errno or 0, ""), "não consegui usar")
    return f"{what} {exc.filename or 'o arquivo'}. Confira o caminho e as permissões (ou escolha outra pasta)."


def main(argv: list[str] | None = None) -> int:
    """Roda um comando. Todo erro do kit (`ErroDoKit`) vira uma linha em pt-BR, sem traceback."""
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except ErroDoKit as exc:  # entrada inválida (código 2), modelo ausente, API/Prometheus fora do ar (1)...
        print(f"Erro: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # pasta sem permissão, disco cheio...
        print(f"Erro: {_os_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
