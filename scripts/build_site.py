"""O site do curso, com o MyST (Jupyter Book 2): `make site` → site/_build/html/.

    python scripts/build_site.py              # constrói (≈ 30 s; sem rede)
    python -m http.server -d site/_build/html # e abra http://127.0.0.1:8000

Passos:
1. Fonte (site/_build/fonte/): as aulas `notebooks/NN_*.ipynb` como estão no commit — executadas, nunca
   reexecutadas aqui; do código só saem as linhas `### BEGIN/END SOLUTION` (as aulas mostram a solução de
   referência) —, os enunciados dos exercícios de `exercises/` (a versão do aluno, gerada pelo nbgrader: sem
   soluções nem conferências escondidas; `solutions/` nunca é lido), os tutoriais, as consultas de exemplo
   e a página inicial (site/index.md + o mapa das aulas, tirado da tabela "Mapa do curso" do README).
2. Prévias: os dashboards desenhados por `kit.dashboards.preview` com os dados de uma execução curta
   gravada em site/previas.om (refeita com `--gravar`), servida por um Prometheus nativo numa porta livre
   (≈ 5 s). Sem `prometheus`/`promtool` no PATH o site sai sem as figuras e a página diz o que instalar.
3. MyST: `jupyter-book build --site` lê tudo e grava a árvore de cada página, a busca e as figuras.
4. HTML: scripts/site_html.py escreve as páginas (o tema oficial é baixado do GitHub na primeira
   construção; sem rede ele não existe — veja o docstring de lá).

Rede: nenhuma. O `jupyter-book` vem do PyPI no `make venv-dev`; o Node.js (≥ 18) é o do sistema.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from binder_links import launch_url, lesson_title, repository  # noqa: E402
from site_html import Renderer, load_json, pygments_css, search_index  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
BUILD = SITE / "_build"
MARKER = re.compile(r"^\s*#+\s*(BEGIN|END) SOLUTION\b")
NBGRADER = re.compile(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS)")
REFERENCE = ["tutorial/MONITORING.md", "tutorial/PROMETHEUS.md", "tutorial/GRAFANA.md", "monitoring/queries_exemplos.md"]


class ErroDoSite(SystemExit):
    """Uma mensagem em pt-BR que diz o que fazer (sem traceback)."""

    def __init__(self, message: str):
        super().__init__(f"Erro ao construir o site: {message}")


# --- 1. fonte ------------------------------------------------------------------------------------
def lessons(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def exercise_of(lesson: Path, root: Path = ROOT) -> Path | None:
    found = sorted((root / "exercises").glob(f"ex{lesson.name[:2]}_*.ipynb"))
    return found[0] if found else None


def strip_solution_markers(notebook: dict) -> dict:
    """As aulas aparecem no estado de referência: a solução fica, as linhas de marcação do nbgrader saem."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines(keepends=True)
            cell["source"] = "".join(line for line in lines if not MARKER.match(line)).rstrip("\n")
    return notebook


def course_map(root: Path = ROOT) -> str:
    """A tabela do mapa do curso: semana, aula, o que você vai fazer (do README) e o exercício."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    described = {}
    for row in re.findall(r"(?m)^\|\s*\d+\s*\|.*\((notebooks/[^)]+\.ipynb)\)\s*\|([^|]*)\|([^|]*)\|", readme):
        described[row[0]] = (row[1].strip(), row[2].strip())
    lines = ["| semana | aula | você vai | exercício |", "|---|---|---|---|"]
    for lesson in lessons(root):
        path = f"notebooks/{lesson.name}"
        what, deliverable = described.get(path, ("", ""))
        exercise = exercise_of(lesson, root)
        ex_cell = f"[{exercise.stem}](exercises/{exercise.name})" if exercise else "—"
        what = what + (f" (entregável: {deliverable})" if deliverable else "")
        lines.append(f"| {int(lesson.name[:2])} | [{lesson_title(lesson)}]({path}) | {what} | {ex_cell} |")
    return "\n".join(lines)


def dashboards_page(previews: dict[str, Path], titles: dict[str, str], problem: str) -> str:
    text = ["# Os dashboards (prévias)", "",
            "O que cada semana constrói, visto como o Grafana mostraria. **Estas imagens são prévias**: desenhadas "
            "em matplotlib por `kit.dashboards.preview` a partir dos JSON de `monitoring/grafana/dashboards/`, com "
            "os dados de uma execução curta (a API do curso com algumas requisições sintéticas e um Prometheus "
            "nativo, rodados na construção deste site). O painel de verdade está no Grafana: veja a semana 4.", ""]
    if problem:
        text += [":::{warning} Prévias não geradas", problem, ":::", ""]
    for uid, title in titles.items():
        text += [f"## {title}", "", f"Dashboard `{uid}` (`monitoring/grafana/dashboards/{uid}.json`).", ""]
        if uid in previews:
            text += [f"![Prévia do dashboard {title}](previas/{uid}.png)", ""]
    return "\n".join(text)


def stage(dest: Path, previews: dict[str, Path], problem: str, root: Path = ROOT) -> list[tuple[str, list[str]]]:
    """Monta a pasta que o MyST lê e devolve a navegação: [(seção, [arquivos])]."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "notebooks").mkdir(parents=True)
    (dest / "exercises").mkdir()
    nav: list[tuple[str, list[str]]] = [("Início", ["index.md"])]
    for lesson in lessons(root):
        notebook = strip_solution_markers(json.loads(lesson.read_text(encoding="utf-8")))
        (dest / "notebooks" / lesson.name).write_text(json.dumps(notebook, ensure_ascii=False, indent=1),
                                                      encoding="utf-8")
        files = [f"notebooks/{lesson.name}"]
        exercise = exercise_of(lesson, root)
        if exercise:
            text = exercise.read_text(encoding="utf-8")
            if NBGRADER.search(text):
                raise ErroDoSite(f"{exercise.relative_to(root)} tem marcas do nbgrader (solução ou conferência "
                                 "escondida): regere os exercícios com `make exercises` antes do site.")
            shutil.copy2(exercise, dest / "exercises" / exercise.name)
            files.append(f"exercises/{exercise.name}")
        nav.append((f"Semana {int(lesson.name[:2])}", files))
    for path in REFERENCE:
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, dest / path)
    nav.append(("Referência", list(REFERENCE)))
    (dest / "previas").mkdir()
    for uid, png in previews.items():
        shutil.copy2(png, dest / "previas" / f"{uid}.png")
    titles = {p.stem: json.loads(p.read_text(encoding="utf-8")).get("title", p.stem)
              for p in sorted((root / "monitoring/grafana/dashboards").glob("*.json"))}
    (dest / "dashboards.md").write_text(dashboards_page(previews, titles, problem), encoding="utf-8")
    nav.append(("Dashboards", ["dashboards.md"]))
    index = (SITE / "index.md").read_text(encoding="utf-8").replace("<!-- mapa -->", course_map(root))
    (dest / "index.md").write_text(index, encoding="utf-8")
    (dest / "tema").mkdir()
    shutil.copy2(SITE / "tema" / "template.yml", dest / "tema" / "template.yml")
    toc = []
    for section, files in nav:
        entries = [{"file": f} for f in files]
        toc += entries if section == "Início" else [{"title": section, "children": entries}]
    myst = {"version": 1, "project": {"title": "Monitoramento MLOps", "toc": toc},
            "site": {"template": "./tema", "title": "Monitoramento MLOps"}}
    (dest / "myst.yml").write_text(json.dumps(myst, ensure_ascii=False, indent=2), encoding="utf-8")
    return nav


# --- 2. prévias dos dashboards -------------------------------------------------------------------
# A gravação (site/previas.om, OpenMetrics) é refeita pelo mantenedor com `--gravar`: a API do curso e um
# Prometheus nativo rápido, sete rajadas de carga e o PSI do lote 2 (≈ 2 min). Na construção, as séries
# são deslocadas para terminar agora (a prévia desenha "os últimos minutos") e servidas por um Prometheus
# com os dados gravados (`kit.promlab`, o mesmo dos exercícios): sem treino, sem API, ≈ 5 s.
RECORDING = SITE / "previas.om"


def _om_labels(metric: dict) -> str:
    metric = {**metric, "instance": "127.0.0.1:8000"}  # a porta livre do dia não vai para o arquivo
    escaped = {k: v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for k, v in metric.items()}
    pairs = [f'{k}="{v}"' for k, v in sorted(escaped.items()) if k != "__name__"]
    return "{" + ",".join(pairs) + "}" if pairs else ""


def record(dest: Path = RECORDING) -> None:
    """Roda num processo filho com KIT_HOME e portas próprios (veja `_child`)."""
    from kit import course, data, drift, labels, load, model, prom

    session = course.start(fast=True)
    try:
        if not session.prometheus or not course.wait_for_scrape():
            raise SystemExit("o Prometheus não raspou a API")
        drift.check("novos_2")  # publica o PSI por feature (dashboard ml-metrics)
        # Semana 5: F2 de produção do lote 1 e 80 % dos rótulos do lote 2 (cobertura, F2 por janela e segmento).
        model.evaluate("novos_1")
        estimator, meta = model.load(publish=False)
        frame = data.load("novos_2")
        labels.log_batch(frame, model.predict_frame(estimator, frame), "novos_2", meta["version"],
                         estimator.predict(frame[data.FEATURES]))
        service = session.api.app.state.service
        service.labels.load_log()
        for path in labels.simulate_arrival("novos_2", n_files=2):
            service.labels.receive(path)
        started = time.time() - 5
        # Carga espalhada e variando (as taxas e os percentis mexem) por mais de 2 min: as subconsultas
        # `[$__range:]` dos painéis avaliam em minutos cheios no Prometheus da gravação (evaluation_interval 1m).
        for requests in (30, 60, 90, 120, 90, 60, 30):
            load.run(session.api.url, requests=requests, workers=4, progress=False, seed=requests)
            time.sleep(16)
        series = prom.query_range('{job="api-churn",__name__!~".*_created"}', start=started, end=time.time(), step=5)
    finally:
        course.finish()
    families: dict[str, list[str]] = {}
    for s in series:
        name = s["metric"]["__name__"]
        families.setdefault(name, []).extend(f"{name}{_om_labels(s['metric'])} {v!r} {t:.3f}"
                                             for t, v in zip(s["times"], s["values"]))
    lines = [line for name in sorted(families) for line in (f"# TYPE {name} unknown", *families[name])]
    dest.write_text("\n".join(lines + ["# EOF", ""]), encoding="utf-8")
    print(f"Gravadas {len(series)} séries ({len(lines)} linhas) em {dest.relative_to(ROOT)}.")


def _child(flag: str, dest: Path) -> subprocess.CompletedProcess:
    """O kit num processo à parte: KIT_HOME temporário, portas livres, stack nativa (não mexe na sua)."""
    sys.path.insert(0, str(ROOT))
    from kit._hub import NAMES as PORT_VARIABLES  # noqa: PLC0415 (as variáveis de porta da stack, Pushgateway incluso)
    from kit._process import free_port  # noqa: PLC0415 (encanamento do kit: uma porta livre)

    home = Path(tempfile.mkdtemp(prefix="site-previas-"))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_URL") and k != "API_HOST"}
    env.update(KIT_HOME=str(home), STACK_MODE="native", LOG_CONSOLE_LEVEL="WARNING", MPLBACKEND="Agg")
    for name in PORT_VARIABLES:
        env[name] = str(free_port())
    try:
        return subprocess.run([sys.executable, __file__, flag, str(dest)], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def draw_previews(dest: Path) -> None:
    """Roda num processo filho (veja `_child`): desenha cada dashboard com a gravação deslocada para agora."""
    from matplotlib.text import Text

    from kit import dashboards, promlab

    text = RECORDING.read_text(encoding="utf-8")
    stamps = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line and not line.startswith("#")]
    shift, minutes = time.time() - 5 - max(stamps), (max(stamps) - min(stamps)) / 60 + 0.2
    moved = re.sub(r"(?m)^([^#].*) (\d+(?:\.\d+)?)$", lambda m: f"{m[1]} {float(m[2]) + shift:.3f}", text)
    shifted = dest / "previas-agora.om"
    shifted.write_text(moved, encoding="utf-8")
    lab = promlab.RecordedPrometheus(shifted)
    try:
        for uid in dashboards.list_dashboards():
            figure = dashboards.preview(uid, minutes=minutes, base=lab.url, save_to=dest / f"{uid}.png")
            empty = [t for t in figure.findobj(Text) if t.get_text() == "sem dados"]
            if empty:  # o site mostra a prévia assim mesmo, mas quem constrói fica sabendo (e o teste falha)
                print(f"Aviso: {uid} tem {len(empty)} painel(éis) sem dados na prévia; regrave com --gravar.")
    finally:
        lab.stop()
        shifted.unlink()


def previews(dest: Path) -> tuple[dict[str, Path], str]:
    missing = [b for b in ("prometheus", "promtool") if shutil.which(b) is None]
    if missing:
        return {}, (f"Faltou o `{'` e o `'.join(missing)}` na máquina que construiu o site. Instale "
                    "(`sudo apt-get install prometheus`) e rode `make site` de novo.")
    if not RECORDING.exists():
        return {}, ("Falta a gravação `site/previas.om`: refaça com "
                    "`.venv/bin/python scripts/build_site.py --gravar` e rode `make site` de novo.")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    run = _child("--previas", dest)
    found = {p.stem: p for p in sorted(dest.glob("*.png"))}
    print(run.stdout, end="")
    if run.returncode != 0 or not found:
        return found, ("As prévias não foram geradas: "
                       + (run.stderr.strip().splitlines() or ["sem mensagem"])[-1])
    return found, ""


# --- 3. MyST e 4. HTML -----------------------------------------------------------------------------
def check_node() -> None:
    node = shutil.which("node")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout if node else ""
    major = int(re.match(r"v(\d+)", version).group(1)) if version.startswith("v") else 0
    if major < 18:
        raise ErroDoSite("o MyST precisa do Node.js 18 ou mais novo no PATH (encontrado: "
                         f"{version.strip() or 'nenhum'}). Debian/Ubuntu: sudo apt-get install nodejs; "
                         "macOS: brew install node.")


def run_myst(source: Path) -> Path:
    check_node()
    binary = Path(sys.executable).with_name("jupyter-book")
    if not binary.exists():
        raise ErroDoSite("falta o jupyter-book (Jupyter Book 2): rode `make venv-dev`.")
    env = {**os.environ, "JB_ALLOW_NODEENV": "no"}  # nunca baixar um Node.js: sem rede, falharia
    run = subprocess.run([str(binary), "build", "--site"], cwd=source, env=env, capture_output=True, text=True,
                         timeout=300)
    if run.returncode != 0:
        raise ErroDoSite(f"o MyST falhou (jupyter-book build --site):\n{run.stdout}\n{run.stderr}")
    return source / "_build" / "site"


def page_html(title: str, body: str, nav_html: str, actions: str, file: str) -> str:
    return (f'<!doctype html>\n<html lang="pt-BR">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{title} · Monitoramento MLOps</title>\n<link rel="icon" href="data:,">\n'
            f'<link rel="stylesheet" href="static/site.css">\n<link rel="stylesheet" href="static/codigo.css">\n</head>\n<body data-pagina="{file}">\n'
            f'<header class="topo"><a class="marca" href="index.html">Monitoramento MLOps</a>\n'
            f'<div class="busca" role="search"><input id="busca" type="search" autocomplete="off" '
            f'placeholder="Buscar no curso (ex.: histogram_quantile)" aria-label="Buscar no curso">\n'
            f'<ol id="resultados" hidden></ol></div></header>\n'
            f'<div class="layout">\n<nav class="lateral" aria-label="Semanas do curso">{nav_html}</nav>\n'
            f'<main>\n{actions}<h1>{title}</h1>\n{body}\n</main>\n</div>\n'
            f'<footer>Monitoramento MLOps — curso aberto. Construído com o MyST (Jupyter Book 2) a partir do '
            f'repositório; as saídas são as do commit.</footer>\n<script src="static/site.js"></script>\n'
            f'</body>\n</html>\n')


def write_html(built: Path, nav: list[tuple[str, list[str]]], out: Path, root: Path = ROOT) -> list[str]:
    """Escreve uma página por página do MyST; devolve os tipos de nó que o tema não conhece (avisados)."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(built / "public", out / "public")
    shutil.copytree(SITE / "static", out / "static")
    (out / "static" / "codigo.css").write_text(pygments_css(), encoding="utf-8")
    contents = {p.stem: load_json(p) for p in (built / "content").glob("*.json")}
    by_location = {c["location"].lstrip("/"): slug for slug, c in contents.items()}
    pages = {slug: ("index.html" if slug == "index" else f"{slug}.html") for slug in contents}
    repo = repository()
    renderer = Renderer(pages, f"https://github.com/{repo}/blob/main/", {p.name for p in (out / "public").iterdir()})
    nav_parts = []
    for section, files in nav:
        items = "".join(f'<li><a href="{pages[by_location[f]]}">{contents[by_location[f]]["frontmatter"]["title"]}</a></li>'
                        for f in files)
        nav_parts.append(f'<p class="secao">{section}</p><ul>{items}</ul>')
    nav_html = "".join(nav_parts)
    for location, slug in by_location.items():
        page = contents[slug]
        actions = ""
        if location.endswith(".ipynb"):
            download = next((e["url"] for e in page["frontmatter"].get("exports", []) if e.get("format") == "ipynb"), "")
            actions = (f'<div class="acoes"><a class="botao binder" href="{launch_url(repo, location)}" '
                       f'target="_blank" rel="noopener">▶ Abrir no Binder</a>'
                       f'<a class="botao baixar" href="public/{download.lstrip("/")}" download="{Path(location).name}">'
                       f'⤓ Baixar o notebook ({Path(location).name})</a></div>\n')
        body = renderer.render(page["mdast"])
        html_page = page_html(page["frontmatter"]["title"], body, nav_html, actions, pages[slug])
        (out / pages[slug]).write_text(html_page, encoding="utf-8")
    order = {pages[by_location[f]]: i for i, f in enumerate(f for _, files in nav for f in files)}
    index = sorted(search_index(load_json(built / "myst.search.json"), pages),
                   key=lambda entry: order.get(entry["u"].split("#")[0], len(order)))
    (out / "busca.json").write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    # Qual página saiu de qual arquivo do repositório (para quem linka o site e para os testes).
    (out / "paginas.json").write_text(json.dumps({f: pages[by_location[f]] for _, files in nav for f in files},
                                                 ensure_ascii=False, indent=1), encoding="utf-8")
    return sorted(renderer.unknown)


def build(folder: Path = BUILD, with_previews: bool = True) -> Path:
    """Constrói em `folder` (fonte/, previas/, html/) e devolve a pasta do site (`folder/html`)."""
    started, out = time.monotonic(), folder / "html"
    if with_previews:
        found, problem = previews(folder / "previas")
    else:
        found, problem = {}, "Este site foi construído sem as prévias (`--sem-previas`)."
    print(f"Prévias dos dashboards: {len(found)} ({time.monotonic() - started:.0f} s)" + (f" — {problem}" if problem else ""))
    nav = stage(folder / "fonte", found, problem)
    built = run_myst(folder / "fonte")
    unknown = write_html(built, nav, out)
    if unknown:
        print(f"Aviso: tipos de nó do MyST sem aparência própria (mostrados como texto): {', '.join(unknown)}")
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"Site pronto: {len(list(out.glob('*.html')))} páginas em {shown} ({time.monotonic() - started:.0f} s). "
          f"Para ver: python -m http.server -d {shown} 8000 e abra http://127.0.0.1:8000")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pasta", type=Path, default=BUILD,
                        help="onde construir (fonte/, previas/ e o site em html/); padrão: site/_build")
    parser.add_argument("--sem-previas", action="store_true", help="não desenha as prévias dos dashboards")
    parser.add_argument("--gravar", action="store_true",
                        help="refaz site/previas.om (a execução curta que as prévias desenham; ≈ 2 min)")
    parser.add_argument("--previas", type=Path, help=argparse.SUPPRESS)  # processo filho: desenha
    parser.add_argument("--gravar-em", type=Path, help=argparse.SUPPRESS)  # processo filho: grava
    args = parser.parse_args(argv)
    if args.previas:
        draw_previews(args.previas)
        return 0
    if args.gravar_em:
        record(args.gravar_em)
        return 0
    if args.gravar:
        run = _child("--gravar-em", RECORDING)
        print(run.stdout.strip() or run.stderr.strip())
        return run.returncode
    build(args.pasta.resolve(), with_previews=not args.sem_previas)
    return 0


if __name__ == "__main__":
    sys.exit(main())
