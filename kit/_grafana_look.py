"""Encanamento das prévias (kit.dashboards): números, cores e legendas como o Grafana os mostra.

Unidades (s, ms, percentunit, req/s...), a cor do limiar (thresholds), os value mappings
("1" → "NO AR"), o texto das legendas ({{label}}) e o tamanho da fonte que cabe no painel.
"""
from __future__ import annotations

import math
import re

COLORS = {"green": "#56A64B", "yellow": "#E0B400", "red": "#E02F44", "orange": "#FF780A", "blue": "#3274D9",
          "purple": "#A352CC", "text": "#333333"}
SUFFIX = {"reqps": " req/s", "reqpm": " req/min", "ops": " ops/s", "opm": " ops/min", "percent": "%"}
GREY = "#8e8e8e"


def _fmt(v: float | None, unit: str | None = None, decimals: int | None = None) -> str:
    if v is None or not math.isfinite(v):
        return "NaN"
    suffix = SUFFIX.get(unit, "")
    if unit == "percentunit":
        v, suffix = v * 100, "%"
    elif unit in ("s", "ms"):
        s = v / 1000 if unit == "ms" else v
        v, suffix = (s * 1000, " ms") if 0 < abs(s) < 1 else (s / 60, " min") if abs(s) >= 120 else (s, " s")
    elif unit == "short":
        v, suffix = next(((v / d, x) for d, x in ((1e9, " Bil"), (1e6, " Mil"), (1e3, " K")) if abs(v) >= d), (v, ""))
    if decimals is None:
        decimals = 0 if v == int(v) or abs(v) >= 100 else 1 if abs(v) >= 10 else 2
    return f"{v:.{decimals}f}{suffix}"


def _color(name: str | None, default: str = GREY) -> str:
    name = re.sub(r"^(semi-dark|dark|light|super-light)-", "", name or "")
    return COLORS.get(name, name if name.startswith("#") else default)


def _display(config: dict, v: float) -> tuple[str, str]:
    """(texto, cor) de um valor: value mappings ("1" → "NO AR") ou unidade + cor do limiar (thresholds)."""
    color = "green"
    for step in (config.get("thresholds") or {}).get("steps", []):
        if step.get("value") is None or (math.isfinite(v) and v >= step["value"]):
            color = step["color"]
    for mapping in config.get("mappings") or []:
        hit = mapping.get("options", {}).get(f"{v:g}") if mapping.get("type") == "value" else None
        if hit:
            return hit.get("text", f"{v:g}"), _color(hit.get("color") or color)
    return _fmt(v, config.get("unit"), config.get("decimals")), _color(color)


def _fixed(config: dict) -> str | None:
    color = config.get("color") or {}
    return _color(color.get("fixedColor")) if color.get("mode") == "fixed" else None


def _legend(fmt: str, metric: dict, ref: str) -> str:
    if fmt and fmt != "__auto":
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m[1], ""), fmt)
    labels = ", ".join(f'{k}="{v}"' for k, v in metric.items() if k != "__name__")
    return f"{metric.get('__name__', '')}{{{labels}}}" if labels else metric.get("__name__", ref)


def _fit(text: str, w_in: float, h_in: float, biggest: float = 34) -> float:
    """Maior fonte (pt) em que `text` cabe numa caixa de w_in × h_in polegadas."""
    return max(7.0, min(biggest, 72 * w_in * 0.85 / (0.62 * max(len(text), 1)), 72 * h_in * 0.45))


def _square(ax, xs: tuple, ys: tuple, w_in: float, h_in: float) -> None:
    """Limites com a mesma escala em x e y (círculo redondo) sem encolher o painel."""
    scale = max((xs[1] - xs[0]) / w_in, (ys[1] - ys[0]) / h_in) / 2
    cx, cy = sum(xs) / 2, sum(ys) / 2
    ax.set(xlim=(cx - scale * w_in, cx + scale * w_in), ylim=(cy - scale * h_in, cy + scale * h_in), aspect="auto")


def _center(ax, text: str, color: str = GREY, size: float = 10, y: float = 0.5) -> None:
    ax.text(0.5, y, text, ha="center", va="center", color=color, fontsize=size, transform=ax.transAxes)
