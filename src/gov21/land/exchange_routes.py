"""The land register's services on the exchange: the parcels a party owns, a parcel's title (now or
as of a date), its encumbrances, a signed title extract, and the receiver of the civil registry's
events. Each answer names the persons it concerns, so the exchange records the use for them."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gov21.core.errors import Conflict, DomainError
from gov21.core.principal import Principal, PrincipalKind
from gov21.exchange.contracts import Call, ServiceRouter, event_delivery_read
from gov21.land.extracts import extract_issue
from gov21.land.records import (
    EncumbrancesRecord,
    OwnedParcels,
    OwnerShare,
    PartyKindName,
    PartyRef,
    TitleRecord,
    TransferFacts,
)
from gov21.land.selectors import parcel_encumbrances, parcel_title, parcels_of_party, pending_parcels
from gov21.land.services import transaction_lodge


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AsOf(BaseModel):
    """The day a record is asked as it stood at the end of; today's without it."""

    as_of: date | None = None


def _actor(call: Call) -> Principal:
    user = call.request.user_id
    who = f"{call.client} ({user})" if user else call.client
    return Principal(name=f"exchange:{who}"[:150], kind=PrincipalKind.SYSTEM, roles=frozenset({"reader"}))


def _persons(*records: TitleRecord | EncumbrancesRecord) -> list[str]:
    uins: list[str] = []
    for record in records:
        rights = [*getattr(record, "ownership", []), *record.encumbrances]
        for right in rights:
            holders = right.holder.members or [right.holder]
            uins += [h.identifier for h in holders if h.kind == "person"]
    return list(dict.fromkeys(uins))


parcels = ServiceRouter("land.parcels", title="Land register: parcels and titles")
parcels.publish("LRA/land-register/parcels", title=gettext_noop("Land register: parcels and titles"))


class OwnerPath(BaseModel):
    kind: PartyKindName
    identifier: str


@parcels.get(
    "/owners/{kind}/{identifier}",
    response=OwnedParcels,
    query=AsOf,
    path=OwnerPath,
    summary="The parcels a person (UIN), business or agency owns, alone or jointly",
    seen_as=_("The land you own, from the land register"),
)
def owner_parcels(call: Call, kind: PartyKindName, identifier: str, query: AsOf) -> object:
    try:
        party = PartyRef(kind=kind, identifier=identifier)
    except ValidationError:
        raise DomainError(
            "invalid_party", "Name a party by its UIN, registration number or member code.", field="identifier"
        ) from None
    if kind == "person":
        call.concerns(identifier)
    return parcels_of_party(party=party, actor=_actor(call), purpose=call.request.issue or None, as_of=query.as_of)


@parcels.get(
    "/parcels/{number}/title",
    response=TitleRecord,
    query=AsOf,
    summary="A parcel's title: the parcel, its owners and its encumbrances (now or as of a date)",
    seen_as=_("The title of land you hold a right in"),
)
def title_get(call: Call, number: str, query: AsOf) -> object:
    title = parcel_title(number=number, actor=_actor(call), purpose=call.request.issue or None, as_of=query.as_of)
    call.concerns(*_persons(title))
    return title


@parcels.get(
    "/parcels/{number}/encumbrances",
    response=EncumbrancesRecord,
    query=AsOf,
    summary="A parcel's mortgages, leases and easements (now or as of a date)",
    seen_as=_("The mortgages, leases and easements on land you hold a right in"),
)
def encumbrances_get(call: Call, number: str, query: AsOf) -> object:
    found = parcel_encumbrances(
        number=number, actor=_actor(call), purpose=call.request.issue or None, as_of=query.as_of
    )
    call.concerns(*_persons(found))
    return found


class ExtractOut(Schema):
    serial: str
    code: str
    verify_url: str
    title: TitleRecord


@parcels.post(
    "/parcels/{number}/extracts",
    response=ExtractOut,
    query=AsOf,
    status=201,
    summary="A signed extract of a parcel's title, verifiable at /verify and offline",
    seen_as=_("A signed extract of the title of land you hold a right in"),
)
def extract_post(call: Call, number: str, query: AsOf) -> object:
    issued = extract_issue(number=number, actor=_actor(call), purpose=call.request.issue or None, as_of=query.as_of)
    call.concerns(*_persons(issued.title))
    return ExtractOut(serial=issued.serial, code=issued.code, verify_url=issued.verify_url, title=issued.title)


class TransferIn(Schema):
    """A sale agreed by both parties (each signed in to the system that sends it): the seller, a
    registered owner; the buyers and their shares; the price and the day of the sale."""

    parcel: str = Field(max_length=30)
    seller: PartyRef
    buyers: list[OwnerShare] = Field(min_length=1, max_length=50)
    price_cents: int | None = Field(default=None, ge=0)
    sold_on: date | None = None
    reference: str = Field(default="", max_length=64)


class TransferOut(Schema):
    number: str
    state: str
    parcels: list[str]


@parcels.post(
    "/transfers",
    body=TransferIn,
    response=TransferOut,
    status=201,
    summary="Lodge the transfer of a parcel on its sale, for a land registrar to check and register; "
    "the decision is published as land.registered or land.rejected",
    seen_as=_("The sale of land you sell or buy, lodged with the land register"),
)
def transfer_post(call: Call, body: TransferIn) -> TransferOut:
    # A sale asked by citizens waits until what is already lodged on the parcel is decided, so two
    # buyers are never both told their purchase is on its way. (A clerk may still lodge a competing
    # deed in the office: registering checks the title again, and the first registered wins.)
    pending = pending_parcels([body.parcel]).get(body.parcel)
    if pending is not None:
        raise Conflict(
            "parcel_pending",
            gettext("Parcel %(number)s has transaction %(tx)s waiting for a decision; wait until it is decided.")
            % {"number": body.parcel, "tx": pending},
            field="parcel",
        )
    facts = TransferFacts(parcel=body.parcel, applicant=body.seller, buyers=body.buyers, price_cents=body.price_cents)
    lodger = Principal(name=_actor(call).name, kind=PrincipalKind.SYSTEM, roles=frozenset({"clerk"}))
    tx = transaction_lodge(facts=facts, actor=lodger)
    people = [body.seller, *(b.party for b in body.buyers)]
    call.concerns(*(p.identifier for p in people if p.kind == "person"))
    return TransferOut(number=tx.number, state=tx.state, parcels=list(tx.parcels))


# --- the event receiver ----------------------------------------------------------------------------

events = ServiceRouter("land.events", title="Land register: event receiver")
events.publish("LRA/land-register/events", title=gettext_noop("Land register: event receiver"))


class EventOutcome(Schema):
    outcome: str


@events.post("/", response=EventOutcome, summary="Receive one registry event (delivered at least once)")
def event_post(call: Call) -> EventOutcome:
    """The event is read by the exchange, which accepts it only from its type's publisher."""
    from gov21.land.events import event_receive

    return EventOutcome(outcome=event_receive(event=event_delivery_read(call.request)))
