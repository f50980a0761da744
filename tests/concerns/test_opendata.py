"""The desk's numbers as open data: reports by month, parish, service and status, with counts of 1
to 4 suppressed and merged duplicates not counted twice; the median time to close by month and
service; both published on the data portal, where the CKAN API shows them, without personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from gov21.concerns import contracts as concerns
from gov21.concerns.models import Report
from gov21.concerns.opendata import close_times_rows, counts_rows
from gov21.wiring.publish import concerns_publish
from tests.concerns.helpers import PWD, call, report

pytestmark = pytest.mark.django_db


def _close(report_id: int) -> None:
    assert call(PWD, f"/reports/{report_id}/actions", method="POST", body=b'{"status": "closed"}').status == 200


def test_small_counts_are_suppressed_and_a_merged_duplicate_is_not_counted_again() -> None:
    lights = [report("street-light", email=f"p{i}@example.org") for i in range(6)]
    report("drain")
    dup = report("street-light", offset_m=30)
    body = json.dumps({"into": lights[0].pk}).encode()
    assert call(PWD, f"/reports/{dup.pk}/merge", method="POST", body=body).status == 200
    rows = {(r[2], r[3]): r for r in counts_rows()}
    assert rows[("street-light", "open")][4:] == (6, False)
    assert rows[("drain", "open")][4:] == (None, True)
    assert "p0@example.org" not in repr(counts_rows())


def test_the_median_time_to_close_is_published_from_five_closed_reports() -> None:
    lights = [report("street-light") for _ in range(5)]
    reported = datetime(2026, 6, 10, 12, tzinfo=UTC)
    for hours, light in zip((2, 4, 6, 8, 100), lights, strict=True):
        _close(light.pk)
        Report.objects.filter(pk=light.pk).update(requested_at=reported, closed_at=reported + timedelta(hours=hours))
    [row] = close_times_rows()
    assert row == ("2026-06", "street-light", 5, pytest.approx(6.0, abs=0.1), False)
    Report.objects.filter(pk=lights[0].pk).update(status="open", closed_at=None)
    [row] = close_times_rows()
    assert row[2:] == (None, None, True)


def test_the_tables_reach_the_data_portal_and_a_second_run_without_change_adds_no_version() -> None:
    for _ in range(5):
        report("water-leak")
    first = concerns_publish()
    assert [v.dataset for v in first] == [t.dataset for t in concerns.reports_tables()]
    assert all(v.created and v.version == 1 for v in first)
    assert not any(v.created for v in concerns_publish())
    answer = Client().get("/api/3/action/datastore_search", {"resource_id": first[0].resource_id})
    assert answer.status_code == 200, answer.content
    records = answer.json()["result"]["records"]
    assert [(r["service_code"], r["status"], r["reports"]) for r in records] == [("water-leak", "open", 5)]
