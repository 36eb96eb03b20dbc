"""O site do curso (make site, scripts/build_site.py): construído uma vez por módulo a partir de uma cópia dos
arquivos versionados (como um clone novo: nada de data/, models/, .venv nem de saídas locais), servido por um
`http.server` no loopback e aberto no Chromium do Debian (Playwright, como tests/test_browser.py).

Confere: cada aula, exercício e texto de referência vira página; toda página abre sem erro no console; todo link
interno (com âncora) e toda imagem resolvem; cada aula mostra as figuras do notebook do commit; a busca acha
`histogram_quantile` na aula da semana 3; Binder e download em toda aula; as prévias dos dashboards; e nada de
`solutions/` (marcas do nbgrader, regiões de solução, conferências escondidas) aparece no site.
Capturas em test-artifacts/site/.
"""
from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests._tools import require_binary

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402

slow = pytest.mark.slow  # os testes que constroem o site e abrem o navegador; os de baixo do arquivo são rápidos
ARTIFACTS = ROOT / "test-artifacts" / "site"
CHROMIUM = "/usr/bin/chromium"
NBGRADER_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
REGION = re.compile(r"^[ \t]*#+ BEGIN (SOLUTION|HIDDEN TESTS)[^\n]*\n(.*?)\n[ \t]*#+ END \1", re.S | re.M)


def lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """`scripts/build_site.py` numa cópia dos arquivos versionados (o que um clone novo tem)."""
    require_binary("node", "sudo apt-get install nodejs (Node.js 18 ou mais novo; o MyST roda nele)")
    require_binary("prometheus", "sudo apt-get install prometheus (as prévias dos dashboards)")
    require_binary("promtool", "sudo apt-get install prometheus (as prévias dos dashboards)")
    tmp = tmp_path_factory.mktemp("site")
    clone = tmp / "clone"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    run = subprocess.run([sys.executable, "scripts/build_site.py", "--pasta", str(tmp / "build")], cwd=clone,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"make site falhou:\n{run.stdout}\n{run.stderr}"
    assert "Prévias dos dashboards: 4" in run.stdout and "sem dados" not in run.stdout, run.stdout
    return tmp / "build" / "html"


@pytest.fixture(scope="module")
def pages(site) -> dict[str, str]:
    """arquivo do repositório → página do site (paginas.json, escrito pela construção)."""
    return json.loads((site / "paginas.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def served(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    require_binary("chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(f"console: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(f"javascript: {e}"))
    tab.on("response", lambda r: tab.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    tab.on("requestfailed", lambda r: tab.problems.append(f"falhou: {r.url}"))
    yield tab
    context.close()


@slow
def test_every_lesson_exercise_and_reference_text_is_a_page(site, pages):
    expected = [f"notebooks/{n.name}" for n in lessons()]
    expected += [f"exercises/{e.name}" for n in lessons() for e in (ROOT / "exercises").glob(f"ex{n.name[:2]}_*.ipynb")]
    expected += ["tutorial/MONITORING.md", "tutorial/PROMETHEUS.md", "tutorial/GRAFANA.md",
                 "monitoring/queries_exemplos.md", "index.md", "dashboards.md"]
    assert sorted(pages) == sorted(expected)
    assert pages["index.md"] == "index.html"
    landing = (site / "index.html").read_text(encoding="utf-8")
    for lesson in lessons():  # o mapa do curso liga cada aula
        assert f'href="{pages[f"notebooks/{lesson.name}"]}"' in landing, lesson.name
    assert '<html lang="pt-BR">' in landing


def _ids(text: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', text))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name) and tag in ("a", "img", "link", "script"):
                self.urls.append(attrs[name])


@slow
def test_every_internal_link_and_image_resolves(site):
    """Todo href/src que não é http(s) aponta para um arquivo do site, e a âncora existe na página."""
    htmls = {p.name: p.read_text(encoding="utf-8") for p in site.glob("*.html")}
    broken = []
    for name, text in htmls.items():
        parser = _Links()
        parser.feed(text)
        for url in parser.urls:
            parts = urlsplit(html.unescape(url))
            if parts.scheme in ("http", "https", "mailto", "data"):
                continue
            target = unquote(parts.path) or name
            if not (site / target).is_file():
                broken.append(f"{name}: {url} (arquivo não existe)")
            elif parts.fragment and target.endswith(".html") and unquote(parts.fragment) not in _ids(htmls[target]):
                broken.append(f"{name}: {url} (âncora não existe)")
    assert not broken, "\n".join(broken)


@slow
def test_every_page_loads_without_console_errors_and_shows_its_images(site, served, page):
    for html_file in sorted(site.glob("*.html")):
        page.goto(served + html_file.name)
        page.wait_for_load_state("load")  # sem imagens preguiçosas: "load" já as inclui
        missing = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                                ".map(i => i.getAttribute('src'))")
        assert not missing, f"{html_file.name}: imagens que não carregaram: {missing}"
        assert page.locator("h1").count() == 1, html_file.name
    assert not page.problems, "\n".join(page.problems)


def _figures(notebook: Path) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(1 for cell in cells for out in cell.get("outputs", []) if "image/png" in out.get("data", {}))


@slow
def test_each_lesson_shows_the_figures_of_its_committed_notebook(site, served, pages, page):
    for lesson in lessons():
        expected = _figures(lesson)
        page.goto(served + pages[f"notebooks/{lesson.name}"])
        page.wait_for_load_state("load")  # sem imagens preguiçosas: "load" já as inclui
        shown = page.evaluate("() => [...document.querySelectorAll('.saida-figura img')]"
                              ".filter(i => i.complete && i.naturalWidth > 0).length")
        assert shown == expected, f"{lesson.name}: {shown} figuras na página, {expected} no notebook"
    assert not page.problems, "\n".join(page.problems)


@slow
def test_lessons_have_binder_and_download_links(site, pages):
    repo = re.search(r'binder-repo = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))[1]
    for source, html_file in pages.items():
        if not source.endswith(".ipynb"):
            continue
        text = (site / html_file).read_text(encoding="utf-8")
        binder = f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{source}"
        assert f'href="{binder}"' in text, f"{html_file}: sem o botão do Binder para {source}"
        download = re.search(r'href="(public/[^"]+\.ipynb)" download="([^"]+)"', text)
        assert download and download[2] == Path(source).name, f"{html_file}: sem o link de download"
        offered = json.loads((site / download[1]).read_text(encoding="utf-8"))
        original = json.loads((ROOT / source).read_text(encoding="utf-8"))
        assert len(offered["cells"]) == len(original["cells"]), source


@slow
def test_search_finds_histogram_quantile_in_week_3(served, pages, page):
    week3 = pages[next(f"notebooks/{n.name}" for n in lessons() if n.name.startswith("03_"))]
    page.goto(served + "index.html")
    page.fill("#busca", "histogram_quantile")
    results = page.locator("#resultados a")
    results.first.wait_for(timeout=10_000)
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(h.split("#")[0] == week3 for h in hrefs), hrefs
    page.locator(f'#resultados a[href^="{week3}"]').first.click()
    page.wait_for_load_state("load")  # sem imagens preguiçosas: "load" já as inclui
    assert page.url.split("#")[0].endswith(week3)
    assert "histogram_quantile" in page.locator("main").inner_text()
    page.fill("#busca", "xyzzy-nada")  # e quando não acha, diz o que tentar
    page.locator("#resultados li", has_text="Nada encontrado").wait_for(timeout=10_000)
    assert not page.problems, "\n".join(page.problems)


@slow
def test_dashboard_previews_are_images_labelled_as_previews(site, served, pages, page):
    uids = sorted(p.stem for p in (ROOT / "monitoring/grafana/dashboards").glob("*.json"))
    page.goto(served + pages["dashboards.md"])
    page.wait_for_load_state("load")  # sem imagens preguiçosas: "load" já as inclui
    text = page.locator("main").inner_text()
    assert "prévias" in text.lower() and "execução curta" in text
    shown = page.evaluate("() => [...document.querySelectorAll('main img')].filter(i => i.naturalWidth > 600).length")
    assert shown == len(uids) == 4
    for uid in uids:
        assert f"Dashboard {uid}" in text


@slow
def test_screenshots_of_landing_and_a_lesson(served, pages, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(served + "index.html")
    page.wait_for_load_state("load")  # sem imagens preguiçosas: "load" já as inclui
    page.screenshot(path=str(ARTIFACTS / "mapa-do-curso.png"), full_page=True)
    week3 = next(f"notebooks/{n.name}" for n in lessons() if n.name.startswith("03_"))
    page.goto(served + pages[week3])
    page.wait_for_load_state("load")  # sem imagens preguiçosas: "load" já as inclui
    page.screenshot(path=str(ARTIFACTS / "aula-03.png"))
    assert (ARTIFACTS / "mapa-do-curso.png").stat().st_size > 20_000
    assert (ARTIFACTS / "aula-03.png").stat().st_size > 20_000


# --- nada de solutions/ no site ----------------------------------------------------------------------
class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def site_text(folder: Path) -> str:
    """Todo o texto que o site publica: o texto das páginas (sem tags), os JSON e os notebooks para baixar."""
    chunks = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".html":
            parser = _Text()
            parser.feed(path.read_text(encoding="utf-8"))
            chunks += [html.unescape("".join(parser.parts)), path.read_text(encoding="utf-8")]
        elif path.suffix in (".json", ".ipynb"):
            chunks += _strings(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix in (".js", ".css", ".md", ".txt"):
            chunks.append(path.read_text(encoding="utf-8"))
    return "\n".join(chunks)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def solution_regions() -> list[str]:
    regions = []
    for notebook in sorted((ROOT / "solutions").glob("ex*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            regions += [m[2] for m in REGION.finditer("".join(cell["source"]))]
    return regions


def _public_sources() -> str:
    """O texto das fontes públicas do site: células das aulas e dos enunciados, tutoriais e consultas."""
    chunks = [p.read_text(encoding="utf-8") for p in [*(ROOT / "tutorial").glob("*.md"), ROOT / "monitoring/queries_exemplos.md"]]
    for notebook in [*lessons(), *(ROOT / "exercises").glob("ex*.ipynb")]:
        chunks += ["".join(c["source"]) for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]]
    return _squash("\n".join(chunks))


def leaks(text: str) -> list[str]:
    """O que de `solutions/` aparece em `text`: marcas do nbgrader, regiões inteiras e as linhas longas (≥ 30
    caracteres) das regiões que não estão em nenhuma fonte pública (uma linha igual numa aula não é vazamento)."""
    public, squashed = _public_sources(), _squash(text)
    found = [m for m in NBGRADER_MARKERS if m in text]
    for region in solution_regions():
        if _squash(region) in squashed:
            found.append(f"região inteira: {region[:80]!r}")
            continue
        for line in map(_squash, region.splitlines()):
            if len(line) >= 30 and line in squashed and line not in public:
                found.append(f"linha de solução: {line[:80]!r}")
    return found


@slow
def test_no_hidden_check_or_solution_from_solutions_appears_in_the_site(site):
    assert len(solution_regions()) >= 12  # o teste lê mesmo as regiões (se o formato mudar, ele avisa)
    assert leaks(site_text(site)) == []


@slow
def test_the_leak_check_catches_a_solution(site, tmp_path):
    """O detector acima pega o vazamento quando há um: o site com um enunciado trocado pela solução."""
    solution = sorted((ROOT / "solutions").glob("ex*.ipynb"))[0]
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    shutil.copy2(solution, copy / "public" / "vazou.ipynb")
    found = leaks(site_text(copy))
    assert any("região inteira" in f for f in found) and "BEGIN SOLUTION" in found


# --- rápidos: a fonte do site (sem MyST nem navegador) ---------------------------------------------------
def _notebook(*cells: tuple[str, str]) -> str:
    return json.dumps({"cells": [{"cell_type": kind, "metadata": {}, "source": src, **({"outputs": [],
                       "execution_count": None} if kind == "code" else {})} for kind, src in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_strip_solution_markers_keeps_the_reference_solution_of_a_lesson():
    notebook = json.loads(_notebook(("markdown", "## Sua vez\n### BEGIN SOLUTION não é código"),
                                    ("code", "x = 1\n    ### BEGIN SOLUTION\n    y = x + 1\n    ### END SOLUTION\nprint(y)\n")))
    cells = build_site.strip_solution_markers(notebook)["cells"]
    assert cells[1]["source"] == "x = 1\n    y = x + 1\nprint(y)"
    assert cells[0]["source"] == "## Sua vez\n### BEGIN SOLUTION não é código"  # prosa não é mexida


@pytest.fixture
def small_repo(tmp_path) -> Path:
    """Um repositório mínimo com as aulas 01 e 07 (a semana 7 sem exercício e fora da tabela do README)."""
    for path in (*build_site.REFERENCE, *(p.relative_to(ROOT).as_posix()
                                          for p in (ROOT / "monitoring/grafana/dashboards").glob("*.json"))):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, tmp_path / path)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "exercises").mkdir()
    (tmp_path / "notebooks/01_preparacao.ipynb").write_text(_notebook(("markdown", "# Semana 1 — Preparação")))
    (tmp_path / "notebooks/07_slo_e_escala.ipynb").write_text(_notebook(("markdown", "# Semana 7 — SLOs e escala")))
    (tmp_path / "exercises/ex01_limiar.ipynb").write_text(_notebook(("code", "# SEU CÓDIGO AQUI")))
    (tmp_path / "README.md").write_text("| 1 | [01 — Preparação](notebooks/01_preparacao.ipynb) | preparar | ambiente |\n")
    return tmp_path


def test_course_map_and_navigation_follow_whatever_lessons_exist(small_repo, tmp_path):
    table = build_site.course_map(small_repo)
    assert "| 1 | [Preparação](notebooks/01_preparacao.ipynb) | preparar (entregável: ambiente) | " \
           "[ex01_limiar](exercises/ex01_limiar.ipynb) |" in table
    assert "| 7 | [SLOs e escala](notebooks/07_slo_e_escala.ipynb) |  | — |" in table
    nav = dict(build_site.stage(tmp_path / "fonte", {}, "sem prévias", small_repo))
    assert nav["Semana 1"] == ["notebooks/01_preparacao.ipynb", "exercises/ex01_limiar.ipynb"]
    assert nav["Semana 7"] == ["notebooks/07_slo_e_escala.ipynb"]
    assert "SLOs e escala" in (tmp_path / "fonte/index.md").read_text(encoding="utf-8")
    toc = json.loads((tmp_path / "fonte/myst.yml").read_text(encoding="utf-8"))["project"]["toc"]
    assert {"title": "Semana 7", "children": [{"file": "notebooks/07_slo_e_escala.ipynb"}]} in toc


def test_exercise_with_nbgrader_marks_stops_the_build_with_a_message(small_repo, tmp_path):
    (small_repo / "exercises/ex01_limiar.ipynb").write_text(_notebook(("code", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION")))
    with pytest.raises(SystemExit, match="make exercises"):
        build_site.stage(tmp_path / "fonte", {}, "", small_repo)
