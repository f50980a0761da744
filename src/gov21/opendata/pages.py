"""The portal's public pages of the catalogue: search, and each dataset with its resources, its
releases and their diffs, a preview of its table (paged, sortable) and a chart drawn on the server.
Everything works without JavaScript."""

from __future__ import annotations

from typing import Any, Final

import orjson
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gov21.core.errors import DomainError
from gov21.core.geo import geometry_check
from gov21.geo.contracts import Feature, map_figure
from gov21.opendata import datastore, dcat, selectors, services
from gov21.opendata.forms import PreviewForm, SearchForm
from gov21.opendata.models import Resource

PAGE: Final = 20
PREVIEW_ROWS: Final = 25
BARS: Final = 20
# A GeoJSON file is drawn on the dataset's page up to this size and this many features.
MAP_BYTES_MAX: Final = 5 * 1024 * 1024
MAP_FEATURES_MAX: Final = 2000


@require_GET
def datasets(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    form.is_valid()
    q = form.cleaned_data.get("q") or ""
    page = form.cleaned_data.get("page") or 1
    found = selectors.package_search(
        q=q,
        fq="",
        rows=PAGE,
        start=(page - 1) * PAGE,
        sort="",
        facet_fields=["organization", "groups"],
        facet_limit=20,
    )
    pages = max(1, -(-found["count"] // PAGE))
    context = {"form": form, "found": found, "q": q, "page": page, "pages": pages}
    return render(request, "opendata/datasets.html", context)


def _bar_chart(title: str, bars: list[tuple[str, float]]) -> SafeString:
    """A horizontal bar chart as SVG, readable by a screen reader (its title and description) and
    drawn without script; the same numbers are in the table beside it."""
    if not bars:
        return mark_safe("")
    width, bar, gap, label_width = 640, 18, 6, 160
    top = max(value for _label, value in bars) or 1.0
    height = len(bars) * (bar + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title" class="chart"><title id="chart-title">{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(bars):
        y = gap + index * (bar + gap)
        length = max(1.0, (width - label_width - 80) * value / top)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar - 4}" text-anchor="end" font-size="12">'
            f"{escape(label[:24])}</text>"
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" fill="#1d4f91"></rect>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 4}" font-size="12">{value:g}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it is escaped above


def _preview(request: HttpRequest, resource: Resource) -> dict[str, Any]:
    form = PreviewForm(request.GET)
    form.is_valid()
    columns = [(f["id"], datastore.FROM_CKAN[f["type"]]) for f in resource.fields]
    names = [n for n, _k in columns]
    sort = form.cleaned_data.get("sort") or ""
    if sort not in names:
        sort = ""
    desc = bool(form.cleaned_data.get("desc"))
    page = form.cleaned_data.get("page") or 1
    total, rows = datastore.search(
        table=str(resource.id),
        columns=columns,
        filters={},
        q="",
        sort=[(sort, desc)] if sort else [],
        limit=PREVIEW_ROWS,
        offset=(page - 1) * PREVIEW_ROWS,
        fields=names,
    )
    labels = [f.get("info", {}).get("label") or f["id"] for f in resource.fields]
    chart = None
    dimension = next((n for n, k in columns if k == "text"), None)
    measure = next((n for n, k in columns if k in {"integer", "numeric"}), None)
    if dimension and measure:
        table = datastore.quote(str(resource.id))
        _names, sums, _cut = datastore.sql_run(
            f"SELECT {datastore.quote(dimension)}, sum({datastore.quote(measure)}) FROM {table} "  # noqa: S608
            f"GROUP BY 1 ORDER BY 1 LIMIT {BARS}",
            limit=BARS,
            timeout_s=5,
        )
        title = _("%(measure)s by %(dimension)s") % {
            "measure": labels[names.index(measure)],
            "dimension": labels[names.index(dimension)],
        }
        bars = [(str(label), float(str(value or 0))) for label, value in sums]
        chart = {"svg": _bar_chart(title, bars), "title": title, "bars": bars}
    return {
        "resource": resource,
        "headers": list(zip(names, labels, strict=True)),
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PREVIEW_ROWS)),
        "sort": sort,
        "desc": desc,
        "chart": chart,
    }


def _is_geojson(resource: Resource) -> bool:
    return resource.url_type == "upload" and (
        resource.format.upper() == "GEOJSON"
        or resource.mimetype == "application/geo+json"
        or resource.url.lower().endswith(".geojson")
    )


def _map(resource: Resource) -> dict[str, Any]:
    """An uploaded GeoJSON file on a map: drawn on the server as SVG (readable without script, with
    a table of its features) and by MapLibre where script runs; or why it cannot be drawn."""
    title = resource.name or _("Map")
    if (resource.size or 0) > MAP_BYTES_MAX:
        return {"title": title, "note": _("This file is too large to be shown on a map here; download it.")}
    try:
        data = orjson.loads(services.file_path(resource.sha256).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {"title": title, "note": _("This file could not be read as GeoJSON.")}
    if isinstance(data, dict) and data.get("type") == "FeatureCollection" and isinstance(data.get("features"), list):
        features = data["features"]
    elif isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    else:
        return {"title": title, "note": _("This file could not be read as GeoJSON.")}
    entries, skipped = [], 0
    for index, item in enumerate(features[:MAP_FEATURES_MAX]):
        try:
            geometry = geometry_check(item.get("geometry") if isinstance(item, dict) else None)
        except DomainError:
            skipped += 1
            continue
        properties = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        label = next((properties[k] for k in ("name", "title", "label") if isinstance(properties.get(k), str)), "")
        identifier = item.get("id")
        entries.append(
            (
                Feature(
                    id=str(identifier if identifier is not None else index + 1)[:100],
                    geometry=geometry,
                    properties={"name": label[:200]},
                ),
                None,
            )
        )
    if not entries:
        return {"title": title, "note": _("This file holds no feature that can be drawn.")}
    return {
        "title": title,
        "figure": map_figure(entries, label=title),
        "shown": len(entries),
        "total": len(features),
        "skipped": skipped,
    }


@require_GET
def dataset(request: HttpRequest, name: str) -> HttpResponse:
    kind = dcat.negotiate(request.headers.get("Accept", ""), default="")
    if kind:
        from gov21.opendata.views import dataset_rdf

        return dataset_rdf(request, name=name, kind=kind)
    try:
        found = selectors.dataset_get(name)
    except DomainError:
        raise Http404(name) from None
    package = selectors.package_dict(found)
    table = next((r for r in found.resources.all() if r.datastore_active and r.state == "active"), None)
    context = {
        "package": package,
        "versions": selectors.versions_of(found),
        "preview": _preview(request, table) if table is not None else None,
        "maps": [_map(r) for r in found.resources.all() if r.state == "active" and _is_geojson(r)],
    }
    return render(request, "opendata/dataset.html", context)
