#!/usr/bin/env bash
# Instala Prometheus, Alertmanager, Pushgateway (semana 7) e Chromium (teste de navegador) nativos (Debian/Ubuntu,
# como root) se faltarem.
# Em outras plataformas apenas diz o que instalar: os testes que precisam deles
# são pulados localmente (com a instrução) e falham no CI.
set -euo pipefail

# configurable-http-proxy (npm), o proxy do JupyterHub: o teste da turma (tests/test_hub.py) o usa.
# Instalado só para este repositório, em .venv/node (sem root, versão fixa).
CHP_VERSION="5.3.0"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chp="${root}/.venv/node/node_modules/.bin/configurable-http-proxy"
if [ -x "${chp}" ] || command -v configurable-http-proxy >/dev/null 2>&1; then
  echo "configurable-http-proxy: ok"
elif command -v npm >/dev/null 2>&1; then
  echo "Instalando configurable-http-proxy@${CHP_VERSION} em .venv/node (npm)..."
  npm install --prefix "${root}/.venv/node" --no-audit --no-fund --loglevel=error \
    "configurable-http-proxy@${CHP_VERSION}" >/dev/null
else
  echo "Aviso: falta o npm (Node.js) para instalar o configurable-http-proxy, o proxy do JupyterHub."
  echo "  Debian/Ubuntu: sudo apt-get install npm; macOS: brew install node. Depois rode este script de novo."
  echo "  Sem ele, o teste do JupyterHub (tests/test_hub.py) é pulado (no CI, falha)."
fi

missing=()
for bin in prometheus promtool prometheus-alertmanager amtool prometheus-pushgateway chromium; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "Prometheus, Alertmanager, Pushgateway e Chromium nativos: ok"
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Instalando prometheus, prometheus-alertmanager, prometheus-pushgateway e chromium via apt (faltavam: ${missing[*]})..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager prometheus-pushgateway \
    chromium >/dev/null
  # O pacote Debian pode tentar iniciar os serviços; o kit inicia os seus próprios.
  for svc in prometheus prometheus-alertmanager prometheus-pushgateway prometheus-node-exporter; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  done
  echo "Prometheus, Alertmanager, Pushgateway e Chromium instalados."
else
  echo "Aviso: faltam ${missing[*]}. Instale Prometheus e Alertmanager"
  echo "  (Debian/Ubuntu: sudo apt-get install prometheus prometheus-alertmanager prometheus-pushgateway;"
  echo "   macOS: brew install prometheus alertmanager pushgateway) ou use Docker (docker compose up -d)."
  echo "  O teste de navegador (tests/test_browser.py) precisa do Chromium (Debian: apt-get install chromium)."
fi
