"""The client interface as an X-Road REST client sees it: requests written by hand from the
specification (as curl would send them), over a real socket to the information-system listener."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from gov21.core.principal import Principal
from gov21.exchange import chain, node
from gov21.exchange.models import LogEntry
from tests.registry.factories import register_person

pytestmark = pytest.mark.usefixtures("exchange", "http_clients")


@pytest.fixture
def http_clients() -> None:
    """The information systems these tests speak for, registered by the operator for plain HTTP
    (the listener is on loopback, where that is allowed); one of them is unknown to the directory."""
    for client in ("XA/GOV/MSD/benefits", "XA/GOV/LTA/licensing", "XA/GOV/STATS/statistics", "XA/GOV/NOPE/x"):
        call_command("exchange", "node", "client", "set", client, "--connection", "http", stdout=io.StringIO())


def _send(base: str, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> http.client.HTTPResponse:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    conn.request(method, target, body=body or None, headers=headers)
    return conn.getresponse()


def _expected_hash(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> str:
    """The request hash as docs/exchange.md defines it, written out independently of the gateway."""
    lines = [f"{method} {target}"] + [f"{k}: {v}" for k, v in sorted(headers)]
    headers_digest = hashlib.sha512(("\r\n".join(lines) + "\r\n").encode()).digest()
    if body:
        headers_digest = hashlib.sha512(headers_digest + hashlib.sha512(body).digest()).digest()
    return base64.b64encode(headers_digest).decode()


def test_a_hand_written_request_gets_a_signed_logged_response_with_a_valid_request_hash(
    client_listener: str, registrar: Principal
) -> None:
    person = register_person(registrar)
    headers = {
        "X-Road-Client": "XA/GOV/MSD/benefits",
        "X-Road-Id": "msd-0001",
        "X-Road-UserId": "XA-officer-7",
        "X-Road-Issue": "BEN-2026-0042",
        "Accept": "application/json",
    }

    response = _send(client_listener, "GET", f"/r1/XA/GOV/CRO/civil-registry/persons/{person.uin}", headers)
    body = response.read()

    assert response.status == 200, body
    assert json.loads(body)["uin"] == person.uin
    assert response.getheader("X-Road-Client") == "XA/GOV/MSD/benefits"
    assert response.getheader("X-Road-Service") == "XA/GOV/CRO/civil-registry/persons"
    assert response.getheader("X-Road-Id") == "msd-0001"
    assert response.getheader("X-Road-Request-Id")
    assert response.getheader("X-Road-Error") is None
    travelled = [
        ("accept", "application/json"),
        ("accept-encoding", "identity"),
        ("x-road-client", "XA/GOV/MSD/benefits"),
        ("x-road-id", "msd-0001"),
        ("x-road-issue", "BEN-2026-0042"),
        ("x-road-service", "XA/GOV/CRO/civil-registry/persons"),
        ("x-road-userid", "XA-officer-7"),
    ]
    assert response.getheader("X-Road-Request-Hash") == _expected_hash("GET", f"/{person.uin}", travelled, b"")
    entries = {e.role: e for e in LogEntry.objects.filter(message_id="msd-0001")}
    assert set(entries) == {"consumer", "provider"}
    assert entries["provider"].request_hash == response.getheader("X-Road-Request-Hash")
    assert entries["provider"].subjects == person.uin
    assert entries["consumer"].response_sig.count(".") == 2  # the provider's JWS, kept by the consumer
    assert chain.verify("log:main", node.verify_own).ok


def test_a_post_body_is_part_of_the_request_hash(client_listener: str) -> None:
    body = b'{"token": "not-a-credential"}'
    headers = {"X-Road-Client": "XA/GOV/LTA/licensing", "X-Road-Id": "lta-1", "Content-Type": "application/json"}

    response = _send(client_listener, "POST", "/r1/XA/GOV/CRO/civil-registry/certificates/verify", headers, body)

    assert response.status == 200
    assert json.loads(response.read())["status"] == "tampered"
    travelled = [
        ("accept-encoding", "identity"),
        ("content-type", "application/json"),
        ("x-road-client", "XA/GOV/LTA/licensing"),
        ("x-road-id", "lta-1"),
        ("x-road-service", "XA/GOV/CRO/civil-registry/certificates"),
    ]
    assert response.getheader("X-Road-Request-Hash") == _expected_hash("POST", "/verify", travelled, body)


@pytest.mark.parametrize(
    ("target", "headers", "status", "error"),
    [
        ("/r1/XA/GOV/CRO/civil-registry/persons/1", {}, 400, "Client.BadRequest"),
        ("/r1/XA/GOV/CRO/civil-registry/persons/1", {"X-Road-Client": "XA/GOV"}, 400, "Client.InvalidClientIdentifier"),
        (
            "/r1/XA/GOV/CRO/civil-registry/persons/1",
            {"X-Road-Client": "XA/GOV/M%0A/x"},
            400,
            "Client.InvalidClientIdentifier",
        ),
        ("/r1/XA/GOV/CRO", {"X-Road-Client": "XA/GOV/MSD/benefits"}, 400, "Client.BadRequest"),
        (
            "/r1/XA/GOV/CRO/civil-registry/nope",
            {"X-Road-Client": "XA/GOV/MSD/benefits"},
            500,
            "Server.ServerProxy.UnknownService",
        ),
        (
            "/r1/XA/GOV/NOPE/x/persons",
            {"X-Road-Client": "XA/GOV/MSD/benefits"},
            500,
            "Server.ClientProxy.UnknownMember",
        ),
        (
            "/r1/XA/GOV/CRO/civil-registry/persons/1",
            {"X-Road-Client": "XA/GOV/NOPE/x"},
            500,
            "Server.ClientProxy.UnknownMember",
        ),
        (
            "/r1/ZZ/GOV/CRO/civil-registry/persons/1",
            {"X-Road-Client": "XA/GOV/MSD/benefits"},
            500,
            "Server.ClientProxy.UnknownMember",
        ),
        (
            "/r1/XA/GOV/CRO/civil-registry/persons/1",
            {"X-Road-Client": "XA/GOV/STATS/statistics"},
            500,
            "Server.ServerProxy.AccessDenied",
        ),
        (
            "/r1/XA/GOV/CRO/civil-registry/persons/a/b/c",
            {"X-Road-Client": "XA/GOV/MSD/benefits"},
            500,
            "Server.ServerProxy.AccessDenied",
        ),
        (
            "/r2/XA/GOV/CRO/civil-registry/persons/1",
            {"X-Road-Client": "XA/GOV/MSD/benefits"},
            400,
            "Client.InvalidProtocolVersion",
        ),
        (
            "/r1/XA/GOV/CRO/civil-registry/persons/" + "9" * 2100,
            {"X-Road-Client": "XA/GOV/MSD/benefits"},
            400,
            "Client.BadRequest",
        ),
    ],
)
def test_bad_requests_get_the_specified_xroad_error(
    client_listener: str, target: str, headers: dict[str, str], status: int, error: str
) -> None:
    response = _send(client_listener, "GET", target, headers)
    body = json.loads(response.read())

    assert response.status == status
    assert response.getheader("X-Road-Error") == error
    assert response.getheader("Content-Type").startswith("application/json")
    assert body["type"] == error and body["message"] and body["detail"]


def test_an_oversized_body_is_refused_before_it_is_read(client_listener: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_EXCHANGE_MAX_BODY_BYTES", "1000")
    headers = {"X-Road-Client": "XA/GOV/LTA/licensing", "Content-Type": "application/json"}

    response = _send(client_listener, "POST", "/r1/XA/GOV/CRO/civil-registry/certificates/verify", headers, b"x" * 5000)

    assert response.status == 400
    assert response.getheader("X-Road-Error") == "Client.BadRequest"


def test_list_clients_answers_xml_by_default_and_json_on_request(client_listener: str) -> None:
    xml = _send(client_listener, "GET", "/listClients", {})
    assert xml.status == 200 and xml.getheader("Content-Type").startswith("text/xml")
    text = xml.read().decode()
    assert "<ns1:memberCode>CRO</ns1:memberCode>" in text and 'ns1:objectType="SUBSYSTEM"' in text

    listed = json.loads(_send(client_listener, "GET", "/listClients", {"Accept": "application/json"}).read())
    ids = {(m["id"]["member_code"], m["id"].get("subsystem_code")) for m in listed["member"]}
    assert ("CRO", None) in ids and ("CRO", "civil-registry") in ids


def test_metaservices_list_allowed_methods_and_the_openapi_description(client_listener: str) -> None:
    base = "/r1/XA/GOV/CRO/civil-registry"
    listed = json.loads(
        _send(client_listener, "GET", f"{base}/listMethods", {"X-Road-Client": "XA/GOV/STATS/statistics"}).read()
    )
    codes = {s["service_code"] for s in listed["service"]}
    assert codes == {"persons", "residents", "certificates", "declarations", "copies", "versions", "numbers"}
    persons = next(s for s in listed["service"] if s["service_code"] == "persons")
    assert {"method": "GET", "path": "/*/history"} in persons["endpoint_list"]

    allowed = json.loads(
        _send(client_listener, "GET", f"{base}/allowedMethods", {"X-Road-Client": "XA/GOV/STATS/statistics"}).read()
    )
    assert {s["service_code"] for s in allowed["service"]} == {"certificates", "numbers"}

    openapi = _send(
        client_listener, "GET", f"{base}/getOpenAPI?serviceCode=persons", {"X-Road-Client": "XA/GOV/MSD/benefits"}
    )
    assert openapi.status == 200
    assert "/{uin}/history" in json.loads(openapi.read())["paths"]


def test_metrics_count_messages_per_service(client_listener: str) -> None:
    _send(
        client_listener, "GET", "/r1/XA/GOV/CRO/civil-registry/persons/1", {"X-Road-Client": "XA/GOV/STATS/statistics"}
    ).read()
    text = _send(client_listener, "GET", "/metrics", {}).read().decode()
    assert (
        'gov21_exchange_errors_total{service="XA/GOV/CRO/civil-registry/persons",type="Server.ServerProxy.AccessDenied"'
        in text
    )
    assert "gov21_exchange_duration_ms_bucket" in text
