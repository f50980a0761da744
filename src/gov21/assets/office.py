"""The office pages of the asset register (``/office/assets/``) and of disaster response
(``/office/disasters/``): lists, an asset's page with its map and inspections, a disaster's impact
with its map, residents, damage assessments and their cost. Every page works without script."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.assets import selectors, services
from gov21.assets.collections import asset_feature, event_feature
from gov21.assets.forms import (
    AssessmentForm,
    AssetEditForm,
    AssetFilterForm,
    AssetForm,
    EventForm,
    InspectionForm,
    ResidentsPageForm,
    ResidentsPurposeForm,
)
from gov21.assets.models import Asset, AssetKind, DamageLevel
from gov21.assets.records import DAMAGE_COST_PERCENT, AssessmentFacts, AssetFacts, EventFacts, InspectionFacts
from gov21.core.errors import DomainError
from gov21.core.forms import Form
from gov21.core.geo import geometry_json
from gov21.core.geography import parish_name
from gov21.core.http import spreadsheet_safe
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.geo.contracts import map_figure

PAGE = 100
# The most assets drawn on one map: beyond it the table says how many more there are.
MAP_MAX = 500


def _refused_assets(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow this in the register of public assets.")
    return render(request, "core/error.html", {"status": 403, "detail": detail}, status=403)


def _refused_disasters(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow this in disaster response.")
    return render(request, "core/error.html", {"status": 403, "detail": detail}, status=403)


assets_page = Office(
    home="assets_office:list", home_label=gettext_lazy("Go to the public assets"), refuse=_refused_assets
).page
disasters_page = Office(
    home="disasters_office:list", home_label=gettext_lazy("Go to the disasters"), refuse=_refused_disasters
).page


def _errors(form: Form, error: DomainError | None = None) -> list[dict[str, str]]:
    """The error summary: each message, linked to its field when the form has it."""
    listed = [
        {"message": message, "href": f"#id_{name}" if name in form.fields else ""}
        for name, message in form.first_errors().items()
    ]
    if error is not None:
        field = error.field if error.field in form.fields else None
        listed.append({"message": error.detail, "href": f"#id_{field}" if field else ""})
        if field is not None:
            form.add_error(field, error.detail)
    return listed


def _uploaded_text(upload: UploadedFile | None, typed: str) -> str:
    if upload is not None:
        data = upload.read(services.AREA_MAX_BYTES + 1)
        try:
            return str(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise DomainError("invalid_geometry", _("The file is not UTF-8 text."), field="area") from None
    return typed


def _geojson(text: str, field: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        raise DomainError("invalid_geometry", _("The geometry is not GeoJSON text."), field=field) from None


# --- assets ---------------------------------------------------------------------------------------


@never_cache
@require_GET
@assets_page("assets.read")
def asset_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = AssetFilterForm(request.GET or None)
    chosen = {name: form.value(name) for name in ("kind", "parish", "agency", "condition")}
    rows = selectors.assets_filter(**chosen)
    offset = max(0, min(int(request.GET["offset"]) if request.GET.get("offset", "").isdigit() else 0, 10**9))
    total = rows.count()
    page = list(rows[offset : offset + PAGE])
    query = request.GET.copy()
    query["offset"] = str(offset + PAGE)
    context = {
        "form": form,
        "assets": page,
        "total": total,
        "first": offset + 1,
        "last": offset + len(page),
        "next_url": f"?{query.urlencode()}" if offset + PAGE < total else "",
        "may_write": principal.can("assets.write"),
        "map": map_figure(
            [
                (asset_feature(selectors.asset_row(a)), reverse("assets_office:asset", args=[a.code]))
                for a in page[:MAP_MAX]
            ],
            label=_("Map of the assets listed"),
        ),
    }
    return render(request, "assets/list.html", context)


def _asset_fields(data: dict[str, Any], *, code: str) -> dict[str, Any]:
    """An asset's facts from the add or edit form (the geometry typed, or from the file chosen)."""
    text = _uploaded_text(data["geometry_file"], data["geometry"])
    if not text:
        raise DomainError("geometry_required", _("Give the asset's geometry."), field="geometry")
    return {
        "code": code,
        "name": data["name"],
        "kind": data["kind"],
        "agency": data["agency"].upper(),
        "condition": data["condition"],
        "replacement_value_cents": data["replacement_value"],
        "currency": data["currency"].upper(),
        "criticality": data["criticality"],
        "capacity": data["capacity"],
        "road_class": data["road_class"] or None,
        "road_surface": data["road_surface"] or None,
        "geometry": _geojson(text, "geometry"),
    }


def _asset_initial(asset: Asset) -> dict[str, Any]:
    """The edit form filled with the asset as it stands."""
    value = Decimal(asset.replacement_value_cents) / 100
    return {
        "name": asset.name,
        "kind": asset.kind,
        "agency": asset.agency,
        "condition": asset.condition,
        "replacement_value": f"{value:.2f}",
        "currency": asset.currency,
        "criticality": asset.criticality,
        "capacity": "" if asset.capacity is None else str(asset.capacity),
        "road_class": asset.road_class,
        "road_surface": asset.road_surface,
        "geometry": json.dumps(geometry_json(asset.geometry, digits=7)),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@assets_page("assets.write")
def asset_edit(request: HttpRequest, principal: Principal, code: str) -> HttpResponse:
    """Change an asset: a new version with the reason, the earlier ones kept and listed on its page."""
    asset = selectors.asset_get(code=code, actor=principal)
    if request.method == "POST":
        form = AssetEditForm(request.POST, request.FILES)
    else:
        form = AssetEditForm(initial=_asset_initial(asset))
    errors: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                fields = _asset_fields(form.cleaned_data, code=asset.code)
                facts = services.facts_parse(AssetFacts, fields)
                changed = services.asset_update(facts=facts, reason=form.cleaned_data["reason"], actor=principal)
            except DomainError as error:
                if error.status in (401, 403):
                    raise
                errors, status = _errors(form, error), 422
            else:
                messages.success(
                    request, _("Version %(version)d of the asset is recorded.") % {"version": changed.version}
                )
                return redirect("assets_office:asset", code=asset.code)
        else:
            errors, status = _errors(form), 422
    return render(request, "assets/edit.html", {"form": form, "errors": errors, "asset": asset}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@assets_page("assets.write")
def asset_add(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = AssetForm(request.POST or None, request.FILES or None)
    errors: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                fields = _asset_fields(form.cleaned_data, code=form.cleaned_data["code"])
                asset = services.asset_add(facts=services.facts_parse(AssetFacts, fields), actor=principal)
            except DomainError as error:
                errors, status = _errors(form, error), 422
            else:
                messages.success(request, _("The asset %(code)s is registered.") % {"code": asset.code})
                return redirect("assets_office:asset", code=asset.code)
        else:
            errors, status = _errors(form), 422
    return render(request, "assets/add.html", {"form": form, "errors": errors}, status=status)


def _asset_page(
    request: HttpRequest, principal: Principal, code: str, *, form: InspectionForm | None = None,
    errors: list[dict[str, str]] | None = None, status: int = 200,
) -> HttpResponse:  # fmt: skip
    asset = selectors.asset_get(code=code, actor=principal)
    context = {
        "asset": asset,
        "parish_name": parish_name(asset.parish) if asset.parish else "",
        "kind_label": AssetKind(asset.kind).label,
        "inspections": selectors.asset_inspections(asset),
        "changes": list(asset.changes.order_by("-version")),
        "form": form or InspectionForm(),
        "errors": errors or [],
        "may_write": principal.can("assets.write"),
        "map": map_figure(
            [(asset_feature(selectors.asset_row(asset)), None)], label=_("Map of %(name)s") % {"name": asset.name}
        ),
    }
    return render(request, "assets/asset.html", context, status=status)


@never_cache
@require_GET
@assets_page("assets.read")
def asset_detail(request: HttpRequest, principal: Principal, code: str) -> HttpResponse:
    return _asset_page(request, principal, code)


@require_POST
@assets_page("assets.write")
def asset_inspect(request: HttpRequest, principal: Principal, code: str) -> HttpResponse:
    form = InspectionForm(request.POST)
    if not form.is_valid():
        return _asset_page(request, principal, code, form=form, errors=_errors(form), status=422)
    try:
        services.inspection_record(code=code, facts=InspectionFacts(**form.cleaned_data), actor=principal)
    except DomainError as error:
        if error.status == 404:
            raise
        return _asset_page(request, principal, code, form=form, errors=_errors(form, error), status=422)
    messages.success(request, _("The inspection is recorded."))
    return redirect("assets_office:asset", code=code)


# --- disasters ------------------------------------------------------------------------------------


@never_cache
@require_GET
@disasters_page("disaster.read")
def event_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    context = {"events": selectors.events_recent(actor=principal), "may_declare": principal.can("disaster.declare")}
    return render(request, "assets/events.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@disasters_page("disaster.declare")
def event_declare(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = EventForm(request.POST or None, request.FILES or None)
    errors: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                text = _uploaded_text(data["area_file"], data["area"])
                if not text:
                    raise DomainError("area_required", _("Paste the area as GeoJSON or choose a file."), field="area")
                area = services.area_parse(text, buffer_km=data["buffer_km"])
                facts = EventFacts(name=data["name"], kind=data["kind"], occurred_on=data["occurred_on"])
                event = services.disaster_declare(facts=facts, area=area, actor=principal)
            except DomainError as error:
                errors, status = _errors(form, error), 422
            else:
                messages.success(request, _("The disaster is declared. Here is what it struck."))
                return redirect("disasters_office:event", event_id=event.pk)
        else:
            errors, status = _errors(form), 422
    return render(request, "assets/declare.html", {"form": form, "errors": errors}, status=status)


def _offset(request: HttpRequest, total: int) -> int:
    """Where a page of a list starts (``?offset=``): a whole number within the list, else its start."""
    text = request.GET.get("offset", "")
    offset = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0
    return offset if offset < total else 0


def _event_page(
    request: HttpRequest, principal: Principal, event_id: int, *, form: AssessmentForm | None = None,
    errors: list[dict[str, str]] | None = None, status: int = 200,
) -> HttpResponse:  # fmt: skip
    event = selectors.event_get(event_id=event_id, actor=principal)
    impact = selectors.event_impact(event=event, actor=principal)
    entries = [(event_feature(event), None)] + [
        (asset_feature(a), reverse("assets_office:asset", args=[a.code])) for a in impact.assets[:MAP_MAX]
    ]
    summary = selectors.damage_summary(event=event, actor=principal)
    offset = _offset(request, len(impact.assets))
    shown = impact.assets[offset : offset + PAGE]
    context = {
        "event": event,
        "impact": impact,
        "assets_shown": shown,
        "assets_first": offset + 1,
        "assets_last": offset + len(shown),
        "assets_next": f"?offset={offset + PAGE}#assets" if offset + PAGE < len(impact.assets) else "",
        "assets_previous": f"?offset={max(0, offset - PAGE)}#assets" if offset > 0 else "",
        "kinds": selectors.assets_in_event_counts(impact),
        "kind_labels": dict(AssetKind.choices),
        "map": map_figure(entries, label=_("Map of the area struck and the assets in it")),
        "assessments": selectors.assessments_all(event),
        "summary": summary,
        "levels": [DamageLevel(level).label for level in DAMAGE_COST_PERCENT],
        "cost_shares": [(DamageLevel(level).label, share) for level, share in DAMAGE_COST_PERCENT.items()],
        "form": form or AssessmentForm(),
        "errors": errors or [],
        "may_assess": principal.can("disaster.assess"),
        "may_name": principal.can("disaster.residents"),
        "more_on_map": max(0, len(impact.assets) - MAP_MAX),
    }
    return render(request, "assets/event.html", context, status=status)


@never_cache
@require_GET
@disasters_page("disaster.read")
def event_detail(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    return _event_page(request, principal, event_id)


@require_POST
@disasters_page("disaster.assess")
def event_assess(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    form = AssessmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _event_page(request, principal, event_id, form=form, errors=_errors(form), status=422)
    data = form.cleaned_data
    try:
        facts = services.facts_parse(
            AssessmentFacts,
            {
                "asset": data["asset"] or None,
                "parcel_number": data["parcel_number"],
                "parish": data["parish"],
                "level": data["level"],
                "notes": data["notes"],
            },
        )
        photos = [
            services.Photo(upload.name or "photo", upload.read(services.PHOTO_MAX_BYTES + 1))
            for upload in data["photos"]
        ]
        services.assessment_record(event_id=event_id, facts=facts, photos=photos, actor=principal)
    except DomainError as error:
        if error.status == 404 and error.field is None:
            raise
        return _event_page(request, principal, event_id, form=form, errors=_errors(form, error), status=422)
    messages.success(request, _("The damage assessment is recorded."))
    return redirect(reverse("disasters_office:event", args=[event_id]) + "#assessments")


@require_GET
@disasters_page("disaster.read")
def photo(request: HttpRequest, principal: Principal, sha256: str) -> HttpResponse:
    found = selectors.photo_get(sha256=sha256, actor=principal)
    if found is None:
        raise Http404
    content, media_type = found
    response = HttpResponse(content, content_type=media_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- residents named, for a purpose ---------------------------------------------------------------


def _place_choices(event_id: int, principal: Principal) -> tuple[Any, list[tuple[str, str]]]:
    """The disaster and the places its residents may be asked for: the whole area, then each
    settlement inside it with its parish."""
    event = selectors.event_get(event_id=event_id, actor=principal)
    _touched, inside = selectors.places_within(event.geometry)
    whole = _("Every settlement in the area (%(n)s)") % {"n": len(inside)}
    places = [("", whole)] + [
        (selectors.settlement_key(code, name), f"{name} ({parish_name(code)})") for code, name in inside
    ]
    return event, places


@never_cache
@require_http_methods(["GET", "POST"])
@disasters_page("disaster.residents")
def residents_state(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    """State why you need the residents by name; the names follow on the next page."""
    event, places = _place_choices(event_id, principal)
    form = ResidentsPurposeForm.bind(request, places=places)
    errors: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                listing = services.residents_listing_state(
                    event_id=event.pk,
                    purpose=data["purpose"],
                    reason=data["reason"],
                    place=data["place"],
                    actor=principal,
                )
            except DomainError as error:
                if error.status in (403, 404):
                    raise
                errors, status = _errors(form, error), 422
            else:
                return redirect("disasters_office:residents_named", event_id=event.pk, listing_id=listing.pk)
        else:
            errors, status = _errors(form), 422
    context = {"event": event, "form": form, "errors": errors, "hours": selectors.LISTING_HOURS}
    return render(request, "assets/residents_purpose.html", context, status=status)


def _page_asked(request: HttpRequest) -> int:
    form = ResidentsPageForm(request.GET)
    return int(form.cleaned().get("page") or 1)


@never_cache
@require_GET
@disasters_page("disaster.residents")
def residents_named(request: HttpRequest, principal: Principal, event_id: int, listing_id: int) -> HttpResponse:
    listing = selectors.listing_get(event_id=event_id, listing_id=listing_id, actor=principal)
    named = selectors.residents_named(listing=listing, page=_page_asked(request), actor=principal)
    here = reverse("disasters_office:residents_named", args=[event_id, listing_id])
    context = {
        "event": listing.event,
        "listing": listing,
        "named": named,
        "first": (named.page - 1) * selectors.NAMED_PAGE + 1,
        "last": (named.page - 1) * selectors.NAMED_PAGE + len(named.residents),
        "previous_url": f"{here}?page={named.page - 1}" if named.page > 1 else "",
        "next_url": f"{here}?page={named.page + 1}" if named.page < named.pages else "",
        "csv_url": reverse("disasters_office:residents_csv", args=[event_id, listing_id]),
        "purpose_label": listing.get_purpose_display(),
        "place_label": f"{listing.settlement} ({parish_name(listing.parish)})" if listing.settlement else "",
    }
    return render(request, "assets/residents_named.html", context)


# The columns of the download, in order: the field each is read from, and its heading.
CSV_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("uin", gettext_lazy("UIN")),
    ("family_name", gettext_lazy("Family name")),
    ("given_names", gettext_lazy("Given names")),
    ("sex", gettext_lazy("Sex")),
    ("birth_date", gettext_lazy("Date of birth")),
    ("age", gettext_lazy("Age")),
    ("parish", gettext_lazy("Parish")),
    ("settlement", gettext_lazy("Settlement")),
    ("address_line", gettext_lazy("Address")),
    ("household", gettext_lazy("Household")),
    ("household_size", gettext_lazy("People in the household")),
    ("child_under_5", gettext_lazy("Child under 5")),
    ("aged_75_plus", gettext_lazy("Aged 75 or more")),
)


@never_cache
@require_GET
@disasters_page("disaster.residents")
def residents_csv(request: HttpRequest, principal: Principal, event_id: int, listing_id: int) -> HttpResponse:
    """Every resident the statement asks for, as CSV: read whole before answering, so a refusal of
    the registry is a problem page, never a download cut short."""
    listing = selectors.listing_get(event_id=event_id, listing_id=listing_id, actor=principal)
    residents = list(selectors.residents_named_all(listing=listing, actor=principal))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(heading) for _name, heading in CSV_COLUMNS])
    yes, no = _("yes"), _("no")
    for person in residents:
        cells = [getattr(person, name) for name, _heading in CSV_COLUMNS]
        writer.writerow([spreadsheet_safe(yes if c is True else no if c is False else c) for c in cells])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="disaster-{event_id}-residents-{listing_id}.csv"'
    return response
