"""MyST AST → HTML estático: o tema do site do curso (usado por scripts/build_site.py).

O MyST (Jupyter Book 2) lê os notebooks e os .md e grava, em `_build/site/`, a árvore de cada página
(`content/<slug>.json`, com as saídas das células), o índice de busca (`myst.search.json`), a navegação
(`config.json`) e os arquivos públicos (figuras, os .ipynb para baixar). O tema oficial (book-theme) é um
app Node baixado do GitHub na primeira construção — sem rede não há como obtê-lo. Este módulo faz o papel
dele: escreve uma página HTML por página do MyST, com links relativos (o site funciona em qualquer
subpasta, como a do GitHub Pages) e nenhum recurso externo (nada de CDN, fontes ou selos remotos).
"""
from __future__ import annotations

import html
import json
import re
import unicodedata
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


def github_slug(text: str) -> str:
    """A âncora que o GitHub dá a um título ('## 3. Interpretando as métricas' → '3-interpretando-as-métricas'):
    os tutoriais usam esses links entre si."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def plain(node: dict) -> str:
    if "value" in node and not node.get("children"):
        return str(node["value"])
    return "".join(plain(child) for child in node.get("children", []) or [])


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


class Renderer:
    """Uma página: `render(mdast)` devolve o HTML do conteúdo. `links` traduz as URLs do MyST."""

    def __init__(self, pages: dict[str, str], github_blob: str, public: set[str]):
        self.pages = pages              # slug → arquivo .html
        self.github_blob = github_blob  # https://github.com/dono/repo/blob/main/ (arquivos que não viram página)
        self.public = public            # nomes dos arquivos em public/
        self.unknown: set[str] = set()

    # --- URLs -------------------------------------------------------------------------------
    def url(self, node: dict) -> str:
        url = node.get("url", "")
        if re.match(r"^[a-z]+:", url) or url.startswith("#"):
            return url
        path, _, anchor = url.partition("#")
        anchor = f"#{anchor}" if anchor else ""
        slug = path.strip("/")
        if slug in self.pages:
            return self.pages[slug] + anchor
        if slug in self.public:
            return f"public/{slug}"
        source = node.get("urlSource", url).lstrip("./")
        return self.github_blob + source  # um arquivo do repositório que não é página do site

    # --- nós ----------------------------------------------------------------------------------
    def render(self, node: dict) -> str:
        method = getattr(self, "n_" + node["type"].replace("-", "_"), None)
        if method is None:
            self.unknown.add(node["type"])
            return self.children(node) if node.get("children") else html.escape(str(node.get("value", "")))
        return method(node)

    def children(self, node: dict) -> str:
        return "".join(self.render(child) for child in node.get("children", []) or [])

    def wrap(self, tag: str, node: dict, attrs: str = "") -> str:
        return f"<{tag}{attrs}>{self.children(node)}</{tag}>"

    n_root = n_block = children

    def n_text(self, node):
        return html.escape(node["value"])

    def n_paragraph(self, node):
        return self.wrap("p", node)

    def n_emphasis(self, node):
        return self.wrap("em", node)

    def n_strong(self, node):
        return self.wrap("strong", node)

    def n_underline(self, node):
        return self.wrap("u", node)

    def n_delete(self, node):
        return self.wrap("del", node)

    def n_subscript(self, node):
        return self.wrap("sub", node)

    def n_superscript(self, node):
        return self.wrap("sup", node)

    def n_inlineCode(self, node):
        return f"<code>{html.escape(node['value'])}</code>"

    def n_inlineMath(self, node):
        return f'<code class="math">{html.escape(node["value"])}</code>'

    def n_math(self, node):
        return f'<pre class="math">{html.escape(node["value"])}</pre>'

    def n_break(self, node):
        return "<br>"

    def n_thematicBreak(self, node):
        return "<hr>"

    def n_blockquote(self, node):
        return self.wrap("blockquote", node)

    def n_comment(self, node):
        return ""

    def n_html(self, node):
        return node["value"]

    def n_heading(self, node):
        depth = max(2, node.get("depth", 2))  # o h1 é o título da página
        ids = [i for i in (node.get("html_id"), node.get("identifier"), github_slug(plain(node))) if i]
        first, extra = ids[0], "".join(f'<span id="{html.escape(i)}"></span>' for i in dict.fromkeys(ids[1:])
                                       if i != ids[0])
        return (f'<h{depth} id="{html.escape(first)}">{extra}{self.children(node)}'
                f'<a class="ancora" href="#{html.escape(first)}" aria-label="link para esta seção">#</a></h{depth}>')

    def n_link(self, node):
        url = self.url(node)
        external = re.match(r"^https?:", url) is not None
        attrs = f' href="{html.escape(url)}"' + (' target="_blank" rel="noopener"' if external else "")
        return self.wrap("a", node, attrs)

    n_crossReference = n_link

    def n_list(self, node):
        if node.get("ordered"):
            start = node.get("start", 1)
            return self.wrap("ol", node, f' start="{start}"' if start not in (None, 1) else "")
        return self.wrap("ul", node)

    def n_listItem(self, node):
        return self.wrap("li", node)

    def n_table(self, node):
        return f'<div class="tabela">{self.wrap("table", node)}</div>'

    def n_tableRow(self, node):
        return self.wrap("tr", node)

    def n_tableCell(self, node):
        tag = "th" if node.get("header") else "td"
        align = f' style="text-align:{node["align"]}"' if node.get("align") else ""
        return self.wrap(tag, node, align)

    def n_image(self, node):
        alt = html.escape(node.get("alt", "") or node.get("title", "") or "")
        return f'<img src="{html.escape(self.url(node))}" alt="{alt}">'

    def n_container(self, node):
        return self.wrap("figure", node)

    def n_caption(self, node):
        return self.wrap("figcaption", node)

    def n_legend(self, node):
        return self.children(node)

    def n_admonition(self, node):
        kind = html.escape(node.get("kind", "note"))
        return self.wrap("aside", node, f' class="aviso aviso-{kind}"')

    def n_admonitionTitle(self, node):
        return self.wrap("p", node, ' class="aviso-titulo"')

    def n_footnoteReference(self, node):
        label = html.escape(str(node.get("label", node.get("identifier", ""))))
        return f'<sup><a href="#nota-{label}">{label}</a></sup>'

    def n_footnoteDefinition(self, node):
        label = html.escape(str(node.get("label", node.get("identifier", ""))))
        return f'<div class="nota" id="nota-{label}"><sup>{label}</sup> {self.children(node)}</div>'

    def n_code(self, node):
        code, lang = node.get("value", ""), (node.get("lang") or "text").lower()
        try:
            lexer = get_lexer_by_name({"promql": "text", "ipython3": "python"}.get(lang, lang))
        except ClassNotFound:
            lexer = get_lexer_by_name("text")
        body = highlight(code, lexer, HtmlFormatter(nowrap=True))
        kind = "celula" if node.get("executable") else "codigo"
        return (f'<div class="{kind}"><button type="button" class="copiar" title="copiar o código">copiar</button>'
                f'<pre><code class="language-{html.escape(lang)}">{body}</code></pre></div>')

    def n_outputs(self, node):
        inner = "".join(self.render(child) for child in node.get("children", []))
        return f'<div class="saidas">{inner}</div>' if inner else ""

    def n_output(self, node):
        out = node.get("jupyter_data") or {}
        kind = out.get("output_type")
        if kind == "stream":
            name = "erro" if out.get("name") == "stderr" else "texto"
            return f'<pre class="saida saida-{name}">{html.escape(ANSI.sub("", text_of(out.get("text"))))}</pre>'
        if kind == "error":
            trace = ANSI.sub("", "\n".join(out.get("traceback", [])))
            return f'<pre class="saida saida-erro">{html.escape(trace)}</pre>'
        data = out.get("data") or {}
        for mime in IMAGE_TYPES:
            if mime in data and isinstance(data[mime], dict) and data[mime].get("path"):
                src = self.url({"url": data[mime]["path"]})
                return f'<figure class="saida saida-figura"><img src="{html.escape(src)}" alt="figura da célula"></figure>'
        if "text/html" in data:
            return f'<div class="saida saida-html">{content_of(data["text/html"])}</div>'
        if "text/plain" in data:
            return f'<pre class="saida">{html.escape(ANSI.sub("", content_of(data["text/plain"])))}</pre>'
        return ""


def text_of(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def content_of(value) -> str:
    if isinstance(value, dict):
        return text_of(value.get("content", ""))
    return text_of(value)


def search_index(myst_search: dict, pages: dict[str, str]) -> list[dict]:
    """O índice de busca do MyST (myst.search.json) com as URLs do site: [{t: título, s: seção, u: url, c: texto}]."""
    entries = []
    for record in myst_search.get("records", []):
        slug, _, anchor = record.get("url", "").strip("/").partition("#")
        if slug not in pages:
            continue
        levels = record.get("hierarchy", {})
        names = [levels[k] for k in sorted(levels) if levels.get(k)]
        entries.append({"t": names[0] if names else "", "s": " › ".join(names[1:]),
                        "u": pages[slug] + (f"#{anchor}" if anchor else (f"#{record['id']}" if record.get("id") else "")),
                        "c": record.get("content", "")})
    return entries


def pygments_css() -> str:
    return HtmlFormatter(style="friendly").get_style_defs("pre code")


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
