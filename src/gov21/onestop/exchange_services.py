"""The agencies' registers kept by the service engine, and its event receiver, on the exchange.
Each answer names the persons it concerns, so the exchange records the use for them."""

from __future__ import annotations

from typing import Any

import orjson
from django.db.models import QuerySet

from gov21.core.errors import DomainError
from gov21.core.ids import uin_rejection_reason
from gov21.exchange.contracts import (
    ServiceRequest,
    ServiceResponse,
    event_delivery_read,
    local_service,
    problem_response,
)
from gov21.onestop import registers
from gov21.onestop.models import Document


def _ok(data: Any, subjects: list[str]) -> ServiceResponse:
    return ServiceResponse(status=200, body=orjson.dumps(data, default=str), subjects=subjects)


def _parts(req: ServiceRequest) -> list[str]:
    return [p for p in req.path.split("/") if p]


def _uin(value: str) -> str:
    if uin_rejection_reason(value):
        raise DomainError("invalid_uin", "Give a valid national identity number.", field="uin")
    return value


def _not_found(endpoints: str) -> DomainError:
    return DomainError("not_found", f"No such endpoint: {endpoints}", status=404)


@local_service("services.licences")
def licences(req: ServiceRequest) -> ServiceResponse:
    parts = _parts(req)
    try:
        if req.method == "GET" and len(parts) == 2 and parts[0] == "holders":
            uin = _uin(parts[1])
            return _ok({"holder_uin": uin, "items": registers.licences_of(uin=uin)}, [uin])
        if req.method == "GET" and len(parts) == 1:
            found = registers.licences_by_number(number=parts[0])
            if not found:
                raise DomainError("not_found", f"No licence {parts[0]}.", status=404)
            return _ok(found[0], [found[0]["holder_uin"]])
        raise _not_found("GET /holders/{uin} or GET /{number}")
    except DomainError as error:
        return problem_response(error)


@local_service("services.benefits")
def benefits(req: ServiceRequest) -> ServiceResponse:
    parts = _parts(req)
    try:
        if req.method == "GET" and len(parts) == 2 and parts[0] == "claimants":
            uin = _uin(parts[1])
            return _ok({"uin": uin, "items": registers.benefits_of(uin=uin)}, [uin])
        raise _not_found("GET /claimants/{uin}")
    except DomainError as error:
        return problem_response(error)


@local_service("services.businesses")
def businesses(req: ServiceRequest) -> ServiceResponse:
    parts = _parts(req)
    try:
        if req.method != "GET":
            raise _not_found("GET /, GET /{number} or GET /owners/{uin}")
        if not parts:
            name = (req.query.get("name") or [""])[0]
            query = (req.query.get("q") or [""])[0]
            return _ok({"items": registers.businesses_search(name=name, query=query)}, [])
        if len(parts) == 2 and parts[0] == "owners":
            uin = _uin(parts[1])
            return _ok({"owner_uin": uin, "items": registers.businesses_of(uin=uin)}, [uin])
        if len(parts) == 1:
            found = registers.business_get(number=parts[0])
            if found is None:
                raise DomainError("not_found", f"No business {parts[0]}.", status=404)
            return _ok(found, [])
        raise _not_found("GET /, GET /{number} or GET /owners/{uin}")
    except DomainError as error:
        return problem_response(error)


def document_json(document: Document) -> dict[str, Any]:
    return {
        "serial": document.serial,
        "kind": document.kind,
        "title": document.title,
        "holder_uin": document.holder_uin,
        "agency": document.agency,
        "status": document.status,
        "issued_at": document.issued_at.isoformat(),
        "valid_until": document.valid_until.isoformat() if document.valid_until else None,
        "facts": document.facts,
        "credential": document.credential,
    }


def _issued_by(req: ServiceRequest) -> QuerySet[Document]:
    """The documents the agency behind the called service issued: an agency's documents service
    answers for its own; the engine's (PORTAL/services) for every agency."""
    subsystem = req.service.split("/")[3]
    rows = Document.objects.all()
    return rows if subsystem == "services" else rows.filter(agency=subsystem)


@local_service("services.documents")
def documents_service(req: ServiceRequest) -> ServiceResponse:
    parts = _parts(req)
    try:
        if req.method == "GET" and len(parts) == 2 and parts[0] == "holders":
            uin = _uin(parts[1])
            rows = _issued_by(req).filter(holder_uin=uin).order_by("-issued_at")[:100]
            return _ok({"holder_uin": uin, "items": [document_json(d) for d in rows]}, [uin])
        if req.method == "GET" and len(parts) == 1:
            document = _issued_by(req).filter(serial=parts[0]).first()
            if document is None:
                raise DomainError("not_found", f"No document {parts[0]}.", status=404)
            return _ok(document_json(document), [document.holder_uin])
        raise _not_found("GET /{serial} or GET /holders/{uin}")
    except DomainError as error:
        return problem_response(error)


@local_service("services.events")
def events(req: ServiceRequest) -> ServiceResponse:
    from gov21.onestop.events import event_receive

    try:
        if req.method != "POST" or _parts(req):
            raise _not_found("POST /")
        outcome = event_receive(event=event_delivery_read(req))
        return ServiceResponse(status=200, body=orjson.dumps({"outcome": outcome}))
    except DomainError as error:
        return problem_response(error)
