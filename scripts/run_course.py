"""Roda o curso inteiro sem interface (papermill), notebook por notebook, e mostra o tempo de cada um.

    python scripts/run_course.py                 # modo rápido, stack que a máquina tiver
    STACK_MODE=none python scripts/run_course.py # sem stack
    python scripts/run_course.py --saida /tmp/execucao --notebooks 01 03
    python scripts/run_course.py --atualizar     # reexecuta notebooks/ no lugar (antes de um commit)
    python scripts/run_course.py --atualizar --pasta solutions   # idem, as soluções dos exercícios
    python scripts/run_course.py --em-branco     # as cópias do aluno: toda tarefa "Sua vez" em branco

Sem --atualizar, o curso roda num KIT_HOME temporário e em portas livres: dados, modelos, logs e as
cópias executadas ficam nessa pasta (o caminho é impresso no fim) e nada do seu checkout — models/,
outputs/, logs/, a sua stack de `make lab` — é tocado. Com --atualizar (mantenedores, antes de um
commit) os notebooks de notebooks/ são reexecutados no lugar, nas portas de sempre.
A stack (modo rápido) sobe uma vez antes do primeiro notebook e para depois do último — como numa
sessão de `make lab`; cada aula a reaproveita em vez de subir e esperar o Prometheus de novo.
`--stack-por-aula` faz cada notebook subir e parar a sua (para comparar).
O tempo que não é de nenhuma aula fica fora do caminho: o kernel da aula seguinte já sobe enquanto a atual
roda (como um JupyterLab que abriu o notebook antes), e o papermill grava a cópia executada uma vez, no fim
(e não duas vezes por célula).
Sai com código 1 se algum notebook falhar, dizendo qual e em que célula.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import papermill as pm
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


# As variáveis de porta da stack: a mesma lista com que o hub dá um bloco de portas a cada aluno.
from kit._hub import NAMES as PORT_VARIABLES  # noqa: E402


def kernel_config() -> Config:
    """Kernels por IPC (arquivos locais) onde dá: sem a porta TCP, o ipykernel não avisa de tráfego sem
    criptografia a cada notebook. No Windows fica o TCP de sempre."""
    config = Config()
    if os.name == "posix":
        config.KernelManager.transport = "ipc"
    return config


def isolate(environ=os.environ) -> Path:
    """Um KIT_HOME temporário e portas livres para esta execução (nada do checkout nem da stack do aluno)."""
    home = Path(tempfile.mkdtemp(prefix="kit-curso-"))
    environ["KIT_HOME"] = str(home)
    sockets = []
    for name in PORT_VARIABLES:  # todas abertas ao mesmo tempo: portas diferentes
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        environ[name] = str(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    for name in ("PROMETHEUS_URL", "ALERTMANAGER_URL", "GRAFANA_URL"):
        environ.pop(name, None)
    return home


def notebooks(selected: list[str] | None = None, folder: Path = NOTEBOOKS) -> list[Path]:
    """Os notebooks numerados de `folder` (01_*.ipynb ... em notebooks/, ex01_*.ipynb ... em solutions/)."""
    found = sorted(folder.glob("*[0-9][0-9]_*.ipynb"))
    if selected:
        found = [nb for nb in found if nb.name.startswith(tuple(selected))]
    return found


_STACK_UP = ("import json; from kit import stack; s = stack.up(fast=True, quiet=True, receiver=False); "
             "print(json.dumps({'mode': s['mode'], 'already_running': s['already_running']}))")


def shared_stack_up() -> dict:
    """Sobe a stack rápida num processo à parte (ela fica no ar; os kernels a reaproveitam)."""
    done = subprocess.run([sys.executable, "-c", _STACK_UP], capture_output=True, text=True, env=os.environ)
    if done.returncode != 0:
        print(f"A stack compartilhada não subiu; cada notebook tentará a sua.\n{done.stderr[-800:]}")
        return {"mode": "none", "already_running": False}
    return json.loads(done.stdout.strip().splitlines()[-1])


def shared_stack_down() -> None:
    subprocess.run([sys.executable, "-m", "kit", "stack", "down"], capture_output=True, env=os.environ)


class Kernels:
    """Um kernel de folga: o da próxima aula sobe (importa o ipykernel, abre os canais) enquanto a atual roda.

    Subir um kernel leva ~0,7 s numa máquina de 2 núcleos, e um kernel que rodou uma aula leva ~1 s para sair
    depois do pedido de parada; seis aulas em série pagavam isso seis vezes entre uma e outra. O kernel é o
    mesmo que o papermill subiria (python3, mesmo ambiente, pasta da aula como diretório de trabalho) — só
    começa antes, e o da aula que acabou termina de sair enquanto a seguinte roda. Cada aula no seu kernel novo.
    """

    def __init__(self):
        self._next: tuple[Path, object] | None = None
        self._leaving: list = []  # kernels que já receberam o pedido de parada e terminam de sair sozinhos

    @staticmethod
    def _start(path: Path):
        import uuid

        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.paths import jupyter_runtime_dir
        from jupyter_core.utils import run_sync

        # Arquivo de conexão com caminho absoluto e único: no transporte IPC os sockets se chamam
        # "<arquivo>-ipc-N"; sem ele seriam "kernel-ipc-N" relativos à pasta, e dois kernels vivos ao
        # mesmo tempo (o da aula e o de folga) na mesma pasta trocariam mensagens entre si.
        runtime = Path(jupyter_runtime_dir())
        runtime.mkdir(parents=True, exist_ok=True)
        km = AsyncKernelManager(kernel_name="python3", config=kernel_config(),
                                connection_file=str(runtime / f"kernel-{uuid.uuid4()}.json"))
        run_sync(km.start_kernel)(cwd=str(path.parent))
        return km

    def prepare(self, path: Path | None) -> None:
        """Começa a subir o kernel de `path` (a aula seguinte)."""
        if path is not None and self._next is None:
            self._next = (path, self._start(path))

    def take(self, path: Path):
        """O kernel já subido para `path` (ou um novo, se ninguém o preparou)."""
        if self._next is not None and self._next[0] == path:
            km, self._next = self._next[1], None
            return km
        return self._start(path)

    def stop(self, km) -> None:
        """Pede ao kernel da aula que termine e segue sem esperar: ele leva ~1 s para sair (o zmq espera as
        últimas mensagens), tempo que a aula seguinte, com o seu kernel já de pé, não precisa perder.
        `close()` confirma que todos saíram (e mata quem não saiu)."""
        from jupyter_core.utils import run_sync

        if km.has_kernel:
            run_sync(km.request_shutdown)()
            self._leaving.append(km)

    def close(self) -> None:
        from jupyter_core.utils import run_sync

        if self._next is not None:
            self.stop(self._next[1])
            self._next = None
        for km in self._leaving:
            run_sync(km.finish_shutdown)()
            run_sync(km.cleanup_resources)()
        self._leaving = []


def run(paths: list[Path], output_dir: Path | None, parameters: dict | None = None,
        shared_stack: bool = True) -> list[tuple[str, float, str]]:
    """Executa os notebooks em ordem; `output_dir=None` grava as saídas nos próprios notebooks."""
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    results = []
    stack_state = {"mode": "none", "already_running": True}
    kernels = Kernels()
    try:
        if shared_stack:
            start = time.perf_counter()
            kernels.prepare(paths[0] if paths else None)  # o kernel da primeira aula sobe junto com a stack
            stack_state = shared_stack_up()
            results.append((f"(stack {stack_state['mode']}, uma vez)", time.perf_counter() - start, "ok"))
            print(f"{results[-1][0]:<34} {results[-1][1]:6.1f} s", flush=True)
        results += _run_notebooks(paths, output_dir, parameters, kernels)
    finally:
        start = time.perf_counter()
        kernels.close()  # o último kernel termina de sair aqui (e entra no total)
        results.append(("(kernels terminando de sair)", time.perf_counter() - start, "ok"))
        print(f"{results[-1][0]:<34} {results[-1][1]:6.1f} s", flush=True)
        if stack_state["mode"] != "none" and not stack_state["already_running"]:
            shared_stack_down()
    return results


def _execute_in_place(path: Path, km=None) -> None:
    """Como o JupyterLab faria: sem célula de parâmetros injetada, saídas gravadas no próprio arquivo."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # horários de execução só geram diff
    NotebookClient(nb, km=km, timeout=300, kernel_name="python3", record_timing=False, config=kernel_config(),
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)


def _run_notebooks(paths: list[Path], output_dir: Path | None, parameters: dict | None,
                   kernels: Kernels) -> list[tuple[str, float, str]]:
    from nbclient.exceptions import CellExecutionError

    results = []
    for i, path in enumerate(paths):
        start = time.perf_counter()
        status = "ok"
        km = kernels.take(path)
        kernels.prepare(paths[i + 1] if i + 1 < len(paths) else None)
        try:
            if output_dir is None:
                _execute_in_place(path, km)
            else:
                # request_save_on_cell_execute=False: a cópia é gravada no fim (também quando falha),
                # não duas vezes por célula — com figuras, cada gravação custava ~10 ms por célula.
                pm.execute_notebook(str(path), str(output_dir / path.name), cwd=str(path.parent),
                                    parameters=parameters or {"RAPIDO": True}, kernel_name="python3",
                                    progress_bar=False, config=kernel_config(), km=km,
                                    request_save_on_cell_execute=False)
        except pm.PapermillExecutionError as exc:
            status = f"ERRO na célula {exc.exec_count}: {exc.ename}: {exc.evalue}"
        except CellExecutionError as exc:
            status = f"ERRO: {exc.ename}: {exc.evalue}"
        finally:
            kernels.stop(km)
        results.append((path.name, time.perf_counter() - start, status))
        print(f"{path.name:<34} {results[-1][1]:6.1f} s  {status}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saida", type=Path, help="pasta das cópias executadas (padrão: <KIT_HOME>/execucao)")
    parser.add_argument("--notebooks", nargs="*", help="prefixos (01 02 ... ou ex01 ...); padrão: todos")
    parser.add_argument("--pasta", type=Path, default=NOTEBOOKS, help="de onde vêm os notebooks (padrão: notebooks/)")
    parser.add_argument("--atualizar", action="store_true",
                        help="grava as saídas nos próprios notebooks/ (para o commit; use um KIT_HOME limpo)")
    parser.add_argument("--em-branco", action="store_true",
                        help="roda as cópias do aluno (tarefas ✍️ Sua vez em branco), como um aluno que pula todas")
    parser.add_argument("--stack-por-aula", action="store_true",
                        help="cada notebook sobe e para a sua stack (sem a stack compartilhada)")
    parser.add_argument("--parametro", action="append", default=[], metavar="NOME=VALOR",
                        help="muda uma variável da célula 'parameters' (como o -p do papermill), ex.: "
                             "--parametro RAPIDO=False; pode repetir")
    args = parser.parse_args()
    parameters = {"RAPIDO": True}
    for item in args.parametro:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            print(f"--parametro {item!r}: use NOME=VALOR, ex.: --parametro RAPIDO=False", file=sys.stderr)
            return 2
        try:
            parameters[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parameters[name] = value  # texto

    paths = notebooks(args.notebooks, args.pasta.resolve())
    if not paths:
        print("Nenhum notebook encontrado em notebooks/.", file=sys.stderr)
        return 1
    if args.saida is not None and args.saida.exists() and not args.saida.is_dir():
        print(f"--saida {args.saida} é um arquivo; indique uma pasta (ela é criada se não existir).", file=sys.stderr)
        return 2
    if not args.atualizar and "KIT_HOME" not in os.environ:
        home = isolate()
        print(f"Rodando num KIT_HOME temporário ({home}) e em portas livres: seu checkout não é tocado.")
    output_dir = None if args.atualizar else (args.saida or Path(os.environ.get("KIT_HOME", ROOT)) / "execucao")
    course = args.pasta.resolve() == NOTEBOOKS  # as soluções dos exercícios não usam a stack
    home = Path(os.environ.get("KIT_HOME", ROOT))
    if args.atualizar and course and paths[0].name[:2] != "01" and not any((home / "models").glob("*.json")):
        earlier = " ".join(p.name[:2] for p in notebooks(folder=NOTEBOOKS) if p.name < paths[0].name)
        print(f"Atenção: este KIT_HOME ({home}) não tem o que as aulas {earlier} deixam (modelos, logs): as saídas "
              "gravadas vão contar outra história (a 06 sozinha mostra o modelo v1, não o v2 da semana 5). Para o "
              f"estado de quem fez o curso em ordem: KIT_HOME=<pasta> python scripts/run_course.py --notebooks {earlier} "
              "e depois este comando com o mesmo KIT_HOME.")
    if args.em_branco:
        if args.atualizar or not course:
            print("--em-branco vale só para as aulas de notebooks/, sem --atualizar.", file=sys.stderr)
            return 2
        from kit import _lessons
        blank = Path(os.environ.get("KIT_HOME", tempfile.mkdtemp())) / "minhas_aulas"
        _lessons.write_copies(NOTEBOOKS, blank, [p.name[:2] for p in paths], force=True)
        paths = [blank / p.name for p in paths]
        print(f"Tarefas em branco: cópias do aluno em {blank}")
    results = run(paths, output_dir, parameters, shared_stack=course and not args.stack_por_aula)
    total = sum(seconds for _, seconds, _ in results)
    notebooks_run = [r for r in results if r[0].endswith(".ipynb")]
    failed = [name for name, _, status in notebooks_run if status != "ok"]
    print(f"{'total':<34} {total:6.1f} s  ({len(notebooks_run) - len(failed)}/{len(notebooks_run)} ok)")
    if output_dir is not None:
        print(f"Cópias executadas em: {output_dir.resolve()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
