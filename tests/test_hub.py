"""Uma turma num JupyterHub de verdade (loopback): três alunos, cada um com a sua API e a sua stack.

Hub real (PyPI jupyterhub + npm configurable-http-proxy), spawner de processos locais (todos os servidores
dividem a rede desta máquina — o caso do The Littlest JupyterHub), senha da turma. Os três entram pelo
formulário de login, sobem o servidor por /hub/spawn e rodam a aula 01 AO MESMO TEMPO, cada um num kernel
do próprio servidor. Confere: cada Prometheus raspa a API do próprio aluno (alvo up), nenhuma porta
repetida, pastas separadas, um aluno é barrado no servidor e no proxy do outro, e parar o servidor de um
para a stack dele e nada mais.
"""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests import hub_driver
from tests._tools import IN_CI, require_binary, wait_until
from tests._tools import free_port

pytestmark = [pytest.mark.slow, pytest.mark.stack]
USERS = ["ana", "bia", "caio"]


@pytest.fixture(scope="module")
def proxy() -> str:
    path = hub_driver.find_proxy()
    if path:
        return path
    message = ("configurable-http-proxy não encontrado: rode `bash scripts/install_system_deps.sh` (instala com o "
               "npm em .venv/node) ou `npm install -g configurable-http-proxy`")
    if IN_CI:
        pytest.fail(f"[CI] {message}")
    pytest.skip(message)


def _targets(prom_port: int) -> list[dict]:
    try:
        answer = httpx.get(f"http://127.0.0.1:{prom_port}/api/v1/targets", timeout=3)
        return [t for t in answer.json()["data"]["activeTargets"] if t["labels"]["job"] == "api-churn"]
    except (httpx.HTTPError, ValueError, KeyError):
        return []


def _alertmanagers(prom_port: int) -> list[str]:
    try:
        answer = httpx.get(f"http://127.0.0.1:{prom_port}/api/v1/alertmanagers", timeout=3)
        return [m["url"] for m in answer.json()["data"]["activeAlertmanagers"]]
    except (httpx.HTTPError, ValueError, KeyError):
        return []


def _pid_alive(pid: int) -> bool:
    from kit import _hub

    return _hub._alive(pid)


def test_three_students_on_one_hub(proxy, tmp_path, record_property):
    require_binary("prometheus", "sudo apt-get install prometheus")
    require_binary("prometheus-alertmanager", "sudo apt-get install prometheus-alertmanager")
    started = time.monotonic()
    env = {"KIT_PORTAS_DIR": str(tmp_path / "portas"), "LOG_CONSOLE_LEVEL": "WARNING"}
    with hub_driver.running_hub(tmp_path / "hub", USERS, [free_port(), free_port(), free_port()], proxy,
                                env) as hub:
        # senha errada: fica no login
        with pytest.raises(RuntimeError, match="recusado"):
            hub_driver.login(hub, "ana", "senha-errada")
        browsers = {user: hub_driver.login(hub, user) for user in USERS}
        for user, browser in browsers.items():
            hub_driver.spawn(hub, browser, user)
        hub_driver.wait_ready(hub, USERS)
        tokens = {user: hub_driver.user_token(hub, user) for user in USERS}

        # a interface em português: o padrão de deploy/jupyterhub/lab-pt-br.json e o pacote de idioma instalado
        lab = httpx.Client(base_url=f"{hub.url}/user/bia/lab/api", headers={"Authorization": f"token {tokens['bia']}"})
        language = lab.get("/settings/@jupyterlab/translation-extension:plugin").json()
        assert language["schema"]["properties"]["locale"]["default"] == "pt_BR", language["schema"]["properties"]
        assert "pt_BR" in lab.get("/translations/").json()["data"]
        pack = lab.get("/translations/pt_BR").json()
        assert pack["data"]["jupyterlab"]["Settings"] == ["Configurações"], pack["message"]

        # a aula 01, ao mesmo tempo, um kernel por aluno no servidor dele
        cells = [*hub_driver.lesson_cells(), hub_driver.PROBE]

        async def run_all():
            return await asyncio.gather(*(hub_driver.run_in_kernel(hub, u, tokens[u], cells) for u in USERS))

        lesson_started = time.monotonic()
        results = dict(zip(USERS, asyncio.run(run_all())))
        record_property("aula01_3_alunos_s", round(time.monotonic() - lesson_started, 1))
        seen = {user: hub_driver.probe(outputs) for user, outputs in results.items()}
        hub.owned += [pid for s in seen.values() for pid in s["pids"].values()]

        # portas e pastas: cada aluno as suas
        ports = [p for s in seen.values() for p in (s["api"], s["prom"], s["am"], s["rec"])]
        assert len(ports) == len(set(ports)) == 4 * len(USERS), seen
        for user, s in seen.items():
            assert s["user"] == user and s["multi"], s
            assert s["home"] == str(tmp_path / "hub" / "home" / user / "monitoramento-mlops")
            assert "Modo da stack: native" in "".join(results[user]), "a aula não subiu a stack nativa"
            # o doctor e o cliente Prometheus do kit (o das prévias) olham a stack do próprio aluno
            assert s["kit_prom_alvos"] == [f"127.0.0.1:{s['api']}"], s["kit_prom_alvos"]
            for check in ("API responde", "Prometheus no ar", "Alvo api-churn"):
                assert s["doctor"][check][0] is True, (user, check, s["doctor"][check])
            assert s["doctor"]["Alvo api-churn"][1].startswith(f"http://127.0.0.1:{s['api']}/"), s["doctor"]
            status = results[user][-1]  # stack.status(): o aluno vê que as portas são dele, e quais
            assert f"portas e pasta só de {user}" in status and f"http://127.0.0.1:{s['prom']}" in status, status

        # cada Prometheus raspa só a API do próprio aluno, e ela está up
        def all_up():
            found = {u: _targets(s["prom"]) for u, s in seen.items()}
            return found if all(len(t) == 1 and t[0]["health"] == "up" for t in found.values()) else None

        targets = wait_until(all_up, timeout=40, fail="algum Prometheus não viu a API do próprio aluno up")
        for user, s in seen.items():
            assert targets[user][0]["scrapeUrl"] == f"http://127.0.0.1:{s['api']}/metrics"
            # …e manda os alertas para o Alertmanager do próprio aluno
            wait_until(lambda: _alertmanagers(s["prom"]) == [f"http://127.0.0.1:{s['am']}/api/v2/alerts"], timeout=30,
                       fail=f"o Prometheus de {user} não achou o próprio Alertmanager: {_alertmanagers(s['prom'])}")

        # o aluno chega à própria stack pelo proxy do servidor dele…
        bia = seen["bia"]
        own = browsers["bia"].get(f"/user/bia/proxy/{bia['prom']}/api/v1/query", params={"query": "up"})
        assert own.status_code == 200 and own.json()["data"]["result"], own.text[:300]
        # …e a Ana é barrada no servidor e no proxy da Bia (cookie de navegador e token)
        intruder = browsers["ana"]
        for path in ("/user/bia/lab", f"/user/bia/proxy/{bia['prom']}/api/v1/query?query=up", "/user/bia/api/kernels"):
            answer = intruder.get(path)
            assert answer.status_code == 403 or answer.url.path.endswith("/hub/login"), (path, answer.status_code,
                                                                                         str(answer.url))
            answer = httpx.get(hub.url + path, headers={"Authorization": f"token {tokens['ana']}"})
            assert answer.status_code == 403, (path, answer.status_code)

        # parar o servidor da Ana para a stack dela — e só a dela
        ana = seen["ana"]
        assert ana["pids"] and all(_pid_alive(p) for p in ana["pids"].values())
        hub.stop_server("ana")
        wait_until(lambda: not any(_pid_alive(p) for p in ana["pids"].values()) and not _targets(ana["prom"]),
                   timeout=30, fail=f"a stack da Ana continuou no ar depois de parar o servidor: {ana['pids']}")
        time.sleep(2)
        for user in ("bia", "caio"):
            assert all(_pid_alive(p) for p in seen[user]["pids"].values()), user
            up = _targets(seen[user]["prom"])
            assert up and up[0]["health"] == "up", (user, up)
        assert hub.server_ready("bia") and hub.server_ready("caio")
    record_property("teste_hub_total_s", round(time.monotonic() - started, 1))
