"""What other apps may use of the exchange.

* Providers declare each service they answer in this process as a :class:`ServiceRouter` with
  typed routes; a handler names with :meth:`Call.concerns` the persons whose data it returned. The
  service's OpenAPI document is generated from its routes.
* Consumers inside the platform call services with :func:`exchange_call`, exactly as an outside
  information system would through ``/r1/`` at a node's client interface: signed, rights-checked,
  logged at both ends. This in-process transport is how the platform's own apps reach the
  exchange; the client interface is never served on the platform's public address.
* Receivers of pushed events read each delivery with :func:`event_delivery_read`, which accepts
  an event only from the subsystem the directory names as the publisher of its type.
* :func:`data_uses_for` lists, for the person concerned, every use of their data;
  :func:`usage_find` does so in the shape of Estonia's data tracker ``findUsage``.
* :func:`exchange_bootstrap` sets up the demo nation's exchange on this deployment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

import orjson

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.exchange import selectors, setup, tracker
from gov21.exchange.consumer import client_proxy
from gov21.exchange.errors import XRoadError
from gov21.exchange.ids import ClientId, ServiceId, path_check
from gov21.exchange.log import data_use_record
from gov21.exchange.protocol import Request, xroad_error
from gov21.exchange.pubsub import event_delivery_read, event_publish, event_publish_many
from gov21.exchange.router import RAW, Call, ServiceRequest, ServiceResponse, ServiceRouter, problem_response


def agency_client(member_code: str, subsystem: str) -> str:
    """The client identifier of one of the platform's own information systems."""
    return f"{config.INSTANCE.read()}/GOV/{member_code}/{subsystem}"


def agency_service(member_code: str, subsystem: str, service: str) -> str:
    return f"{config.INSTANCE.read()}/GOV/{member_code}/{subsystem}/{service}"


@dataclass(frozen=True)
class ExchangeResult:
    status: int
    headers: dict[str, str]
    body: bytes
    error: str

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


def exchange_call(
    *,
    client: str,
    service: str,
    path: str = "",
    method: str = "GET",
    query: str = "",
    body: bytes = b"",
    content_type: str = "",
    user_id: str = "",
    issue: str = "",
    assertion: str = "",
    language: str = "",
) -> ExchangeResult:
    """``assertion``: the identity provider's assertion that the person the call is for asked for
    it; it travels as ``X-Gov21-Assertion``, covered by the signed request hash like every header.
    ``language``: the language of the person the answer is for (``Accept-Language``), for a
    provider whose answer is words or a document to read."""
    try:
        # Callers pass a decoded path; it is held to the same rules as one an information system sends.
        path = path_check(path)
    except XRoadError as exc:
        refused = xroad_error(exc)
        return ExchangeResult(refused.status, dict(refused.headers), refused.body, refused.error)
    headers = [("accept", "application/json")]
    if content_type:
        headers.append(("content-type", content_type))
    if user_id:
        headers.append(("x-road-userid", user_id))
    if issue:
        headers.append(("x-road-issue", issue))
    if assertion:
        headers.append(("x-gov21-assertion", assertion))
    if language:
        headers.append(("accept-language", language))
    req = Request(
        method=method,
        service=ServiceId.parse(service),
        path=path,
        query=query,
        headers=headers,
        body=body,
        client=ClientId.parse(client),
        message_id=str(uuid.uuid4()),
        user_id=user_id,
        issue=issue,
    )
    response = client_proxy(req)
    return ExchangeResult(response.status, dict(response.headers), response.body, response.error)


def exchange_json(**kwargs: Any) -> Any:
    """:func:`exchange_call` for JSON services: the decoded body, or a DomainError carrying the
    provider's problem (or the exchange's error) so the caller's edge reports it as usual."""
    return exchange_json_message(**kwargs)[0]


def exchange_json_message(**kwargs: Any) -> tuple[Any, str]:
    """:func:`exchange_json`, with the id of the message that carried the answer (to name it when
    the data is used again: :func:`data_use_record`)."""
    result = exchange_call(**kwargs)
    if result.status < 400:
        return result.json(), result.headers.get("x-road-id", "")
    try:
        problem = result.json() or {}
    except orjson.JSONDecodeError:
        problem = {}
    if result.error:
        # A Client.* error is the request's own fault (such as a path built from an answer that is
        # not one segment): bad input, not a failure of the exchange.
        status = 400 if result.error.startswith("Client.") else 502
        raise DomainError(
            "exchange_error", f"{result.error}: {problem.get('message', '')}", status=status, title="Exchange error"
        )
    raise DomainError(
        str(problem.get("code") or "provider_error"),
        str(problem.get("detail") or "The service refused the request."),
        status=result.status,
        field=problem.get("field"),
    )


class ChainCheck(TypedDict):
    """What a walk of one hash chain found: its name, entries and signed heads checked, whether
    it holds, and the first broken entry and why (``None`` and empty when it holds)."""

    chain: str
    entries: int
    heads: int
    ok: bool
    first_broken: int | None
    reason: str


class DataUseSeen(TypedDict):
    """One use of a person's data through the exchange, in the names that person understands and
    their language: the agency that asked, the agency that answered, the service, what of theirs was
    read (``seen_as``), the purpose, and the chain record (chain and sequence number) that proves it."""

    at: datetime
    client: str
    agency: str
    service: str
    service_title: str
    seen_as: str
    provider: str
    method: str
    path: str
    user_id: str
    purpose: str
    message_id: str
    chain: str
    seq: int


def log_chains_verify() -> list[ChainCheck]:
    """Walk every hash chain this node keeps (message log and data-use log): each link, entry hash
    and signed tree head. One row per chain: its name, entries checked, and the first broken entry."""
    from gov21.exchange import chain, node

    rows = []
    for name in chain.chain_names():
        report = chain.verify(name, node.verify_own)
        rows.append(
            ChainCheck(
                chain=name,
                entries=report.entries,
                heads=report.heads,
                ok=report.ok,
                first_broken=report.first_broken,
                reason=report.reason,
            )
        )
    return rows


def data_uses_for(*, subject: str, limit: int = 200) -> list[DataUseSeen]:
    """The uses of ``subject``'s data, newest first (at most ``limit``)."""
    from gov21.exchange.tracker import uses_for

    # The tracker builds exactly these rows; tests/exchange/test_gateway.py holds their keys to this type.
    return cast("list[DataUseSeen]", uses_for(subject=subject, limit=limit))


def agencies_list() -> list[tuple[str, str]]:
    """The government's members in this instance's exchange directory: (member code, name in the
    reader's language), by name, for a form that asks which ministry or agency someone works in."""
    return selectors.government_members(instance=config.INSTANCE.read())


exchange_bootstrap = setup.bootstrap
agency_name = tracker.member_name
service_field_titles = selectors.service_field_titles
usage_find = tracker.usage_find
USAGE_LIMIT_MAX = tracker.USAGE_LIMIT_MAX

__all__ = [
    "RAW",
    "USAGE_LIMIT_MAX",
    "Call",
    "ChainCheck",
    "DataUseSeen",
    "ExchangeResult",
    "ServiceRequest",
    "ServiceResponse",
    "ServiceRouter",
    "agencies_list",
    "agency_client",
    "agency_name",
    "agency_service",
    "data_use_record",
    "data_uses_for",
    "event_delivery_read",
    "event_publish",
    "event_publish_many",
    "exchange_bootstrap",
    "exchange_call",
    "exchange_json",
    "exchange_json_message",
    "log_chains_verify",
    "problem_response",
    "service_field_titles",
    "usage_find",
]
