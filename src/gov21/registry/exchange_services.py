"""The civil registry's services on the exchange: person lookup and history, and certificate
verification. Each answer names the persons it concerns, so the exchange records the use for them."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from django.db import transaction

from gov21.core.errors import DomainError
from gov21.exchange.contracts import ServiceRequest, ServiceResponse, local_service, problem_response
from gov21.identity.contracts import Principal
from gov21.registry.certificates import certificate_pdf
from gov21.registry.models import Certificate, EventKind, LifeEvent
from gov21.registry.selectors import certificate_get, certificate_verify, person_history, person_view
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


def _actor(req: ServiceRequest) -> Principal:
    who = f"{req.client} ({req.user_id})" if req.user_id else req.client
    return Principal(name=f"exchange:{who}"[:150], kind="system", roles=frozenset({"reader"}))


def _ok(data: Any, subjects: list[str]) -> ServiceResponse:
    return ServiceResponse(status=200, body=orjson.dumps(data, default=str), subjects=subjects)


@local_service("registry.persons")
def persons(req: ServiceRequest) -> ServiceResponse:
    parts = [p for p in req.path.split("/") if p]
    try:
        if req.method != "GET" or not 1 <= len(parts) <= 2 or (len(parts) == 2 and parts[1] != "history"):
            raise DomainError("not_found", "No such endpoint: GET /{uin} or GET /{uin}/history", status=404)
        uin = parts[0]
        purpose = req.issue or None
        if len(parts) == 2:
            history = person_history(uin=uin, actor=_actor(req), purpose=purpose)
            return _ok(history.model_dump(), [uin])
        as_of_text = (req.query.get("as_of") or [""])[0]
        try:
            as_of = date.fromisoformat(as_of_text) if as_of_text else None
        except ValueError as exc:
            raise DomainError("invalid_date", "as_of must be a date (YYYY-MM-DD)", field="as_of") from exc
        person = person_view(uin=uin, actor=_actor(req), purpose=purpose, as_of=as_of)
        return _ok(person.model_dump(), [uin])
    except DomainError as error:
        return problem_response(error)


@local_service("registry.certificates")
def certificates(req: ServiceRequest) -> ServiceResponse:
    try:
        if req.method != "POST" or req.path.rstrip("/") != "/verify":
            raise DomainError("not_found", "No such endpoint: POST /verify", status=404)
        try:
            body = orjson.loads(req.body or b"{}")
            token = str(body["token"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise DomainError("invalid_input", 'Send {"token": "<credential>"}', field="token") from exc
        result = certificate_verify(payload=token)
        return _ok({"status": result.status, "message": result.message, "serial": result.serial}, [])
    except DomainError as error:
        return problem_response(error)


# Kinds of event an agency's system may declare through the exchange. An address change declared
# by the person it concerns is registered at once (nobody else needs to vouch for where a living
# person says they live), but only when the identity provider's assertion proves that the person
# asked: X-Road-UserId is whatever the calling system chose to write, so it goes to the log only.
DECLARABLE = frozenset({"birth", "death", "address_change"})
SELF_REGISTERED = frozenset({"address_change"})
# The purpose a person assertion must name for a certified copy (declarations name their kind).
COPY_PURPOSE = "certificate_copy"


def _asserted(req: ServiceRequest, *, purpose: str) -> AssertedPerson | None:
    """The person the request's assertion names, verified and spent; None when it carries none."""
    token = req.headers.get(ASSERTION_HEADER.lower(), "")
    if not token:
        return None
    return assertion_accept(token=token, audience=req.service, purpose=purpose, client=req.client)


def _client_name(req: ServiceRequest, person: AssertedPerson | None) -> str:
    return f"exchange:{req.client} for {person.subject}" if person else f"exchange:{req.client}"


def _from_client(declared_by: str, client: str) -> bool:
    name = f"exchange:{client}"
    return declared_by == name or declared_by.startswith(f"{name} ")


def _declaration(event: LifeEvent) -> dict[str, Any]:
    return {"declaration": event.pk, "kind": event.kind, "state": event.state, "number": event.number}


def _check_declarant(kind: str, data: dict[str, Any], person: AssertedPerson) -> None:
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


@local_service("registry.declarations")
def declarations(req: ServiceRequest) -> ServiceResponse:
    """POST /{kind} declares an event with its facts; GET /{id} tells what became of a declaration.
    A POST may carry the declaring person's assertion in X-Gov21-Assertion (purpose: the kind)."""
    parts = [p for p in req.path.split("/") if p]
    try:
        if req.method == "GET" and len(parts) == 1 and parts[0].isdigit():
            event = LifeEvent.objects.filter(pk=int(parts[0])).select_related("subject").first()
            if event is None or not _from_client(event.declared_by, req.client):
                raise DomainError("not_found", "No such declaration from this client.", status=404)
            subjects = [event.subject.uin] if event.subject is not None else []
            return _ok(_declaration(event), subjects)
        if req.method != "POST" or len(parts) != 1 or parts[0] not in DECLARABLE:
            raise DomainError(
                "not_found", "No such endpoint: POST /birth, /death, /address_change or GET /{id}", status=404
            )
        kind = parts[0]
        try:
            data = orjson.loads(req.body or b"{}")
        except orjson.JSONDecodeError as exc:
            raise DomainError("invalid_input", "Send the facts as a JSON object") from exc
        if not isinstance(data, dict):
            raise DomainError("invalid_input", "Send the facts as a JSON object")
        person = _asserted(req, purpose=kind)
        if person is not None:
            _check_declarant(kind, data, person)
        registers = kind in SELF_REGISTERED and person is not None and not person.is_staff
        name = _client_name(req, person)[:150]
        declarant = Principal(name=name, kind="system", roles=frozenset({"clerk"}))
        with transaction.atomic():
            event = event_declare(
                declaration=declaration_parse(kind=kind, data=data),
                actor=declarant,
                declarant_uin=person.uin if person is not None else "",
            )
            if registers:
                # The registry's own rule decides here, on the person's proven request.
                registrar = Principal(name=name, kind="system", roles=frozenset({"registrar"}))
                event_validate(event_id=event.pk, actor=registrar)
                event = event_register(event_id=event.pk, actor=registrar)
        subjects = [s for s in (data.get("uin"), data.get("mother_uin"), data.get("father_uin")) if isinstance(s, str)]
        return ServiceResponse(status=201, body=orjson.dumps(_declaration(event)), subjects=subjects)
    except DomainError as error:
        return problem_response(error)


def _copy_holder(req: ServiceRequest, event: LifeEvent, person: AssertedPerson | None) -> str:
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
    if declarant and _from_client(event.declared_by, req.client):
        name = f"exchange:{req.client} for {declarant}"[:150]
        if not Certificate.objects.filter(event=event, issued_by=name).exists():
            return declarant
    raise DomainError(
        "copy_not_entitled",
        "A certified copy is issued on the assertion of a person the registration names, or of a public servant.",
        status=403,
        field=ASSERTION_HEADER,
    )


@local_service("registry.copies")
def copies(req: ServiceRequest) -> ServiceResponse:
    """POST / {"number": ...} issues a certified copy of a registered birth, marriage or death,
    with the asking person's assertion (purpose ``certificate_copy``) in X-Gov21-Assertion;
    GET /{serial}.pdf returns the printable certificate. A copy is a new valid certificate: the
    ones already issued stay valid."""
    parts = [p for p in req.path.split("/") if p]
    reader = Principal(name=f"exchange:{req.client}"[:150], kind="system", roles=frozenset({"clerk"}))
    try:
        if req.method == "GET" and len(parts) == 1 and parts[0].endswith(".pdf"):
            certificate = certificate_get(serial=parts[0][:-4], actor=reader)
            subject = certificate.event.subject
            return ServiceResponse(
                status=200,
                body=certificate_pdf(certificate),
                content_type="application/pdf",
                subjects=[subject.uin] if subject is not None else [],
            )
        if req.method != "POST" or parts:
            raise DomainError("not_found", "No such endpoint: POST / or GET /{serial}.pdf", status=404)
        try:
            number = str(orjson.loads(req.body or b"{}")["number"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise DomainError("invalid_input", 'Send {"number": "<registration number>"}', field="number") from exc
        person = _asserted(req, purpose=COPY_PURPOSE)
        event = (
            LifeEvent.objects.filter(number=number)
            .select_related("subject__mother", "subject__father", "partner")
            .first()
        )
        if event is None:
            raise DomainError("not_found", f"No registration numbered {number}.", status=404, field="number")
        holder = _copy_holder(req, event, person)
        actor = Principal(
            name=f"exchange:{req.client} for {holder}"[:150], kind="system", roles=frozenset({"registrar"})
        )
        certificate = certificate_issue(event_id=event.pk, actor=actor, supersede=False)
        subjects = [p.uin for p in (event.subject, event.partner) if p is not None]
        body = {
            "serial": certificate.serial,
            "kind": certificate.kind,
            "credential": certificate.credential,
            "facts": certificate.facts,
            "number": number,
        }
        return ServiceResponse(status=201, body=orjson.dumps(body), subjects=subjects)
    except DomainError as error:
        return problem_response(error)
