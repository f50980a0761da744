"""Faults and forgeries: each gets the specified X-Road error and a log entry, never a bare 500."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from gov21.core.crypto import b64url_decode_canonical, b64url_encode
from gov21.core.principal import Principal
from gov21.exchange import chain, directory, node, pki, provider
from gov21.exchange.contracts import exchange_call
from gov21.exchange.errors import XRoadError
from gov21.exchange.ids import ClientId
from gov21.exchange.models import LogEntry, Node, SigningCert
from gov21.exchange.services import node_approve, node_request, right_grant, right_revoke, service_add
from tests.registry.factories import register_person

pytestmark = pytest.mark.usefixtures("exchange")

PERSONS = "XA/GOV/CRO/civil-registry/persons"
MSD = "XA/GOV/MSD/benefits"


def _call(path: str = "/0000000000", client: str = MSD, service: str = PERSONS) -> Any:
    return exchange_call(client=client, service=service, path=path, issue="test")


def _captured_request(monkeypatch: pytest.MonkeyPatch, *, deliver: bool = True) -> tuple[str, bytes]:
    """A genuine signed request envelope, as the consumer's gateway sent it (and, unless
    ``deliver`` is false, as the provider's gateway received it)."""
    seen: dict[str, Any] = {}
    original = provider.server_proxy

    def spy(token: str, body: bytes, **kwargs: Any) -> tuple[str, bytes]:
        seen["token"], seen["body"] = token, body
        if not deliver:
            raise XRoadError("Server.ClientProxy.NetworkError", "captured, not delivered")
        return original(token, body, **kwargs)

    monkeypatch.setattr(provider, "server_proxy", spy)
    _call()
    monkeypatch.setattr(provider, "server_proxy", original)
    return seen["token"], seen["body"]


def _error_of(token: str) -> str:
    return str(_claims(token)["err"])


def _claims(token: str) -> dict[str, Any]:
    """An envelope's claims, read without checking it (the tests judge what the gateway did)."""
    return dict(json.loads(b64url_decode_canonical(token.split(".")[1]) or b""))


def test_an_access_right_change_takes_effect_on_the_next_message(registrar: Principal) -> None:
    person = register_person(registrar)
    stats = "XA/GOV/STATS/statistics"
    assert _call(f"/{person.uin}", client=stats).error == "Server.ServerProxy.AccessDenied"

    right_grant(service=PERSONS, subject=stats, method="GET", path="/*")
    node.CONFS.clear()
    assert _call(f"/{person.uin}", client=stats).status == 200

    right_revoke(service=PERSONS, subject=stats, method="GET", path="/*")
    node.CONFS.clear()
    assert _call(f"/{person.uin}", client=stats).error == "Server.ServerProxy.AccessDenied"


def test_a_tampered_body_or_signature_is_refused_by_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    token, body = _captured_request(monkeypatch)

    tampered_body = provider.server_proxy(token, body + b"x")[0]
    head, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    tampered_signature = provider.server_proxy(f"{head}.{payload}.{flipped}", body)[0]

    assert _error_of(tampered_body) == "Server.ServerProxy.InvalidSignatureValue"
    assert _error_of(tampered_signature) == "Server.ServerProxy.InvalidSignatureValue"
    assert LogEntry.objects.filter(role="provider", error="Server.ServerProxy.InvalidSignatureValue").count() == 2


def test_a_revoked_signing_certificate_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token, body = _captured_request(monkeypatch)
    SigningCert.objects.filter(member__code="MSD").update(status=Node.REVOKED)
    directory.conf_publish()
    node.CONFS.clear()

    assert _error_of(provider.server_proxy(token, body)[0]) == "Server.ServerProxy.CertValidation"
    assert _call().error == "Server.ClientProxy.CannotSign"


def test_a_certificate_not_issued_by_the_instance_ca_is_refused(settings: Any) -> None:
    real = SigningCert.objects.get(member__code="MSD", status=Node.APPROVED)
    rogue_ca = pki.CertificateAuthority("ZZ")
    rogue_pem = rogue_ca.issue(
        public_key_pem=real.public_key_pem, common_name="XA/GOV/MSD", serial_number="main", usage="sign"
    )
    real.status = Node.REVOKED
    real.save()
    SigningCert.objects.create(
        member=real.member,
        node=real.node,
        public_key_pem=real.public_key_pem,
        cert_pem=rogue_pem,
        fingerprint=pki.fingerprint(rogue_pem),
        status=Node.APPROVED,
    )
    directory.conf_publish()
    node.CONFS.clear()

    result = _call()

    assert result.error == "Server.ServerProxy.CertValidation"
    assert LogEntry.objects.filter(role="consumer", error="Server.ServerProxy.CertValidation").exists()


def test_a_stale_configuration_stops_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    later = time.time() + 3600
    monkeypatch.setattr(node.time, "time", lambda: later)
    node.CONFS.clear()

    result = _call()

    assert result.status == 500
    assert result.error == "Server.ClientProxy.OutdatedGlobalConf"


@pytest.fixture
def slow_service() -> Iterator[str]:
    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(2.5)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_slow_provider_times_out_and_a_down_one_is_reported(slow_service: str) -> None:
    service_add(ident="XA/GOV/LTA/licensing/slow", base_url=slow_service, timeout_s=1)
    service_add(ident="XA/GOV/LTA/licensing/down", base_url="http://127.0.0.1:9", timeout_s=1)
    for code in ("slow", "down"):
        right_grant(service=f"XA/GOV/LTA/licensing/{code}", subject=MSD)
    node.CONFS.clear()

    slow = _call("/x", service="XA/GOV/LTA/licensing/slow")
    down = _call("/x", service="XA/GOV/LTA/licensing/down")

    assert (slow.status, slow.error) == (500, "Server.ServerProxy.ServiceFailed")
    assert (down.status, down.error) == (500, "Server.ServerProxy.NetworkError")
    assert LogEntry.objects.filter(service="XA/GOV/LTA/licensing/slow", role="provider").count() == 1


def test_the_gateway_fails_closed_when_it_cannot_write_its_log(
    monkeypatch: pytest.MonkeyPatch, registrar: Principal
) -> None:
    person = register_person(registrar)

    def broken(*args: Any, **kwargs: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(chain, "append_all", broken)
    result = _call(f"/{person.uin}")

    assert result.status == 500
    assert result.error.endswith(".LoggingFailed")
    assert person.given_names.encode() not in result.body


def test_a_configuration_whose_signature_fails_is_refused() -> None:
    token = directory.conf_current()
    head, payload, signature = token.split(".")
    forged_payload = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")

    with pytest.raises(XRoadError) as info:
        node._verified(f"{head}.{forged_payload}.{signature}", directory.conf_public_key_pem(), "XA")
    assert info.value.type in {"InvalidSignatureValue", "MalformedSignature"}

    other_key = pki.public_key_pem(pki.private_key(pki.keys_dir() / "conf" / "ZZ.key"))
    with pytest.raises(XRoadError) as wrong_key:
        node._verified(token, other_key, "XA")
    assert wrong_key.value.type == "InvalidSignatureValue"


def test_a_node_cannot_relay_messages_signed_with_keys_another_node_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    token, body = _captured_request(monkeypatch, deliver=False)
    main_cert = node.CONFS.own(origin="test").node("main")
    assert main_cert is not None
    other_key = pki.private_key(pki.keys_dir() / "test" / "other-node.key")
    node_request(
        code="other", owner="XA/GOV/LTA", address="", auth_public_key=pki.public_key_pem(other_key), signing_keys={}
    )
    node_approve(code="other", by="test")
    node.CONFS.clear()
    other_der = pki.load_cert(node.CONFS.own(origin="test").node("other")["auth_cert"]).public_bytes(Encoding.DER)
    main_der = pki.load_cert(main_cert["auth_cert"]).public_bytes(Encoding.DER)

    genuine = provider.server_proxy(token, body, peer_cert=main_der)[0]
    relayed = provider.server_proxy(token, body, peer_cert=other_der)[0]  # checked before the replay check

    assert _error_of(relayed) == "Server.ServerProxy.SslAuthenticationFailed"
    assert _error_of(genuine) == ""


def test_a_captured_request_sent_again_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token, body = _captured_request(monkeypatch)

    replayed = provider.server_proxy(token, body)[0]

    assert _error_of(replayed) == "Server.ServerProxy.InvalidMessage"
    assert LogEntry.objects.filter(role="provider", error="Server.ServerProxy.InvalidMessage").count() == 1


def _resigned(token: str, header: dict[str, Any], payload: bytes) -> str:
    """The captured envelope's content under another header, signed with the very member key that
    signed it: only the shape differs from a genuine envelope."""
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(payload)}"
    key = node.signing_key(ClientId.parse(MSD))
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


@pytest.mark.parametrize(
    ("extra_header", "duplicate"),
    [
        pytest.param({"crit": ["x-gov21-priority"]}, False, id="critical-extension"),
        pytest.param({"jku": "https://keys.example/jwks.json"}, False, id="jku"),
        pytest.param({"x5u": "https://keys.example/cert.pem"}, False, id="x5u"),
        pytest.param({}, True, id="duplicate-member"),
    ],
)
def test_an_envelope_outside_the_strict_jws_rules_is_refused(
    monkeypatch: pytest.MonkeyPatch, extra_header: dict[str, Any], duplicate: bool
) -> None:
    import uuid

    token, body = _captured_request(monkeypatch, deliver=False)
    header = json.loads(b64url_decode_canonical(token.split(".")[0]) or b"")
    payload = _claims(token)
    payload["rid"] = str(uuid.uuid4())  # not a replay: a fresh request id
    raw = json.dumps(payload).encode()
    if duplicate:
        # Two "service" members: a lenient parser takes the last, another verifier the first.
        raw = raw[:-1] + b',"service":"XA/GOV/CRO/civil-registry/certificates"}'
    forged = _resigned(token, {**header, **extra_header}, raw)

    # Unreadable before the provider is known: an unsigned error, as the node interface answers 502.
    with pytest.raises(XRoadError) as refused:
        provider.server_proxy(forged, body)

    assert refused.value.type == "Server.ServerProxy.MalformedSignature"
