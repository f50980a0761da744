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
from gov21.registry.models import LifeEvent
from gov21.registry.selectors import certificate_get, certificate_verify, person_history, person_view
from gov21.registry.services import certificate_issue, event_declare, event_register, event_validate


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
            return _ok({"uin": uin, "versions": history}, [uin])
        as_of_text = (req.query.get("as_of") or [""])[0]
        try:
            as_of = date.fromisoformat(as_of_text) if as_of_text else None
        except ValueError as exc:
            raise DomainError("invalid_date", "as_of must be a date (YYYY-MM-DD)", field="as_of") from exc
        person = person_view(uin=uin, actor=_actor(req), purpose=purpose, as_of=as_of)
        return _ok(person, [uin])
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


# Kinds of event an agency's system may declare through the exchange. An address change declared by
# the person it concerns (the citizen's UIN in X-Road-UserId) is registered at once: nobody else
# needs to vouch for where a living person says they live; births and deaths go to a registrar.
DECLARABLE = frozenset({"birth", "death", "address_change"})
SELF_REGISTERED = frozenset({"address_change"})


def _declarant(req: ServiceRequest, *, registers: bool) -> Principal:
    who = f"{req.client} ({req.user_id})" if req.user_id else req.client
    roles = frozenset({"registrar"}) if registers else frozenset({"clerk"})
    return Principal(name=f"exchange:{who}"[:150], kind="system", roles=roles)


def _declaration(event: LifeEvent) -> dict[str, Any]:
    return {"declaration": event.pk, "kind": event.kind, "state": event.state, "number": event.number}


@local_service("registry.declarations")
def declarations(req: ServiceRequest) -> ServiceResponse:
    """POST /{kind} declares an event with its facts; GET /{id} tells what became of a declaration."""
    parts = [p for p in req.path.split("/") if p]
    try:
        if req.method == "GET" and len(parts) == 1 and parts[0].isdigit():
            event = LifeEvent.objects.filter(pk=int(parts[0])).select_related("subject").first()
            if event is None or not event.declared_by.startswith(f"exchange:{req.client}"):
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
        registers = kind in SELF_REGISTERED and bool(req.user_id) and str(data.get("uin", "")) == req.user_id
        actor = _declarant(req, registers=registers)
        with transaction.atomic():
            event = event_declare(kind=kind, data=data, actor=actor)
            if registers:
                event_validate(event_id=event.pk, actor=actor)
                event = event_register(event_id=event.pk, actor=actor)
        subjects = [s for s in (data.get("uin"), data.get("mother_uin"), data.get("father_uin")) if isinstance(s, str)]
        return ServiceResponse(status=201, body=orjson.dumps(_declaration(event)), subjects=subjects)
    except DomainError as error:
        return problem_response(error)


@local_service("registry.copies")
def copies(req: ServiceRequest) -> ServiceResponse:
    """POST / {"number": ...} issues a certified copy of a registered birth, marriage or death;
    GET /{serial}.pdf returns the printable certificate. The calling agency has checked that the
    person asking is entitled to it; the registry records the issue against the persons concerned."""
    parts = [p for p in req.path.split("/") if p]
    actor = Principal(name=f"exchange:{req.client}"[:150], kind="system", roles=frozenset({"registrar"}))
    try:
        if req.method == "GET" and len(parts) == 1 and parts[0].endswith(".pdf"):
            certificate = certificate_get(serial=parts[0][:-4], actor=actor)
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
        event = LifeEvent.objects.filter(number=number).select_related("subject", "partner").first()
        if event is None:
            raise DomainError("not_found", f"No registration numbered {number}.", status=404, field="number")
        certificate = certificate_issue(event_id=event.pk, actor=actor)
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
