"""Charts drawn on the server as SVG: readable without script, a few kilobytes, titled and described
for screen readers; every chart is shown beside its data as a table (decision 0061)."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH = 640
BAR = "#1d70b8"
OTHER = "#d4351c"
TEXT = "#0b0c0c"


def _frame(*, ident: str, title: str, desc: str, height: int, body: str) -> SafeString:
    return mark_safe(  # noqa: S308  (every text in it is escaped)
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{ident}-t {ident}-d"><title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(desc)}</desc>{body}</svg>'
    )


def bars_svg(*, ident: str, title: str, labels: Sequence[str], values: Sequence[int | None]) -> SafeString:
    """Vertical bars, one per label; a suppressed value is drawn as an empty outlined bar marked "x"."""
    height, left, bottom, top = 260, 48, 40, 16
    known = [v for v in values if v is not None]
    peak = max([*known, 1])
    step = (WIDTH - left - 8) / max(1, len(labels))
    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 4}" y2="{height - bottom}" stroke="{TEXT}"/>']
    parts.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11" fill="{TEXT}">{peak}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * step + step * 0.15
        w = step * 0.7
        if value is None:
            parts.append(
                f'<rect x="{x:.1f}" y="{height - bottom - 12}" width="{w:.1f}" height="12" fill="none" '
                f'stroke="{OTHER}" stroke-dasharray="3 2"/>'
                f'<text x="{x + w / 2:.1f}" y="{height - bottom - 16}" text-anchor="middle" font-size="10" '
                f'fill="{OTHER}">x</text>'
            )
        else:
            h = (height - bottom - top) * value / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{BAR}"/>'
            )
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    shown = ", ".join(
        f"{label}: {_('suppressed') if v is None else v}" for label, v in zip(labels, values, strict=True)
    )
    return _frame(ident=ident, title=title, desc=shown, height=height, body="".join(parts))


def pyramid_svg(
    *,
    ident: str,
    title: str,
    groups: Sequence[str],
    left: Sequence[int | None],
    right: Sequence[int | None],
    left_label: str,
    right_label: str,
) -> SafeString:
    """A population pyramid: one row per age group (youngest at the bottom), ``left`` and ``right``
    drawn out from the middle; a suppressed value is an outlined box marked "x"."""
    row, top = 16, 24
    height = top + row * len(groups) + 8
    middle, label_w = WIDTH / 2, 44
    reach = middle - label_w / 2 - 8
    peak = max([v for v in (*left, *right) if v is not None] + [1])
    parts = [
        f'<text x="{middle - label_w / 2 - 4}" y="14" text-anchor="end" font-size="12" fill="{TEXT}">'
        f"{escape(left_label)}</text>",
        f'<text x="{middle + label_w / 2 + 4}" y="14" font-size="12" fill="{TEXT}">{escape(right_label)}</text>',
    ]
    for i, group in enumerate(reversed(groups)):
        index = len(groups) - 1 - i
        y = top + i * row
        parts.append(
            f'<text x="{middle}" y="{y + row - 4}" text-anchor="middle" font-size="10" fill="{TEXT}">'
            f"{escape(group)}</text>"
        )
        for side, values, colour in ((-1, left, OTHER), (1, right, BAR)):
            value = values[index]
            start = middle + side * label_w / 2
            if value is None:
                x = start - 14 if side < 0 else start
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 2}" width="14" height="{row - 4}" fill="none" stroke="{TEXT}" '
                    'stroke-dasharray="3 2"/>'
                )
                continue
            w = reach * value / peak
            x = start - w if side < 0 else start
            parts.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row - 4}" fill="{colour}"/>')
    shown = "; ".join(
        f"{g}: {left_label} {_('suppressed') if a is None else a}, {right_label} {_('suppressed') if b is None else b}"
        for g, a, b in zip(groups, left, right, strict=True)
    )
    return _frame(ident=ident, title=title, desc=shown, height=height, body="".join(parts))


def band_svg(
    *,
    ident: str,
    title: str,
    labels: Sequence[str],
    median: Sequence[float],
    bands: Sequence[tuple[Sequence[float], Sequence[float]]],
    band_names: Sequence[str],
) -> SafeString:
    """A line (the median) over shaded prediction intervals, widest first; labels along the bottom."""
    height, left, bottom, top, right = 260, 64, 40, 16, 12
    lows = [v for low, _high in bands for v in low] or list(median)
    highs = [v for _low, high in bands for v in high] or list(median)
    floor, peak = min([*lows, *median]), max([*highs, *median])
    if peak - floor < 1:
        peak, floor = peak + 1, floor - 1
    span = WIDTH - left - right
    step = span / max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + (height - bottom - top) * (peak - v) / (peak - floor)

    parts = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - right}" y2="{height - bottom}" stroke="{TEXT}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11" fill="{TEXT}">{peak:,.0f}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="11" fill="{TEXT}">'
        f"{floor:,.0f}</text>",
    ]
    for k, (low, high) in enumerate(bands):
        ring = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(high)]
        ring += [f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(low)))]
        parts.append(f'<polygon points="{" ".join(ring)}" fill="{BAR}" fill-opacity="{0.15 + 0.15 * k:.2f}"/>')
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(median))
    parts.append(f'<polyline points="{line}" fill="none" stroke="{TEXT}" stroke-width="2"/>')
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    shown = "; ".join(
        f"{label}: {m:,.0f} ("
        + ", ".join(f"{name} {low[i]:,.0f}–{high[i]:,.0f}" for name, (low, high) in zip(band_names, bands, strict=True))
        + ")"
        for i, (label, m) in enumerate(zip(labels, median, strict=True))
    )
    return _frame(ident=ident, title=title, desc=shown, height=height, body="".join(parts))
