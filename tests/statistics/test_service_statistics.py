"""Statistics of the one-stop shop's applications, from the events it publishes through the
exchange, and of the exchange's traffic, from the exchange's own counts service."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
import pytest
from django.test import Client
from django.utils import timezone

from gov21.exchange.contracts import agency_client, agency_service, exchange_call
from gov21.onestop import definitions, registers
from gov21.onestop import services as engine
from gov21.onestop.models import Application
from gov21.statistics import dashboards, services
from gov21.statistics.models import ApplicationEvent
from tests.identity.flows import citizen, portal_sign_in, staff
from tests.onestop.test_reviews import _licensing

pytestmark = pytest.mark.django_db
S = Application.State


def _renewal(born: date) -> Application:
    person = citizen(born=born)
    licence = registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    uin = person.identifier
    application = engine.application_start(service="renew-driving-licence", uin=uin, user_id=None)
    application = engine.application_consent(application=application, uin=uin)
    for question, value in {"licence_number": licence.number, "health": "no"}.items():
        application = engine.application_answer(application=application, uin=uin, question_id=question, raw=value)
    return engine.application_submit(application=application, uin=uin)


def test_applications_reach_the_statistics_office_through_the_exchange_without_anyone_in_them() -> None:
    definitions.definitions_load()
    older = _renewal(date(1940, 3, 1))  # 75 or over: an officer decides
    assert older.state == S.IN_REVIEW
    engine.case_decide(
        principal=_licensing("officer.lta"), reference=older.reference, approve=False, reason="No report."
    )
    younger = _renewal(date(1985, 7, 9))
    younger.refresh_from_db()

    assert services.applications_follow() >= 3
    events = list(ApplicationEvent.objects.order_by("event_type", "seq"))
    payload_fields = {f.name for f in ApplicationEvent._meta.get_fields()}
    assert "uin" not in payload_fields and "reference" not in payload_fields
    submitted = [e for e in events if e.event_type == "application.submitted"]
    decided = [e for e in events if e.event_type == "application.decided"]
    assert len(submitted) == 2 and {e.service for e in submitted} == {"renew-driving-licence"}
    refused = next(e for e in decided if e.decision == "refused")
    assert refused.automatic is False and refused.within_target is True and refused.target_hours
    # Read and acknowledged: a second read finds nothing new.
    assert services.applications_follow() == 0

    today = timezone.localdate()
    rows = dashboards.services_performance(start=today, end=today)
    total = rows[-1]
    assert total.service == "total" and total.submitted == 2 and total.decided == len(decided)
    assert total.within_target_share == 100
    if younger.state in (S.APPROVED, S.COMPLETED):
        assert total.automatic == 1 and total.automatic_share == 50

    client = Client()
    portal_sign_in(client, staff("stats.services", "reader"), next_url="/office/statistics/services/")
    page = client.get("/office/statistics/services/").content.decode()
    main = page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert "renew-driving-licence" in main and "<script" not in main
    assert "Messages answered through the exchange" in main  # the office's own reads are traffic
    assert 'role="img"' in main
    lines = client.get("/office/statistics/services/csv").content.decode().splitlines()
    assert lines[0].startswith("service,submitted,decided,approved,decided_automatically")
    assert lines[-1].startswith("total,2,")
    traffic = client.get("/office/statistics/services/traffic.csv").content.decode().splitlines()
    assert any(line.startswith("STATS,EXCHANGE/pubsub/events,") for line in traffic)
    assert client.get("/office/statistics/services/?from=2026-02-30").status_code == 400
    assert client.get("/office/statistics/services/csv?from=2026-05-01&to=2026-04-01").status_code == 400
    assert Client().get("/office/statistics/services/").status_code == 302


def _traffic(query: str, client: str = "STATS/statistics") -> tuple[int, dict[str, object]]:
    result = exchange_call(
        client=agency_client(*client.split("/")),
        service=agency_service("EXCHANGE", "monitoring", "traffic"),
        path="/",
        query=query,
    )
    return result.status, orjson.loads(result.body)


def test_the_traffic_service_counts_messages_and_refuses_bad_dates_and_strangers() -> None:
    services.applications_follow()  # two reads of the events service
    today = timezone.localdate()
    status, body = _traffic(f"from={today}&to={today}")
    assert status == 200
    cells = body["cells"]
    assert isinstance(cells, list)
    reads = [c for c in cells if c["client"] == "STATS" and c["service"] == "EXCHANGE/pubsub/events"]
    assert sum(c["messages"] for c in reads) >= 2 and all(c["ok"] for c in reads)
    assert set(cells[0]) == {"day", "client", "service", "ok", "messages", "duration_ms"}
    for bad in (
        "from=yesterday",
        f"from={today}&to={today - timedelta(days=1)}",
        f"from={today - timedelta(days=400)}",
    ):
        status, problem = _traffic(bad)
        assert status == 422, bad
        assert problem["code"] == "invalid_input"
    # An agency without the right is refused by the exchange, as X-Road refuses (its fault type).
    status, fault = _traffic("", client="MSD/benefits")
    assert fault["type"] == "Server.ServerProxy.AccessDenied"
