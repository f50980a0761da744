"""A map of features drawn on the server as SVG: no script, no tiles from elsewhere, a few kilobytes on
a slow line. Shapes are drawn in the projected CRS, so they keep their true proportions."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from shapely.geometry.base import BaseGeometry

from gov21.core.geo import to_projected
from gov21.geo.contracts import Feature

WIDTH = 640
MARGIN = 8
_FILLS = ("#d2e2f1", "#cce2d8", "#fff2d3", "#f6d7d2", "#e8dcf0", "#dbe9c9")


def _ring(coords: Sequence[tuple[float, ...]], place: _Place) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in (place(c[0], c[1]) for c in coords)) + "Z"


class _Place:
    """Projected metres to SVG pixels (y grows downwards)."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        minx, miny, maxx, maxy = bounds
        span_x, span_y = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        self.scale = (WIDTH - 2 * MARGIN) / max(span_x, span_y)
        self.minx, self.maxy = minx, maxy
        self.height = round(span_y * self.scale + 2 * MARGIN)
        self.width = round(span_x * self.scale + 2 * MARGIN)

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return MARGIN + (x - self.minx) * self.scale, MARGIN + (self.maxy - y) * self.scale


def _shape(geometry: BaseGeometry, place: _Place, fill: str) -> str:
    parts: list[str] = []
    for part in shapely.get_parts(geometry):
        kind = part.geom_type
        if kind == "Polygon":
            d = _ring(part.exterior.coords, place) + "".join(_ring(hole.coords, place) for hole in part.interiors)
            parts.append(f'<path d="{d}" fill="{fill}" fill-rule="evenodd" stroke="#0b0c0c" stroke-width="1"/>')
        elif kind == "LineString":
            d = "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in (place(c[0], c[1]) for c in part.coords))
            parts.append(f'<path d="{d}" fill="none" stroke="#1d70b8" stroke-width="3"/>')
        elif kind == "Point":
            x, y = place(part.x, part.y)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#1d70b8" stroke="#0b0c0c"/>')
    return "".join(parts)


def map_svg(entries: Sequence[tuple[Feature, str | None]], *, label: str) -> SafeString:
    """An SVG map of the features (each a link to ``href`` when one is given), titled ``label``."""
    drawn = [(feature, href, to_projected(feature.geometry)) for feature, href in entries if feature.geometry]
    if not drawn:
        return mark_safe("")
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds([geometry for _, _, geometry in drawn]))
    place = _Place((minx, miny, maxx, maxy))
    body = []
    for index, (feature, href, geometry) in enumerate(drawn):
        name = str(feature.properties.get("name") or feature.id)
        shape = mark_safe(_shape(geometry, place, _FILLS[index % len(_FILLS)]))  # noqa: S308 - numbers only
        if href:
            body.append(format_html('<a href="{}"><title>{}</title>{}</a>', href, name, shape))
        else:
            body.append(format_html("<g><title>{}</title>{}</g>", name, shape))
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="geo-map" role="{}" aria-label="{}" viewBox="0 0 {} {}"'
        ' width="100%">{}</svg>',
        # A map of links is a group of links (an image holds no controls); a map without links, a picture.
        "group" if any(href for _, href, _ in drawn) else "img",
        label,
        place.width,
        place.height,
        mark_safe("".join(body)),  # noqa: S308 - each part escaped above
    )
