"""The civil registry's services on the exchange: person lookup and history, certificate
verification, declarations of events and certified copies. Each answer names the persons it
concerns, so the exchange records the use for them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field

from gov21.core.errors import DomainError
from gov21.core.geography import geography
from gov21.core.geography import parishes as country_parishes
from gov21.core.http import language_accepted
from gov21.core.principal import Principal, PrincipalKind
from gov21.exchange.contracts import RAW, Call, ServiceRouter
from gov21.registry.certificates import certificate_pdf
from gov21.registry.models import Certificate, EventKind, LifeEvent
from gov21.registry.records import NamedResidents, PersonFacts, PersonHistory, PersonRecord, ResidentPurpose
from gov21.registry.selectors import (
    RESIDENTS_PAGE_MAX,
    certificate_get,
    certificate_verify,
    events_numbers,
    person_history,
    person_versions_page,
    person_view,
    population_numbers,
    residents_count,
    residents_named,
)
from gov21.registry.services import (
    ASSERTION_HEADER,
    AssertedPerson,
    assertion_accept,
    certificate_issue,
    declaration_parse,
    event_declare,
    event_register,
    event_validate,
)


class Schema(BaseModel):
    """What a service receives or answers: immutable, and refusing fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- persons --------------------------------------------------------------------------------------

persons = ServiceRouter("registry.persons", title="Civil registry: persons")
persons.publish("CRO/civil-registry/persons", title=gettext_noop("Persons in the civil registry"))


class AsOf(BaseModel):
    """The day a record is asked as it stood at the end of; today's record without it."""

    as_of: date | None = None


def _actor(call: Call) -> Principal:
    user = call.request.user_id
    who = f"{call.client} ({user})" if user else call.client
    return Principal(name=f"exchange:{who}"[:150], kind=PrincipalKind.SYSTEM, roles=frozenset({"reader"}))


@persons.get(
    "/{uin}",
    response=PersonRecord,
    query=AsOf,
    summary="A person's current record (or as it stood on as_of)",
    seen_as=_("Your record in the civil registry: name, date of birth, address and family status"),
)
def person_get(call: Call, uin: str, query: AsOf) -> object:
    call.concerns(uin)
    return person_view(uin=uin, actor=_actor(call), purpose=call.request.issue or None, as_of=query.as_of)


@persons.get(
    "/{uin}/history",
    response=PersonHistory,
    summary="Every version of a person's record, oldest first",
    seen_as=_("Every past version of your record in the civil registry"),
)
def person_history_get(call: Call, uin: str) -> object:
    call.concerns(uin)
    return person_history(uin=uin, actor=_actor(call), purpose=call.request.issue or None)


# --- the record linkage's index -------------------------------------------------------------------

versions = ServiceRouter("registry.versions", title="Civil registry: versions of records for record linkage")
versions.publish(
    "CRO/civil-registry/versions", title=gettext_noop("Versions of persons' records for the record linkage")
)


class VersionsQuery(BaseModel):
    """Versions recorded after ``after`` (a cursor the previous page answered), at most ``limit``."""

    after: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    limit: Annotated[int, Field(ge=1, le=1000)] = 500


class VersionOut(Schema):
    cursor: int
    uin: str
    version: int
    effective_date: date
    data: PersonFacts


class VersionsPage(Schema):
    versions: list[VersionOut]
    next: int | None


@versions.get(
    "/",
    response=VersionsPage,
    query=VersionsQuery,
    summary="Versions of persons' records in the order they were recorded, from a cursor: the record "
    "linkage's index of the registry, kept current",
    seen_as=_("Your record's versions, copied into the index that links agencies' old records to people"),
)
def versions_get(call: Call, query: VersionsQuery) -> VersionsPage:
    rows = person_versions_page(
        after=query.after, limit=query.limit, actor=_actor(call), purpose=call.request.issue or None
    )
    call.concerns(*dict.fromkeys(r.uin for r in rows))
    return VersionsPage(
        versions=[
            VersionOut(cursor=r.cursor, uin=r.uin, version=r.version, effective_date=r.effective_date, data=r.data)
            for r in rows
        ],
        next=rows[-1].cursor if len(rows) == query.limit else None,
    )


# --- residents by place -------------------------------------------------------------------------

residents = ServiceRouter("registry.residents", title="Civil registry: residents by place")
residents.publish(
    "CRO/civil-registry/residents",
    title=gettext_noop("Residents by parish and settlement: numbers, or names for a lawful purpose"),
)


class ResidentsQuery(BaseModel):
    """The parishes asked about, by code, separated by commas (XA-01,XA-04)."""

    parishes: Annotated[str, Field(min_length=1, max_length=400, pattern=r"^[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*$")]


class PlaceResidents(Schema):
    """The living persons whose address is in a parish (``settlement`` empty) or one of its settlements."""

    parish: str
    settlement: str
    residents: int


class Residents(Schema):
    places: list[PlaceResidents]


@residents.get(
    "/counts",
    response=Residents,
    query=ResidentsQuery,
    summary="How many living persons have their address in each parish asked, and in each settlement of it: "
    "numbers only, no person named",
)
def residents_get(call: Call, query: ResidentsQuery) -> Residents:
    codes = list(dict.fromkeys(query.parishes.split(",")))
    known = {code for code, _name in country_parishes()}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise DomainError("unknown_parish", f"No parish has the code {unknown[0]}.", status=422, field="parishes")
    counts = residents_count(parishes=codes)
    return Residents(
        places=[PlaceResidents(parish=c.parish, settlement=c.settlement, residents=c.residents) for c in counts]
    )


class NamedQuery(BaseModel):
    """The settlements whose residents are named, each as parish code and name separated by a slash,
    the settlements separated by semicolons (XA-01/Port Clement;XA-01/Belvedere); the lawful purpose;
    and the page (of ``size`` persons) asked. The reason, shown to each person named, is X-Road-Issue."""

    places: Annotated[str, Field(min_length=1, max_length=4000)]
    purpose: ResidentPurpose
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    size: Annotated[int, Field(ge=1, le=RESIDENTS_PAGE_MAX)] = 50


def _settlements(text: str) -> list[tuple[str, str]]:
    """The (parish, settlement) pairs ``text`` names, each checked against the country's geography."""
    known = {(parish.code, place.name) for parish in geography() for place in parish.settlements}
    found: list[tuple[str, str]] = []
    for item in text.split(";"):
        parish, _slash, name = item.strip().partition("/")
        place = (parish.strip(), name.strip())
        if place not in known:
            raise DomainError(
                "unknown_place",
                f"No settlement {place[1]!r} is listed in parish {place[0]!r}.",
                status=422,
                field="places",
            )
        if place not in found:
            found.append(place)
    return found


@residents.get(
    "/named",
    response=NamedResidents,
    query=NamedQuery,
    summary="The living persons whose address is in the settlements asked, by name, with their date of birth, "
    "address, household and whether they are a child under 5 or aged 75 or more: only for a lawful purpose "
    "(welfare_check, evacuation, relief_distribution) and a reason in X-Road-Issue, each person named recorded",
    seen_as=_("Your name, date of birth and address, listed among the residents of a place struck by a disaster"),
)
def residents_named_get(call: Call, query: NamedQuery) -> NamedResidents:
    answer = residents_named(
        places=_settlements(query.places),
        purpose=query.purpose,
        reason=call.request.issue or None,
        page=query.page,
        size=query.size,
        actor=_actor(call),
    )
    call.concerns(*(person.uin for person in answer.residents))
    return answer


# --- numbers for the statistics office -----------------------------------------------------------

numbers = ServiceRouter("registry.numbers", title="Civil registry: numbers for official statistics")
numbers.publish(
    "CRO/civil-registry/numbers",
    title=gettext_noop("Numbers of residents and registered events for official statistics"),
)


class PopulationQuery(BaseModel):
    """The day the population is counted on; today without it."""

    as_of: date | None = None


class PopulationCell(Schema):
    parish: str
    sex: str
    age_group: str
    persons: int


class Population(Schema):
    as_of: date
    cells: list[PopulationCell]


class EventsQuery(BaseModel):
    """The kind of life event and the year it happened in."""

    kind: Literal["birth", "death", "marriage", "divorce", "address_change"]
    year: Annotated[int, Field(ge=1900, le=2200)]


class EventCell(Schema):
    parish: str
    month: str
    sex: str
    age_group: str
    timeliness: str
    events: int


class Events(Schema):
    kind: str
    year: int
    cells: list[EventCell]


@numbers.get(
    "/population",
    response=Population,
    query=PopulationQuery,
    summary="The living population by parish of address, sex and five-year age group: numbers only, no person named",
)
def population_get(call: Call, query: PopulationQuery) -> Population:
    from django.utils import timezone

    as_of = query.as_of or timezone.localdate()
    return Population(
        as_of=as_of,
        cells=[
            PopulationCell(parish=c.parish, sex=c.sex, age_group=c.age_group, persons=c.persons)
            for c in population_numbers(as_of=as_of)
        ],
    )


@numbers.get(
    "/events",
    response=Events,
    query=EventsQuery,
    summary="Registered life events of a kind in a year by parish, month, sex, age group and timeliness: "
    "numbers only, no person named",
)
def events_get(call: Call, query: EventsQuery) -> Events:
    cells = [
        EventCell(
            parish=c.parish,
            month=c.month,
            sex=c.sex,
            age_group=c.age_group,
            timeliness=c.timeliness,
            events=c.events,
        )
        for c in events_numbers(kind=query.kind, year=query.year)
    ]
    return Events(kind=query.kind, year=query.year, cells=cells)


# --- certificates ---------------------------------------------------------------------------------

certificates = ServiceRouter("registry.certificates", title="Civil registry: certificate verification")
certificates.publish("CRO/civil-registry/certificates", title=gettext_noop("Certificate verification"))


class VerifyIn(Schema):
    token: str


class VerifyOut(Schema):
    status: str  # valid, tampered, revoked, superseded or unknown
    message: str
    serial: str | None


@certificates.post("/verify", body=VerifyIn, response=VerifyOut, summary="Verify a certificate's signed QR credential")
def certificate_verify_post(call: Call, body: VerifyIn) -> VerifyOut:
    result = certificate_verify(payload=body.token)
    return VerifyOut(status=result.status, message=result.message, serial=result.serial)


# --- declarations ---------------------------------------------------------------------------------

declarations = ServiceRouter("registry.declarations", title="Declarations of births, deaths and address changes")
declarations.publish(
    "CRO/civil-registry/declarations", title=gettext_noop("Declarations of births, deaths and address changes")
)

# Kinds of event an agency's system may declare through the exchange. An address change declared
# by the person it concerns is registered at once (nobody else needs to vouch for where a living
# person says they live), but only when the identity provider's assertion proves that the person
# asked: X-Road-UserId is whatever the calling system chose to write, so it goes to the log only.
Declarable = Literal["birth", "death", "address_change"]
SELF_REGISTERED = frozenset({"address_change"})
# The purpose a person assertion must name for a certified copy (declarations name their kind).
COPY_PURPOSE = "certificate_copy"


# The facts of a declaration, as the registry's intake for its kind validates them.
Facts = dict[str, object]


class KindPath(BaseModel):
    kind: Declarable


class DeclarationPath(BaseModel):
    id: Annotated[int, Field(ge=1, le=2**63 - 1)]  # a database key


class Declaration(Schema):
    """What became of a declaration."""

    declaration: int
    kind: str
    state: str
    number: str | None


def _asserted(call: Call, *, purpose: str) -> AssertedPerson | None:
    """The person the request's assertion names, verified and spent; None when it carries none."""
    token = call.header(ASSERTION_HEADER)
    if not token:
        return None
    return assertion_accept(token=token, audience=call.service, purpose=purpose, client=call.client)


def _client_name(call: Call, person: AssertedPerson | None) -> str:
    return f"exchange:{call.client} for {person.subject}" if person else f"exchange:{call.client}"


def _from_client(declared_by: str, client: str) -> bool:
    name = f"exchange:{client}"
    return declared_by == name or declared_by.startswith(f"{name} ")


def _declaration(event: LifeEvent) -> Declaration:
    return Declaration(declaration=event.pk, kind=event.kind, state=event.state, number=event.number)


def _check_declarant(kind: str, data: Facts, person: AssertedPerson) -> None:
    """A citizen declares their own change of address, or the birth of their own child; anyone who
    knows of a death may report it. A public servant may declare anything, and decides nothing."""
    if person.is_staff:
        return
    if kind == "address_change" and str(data.get("uin", "")) != person.uin:
        raise DomainError(
            "assertion_wrong_person",
            "The person's assertion names someone else than the person whose address changes.",
            status=403,
            field=ASSERTION_HEADER,
        )
    if kind == "birth" and person.uin not in (data.get("mother_uin"), data.get("father_uin")):
        raise DomainError(
            "assertion_wrong_person",
            "Only a parent of the child declares a birth with their own assertion.",
            status=403,
            field=ASSERTION_HEADER,
        )


@declarations.post(
    "/{kind}",
    path=KindPath,
    body=Facts,
    response=Declaration,
    status=201,
    summary="Declare an event (birth, death, address_change) with its facts; the declaring person's assertion "
    "from the identity provider in X-Gov21-Assertion (purpose: the kind) registers their own address change "
    "at once",
    seen_as=_("A declaration of a birth, death or change of address that names you"),
)
def declaration_post(call: Call, kind: str, body: Facts) -> Declaration:
    """A POST may carry the declaring person's assertion in X-Gov21-Assertion (purpose: the kind)."""
    person = _asserted(call, purpose=kind)
    if person is not None:
        _check_declarant(kind, body, person)
    registers = kind in SELF_REGISTERED and person is not None and not person.is_staff
    name = _client_name(call, person)[:150]
    declarant = Principal(name=name, kind=PrincipalKind.SYSTEM, roles=frozenset({"clerk"}))
    with transaction.atomic():
        event = event_declare(
            declaration=declaration_parse(kind=kind, data=body),
            actor=declarant,
            declarant_uin=person.uin if person is not None else "",
        )
        if registers:
            # The registry's own rule decides here, on the person's proven request.
            registrar = Principal(name=name, kind=PrincipalKind.SYSTEM, roles=frozenset({"registrar"}))
            event_validate(event_id=event.pk, actor=registrar)
            event = event_register(event_id=event.pk, actor=registrar)
    call.concerns(*(s for s in (body.get("uin"), body.get("mother_uin"), body.get("father_uin")) if isinstance(s, str)))
    return _declaration(event)


@declarations.get(
    "/{id}",
    path=DeclarationPath,
    response=Declaration,
    summary="What became of a declaration: its state and registration number",
)
def declaration_get(call: Call, id: int) -> Declaration:
    event = LifeEvent.objects.filter(pk=id).select_related("subject").first()
    if event is None or not _from_client(event.declared_by, call.client):
        raise DomainError("not_found", "No such declaration from this client.", status=404)
    if event.subject is not None:
        call.concerns(event.subject.uin)
    return _declaration(event)


# --- certified copies -----------------------------------------------------------------------------

copies = ServiceRouter("registry.copies", title="Certified copies of certificates")
copies.publish("CRO/civil-registry/copies", title=gettext_noop("Certified copies of certificates"))


class CopyIn(Schema):
    number: str


class CopyOut(Schema):
    serial: str
    kind: str
    credential: str
    facts: list[tuple[str, str]]
    number: str


class SerialPath(BaseModel):
    serial: str


def _copy_holder(call: Call, event: LifeEvent, person: AssertedPerson | None) -> str:
    """Who the copy is issued to, or a refusal: a person the registration names (the subject, the
    partner, a parent of the child), a public servant acting with their own assertion, or, without
    an assertion, the person who declared the event through this same system, for one copy."""
    if person is not None and person.is_staff:
        return person.subject
    if person is not None:
        named = {p.uin for p in (event.subject, event.partner) if p is not None}
        if event.kind == EventKind.BIRTH and event.subject is not None:
            named |= {p.uin for p in (event.subject.mother, event.subject.father) if p is not None}
        if person.uin in named:
            return person.uin
        raise DomainError(
            "assertion_wrong_person",
            "The person's assertion names someone this registration does not concern.",
            status=403,
            field=ASSERTION_HEADER,
        )
    declarant = event.declarant_uin
    if declarant and _from_client(event.declared_by, call.client):
        name = f"exchange:{call.client} for {declarant}"[:150]
        if not Certificate.objects.filter(event=event, issued_by=name).exists():
            return declarant
    raise DomainError(
        "copy_not_entitled",
        "A certified copy is issued on the assertion of a person the registration names, or of a public servant.",
        status=403,
        field=ASSERTION_HEADER,
    )


@copies.post(
    "/",
    body=CopyIn,
    response=CopyOut,
    status=201,
    summary="Issue a certified copy of a registration to the person named by the assertion in X-Gov21-Assertion "
    "(purpose: certificate_copy); earlier certificates stay valid",
    seen_as=_("A certified copy of a certificate that names you"),
)
def copy_post(call: Call, body: CopyIn) -> CopyOut:
    """A copy is a new valid certificate: the ones already issued stay valid."""
    person = _asserted(call, purpose=COPY_PURPOSE)
    event = (
        LifeEvent.objects.filter(number=body.number)
        .select_related("subject__mother", "subject__father", "partner")
        .first()
    )
    if event is None:
        raise DomainError("not_found", f"No registration numbered {body.number}.", status=404, field="number")
    holder = _copy_holder(call, event, person)
    actor = Principal(
        name=f"exchange:{call.client} for {holder}"[:150], kind=PrincipalKind.SYSTEM, roles=frozenset({"registrar"})
    )
    certificate = certificate_issue(event_id=event.pk, actor=actor, supersede=False)
    call.concerns(*(p.uin for p in (event.subject, event.partner) if p is not None))
    return CopyOut(
        serial=certificate.serial,
        kind=certificate.kind,
        credential=certificate.credential,
        facts=certificate.facts,
        number=body.number,
    )


@copies.get(
    "/{serial}.pdf",
    response=RAW,
    media_type="application/pdf",
    summary="The printable copy",
    seen_as=_("The printable copy of a certificate that names you"),
)
def copy_pdf(call: Call, serial: str) -> bytes:
    reader = Principal(name=f"exchange:{call.client}"[:150], kind=PrincipalKind.SYSTEM, roles=frozenset({"clerk"}))
    certificate = certificate_get(serial=serial, actor=reader)
    subject = certificate.event.subject
    if subject is not None:
        call.concerns(subject.uin)
    # Printed in the reader's language; what it certifies is signed in codes, valid in any.
    with translation.override(language_accepted(call.header("accept-language"))):
        return certificate_pdf(certificate)
