# TLJH: /opt/tljh/config/jupyterhub_config.d/monitoramento.py (instalar.sh troca @REPO@ e @BRANCH@).
# Cada aluno abre na aula 1 de uma cópia própria do curso em ~/monitoramento-mlops: o nbgitpuller a clona no
# primeiro acesso e, nos seguintes, traz as mudanças do instrutor sem apagar o que o aluno editou.
# O kit vem de /opt/monitoramento-mlops (instalado no ambiente dos usuários); os dados, o modelo, os logs e
# a stack de cada aluno ficam em ~/monitoramento-mlops, nas portas dele (kit/_hub.py).
from urllib.parse import urlencode

c = get_config()  # noqa: F821 (o JupyterHub define get_config)
c.Spawner.default_url = "/git-pull?" + urlencode({
    "repo": "@REPO@",
    "branch": "@BRANCH@",
    "targetpath": "monitoramento-mlops",
    "urlpath": "lab/tree/monitoramento-mlops/notebooks/01_preparacao_ambiente.ipynb",
})
