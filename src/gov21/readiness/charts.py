"""Charts drawn on the server as SVG: readable without JavaScript, printed in the PDF as they are
shown on the page, and each paired on the page with a table of the same figures. Text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape

_INK, _MUTED, _ACCENT, _ALT = "#0b0c0c", "#505a5f", "#1d70b8", "#d4351c"


@dataclass(frozen=True)
class IntervalRow:
    label: str
    rank: int
    low: int
    high: int


def rank_intervals(rows: Sequence[IntervalRow], *, count: int, title: str, axis: str) -> str:
    """A dot for each country's rank and a bar across its 90 % interval, rank 1 on the left."""
    left, right, top, step = 190, 20, 36, 22
    width = 640
    plot = width - left - right
    height = top + step * len(rows) + 30

    def x(rank: float) -> float:
        return left + (rank - 1) / max(count - 1, 1) * plot

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' class="chart"'
        f' role="img" aria-labelledby="chart-intervals-title">'
        f'<title id="chart-intervals-title">{escape(title)}</title>',
        f'<text x="{left}" y="16" font-family="sans-serif" font-size="12" fill="{_MUTED}">{escape(axis)}</text>',
    ]
    for rank in range(1, count + 1):
        parts.append(
            f'<line x1="{x(rank):.1f}" y1="{top - 8}" x2="{x(rank):.1f}" y2="{height - 24}" stroke="#e5e6e7"/>'
            f'<text x="{x(rank):.1f}" y="{height - 8}" font-family="sans-serif" font-size="11" fill="{_MUTED}"'
            f' text-anchor="middle">{rank}</text>'
        )
    for n, row in enumerate(rows):
        y = top + n * step + step / 2
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" font-family="sans-serif" font-size="13" fill="{_INK}"'
            f' text-anchor="end">{escape(row.label)}</text>'
            f'<line x1="{x(row.low):.1f}" y1="{y:.1f}" x2="{x(row.high):.1f}" y2="{y:.1f}" stroke="{_ACCENT}"'
            f' stroke-width="6" stroke-linecap="round" opacity="0.45"/>'
            f'<circle cx="{x(row.rank):.1f}" cy="{y:.1f}" r="5" fill="{_INK}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class ProfileRow:
    label: str
    value: float
    median: float
    best: float


def pillar_profile(rows: Sequence[ProfileRow], *, title: str, legend: tuple[str, str, str]) -> str:
    """A bar per pillar for the country, with ticks for the group's median and its best performer."""
    left, right, top, step = 150, 20, 44, 30
    width = 640
    plot = width - left - right
    height = top + step * len(rows) + 10
    value_label, median_label, best_label = (escape(t) for t in legend)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' class="chart"'
        f' role="img" aria-labelledby="chart-profile-title"><title id="chart-profile-title">{escape(title)}</title>',
        f'<rect x="{left}" y="8" width="14" height="10" fill="{_ACCENT}"/>'
        f'<text x="{left + 20}" y="17" font-family="sans-serif" font-size="12" fill="{_INK}">{value_label}</text>'
        f'<rect x="{left + 200}" y="6" width="3" height="14" fill="{_INK}"/>'
        f'<text x="{left + 210}" y="17" font-family="sans-serif" font-size="12" fill="{_INK}">{median_label}</text>'
        f'<rect x="{left + 360}" y="6" width="3" height="14" fill="{_ALT}"/>'
        f'<text x="{left + 370}" y="17" font-family="sans-serif" font-size="12" fill="{_INK}">{best_label}</text>',
    ]
    for n, row in enumerate(rows):
        y = top + n * step
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" font-family="sans-serif" font-size="13" fill="{_INK}"'
            f' text-anchor="end">{escape(row.label)}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{plot:.1f}" height="16" fill="#f3f2f1"/>'
            f'<rect x="{left}" y="{y + 4}" width="{max(row.value, 0) * plot:.1f}" height="16" fill="{_ACCENT}"/>'
            f'<rect x="{left + row.median * plot - 1.5:.1f}" y="{y}" width="3" height="24" fill="{_INK}"/>'
            f'<rect x="{left + row.best * plot - 1.5:.1f}" y="{y}" width="3" height="24" fill="{_ALT}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
