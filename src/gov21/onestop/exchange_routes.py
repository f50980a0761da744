"""The agencies' registers kept by the service engine, and its event receiver, on the exchange.
Each answer names the persons it concerns, so the exchange records the use for them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field

from gov21.core.errors import DomainError
from gov21.core.ids import uin_rejection_reason
from gov21.exchange.contracts import Call, ServiceRouter, event_delivery_read
from gov21.onestop import registers
from gov21.onestop.models import Document


class Schema(BaseModel):
    """What a service answers: immutable, refusing fields it does not know, and readable from a
    row's attributes."""

    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)


def _uin(value: str) -> str:
    if uin_rejection_reason(value):
        raise DomainError("invalid_uin", "Give a valid national identity number.", field="uin")
    return value


# The title of each field is what a person or an officer reads instead of its name (the officer's
# case view takes it from the service's OpenAPI document); it is marked for translation here.

# --- driving licences -----------------------------------------------------------------------------

licences = ServiceRouter("services.licences", title="Driving licences")
licences.publish("LTA/licensing/licences", title=gettext_noop("Driving licences"))


class LicenceOut(Schema):
    number: Annotated[str, Field(title=gettext_noop("Licence number"))]
    holder_uin: Annotated[str, Field(title=gettext_noop("Holder's UIN"))]
    classes: Annotated[str, Field(title=gettext_noop("Classes of vehicle"))]
    status: Annotated[str, Field(title=gettext_noop("Status"))]
    issued_on: Annotated[date, Field(title=gettext_noop("Issued on"))]
    expires_on: Annotated[date, Field(title=gettext_noop("Expires on"))]


class LicencesOf(Schema):
    holder_uin: Annotated[str, Field(title=gettext_noop("Holder's UIN"))]
    items: Annotated[list[LicenceOut], Field(title=gettext_noop("Licences"))]


@licences.get(
    "/holders/{uin}",
    response=LicencesOf,
    summary="A person's driving licences",
    seen_as=_("Your driving licences: number, status and expiry date"),
)
def licences_of_holder(call: Call, uin: str) -> object:
    uin = _uin(uin)
    call.concerns(uin)
    return {"holder_uin": uin, "items": registers.licences_of(uin=uin)}


@licences.get("/{number}", response=LicenceOut, summary="One licence", seen_as=_("One of your driving licences"))
def licence_get(call: Call, number: str) -> object:
    found = registers.licences_by_number(number=number)
    if not found:
        raise DomainError("not_found", f"No licence {number}.", status=404)
    call.concerns(found[0]["holder_uin"])
    return found[0]


# --- benefit awards -------------------------------------------------------------------------------

benefits = ServiceRouter("services.benefits", title="Benefit awards")
benefits.publish("MSD/benefits/awards", title=gettext_noop("Benefit awards"))


class BenefitOut(Schema):
    id: int
    kind: Annotated[str, Field(title=gettext_noop("Benefit"))]
    claimant_uin: Annotated[str, Field(title=gettext_noop("Claimant's UIN"))]
    beneficiary_uin: Annotated[str, Field(title=gettext_noop("Beneficiary's UIN"))]
    status: Annotated[str, Field(title=gettext_noop("Status"))]
    weekly_amount: Annotated[int, Field(title=gettext_noop("Weekly amount"))]
    started_on: Annotated[date, Field(title=gettext_noop("Since"))]
    closed_on: Annotated[date | None, Field(title=gettext_noop("Stopped on"))]


class BenefitsOf(Schema):
    uin: str
    items: list[BenefitOut]


@benefits.get(
    "/claimants/{uin}",
    response=BenefitsOf,
    summary="The benefits a person claims or receives",
    seen_as=_("The benefits you claim or receive"),
)
def benefits_of_claimant(call: Call, uin: str) -> object:
    uin = _uin(uin)
    call.concerns(uin)
    return {"uin": uin, "items": registers.benefits_of(uin=uin)}


# --- business names -------------------------------------------------------------------------------

businesses = ServiceRouter("services.businesses", title="Register of business names")
businesses.publish("BRA/business-register/businesses", title=gettext_noop("Register of business names"))


class BusinessOut(Schema):
    number: Annotated[str, Field(title=gettext_noop("Registration number"))]
    name: Annotated[str, Field(title=gettext_noop("Business name"))]
    activity: Annotated[str, Field(title=gettext_noop("Activity"))]
    address: Annotated[str, Field(title=gettext_noop("Business address"))]
    status: Annotated[str, Field(title=gettext_noop("Status"))]
    registered_on: Annotated[date, Field(title=gettext_noop("Registered on"))]


class BusinessSearch(BaseModel):
    """A search of registered names: ``name`` finds the business a name would clash with, ``q``
    the names containing the text."""

    name: str = ""
    q: str = ""


class BusinessesFound(Schema):
    items: list[BusinessOut]


class BusinessesOf(Schema):
    owner_uin: str
    items: list[BusinessOut]


@businesses.get("/", response=BusinessesFound, query=BusinessSearch, summary="Search registered business names (?q=)")
def businesses_find(call: Call, query: BusinessSearch) -> object:
    return {"items": registers.businesses_search(name=query.name, query=query.q)}


@businesses.get("/{number}", response=BusinessOut, summary="One registered business")
def business_get(call: Call, number: str) -> object:
    found = registers.business_get(number=number)
    if found is None:
        raise DomainError("not_found", f"No business {number}.", status=404)
    return found


@businesses.get(
    "/owners/{uin}",
    response=BusinessesOf,
    summary="The businesses a person owns",
    seen_as=_("The businesses you own"),
)
def businesses_of_owner(call: Call, uin: str) -> object:
    uin = _uin(uin)
    call.concerns(uin)
    return {"owner_uin": uin, "items": registers.businesses_of(uin=uin)}


# --- issued documents -----------------------------------------------------------------------------

documents = ServiceRouter("services.documents", title="Documents issued by public services")
documents.publish("PORTAL/services/documents", title=gettext_noop("Documents issued by public services"))
for _member, _subsystem, _agency in (
    ("LTA", "licensing", "Licensing and Transport Authority"),
    ("MSD", "benefits", "Ministry of Social Development"),
    ("BRA", "business-register", "Business Registration Authority"),
):
    documents.publish(
        f"{_member}/{_subsystem}/documents",
        title=f"Documents issued by the {_agency}",
        api_title=f"Documents issued by the {_agency}",
    )


class DocumentOut(Schema):
    serial: str
    kind: str
    title: str
    holder_uin: str
    agency: str
    status: str
    issued_at: datetime
    valid_until: date | None
    facts: list[tuple[str, str]]
    credential: str


class DocumentsOf(Schema):
    holder_uin: str
    items: list[DocumentOut]


def _issued_by(call: Call) -> QuerySet[Document]:
    """The documents the agency behind the called service issued: an agency's documents service
    answers for its own; the engine's (PORTAL/services) for every agency."""
    subsystem = call.service.split("/")[3]
    rows = Document.objects.all()
    return rows if subsystem == "services" else rows.filter(agency=subsystem)


@documents.get(
    "/{serial}",
    response=DocumentOut,
    summary="One issued document and its status",
    seen_as=_("A document issued to you, and whether it is still valid"),
)
def document_get(call: Call, serial: str) -> DocumentOut:
    document = _issued_by(call).filter(serial=serial).first()
    if document is None:
        raise DomainError("not_found", f"No document {serial}.", status=404)
    call.concerns(document.holder_uin)
    return DocumentOut.model_validate(document)


@documents.get(
    "/holders/{uin}", response=DocumentsOf, summary="A person's documents", seen_as=_("The documents issued to you")
)
def documents_of_holder(call: Call, uin: str) -> DocumentsOf:
    uin = _uin(uin)
    call.concerns(uin)
    rows = _issued_by(call).filter(holder_uin=uin).order_by("-issued_at")[:100]
    return DocumentsOf(holder_uin=uin, items=[DocumentOut.model_validate(d) for d in rows])


# --- the event receiver ---------------------------------------------------------------------------

events = ServiceRouter("services.events", title="Service engine: event receiver")
events.publish("PORTAL/services/events", title=gettext_noop("Service engine: event receiver"))


class EventOutcome(Schema):
    outcome: str


@events.post("/", response=EventOutcome, summary="Receive one registry event (delivered at least once)")
def event_post(call: Call) -> EventOutcome:
    """The event is read by the exchange, which accepts it only from its type's publisher."""
    from gov21.onestop.events import event_receive

    return EventOutcome(outcome=event_receive(event=event_delivery_read(call.request)))


# --- numbers for the readiness indicators ---------------------------------------------------------

numbers = ServiceRouter("services.numbers", title="One-stop shop: numbers for the readiness indicators")
numbers.publish(
    "PORTAL/services/numbers",
    title=gettext_noop("One-stop shop: services online, automatic decisions, pre-filled applications, decision times"),
)


class ServiceNumbersOut(Schema):
    as_of: datetime
    services: int
    services_fully_online: int
    submitted: int
    prefilled: int
    decided: int
    decided_automatically: int
    decided_within_sla: int
    median_decision_hours: float | None


@numbers.get(
    "/",
    response=ServiceNumbersOut,
    summary="Services fully online, applications pre-filled from the registries, decisions taken automatically "
    "and within the service level, and the median time to a decision: numbers only, no person named",
)
def service_numbers_get(call: Call) -> ServiceNumbersOut:
    from django.utils import timezone

    from gov21.onestop.numbers import service_numbers

    return ServiceNumbersOut.model_validate(service_numbers(as_of=timezone.now()))
