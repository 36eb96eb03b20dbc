"""A base dos erros do kit: toda mensagem diz, em português, o que aconteceu e o que fazer.

    from kit.errors import ErroDoKit
    try:
        runner.start()
    except ErroDoKit as exc:      # PortaEmUso, ModeloAusente, PrometheusIndisponivel, ...
        print(exc)

Cada erro do kit herda desta base *e* da exceção padrão que já descrevia o caso
(`PortaEmUso` também é um `RuntimeError`, `ModeloAusente` um `FileNotFoundError`),
então um `except RuntimeError` antigo continua funcionando. A linha de comando
(`python -m kit`) pega esta base num lugar só e imprime uma linha, sem traceback.
"""
from __future__ import annotations


class ErroDoKit(Exception):
    """Erro do kit com mensagem em pt-BR. `exit_code` é o código de saída na linha de comando."""

    exit_code = 1


class EntradaInvalida(ErroDoKit, ValueError):
    """Um valor que o aluno passou (porta, número de requisições, URL...) não serve."""

    exit_code = 2
