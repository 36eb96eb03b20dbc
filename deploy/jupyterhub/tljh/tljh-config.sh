#!/bin/bash
# As configurações do TLJH para o curso (rode como root; instalar.sh já chama este arquivo).
# Limites por aluno a partir da medição do README ("Quantos alunos por máquina", bench/bench_hub.py):
# ≈ 584 MB ocioso e ≈ 600 MB no pico da aula 06 (servidor + kernel com a API + Prometheus +
# Alertmanager): limite de 1 GB por aluno (o pico com 50 % de folga) e 1 núcleo.
set -euo pipefail
tljh-config set limits.memory 1G
tljh-config set limits.cpu 1
tljh-config set user_environment.default_app jupyterlab
# Servidor parado após 1 h sem uso; o vigia do kit para a stack do aluno junto com o servidor.
tljh-config set services.cull.enabled true
tljh-config set services.cull.timeout 3600
tljh-config set services.cull.every 300
tljh-config reload
