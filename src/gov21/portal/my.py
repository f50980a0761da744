"""The signed-in person's own pages: profile assembled from the registries, applications,
documents, offers, inbox, consents; and feedback, open to anyone."""

from __future__ import annotations

from datetime import date
from typing import Any

import segno
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.core.credentials import verification_url
from gov21.core.errors import DomainError
from gov21.core.geography import parish_name
from gov21.exchange.contracts import agency_client, agency_service, exchange_call, exchange_json
from gov21.geo.contracts import Feature, collection_get, map_figure
from gov21.identity.contracts import account_summary, session_access_token
from gov21.onestop import contracts as svc
from gov21.portal.forms import FeedbackForm, NotificationReadForm, OfferAnswerForm
from gov21.portal.journeys import citizen, language

# Why the portal reads the land register for "My property" (recorded with each read, for the owner).
PROPERTY_PURPOSE = gettext_noop("Show you the land you own")
# Why the portal asks the land register to sign an extract of a title the person holds.
EXTRACT_PURPOSE = gettext_noop("Give you a signed extract of the title of your land")
# The land uses the register records, in words (a use not listed is shown as the register wrote it).
LAND_USES = {
    "residential": gettext_lazy("Residential"),
    "agricultural": gettext_lazy("Agricultural"),
    "commercial": gettext_lazy("Commercial"),
    "public": gettext_lazy("Public use"),
    "state": gettext_lazy("State land"),
}
RIGHT_KINDS = {
    "mortgage": gettext_lazy("Mortgage"),
    "lease": gettext_lazy("Lease"),
    "easement": gettext_lazy("Easement"),
}

# Why the portal fetches a certificate's printable copy (its serial follows it in the log).
COPY_PURPOSE = gettext_noop("Print your copy of your certificate")


@never_cache
@require_GET
@citizen
def profile(request: HttpRequest, uin: str) -> HttpResponse:
    sections = svc.profile_for(uin=uin)
    person = sections["person"].get("data") or {}
    if person.get("address_parish"):
        person["address_parish_name"] = parish_name(person["address_parish"])
    if person.get("birth_date"):
        # Shown as a date in the reader's language, not as the ISO text the registry answers.
        person["birth_date_value"] = date.fromisoformat(str(person["birth_date"])[:10])
    for key in ("licences", "benefits", "businesses"):
        data = sections[key].get("data") or {}
        data["items"] = [_dates_shown(item) for item in data.get("items") or []]
    return render(request, "portal/my_profile.html", {"uin": uin, "s": sections, "person": person})


def _dates_shown(item: dict[str, object]) -> dict[str, object]:
    """A register's record with its dates (``*_on``) as dates, shown in the reader's language."""
    shown = dict(item)
    for name, value in item.items():
        if name.endswith("_on") and isinstance(value, str) and value:
            shown[name] = date.fromisoformat(value[:10])
    return shown


@never_cache
@require_GET
@citizen
def property_page(request: HttpRequest, uin: str) -> HttpResponse:
    """The parcels the person owns alone or jointly now, read from the land register through the
    exchange with the person as the data subject (each read is listed in "Who used my data"): each
    parcel with their share, its encumbrances and its map. A register that does not answer is said
    so, never a server error."""
    try:
        parcels = _property_of(uin)
    except DomainError:
        error = _("The land register could not be reached to show your property. Try again later.")
        return render(request, "portal/my_property.html", {"error": error, "parcels": []}, status=502)
    return render(request, "portal/my_property.html", {"parcels": parcels, "error": None})


def _property_of(uin: str) -> list[dict[str, object]]:
    client = agency_client("PORTAL", "portal")
    service = agency_service("LRA", "land-register", "parcels")
    ask = {"client": client, "service": service, "user_id": uin, "issue": PROPERTY_PURPOSE, "language": get_language()}
    owned = exchange_json(path=f"/owners/person/{uin}", **ask)
    shown: list[dict[str, object]] = []
    collection = collection_get("parcels")
    for parcel in owned.get("parcels") or []:
        number = str(parcel["number"])
        title = exchange_json(path=f"/parcels/{number}/title", **ask)
        feature = collection.item(number, None) if collection is not None else None
        label = _("Map of parcel %(number)s") % {"number": number}
        shown.append(
            {
                "number": number,
                "parish": parish_name(str(parcel["parish"])) or parcel["parish"],
                "area_m2": parcel["area_m2"],
                "land_use": LAND_USES.get(str(parcel["land_use"]), parcel["land_use"]),
                "share": _share_of(uin, title.get("ownership") or []),
                "owners": [right["holder"]["name"] for right in title.get("ownership") or []],
                "encumbrances": [
                    {
                        "kind": RIGHT_KINDS.get(right["kind"], right["kind"]),
                        "holder": right["holder"]["name"],
                        "amount": (right["amount_cents"] / 100) if right.get("amount_cents") is not None else None,
                        "ends_on": date.fromisoformat(right["ends_on"]) if right.get("ends_on") else None,
                        "description": right.get("description") or "",
                    }
                    for right in title.get("encumbrances") or []
                ],
                "map": map_figure(_entries(feature), label=label, table=False) if feature is not None else None,
            }
        )
    return shown


@never_cache
@require_POST
@citizen
def property_extract(request: HttpRequest, uin: str, number: str) -> HttpResponse:
    """A signed extract of the title of a parcel the person owns now, signed by the land register
    (asked through the exchange for the person); any other parcel is not found."""
    service = agency_service("LRA", "land-register", "parcels")
    try:
        owned = exchange_json(
            client=agency_client("PORTAL", "portal"),
            service=service,
            path=f"/owners/person/{uin}",
            user_id=uin,
            issue=EXTRACT_PURPOSE,
            language=get_language(),
        )
        if number not in {str(p["number"]) for p in owned.get("parcels") or []}:
            raise Http404("No such parcel of yours")
        extract = exchange_json(
            client=agency_client("PORTAL", "services"),
            service=service,
            path=f"/parcels/{number}/extracts",
            method="POST",
            user_id=uin,
            issue=EXTRACT_PURPOSE,
            language=get_language(),
        )
    except DomainError:
        error = DomainError("unavailable", _("The land register could not sign the extract now. Try again later."))
        return render(request, "portal/problem.html", {"error": error}, status=502)
    qr = segno.make(str(extract["verify_url"]), error="m").svg_inline(scale=3, title=_("Code to check this document"))
    return render(
        request, "portal/my_property_extract.html", {"number": number, "extract": extract, "qr": qr}, status=201
    )


def _entries(feature: Feature) -> list[tuple[Feature, str | None]]:
    return [(feature, None)]


def _share_of(uin: str, ownership: list[dict[str, Any]]) -> str:
    """The person's share of a parcel as the title states it: all of it when they own it alone."""
    for right in ownership:
        holder = right["holder"]
        if holder["kind"] == "person" and holder["identifier"] == uin:
            return "1/1"
        for member in holder.get("members") or []:
            if member["kind"] == "person" and member["identifier"] == uin:
                return str(member["share"])
    return ""


@never_cache
@require_GET
@citizen
def applications(request: HttpRequest, uin: str) -> HttpResponse:
    lang = language(request)
    rows = [
        {
            "reference": a.reference,
            "title": svc.text(a.title, lang),
            "state": a.state_label,
            "state_code": a.state,
            "created_at": a.created_at,
        }
        for a in svc.applications_for(uin=uin, limit=100)
    ]
    return render(request, "portal/my_applications.html", {"rows": rows})


@never_cache
@require_GET
@citizen
def documents(request: HttpRequest, uin: str) -> HttpResponse:
    return render(request, "portal/my_documents.html", {"documents": svc.documents_for(uin=uin, limit=100)})


@never_cache
@require_GET
@citizen
def document(request: HttpRequest, uin: str, serial: str) -> HttpResponse:
    try:
        doc = svc.document_for(uin=uin, serial=serial)
    except DomainError as error:
        raise Http404(error.detail) from error
    payload = ("GOV21:" if _registry_certificate(doc) else svc.QR_PREFIX) + doc.credential
    # The QR code opens the verification page with the code in it, from any phone's camera.
    qr = segno.make(verification_url(payload), error="m").svg_inline(scale=3, title=_("Code to check this document"))
    return render(request, "portal/my_document.html", {"doc": doc, "qr": qr, "payload": payload})


def _registry_certificate(doc: svc.DocumentSummary) -> bool:
    """A certificate the civil registry signed (its copy is printed by the registry)."""
    return doc.agency == "civil-registry" and doc.kind.endswith("-certificate")


@never_cache
@require_GET
@citizen
def document_pdf(request: HttpRequest, uin: str, serial: str) -> HttpResponse:
    """The printable document: a civil registry certificate is fetched from the registry through the
    exchange; another agency's document is printed here from its signed record."""
    try:
        doc = svc.document_for(uin=uin, serial=serial)
    except DomainError as error:
        raise Http404(error.detail) from error
    if not _registry_certificate(doc):
        response = HttpResponse(svc.document_pdf(uin=uin, serial=doc.serial), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{doc.serial}.pdf"'
        return response
    result = exchange_call(
        client=agency_client("PORTAL", "services"),
        service=agency_service("CRO", "civil-registry", "copies"),
        path=f"/{doc.serial}.pdf",
        user_id=uin,
        issue=f"{COPY_PURPOSE} ({doc.serial})",
        language=get_language(),
    )
    if result.status != 200:
        return render(
            request,
            "portal/problem.html",
            {
                "error": DomainError(
                    "unavailable", _("The civil registry could not provide the copy now. Try again later.")
                )
            },
            status=502,
        )
    response = HttpResponse(result.body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{doc.serial}.pdf"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@citizen
def inbox(request: HttpRequest, uin: str) -> HttpResponse:
    if request.method == "POST":
        notification = NotificationReadForm(request.POST).cleaned()["notification"]
        if notification is not None:
            svc.inbox_mark_read(uin=uin, notification_id=notification)
        return redirect("portal:inbox")
    lang = language(request)
    offers = [
        {
            "id": o.id,
            "title": svc.text(svc.service_summary(o.service_code).title, lang),
            "child": o.child_name,
            "created_at": o.created_at,
        }
        for o in svc.offers_for(uin=uin)
    ]
    return render(request, "portal/my_inbox.html", {"messages_": svc.inbox_for(uin=uin), "offers": offers})


@never_cache
@require_http_methods(["GET", "POST"])
@citizen
def offer(request: HttpRequest, uin: str, offer_id: int) -> HttpResponse:
    lang = language(request)
    found = [o for o in svc.offers_for(uin=uin) if o.id == offer_id]
    if request.method == "POST":
        try:
            answer = OfferAnswerForm(request.POST).cleaned()["answer"]
            if answer == "accept":
                application = svc.application_accept_offer(
                    offer_id=offer_id,
                    uin=uin,
                    user_id=request.user.pk,
                    language=lang,
                    access_token=session_access_token(request),
                )
                return redirect("portal:application", reference=application.reference)
            if answer == "decline":
                svc.offer_decline(offer_id=offer_id, uin=uin)
                return redirect("portal:inbox")
        except DomainError as error:
            return render(request, "portal/problem.html", {"error": error}, status=error.status)
    if not found:
        raise Http404("No such offer")
    o = found[0]
    service = svc.service_summary(o.service_code)
    return render(
        request,
        "portal/offer.html",
        {
            "offer": o,
            "title": svc.text(service.title, lang),
            "summary": svc.text(service.summary, lang),
            "child": o.child_name,
            "sources": [svc.text(label, lang) for label in service.prefill_labels],
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@citizen
def confirmation(request: HttpRequest, uin: str, reference: str) -> HttpResponse:
    """The other party of an application (the buyer of land) confirms it or says it is not right."""
    lang = language(request)
    try:
        if request.method == "POST":
            answer = OfferAnswerForm(request.POST).cleaned()["answer"]
            if answer not in ("confirm", "decline"):
                raise DomainError("invalid_answer", _("Choose to confirm, or say it is not right."), field="answer")
            svc.confirmation_give(uin=uin, reference=reference, agree=answer == "confirm")
            return redirect("portal:confirmation", reference=reference)
        view = svc.confirmation_view(uin=uin, reference=reference)
    except DomainError as error:
        return render(request, "portal/problem.html", {"error": error}, status=error.status)
    shown = [
        (svc.text(q.label, lang), _answer_shown(q, view.answers.get(q.id), lang))
        for q in view.questions
        if q.type != "email" and view.answers.get(q.id) not in (None, "")
    ]
    return render(
        request,
        "portal/confirmation.html",
        {
            "view": view,
            "title": svc.text(view.title, lang),
            "confirm": svc.text(view.confirm, lang),
            "answers": shown,
        },
    )


def _answer_shown(question: svc.Question, value: object, lang: str) -> str:
    if question.type == "choice":
        labels = {o.value: svc.text(o.label, lang) for o in question.options}
        return labels.get(str(value), str(value))
    if question.type == "parish":
        return parish_name(str(value)) or str(value)
    return str(value)


@never_cache
@require_GET
@citizen
def consents(request: HttpRequest, uin: str) -> HttpResponse:
    summary = account_summary(user_id=int(request.user.pk or 0)) or {"consents": []}
    lang = language(request)
    data = [
        {
            "title": svc.text(c.title, lang),
            "reference": c.reference,
            "sources": [svc.text(label, lang) for label in c.source_labels],
            "given_at": c.given_at,
        }
        for c in svc.consents_for(uin=uin, limit=100)
    ]
    return render(request, "portal/my_consents.html", {"oidc": summary["consents"], "data": data})


@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest) -> HttpResponse:
    """Report a problem with any page, or say how a service went. No sign-in needed."""
    error = None
    form = FeedbackForm.bind(request)
    page = request.GET.get("page", form.typed("page"))[:200]
    if request.method == "POST":
        try:
            data = form.cleaned()
            svc.feedback_record(rating=data["rating"], comment=data["comment"], page=page)
        except DomainError as problem:
            error = problem
        else:
            return render(request, "portal/feedback_thanks.html")
    return render(request, "portal/feedback.html", {"error": error, "page": page}, status=400 if error else 200)
