"""CKAN's Action API at ``/api/3/action/<name>`` (and ``/api/action/``, which ckanapi calls): the
envelope ``{"help", "success", "result"}``, CKAN's error shapes (``{"success": false, "error":
{"__type": ...}}``) and its ``Authorization`` header carrying an API token, so that CKAN's clients
and harvesters work unchanged. Each action parses its parameters, calls one selector or service,
and shapes the answer."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gov21.core import config
from gov21.core.errors import DomainError, NotFound
from gov21.core.principal import Principal
from gov21.identity.contracts import PrincipalAuth
from gov21.opendata import datastore, harvest, search, selectors, services, uploads
from gov21.opendata.licences import LICENCES
from gov21.opendata.models import HarvestJob, HarvestSource, Resource

CKAN_VERSION: Final = "2.11.0"
_LIST_MAX: Final = 1000
# CKAN's error types and the HTTP status it answers each with.
_ERROR_STATUS: Final = {
    "Not Found Error": 404,
    "Authorization Error": 403,
    "Validation Error": 409,
    "Search Query Error": 409,
    "Bad request": 400,
}


@dataclass(frozen=True)
class Context:
    request: HttpRequest
    data: dict[str, Any]
    upload: uploads.Upload | None
    # The parameters that came as text (a query string or a form), in which CKAN sends JSON values.
    texts: frozenset[str] = frozenset()

    def principal(self) -> Principal:
        found = PrincipalAuth()(self.request)
        if found is None:
            raise DomainError(
                "not_authorized", _("Send an API token of a publisher in the Authorization header."), status=403
            )
        return found

    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key, default)
        if value is None:
            return default
        if isinstance(value, list):
            value = value[-1] if value else default
        if not isinstance(value, str | int):
            raise DomainError("invalid_value", _("This must be text."), field=key)
        return str(value)

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise DomainError("missing_value", _("Missing value"), field=key)
        return value

    def integer(self, key: str, default: int, *, low: int = 0, high: int = 1_000_000_000) -> int:
        raw = self.data.get(key, default)
        if isinstance(raw, list):
            raw = raw[-1]
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise DomainError("invalid_value", _("Invalid integer"), field=key) from None
        if not low <= value <= high:
            raise DomainError(
                "invalid_value", _("Must be between %(low)d and %(high)d.") % {"low": low, "high": high}, field=key
            )
        return value

    def boolean(self, key: str) -> bool:
        value = self.data.get(key, False)
        return value is True or (isinstance(value, str) and value.lower() in {"true", "1", "yes"})

    def json_value(self, key: str, default: Any) -> Any:
        """A parameter that is JSON when it comes in a query string (``facet.field=["tags"]``)."""
        value = self.data.get(key, default)
        if key in self.texts and isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise DomainError("invalid_value", _("This must be JSON."), field=key) from None
        return value


Action = Callable[[Context], Any]
ACTIONS: dict[str, Action] = {}
# The actions that change the catalogue or the datastore: POST only, as in CKAN.
WRITES: set[str] = set()


def action(name: str, *, write: bool = False) -> Callable[[Action], Action]:
    def register(function: Action) -> Action:
        ACTIONS[name] = function
        if write:
            WRITES.add(name)
        return function

    return register


def _envelope(request: HttpRequest, name: str, body: dict[str, Any], status: int) -> HttpResponse:
    base = str(settings.BASE_URL).rstrip("/")
    payload = {"help": f"{base}/api/3/action/help_show?name={name}", **body}
    response = HttpResponse(orjson.dumps(payload, default=str), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def _error(request: HttpRequest, name: str, error: DomainError) -> HttpResponse:
    if error.status == 404:
        kind = "Not Found Error"
        shape: dict[str, Any] = {"message": f"Not found: {error.detail}"}
    elif error.status in {401, 403}:
        kind = "Authorization Error"
        shape = {"message": f"Access denied: {error.detail}"}
    elif error.code == "search_query_error":
        kind = "Search Query Error"
        shape = {"message": f"Search Query Error: {error.detail}", "info": {error.field or "q": [error.detail]}}
    elif error.code == "bad_request":
        kind = "Bad request"
        shape = {"message": error.detail}
    else:
        kind = "Validation Error"
        shape = {error.field or "message": [error.detail]} if error.field else {"message": error.detail}
    status = error.status if error.status in {413, 503} else _ERROR_STATUS[kind]
    shape = {"__type": kind, **shape, "code": error.code}
    return _envelope(request, name, {"success": False, "error": shape}, status)


def _parse(request: HttpRequest) -> tuple[dict[str, Any], uploads.Upload | None, frozenset[str]]:
    data, upload = _parse_body(request)
    texts = set(request.GET)
    if request.method == "POST" and request.content_type != "application/json":
        texts |= set(request.POST)
    return data, upload, frozenset(texts) - {k for k in data if not isinstance(data[k], str)}


def _parse_body(request: HttpRequest) -> tuple[dict[str, Any], uploads.Upload | None]:
    data: dict[str, Any] = {}
    for key in request.GET:
        values = request.GET.getlist(key)
        data[key] = values[0] if len(values) == 1 else values
    if request.method != "POST":
        return data, None
    kind = request.content_type or ""
    if kind.startswith("multipart/form-data"):
        uploads.size_check(int(request.META.get("CONTENT_LENGTH") or 0))
        # The form's fields are the action's parameters, as a JSON body's keys are; Context types them.
        data.update(request.POST.dict())
        sent = request.FILES.get("upload")
        upload = None
        if sent is not None:
            uploads.size_check(sent.size or 0)
            upload = uploads.Upload(
                filename=str(sent.name or "upload"),
                content=sent.read(),
                media_type=str(sent.content_type or "application/octet-stream"),
            )
        return data, upload
    body = request.body
    if kind == "application/x-www-form-urlencoded" and body:
        data.update(request.POST.dict())
        return data, None
    if body:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise DomainError(
                "bad_request", "Bad request - JSON Error: could not read the request body as JSON."
            ) from None
        if not isinstance(parsed, dict):
            raise DomainError("bad_request", "Bad request - JSON Error: the request body must be a JSON object.")
        data.update(parsed)
    return data, None


def _ckan_token(request: HttpRequest) -> None:
    """CKAN's clients send the token bare (``Authorization: <token>``, or ``X-CKAN-API-Key``); read
    it as the bearer token it is."""
    header = request.META.get("HTTP_AUTHORIZATION", "") or request.META.get("HTTP_X_CKAN_API_KEY", "")
    if header and " " not in header.strip():
        request.META["HTTP_AUTHORIZATION"] = f"Bearer {header.strip()}"
        # Headers are read from META once and kept; read them again.
        request.__dict__.pop("headers", None)


@csrf_exempt
def action_view(request: HttpRequest, name: str) -> HttpResponse:
    if request.method not in {"GET", "POST"}:
        return _error(request, name, DomainError("bad_request", "Bad request - use GET or POST."))
    function = ACTIONS.get(name)
    if function is None:
        return _error(request, name, DomainError("bad_request", f"Bad request - Action name not known: {name}"))
    if name in WRITES and request.method != "POST":
        return _error(request, name, DomainError("bad_request", f"Bad request - {name} changes data: use POST."))
    _ckan_token(request)
    try:
        data, upload, texts = _parse(request)
        result = function(Context(request=request, data=data, upload=upload, texts=texts))
    except DomainError as error:
        return _error(request, name, error)
    return _envelope(request, name, {"success": True, "result": result}, 200)


# --- the catalogue ---------------------------------------------------------------------------------


@action("status_show")
def status_show(ctx: Context) -> dict[str, Any]:
    return {
        "ckan_version": CKAN_VERSION,
        "site_title": f"{config.COUNTRY_NAME.read()} open data",
        "site_description": "",
        "site_url": str(settings.BASE_URL),
        "locale_default": "en",
        "extensions": ["datastore", "dcat"],
    }


@action("package_list")
def package_list(ctx: Context) -> list[str]:
    limit = ctx.integer("limit", _LIST_MAX, high=_LIST_MAX)
    return selectors.package_names(limit=limit, offset=ctx.integer("offset", 0))


@action("package_show")
def package_show(ctx: Context) -> dict[str, Any]:
    return selectors.package_dict(selectors.dataset_get(ctx.required("id")))


@action("package_search")
def package_search(ctx: Context) -> dict[str, Any]:
    facets = ctx.json_value("facet.field", [])
    if not isinstance(facets, list) or not all(isinstance(f, str) for f in facets):
        raise DomainError("search_query_error", _("facet.field is a JSON list of field names."), field="facet.field")
    return selectors.package_search(
        q=ctx.text("q"),
        fq=ctx.text("fq"),
        rows=ctx.integer("rows", 10, high=selectors.ROWS_MAX),
        start=ctx.integer("start", 0),
        sort=ctx.text("sort"),
        facet_fields=facets,
        facet_limit=ctx.integer("facet.limit", 50, low=1, high=1000),
        rendered=True,
    )


@action("package_create", write=True)
def package_create(ctx: Context) -> dict[str, Any]:
    dataset = services.package_create(principal=ctx.principal(), data=ctx.data)
    return selectors.package_dict(selectors.dataset_get(str(dataset.id)))


@action("package_update", write=True)
def package_update(ctx: Context) -> dict[str, Any]:
    dataset = services.package_update(principal=ctx.principal(), data=ctx.data, partial=False)
    return selectors.package_dict(selectors.dataset_get(str(dataset.id)))


@action("package_patch", write=True)
def package_patch(ctx: Context) -> dict[str, Any]:
    dataset = services.package_update(principal=ctx.principal(), data=ctx.data, partial=True)
    return selectors.package_dict(selectors.dataset_get(str(dataset.id)))


@action("package_delete", write=True)
def package_delete(ctx: Context) -> None:
    services.package_delete(principal=ctx.principal(), key=ctx.required("id"))


@action("resource_show")
def resource_show(ctx: Context) -> dict[str, Any]:
    return selectors.resource_dict(selectors.resource_get(ctx.required("id")))


@action("resource_create", write=True)
def resource_create(ctx: Context) -> dict[str, Any]:
    return selectors.resource_dict(
        services.resource_create(principal=ctx.principal(), data=ctx.data, upload=ctx.upload)
    )


@action("resource_update", write=True)
def resource_update(ctx: Context) -> dict[str, Any]:
    return selectors.resource_dict(
        services.resource_update(principal=ctx.principal(), data=ctx.data, upload=ctx.upload)
    )


@action("organization_list")
def organization_list(ctx: Context) -> list[Any]:
    rows = selectors.organizations_with_counts()
    if ctx.boolean("all_fields"):
        return [selectors.organization_dict(o, package_count=n) for o, n in rows]
    return [o.name for o, _n in rows]


@action("organization_show")
def organization_show(ctx: Context) -> dict[str, Any]:
    organization = selectors.organization_get(ctx.required("id"))
    found = selectors.organization_dict(
        organization, package_count=organization.datasets.filter(state="active").count()
    )
    if ctx.boolean("include_datasets"):
        found["packages"] = [
            selectors.package_dict(d) for d in selectors.datasets().filter(organization=organization)[:1000]
        ]
    return found


@action("group_list")
def group_list(ctx: Context) -> list[Any]:
    rows = selectors.groups_with_counts()
    if ctx.boolean("all_fields"):
        return [selectors.group_dict(g, package_count=n) for g, n in rows]
    return [g.name for g, _n in rows]


@action("group_show")
def group_show(ctx: Context) -> dict[str, Any]:
    group = selectors.group_get(ctx.required("id"))
    found = selectors.group_dict(group, package_count=group.datasets.filter(state="active").count())
    if ctx.boolean("include_datasets"):
        found["packages"] = [selectors.package_dict(d) for d in selectors.datasets().filter(groups=group)[:1000]]
    return found


@action("tag_list")
def tag_list(ctx: Context) -> list[str]:
    return selectors.tag_names(ctx.text("query"))


@action("license_list")
def license_list(ctx: Context) -> list[dict[str, Any]]:
    return [
        {"id": lic.id, "title": lic.title, "url": lic.url, "od_conformance": lic.od_conformance, "status": "active"}
        for lic in LICENCES
    ]


# --- the datastore ---------------------------------------------------------------------------------


def _datastore_resource(ctx: Context, key: str = "resource_id") -> Resource:
    found = selectors.resource_get(ctx.required(key))
    if not found.datastore_active:
        raise NotFound("not_found", _("This resource has no datastore table."), field=key)
    return found


def _columns(resource: Resource) -> list[tuple[str, str]]:
    return [(f["id"], datastore.FROM_CKAN[f["type"]]) for f in resource.fields]


def _fields_out(resource: Resource) -> list[dict[str, Any]]:
    return [{"id": "_id", "type": "int"}, *resource.fields]


def _records(columns: list[tuple[str, str]], names: list[str], rows: list[tuple[object, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in rows]


@action("datastore_search")
def datastore_search(ctx: Context) -> dict[str, Any]:
    resource = _datastore_resource(ctx)
    columns = _columns(resource)
    filters = ctx.json_value("filters", {})
    if not isinstance(filters, dict):
        raise DomainError("invalid_value", _("filters is a JSON object of column: value."), field="filters")
    sort = []
    for part in ctx.text("sort").split(","):
        words = part.split()
        if words:
            sort.append((words[0].strip('"'), len(words) > 1 and words[1].lower() == "desc"))
    chosen = ctx.json_value("fields", None)
    if isinstance(chosen, str):
        chosen = [f.strip() for f in chosen.split(",") if f.strip()]
    names = chosen or ["_id", *(n for n, _k in columns)]
    limit = ctx.integer("limit", 100, high=config.OPENDATA_SQL_ROWS_MAX.read())
    offset = ctx.integer("offset", 0)
    total, rows = datastore.search(
        table=str(resource.id),
        columns=columns,
        filters=filters,
        q=ctx.text("q"),
        sort=sort,
        limit=limit,
        offset=offset,
        fields=names,
    )
    fields = [f for f in _fields_out(resource) if f["id"] in names]
    return {
        "resource_id": str(resource.id),
        "fields": fields,
        "records": _records(columns, names, rows),
        "total": total,
        "total_was_estimated": False,
        "limit": limit,
        "offset": offset,
        "_links": {
            "start": f"/api/3/action/datastore_search?resource_id={resource.id}",
            "next": f"/api/3/action/datastore_search?resource_id={resource.id}&offset={offset + limit}",
        },
    }


@action("datastore_search_sql")
def datastore_search_sql(ctx: Context) -> dict[str, Any]:
    limit = config.OPENDATA_SQL_ROWS_MAX.read()
    names, rows, cut = datastore.sql_run(
        ctx.required("sql"), limit=limit, timeout_s=float(config.OPENDATA_SQL_TIMEOUT_S.read())
    )
    result: dict[str, Any] = {
        "sql": ctx.required("sql"),
        "fields": [{"id": n, "type": "text"} for n in names],
        "records": [dict(zip(names, row, strict=True)) for row in rows],
    }
    if cut:
        result["records_truncated"] = True
    return result


@action("datastore_info")
def datastore_info(ctx: Context) -> dict[str, Any]:
    resource = _datastore_resource(ctx, "id" if "id" in ctx.data else "resource_id")
    _names, rows, _cut = datastore.sql_run(
        f"SELECT count(*) FROM {datastore.quote(str(resource.id))}",  # noqa: S608 - a quoted resource id
        limit=1,
        timeout_s=10,
    )
    return {
        "meta": {"count": rows[0][0] if rows else 0, "table_type": "BASE TABLE", "id": str(resource.id)},
        "fields": [
            {"id": f["id"], "type": f["type"], "info": f.get("info", {}), "schema": {"native_type": f["type"]}}
            for f in resource.fields
        ],
    }


def _fields_in(ctx: Context) -> list[tuple[str, str]]:
    fields = ctx.json_value("fields", [])
    if not isinstance(fields, list) or not fields:
        raise DomainError("missing_value", _("List the table's fields."), field="fields")
    columns = []
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("id"), str):
            raise DomainError("invalid_value", _("Each field has an id."), field="fields")
        name, kind = field["id"], datastore.FROM_CKAN.get(str(field.get("type") or "text"))
        if kind is None or not datastore.COLUMN_NAME.fullmatch(name) or name == "_id":
            raise DomainError("invalid_value", _("Field %(name)s is not usable.") % {"name": name[:60]}, field="fields")
        columns.append((name, kind))
    if len({n for n, _k in columns}) != len(columns):
        raise DomainError("invalid_value", _("Each field is named once."), field="fields")
    return columns


def _record_rows(columns: list[tuple[str, str]], records: Any) -> list[tuple[object, ...]]:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DomainError("invalid_value", _("records is a list of objects."), field="records")
    known = {n for n, _k in columns}
    for record in records:
        unknown = set(record) - known
        if unknown:
            raise DomainError(
                "invalid_value", _("No such field: %(name)s") % {"name": sorted(unknown)[0][:60]}, field="records"
            )
    rows = []
    for record in records:
        row = []
        for name, kind in columns:
            value = record.get(name)
            if isinstance(value, str) and kind in {"date", "timestamp"}:
                try:
                    value = dt.date.fromisoformat(value) if kind == "date" else dt.datetime.fromisoformat(value)
                except ValueError:
                    raise DomainError(
                        "invalid_cell", _("%(name)s must be an ISO date.") % {"name": name}, field="records"
                    ) from None
            row.append(value)
        rows.append(tuple(row))
    return datastore.rows_check(columns, rows)


@action("datastore_create", write=True)
def datastore_create(ctx: Context) -> dict[str, Any]:
    principal = ctx.principal()
    principal.require("opendata.publish")
    columns = _fields_in(ctx)
    rows = _record_rows(columns, ctx.json_value("records", []))
    primary_key = ctx.json_value("primary_key", [])
    if isinstance(primary_key, str):
        primary_key = [primary_key]
    if not isinstance(primary_key, list) or not set(primary_key) <= {n for n, _k in columns}:
        raise DomainError("invalid_value", _("The primary key names fields of the table."), field="primary_key")
    with transaction.atomic():
        if "resource_id" in ctx.data:
            resource = selectors.resource_get(ctx.required("resource_id"))
            if resource.versions.exists():
                raise DomainError(
                    "versioned_resource", _("This table is published in versions by its agency."), field="resource_id"
                )
        else:
            spec = ctx.json_value("resource", None)
            if not isinstance(spec, dict):
                raise DomainError(
                    "missing_value", _("Give resource_id or a resource with its package_id."), field="resource"
                )
            resource = services.datastore_resource_create(principal=principal, data=spec)
        resource.fields = [{"id": n, "type": datastore.CKAN_TYPES[k]} for n, k in columns]
        resource.primary_key = primary_key
        resource.datastore_active = True
        resource.save()
        # Its dataset's dictionary shows the table's columns and that it is in the datastore.
        search.catalogue_changed([resource.dataset_id])
        datastore.table_write(table=str(resource.id), columns=columns, rows=rows, replace=True)
    return {
        "resource_id": str(resource.id),
        "fields": _fields_out(resource),
        "primary_key": primary_key,
        "method": "insert",
    }


@action("datastore_upsert", write=True)
def datastore_upsert(ctx: Context) -> dict[str, Any]:
    principal = ctx.principal()
    principal.require("opendata.publish")
    resource = _datastore_resource(ctx)
    if resource.versions.exists():
        raise DomainError(
            "versioned_resource", _("This table is published in versions by its agency."), field="resource_id"
        )
    method = ctx.text("method", "upsert")
    if method not in {"insert", "upsert"}:
        raise DomainError("invalid_value", _("method is insert or upsert."), field="method")
    columns = _columns(resource)
    rows = _record_rows(columns, ctx.json_value("records", []))
    if method == "upsert":
        if not resource.primary_key:
            raise DomainError("invalid_value", _("This table has no primary key to upsert on."), field="method")
        datastore.rows_upsert(table=str(resource.id), columns=columns, rows=rows, key=resource.primary_key)
    else:
        datastore.rows_insert(table=str(resource.id), columns=columns, rows=rows)
    return {"resource_id": str(resource.id), "method": method, "records": len(rows)}


@action("datastore_delete", write=True)
def datastore_delete(ctx: Context) -> dict[str, Any]:
    principal = ctx.principal()
    principal.require("opendata.publish")
    resource = _datastore_resource(ctx)
    if resource.versions.exists():
        raise DomainError(
            "versioned_resource", _("This table is published in versions by its agency."), field="resource_id"
        )
    filters = ctx.json_value("filters", {})
    if not isinstance(filters, dict):
        raise DomainError("invalid_value", _("filters is a JSON object of column: value."), field="filters")
    datastore.rows_delete(table=str(resource.id), filters=filters, known={n for n, _k in _columns(resource)} | {"_id"})
    if not filters:
        with transaction.atomic():
            Resource.objects.filter(pk=resource.pk).update(datastore_active=False, fields=[])
            search.catalogue_changed([resource.dataset_id])
    return {"resource_id": str(resource.id), "filters": filters}


# --- harvesting (the actions of CKAN's harvest extension) ------------------------------------------


def _source_dict(source: HarvestSource) -> dict[str, Any]:
    last = source.jobs.order_by("-started").first()
    return {
        "id": str(source.id),
        "name": source.name,
        "title": source.title,
        "url": source.url,
        "source_type": source.kind,
        "frequency": source.frequency.upper(),
        "owner_org": str(source.organization_id),
        "active": source.active,
        "next_run": source.next_run.isoformat() if source.next_run else None,
        "status": {"last_job": _job_dict(last) if last is not None else None},
    }


def _job_dict(job: HarvestJob) -> dict[str, Any]:
    return {
        "id": str(job.pk),
        "source_id": str(job.source_id),
        "created": job.started.isoformat(),
        "finished": job.finished.isoformat() if job.finished else None,
        "status": job.status,
        "stats": {
            "added": job.created,
            "updated": job.updated,
            "not modified": job.unchanged,
            "deleted": job.deleted,
            "errored": job.errors,
        },
        "gather_errors": [e for e in job.log if e["level"] == "error" and not e["identifier"]],
        "object_errors": [e for e in job.log if e["level"] == "error" and e["identifier"]],
        "log": job.log,
    }


@action("harvest_source_list")
def harvest_source_list(ctx: Context) -> list[dict[str, Any]]:
    return [_source_dict(source) for source, _job in harvest.sources()]


@action("harvest_source_show")
def harvest_source_show(ctx: Context) -> dict[str, Any]:
    return _source_dict(harvest.source_get(ctx.required("id")))


@action("harvest_source_create", write=True)
def harvest_source_create(ctx: Context) -> dict[str, Any]:
    source = harvest.source_add(
        principal=ctx.principal(),
        name=ctx.required("name"),
        url=ctx.required("url"),
        kind=ctx.text("source_type", "ckan"),
        organization=ctx.required("owner_org"),
        title=ctx.text("title"),
        frequency=ctx.text("frequency", "daily").lower(),
    )
    return _source_dict(source)


@action("harvest_job_create", write=True)
def harvest_job_create(ctx: Context) -> dict[str, Any]:
    """Harvest the source now (CKAN queues the job; here it runs within the request, each answer of
    the source bounded by the harvest timeout)."""
    return _job_dict(harvest.source_run(principal=ctx.principal(), key=ctx.required("source_id")))


@action("harvest_job_list")
def harvest_job_list(ctx: Context) -> list[dict[str, Any]]:
    source = harvest.source_get(ctx.required("source_id"))
    return [_job_dict(job) for job in harvest.jobs_of(source, limit=ctx.integer("limit", 20, low=1, high=100))]
