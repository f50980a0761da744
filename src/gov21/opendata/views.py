"""Downloads of datastore tables (CKAN's ``/datastore/dump/<id>``) as CSV, JSON, XLSX or Parquet,
the latest release or any earlier one (``?version=N``), and of uploaded files."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Final

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from rdflib import Graph

from gov21.core.errors import DomainError
from gov21.core.http import problem_from_error, spreadsheet_safe
from gov21.opendata import datastore, dcat, selectors, services

MEDIA: Final = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def _body(kind: str, names: list[str], rows: list[tuple[object, ...]]) -> bytes:
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(names)
        writer.writerows([[spreadsheet_safe(c) for c in row] for row in rows])
        return out.getvalue().encode("utf-8")
    if kind == "json":
        return orjson.dumps({"fields": names, "records": [dict(zip(names, row, strict=True)) for row in rows]})
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(names)
    for row in rows:
        sheet.append([spreadsheet_safe(c) for c in row])
    out_bytes = io.BytesIO()
    book.save(out_bytes)
    return out_bytes.getvalue()


@require_GET
def dump(request: HttpRequest, resource_id: str) -> HttpResponse:
    try:
        kind = request.GET.get("format", "csv").lower()
        if kind not in MEDIA:
            raise DomainError("invalid_format", _("Download as csv, json, xlsx or parquet."), field="format")
        resource = selectors.resource_get(resource_id)
        if not resource.datastore_active:
            raise DomainError("not_found", _("This resource has no datastore table."), status=404)
        table, names, suffix = str(resource.id), [f["id"] for f in resource.fields], ""
        if "version" in request.GET:
            try:
                number = int(request.GET["version"])
            except ValueError:
                raise DomainError("invalid_version", _("A version is a number."), field="version") from None
            version = selectors.version_get(resource.dataset, number)
            table, names, suffix = version.table, [c["id"] for c in version.columns], f"-v{number}"
        if kind == "parquet":
            body = datastore.parquet_bytes(table, names)
        else:
            body = _body(kind, names, datastore.table_rows(table, names))
    except DomainError as error:
        return problem_from_error(request, error)
    response = HttpResponse(body, content_type=MEDIA[kind])
    response["Content-Disposition"] = f'attachment; filename="{resource.dataset.name}{suffix}.{kind}"'
    return response


@require_GET
def download(request: HttpRequest, name: str, resource_id: str) -> HttpResponse:
    try:
        resource = selectors.resource_get(resource_id)
        if resource.dataset.name != name or resource.url_type != "upload":
            raise DomainError("not_found", _("No such file."), status=404)
        content = services.file_path(resource.sha256).read_bytes()
    except DomainError as error:
        return problem_from_error(request, error)
    response = HttpResponse(content, content_type=resource.mimetype or "application/octet-stream")
    response["Content-Disposition"] = "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _rdf(request: HttpRequest, kind: str, build: Callable[[], Graph]) -> HttpResponse:
    try:
        body = dcat.serialize(build(), kind)
    except DomainError as error:
        return problem_from_error(request, error)
    response = HttpResponse(body, content_type=dcat.FORMATS[kind][1])
    response["Vary"] = "Accept"
    return response


def _page(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        raise DomainError("invalid_page", _("A page is a number from 1."), field="page") from None
    if page < 1:
        raise DomainError("invalid_page", _("A page is a number from 1."), field="page")
    return page


@require_GET
def catalogue(request: HttpRequest, kind: str = "") -> HttpResponse:
    """``/catalog`` (content-negotiated) and ``/catalog.ttl|.jsonld|.rdf``, paged by ``?page=N``."""
    chosen = kind or dcat.negotiate(request.headers.get("Accept", "")) or "ttl"
    return _rdf(request, chosen, lambda: dcat.catalogue_graph(page=_page(request)))


@require_GET
def dataset_rdf(request: HttpRequest, name: str, kind: str) -> HttpResponse:
    return _rdf(request, kind, lambda: dcat.dataset_graph(selectors.dataset_get(name)))
