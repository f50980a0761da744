"""The Open311 GeoReport v2 API at ``/open311/v2/``, to the letter of the specification: discovery,
services, service definitions, requests (GET with its filters, POST with ``api_key``), one request,
and tokens; each in XML (required by the specification) and JSON, chosen by the resource's
extension. Errors are the specification's list of ``{"code", "description"}`` (``<errors>`` in XML)
with the matching HTTP status: 400 bad request, 403 bad ``api_key``, 404 unknown service code,
request or token.

The answers carry no personal data: the reporter's name, email, phone, device and account are for
the agency handling the report only (through the exchange, logged)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from xml.sax.saxutils import escape

from django import forms
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from gov21.concerns import selectors, services
from gov21.concerns.models import Category
from gov21.concerns.photos import photo_clean
from gov21.core.errors import DomainError

SPECIFICATION: Final = "http://wiki.open311.org/GeoReport_v2"
CHANGESET: Final = "2026-12-04T00:00:00Z"
FORMATS: Final = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# Elements whose XML holds a list of children of the given name.
_LIST_CHILD: Final = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}

Body = Mapping[str, Any] | list[Any]


# --- rendering -------------------------------------------------------------------------------------


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value)
    return escape(str(value))


def _xml(name: str, value: Any) -> str:
    if isinstance(value, Mapping):
        return f"<{name}>{''.join(_xml(k, v) for k, v in value.items())}</{name}>"
    if isinstance(value, list):
        child = _LIST_CHILD.get(name, "item")
        return f"<{name}>{''.join(_xml(child, v) for v in value)}</{name}>"
    return f"<{name}>{_xml_value(value)}</{name}>"


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return w3c(value)
    raise TypeError(type(value).__name__)


def render(body: Body, fmt: str, *, root: str, item: str = "", status: int = 200) -> HttpResponse:
    """``body`` in ``fmt``: a JSON document, or XML under ``root`` (a list's entries as ``item``)."""
    if fmt == "json":
        text = json.dumps(body, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    else:
        inner = (
            "".join(_xml(item, v) for v in body)
            if isinstance(body, list)
            else "".join(_xml(k, v) for k, v in body.items())
        )
        text = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{inner}</{root}>'
    return HttpResponse(text, status=status, content_type=FORMATS[fmt])


def errors(fmt: str, status: int, description: str) -> HttpResponse:
    return render([{"code": status, "description": description}], fmt, root="errors", item="error", status=status)


def w3c(moment: datetime) -> str:
    """A W3C date-time with its offset (the specification requires the time zone)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A resource in both formats; a domain error becomes the specification's error list."""

    def wrapped(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            return errors("json", 404, "The format must be json or xml.")
        try:
            return view(request, fmt, **kwargs)
        except DomainError as error:
            return errors(fmt, error.status if error.status in {400, 403, 404, 409, 413} else 400, error.detail)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


# --- resources -------------------------------------------------------------------------------------


@_endpoint
@require_http_methods(["GET"])
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": fmt})).rsplit("/", 1)[0]
    body = {
        "changeset": CHANGESET,
        "contact": "Government Services Portal, the reporting desk",
        "key_service": "Keys are issued by the portal's operators (gov21 open311 key create).",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base.rstrip("/"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(body, fmt, root="discovery")


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        # In the language the client asks for (Accept-Language), as the portal shows them; a name
        # an operator wrote that has no translation stays as written.
        "service_name": gettext(category.name),
        "description": gettext(category.description) if category.description else "",
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.keywords,
        "group": gettext(category.group) if category.group else "",
    }


@_endpoint
@require_http_methods(["GET"])
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    body = [_service(c) for c in selectors.categories()]
    return render(body, fmt, root="services", item="service")


@_endpoint
@require_http_methods(["GET"])
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = selectors.category_get(code)
    attributes = [
        {
            "variable": bool(a.get("variable", True)),
            "code": a["code"],
            "datatype": a["datatype"],
            "required": bool(a.get("required", False)),
            "datatype_description": a.get("datatype_description", ""),
            "order": a.get("order", i + 1),
            "description": gettext(a["description"]) if a.get("description") else "",
            **(
                {"values": [{"key": v["key"], "name": gettext(v["name"])} for v in a["values"]]}
                if a.get("values")
                else {}
            ),
        }
        for i, a in enumerate(category.attributes)
    ]
    return render({"service_code": category.code, "attributes": attributes}, fmt, root="service_definition")


def _request_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "service_request_id": str(row["id"]),
        "status": row["status"],
        "status_notes": row["status_notes"],
        "service_name": row["category__name"],
        "service_code": row["category__code"],
        "description": row["description"],
        "agency_responsible": row["agency"],
        "service_notice": "",
        "requested_datetime": row["requested_at"],
        "updated_datetime": row["updated_at"],
        "expected_datetime": row["expected_at"],
        "address": row["address"],
        "address_id": row["address_id"],
        "zipcode": "",
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": row["media_url"],
    }


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = parse_datetime(value.strip().replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise DomainError(
            "invalid_date",
            f"{name} must be a W3C date-time with a time zone, such as 2026-12-01T00:00:00Z.",
            status=400,
            field=name,
        )
    return moment


def _ids(value: str | None) -> list[int]:
    ids = _csv(value)
    if any(not part.isdigit() or len(part) > 18 for part in ids):
        raise DomainError(
            "invalid_id", "service_request_id is a list of numbers.", status=400, field="service_request_id"
        )
    return [int(part) for part in ids]


def _requests_get(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.GET
    statuses = _csv(params.get("status"))
    if not set(statuses) <= {"open", "closed"}:
        raise DomainError("invalid_status", "status is open, closed or both.", status=400, field="status")
    agency = ""
    if params.get("api_key"):
        agency = services.key_check(params.get("api_key")).agency
    query = selectors.RequestQuery(
        ids=_ids(params.get("service_request_id")),
        service_codes=_csv(params.get("service_code")),
        statuses=statuses,
        start=_moment(params.get("start_date"), "start_date"),
        end=_moment(params.get("end_date"), "end_date"),
        agency=agency,
    )
    if query.start and query.end and query.start > query.end:
        raise DomainError("invalid_date", "start_date is after end_date.", status=400, field="start_date")
    body = [_request_row(row) for row in selectors.requests_select(query)]
    return render(body, fmt, root="service_requests", item="request")


class RequestForm(forms.Form):
    """The fields of POST Service Request (``attribute[code]`` and ``media`` are read beside it)."""

    api_key = forms.CharField(required=False, max_length=200)
    service_code = forms.CharField(required=False, max_length=40)
    lat = forms.FloatField(required=False)
    long = forms.FloatField(required=False)
    address_string = forms.CharField(required=False, max_length=300, strip=False)
    address_id = forms.CharField(required=False, max_length=100)
    email = forms.CharField(required=False, max_length=254)
    device_id = forms.CharField(required=False, max_length=100)
    account_id = forms.CharField(required=False, max_length=100)
    first_name = forms.CharField(required=False, max_length=100)
    last_name = forms.CharField(required=False, max_length=100)
    phone = forms.CharField(required=False, max_length=40)
    description = forms.CharField(required=False, max_length=4000, strip=False)
    media_url = forms.CharField(required=False, max_length=1000)


def attributes_from(data: Iterable[str], getlist: Callable[[str], list[str]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in data:
        if key.startswith("attribute[") and key.endswith("]"):
            values = getlist(key)
            found[key[len("attribute[") : -1]] = values if len(values) > 1 else values[0]
    return found


def _requests_post(request: HttpRequest, fmt: str) -> HttpResponse:
    form = RequestForm(request.POST)
    if not form.is_valid():
        name, messages = next(iter(form.errors.items()))
        raise DomainError("invalid_field", f"{name}: {' '.join(str(m) for m in messages)}", status=400, field=name)
    data = form.cleaned_data
    client_key = services.key_check(data["api_key"])
    if not data["service_code"]:
        raise DomainError("missing_service_code", "service_code is required.", status=400, field="service_code")
    photos = [photo_clean(upload.read(services_photo_limit(upload.size))) for upload in request.FILES.getlist("media")]
    facts = services.ReportFacts(
        service_code=data["service_code"],
        lat=data["lat"],
        lon=data["long"],
        address=data["address_string"],
        address_id=data["address_id"],
        description=data["description"],
        media_url=data["media_url"],
        attributes=attributes_from(request.POST.keys(), request.POST.getlist),
        email=data["email"],
        phone=data["phone"],
        first_name=data["first_name"],
        last_name=data["last_name"],
        device_id=data["device_id"],
        account_id=data["account_id"],
    )
    report = services.report_submit(facts=facts, client_key=client_key, photos=photos)
    body = [{"service_request_id": str(report.pk), "service_notice": "", "account_id": report.account_id or None}]
    return render(body, fmt, root="service_requests", item="request", status=201)


def services_photo_limit(size: int | None) -> int:
    """How much of an upload to read: refused before reading when it is over the limit."""
    from gov21.concerns.photos import MAX_BYTES

    if size is None or size > MAX_BYTES:
        raise DomainError(
            "photo_too_large", f"A photo may be at most {MAX_BYTES // (1024 * 1024)} MB.", status=413, field="media"
        )
    return size


@_endpoint
@require_http_methods(["GET", "POST"])
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _requests_post(request, fmt)
    return _requests_get(request, fmt)


@_endpoint
@require_http_methods(["GET"])
def request_one(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    ids = _ids(service_request_id)
    if len(ids) != 1:
        raise DomainError("invalid_id", "Give one service_request_id.", status=400, field="service_request_id")
    row = selectors.request_get(ids[0])
    return render([_request_row(row)], fmt, root="service_requests", item="request")


@_endpoint
@require_http_methods(["GET"])
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    row = selectors.request_by_token(token)
    body = [{"service_request_id": str(row["id"]), "token": row["token"]}]
    return render(body, fmt, root="service_requests", item="request")
