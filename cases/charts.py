"""Charts drawn on the server as SVG: no script, no style attribute, nothing fetched from anywhere.

Colours and fonts are SVG presentation attributes, which the strict CSP allows. Each chart has a
<title> and <desc> for screen readers; the page shows the same numbers in a table too.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

# Distinguishable for the common forms of colour blindness (Okabe–Ito), then greys.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999", "#555555")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 64
FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="#1b1f23"'


def _svg(ident: str, title: str, description: str, body: list[str], height: int = HEIGHT) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'role="img" aria-labelledby="{ident}-title {ident}-desc" class="chart" id="{ident}">'
            f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if value <= step * factor:
            return step * factor
    return step * 10


def _axes(maximum: float, plot_h: int, percent: bool = False) -> list[str]:
    parts = []
    for i in range(5):
        value = maximum * i / 4
        y = TOP + plot_h - plot_h * i / 4
        label = f"{value:.0%}" if percent else f"{value:,g}"
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{label}</text>')
    return parts


def bar_chart(ident: str, title: str, labels: Sequence[str], values: Sequence[float], colour: str = PALETTE[0],
              percent: bool = False) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    maximum = 1.0 if percent else _nice_max(max(values, default=0))
    slot = plot_w / max(len(labels), 1)
    body = _axes(maximum, plot_h, percent)
    for i, (label, value) in enumerate(zip(labels, values)):
        h = plot_h * value / maximum
        x = LEFT + slot * i + slot * 0.15
        shown = f"{value:.0%}" if percent else f"{value:,.0f}"
        body.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(label)}: {shown}</title></rect>')
        body.append(f'<text x="{x + slot * 0.35:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" {FONT}>'
                    f'{escape(label)}</text>')
    description = "; ".join(f"{label}: {value:.0%}" if percent else f"{label}: {value:,.0f}"
                            for label, value in zip(labels, values))
    return _svg(ident, title, description, body)


def stacked_bar_chart(ident: str, title: str, columns: Sequence[str], series: dict[str, Sequence[int]],
                      names: dict[str, str]) -> Markup:
    """One bar per column (month), stacked by series (category), with a legend underneath."""
    keys = list(series)
    columns_in_legend = 2
    legend_rows = -(-len(keys) // columns_in_legend)
    height = HEIGHT + 18 * legend_rows
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(series[k][i] for k in keys) for i in range(len(columns))]
    maximum = _nice_max(max(totals, default=0))
    slot = plot_w / max(len(columns), 1)
    body = _axes(maximum, plot_h)
    for i, column in enumerate(columns):
        y = TOP + plot_h
        x = LEFT + slot * i + slot * 0.15
        for n, key in enumerate(keys):
            value = series[key][i]
            if not value:
                continue
            h = plot_h * value / maximum
            y -= h
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                        f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(column)}, '
                        f'{escape(names.get(key, key))}: {value}</title></rect>')
        body.append(f'<text x="{x + slot * 0.35:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" {FONT}>'
                    f'{escape(column[2:])}</text>')
    for n, key in enumerate(keys):
        lx = LEFT + (n % columns_in_legend) * (plot_w / columns_in_legend)
        ly = HEIGHT - 20 + 18 * (n // columns_in_legend)
        body.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[n % len(PALETTE)]}"/>')
        body.append(f'<text x="{lx + 14:.1f}" y="{ly}" {FONT}>{escape(names.get(key, key))}</text>')
    description = "; ".join(f"{names.get(k, k)}: {sum(series[k])}" for k in keys)
    return _svg(ident, title, f"Cases per month by category. Totals — {description}", body, height)
