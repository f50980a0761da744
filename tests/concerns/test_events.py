"""The desk publishes each report and each change of it through the exchange's publish/subscribe:
the agencies that receive reports pull ``concern.reported`` and ``concern.updated`` (signed, logged),
as the public sees a report, never who reported it nor what they wrote."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gov21.exchange.contracts import agency_client, agency_service, exchange_call
from tests.concerns.helpers import PWD, call, report

pytestmark = pytest.mark.django_db

EVENTS = agency_service("EXCHANGE", "pubsub", "events")
SWA = agency_client("SWA", "waste")


def _pull(client: str, event_type: str, after: int = 0) -> Any:
    answer = exchange_call(
        client=client, service=EVENTS, path=f"/{event_type}", query=f"after={after}", issue="reported problems"
    )
    assert answer.status == 200, answer.body
    return answer.json()


def test_an_agency_pulls_a_new_report_and_its_closing_without_the_reporters_data() -> None:
    light = report("street-light", email="ana@example.org", phone="+1 555 0100", description="Near my house")
    [event] = _pull(PWD, "concern.reported")["events"]
    payload = event["payload"]
    assert payload["service_request_id"] == str(light.pk)
    assert (payload["service_code"], payload["agency"], payload["status"]) == ("street-light", "PWD", "open")
    assert payload["parish"] and payload["lat"] is not None
    text = json.dumps(payload)
    assert "ana@example.org" not in text and "555" not in text and "Near my house" not in text

    answer = call(PWD, f"/reports/{light.pk}/actions", method="POST", body=b'{"status": "closed"}')
    assert answer.status == 200
    [update] = _pull(PWD, "concern.updated")["events"]
    assert update["payload"]["status"] == "closed" and update["payload"]["change"] == "status"

    acked = exchange_call(
        client=PWD,
        service=EVENTS,
        path="/concern.reported/ack",
        method="POST",
        body=b'{"seq": 1}',
        content_type="application/json",
        issue="reported problems",
    )
    assert acked.status == 200 and _pull(PWD, "concern.reported", after=1)["events"] == []


def test_a_reassignment_tells_the_new_agency_and_an_internal_note_publishes_nothing() -> None:
    light = report("street-light")
    assert call(PWD, f"/reports/{light.pk}/actions", method="POST", body=b'{"internal_note": "x"}').status == 200
    assert _pull(SWA, "concern.updated")["events"] == []
    moved = call(PWD, f"/reports/{light.pk}/reassign", method="POST", body=b'{"service_code": "illegal-dumping"}')
    assert moved.status == 200
    [event] = _pull(SWA, "concern.updated")["events"]
    assert (event["payload"]["agency"], event["payload"]["change"]) == ("SWA", "reassigned")


def test_an_agency_cannot_pull_the_civil_registrys_events() -> None:
    answer = exchange_call(client=PWD, service=EVENTS, path="/birth.registered", issue="curiosity")
    # X-Road's answer to a call without a right: the security server's AccessDenied.
    assert answer.error == "Server.ServerProxy.AccessDenied"
