"""The land registry's back office at /office/land/: the transactions waiting for action, lodging a
transfer or a mortgage, checking, registering or rejecting (never one's own), completing an
inheritance with the heirs, and a parcel's page with its map, its title as of any date and its
history. Reads go through the selectors (each read of who owns land is logged with its purpose)."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.geo.contracts import Feature, map_figure
from gov21.land import selectors, services
from gov21.land.collections import parcel_feature
from gov21.land.forms import AsOfForm, DecisionForm, HeirsForm, MortgageForm, ParcelFindForm, TransferForm
from gov21.land.records import MortgageFacts, PartyRef, TransferFacts

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


def _lodged(
    request: HttpRequest, form: TransferForm | MortgageForm, template: str, principal: Principal
) -> HttpResponse:
    """The lodging page: the form again with what is wrong, or the new transaction's page."""
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                tx = services.transaction_lodge(facts=_facts(form), actor=principal)
            except DomainError as error:
                if error.status in (401, 403):
                    raise
                name = (error.field or "").split(".")[0]
                form.add_error(name if name in form.fields else None, error.detail)
            else:
                return HttpResponseRedirect(reverse("land:transaction", args=[tx.number]))
        status = 422
    return render(
        request, template, {"form": form, "errors": form.first_errors() if form.is_bound else {}}, status=status
    )


def _person(uin: str) -> PartyRef:
    return PartyRef(kind="person", identifier=uin)


def _facts(form: TransferForm | MortgageForm) -> TransferFacts | MortgageFacts:
    data = form.cleaned_data
    represents = _person(data["represents"]) if data.get("represents") else None
    if isinstance(form, TransferForm):
        return TransferFacts(
            parcel=data["parcel"], applicant=_person(data["applicant"]), represents=represents, buyers=data["buyers"]
        )
    cents = int((Decimal(data["amount"]) * 100).to_integral_value())
    return MortgageFacts(
        parcel=data["parcel"], applicant=_person(data["applicant"]), lender=data["lender"], amount_cents=cents
    )


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_transfer(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _lodged(request, TransferForm.bind(request), "land/lodge_transfer.html", principal)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("land.lodge")
def lodge_mortgage(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _lodged(request, MortgageForm.bind(request), "land/lodge_mortgage.html", principal)
