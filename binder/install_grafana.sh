#!/bin/bash
# Uso: install_grafana.sh TARBALL DESTINO
# Extrai um tarball do Grafana OSS (já conferido pelo postBuild) em DESTINO e confere o layout que
# kit/binder.py usa. Desde o Grafana 10 o tarball abre em grafana-v<versão>/ com bin/grafana
# (o `grafana server`), conf/defaults.ini e public/; --strip-components=1 tira essa pasta.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "uso: $0 TARBALL DESTINO" >&2
  exit 2
fi
tarball="$1"
dest="$2"

rm -rf "${dest}"
mkdir -p "${dest}"
tar -xzf "${tarball}" -C "${dest}" --strip-components=1
for path in bin/grafana conf/defaults.ini public; do
  if [ ! -e "${dest}/${path}" ]; then
    echo "O tarball não tem ${path}: o layout mudou? Confira kit/binder.py (grafana_command)." >&2
    exit 1
  fi
done
echo "Grafana instalado em ${dest} ($("${dest}/bin/grafana" --version 2>/dev/null || echo 'versão não lida'))"
