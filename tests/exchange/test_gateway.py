from __future__ import annotations

import http.server
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from gov21.core.principal import Principal
from gov21.exchange import chain, node, pki
from gov21.exchange.contracts import DataUseSeen, data_uses_for, exchange_call
from gov21.exchange.models import Node
from gov21.exchange.services import member_add, node_approve, node_request, right_grant, service_add, subsystem_add
from tests.registry.factories import register_person

pytestmark = pytest.mark.usefixtures("exchange")

PERSONS = "XA/GOV/CRO/civil-registry/persons"


def test_an_agency_with_a_right_reads_a_person_and_the_use_is_recorded(registrar: Principal) -> None:
    person = register_person(registrar)

    result = exchange_call(
        client="XA/GOV/MSD/benefits", service=PERSONS, path=f"/{person.uin}", issue="case 17", user_id="XA-officer-3"
    )

    assert result.status == 200, result.body
    assert result.json()["uin"] == person.uin
    assert result.headers["x-road-request-hash"]
    uses = data_uses_for(subject=person.uin)
    assert [(u["client"], u["purpose"], u["user_id"]) for u in uses] == [
        ("XA/GOV/MSD/benefits", "case 17", "XA-officer-3")
    ]
    assert set(uses[0]) == set(DataUseSeen.__annotations__)
    assert chain.verify("log:main", node.verify_own).entries == 2  # consumer and provider entries


def test_an_agency_without_a_right_is_refused_and_the_refusal_is_logged(registrar: Principal) -> None:
    person = register_person(registrar)

    result = exchange_call(client="XA/GOV/STATS/statistics", service=PERSONS, path=f"/{person.uin}", issue="x")

    assert result.status == 500
    assert result.error == "Server.ServerProxy.AccessDenied"
    assert result.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
    assert data_uses_for(subject=person.uin) == []
    assert chain.verify("log:main", node.verify_own).entries == 2


def test_a_path_built_from_bad_input_is_bad_input_and_not_an_exchange_failure(registrar: Principal) -> None:
    from gov21.core.errors import DomainError
    from gov21.exchange.contracts import exchange_json

    person = register_person(registrar)

    with pytest.raises(DomainError) as refused:
        exchange_json(client="XA/GOV/MSD/benefits", service=PERSONS, path=f"/{person.uin}/../x", issue="case 1")

    assert refused.value.status == 400
    assert "Client.BadRequest" in refused.value.detail


class _Impostor(http.server.BaseHTTPRequestHandler):
    """A node of the instance (its certificate is genuine) listening where another node should be."""

    received: list[str] = []

    def do_POST(self) -> None:
        self.received.append(self.path)
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_the_consumer_gateway_sends_only_to_the_certificate_the_configuration_lists(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"https://127.0.0.1:{port}"
    member_add(ident="XA/GOV/TAX", name="Tax")
    keys = {code: Ed25519PrivateKey.generate() for code in ("tax-1", "rogue")}
    for code, key in keys.items():
        node_request(
            code=code, owner="XA/GOV/TAX", address=address, auth_public_key=pki.public_key_pem(key), signing_keys={}
        )
        node_approve(code=code, by="test")
    subsystem_add(ident="XA/GOV/TAX/returns", node="tax-1")
    service_add(ident="XA/GOV/TAX/returns/status", base_url="")
    right_grant(service="XA/GOV/TAX/returns/status", subject="XA/GOV/MSD/benefits")
    node.CONFS.clear()
    rogue_cert, rogue_key = tmp_path / "rogue.pem", tmp_path / "rogue.key"
    rogue_cert.write_text(Node.objects.get(code="rogue").auth_cert_pem)
    rogue_key.write_bytes(keys["rogue"].private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(rogue_cert), str(rogue_key))
    context.load_verify_locations(cadata=pki.CertificateAuthority("XA").cert_pem())
    context.verify_mode = ssl.CERT_OPTIONAL
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Impostor)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Impostor.received.clear()
    try:
        result = exchange_call(client="XA/GOV/MSD/benefits", service="XA/GOV/TAX/returns/status", path="/1", issue="t")
    finally:
        server.shutdown()
        server.server_close()

    assert result.error == "Server.ClientProxy.SslAuthenticationFailed"
    assert _Impostor.received == []
