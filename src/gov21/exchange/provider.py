"""The provider's side of the exchange: the server proxy, which verifies a signed request from a
consumer's gateway, checks the client's right to the very path it asks for, answers the
metaservices, dispatches to the provider service (a router in this process, ``local:<name>``, or
an HTTP address), signs the answer and logs the exchange and its data uses before releasing it.

Services in this process are declared as typed routes (:mod:`gov21.exchange.router`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Final, NoReturn
from urllib.parse import parse_qs

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from gov21.core import chain as core
from gov21.core import groupcommit
from gov21.core.crypto import sign_compact
from gov21.exchange import log, meta, metrics, node, transport
from gov21.exchange.errors import SERVER_PROXY, XRoadError
from gov21.exchange.ids import ClientId, ServiceId, path_check
from gov21.exchange.protocol import (
    ENVELOPE_TYP,
    MAX_CLOCK_SKEW_S,
    SUBJECTS_HEADER,
    XROAD_SET,
    Request,
    Response,
    body_hash,
    read_envelope,
    request_hash,
    verify_envelope,
    xroad_error,
)
from gov21.exchange.router import LOCAL_HANDLERS, ServiceRequest

logger = logging.getLogger("gov21.exchange")

# Methods whose local handlers only read (and log the read); every other method runs its handler in
# a transaction of its own.
READS: Final = frozenset({"GET", "HEAD"})


@dataclass
class Inbound:
    """One signed request at the server proxy, filled in as it is checked: what is known of it when
    something fails decides how the error is signed and logged."""

    this: node.ThisNode
    token: str
    started: float = field(default_factory=time.perf_counter)
    conf: node.Conf | None = None
    req: Request | None = None
    request_id: str = ""
    rhash: str = ""
    provider_member: ClientId | None = None


def server_proxy(
    token: str, body: bytes, *, peer_cert: bytes | None = None, deferred: list[core.Entry] | None = None
) -> tuple[str, bytes]:
    """Handle one signed request from a consumer's gateway; the signed response envelope and body.

    ``peer_cert`` is the DER certificate the sending node presented in the TLS handshake (None in
    process): the signing member's certificate must belong to that very node, so a node cannot
    relay messages signed with keys another node holds. Errors are answered with a signed envelope
    too (when the provider is known), so the consumer's gateway can tell a forged error from a real
    one.

    ``deferred`` is given by a consumer's gateway in this process: the provider's log entries are
    added to it instead of written, and the consumer writes them with its own in one commit before
    the response leaves the process.

    The asynchronous gateway (:mod:`gov21.exchange.agateway`) runs the same steps (:func:`verify`,
    the receipt, :func:`route`, :func:`sign`, :func:`log_entry`) with its own waiting."""
    inb = Inbound(node.this_node(), token)
    try:
        verify(inb, body, peer_cert)
        if not _first_receipt(inb.this, inb.request_id):
            raise replayed()
        assert inb.conf is not None and inb.req is not None
        response = metaservice(inb.conf, inb.req) if route(inb) == "meta" else _call_service(inb.req)
    except XRoadError as exc:
        response = error_response(inb, exc)
    return _respond(inb, response, deferred)


def error_response(inb: Inbound, exc: XRoadError) -> Response:
    return xroad_error(exc.at(SERVER_PROXY), message_id=inb.req.message_id if inb.req else "")


def replayed() -> XRoadError:
    # The consumer's gateway gives every request a fresh id inside the signature, so the same id
    # twice is a captured envelope sent again (a client's own retry gets a new one).
    return XRoadError(f"{SERVER_PROXY}.InvalidMessage", "This signed request was already received")


def verify(inb: Inbound, body: bytes, peer_cert: bytes | None) -> None:
    """Check the envelope, its signature, the sending node and the hashes; nothing is written."""
    inb.conf = node.CONFS.own(origin=SERVER_PROXY)
    header, payload = read_envelope(inb.token)
    inb.req, inb.request_id = _request_from(payload, body)
    req = inb.req
    inb.provider_member = req.service.provider.member
    client_conf = node.CONFS.get(req.client.instance, origin=SERVER_PROXY)
    cert = client_conf.signing_cert(str(header.get("kid", "")))
    if cert is None or cert["member"] != str(req.client.member):
        raise XRoadError(
            f"{SERVER_PROXY}.CertValidation",
            "The request is not signed with a valid certificate of the client's member issued by its instance CA",
        )
    payload = verify_envelope(inb.token, cert["pem"])
    if peer_cert is not None and client_conf.node_by_auth_cert(peer_cert) != cert["node"]:
        raise XRoadError(
            f"{SERVER_PROXY}.SslAuthenticationFailed",
            "The TLS certificate is not that of the node holding the client's signing key",
        )
    if abs(time.time() - int(payload.get("iat", 0))) > MAX_CLOCK_SKEW_S:
        raise XRoadError(f"{SERVER_PROXY}.InvalidMessage", "The request is too old or from the future")
    if payload.get("bh") != body_hash(body):
        raise XRoadError(f"{SERVER_PROXY}.InvalidSignatureValue", "The request body does not match its signature")
    inb.rhash = request_hash(req)
    if payload.get("rh") != inb.rhash:
        raise XRoadError(f"{SERVER_PROXY}.InvalidSignatureValue", "The request does not match its signed hash")
    if not 0 < len(inb.request_id) <= 64:
        raise XRoadError(f"{SERVER_PROXY}.InvalidMessage", "The envelope has no valid request id")


def route(inb: Inbound) -> str:
    """After the receipt: ``"meta"`` for a metaservice of this node, ``"service"`` for a service
    the client has a right to on this very path; an X-Road error otherwise."""
    assert inb.conf is not None and inb.req is not None
    conf, req, this = inb.conf, inb.req, inb.this
    # The consumer's gateway checked the path, but rights are granted here, on this very path:
    # check it again rather than trust another node's parsing.
    path_check(req.path)
    if req.service.provider.instance != this.instance:
        raise XRoadError(f"{SERVER_PROXY}.UnknownService", f"This node serves instance {this.instance} only")
    sub = conf.subsystem(req.service.provider)
    if req.service.code in meta.METASERVICES and sub is not None and sub.get("node") == this.code:
        return "meta"
    if conf.service(req.service) is None or sub is None:
        raise XRoadError(f"{SERVER_PROXY}.UnknownService", f"Unknown service {req.service}")
    if sub.get("node") != this.code:
        raise XRoadError(f"{SERVER_PROXY}.UnknownService", f"{req.service.provider} is not served by this node")
    if not conf.allowed(req.client, req.service, req.method, req.path or "/"):
        raise XRoadError(
            f"{SERVER_PROXY}.AccessDenied",
            f"Request is not allowed: {req.client} has no right to {req.method} {req.path or '/'} on {req.service}",
        )
    return "service"


_pruned_at: dict[str, float] = {}


def _first_receipt(this: node.ThisNode, request_id: str) -> bool:
    """Record ``request_id`` as received; False if it already was (a replay). The database's
    unique constraint decides, so concurrent copies of one request cannot both pass."""
    # A savepoint of its own: the caller may hold a transaction (a call inside this process), and
    # a refused insert must not break it.
    with log.log_writer(), transaction.atomic():
        (first,) = receipts_write([(this.log_chain, request_id)], transaction.on_commit)
    return first


def receipts_write(items: Sequence[tuple[str, str]], after: groupcommit.After) -> list[bool]:
    """Record each (chain, request id) as received, in the caller's transaction; per item, False if
    it already was. Each insert has a savepoint of its own, so a replay fails alone."""
    from gov21.exchange.models import ReceivedRequest

    now = timezone.now()
    firsts = []
    for chain_name, request_id in items:
        try:
            with transaction.atomic():
                ReceivedRequest.objects.create(chain=chain_name, request_id=request_id, received_at=now)
        except IntegrityError:
            firsts.append(False)
        else:
            firsts.append(True)
    for chain_name in {c for c, _ in items}:
        if time.monotonic() - _pruned_at.get(chain_name, 0.0) > 60:
            _pruned_at[chain_name] = time.monotonic()
            # A request is refused once its iat is MAX_CLOCK_SKEW_S old, and may be dated that far
            # in the future: after three times the skew nobody can replay it anyway.
            ReceivedRequest.objects.filter(
                chain=chain_name, received_at__lt=now - timedelta(seconds=3 * MAX_CLOCK_SKEW_S)
            ).delete()
    return firsts


# The asynchronous gateway's receipts: written by a thread of their own, many in one transaction,
# each decided (committed) before the service is called.
RECEIPTS: Final[groupcommit.ThreadWriter[tuple[str, str], bool]] = groupcommit.ThreadWriter(
    receipts_write, name="receipts"
)


async def first_receipt_async(this: node.ThisNode, request_id: str) -> bool:
    """:func:`_first_receipt` from an event loop."""
    try:
        return await RECEIPTS.submit((this.log_chain, request_id))
    except groupcommit.NotCommitted as exc:
        raise XRoadError(f"{SERVER_PROXY}.InternalError", "The request could not be recorded as received") from exc


def sign(inb: Inbound, response: Response) -> str:
    """The signed response envelope; if there is nobody to sign as, the unsigned error raised."""
    headers = [(k, v) for k, v in response.headers if k not in XROAD_SET and k != SUBJECTS_HEADER]
    conf, provider_member = inb.conf, inb.provider_member
    found = conf.cert_for(provider_member, inb.this.code) if conf is not None and provider_member is not None else None
    if found is None:
        # Nobody to sign as: an unsigned error the consumer's gateway reports as the provider side's.
        _unsigned_error(response.error or f"{SERVER_PROXY}.InternalError", response.body)
    assert provider_member is not None and found is not None
    return sign_compact(
        node.signing_key(provider_member),
        {
            "v": 1,
            "id": inb.req.message_id if inb.req else "",
            "rid": inb.request_id,
            "rh": inb.rhash,
            "status": response.status,
            "h": headers,
            "bh": body_hash(response.body),
            "err": response.error,
            "iat": int(time.time()),
        },
        typ=ENVELOPE_TYP,
        kid=found[0],
    )


def log_entry(inb: Inbound, response: Response, resp_token: str) -> dict[str, Any]:
    """The arguments of the provider's log entry (:func:`gov21.exchange.log.entries`)."""
    assert inb.req is not None
    return {
        "role": "provider",
        "req": inb.req,
        "request_id": inb.request_id,
        "response": response,
        "rhash": inb.rhash,
        "req_sig": inb.token,
        "resp_sig": resp_token,
        "duration_ms": (time.perf_counter() - inb.started) * 1000,
    }


def refused(inb: Inbound) -> Inbound:
    """What signs the refusal that replaces a response whose log entry could not be written: no
    request to log (nothing was released)."""
    return replace(inb, req=None, rhash="", token="")


def _respond(inb: Inbound, response: Response, deferred: list[core.Entry] | None = None) -> tuple[str, bytes]:
    resp_token = sign(inb, response)
    if inb.req is None:
        return resp_token, response.body
    entry = log_entry(inb, response, resp_token)
    if deferred is not None:
        deferred += log.entries(inb.this, **entry)
    else:
        refusal = log.logged_or_refusal(inb.this, origin=SERVER_PROXY, **entry)
        if refusal is not None:
            return _respond(refused(inb), refusal)
    metrics.observe(str(inb.req.service), response.status, response.error, entry["duration_ms"])
    return resp_token, response.body


async def respond_async(inb: Inbound, response: Response) -> tuple[str, bytes]:
    """:func:`_respond` from an event loop: the log entry goes to the writer thread."""
    resp_token = sign(inb, response)
    if inb.req is None:
        return resp_token, response.body
    entry = log_entry(inb, response, resp_token)
    refusal = await log.logged_or_refusal_async(inb.this, origin=SERVER_PROXY, **entry)
    if refusal is not None:
        return await respond_async(refused(inb), refusal)
    metrics.observe(str(inb.req.service), response.status, response.error, entry["duration_ms"])
    return resp_token, response.body


def _unsigned_error(error: str, body: bytes) -> NoReturn:
    try:
        message = str(orjson.loads(body)["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        message = body.decode("utf-8", "replace")[:300]
    raise XRoadError(error, message)


def _request_from(payload: dict[str, Any], body: bytes) -> tuple[Request, str]:
    try:
        req = Request(
            method=str(payload["method"]),
            service=ServiceId.parse(str(payload["service"])),
            path=str(payload["path"]),
            query=str(payload["query"]),
            headers=[(str(k).lower(), str(v)) for k, v in payload["h"]],
            body=body,
            client=ClientId.parse(str(payload["client"])),
            message_id=str(payload["id"]),
            user_id=str(payload.get("user", "")),
            issue=str(payload.get("issue", "")),
            represented_party=str(payload.get("rep", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise XRoadError(f"{SERVER_PROXY}.InvalidMessage", f"Malformed envelope: {exc}") from exc
    return req, str(payload.get("rid", ""))


def metaservice(conf: node.Conf, req: Request) -> Response:
    status, body, content_type = meta.answer(
        conf, req.client, req.service.provider, req.service.code, parse_qs(req.query), _openapi_of
    )
    return Response(status=status, headers=[("content-type", content_type)], body=body)


def _openapi_of(sid: ServiceId) -> dict[str, Any]:
    from gov21.exchange.models import LocalService

    local = LocalService.objects.filter(service_id=str(sid)).values_list("openapi", flat=True).first()
    if local:
        return dict(local)
    row = _service_row(sid, "openapi")
    return dict(row[0] or {}) if row else {}


def _service_row(sid: ServiceId, *fields: str) -> tuple[Any, ...] | None:
    """Columns of the directory's own row for a service (a node sharing the directory's database)."""
    from gov21.exchange.models import Service

    row: tuple[Any, ...] | None = (
        Service.objects.filter(
            subsystem__member__instance=sid.provider.instance,
            subsystem__member__member_class=sid.provider.member_class,
            subsystem__member__code=sid.provider.member_code,
            subsystem__code=sid.provider.subsystem,
            code=sid.code,
        )
        .values_list(*fields)
        .first()
    )
    return row


def _service_address(sid: ServiceId) -> tuple[str, float]:
    from gov21.exchange.models import LocalService

    key = str(sid)
    local = LocalService.objects.filter(service_id=key).values_list("base_url", "timeout_s").first()
    if local is not None:
        return local[0], float(local[1])
    row = _service_row(sid, "base_url", "timeout_s")
    if row is None or not row[0]:
        raise XRoadError(f"{SERVER_PROXY}.ServiceMissingUrl", f"No address is configured for {sid}")
    return row[0], float(row[1])


_address_cache: dict[str, tuple[float, str, float]] = {}
_address_ids: dict[str, ServiceId] = {}


def _cached_address(req: Request) -> tuple[str, float]:
    key = str(req.service)
    hit = _address_cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < 5:
        return hit[1], hit[2]
    return _address_read(req.service)


def _address_read(sid: ServiceId) -> tuple[str, float]:
    url, timeout = _service_address(sid)
    key = str(sid)
    _address_cache[key] = (time.monotonic(), url, timeout)
    _address_ids[key] = sid
    return url, timeout


def address_cached(sid: ServiceId) -> tuple[str, float] | None:
    """A service's address in memory, however old (the asynchronous gateway's refresher keeps it
    current); None before it was first read."""
    hit = _address_cache.get(str(sid))
    return None if hit is None else (hit[1], hit[2])


def address_read(sid: ServiceId) -> tuple[str, float]:
    """A service's address from the database, remembered (off an event loop only)."""
    return _address_read(sid)


def addresses_refresh() -> None:
    """Read again every address in memory; one that is gone is forgotten, so its next message
    gets the error."""
    for key, sid in list(_address_ids.items()):
        try:
            _address_read(sid)
        except XRoadError:
            _address_cache.pop(key, None)


def call_local(url: str, req: Request) -> Response:
    """A ``local:`` service of this process (sync Django: off an event loop only)."""
    return _call_local(url.removeprefix("local:"), req)


def _call_service(req: Request) -> Response:
    url, timeout = _cached_address(req)
    if url.startswith("local:"):
        return _call_local(url.removeprefix("local:"), req)
    return transport.service_send(url, timeout, req)


def _call_local(name: str, req: Request) -> Response:
    handler = LOCAL_HANDLERS.get(name)
    if handler is None:
        raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"Service handler {name} is not available")
    sreq = ServiceRequest(
        method=req.method,
        path=req.path or "/",
        query=parse_qs(req.query, keep_blank_values=True),
        headers=dict(req.headers),
        body=req.body,
        client=str(req.client),
        service=str(req.service),
        message_id=req.message_id,
        user_id=req.user_id,
        issue=req.issue,
    )
    try:
        if req.method in READS:
            # A read holds no transaction: on SQLite one would hold the write lock for the whole
            # read, and outside one its access records join the group writer's batches, committed
            # before the answer is released all the same.
            result = handler(sreq)
        else:
            with transaction.atomic():
                result = handler(sreq)
    except XRoadError:
        raise
    except Exception as exc:
        logger.exception("local service %s failed", name)
        raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"The service failed: {type(exc).__name__}") from exc
    return Response(
        status=result.status,
        headers=[("content-type", result.content_type)],
        body=result.body,
        subjects=list(result.subjects),
    )
