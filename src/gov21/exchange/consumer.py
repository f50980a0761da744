"""The consumer's side of the exchange: the client proxy, which takes a request from one of this
node's information systems, signs it as the client member, sends it to the provider's gateway (in
this process when this node serves the provider, over pinned mutual TLS otherwise), checks the
signed answer, and logs the exchange before releasing it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from gov21.core import chain as core
from gov21.core.crypto import sign_compact
from gov21.exchange import log, metrics, node, pki, provider, transport
from gov21.exchange.errors import CLIENT_PROXY, XRoadError
from gov21.exchange.protocol import (
    ENVELOPE_TYP,
    XROAD_SET,
    Request,
    Response,
    body_hash,
    read_envelope,
    request_hash,
    verify_envelope,
    xroad_error,
)

# How long the consumer's gateway waits for the provider's node (which itself waits for its service).
PEER_TIMEOUT_S: Final = 60.0


@dataclass
class Outbound:
    """One r1 request at the client proxy, filled in as it goes: signed, sent (in this process when
    ``local``, else to ``address`` pinned to ``pinned_sha256``), answered, logged."""

    req: Request
    this: node.ThisNode
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.perf_counter)
    rhash: str = ""
    req_token: str = ""
    resp_token: str = ""
    provider_conf: node.Conf | None = None
    local: bool = False
    address: str = ""
    pinned_sha256: str = ""
    duration_ms: float = 0.0


def client_proxy(req: Request) -> Response:
    """Handle one r1 request from an information system of this node.

    The asynchronous gateway (:mod:`gov21.exchange.agateway`) runs the same steps (:func:`prepare`,
    :func:`accept`, :func:`log_entry`, :func:`finish`) with its own waiting."""
    out = Outbound(req, node.this_node())
    # The provider's log entries when it answers in this process: written with ours, in one commit.
    deferred: list[core.Entry] = []
    try:
        prepare(out)
        if out.local:
            out.resp_token, body = provider.server_proxy(out.req_token, req.body, deferred=deferred)
        else:
            out.resp_token, body = transport.peer_send(
                out.address, out.req_token, req.body, timeout=PEER_TIMEOUT_S, pinned_sha256=out.pinned_sha256
            )
        response = accept(out, body)
    except XRoadError as exc:
        response = error_response(out, exc)
    except Exception:
        # The provider answered (and may have acted): its entries are written whatever failed here.
        log.entries_append(deferred)
        raise
    refusal = log.logged_or_refusal(out.this, origin=CLIENT_PROXY, before=deferred, **log_entry(out, response))
    return finish(out, refusal or response)


def error_response(out: Outbound, exc: XRoadError) -> Response:
    return xroad_error(exc.at(CLIENT_PROXY), message_id=out.req.message_id)


def prepare(out: Outbound) -> None:
    """Check the client and the provider in the configuration, and sign the request; where it goes."""
    req, this = out.req, out.this
    conf = node.CONFS.own(origin=CLIENT_PROXY)
    if not conf.has_client(req.client) or req.client.instance != this.instance:
        raise XRoadError(f"{CLIENT_PROXY}.UnknownMember", f"Client {req.client} is not registered in {this.instance}")
    client_sub = conf.subsystem(req.client)
    if client_sub is not None and client_sub.get("node") != this.code:
        raise XRoadError(f"{CLIENT_PROXY}.ClientNotFound", f"Client {req.client} is not a client of this node")
    provider_conf = node.CONFS.get(req.service.provider.instance, origin=CLIENT_PROXY)
    out.provider_conf = provider_conf
    provider_sub = provider_conf.subsystem(req.service.provider)
    if provider_sub is None:
        raise XRoadError(f"{CLIENT_PROXY}.UnknownMember", f"No provider {req.service.provider}")
    out.rhash = request_hash(req)
    found = conf.cert_for(req.client, this.code)
    if found is None:
        raise XRoadError(
            f"{CLIENT_PROXY}.CannotSign", f"This node holds no signing certificate for {req.client.member}"
        )
    fingerprint, _ = found
    out.req_token = request_envelope(req, request_id=out.request_id, rhash=out.rhash, fingerprint=fingerprint)
    if provider_conf.instance == this.instance and provider_sub.get("node") == this.code:
        out.local = True
        return
    peer = provider_conf.node(str(provider_sub.get("node")))
    if peer is None or not peer.get("address") or not peer.get("auth_cert"):
        raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"No address for the node of {req.service.provider}")
    out.address = peer["address"]
    out.pinned_sha256 = pki.fingerprint(peer["auth_cert"])


def accept(out: Outbound, body: bytes) -> Response:
    """The provider's answer, once its signed envelope (``out.resp_token``) checks out."""
    assert out.provider_conf is not None
    return _accept_response(out.resp_token, body, out.req, out.rhash, out.provider_conf)


def log_entry(out: Outbound, response: Response) -> dict[str, Any]:
    """The arguments of the consumer's log entry (:func:`gov21.exchange.log.entries`)."""
    out.duration_ms = (time.perf_counter() - out.started) * 1000
    return {
        "role": "consumer",
        "req": out.req,
        "request_id": out.request_id,
        "response": response,
        "rhash": out.rhash,
        "req_sig": out.req_token,
        "resp_sig": out.resp_token,
        "duration_ms": out.duration_ms,
    }


def finish(out: Outbound, response: Response) -> Response:
    """The response as the information system receives it, once logged (or the refusal)."""
    req = out.req
    metrics.observe(str(req.service), response.status, response.error, out.duration_ms)
    response.headers = [
        *[(k, v) for k, v in response.headers if k not in XROAD_SET or k == "x-road-error"],
        ("x-road-client", str(req.client)),
        ("x-road-service", str(req.service)),
        ("x-road-id", req.message_id),
        ("x-road-request-id", out.request_id),
    ]
    if out.rhash and not response.error:
        response.headers.append(("x-road-request-hash", out.rhash))
    return response


def request_envelope(req: Request, *, request_id: str, rhash: str, fingerprint: str) -> str:
    """The signed envelope of a request, by the client member's key named by its certificate."""
    return sign_compact(
        node.signing_key(req.client),
        {
            "v": 1,
            "id": req.message_id,
            "rid": request_id,
            "client": str(req.client),
            "service": str(req.service),
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "h": req.headers,
            "bh": body_hash(req.body),
            "rh": rhash,
            "user": req.user_id,
            "issue": req.issue,
            "rep": req.represented_party,
            "iat": int(time.time()),
        },
        typ=ENVELOPE_TYP,
        kid=fingerprint,
    )


def _accept_response(token: str, body: bytes, req: Request, rhash: str, provider_conf: node.Conf) -> Response:
    header, _ = read_envelope(token)
    cert = provider_conf.signing_cert(str(header.get("kid", "")))
    if cert is None or cert["member"] != str(req.service.provider.member):
        raise XRoadError(f"{CLIENT_PROXY}.CertValidation", "The response is not signed by the provider's certificate")
    payload = verify_envelope(token, cert["pem"])
    if payload.get("id") != req.message_id:
        raise XRoadError(f"{CLIENT_PROXY}.InconsistentResponse", "The response answers another message")
    if payload.get("bh") != body_hash(body):
        raise XRoadError(f"{CLIENT_PROXY}.InvalidSignatureValue", "The response body does not match its signature")
    error = str(payload.get("err") or "")
    if not error and payload.get("rh") != rhash:
        raise XRoadError(f"{CLIENT_PROXY}.InconsistentResponse", "The provider hashed a different request")
    headers = [(str(k), str(v)) for k, v in payload.get("h", [])]
    if error:
        headers.append(("x-road-error", error))
    return Response(status=int(payload["status"]), headers=headers, body=body, error=error)
