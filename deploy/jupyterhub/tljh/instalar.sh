#!/bin/bash
# The Littlest JupyterHub (TLJH) para uma turma do curso, numa VM Ubuntu 22.04/24.04 ou Debian 12 nova.
#
#   sudo bash deploy/jupyterhub/tljh/instalar.sh <usuario-admin> [url-do-repositorio] [ramo]
#
# O que faz (cada passo pode ser refeito; rodar de novo atualiza):
#   1. Prometheus e Alertmanager do apt — o kit sobe um de cada POR ALUNO, nas portas dele; os serviços
#      do sistema ficam desligados;
#   2. instala o TLJH (https://tljh.jupyter.org) com o seu usuário administrador;
#   3. clona o curso em /opt/monitoramento-mlops (só leitura para os alunos) e instala requirements.txt e o
#      kit no ambiente dos usuários (/opt/tljh/user), mais o nbgitpuller (cópia do curso para cada aluno);
#   4. JupyterLab em português para todos (lab-pt-br.json em overrides.d/);
#   5. as configurações da turma (tljh-config.sh: limites medidos, desligamento por inatividade) e a aula 1
#      como página inicial (jupyterhub_config.d/monitoramento.py).
# Não verificado aqui (sem VM): veja deploy/jupyterhub/README.md.
set -euo pipefail

ADMIN="${1:?Use: sudo bash instalar.sh <usuario-admin> [url-do-repositorio] [ramo]}"
REPO="${2:-https://github.com/SEU-USUARIO/monitoramento-mlops}"
BRANCH="${3:-main}"
CURSO=/opt/monitoramento-mlops
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ "$(id -u)" != "0" ]; then
  echo "Rode como root: sudo bash $0 ${ADMIN} ${REPO} ${BRANCH}" >&2
  exit 1
fi

echo "1/5 Prometheus e Alertmanager (apt)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends git curl python3 python3-dev prometheus prometheus-alertmanager
for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
  systemctl disable --now "${svc}" >/dev/null 2>&1 || true
done

echo "2/5 The Littlest JupyterHub..."
if [ ! -x /opt/tljh/hub/bin/python3 ]; then
  curl -fsSL https://tljh.jupyter.org/bootstrap.py | python3 - --admin "${ADMIN}"
fi

echo "3/5 O curso em ${CURSO} e o ambiente dos alunos..."
if [ -d "${CURSO}/.git" ]; then
  git -C "${CURSO}" fetch -q origin "${BRANCH}" && git -C "${CURSO}" checkout -q -B "${BRANCH}" FETCH_HEAD
else
  git clone -q --branch "${BRANCH}" "${REPO}" "${CURSO}"
fi
/opt/tljh/user/bin/pip install -q -r "${CURSO}/requirements.txt" -e "${CURSO}" nbgitpuller==1.3.0

echo "4/5 JupyterLab em português..."
install -D -m 644 "${CURSO}/deploy/jupyterhub/lab-pt-br.json" \
  /opt/tljh/user/share/jupyter/lab/settings/overrides.d/monitoramento-pt-br.json

echo "5/5 Configurações da turma..."
bash "${here}/tljh-config.sh"
sed -e "s#@REPO@#${REPO}#" -e "s#@BRANCH@#${BRANCH}#" "${here}/monitoramento.py" \
  > /opt/tljh/config/jupyterhub_config.d/monitoramento.py
tljh-config reload hub
echo "Pronto. Entre em http://<ip-da-vm>/ como ${ADMIN} e adicione os alunos em Control Panel → Admin."
