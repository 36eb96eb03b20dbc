"""Prévia dos dashboards do Grafana em matplotlib — para quem está sem Grafana.

    from kit import dashboards
    dashboards.list_dashboards()                 # ['api-health', 'business-churn', ...]
    dashboards.preview("api-health")             # figura com os painéis, dados ao vivo
    dashboards.preview("overview", minutes=30, save_to="overview.png")
    dashboards.panel_queries(dashboards.load("ml-metrics"))   # as consultas PromQL de cada painel

Lemos o MESMO JSON que o Grafana provisiona (monitoring/grafana/dashboards/<uid>.json),
trocamos as variáveis do Grafana ($__rate_interval, $__range, $version...) por valores
fixos e rodamos cada consulta no Prometheus. Cada tipo de painel (timeseries, stat,
gauge, ...) ganha um desenho parecido — mas é só uma PRÉVIA: o painel de verdade está no Grafana.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import matplotlib

if ("matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND")
        and sys.platform.startswith("linux") and not os.environ.get("DISPLAY")):
    matplotlib.use("Agg")  # sem tela (servidor, CI). No Jupyter o MPLBACKEND já vem definido (inline).

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle, Wedge  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from kit import prom  # noqa: E402
from kit._grafana_look import COLORS, GREY, _center, _color, _display, _fit, _fixed, _fmt, _legend, _square  # noqa: E402
from kit.config import settings  # noqa: E402

BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000"}  # $__range = a janela
PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0"]  # do Grafana
FIG_W, ROW_H, HEAD = 16.0, 0.42, 0.8  # polegadas: largura, 1 linha do grid, cabeçalho
DASHBOARD_DIR = settings.root / "monitoring" / "grafana" / "dashboards"


def list_dashboards() -> list[str]:
    """Os uids dos dashboards provisionados (um arquivo <uid>.json cada)."""
    return sorted(p.stem for p in DASHBOARD_DIR.glob("*.json"))


def load(uid: str) -> dict:
    """O JSON do dashboard `uid`, exatamente como o Grafana o recebe."""
    if uid not in list_dashboards():
        raise ValueError(f"Dashboard '{uid}' não encontrado em {DASHBOARD_DIR}. "
                         f"Disponíveis: {', '.join(list_dashboards())}.")
    return json.loads((DASHBOARD_DIR / f"{uid}.json").read_text(encoding="utf-8"))


def _panels(dashboard: dict) -> list[dict]:
    """Os painéis (entrando nas linhas), na ordem do grid: de cima para baixo, da esquerda para a direita."""
    flat = [q for p in dashboard.get("panels", []) for q in (p.get("panels", []) if p.get("type") == "row" else [p])]
    return sorted(flat, key=lambda p: (p.get("gridPos", {}).get("y", 0), p.get("gridPos", {}).get("x", 0)))


def _config(panel: dict, ref: str | None = None, name: str | None = None) -> dict:
    """fieldConfig.defaults + os overrides que valem para esta consulta (refId) ou série (nome)."""
    config = dict(panel.get("fieldConfig", {}).get("defaults", {}))
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        matcher = override.get("matcher", {})
        if (matcher.get("id"), matcher.get("options")) in (("byFrameRefID", ref), ("byName", name)):
            config.update({prop["id"]: prop.get("value") for prop in override.get("properties", [])})
    return config


def _substitute(expr: str, dashboard: dict, minutes: float) -> str:
    """Troca as variáveis do Grafana por valores fixos; as do dashboard viram "todas" (.*)."""
    secs = int(minutes * 60)
    values = dict(BUILTINS, __range=f"{secs // 60}m" if secs % 60 == 0 else f"{secs}s", __range_s=str(secs),
                  __range_ms=str(secs * 1000))
    for var in dashboard.get("templating", {}).get("list", []):
        current = (var.get("current") or {}).get("value")
        fixed = var.get("type") in ("interval", "constant", "textbox") and isinstance(current, str)
        values[var["name"]] = current if fixed else var.get("allValue") or ".*"
        # label="$var" com "todas" só funciona como regex: label=~".*"
        expr = re.sub(r'(\w+)\s*(=~|!~|!=|=)\s*"\$\{?' + re.escape(var["name"]) + r'(?::\w+)?\}?"',
                      lambda m: f'{m[1]}{"!~" if m[2][0] == "!" else "=~"}"{values[var["name"]]}"', expr)
    # $1, $2... são do PromQL (label_replace), não do Grafana: ficam como estão
    return re.sub(r"\$\{?(\w+)(?::\w+)?\}?", lambda m: values.get(m[1], m[0] if m[1].isdigit() else ".*"), expr)


def _targets(panel: dict, dashboard: dict, minutes: float) -> list[dict]:
    return [{"panel": panel.get("title", ""), "type": panel.get("type"), "refId": t.get("refId", ""),
             "expr": _substitute(t["expr"], dashboard, minutes), "legend": t.get("legendFormat", ""),
             "unit": _config(panel, t.get("refId")).get("unit")} for t in panel.get("targets", []) if t.get("expr")]


def panel_queries(dashboard: dict | str, minutes: float = 15) -> list[dict]:
    """Uma entrada por consulta de painel: panel, type, refId, expr (já sem variáveis), legend, unit."""
    dashboard = load(dashboard) if isinstance(dashboard, str) else dashboard
    return [q for panel in _panels(dashboard) for q in _targets(panel, dashboard, minutes)]


# --- um desenho por tipo de painel ----------------------------------------------------------
def _no_data(ax, targets: list[dict], w_in: float) -> None:
    offsets = [m for t in targets for m in re.findall(r"offset\s+(\w+)", t["expr"])]
    hint = (f"o Prometheus ainda não tem histórico suficiente (offset {offsets[0]})"
            if offsets and all("offset" in t["expr"] for t in targets)
            else "nenhuma série: a API está sendo raspada? rode python -m kit doctor")
    ax.set_axis_off()
    _center(ax, "sem dados", size=15, y=0.6)
    _center(ax, textwrap.fill(hint, max(20, int(w_in * 11))), size=8, y=0.32)


def _timeseries(ax, panel, targets, minutes, base, end, w_in) -> None:
    drawn, missing, config = 0, [], _config(panel)
    ax.set_prop_cycle(color=PALETTE)
    for t in targets:
        series = prom.query_range(t["expr"], minutes=minutes, base=base, end=end)
        missing += [] if series else [t]
        for s in series:
            name = _legend(t["legend"], s["metric"], t["refId"])
            times = [datetime.fromtimestamp(x) for x in s["times"]]
            line, = ax.plot(times, s["values"], label=name, lw=1.6, color=_fixed(_config(panel, t["refId"], name)))
            ax.fill_between(times, s["values"], color=line.get_color(), alpha=0.08)
            drawn += 1
    if not drawn:
        return _no_data(ax, targets, w_in)
    for t in missing:  # ex.: "1 h atrás" (offset 1h) antes de haver 1 h de histórico
        ax.plot([], [], ls=":", color=GREY, label=f"{re.sub(r'{{.*?}}', '', t['legend']) or t['refId']}: sem dados")
    ax.set_ylim(bottom=config.get("min"), top=config.get("max"))
    limits = ax.get_ylim()
    if (config.get("custom") or {}).get("thresholdsStyle", {}).get("mode", "off") != "off":
        for step in config.get("thresholds", {}).get("steps", []):
            if step.get("value") is not None:
                ax.axhline(step["value"], ls="--", lw=1, color=_color(step["color"]))
    ax.set_ylim(limits)  # como no Grafana: a linha do limiar não muda a escala
    ax.set_xlim(datetime.fromtimestamp(end - minutes * 60), datetime.fromtimestamp(end))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=max(3, int(w_in / 1.1))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M" if minutes > 5 else "%H:%M:%S"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt(v, config.get("unit"))))
    ax.grid(alpha=0.3)
    entries, cols = drawn + len(missing), max(1, int(w_in / 1.4))
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=min(cols, entries))
    extra = (math.ceil(entries / cols) - 1) * 0.16 / ax.figure.get_figheight()  # legenda em 2+ linhas: gráfico sobe
    pos = ax.get_position()
    ax.set_position((pos.x0, pos.y0 + extra, pos.width, pos.height - extra))


def _stat(ax, panel, items, w_in, h_in) -> None:
    options, n = panel.get("options", {}), len(items)
    mode, text_mode = options.get("colorMode", "value"), options.get("textMode", "auto")
    for i, (name, v, config) in enumerate(items):
        shown, color = _display(config, v)
        if mode == "background":
            ax.add_patch(Rectangle((i / n + 0.01, 0.03), 1 / n - 0.02, 0.94, color=color, transform=ax.transAxes))
        fg = "white" if mode == "background" else color if mode == "value" else "#222222"
        if text_mode == "name":
            big, small = name, None
        else:
            big, small = shown, name if text_mode == "value_and_name" or (text_mode == "auto" and n > 1) else None
        ax.text((i + 0.5) / n, 0.45, big, ha="center", va="center", color=fg, fontweight="bold",
                fontsize=_fit(big, w_in / n, h_in), transform=ax.transAxes)
        if small:
            ax.text((i + 0.5) / n, 0.83, small, ha="center", va="center", color=fg,
                    fontsize=_fit(small, w_in / n, h_in, 10), transform=ax.transAxes)


def _gauge(ax, panel, items, w_in, h_in) -> None:
    for i, (name, v, config) in enumerate(items):
        shown, color = _display(config, v)
        steps, lo, unit = (config.get("thresholds") or {}).get("steps", []), config.get("min", 0), config.get("unit")
        hi = config.get("max") or max([v * 1.25 if math.isfinite(v) else 1]
                                      + [s["value"] * 1.25 for s in steps if s.get("value")])
        angle = lambda x: 180 - 180 * min(max((x - lo) / ((hi - lo) or 1), 0), 1)  # noqa: E731
        cx = 2.6 * i + 1.3
        ax.add_patch(Wedge((cx, 0), 1, 0, 180, width=0.28, color="#e9e9e9"))
        ax.add_patch(Wedge((cx, 0), 1, angle(v) if math.isfinite(v) else 180, 180, width=0.28, color=color))
        for j, step in enumerate(steps):  # a faixa fina dos limiares, como no Grafana
            stop = steps[j + 1]["value"] if j + 1 < len(steps) else hi
            ax.add_patch(Wedge((cx, 0), 1.1, angle(stop), angle(step.get("value") or lo), width=0.06,
                               color=_color(step["color"])))
        ax.text(cx, 0.2, shown, ha="center", va="center", color=color, fontweight="bold",
                fontsize=_fit(shown, w_in / len(items) * 0.5, h_in * 0.5, 24))
        for x, text in ((cx - 0.86, _fmt(lo, unit)), (cx + 0.86, _fmt(hi, unit)), (cx, name if len(items) > 1 else "")):
            ax.text(x, -0.14, text, ha="center", va="center", color=GREY, fontsize=7)
    _square(ax, (0, 2.6 * len(items)), (-0.35, 1.15), w_in, h_in)


def _bars(ax, panel, items) -> None:
    """bargauge (e barchart): uma barra horizontal por série, com fundo até o máximo e a cor do limiar."""
    values = [v if math.isfinite(v) else 0 for _, v, _ in items]
    lo, hi = items[0][2].get("min", 0), max([c.get("max") or 0 for _, _, c in items] + values) or 1
    for i, (name, v, config) in enumerate(items):
        shown, color = _display(config, v)
        ax.barh(i, hi - lo, left=lo, color="#f0f0f0", height=0.7)  # o fundo: até o máximo do painel
        ax.barh(i, min(values[i], hi) - lo, left=lo, color=color, height=0.7)
        ax.text(lo + (hi - lo) * 1.2, i, shown, ha="right", va="center", fontsize=8, fontweight="bold", color=color)
    ax.set_yticks(range(len(items)), [name for name, _, _ in items], fontsize=8)
    ax.set(xlim=(lo, lo + (hi - lo) * 1.21), ylim=(max(len(items), 4) - 0.5, -0.5), xticks=[])  # 1ª no topo
    for spine in ax.spines.values():
        spine.set_visible(False)


def _piechart(ax, panel, items, w_in, h_in) -> None:
    values = [max(v, 0) if math.isfinite(v) else 0 for _, v, _ in items]
    if sum(values) <= 0:
        return _center(ax, "todos os valores são 0 no período", size=9)
    donut = {"width": 0.42} if panel.get("options", {}).get("pieType") == "donut" else None
    colors = [_fixed(c) or PALETTE[i % len(PALETTE)] for i, (_, _, c) in enumerate(items)]
    ax.pie(values, colors=colors, startangle=90, counterclock=False, wedgeprops=donut)
    _square(ax, (-1.05, 3.0), (-1.05, 1.05), w_in, h_in)  # a pizza à esquerda, a legenda à direita
    ax.legend(list(ax.patches), [f"{name}: {_display(c, v)[0]}" for name, v, c in items], fontsize=8,
              frameon=False, loc="center left", bbox_to_anchor=(1.15, 0), bbox_transform=ax.transData)


def _table(ax, panel, results, w_in, h_in) -> None:
    organize = {k: v for t in panel.get("transformations", []) if t.get("id") == "organize"
                for k, v in t.get("options", {}).items()}
    renames, order = organize.get("renameByName", {}), organize.get("indexByName", {})
    if any(t.get("format") == "table" for t in panel.get("targets", [])):  # "merge": 1 linha por valor das labels
        keys = {k for _, series in results for s in series for k in s["metric"]} - {"__name__", "job", "instance"}
        keys = sorted(keys, key=lambda k: (order.get(k, 99), k))
        heads = [renames.get(f"Value #{t['refId']}", t["legend"] or t["refId"]) for t, _ in results]
        rows: dict[tuple, list[str]] = {}
        for col, (t, series) in enumerate(results):
            config = _config(panel, t["refId"], heads[col])
            for s in series:
                row = rows.setdefault(tuple(s["metric"].get(k, "") for k in keys), [""] * len(results))
                row[col] = _fmt(s["value"], config.get("unit"), config.get("decimals"))
        header, cells = [renames.get(k, k) for k in keys] + heads, [list(k) + v for k, v in rows.items()]
    else:  # "seriesToRows": 1 linha por série, com o nome da legenda
        header = [renames.get("Field", "Campo"), renames.get("Last *", "Valor")]
        cells = [[_legend(t["legend"], s["metric"], t["refId"]), _display(_config(panel, t["refId"]), s["value"])[0]]
                 for t, series in results for s in series]
    height = min(1.0, (len(cells) + 1) * 0.27 / h_in)
    table = ax.table(cellText=cells, colLabels=header, cellLoc="left", bbox=[0, 1 - height, 1, height])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    widths = [max(len(str(row[j])) for row in [header, *cells]) + 3 for j in range(len(header))]
    for (r, c), cell in table.get_celld().items():  # coluna proporcional ao texto; margem de ~0.06 pol.
        cell.set_width(widths[c] / sum(widths))
        cell.PAD = 0.06 / (w_in * widths[c] / sum(widths))
        cell.set(edgecolor="#dddddd", facecolor="#f2f2f2" if r == 0 else "white")


def _alertlist(ax, panel, base) -> None:
    options = panel.get("options", {})
    states = {k for k, on in options.get("stateFilter", {"firing": True, "pending": True}).items() if on}
    alerts = [a for a in prom.alerts(base) if a.get("state") in states][: options.get("maxItems", 20)]
    if not alerts:
        hint = "" if prom.rules(base) else "\n(nenhuma regra de alerta carregada neste Prometheus)"
        return _center(ax, "Nenhum alerta disparando ou pendente" + hint, COLORS["green"], 9)
    for i, a in enumerate(alerts):
        state = {"firing": "DISPARANDO", "pending": "pendente"}.get(a["state"], a["state"])
        since = datetime.fromisoformat(a["activeAt"][:19] + "+00:00").astimezone()
        ax.text(0.03, 0.95 - i * 0.07, f"● {a['labels'].get('alertname')} — {state}  "
                f"({a['labels'].get('severity', '')}, desde {since:%H:%M})", va="top", fontsize=8,
                color=COLORS["red"] if a["state"] == "firing" else COLORS["orange"], transform=ax.transAxes)


def _draw(fig, panel, dashboard, minutes, base, end) -> None:
    """Um painel: moldura e título como no Grafana, e dentro o desenho do tipo dele."""
    g, kind, fig_h = panel["gridPos"], panel.get("type"), fig.get_figheight()
    x0, x1 = g["x"] * FIG_W / 24 + 0.04, (g["x"] + g["w"]) * FIG_W / 24 - 0.04  # polegadas
    top, bottom = HEAD + g["y"] * ROW_H + 0.04, HEAD + (g["y"] + g["h"]) * ROW_H - 0.04
    fig.add_artist(Rectangle((x0 / FIG_W, 1 - bottom / fig_h), (x1 - x0) / FIG_W, (bottom - top) / fig_h,
                             transform=fig.transFigure, facecolor="white", edgecolor="#d0d0d0", zorder=-1))
    # espaço para os rótulos dos eixos (à esquerda, embaixo) e para o título (0.34 pol.)
    left, below = {"timeseries": (0.85, 0.55), "barchart": (1.3, 0.1), "bargauge": (1.3, 0.1)}.get(kind, (0.12, 0.1))
    w_in, h_in = x1 - x0 - left - 0.15, bottom - top - 0.34 - below
    ax = fig.add_axes(((x0 + left) / FIG_W, 1 - (bottom - below) / fig_h, w_in / FIG_W, h_in / fig_h))
    ax.set_title(panel.get("title", ""), loc="left", x=-(left - 0.1) / w_in, fontsize=10, fontweight="bold")
    ax.tick_params(labelsize=8)
    if kind not in ("timeseries", "barchart", "bargauge"):
        ax.set_axis_off()
    targets = _targets(panel, dashboard, minutes)
    try:
        if kind == "alertlist":
            return _alertlist(ax, panel, base)
        if kind == "text":
            content = re.sub(r"<[^>]+>|[#*_`>]", "", panel.get("options", {}).get("content", ""))
            return _center(ax, textwrap.fill(textwrap.shorten(content, 400), int(w_in * 11)), "#333333", 8)
        if kind == "timeseries":
            return _timeseries(ax, panel, targets, minutes, base, end, w_in)
        results = [(t, prom.query(t["expr"], base)) for t in targets]  # "último valor": consulta instantânea
        items = [(name, s["value"], _config(panel, t["refId"], name)) for t, series in results
                 for s in series for name in [_legend(t["legend"], s["metric"], t["refId"])]]
        if not items:
            _no_data(ax, targets, w_in)
        elif kind in ("stat", "gauge"):
            (_stat if kind == "stat" else _gauge)(ax, panel, items, w_in, h_in)
        elif kind in ("bargauge", "barchart"):
            _bars(ax, panel, items)
        elif kind == "piechart":
            _piechart(ax, panel, items, w_in, h_in)
        elif kind == "table":
            _table(ax, panel, results, w_in, h_in)
        else:
            _center(ax, f"painel '{kind}' sem prévia — veja no Grafana")
    except prom.ConsultaInvalida as exc:
        ax.set_axis_off()
        _center(ax, textwrap.fill(str(exc), int(w_in * 11)), COLORS["red"], 8)


def _unavailable(url: str):
    fig = plt.figure(figsize=(12, 3))
    ax = fig.add_subplot()
    ax.set_axis_off()
    _center(ax, f"Prometheus indisponível em {url} — suba a stack (python -m kit stack up)\n"
                "e confira com python -m kit doctor.", COLORS["red"], 12)
    return fig


def preview(uid: str | dict, minutes: float = 15, base: str | None = None, save_to: str | Path | None = None):
    """Desenha o dashboard `uid` (ou um dashboard em JSON, como dicionário) com os últimos `minutes` minutos do
    Prometheus (`base`: outra URL).

    Devolve a figura (no Jupyter, deixe a chamada como última linha da célula). Com `save_to`, grava
    também um PNG. Não levanta erro se o Prometheus estiver fora do ar: a figura explica o que fazer.
    """
    dashboard = load(uid) if isinstance(uid, str) else uid
    uid, url, end = dashboard.get("uid", ""), base or settings.prometheus_url, time.time()
    panels = _panels(dashboard)
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    if not prom.available(base):
        fig = _unavailable(url)
    else:
        fig = plt.figure(figsize=(FIG_W, HEAD + rows * ROW_H + 0.1), facecolor="#f7f7f7")
        try:
            for panel in panels:
                _draw(fig, panel, dashboard, minutes, base, end)
        except prom.PrometheusIndisponivel:  # caiu no meio do desenho
            plt.close(fig)
            fig = _unavailable(url)
    fig.suptitle(f"PRÉVIA em matplotlib — o painel real está no Grafana ({uid})\n{dashboard.get('title', uid)} · "
                 f"últimos {minutes:.3g} min · {url} · {datetime.now():%H:%M:%S}", fontsize=12, color="#444444")
    if save_to:
        Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(save_to, dpi=100, facecolor=fig.get_facecolor())
    plt.close(fig)  # sai do controle do pyplot: no Jupyter aparece uma vez só (como valor da célula)
    return fig
