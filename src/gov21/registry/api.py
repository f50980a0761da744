"""``/api/v1/registry/``: the civil registry's public API. Thin: parse, authorise, call one service
or selector, shape the output."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from gov21.identity.contracts import PrincipalAuth, principal_of
from gov21.registry import selectors, services
from gov21.registry.certificates import certificate_pdf
from gov21.registry.models import Certificate
from gov21.registry.records import (
    AddressChangeFacts,
    BirthFacts,
    DeathFacts,
    Declaration,
    DivorceFacts,
    MarriageFacts,
    NameChangeFacts,
    PersonRecord,
    PersonVersionRecord,
)

router = Router(tags=["registry"], auth=PrincipalAuth())


class PersonSummary(Schema):
    uin: str
    given_names: str
    family_name: str
    sex: str
    birth_date: date
    status: str
    address_parish: str


class PersonPage(Schema):
    items: list[PersonSummary]
    next_cursor: str | None


class CorrectionIn(Schema):
    changes: dict[str, str] = Field(..., description="Attributes to correct: given_names, family_name, sex, ...")
    reason: str = Field(..., min_length=3, max_length=480)


class EventOut(Schema):
    id: int
    kind: str
    state: str
    number: str | None
    event_date: date
    declared_at: datetime
    declared_by: str
    registered_at: datetime | None
    timeliness: str | None
    has_open_duplicates: bool
    rejection_reason: str | None
    correction_note: str | None
    subject_uin: str | None
    data: dict[str, object]


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


class NoteIn(Schema):
    note: str = Field(..., min_length=1, max_length=500)


class CorrectIn(Schema):
    data: dict[str, object]


class ResolutionIn(Schema):
    resolution: Literal["distinct", "duplicate"]


class CertificateOut(Schema):
    serial: str
    kind: str
    event_number: str | None
    issued_at: datetime
    status: str
    credential: str
    facts: list[list[str]]
    pdf_url: str


class PersonQuery(Schema):
    as_of: date | None = None
    purpose: str | None = None


class SearchQuery(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)
    purpose: str | None = None


class EventQuery(Schema):
    kind: str | None = None
    state: str | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=100)


def _purpose(request: HttpRequest, given: str | None) -> str | None:
    return given or request.headers.get("X-Purpose")


@router.get("/persons/{uin}", response=PersonRecord, summary="A person's current record, or as of a date")
def person_get(request: HttpRequest, uin: str, filters: Query[PersonQuery]) -> PersonRecord:
    return selectors.person_view(
        uin=uin, actor=principal_of(request), purpose=_purpose(request, filters.purpose), as_of=filters.as_of
    )


@router.get("/persons", response=PersonPage, summary="Search persons by name")
def person_search(request: HttpRequest, filters: Query[SearchQuery]) -> dict[str, object]:
    page = selectors.person_search(
        name=filters.name,
        actor=principal_of(request),
        purpose=_purpose(request, filters.purpose),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/persons/{uin}/history", response=list[PersonVersionRecord], summary="Every version of a person's record")
def person_history(request: HttpRequest, uin: str, purpose: str | None = None) -> list[PersonVersionRecord]:
    return selectors.person_history(uin=uin, actor=principal_of(request), purpose=_purpose(request, purpose)).versions


@router.post("/persons/{uin}/corrections", response={201: PersonVersionRecord}, summary="Correct a clerical error")
def person_correct(request: HttpRequest, uin: str, payload: CorrectionIn) -> Status[PersonVersionRecord]:
    version = services.person_correct(
        uin=uin, changes=payload.changes, reason=payload.reason, actor=principal_of(request)
    )
    return Status(201, selectors.version_record(version))


def _declare(request: HttpRequest, payload: Declaration) -> Status[dict[str, object]]:
    event = services.event_declare(declaration=payload, actor=principal_of(request))
    return Status(201, selectors.event_summary(event))


@router.post("/events/births", response={201: EventOut}, summary="Declare a birth")
def declare_birth(request: HttpRequest, payload: BirthFacts) -> Status[dict[str, object]]:
    return _declare(request, payload)


class BirthBatchIn(Schema):
    births: list[BirthFacts] = Field(..., min_length=1, max_length=services.BATCH_MAX)


class RegisteredBirth(Schema):
    declaration: int
    number: str
    uin: str


class BirthBatchOut(Schema):
    items: list[RegisteredBirth]


@router.post(
    "/events/births/batch",
    response={201: BirthBatchOut},
    summary="Register many births at once, all or none (a trusted intake's backlog)",
)
def register_births(request: HttpRequest, payload: BirthBatchIn) -> Status[BirthBatchOut]:
    events = services.register_births(births=payload.births, actor=principal_of(request))
    items = [
        RegisteredBirth(declaration=e.pk, number=e.number or "", uin=e.subject.uin if e.subject else "") for e in events
    ]
    return Status(201, BirthBatchOut(items=items))


@router.post("/events/deaths", response={201: EventOut}, summary="Declare a death")
def declare_death(request: HttpRequest, payload: DeathFacts) -> Status[dict[str, object]]:
    return _declare(request, payload)


@router.post("/events/marriages", response={201: EventOut}, summary="Declare a marriage")
def declare_marriage(request: HttpRequest, payload: MarriageFacts) -> Status[dict[str, object]]:
    return _declare(request, payload)


@router.post("/events/divorces", response={201: EventOut}, summary="Declare a divorce")
def declare_divorce(request: HttpRequest, payload: DivorceFacts) -> Status[dict[str, object]]:
    return _declare(request, payload)


@router.post("/events/name-changes", response={201: EventOut}, summary="Declare a change of name")
def declare_name_change(request: HttpRequest, payload: NameChangeFacts) -> Status[dict[str, object]]:
    return _declare(request, payload)


@router.post("/events/address-changes", response={201: EventOut}, summary="Declare a change of address")
def declare_address_change(request: HttpRequest, payload: AddressChangeFacts) -> Status[dict[str, object]]:
    return _declare(request, payload)


@router.get("/events", response=EventPage, summary="List declarations and registrations")
def event_list(request: HttpRequest, filters: Query[EventQuery]) -> dict[str, object]:
    page = selectors.event_list(
        actor=principal_of(request), kind=filters.kind, state=filters.state, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/events/{event_id}", response=EventOut, summary="One declaration")
def event_get(request: HttpRequest, event_id: int) -> dict[str, object]:
    return selectors.event_summary(selectors.event_get(event_id=event_id, actor=principal_of(request)))


@router.post("/events/{event_id}/validate", response=EventOut, summary="Validate a declaration")
def event_validate(request: HttpRequest, event_id: int) -> dict[str, object]:
    return selectors.event_summary(services.event_validate(event_id=event_id, actor=principal_of(request)))


@router.post("/events/{event_id}/register", response=EventOut, summary="Register a validated declaration")
def event_register(request: HttpRequest, event_id: int) -> dict[str, object]:
    return selectors.event_summary(services.event_register(event_id=event_id, actor=principal_of(request)))


@router.post("/events/{event_id}/reject", response=EventOut, summary="Reject a declaration, with a reason")
def event_reject(request: HttpRequest, event_id: int, payload: ReasonIn) -> dict[str, object]:
    return selectors.event_summary(
        services.event_reject(event_id=event_id, reason=payload.reason, actor=principal_of(request))
    )


@router.post("/events/{event_id}/request-correction", response=EventOut, summary="Ask the declarant to correct")
def event_request_correction(request: HttpRequest, event_id: int, payload: NoteIn) -> dict[str, object]:
    return selectors.event_summary(
        services.event_request_correction(event_id=event_id, note=payload.note, actor=principal_of(request))
    )


@router.post("/events/{event_id}/correct", response=EventOut, summary="Submit corrected facts")
def event_correct(request: HttpRequest, event_id: int, payload: CorrectIn) -> dict[str, object]:
    return selectors.event_summary(
        services.event_correct(event_id=event_id, data=payload.data, actor=principal_of(request))
    )


@router.post("/duplicates/{candidate_id}/resolve", response=EventOut, summary="Resolve a possible duplicate")
def duplicate_resolve(request: HttpRequest, candidate_id: int, payload: ResolutionIn) -> dict[str, object]:
    return selectors.event_summary(
        services.duplicate_resolve(
            candidate_id=candidate_id, resolution=payload.resolution, actor=principal_of(request)
        )
    )


def _certificate_out(certificate: Certificate) -> dict[str, object]:
    return {
        "serial": certificate.serial,
        "kind": certificate.kind,
        "event_number": certificate.event.number,
        "issued_at": certificate.issued_at,
        "status": certificate.status,
        "credential": certificate.credential,
        "facts": certificate.facts,
        "pdf_url": f"/api/v1/registry/certificates/{certificate.serial}/pdf",
    }


@router.post("/events/{event_id}/certificates", response={201: CertificateOut}, summary="Issue a certificate")
def certificate_issue(request: HttpRequest, event_id: int) -> Status[dict[str, object]]:
    return Status(201, _certificate_out(services.certificate_issue(event_id=event_id, actor=principal_of(request))))


@router.get("/certificates/{serial}", response=CertificateOut, summary="A certificate")
def certificate_get(request: HttpRequest, serial: str) -> dict[str, object]:
    return _certificate_out(selectors.certificate_get(serial=serial, actor=principal_of(request)))


@router.get("/certificates/{serial}/pdf", summary="A certificate as PDF", response={200: None})
def certificate_get_pdf(request: HttpRequest, serial: str) -> HttpResponse:
    certificate = selectors.certificate_get(serial=serial, actor=principal_of(request))
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{certificate.serial}.pdf"'
    return response


@router.post("/certificates/{serial}/revoke", response=CertificateOut, summary="Revoke a certificate")
def certificate_revoke(request: HttpRequest, serial: str, payload: ReasonIn) -> dict[str, object]:
    return _certificate_out(
        services.certificate_revoke(serial=serial, reason=payload.reason, actor=principal_of(request))
    )


class VerifyIn(Schema):
    payload: str = Field(..., min_length=1, max_length=4000)


class VerifyOut(Schema):
    status: Literal["valid", "revoked", "superseded", "tampered", "unknown"]
    message: str
    serial: str | None
    facts: list[list[str]]
    claims: dict[str, object]


@router.post("/verify", response=VerifyOut, auth=None, summary="Verify a certificate's QR payload (public)")
def certificate_verify(request: HttpRequest, payload: VerifyIn) -> dict[str, object]:
    result = selectors.certificate_verify(payload=payload.payload)
    return {
        "status": result.status,
        "message": result.message,
        "serial": result.serial,
        "facts": result.facts,
        "claims": result.claims,
    }
