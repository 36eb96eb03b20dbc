"""Exercícios: gera as versões do aluno e corrige entregas com o nbgrader.

    python scripts/grading.py generate                      # solutions/ → exercises/ (make exercises)
    python scripts/grading.py grade entregas/ --output notas/ --timeout 120   # (make grade)

`solutions/` é a fonte única: cada notebook tem o enunciado, as regiões de solução
(### BEGIN/END SOLUTION) e as células de conferência com pontos (com partes
escondidas em ### BEGIN/END HIDDEN TESTS). O nbgrader troca as soluções por um
esboço em pt-BR, tira as conferências escondidas e limpa as saídas. `generate` se
recusa (sem --force) a apagar notebooks executados em exercises/: é trabalho de aluno,
que deveria estar em meus_exercicios/.

A correção roda `nbgrader autograde` num processo (e num curso nbgrader
temporário) por aluno e exercício, até `--jobs` ao mesmo tempo: uma entrega que
trava ou quebra perde os pontos das conferências afetadas, com o motivo, e nunca
interrompe as outras. Cada célula tem `--timeout` segundos (o nbgrader
interrompe o kernel e segue); o notebook inteiro é morto se passar de
`--timeout` + 60 s. Células de conferência apagadas voltam (o nbgrader as
restaura) e valem como as outras; as conferências sempre rodam na versão do
instrutor, mesmo que o aluno as tenha editado. O feedback aponta (⚠) cada célula de
resposta que deu erro ou passou do tempo, e os .ipynb com nome que não é de exercício.

O veredito não sai do kernel do aluno: as partes escondidas só capturam as respostas
(kit/_grading.py) e este processo as compara com as capturas da solução, que ele mesmo roda antes
(kit/_grading_judge.py); adulterações lidas no código do aluno zeram as conferências seguintes (🚩).
Cada entrega roda numa pasta só dela (como root, com um uid só dela). Detalhes no README (Exercícios).
"""
from __future__ import annotations

import argparse
import ast
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python scripts/grading.py` acha o kit mesmo sem o venv instalado
from kit import _grading_judge as judge  # noqa: E402

SANDBOX_UID = 61000  # como root, cada correção roda com um uid próprio a partir deste (sem login, sem grupos)
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
CODE_STUB = ('# SEU CÓDIGO AQUI\n'
             'raise NotImplementedError("Ainda não resolvido: troque esta linha pela sua solução e rode a célula de novo.")')
TEXT_STUB = "ESCREVA SUA RESPOSTA AQUI"
INTERRUPTED = ("KeyboardInterrupt", "CellTimeoutError", "DeadKernelError")


def exercise_ids(source: Path = SOLUTIONS) -> list[str]:
    return sorted(p.stem for p in source.glob("ex[0-9][0-9]_*.ipynb"))


def _nbgrader_args(course: Path) -> list[str]:
    config = course / "nbgrader_config.py"  # lido da pasta corrente (o cwd do subprocesso)
    if not config.exists():
        config.write_text(f"c = get_config()\nc.ClearSolutions.code_stub = {{'python': {CODE_STUB!r}}}\n"
                          f"c.ClearSolutions.text_stub = {TEXT_STUB!r}\n", encoding="utf-8")
    return [f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
            "--log-level=WARN"]


def _nbgrader(args: list[str], course: Path, timeout: float | None = None,
              env: dict | None = None, uid: int | None = None) -> subprocess.CompletedProcess:
    """Roda `python -m nbgrader ...` num grupo de processos próprio (para matar o kernel junto no timeout).

    Com `uid`, roda como esse usuário sem privilégios (sem grupos extras)."""
    env = dict(env or os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # o nbgrader chama `alembic`
    proc = subprocess.Popen([sys.executable, "-m", "nbgrader", *args, *_nbgrader_args(course)], cwd=course,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True,
                            **({"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}))
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def build_course(course: Path, source: Path = SOLUTIONS) -> list[str]:
    """Um curso nbgrader em `course`: source/<ex>/ (notebook + dados) → release/<ex>/ e o gradebook."""
    ids = exercise_ids(source)
    for ex in ids:
        folder = course / "source" / ex
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / f"{ex}.ipynb", folder / f"{ex}.ipynb")
        prefix = ex.split("_")[0] + "_"
        for data_file in sorted((source / "dados").glob(prefix + "*")):
            (folder / "dados").mkdir(exist_ok=True)
            shutil.copy2(data_file, folder / "dados" / data_file.name)
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # `alembic`
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.ClearSolutions.text_stub = TEXT_STUB
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for ex in ids:  # num processo só: o mesmo que `nbgrader generate_assignment <ex>`, sem reiniciar o Python
        result = api.generate_assignment(ex, force=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {ex} falhou:\n{result.get('error')}\n{result.get('log')}")
    return ids


def worked_on(dest: Path = EXERCISES) -> list[Path]:
    """Notebooks de `dest` que alguém executou (têm saídas): trabalho de aluno que `generate` apagaria."""
    return [nb for nb in sorted(dest.glob("ex[0-9][0-9]_*.ipynb"))
            if any(c.get("outputs") or c.get("execution_count") for c in nbformat.read(nb, as_version=4).cells
                   if c.cell_type == "code")]


def generate(dest: Path = EXERCISES, source: Path = SOLUTIONS) -> list[Path]:
    """Regera `dest` (notebooks do aluno + dados) a partir de `source`. Devolve os arquivos escritos."""
    with tempfile.TemporaryDirectory(prefix="kit-nbgrader-") as tmp:
        course = Path(tmp)
        ids = build_course(course, source)
        dest.mkdir(parents=True, exist_ok=True)
        for stale in list(dest.glob("ex[0-9][0-9]_*.ipynb")) + list((dest / "dados").glob("*")):
            stale.unlink()
        written = []
        for ex in ids:
            for path in sorted((course / "release" / ex).rglob("*")):
                if path.is_file():
                    target = dest / path.relative_to(course / "release" / ex)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
                    written.append(target)
    return written


# --- correção ---------------------------------------------------------------------------
@dataclass
class Check:
    name: str
    points: float
    max: float
    reason: str = ""


@dataclass
class Result:
    student: str
    exercise: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # adulterações (🚩 no feedback)
    captures: dict = field(default_factory=dict)

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max(self) -> float:
        return sum(c.max for c in self.checks)


def _grade_cells(course: Path, ex: str) -> list[tuple[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook = gb.find_notebook(ex, ex)
        order = {c["metadata"].get("nbgrader", {}).get("grade_id"): i for i, c in
                 enumerate(nbformat.read(course / "source" / ex / f"{ex}.ipynb", as_version=4).cells)}
        return sorted(((c.name, float(c.max_score)) for c in notebook.grade_cells), key=lambda c: order.get(c[0], 0))


def _error(cell) -> dict | None:
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


def _missing_file(evalue: str) -> str:
    """"[Errno 2] No such file or directory: 'x.json'" → 'x.json' ('' se não for esse o erro)."""
    match = re.search(r"No such file or directory: '([^']+)'", evalue)
    return Path(match.group(1)).name if match else ""


def _reason(cell) -> str:
    error = _error(cell)
    if error is not None:
        ename, evalue = error.get("ename", "Erro"), str(error.get("evalue", "")).strip()
        if ename in INTERRUPTED:
            return "interrompida: passou do tempo limite (laço infinito?)"
        if ename == "AssertionError" and evalue:  # uma conferência (check) que falhou: a mensagem já é pt-BR
            return evalue[:400]
        if ename == "FileNotFoundError" and _missing_file(evalue):
            return (f"o arquivo {_missing_file(evalue)} não foi gerado: rode a célula de resposta que o escreve "
                    f"(FileNotFoundError: {evalue[:200]})")
        hint = {"NameError": " — algo que esta conferência usa não foi definido: uma célula de resposta "
                             "anterior falhou, foi apagada ou ainda não foi resolvida",
                "NotImplementedError": " — item não resolvido"}.get(ename, "")
        return f"{ename}: {evalue}"[:400] + hint
    for output in cell.get("outputs", []):
        if output.get("name") == "stderr":  # o nbgrader conta saída em stderr como falha
            return "a célula escreveu em stderr: " + "".join(output.get("text", "")).strip()[:300]
    return ""


_SANDBOX: list[bool] = []  # o teste de _sandbox_works, feito uma vez por processo


def _sandbox_works() -> bool:
    """Como root: um uid sem privilégios consegue rodar este Python com o nbgrader e o kit?"""
    if os.geteuid() != 0:
        return False
    if not _SANDBOX:
        try:
            probe = subprocess.run([sys.executable, "-c", "import nbgrader, kit.exercises"], cwd="/", timeout=120,
                                   capture_output=True, user=SANDBOX_UID - 1, group=SANDBOX_UID - 1, extra_groups=[],
                                   env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"})
            _SANDBOX.append(probe.returncode == 0)
        except (OSError, subprocess.SubprocessError):
            _SANDBOX.append(False)
        if not _SANDBOX[0]:
            print(f"Atenção: um usuário sem privilégios não consegue rodar {sys.executable} (ele ou o venv estão numa "
                  "pasta fechada, como /root). As entregas rodarão como root, cada uma na sua pasta temporária: "
                  "para isolá-las também por usuário, crie o venv numa pasta que todos leem (ex.: /opt).")
    return _SANDBOX[0]


def _sandbox_uid(index: int) -> int | None:
    """Como root, cada correção roda com um uid só dela (sem entrada em /etc/passwd); sem root, None."""
    if not _sandbox_works():
        return None
    import pwd

    uid = SANDBOX_UID + index
    while True:
        try:
            pwd.getpwuid(uid)
            uid += 1000
        except KeyError:
            return uid


def _sweep(uid: int | None, marker: str) -> None:
    """Mata o que a entrega deixou rodando (processos destacados): pelo uid dela, ou pela marca no ambiente."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if uid is not None:
                owner = next(int(line.split()[1]) for line in (proc / "status").read_text().splitlines()
                             if line.startswith("Uid:"))
                hit = owner == uid
            else:
                hit = marker.encode() in (proc / "environ").read_bytes()
            if hit and int(proc.name) != os.getpid():
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, StopIteration, ValueError):
            continue


def _protected(source_nb) -> dict[str, str]:
    """Nomes que as células travadas (preparação) definem: as conferências dependem deles."""
    names: dict[str, str] = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("locked") and not meta.get("grade"):
            names.update(judge.bindings(cell.source))
            try:
                names.update({n.name: n.name for n in ast.parse(cell.source).body
                              if isinstance(n, (ast.FunctionDef, ast.ClassDef))})
            except SyntaxError:
                pass
    return names


def tampering_scan(submitted, source_nb, grade_ids: list[str]) -> tuple[list[str], set[str]]:
    """(avisos em pt-BR, conferências afetadas) lendo o código das células do aluno, sem executar."""
    locked = {c.metadata.get("nbgrader", {}).get("grade_id") for c in source_nb.cells
              if c.metadata.get("nbgrader", {}).get("locked")}
    order = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(source_nb.cells)}
    protected, notes, dirty, last = _protected(source_nb), [], False, None
    for cell in submitted.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        last = gid if gid in order else last
        if cell.cell_type != "code":
            continue
        if gid in locked:  # o nbgrader põe de volta o texto do instrutor
            continue
        found = judge.scan(cell.source, protected)
        if found:
            start = order.get(last, -1) if dirty is False else min(dirty, order.get(last, -1))
            dirty = start
            notes.append(f"adulteração na célula '{gid or cell.get('id') or 'sem id'}': " + "; ".join(found)
                         + " — as conferências depois dela valem zero; instrutor, confira esta célula")
    affected = set() if dirty is False else {g for g in grade_ids if order.get(g, 0) > dirty}
    return notes, affected


def grade_one(template: Path, work: Path, student: str, ex: str, notebook: Path | None, timeout: int,
              grade_cells: list[tuple[str, float]], reference: dict | None = None, index: int = 0) -> Result:
    """Corrige uma entrega numa pasta só dela. `reference` = capturas da solução (None: esta é a solução)."""
    result = Result(student, ex)
    if notebook is None:
        result.checks = [Check(n, 0.0, m, "notebook não entregue") for n, m in grade_cells]
        return result
    # lido antes de rodar: depois, a entrega poderia ter mexido no arquivo
    tamper_notes, affected, seen = [], set(), {}
    try:
        if reference is not None:
            tamper_notes, affected = tampering_scan(nbformat.read(notebook, as_version=4),
                                                    nbformat.read(template / "source" / ex / f"{ex}.ipynb", as_version=4),
                                                    [n for n, _ in grade_cells])
    except Exception:  # noqa: BLE001 — um .ipynb ilegível: o nbgrader vai dizer o porquê, e o lote segue
        pass
    course = Path(tempfile.mkdtemp(prefix="c-", dir=work))  # nome imprevisível; só esta entrega e os dados
    (course / "source" / ex).mkdir(parents=True)  # só os dados: o notebook da solução fica de fora
    if (template / "source" / ex / "dados").is_dir():
        shutil.copytree(template / "source" / ex / "dados", course / "source" / ex / "dados")
    shutil.copy2(template / "gradebook.db", course / "gradebook.db")
    (course / "submitted" / student / ex).mkdir(parents=True)
    shutil.copy2(notebook, course / "submitted" / student / ex / f"{ex}.ipynb")
    for sub in ("home", "tmp"):
        (course / sub).mkdir()
    uid, marker = _sandbox_uid(index), f"kit-job-{os.urandom(8).hex()}"
    if uid is not None:
        for path in [course, *course.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
    course.chmod(0o700)
    # O nbgrader zera uma conferência que escreve em stderr: avisos (DeprecationWarning...) não tiram pontos.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIT_", "JUPYTER", "IPYTHON"))}
    env.update(KIT_GRADING="1", KIT_HOME=str(course / "kit-home"), LOG_CONSOLE_LEVEL="ERROR", PYTHONWARNINGS="ignore",
               HOME=str(course / "home"), TMPDIR=str(course / "tmp"), KIT_GRADING_JOB=marker)
    args = ["autograde", ex, f"--student={student}", "--force",
            f"--ExecutePreprocessor.timeout={timeout}", "--OverwriteCells.add_missing_cells=True"]
    try:
        run = _nbgrader(args, course, timeout=timeout + 60, env=env, uid=uid)
        failure = "" if run.returncode == 0 else f"o nbgrader não conseguiu corrigir ({run.stdout.strip()[-300:]})"
    except subprocess.TimeoutExpired:
        failure = f"tempo esgotado: o notebook passou de {timeout + 60} s e foi interrompido"
    finally:
        _sweep(uid, marker)
    autograded = course / "autograded" / student / ex / f"{ex}.ipynb"
    if failure or not autograded.is_file() or autograded.is_symlink():
        result.checks = [Check(n, 0.0, m, failure or "o notebook não pôde ser executado") for n, m in grade_cells]
        result.flags = tamper_notes
        return result
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {g.name: float(g.score or 0.0) for g in gb.find_submission_notebook(ex, ex, student).grades}
    executed = nbformat.read(autograded, as_version=4)
    result.captures = judge.captures(executed)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in executed.cells}
    for name, max_score in grade_cells:
        cell = cells.get(name)
        points = scores.get(name, 0.0)
        reason = _reason(cell) if cell is not None else "célula de conferência ausente"
        if reference is not None:
            problem, tampered = judge.verdict(reference.get(name, []), result.captures.get(name, []))
            for item in tampered:
                seen.setdefault(item, name)
            if tampered or name in affected:
                points, reason = 0.0, ("zerada: houve adulteração antes desta conferência (veja o aviso 🚩)"
                                       + (f"; além disso, {problem}" if problem else ""))
            elif problem and points > 0:
                points, reason = 0.0, f"a correção não confirmou a resposta: {problem}"
        result.checks.append(Check(name, points, max_score, reason if points < max_score else ""))
        if cell is not None and cell.source.startswith("# This cell (id:"):
            result.notes.append(f"a célula de conferência '{name}' tinha sido apagada; foi restaurada e corrigida")
    tamper_notes += [f"adulteração percebida no kernel (a partir de '{first}'): {item}" for item, first in seen.items()]
    result.flags = list(dict.fromkeys(tamper_notes))
    result.notes += _cell_errors(executed, {n for n, _ in grade_cells}, timeout)
    return result


def _cell_errors(notebook, grade_ids: set[str], timeout: int) -> list[str]:
    """Um aviso por célula que não é de conferência e deu erro (a causa dos NameError que vêm depois)."""
    notes = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        error = _error(cell) if cell.cell_type == "code" else None
        name = meta.get("grade_id") or cell.get("id") or "sem id"
        kind = "célula de resposta" if meta.get("solution") else "célula"
        if error is None:
            functions = judge.unsolved_functions(cell.source) if meta.get("solution") else []
            if functions:  # a definição roda sem erro; o esboço só levanta na conferência
                names = ", ".join(f"`{f}`" for f in functions)
                which = f"as funções {names} ainda são" if len(functions) > 1 else f"a função {names} ainda é"
                notes.append(f"a {kind} '{name}' ainda não foi resolvida ({which} o esboço: NotImplementedError)")
            continue
        ename, evalue = error.get("ename", "Erro"), " ".join(str(error.get("evalue", "")).split())
        if ename in INTERRUPTED:
            notes.append(f"a {kind} '{name}' passou de {timeout} s e foi interrompida (laço infinito?)")
        elif meta.get("grade_id") in grade_ids:
            continue  # o motivo já aparece na linha da conferência
        elif ename == "NotImplementedError":
            notes.append(f"a {kind} '{name}' ainda não foi resolvida (NotImplementedError)")
        else:
            notes.append(f"erro na {kind} '{name}' — {ename}: {evalue[:300]} (as conferências que dependem dela "
                         "perderam pontos; corrija esta célula primeiro)")
    return notes


def grade(submissions: Path, output: Path, timeout: int = 120, jobs: int | None = None) -> list[Result]:
    """Corrige `submissions/<aluno>/<exNN_...>.ipynb`; escreve grades.csv e feedback/<aluno>.md em `output`.

    1. copia as entregas para uma pasta privada (o que um aluno escrever depois em `submissions/` não conta);
    2. roda a solução de cada exercício e guarda as capturas dela (os valores de referência) em memória,
       numa pasta que some antes de qualquer entrega rodar;
    3. corrige cada entrega numa pasta só dela (como root, com um uid só dela) e julga as capturas aqui fora;
    4. só no fim, com tudo o que as entregas deixaram rodando já morto, escreve as notas.
    """
    students = sorted(p.name for p in Path(submissions).iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    with tempfile.TemporaryDirectory(prefix="kit-correcao-") as tmp:
        Path(tmp).chmod(0o711)  # os uids das entregas atravessam, mas não listam
        template, work, private = Path(tmp) / "modelo", Path(tmp) / "trabalho", Path(tmp) / "entregas"
        ids = build_course(template)
        template.chmod(0o700)
        work.mkdir(mode=0o711)
        work.chmod(0o711)
        shutil.copytree(submissions, private, ignore=shutil.ignore_patterns(".*", "_*"), symlinks=True)
        private.chmod(0o700)
        cells = {ex: _grade_cells(template, ex) for ex in ids}
        strays = {student: _stray_notebooks(Path(submissions) / student, ids) for student in students}
        for student, names in strays.items():
            for name in names:
                print(f"Atenção, {student}: {_stray_note(name, ids)} (renomeie e corrija de novo).")
        tasks = []
        for student in students:
            for ex in ids:
                path = private / student / f"{ex}.ipynb"
                tasks.append((student, ex, path if path.is_file() and not path.is_symlink() else None))
        wanted = sorted({ex for _, ex, path in tasks if path is not None})
        workers = jobs or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=workers) as pool:  # 2. as referências, antes de tudo
            refs = list(pool.map(lambda t: grade_one(template, work, "referencia", t[1], SOLUTIONS / f"{t[1]}.ipynb",
                                                     timeout, cells[t[1]], None, t[0]), enumerate(wanted)))
        reference = {r.exercise: r.captures for r in refs}
        for r in refs:
            if r.points < r.max:
                print(f"Atenção: a solução de {r.exercise} não tirou a nota máxima nesta máquina "
                      f"({_fmt(r.points)}/{_fmt(r.max)}); confira promtool/prometheus antes de confiar nas notas.")
        for leftover in work.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
        with ThreadPoolExecutor(max_workers=workers) as pool:  # 3. as entregas
            results = list(pool.map(lambda it: grade_one(template, work, *it[1], timeout, cells[it[1][1]],
                                                         reference.get(it[1][1], {}), len(wanted) + it[0]),
                                    enumerate(tasks)))
    write_reports(results, Path(output), strays)
    return results


def _stray_notebooks(folder: Path, ids: list[str]) -> list[str]:
    """Notebooks da pasta do aluno que não têm o nome de um exercício (ex.: 'ex02 (1).ipynb')."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts and not (p.parent == folder and p.stem in ids))


def _stray_note(name: str, ids: list[str]) -> str:
    guess = [ex for ex in ids if Path(name).name[:4] == ex[:4]]
    rename = f"entregue como {guess[0]}.ipynb" if guess else "use o nome exato de um exercício (exNN_nome.ipynb)"
    return f"o arquivo '{name}' não foi corrigido porque o nome não é o de um exercício: {rename}"


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_reports(results: list[Result], output: Path, strays: dict[str, list[str]] | None = None) -> None:
    output.mkdir(parents=True, exist_ok=True)
    with open(output / "grades.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["student", "exercise", "points", "max"])
        for r in results:
            writer.writerow([r.student, r.exercise, _fmt(r.points), _fmt(r.max)])
    feedback = output / "feedback"
    feedback.mkdir(exist_ok=True)
    for student in sorted({r.student for r in results}):
        mine = [r for r in results if r.student == student]
        total, maximum = sum(r.points for r in mine), sum(r.max for r in mine)
        lines = [f"# Correção dos exercícios — {student}", "", f"Total: **{_fmt(total)} de {_fmt(maximum)} pontos**.", ""]
        ids = sorted({r.exercise for r in mine})
        lines += [f"- ⚠ {_stray_note(name, ids)}" for name in (strays or {}).get(student, [])]
        lines += [""] if (strays or {}).get(student) else []
        for r in mine:
            lines += [f"## {r.exercise} — {_fmt(r.points)}/{_fmt(r.max)}", ""]
            lines += [f"- 🚩 {flag}" for flag in r.flags]
            lines += [f"- ⚠ {note}" for note in r.notes]
            for c in r.checks:
                mark = "✔" if c.points >= c.max else "✘"
                lines.append(f"- {mark} `{c.name}`: {_fmt(c.points)}/{_fmt(c.max)}" + (f" — {c.reason}" if c.reason else ""))
            lines.append("")
        lines.append("Para ver o que falta, abra o exercício, rode as células de conferência e leia as mensagens.")
        (feedback / f"{student}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="regera exercises/ a partir de solutions/")
    gen.add_argument("--dest", type=Path, default=EXERCISES)
    gen.add_argument("--force", action="store_true", help="regera mesmo que haja notebooks executados em --dest")
    grd = sub.add_parser("grade", help="corrige uma pasta de entregas (uma subpasta por aluno)")
    grd.add_argument("submissions", type=Path)
    grd.add_argument("--output", type=Path, default=Path("notas"))
    grd.add_argument("--timeout", type=int, default=120, help="segundos por célula (o notebook todo: + 60 s)")
    grd.add_argument("--jobs", type=int, default=None, help="correções simultâneas (padrão: núcleos da CPU)")
    args = parser.parse_args(argv)
    if args.command == "generate":
        busy = worked_on(args.dest)
        if busy and not args.force:
            print("Não regerei: estes notebooks foram executados (parecem trabalho de aluno) e seriam apagados:")
            print("".join(f"  {nb}\n" for nb in busy), end="")
            print("Aluno: rode `make meus-exercicios` (copia para meus_exercicios/ sem sobrescrever nada) e continue lá.\n"
                  "Instrutor, depois de salvar o que importa: `make exercises FORCE=1`.")
            return 1
        for path in generate(args.dest):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        print(f"Pronto: {args.dest} foi regerado a partir de solutions/. Alunos trabalham em meus_exercicios/ "
              "(`make meus-exercicios`), nunca em exercises/.")
        return 0
    if not args.submissions.is_dir():
        print(f"A pasta de entregas {args.submissions} não existe. Crie uma subpasta por aluno com os notebooks exNN_*.ipynb.")
        return 2
    for name in ("promtool", "prometheus"):
        if shutil.which(name) is None:
            print(f"Atenção: '{name}' não está instalado; as conferências que precisam dele valerão zero "
                  "(instale com: sudo apt-get install prometheus).")
    results = grade(args.submissions, args.output, args.timeout, args.jobs)
    for r in results:
        print(f"{r.student:<20} {r.exercise:<24} {_fmt(r.points):>5} / {_fmt(r.max)}")
    print(f"Notas em {args.output / 'grades.csv'}; comentários por aluno em {args.output / 'feedback'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
