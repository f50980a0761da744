"""The civil registry's services on the exchange: person lookup and history, and certificate
verification. Each answer names the persons it concerns, so the exchange records the use for them."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from gov21.core.errors import DomainError
from gov21.exchange.contracts import ServiceRequest, ServiceResponse, local_service, problem_response
from gov21.identity.contracts import Principal
from gov21.registry.selectors import certificate_verify, person_history, person_view


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
