"""The portal's pages for reporting a problem: the form (no script needed), a report's public page
(status, public updates, photos), the public list and map, and the signed-in person's own reports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from shapely.geometry import Point

from gov21.concerns import selectors, services
from gov21.concerns.forms import FilterForm, ReportForm, settlement_point
from gov21.concerns.photos import MAX_BYTES, MAX_PHOTOS, CleanPhoto, photo_clean
from gov21.core.errors import DomainError
from gov21.core.geography import geography
from gov21.geo.contracts import Feature, map_figure
from gov21.identity.contracts import portal_person_uin


def _photos(request: HttpRequest) -> list[CleanPhoto]:
    uploads = request.FILES.getlist("photos")
    if len(uploads) > MAX_PHOTOS:
        raise DomainError("too_many_photos", _("Add at most %(count)d photos.") % {"count": MAX_PHOTOS}, field="photos")
    cleaned = []
    for upload in uploads:
        if upload.size is None or upload.size > MAX_BYTES:
            raise DomainError(
                "photo_too_large",
                _("Each photo may be at most %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)},
                field="photos",
            )
        try:
            cleaned.append(photo_clean(upload.read()))
        except DomainError:
            raise DomainError(
                "photo_invalid", _("A photo must be a JPEG, PNG, WebP or GIF picture."), field="photos"
            ) from None
    return cleaned


@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST if request.method == "POST" else None)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            lat, lon, place = data["lat"], data["long"], ""
            if lat is None or lon is None:
                point = settlement_point(data["settlement"])
                if point is None:
                    errors["settlement"] = _("Choose a place from the list.")
                else:
                    lat, lon, place = point
            if not errors:
                try:
                    report = services.report_submit(
                        facts=services.ReportFacts(
                            service_code=data["service_code"],
                            lat=lat,
                            lon=lon,
                            address=", ".join(p for p in (data["street"], place) if p),
                            description=data["description"],
                            email=data["email"],
                            attributes=form.attributes(),
                        ),
                        person_uin=portal_person_uin(request) or "",
                        photos=_photos(request),
                        language=(get_language() or "en").split("-")[0],
                    )
                except DomainError as error:
                    field = error.field or "__all__"
                    if field.startswith("attribute["):
                        field = f"attribute_{data['service_code']}_{field[len('attribute[') : -1]}"
                    errors[field] = _message(error)
                else:
                    return redirect("concerns:report", report_id=report.pk)
        else:
            errors = form.first_errors()
    return render(
        request,
        "concerns/new.html",
        {"form": form, "errors": errors, "max_photos": MAX_PHOTOS, "figure": _place_map()},
        status=400 if errors else 200,
    )


def _place_map() -> str:
    """The country's settlements on a map where, with script, a click fills the latitude and longitude."""
    entries = [
        (Feature(id=f"{p.code}-{i}", geometry=Point(s.lon, s.lat), properties={"name": s.name}), None)
        for p in geography()
        for i, s in enumerate(p.settlements, 1)
    ]
    return map_figure(
        entries,
        label=_("Click the map where the problem is"),
        collections=["parishes", "reported-problems"],
        table=False,
        pick=("id_lat", "id_long"),
    )


def _message(error: DomainError) -> str:
    if error.field and error.field.startswith("attribute["):
        return _("Answer the question about this kind of problem.")
    known = {
        "outside_country": _("That position is not in the country."),
        "unknown_service_code": _("Choose a category from the list."),
        "missing_location": _("Choose the place, or give its latitude and longitude."),
    }
    return known.get(error.code, error.detail)


def report_page(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        row = selectors.request_get(report_id)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    figure = None
    if row["lat"] is not None:
        feature = Feature(
            id=str(row["id"]), geometry=Point(row["lon"], row["lat"]), properties={"name": row["category__name"]}
        )
        figure = map_figure([(feature, None)], label=_("Where the problem is"), collections=["reported-problems"])
    return render(
        request,
        "concerns/report.html",
        {
            "report": row,
            "updates": selectors.public_updates(report_id),
            "photos": selectors.photo_ids(report_id),
            "overdue": selectors.overdue(row),
            "figure": figure,
        },
    )


def report_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    code = form.value("service_code") if form.is_bound and form.is_valid() else ""
    status = form.value("status") if form.is_bound and form.is_valid() else ""
    rows = selectors.requests_select(
        selectors.RequestQuery(service_codes=[code] if code else (), statuses=[status] if status else (), limit=200)
    )
    entries = [
        (
            Feature(id=str(r["id"]), geometry=Point(r["lon"], r["lat"]), properties={"name": r["category__name"]}),
            f"/reports/{r['id']}/",
        )
        for r in rows
        if r["lat"] is not None
    ]
    figure = map_figure(entries, label=_("Reported problems"), collections=["reported-problems"], table=False)
    return render(request, "concerns/list.html", {"form": form, "rows": rows, "figure": figure})


def photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    try:
        jpeg = selectors.photo_get(photo_id)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def mine(request: HttpRequest) -> HttpResponse:
    uin = portal_person_uin(request)
    if not uin:
        return redirect(f"/sign-in?next={request.path}")
    return render(request, "concerns/mine.html", {"rows": selectors.reports_of_person(uin)})
