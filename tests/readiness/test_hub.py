"""The regional hub with two instances on loopback, each a separate deployment with its own data
directory, keys and gateway: Jamaica's national instance (XA) sends its signed-off round to the
hub's instance (XB, the CTU/CARICAD role) through the federated exchange, and the hub publishes
it in the regional ranking; the hub refuses what it has not agreed to, and the exchange refuses a
captured message sent again or altered on the way."""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest

from gov21.core.crypto import b64url_decode_canonical
from tests.exchange.twonodes import Deployment, sqlite_nodes, trust_each_other
from tests.readiness.conftest import SHIPPED

pytestmark = [pytest.mark.xdist_group("nodes"), sqlite_nodes]

SERVICE = "XB/GOV/DGO/readiness/regional"

SIGNED_ROUND = """
from gov21.core.principal import Principal
from gov21.readiness.assessments import Evidence, answer_record, assessment_open, assessment_sign_off
from gov21.readiness.reference import questionnaire
answerer = Principal(name="mof.analyst", kind="staff", roles=frozenset({"clerk"}))
reviewer = Principal(name="mof.director", kind="staff", roles=frozenset({"supervisor"}))
for agency in ("MOF", "DGO"):
    a = assessment_open(agency=agency, round=2026, actor=answerer)
    for pillar in questionnaire().questions:
        answer_record(assessment_id=a.pk, pillar=pillar, level=LEVEL, actor=answerer,
                      evidence=Evidence(url="https://gov.example/evidence"))
    assessment_sign_off(assessment_id=a.pk, actor=reviewer)
"""


@pytest.fixture(scope="module")
def nation_and_hub() -> Iterator[tuple[Deployment, Deployment]]:
    nation = Deployment("XA", settings={"GOV21_READINESS_HUB": "XB", "GOV21_READINESS_COUNTRY": "JAM"})
    # The hub's own instance speaks for Trinidad and Tobago, where the hub sits, and is its own hub.
    hub = Deployment("XB", settings={"GOV21_READINESS_COUNTRY": "TTO"})
    try:
        nation.create_directory()
        hub.create_directory()
        for year in (2014, 2016, 2018):
            hub.gov21("readiness", "import-egdi", str(SHIPPED / f"egdi-{year}.csv"), "--year", str(year))
        nation.serve()
        hub.serve()
        trust_each_other(nation, hub)
        nation.py("LEVEL = 4\n" + SIGNED_ROUND)
        hub.py("LEVEL = 1\n" + SIGNED_ROUND)
        hub.gov21("readiness", "hub-member", "XB", "TTO")
        hub.gov21("readiness", "submit", "--round", "2026")
        yield nation, hub
    finally:
        nation.stop()
        hub.stop()


def _submit(nation: Deployment) -> str:
    """``gov21 readiness submit`` on the national instance: its output, or the refusal it printed.
    A newly trusted partner is admitted within seconds (each node re-reads its configuration and
    trust store); until then the handshake fails and the exchange answers NetworkError."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return nation.gov21("readiness", "submit", "--round", "2026")
        except RuntimeError as refused:
            if "NetworkError" not in str(refused) or time.monotonic() > deadline:
                return str(refused)
        time.sleep(0.5)


def _ranking(hub: Deployment) -> dict[str, dict[str, Any]]:
    response = httpx.get(
        f"{hub.url}/api/v1/readiness/rankings",
        params={"index": "21cg", "year": "2018", "group": "caricom"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return {c["country_code"]: c for c in response.json()["countries"]}


def _stored(hub: Deployment) -> list[tuple[str, int, str, dict[str, float]]]:
    out = hub.py(
        """
        import json
        from gov21.readiness.models import RegionalSubmission
        print(json.dumps([[r.country_code, r.round, r.client, r.levels] for r in RegionalSubmission.objects.all()]))
        """
    )
    return [tuple(row) for row in json.loads(out.strip().splitlines()[-1])]


def _node_tls(deployment: Deployment) -> ssl.SSLContext:
    """What the deployment's node presents to other nodes, and the CAs it trusts."""
    context = ssl.create_default_context(cafile=str(deployment.root / "exchange" / "tls" / "trusted-ca.pem"))
    context.load_cert_chain(
        str(deployment.root / "exchange" / "tls" / f"{deployment.node_code}.pem"),
        str(deployment.root / "keys" / "exchange" / "node" / f"{deployment.node_code}-auth.key"),
    )
    return context


def _envelope(nation: Deployment, body: bytes) -> str:
    """A request to the hub signed by the national member's key, as its gateway would send it."""
    return nation.py(
        f"""
        from gov21.exchange import consumer, node, protocol
        from gov21.exchange.ids import ClientId, ServiceId
        req = protocol.Request(method="POST", service=ServiceId.parse("{SERVICE}"), path="/submissions",
                               query="", body={body!r},
                               headers=[("accept", "application/json"), ("content-type", "application/json")],
                               client=ClientId.parse("XA/GOV/DGO/readiness"), message_id="{uuid.uuid4()}")
        fingerprint, _ = node.CONFS.own(origin="test").cert_for(req.client, "main")
        print(consumer.request_envelope(req, request_id="{uuid.uuid4()}", rhash=protocol.request_hash(req),
                                        fingerprint=fingerprint))
        """
    ).split()[-1]


def _deliver(nation: Deployment, hub: Deployment, token: str, body: bytes) -> dict[str, Any]:
    """Send a signed envelope straight to the hub's node over mutual TLS; the claims of its answer."""
    deadline = time.monotonic() + 60
    while True:
        # Until both nodes have re-read their trust stores after the federation, the handshake fails.
        try:
            answer = httpx.post(
                f"{hub.node_address}/exchange/v1/message",
                content=token.encode() + b"\n" + body,
                verify=_node_tls(nation),
                timeout=30,
            )
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert answer.status_code == 200, answer.text
    head = answer.content.split(b"\n", 1)[0].decode()
    return dict(json.loads(b64url_decode_canonical(head.split(".")[1]) or b""))


def test_a_national_round_reaches_the_hub_only_once_the_hub_agreed_and_enters_the_regional_ranking(
    nation_and_hub: tuple[Deployment, Deployment],
) -> None:
    nation, hub = nation_and_hub
    before = _ranking(hub)
    assert {"seamless", "resilient", "open", "secure"} <= set(before["TTO"]["pillars"])

    # No right yet: the hub's node refuses the partner's DGO/readiness outright.
    refused = _submit(nation)
    assert "Server.ServerProxy.AccessDenied" in refused, refused
    hub.gov21(
        "exchange", "right", "grant", SERVICE, "XA/GOV/DGO/readiness", "--method", "POST", "--path", "/submissions"
    )
    # A right but no registration: the instance speaks for no country at this hub.
    refused = _submit(nation)
    assert "The instance XA does not speak for JAM at this hub." in refused, refused
    # Registered for another country: Jamaica's figures are still not XA's to send.
    hub.gov21("readiness", "hub-member", "XA", "HTI")
    refused = _submit(nation)
    assert "does not speak for JAM" in refused, refused
    assert [r[0] for r in _stored(hub)] == ["TTO"]

    assert "XA speaks for JAM" in hub.gov21("readiness", "hub-member", "XA", "JAM")
    assert "The hub received JAM 2026." in _submit(nation)
    [(country, round_, client, levels)] = [r for r in _stored(hub) if r[0] == "JAM"]
    assert (country, round_, client) == ("JAM", 2026, "XA/GOV/DGO/readiness")
    assert set(levels.values()) == {4.0}
    after = _ranking(hub)
    # Jamaica's full marks on the pillars only a self-assessment measures move it up.
    assert after["JAM"]["pillars"]["secure"] == 1.0 > after["TTO"]["pillars"]["secure"]
    assert after["JAM"]["rank"] < before["JAM"]["rank"]
    assert after["JAM"]["rank_low"] <= after["JAM"]["rank"] <= after["JAM"]["rank_high"]
    # The message is in the hub's log, signed by the national member.
    logged = hub.py(
        """
        from gov21.exchange.models import LogEntry
        print(sorted({e.client for e in LogEntry.objects.filter(service__endswith="DGO/readiness/regional")}))
        """
    )
    assert "XA/GOV/DGO/readiness" in logged


def test_a_captured_submission_sent_again_or_altered_is_refused_by_the_hub(
    nation_and_hub: tuple[Deployment, Deployment],
) -> None:
    nation, hub = nation_and_hub
    hub.gov21(
        "exchange", "right", "grant", SERVICE, "XA/GOV/DGO/readiness", "--method", "POST", "--path", "/submissions"
    )
    hub.gov21("readiness", "hub-member", "XA", "JAM")
    levels = dict.fromkeys(("citizen-centric", "seamless", "resilient", "open", "participatory", "secure"), 1.0)
    levels["inter-connected"] = 1.0
    body = json.dumps({"country_code": "JAM", "round": 2025, "agencies": 1, "levels": levels}).encode()
    token = _envelope(nation, body)
    first = _deliver(nation, hub, token, body)
    assert first.get("err", "") == "", first
    assert any(r[:2] == ("JAM", 2025) for r in _stored(hub))
    # The same signed envelope sent again: the hub's node has seen its id.
    again = _deliver(nation, hub, token, body)
    assert again["err"] == "Server.ServerProxy.InvalidMessage"
    # A fresh envelope whose body is altered after signing: the signature no longer covers it.
    token = _envelope(nation, body)
    forged = body.replace(b'"round": 2025', b'"round": 2024')
    altered = _deliver(nation, hub, token, forged)
    assert altered["err"] == "Server.ServerProxy.InvalidSignatureValue"
    assert not any(r[:2] == ("JAM", 2024) for r in _stored(hub))
