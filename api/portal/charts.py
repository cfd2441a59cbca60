"""Charts drawn on the server as inline SVG: no script, readable with JavaScript off, printable.
Pure functions of the numbers they are given; labels are escaped here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = {"ok": "#2f855a", "warn": "#c05621", "bad": "#c53030", "info": "#2b6cb0", "muted": "#a0aec0"}


@dataclass(frozen=True)
class Series:
    name: str
    colour: str


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def stacked_bars(rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[Series], title: str) -> Markup:
    """One horizontal bar per row, its parts stacked in the order of `series`; the total at the
    end. Scales to the widest row; fits a phone (the SVG's width follows its container)."""
    width, label_w, bar_h, gap, top = 340, 130, 20, 10, 26
    plot_w = width - label_w - 40
    biggest = max((sum(v) for _, v in rows), default=0) or 1
    height = top + len(rows) * (bar_h + gap) + 8
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    x = label_w
    for s in series:  # legend
        out.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{s.colour}"/>')
        out.append(f'<text x="{x + 14}" y="13" font-size="11">{escape(s.name)}</text>')
        x += 14 + 12 * len(s.name) + 14
    for i, (name, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        short = name if len(name) <= 9 else name[:8] + "…"
        out.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 5}" font-size="13" text-anchor="end">'
            f"<title>{escape(name)}</title>{escape(short)}</text>"
        )
        x0 = float(label_w)
        for value, s in zip(values, series, strict=True):
            w = plot_w * value / biggest
            if w > 0:
                out.append(
                    f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{s.colour}">'
                    f"<title>{escape(s.name)} {_fmt(value)}</title></rect>"
                )
            x0 += w
        out.append(f'<text x="{x0 + 4:.1f}" y="{y + bar_h - 5}" font-size="12">{_fmt(sum(values))}</text>')
    if not rows:
        out.append(f'<text x="{width / 2}" y="{top + 10}" font-size="12" text-anchor="middle">暂无数据</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every label above went through escape()


def columns(items: Sequence[tuple[str, float, str]], title: str) -> Markup:
    """Vertical columns (label, value, colour), e.g. how many inspections got each grade."""
    width, height, bottom, top = 360, 180, 28, 20
    n = max(len(items), 1)
    slot = (width - 20) / n
    biggest = max((v for _, v, _ in items), default=0) or 1
    plot_h = height - bottom - top
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="10" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#718096"/>',
    ]
    for i, (name, value, colour) in enumerate(items):
        h = plot_h * value / biggest
        x = 10 + i * slot + slot * 0.2
        y = height - bottom - h
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{h:.1f}" fill="{colour}"/>')
        out.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{y - 4:.1f}" font-size="12" text-anchor="middle">{_fmt(value)}</text>'
        )
        out.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{height - 10}" font-size="12" '
            f'text-anchor="middle">{escape(name)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every label above went through escape()


def line(
    points: Sequence[tuple[str, float]],
    title: str,
    low: float = 0,
    high: float = 100,
    guides: Sequence[tuple[float, str]] = (),
    failed: Sequence[bool] = (),
) -> Markup:
    """A line over time (label, value) between `low` and `high`, with dashed guide lines (e.g. the
    grade thresholds). Labels are thinned so they never overlap. Points flagged in `failed` (graded
    不合格, which a score above a threshold can still be, e.g. a zeroed guarantee item) are drawn
    as red rings with the word in their tooltip, so colour is not the only sign."""
    width, height, left, right, top, bottom = 360, 180, 30, 10, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    span = (high - low) or 1

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (min(max(v, low), high) - low) / span)

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#718096"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{_fmt(high)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">{_fmt(low)}</text>',
    ]
    for value, name in guides:
        gy = y_of(value)
        out.append(
            f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" '
            'stroke="#a0aec0" stroke-dasharray="4 3"/>'
        )
        out.append(f'<text x="{width - right}" y="{gy - 3:.1f}" font-size="10" text-anchor="end">{escape(name)}</text>')
    if not points:
        out.append(f'<text x="{width / 2}" y="{height / 2}" font-size="12" text-anchor="middle">暂无数据</text>')
    else:
        step = plot_w / max(len(points) - 1, 1)
        xy = [(left + i * step if len(points) > 1 else left + plot_w / 2, y_of(v)) for i, (_, v) in enumerate(points)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        out.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE["info"]}" stroke-width="2"/>')
        every = max(1, len(points) // 6)
        for i, ((name, value), (x, y)) in enumerate(zip(points, xy, strict=True)):
            if i < len(failed) and failed[i]:
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#fff" stroke="{PALETTE["bad"]}" '
                    f'stroke-width="2.5" class="failed">'
                    f"<title>{escape(name)}：{_fmt(value)} 分，不合格</title></circle>"
                )
            else:
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE["info"]}">'
                    f"<title>{escape(name)}：{_fmt(value)}</title></circle>"
                )
            if i % every == 0 or i == len(points) - 1:
                # the first and last labels hug the plot's edges so they are never cut off
                anchor = "start" if i == 0 and len(points) > 1 else "end" if i == len(points) - 1 else "middle"
                out.append(
                    f'<text x="{x:.1f}" y="{height - 10}" font-size="11" text-anchor="{anchor}">{escape(name)}</text>'
                )
    if any(failed[: len(points)]):
        out.append(
            f'<circle cx="{left + 6}" cy="{top + 2}" r="4" fill="#fff" stroke="{PALETTE["bad"]}" stroke-width="2"/>'
            f'<text x="{left + 13}" y="{top + 6}" font-size="10">不合格</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every label above went through escape()
