"""Tiny inline SVG charts for researcher pages: learning curves and piano rolls (no Django).

Plain SVG strings keep the dashboard free of image files and of a plotting backend in the web
process; a browser draws them crisply at any size, and a test can read them as text.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2456c9", "#d9480f", "#1b7f3b", "#7048e8", "#c2255c", "#5c940d")


@dataclass(frozen=True)
class Series:
    """One line of a chart: a label and a y value per x (None where there is no value)."""

    label: str
    points: Sequence[tuple[float, float | None]]


def _finite(value) -> bool:
    return isinstance(value, int | float) and value == value and abs(value) != float("inf")


def _ticks(low: float, high: float, count: int = 5) -> list[tuple[float, str]]:
    """Round values within low..high, 1, 2 or 5 times a power of ten apart and as near
    ``count`` of them as such steps give, each labelled with the decimals the step needs, so no
    two labels read alike (a loss between 0.076 and 0.079 once showed 0.079 twice)."""
    if high == low:
        return [(low, _fmt(low))]

    def multiples(step: float) -> range:
        return range(math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9) + 1)

    power = math.floor(math.log10((high - low) / count))
    steps = [m * 10.0**k for k in (power - 1, power, power + 1) for m in (1, 2, 5)]
    step = min(steps, key=lambda candidate: abs(len(multiples(candidate)) - count))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return [(k * step, f"{k * step:.{decimals}f}") for k in multiples(step)]


def _fmt(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return f"{value:.0f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def line_chart(
    title: str,
    series: Sequence[Series],
    x_label: str = "epoch",
    width: int = 420,
    height: int = 260,
    mark: tuple[float, str] | None = None,
) -> str:
    """A labelled line chart with a legend above the plot, so no line runs under it; `mark`
    (x, label) draws a dashed vertical line there, e.g. at the best epoch. Says so in words when
    there is nothing to draw."""
    points = [(x, y) for s in series for x, y in s.points if _finite(y)]
    left, right, top, bottom = 56, 12, 44, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
    ]
    if not points:
        parts.append(
            f'<text x="{left}" y="{top + plot_h / 2}" font-size="12" fill="#5b6475">'
            "no values yet</text></svg>"
        )
        return "".join(parts)
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    x_low, x_high = min(xs), max(xs)
    y_low, y_high = min(ys), max(ys)
    if y_high == y_low:  # a flat line: centre it, without inventing negative values for scores
        y_low, y_high = (max(0.0, y_low - 0.5) if y_low >= 0 else y_low - 0.5), y_high + 0.5

    def px(x: float) -> float:
        return left + (plot_w * (x - x_low) / (x_high - x_low) if x_high > x_low else plot_w / 2)

    def py(y: float) -> float:
        return top + plot_h * (1 - (y - y_low) / (y_high - y_low))

    parts.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#c8ced8"/>'
    )
    for tick, label in _ticks(y_low, y_high):
        parts.append(
            f'<text x="{left - 4}" y="{py(tick) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{label}</text>"
        )
    few = len(set(xs)) <= 12
    x_ticks = [(x, _fmt(x)) for x in sorted(set(xs))] if few else _ticks(x_low, x_high)
    for tick, label in x_ticks:
        parts.append(
            f'<text x="{px(tick):.1f}" y="{top + plot_h + 15}" font-size="11" '
            f'text-anchor="middle">{label}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="12" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    if mark is not None and _finite(mark[0]) and x_low <= mark[0] <= x_high:
        x = px(mark[0])
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#5b6475" '
            'stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{top + 12}" font-size="11" fill="#5b6475">'
            f"{escape(mark[1])}</text>"
        )
    for index, line in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        coords = [(px(x), py(y)) for x, y in line.points if _finite(y)]
        if not coords:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in coords]
        legend_x = left + index * 110
        parts.append(
            f'<rect x="{legend_x}" y="{top - 14}" width="12" height="3" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{top - 9}" font-size="11">{escape(line.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def piano_roll(
    notes: Sequence[tuple[int, float, float]],
    title: str = "piano roll",
    width: int = 640,
    height: int = 200,
) -> str:
    """Notes as (pitch, start_seconds, end_seconds) bars, pitch range fitted to the music."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="roll">',
        f'<rect width="{width}" height="{height}" fill="#f8f9fb"/>',
    ]
    if not notes:
        parts.append(f'<text x="8" y="{height / 2}" font-size="12">no notes</text></svg>')
        return "".join(parts)
    low = min(p for p, _, _ in notes) - 1
    high = max(p for p, _, _ in notes) + 1
    end = max(e for _, _, e in notes) or 1.0
    row = height / (high - low + 1)
    for pitch in range(low, high + 1):
        if pitch % 12 == 0:
            y = height - (pitch - low + 1) * row
            parts.append(
                f'<line x1="0" x2="{width}" y1="{y + row:.1f}" y2="{y + row:.1f}" '
                'stroke="#dde1e8"/>'
                f'<text x="2" y="{y + row - 1:.1f}" font-size="8" fill="#5b6475">'
                f"C{pitch // 12 - 1}</text>"
            )
    for pitch, start, stop in notes:
        x = width * start / end
        w = max(width * (stop - start) / end, 1.0)
        y = height - (pitch - low + 1) * row
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{max(row - 0.5, 1):.1f}" '
            f'fill="{PALETTE[0]}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
