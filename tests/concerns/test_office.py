"""The reporting desk's back office through the test client, signed in as staff: the open reports,
the overdue first; acting for the agency responsible; the reporter's details read only with a reason,
recorded in the person's access log; refusals for a role without the permission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from gov21.audit.contracts import access_records_for
from gov21.concerns.models import Note, Report
from tests.concerns.helpers import report
from tests.identity.flows import portal_sign_in, staff

pytestmark = pytest.mark.django_db


def _signed_in(username: str, *roles: str) -> Client:
    client = Client()
    portal_sign_in(client, staff(username, *roles), next_url="/office/concerns/")
    return client


def test_the_desk_lists_open_reports_overdue_first_and_acts_for_the_agency() -> None:
    fresh, late = report("street-light"), report("water-leak")
    Report.objects.filter(pk=late.pk).update(expected_at=late.requested_at - timedelta(hours=2))
    client = _signed_in("desk.one", "case_officer")
    home = client.get("/office/concerns/").content.decode()
    assert home.index(f"/office/concerns/{late.pk}/") < home.index(f"/office/concerns/{fresh.pk}/")
    assert "past its target date" in home

    page = f"/office/concerns/{fresh.pk}/"
    answer = client.post(page, {"form": "act", "status": "closed", "public": "Fixed.", "internal": "bulb"})
    assert answer.status_code == 302
    row = Report.objects.get(pk=fresh.pk)
    assert row.status == "closed" and row.status_notes == "Fixed."
    assert Note.objects.get(report=row, kind="internal").author == "desk.one"
    moved = client.post(page, {"form": "reassign", "service_code": "drain"})
    assert moved.status_code == 302 and Report.objects.get(pk=fresh.pk).category.code == "drain"
    refused = client.post(page, {"form": "act"})
    assert refused.status_code == 400 and "There is a problem" in refused.content.decode()
    far = client.post(f"/office/concerns/{late.pk}/", {"form": "merge", "into": str(fresh.pk)})
    assert far.status_code == 400


def test_the_reporters_details_need_a_reason_and_the_read_is_logged() -> None:
    light = report("street-light", email="ana@example.org")
    Report.objects.filter(pk=light.pk).update(person_uin="1234567890")
    client = _signed_in("desk.two", "supervisor")
    page = f"/office/concerns/{light.pk}/"
    assert "ana@example.org" not in client.get(page).content.decode()
    without = client.post(page, {"form": "contact", "internal": ""})
    assert without.status_code == 400 and "ana@example.org" not in without.content.decode()
    shown = client.post(page, {"form": "contact", "internal": "Ask which lamp"})
    assert shown.status_code == 200 and "ana@example.org" in shown.content.decode()
    assert any(r["purpose"] == "Ask which lamp" for r in access_records_for(subject="1234567890"))


def test_a_role_without_the_permission_is_refused() -> None:
    light = report("street-light")
    client = _signed_in("reader.one", "reader")
    assert client.get("/office/concerns/").status_code == 403
    assert client.post(f"/office/concerns/{light.pk}/", {"form": "act", "status": "closed"}).status_code == 403
    assert Report.objects.get(pk=light.pk).status == "open"
