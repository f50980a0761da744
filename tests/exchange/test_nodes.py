"""Gateways as separate processes on loopback, each deployment with its own data directory and
database: a node that joined over HTTP, federation between two instances, and SIGKILL under load."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

from gov21.core.crypto import b64url_decode_canonical
from tests.exchange.twonodes import Deployment, join, sqlite_nodes, trust_each_other

pytestmark = [pytest.mark.xdist_group("nodes"), sqlite_nodes]


class _TaxService(http.server.BaseHTTPRequestHandler):
    """An agency's own information system behind its gateway, answering about one person."""

    def do_GET(self) -> None:
        if "/slow/" in self.path:
            time.sleep(1.5)  # long enough for a second copy of a message to arrive meanwhile
        body = json.dumps({"path": self.path, "issue": self.headers.get("X-Road-Issue")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Gov21-Data-Subjects", self.path.rsplit("/", 1)[-1])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def tax_service() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TaxService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def agency_nodes(tax_service: str) -> Iterator[tuple[Deployment, Deployment]]:
    """XA's directory with its main node, and the tax administration's own node, joined over HTTP."""
    directory = Deployment("XA")
    tax = Deployment("XA", node_code="tax-1")
    try:
        directory.create_directory()
        directory.py('from gov21.exchange.services import member_add\nmember_add(ident="XA/GOV/TAX", name="Tax")')
        directory.serve()
        join(tax, directory, owner="XA/GOV/TAX")
        directory.py(
            """
            from gov21.exchange.services import right_grant, service_add, subsystem_add
            subsystem_add(ident="XA/GOV/TAX/returns", node="tax-1")
            service_add(ident="XA/GOV/TAX/returns/status", base_url="",
                        openapi={"paths": {"/{uin}": {"get": {}}}})
            right_grant(service="XA/GOV/TAX/returns/status", subject="XA/GOV/MSD/benefits", method="GET")
            subsystem_add(ident="XA/GOV/MSD/cases", node="main")
            right_grant(service="XA/GOV/TAX/returns/status", subject="XA/GOV/MSD/cases", method="GET")
            """
        )
        tax.py(
            f"""
            from gov21.exchange.models import LocalService
            LocalService.objects.create(service_id="XA/GOV/TAX/returns/status", base_url="{tax_service}")
            """
        )
        tax.serve(public=False)
        yield directory, tax
    finally:
        directory.stop()
        tax.stop()


def _log_ids(deployment: Deployment, role: str) -> set[str]:
    out = deployment.py(
        f"""
        from gov21.exchange.models import LogEntry
        print("\\n".join(LogEntry.objects.filter(role="{role}").values_list("message_id", flat=True)))
        """
    )
    return set(out.split())


def _verify(deployment: Deployment) -> dict[str, Any]:
    out = deployment.py(
        """
        import json
        from gov21.exchange import chain, node
        from gov21.exchange.models import ChainHead
        print(json.dumps({h.chain: chain.verify(h.chain, node.verify_own).ok for h in ChainHead.objects.all()}))
        """
    )
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_a_request_crosses_two_gateway_processes_over_mutual_tls(agency_nodes: tuple[Deployment, Deployment]) -> None:
    directory, tax = agency_nodes

    response = directory.call(
        "XA/GOV/TAX/returns/status",
        "/1234567890",
        "XA/GOV/MSD/benefits",
        **{"X-Road-Issue": "BEN-7", "X-Road-Id": "m-1"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"path": "/1234567890", "issue": "BEN-7"}
    assert response.headers["x-road-request-hash"]
    assert "x-gov21-data-subjects" not in response.headers
    assert "m-1" in _log_ids(directory, "consumer") and "m-1" in _log_ids(tax, "provider")
    uses = tax.py(
        """
        from gov21.exchange.contracts import data_uses_for
        print([(u["client"], u["purpose"]) for u in data_uses_for(subject="1234567890")])
        """
    )
    assert "('XA/GOV/MSD/benefits', 'BEN-7')" in uses
    refused = directory.call("XA/GOV/TAX/returns/status", "/1", "XA/GOV/STATS/statistics")
    assert refused.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"


def test_bad_input_on_the_client_interface_is_answered_with_x_road_errors(
    agency_nodes: tuple[Deployment, Deployment],
) -> None:
    directory, _ = agency_nodes
    base = f"{directory.client_url}/r1/XA/GOV/TAX/returns/status/1"

    wrong_client = httpx.get(base, headers={"X-Road-Client": "not a client"}, timeout=30)
    no_client = httpx.get(base, timeout=30)
    version = httpx.get(f"{directory.client_url}/r7/XA/GOV/TAX/returns/status/1", timeout=30)
    too_large = httpx.post(
        base,
        headers={"X-Road-Client": "XA/GOV/MSD/benefits", "Content-Type": "application/json"},
        content=b"x" * (10 * 1024 * 1024 + 1),
        timeout=60,
    )
    bad_id = httpx.get(base, headers={"X-Road-Client": "XA/GOV/MSD/benefits", "X-Road-Id": "a b"}, timeout=30)

    assert wrong_client.status_code == 400
    assert wrong_client.headers["x-road-error"] == "Client.InvalidClientIdentifier"
    assert no_client.status_code == 400 and "X-Road-Client" in no_client.json()["message"]
    assert version.headers["x-road-error"] == "Client.InvalidProtocolVersion"
    assert too_large.status_code == 400 and "larger than" in too_large.json()["message"]
    assert bad_id.headers["x-road-error"] == "Client.BadRequest"
    assert httpx.get(f"{directory.client_url}/admin/", timeout=30).status_code == 404


def test_a_gateway_at_capacity_refuses_at_once_with_retry_after(agency_nodes: tuple[Deployment, Deployment]) -> None:
    directory, _ = agency_nodes
    directory.stop()
    directory.settings["GOV21_EXCHANGE_MAX_INFLIGHT"] = "1"
    try:
        directory.serve()

        def call(path: str) -> httpx.Response:
            return directory.call("XA/GOV/TAX/returns/status", path, "XA/GOV/MSD/benefits")

        with ThreadPoolExecutor(max_workers=2) as pool:
            slow = pool.submit(call, "/slow/5")  # holds the one place for 1.5 s at the service
            time.sleep(0.5)
            started = time.monotonic()
            refused = call("/6")
            refused_after = time.monotonic() - started
            answered = slow.result()
    finally:
        directory.stop()
        directory.settings.clear()
        directory.serve()  # leave the module's nodes as they were

    assert answered.status_code == 200, answered.text
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["x-road-error"] == "Server.ClientProxy.OutOfCapacity"
    assert refused_after < 1.0  # refused at once, not after waiting for the place


def test_the_node_interface_refuses_a_peer_without_an_instance_certificate(
    agency_nodes: tuple[Deployment, Deployment],
) -> None:
    _, tax = agency_nodes
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{tax.node_address}/exchange/v1/message", content=b"x\n", verify=False, timeout=5)


def _node_tls(deployment: Deployment) -> ssl.SSLContext:
    """What the deployment's node presents to other nodes, and the CAs it trusts."""
    context = ssl.create_default_context(cafile=str(deployment.root / "exchange" / "tls" / "trusted-ca.pem"))
    context.load_cert_chain(
        str(deployment.root / "exchange" / "tls" / f"{deployment.node_code}.pem"),
        str(deployment.root / "keys" / "exchange" / "node" / f"{deployment.node_code}-auth.key"),
    )
    return context


def _envelope_claims(data: bytes) -> dict[str, Any]:
    token = data.split(b"\n", 1)[0].decode()
    return dict(json.loads(b64url_decode_canonical(token.split(".")[1]) or b""))


def test_two_copies_of_one_signed_request_sent_at_once_are_served_once(
    agency_nodes: tuple[Deployment, Deployment],
) -> None:
    directory, tax = agency_nodes
    token = directory.py(
        """
        from gov21.exchange import consumer, node, protocol
        from gov21.exchange.ids import ClientId, ServiceId
        req = protocol.Request(method="GET", service=ServiceId.parse("XA/GOV/TAX/returns/status"), path="/slow/7",
                              query="", headers=[], body=b"", client=ClientId.parse("XA/GOV/MSD/benefits"),
                              message_id="twice-1")
        fingerprint, _ = node.CONFS.own(origin="test").cert_for(req.client, "main")
        print(consumer.request_envelope(req, request_id="twice-rid-1", rhash=protocol.request_hash(req),
                                        fingerprint=fingerprint))
        """
    ).split()[-1]
    context = _node_tls(directory)

    def send(_: int) -> httpx.Response:
        return httpx.post(
            f"{tax.node_address}/exchange/v1/message", content=token.encode() + b"\n", verify=context, timeout=30
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, range(2)))

    assert [a.status_code for a in answers] == [200, 200]
    errors = sorted(str(_envelope_claims(a.content)["err"]) for a in answers)
    assert errors == ["", "Server.ServerProxy.InvalidMessage"]


def test_a_provider_gateway_killed_under_load_loses_no_logged_message(
    agency_nodes: tuple[Deployment, Deployment],
) -> None:
    directory, tax = agency_nodes
    answered: list[str] = []

    def one(i: int) -> None:
        message_id = f"kill-{uuid.uuid4()}"
        try:
            response = directory.call(
                "XA/GOV/TAX/returns/status", f"/{i}", "XA/GOV/MSD/benefits", **{"X-Road-Id": message_id}
            )
        except httpx.HTTPError:
            return
        if response.status_code == 200:
            answered.append(message_id)

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(one, i) for i in range(300)]
        deadline = time.monotonic() + 60
        while len(answered) < 40 and time.monotonic() < deadline and not all(f.done() for f in futures):
            threading.Event().wait(0.02)
        tax.kill()
        for future in futures:
            future.result()

    provider_logged = _log_ids(tax, "provider")
    consumer_logged = _log_ids(directory, "consumer")
    assert answered and set(answered) <= provider_logged
    assert set(answered) <= consumer_logged
    assert all(_verify(tax).values()) and all(_verify(directory).values())
    tax.serve(public=False)  # leave the module's nodes as they were


@pytest.fixture(scope="module")
def two_instances() -> Iterator[tuple[Deployment, Deployment]]:
    xa, xb = Deployment("XA"), Deployment("XB")
    try:
        xa.create_directory()
        xb.create_directory(people=30)
        xa.serve()
        xb.serve()
        trust_each_other(xa, xb)
        xb.py(
            """
            from gov21.exchange.services import right_grant
            right_grant(service="XB/GOV/CRO/civil-registry/persons", subject="XA/GOV/MSD/benefits",
                        method="GET", path="/*")
            """
        )
        yield xa, xb
    finally:
        xa.stop()
        xb.stop()


def test_a_consumer_in_one_instance_reads_a_service_of_a_federated_instance(
    two_instances: tuple[Deployment, Deployment],
) -> None:
    xa, xb = two_instances
    uin = xb.py("from gov21.registry.contracts import person_sample_adult\nprint(person_sample_adult())").split()[-1]

    # A newly trusted partner is admitted within a few seconds (each node re-reads its configuration
    # and rewrites its TLS trust store); until then the handshake is refused.
    deadline = time.monotonic() + 30
    while True:
        response = xa.call(
            "XB/GOV/CRO/civil-registry/persons",
            f"/{uin}",
            "XA/GOV/MSD/benefits",
            **{"X-Road-Issue": "cross-border case 5"},
        )
        if response.headers.get("x-road-error") != "Server.ClientProxy.NetworkError" or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert response.status_code == 200, response.text
    assert response.json()["uin"] == uin
    refused = xa.call(
        "XB/GOV/CRO/civil-registry/persons", f"/{uin}", "XA/GOV/STATS/statistics", **{"X-Road-Issue": "x"}
    )
    assert refused.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
    listed = httpx.get(f"{xa.client_url}/listClients?xRoadInstance=XB", headers={"Accept": "application/json"}).json()
    assert any(m["id"]["xroad_instance"] == "XB" for m in listed["member"])
    uses = xb.py(
        f"""
        from gov21.exchange.contracts import data_uses_for
        print([(u["client"], u["purpose"]) for u in data_uses_for(subject="{uin}")])
        """
    )
    assert "('XA/GOV/MSD/benefits', 'cross-border case 5')" in uses


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, None)
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(Encoding.PEM))
    key_path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert_path, key_path


def _tls(ca: str, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca)
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


def test_an_information_system_registered_for_https_must_present_its_certificate(
    agency_nodes: tuple[Deployment, Deployment], tmp_path: Path
) -> None:
    directory, _ = agency_nodes
    cert, key = _self_signed(tmp_path, "msd-cases")
    stranger_cert, stranger_key = _self_signed(tmp_path, "stranger")
    directory.gov21(
        "exchange", "node", "client", "set", "XA/GOV/MSD/cases", "--connection", "https", "--cert", str(cert)
    )
    ca = str(directory.root / "exchange" / "tls" / "trusted-ca.pem")
    url = f"https://127.0.0.1:{directory.client_tls_port}/r1/XA/GOV/TAX/returns/status/42"
    headers = {"X-Road-Client": "XA/GOV/MSD/cases"}

    plain = directory.call("XA/GOV/TAX/returns/status", "/42", "XA/GOV/MSD/cases")
    assert plain.headers["x-road-error"] == "Server.ClientProxy.SslAuthenticationFailed"

    deadline = time.monotonic() + 20  # the listener's trust store is rewritten every few seconds
    while True:
        try:
            answered = httpx.get(url, headers=headers, verify=_tls(ca, cert, key), timeout=10)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert answered.status_code == 200, answered.text
    with pytest.raises(httpx.HTTPError):
        httpx.get(url, headers=headers, verify=_tls(ca, stranger_cert, stranger_key), timeout=10)
    anonymous = httpx.get(url, headers=headers, verify=_tls(ca, None, None), timeout=10)
    assert anonymous.headers["x-road-error"] == "Server.ClientProxy.SslAuthenticationFailed"
