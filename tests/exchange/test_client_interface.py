"""Who may speak to the gateway's client interface, and in what words: the information-system
listener is the only door (never the platform's public address), an information system proves
who it is by a registered certificate or by calling over plain HTTP from where the operator
allows, and a path is decoded once, refused if it could be read two ways, and the rights are
matched on the very path the service receives."""

from __future__ import annotations

import http.client
import io
import json
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.management import call_command

from gov21.core.principal import Principal
from gov21.exchange import consumer, node
from gov21.exchange.contracts import exchange_call
from gov21.exchange.directory import right_matches
from gov21.exchange.ids import ClientId, ServiceId
from gov21.exchange.models import LogEntry
from gov21.exchange.protocol import Request
from gov21.exchange.services import right_grant
from tests.exchange.twonodes import BIN, Deployment, sqlite_nodes, wait_port
from tests.registry.factories import register_person

pytestmark = pytest.mark.usefixtures("exchange")

PERSONS = "XA/GOV/CRO/civil-registry/persons"
STATS = "XA/GOV/STATS/statistics"
BENEFITS = "XA/GOV/MSD/benefits"


def _send(base: str, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> http.client.HTTPResponse:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    conn.request(method, target, body=body or None, headers=headers)
    return conn.getresponse()


def _set(client: str, connection: str) -> None:
    call_command("exchange", "node", "client", "set", client, "--connection", connection, stdout=io.StringIO())


# --- the platform's public address is no gateway ----------------------------------------------------


@pytest.fixture(scope="module")
def platform() -> Iterator[Deployment]:
    """``gov21 up`` with a small demo nation, as an operator starts it: only its public listener."""
    deployment = Deployment("XA")
    env = deployment.env()
    proc = subprocess.Popen(
        [str(BIN / "gov21"), "up", "--port", str(deployment.public_port), "--people", "30", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deployment.procs.append(proc)
    try:
        wait_port(deployment.public_port, timeout=240)
        deployment.py(
            """
            from gov21.core.principal import Principal
            from tests.registry.factories import register_person
            register_person(Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"})))
            """
        )
        yield deployment
    finally:
        deployment.stop()


def _facts(platform: Deployment) -> dict[str, Any]:
    out = platform.py(
        """
        import json
        from pathlib import Path
        from django.conf import settings
        from gov21.registry.models import Certificate, LifeEvent, Person
        from gov21.onestop.models import Licence
        uin = (Path(settings.DATA_DIR) / "demo-citizen.txt").read_text().split()[0]
        person = Person.objects.get(uin=uin)
        print(json.dumps({
            "uin": uin,
            "status": person.status,
            "address": person.address_line,
            "licences": sorted(Licence.objects.filter(holder_uin=uin).values_list("status", flat=True)),
            "events": LifeEvent.objects.count(),
            "certificates": Certificate.objects.count(),
            "birth": LifeEvent.objects.filter(number__isnull=False).values_list("number", flat=True).first(),
        }))
        """
    )
    return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.xdist_group("nodes")
@sqlite_nodes
def test_the_shown_attacks_on_the_public_listener_of_a_running_platform_find_no_gateway(platform: Deployment) -> None:
    before = _facts(platform)
    uin = before["uin"]
    assert before["licences"] == ["valid"]
    json_body = {"Content-Type": "application/json"}
    attacks = [
        # A full person record, read as the portal.
        ("GET", f"/r1/{PERSONS}/{uin}", {"X-Road-Client": "XA/GOV/PORTAL/portal"}, b""),
        # The person's address, changed as the service engine on the person's behalf.
        (
            "POST",
            "/r1/XA/GOV/CRO/civil-registry/declarations/address_change",
            {"X-Road-Client": "XA/GOV/PORTAL/services", "X-Road-UserId": uin, **json_body},
            json.dumps({"uin": uin, "date": "2026-01-02", "parish": "P1", "line": "1 Attacker Road"}).encode(),
        ),
        # A certified copy signed by the registry.
        (
            "POST",
            "/r1/XA/GOV/CRO/civil-registry/copies/",
            {"X-Road-Client": "XA/GOV/PORTAL/services", **json_body},
            json.dumps({"number": before["birth"]}).encode(),
        ),
        # A death the registry never registered, told to the service engine.
        (
            "POST",
            "/r1/XA/GOV/PORTAL/services/events",
            {"X-Road-Client": "XA/GOV/CRO/civil-registry", **json_body},
            json.dumps(
                {
                    "event_type": "death.registered",
                    "seq": 90001,
                    "idempotency_key": "forged",
                    "published_at": "2026-01-02T00:00:00+00:00",
                    "payload": {"uin": uin, "number": "D-2026-999999", "date": "2026-01-01"},
                }
            ).encode(),
        ),
        ("GET", "/listClients", {"Accept": "application/json"}, b""),
        ("GET", "/metrics", {}, b""),
    ]

    answers = [
        (target, _send(platform.url, method, target, headers, body)) for method, target, headers, body in attacks
    ]

    assert [(target, r.status) for target, r in answers] == [(target, 404) for _, target, _, _ in attacks]
    assert all(r.getheader("X-Road-Request-Id") is None for _, r in answers)
    after = _facts(platform)
    assert after == before  # no new event, same address, the licence still valid, still alive


# --- the information-system listener: who is who --------------------------------------------------------


def _call_listener(
    path: str, *, remote_addr: str, client: str = STATS, query: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """One request to ``gov21.wsgi:clients`` as a server would pass it on, from ``remote_addr``."""
    from gov21.wsgi import clients

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "RAW_URI": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": remote_addr,
        "HTTP_X_ROAD_CLIENT": client,
        "HTTP_X_ROAD_ISSUE": "test",
        "wsgi.input": io.BytesIO(b""),
    }
    setup_testing_defaults(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(clients(environ, start_response))
    return captured["status"], captured["headers"], body


def test_a_client_the_operator_did_not_register_is_refused_even_from_loopback(
    client_listener: str, registrar: Principal
) -> None:
    person = register_person(registrar)

    response = _send(client_listener, "GET", f"/r1/{PERSONS}/{person.uin}", {"X-Road-Client": BENEFITS})

    assert response.status == 500
    assert response.getheader("X-Road-Error") == "Server.ClientProxy.SslAuthenticationFailed"
    assert person.uin.encode() not in response.read()
    assert not LogEntry.objects.exists()  # refused before anything was signed or sent


def test_a_client_registered_for_http_is_served_from_loopback(client_listener: str, registrar: Principal) -> None:
    person = register_person(registrar)
    _set(BENEFITS, "http")

    response = _send(
        client_listener, "GET", f"/r1/{PERSONS}/{person.uin}", {"X-Road-Client": BENEFITS, "X-Road-Issue": "BEN-1"}
    )

    assert response.status == 200
    assert json.loads(response.read())["uin"] == person.uin


def test_a_client_registered_for_http_is_refused_from_an_address_not_allowed(
    registrar: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = register_person(registrar)
    _set(BENEFITS, "http")
    target = f"/r1/{PERSONS}/{person.uin}"

    status, headers, body = _call_listener(target, remote_addr="192.0.2.7", client=BENEFITS)
    assert status == 500, body
    assert headers["x-road-error"] == "Server.ClientProxy.SslAuthenticationFailed"
    assert b"GOV21_EXCHANGE_HTTP_CLIENT_NETWORKS" in body

    monkeypatch.setenv("GOV21_EXCHANGE_HTTP_CLIENT_NETWORKS", "10.0.0.0/8, 192.0.2.0/28")
    status, _, body = _call_listener(target, remote_addr="192.0.2.7", client=BENEFITS)
    assert status == 200, body
    status, _, _ = _call_listener(target, remote_addr="192.0.2.77", client=BENEFITS)
    assert status == 500


def test_a_client_registered_for_https_is_refused_over_plain_http_from_loopback(
    client_listener: str, tmp_path: Any
) -> None:
    from tests.exchange.test_nodes import _self_signed

    cert, _ = _self_signed(tmp_path, "benefits")
    call_command(
        *("exchange", "node", "client", "set", BENEFITS, "--connection", "https", "--cert", str(cert)),
        stdout=io.StringIO(),
    )

    response = _send(client_listener, "GET", f"/r1/{PERSONS}/1", {"X-Road-Client": BENEFITS})

    assert response.getheader("X-Road-Error") == "Server.ClientProxy.SslAuthenticationFailed"
    assert b"did not supply a TLS certificate" in response.read()


def test_metrics_are_served_on_the_listener_to_loopback_and_allowed_networks_only(
    client_listener: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = _send(client_listener, "GET", "/metrics", {})
    assert local.status == 200
    assert local.getheader("Content-Type").startswith("text/plain")

    status, _, _ = _call_listener("/metrics", remote_addr="192.0.2.7")
    assert status == 403
    monkeypatch.setenv("GOV21_EXCHANGE_METRICS_NETWORKS", "192.0.2.0/24")
    status, _, _ = _call_listener("/metrics", remote_addr="192.0.2.7")
    assert status == 200
    monkeypatch.setenv("GOV21_EXCHANGE_METRICS_NETWORKS", "not-a-network")
    status, headers, _ = _call_listener("/metrics", remote_addr="192.0.2.7")
    assert status == 500 and headers["x-road-error"] == "Server.ClientProxy.InternalError"


def test_the_listener_serves_the_gateway_and_nothing_of_the_platform(client_listener: str) -> None:
    for target in ("/", "/my/", "/api/v1/registry/persons", "/exchange/conf", "/office/registry/"):
        assert _send(client_listener, "GET", target, {}).status == 404, target
    assert _send(client_listener, "GET", "/listClients", {}).status == 200


# --- one path, decoded once -------------------------------------------------------------------------


@pytest.fixture
def stats_reads_persons(exchange: None) -> None:
    """Statistics may read a person (``GET /*``), not a person's history (``/*/history``)."""
    right_grant(service=PERSONS, subject=STATS, method="GET", path="/*", by="test")
    node.CONFS.clear()
    _set(STATS, "http")


@pytest.mark.usefixtures("stats_reads_persons")
@pytest.mark.parametrize(
    "tail",
    [
        "/{uin}%2Fhistory",
        "/{uin}%2fhistory",
        "/{uin}%252Fhistory",
        "/{uin}/../{uin}",
        "/{uin}/%2e%2e/{uin}",
        "/{uin}/%2E/history",
        "//{uin}",
        "/{uin}//history",
        "/{uin}%5Chistory",
        "/{uin}\\history",
        "/{uin}%00",
        "/{uin}%0d%0aX:%20y",
        "/{uin}%3Bhistory",
        "/{uin}%E2%80%8Ehistory",
        "/{uin}%ff",
    ],
)
def test_an_ambiguous_path_is_a_bad_request(client_listener: str, registrar: Principal, tail: str) -> None:
    person = register_person(registrar)
    target = f"/r1/{PERSONS}" + tail.replace("{uin}", person.uin)

    response = _send(client_listener, "GET", target, {"X-Road-Client": STATS, "X-Road-Issue": "census 2026"})
    body = response.read()

    assert response.status == 400, body
    assert response.getheader("X-Road-Error") == "Client.BadRequest"
    assert json.loads(body)["type"] == "Client.BadRequest"
    assert not LogEntry.objects.filter(role="provider").exists()


@pytest.mark.usefixtures("stats_reads_persons")
def test_a_right_for_one_segment_reads_the_person_and_not_the_history(
    client_listener: str, registrar: Principal
) -> None:
    person = register_person(registrar)

    headers = {"X-Road-Client": STATS, "X-Road-Issue": "census 2026"}
    read = _send(client_listener, "GET", f"/r1/{PERSONS}/{person.uin}", headers)
    history = _send(client_listener, "GET", f"/r1/{PERSONS}/{person.uin}/history", headers)
    slashed = _send(client_listener, "GET", f"/r1/{PERSONS}/{person.uin}/", headers)

    assert read.status == 200 and json.loads(read.read())["uin"] == person.uin
    assert history.getheader("X-Road-Error") == "Server.ServerProxy.AccessDenied"
    assert slashed.getheader("X-Road-Error") == "Server.ServerProxy.AccessDenied"


@pytest.mark.usefixtures("stats_reads_persons")
@pytest.mark.parametrize("tail", ["%2Fhistory", "%252Fhistory", "/%2e%2e/{uin}/history"])
def test_a_right_for_one_segment_does_not_reach_the_history_through_an_encoded_path(
    registrar: Principal, tail: str
) -> None:
    person = register_person(registrar)

    result = exchange_call(
        client=STATS, service=PERSONS, path=f"/{person.uin}" + tail.replace("{uin}", person.uin), issue="census 2026"
    )

    assert result.status == 400, result.body
    assert result.error == "Client.BadRequest"
    assert b"versions" not in result.body and person.uin.encode() not in result.body


@pytest.mark.usefixtures("stats_reads_persons")
def test_the_same_rules_hold_in_process_and_at_the_provider_gateway(registrar: Principal) -> None:
    person = register_person(registrar)

    in_process = exchange_call(
        client=STATS, service=PERSONS, path=f"/{person.uin}/../{person.uin}/history", issue="census 2026"
    )
    assert in_process.status == 400 and in_process.error == "Client.BadRequest"

    # A consumer gateway that let an encoded slash through: the provider's gateway checks the
    # signed path itself before it matches a right on it.
    careless = Request(
        method="GET",
        service=ServiceId.parse(PERSONS),
        path=f"/{person.uin}%2Fhistory",
        query="",
        headers=[],
        body=b"",
        client=ClientId.parse(STATS),
        message_id="careless-1",
        issue="census 2026",
    )
    response = consumer.client_proxy(careless)
    assert response.error == "Client.BadRequest"
    assert response.status == 400
    assert person.uin.encode() not in response.body


def test_a_decoded_path_reaches_an_http_service_encoded_the_one_way() -> None:
    from gov21.exchange.ids import path_decode, path_encode

    path = path_decode("/caf%C3%A9/a%20b/x%3Fy%23z")

    assert path == "/café/a b/x?y#z"
    assert path_encode(path) == "/caf%C3%A9/a%20b/x%3Fy%23z"


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/*", "/123", True),
        ("/*", "/123/", False),
        ("/*", "/123/history", False),
        ("/*", "/", False),
        ("/", "/", True),
        ("/*/history", "/123/history", True),
        ("/holders/*", "/holders/1", True),
        ("/holders/**", "/holders/1/2", True),
        ("/holders/**", "/holder/1", False),
        ("/**", "/anything/at/all", True),
        ("/*/ack", "/birth.registered/ack", True),
    ],
)
def test_rights_match_the_path_segment_by_segment(pattern: str, path: str, expected: bool) -> None:
    assert right_matches("GET", pattern, "GET", path) is expected


def test_the_url_conf_no_longer_routes_the_gateway() -> None:
    from django.urls import Resolver404, resolve

    for path in (f"/r1/{PERSONS}/1", "/listClients", "/metrics"):
        with pytest.raises(Resolver404):
            resolve(path)
