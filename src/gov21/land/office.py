"""The land registry's back office at /office/land/: the transactions waiting for action, lodging a
transfer or a mortgage, checking, registering or rejecting (never one's own), completing an
inheritance with the heirs, and a parcel's page with its map, its title as of any date and its
history. Reads go through the selectors (each read of who owns land is logged with its purpose)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import shapely
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from gov21.core.errors import DomainError
from gov21.core.geo import geometry_json
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.geo.contracts import Feature, map_figure
from gov21.land import selectors, services
from gov21.land.collections import parcel_feature
from gov21.land.forms import (
    LAND_USES,
    AsOfForm,
    DecisionForm,
    DischargeForm,
    EasementForm,
    FirstRegistrationForm,
    HeirsForm,
    LeaseForm,
    LodgingForm,
    MergerForm,
    MortgageForm,
    ParcelFindForm,
    SubdivisionForm,
    TransferForm,
)
from gov21.land.lodging import Shape, documents_store, parcel_current, polygons_split, preview_map, shapes_read
from gov21.land.records import (
    DischargeFacts,
    EasementFacts,
    Facts,
    FirstRegistrationFacts,
    LeaseFacts,
    MergerFacts,
    MortgageFacts,
    PartPlan,
    PartyRef,
    SubdivisionFacts,
    TransferFacts,
)

# Why the office reads a title: shown to the owners among the uses of their data.
OFFICE_PURPOSE = gettext_noop("Land registry office: the parcel's page")


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow this in the land register.")
    return render(request, "land/refused.html", {"detail": detail}, status=403)


office_page = Office(home="land:home", home_label=gettext_lazy("Go to the land register"), refuse=_refused).page


@never_cache
@require_http_methods(["GET"])
@office_page("land.read")
def home(request: HttpRequest, principal: Principal) -> HttpResponse:
    find = ParcelFindForm(request.GET if "number" in request.GET else None)
    if find.is_bound and find.is_valid():
        return HttpResponseRedirect(reverse("land:parcel", args=[find.cleaned_data["number"]]))
    context = {
        "find": find,
        "errors": find.first_errors() if find.is_bound else {},
        "open": selectors.transactions_open(actor=principal),
        "can_lodge": principal.can("land.lodge"),
    }
    return render(request, "land/home.html", context)


@never_cache
@require_http_methods(["GET"])
@office_page("land.read")
def parcel(request: HttpRequest, principal: Principal, number: str) -> HttpResponse:
    when = AsOfForm(request.GET if "as_of" in request.GET else None)
    as_of = when.cleaned_data.get("as_of") if when.is_bound and when.is_valid() else None
    title = selectors.parcel_title(number=number, actor=principal, purpose=OFFICE_PURPOSE, as_of=as_of)
    history = selectors.parcel_history(number=number, actor=principal, purpose=OFFICE_PURPOSE)
    row = selectors.parcel_at(number, title.as_of)
    entries: list[tuple[Feature, str | None]] = [(parcel_feature(row), None)]
    if row.valid_to is None:
        entries += [
            (parcel_feature(near), reverse("land:parcel", args=[near.number])) for near in selectors.parcels_near(row)
        ]
    context = {
        "title": title,
        "history": history,
        "when": when,
        "errors": when.first_errors() if when.is_bound else {},
        "map": map_figure(entries, label=_("Parcel %(number)s and its neighbours") % {"number": number}),
        "current": as_of is None,
        "can_lodge": principal.can("land.lodge"),
    }
    return render(request, "land/parcel.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.read")
def transaction(request: HttpRequest, principal: Principal, number: str) -> HttpResponse:
    tx = selectors.transaction_get(number=number, actor=principal)
    decision = DecisionForm(request.POST if request.method == "POST" and "action" in request.POST else None)
    heirs = HeirsForm(request.POST if request.method == "POST" and "heirs" in request.POST else None)
    status = 200
    if decision.is_bound and decision.is_valid():
        action = decision.cleaned_data["action"]
        if action == "check":
            services.transaction_check(number=number, actor=principal)
        elif action == "register":
            services.transaction_register(number=number, actor=principal)
        else:
            services.transaction_reject(number=number, reason=decision.cleaned_data["reason"], actor=principal)
        return HttpResponseRedirect(reverse("land:transaction", args=[number]))
    if heirs.is_bound and heirs.is_valid():
        services.inheritance_heirs_set(number=number, heirs=heirs.cleaned_data["heirs"], actor=principal)
        return HttpResponseRedirect(reverse("land:transaction", args=[number]))
    if decision.is_bound or heirs.is_bound:
        status = 422
    context = {
        "tx": tx,
        "steps": list(tx.steps.all()),
        "sources": list(tx.sources.all()),
        "decision": decision,
        "decision_errors": decision.first_errors() if decision.is_bound else {},
        "heirs": heirs,
        "heirs_errors": heirs.first_errors() if heirs.is_bound else {},
        "can_decide": principal.can("land.decide") and tx.state in ("lodged", "checked"),
        "needs_heirs": tx.kind == "inheritance" and tx.state == "lodged" and not tx.facts.get("heirs"),
        "can_lodge": principal.can("land.lodge"),
    }
    return render(request, "land/transaction.html", context, status=status)


@dataclass
class _Plan:
    """What a lodging form asks, read: the facts to lodge and the map to draw of them (if any)."""

    facts: Facts
    map: SafeString | None = None


def _field_of(form: LodgingForm, error: DomainError) -> str | None:
    """The form's field a service's refusal is about (``parts.1`` is the parts' box), or None."""
    name = (error.field or "").split(".")[0]
    if name == "sources":
        return "document_1"
    return name if name in form.fields else None


def _lodging(
    request: HttpRequest, principal: Principal, form: LodgingForm, template: str, plan: Callable[[Any], _Plan]
) -> HttpResponse:
    """A lodging page: the form; posted, the documents kept, the facts read and checked and either
    drawn on the map (the preview button) or lodged; refused, the form again with what is wrong, on
    the map where it is a matter of geometry, and the documents already kept listed."""
    status, drawn, kept = 200, None, []
    if form.is_bound and form.is_valid():
        hashes, refused = documents_store(form.uploads(), actor=principal)
        kept = list(dict.fromkeys([*form.cleaned_data["kept"], *hashes]))
        for name, detail in refused:
            form.add_error(name, detail)
        try:
            read = plan(form)
            drawn = read.map
            if not refused and "preview" not in request.POST:
                tx = services.transaction_lodge(facts=read.facts, actor=principal, sources=kept)
                return HttpResponseRedirect(reverse("land:transaction", args=[tx.number]))
        except DomainError as error:
            if error.status in (401, 403):
                raise
            form.add_error(_field_of(form, error), error.detail)
    if form.is_bound and form.errors:
        status = 422
    context = {
        "form": form,
        "errors": form.first_errors() if form.is_bound else {},
        "map": drawn,
        "kept": selectors.sources_kept(kept),
    }
    return render(request, template, context, status=status)


def _person(uin: str) -> PartyRef:
    return PartyRef(kind="person", identifier=uin)


def _represents(data: dict[str, Any]) -> PartyRef | None:
    return _person(data["represents"]) if data.get("represents") else None


def _parcel_map(numbers: list[str], label: str, shapes: list[Shape] | None = None, name: str = "") -> SafeString | None:
    parents = [p for p in (parcel_current(n) for n in numbers) if p is not None]
    return preview_map(shapes=shapes or [], parents=parents, name=name, label=label)


def _facts(make: Callable[..., Facts], **fields: Any) -> Facts:
    """The facts' record, or a ``DomainError`` saying which of what was read does not fit it."""
    try:
        return make(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DomainError(
            "invalid_facts",
            _("%(field)s: %(problem)s") % {"field": where, "problem": first["msg"]},
            field=str(first["loc"][0]) if first["loc"] else None,
        ) from None


def _transfer(form: TransferForm) -> _Plan:
    data = form.cleaned_data
    facts = _facts(
        TransferFacts,
        parcel=data["parcel"],
        applicant=_person(data["applicant"]),
        represents=_represents(data),
        buyers=data["buyers"],
    )
    return _Plan(facts, _parcel_map([data["parcel"]], _("The parcel sold")))


def _mortgage(form: MortgageForm) -> _Plan:
    data = form.cleaned_data
    cents = int((Decimal(data["amount"]) * 100).to_integral_value())
    facts = _facts(
        MortgageFacts,
        parcel=data["parcel"],
        applicant=_person(data["applicant"]),
        represents=_represents(data),
        lender=data["lender"],
        amount_cents=cents,
    )
    return _Plan(facts, _parcel_map([data["parcel"]], _("The parcel mortgaged")))


def _use(value: str, field: str) -> str:
    if value and value not in dict(LAND_USES):
        raise DomainError(
            "invalid_land_use",
            _("%(use)s is not a land use the register knows: use one of %(uses)s.")
            % {"use": value, "uses": ", ".join(dict(LAND_USES))},
            field=field,
        )
    return value


def _first_registration(form: FirstRegistrationForm) -> _Plan:
    data = form.cleaned_data
    shapes = shapes_read(data["geometry"], data["geometry_file"], field="geometry")
    if not shapes:
        raise DomainError(
            "geometry_required",
            _("Give the parcel's boundary: type or paste it, or choose its file."),
            field="geometry",
        )
    if len(shapes) != 1:
        raise DomainError(
            "one_boundary",
            _("A parcel has one boundary; this gives %(count)d. Lodge each parcel on its own.")
            % {"count": len(shapes)},
            field="geometry",
        )
    buildings = polygons_split(shapes_read(data["buildings"], None, field="buildings"))
    drawing = preview_map(
        shapes=shapes, name=_("The new parcel"), label=_("The boundary lodged and the parcels around it")
    )
    facts = _facts(
        FirstRegistrationFacts,
        parish=data["parish"],
        land_use=data["land_use"],
        geometry=shapes[0].geometry,
        owners=data["owners"],
        buildings=[b.geometry for b in buildings],
    )
    return _Plan(facts, drawing)


def _subdivision(form: SubdivisionForm) -> _Plan:
    data = form.cleaned_data
    parts = polygons_split(shapes_read(data["parts"], data["parts_file"], field="parts"))
    if len(parts) < 2:
        raise DomainError(
            "parts_too_few",
            _("A subdivision makes at least two parcels; this gives %(count)d.") % {"count": len(parts)},
            field="parts",
        )
    drawing = _parcel_map(
        [data["parcel"]], _("The parcel and the parts it is to be divided into"), parts, _("Part %(number)d")
    )
    plans = [
        PartPlan(geometry=part.geometry, land_use=_use(part.land_use, "parts") or data["land_use"]) for part in parts
    ]
    facts = _facts(
        SubdivisionFacts,
        parcel=data["parcel"],
        applicant=_person(data["applicant"]),
        represents=_represents(data),
        parts=plans,
    )
    return _Plan(facts, drawing)


def _merger(form: MergerForm) -> _Plan:
    data = form.cleaned_data
    parents = [p for p in (parcel_current(n) for n in data["parcels"]) if p is not None]
    merged = [Shape(geometry_json(shapely.union_all([p.geometry for p in parents])))] if parents else []
    drawing = preview_map(
        shapes=merged, parents=parents, name=_("The merged parcel"), label=_("The parcels to be merged")
    )
    facts = _facts(
        MergerFacts,
        parcels=data["parcels"],
        applicant=_person(data["applicant"]),
        represents=_represents(data),
        land_use=data["land_use"],
    )
    return _Plan(facts, drawing)


def _discharge(form: DischargeForm) -> _Plan:
    data = form.cleaned_data
    facts = _facts(
        DischargeFacts,
        parcel=data["parcel"],
        applicant=data["applicant"],
        represents=data["represents"],
        mortgage=data["mortgage"],
    )
    return _Plan(facts, _parcel_map([data["parcel"]], _("The parcel released")))


def _lease(form: LeaseForm) -> _Plan:
    data = form.cleaned_data
    facts = _facts(
        LeaseFacts,
        parcel=data["parcel"],
        applicant=_person(data["applicant"]),
        represents=_represents(data),
        lessee=data["lessee"],
        ends_on=data["ends_on"],
        description=data["description"],
    )
    return _Plan(facts, _parcel_map([data["parcel"]], _("The parcel let")))


def _easement(form: EasementForm) -> _Plan:
    data = form.cleaned_data
    facts = _facts(
        EasementFacts,
        parcel=data["parcel"],
        applicant=_person(data["applicant"]),
        represents=_represents(data),
        beneficiary=data["beneficiary"],
        description=data["description"],
        ends_on=data["ends_on"],
    )
    return _Plan(facts, _parcel_map([data["parcel"]], _("The parcel burdened")))


def _bound(form_class: type[LodgingForm], request: HttpRequest, **kwargs: Any) -> Any:
    if request.method == "POST":
        return form_class(request.POST, request.FILES, **kwargs)
    return form_class(**kwargs)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_transfer(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _lodging(request, principal, _bound(TransferForm, request), "land/lodge_transfer.html", _transfer)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_mortgage(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _lodging(request, principal, _bound(MortgageForm, request), "land/lodge_mortgage.html", _mortgage)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_first_registration(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = _bound(FirstRegistrationForm, request)
    return _lodging(request, principal, form, "land/lodge_first_registration.html", _first_registration)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_subdivision(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = _bound(SubdivisionForm, request, initial={"parcel": request.GET.get("parcel", "")[:30]})
    return _lodging(request, principal, form, "land/lodge_subdivision.html", _subdivision)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_merger(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _lodging(request, principal, _bound(MergerForm, request), "land/lodge_merger.html", _merger)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_discharge(request: HttpRequest, principal: Principal) -> HttpResponse:
    initial = {"parcel": request.GET.get("parcel", "")[:30], "mortgage": request.GET.get("mortgage", "")[:18]}
    form = _bound(DischargeForm, request, initial=initial)
    return _lodging(request, principal, form, "land/lodge_discharge.html", _discharge)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_lease(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = _bound(LeaseForm, request, initial={"parcel": request.GET.get("parcel", "")[:30]})
    return _lodging(request, principal, form, "land/lodge_lease.html", _lease)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_easement(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = _bound(EasementForm, request, initial={"parcel": request.GET.get("parcel", "")[:30]})
    return _lodging(request, principal, form, "land/lodge_easement.html", _easement)
