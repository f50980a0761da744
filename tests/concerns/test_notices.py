"""A reporter is told when the agency acts on their report: the signed-in reporter in their portal
inbox (in the language they reported in), one who left an email address by email; each change is
told once, a duplicate's reporter follows the report it was merged into, and an internal note or a
status set again to what it was tells no one."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from gov21.concerns import contracts as concerns
from gov21.concerns.models import Notice, Report
from gov21.onestop import notify
from gov21.onestop.models import Notification
from tests.concerns.helpers import PWD, a_point, call, report
from tests.identity.flows import citizen, portal_sign_in
from tests.onestop.test_notify import MailServer, _loopback_only, mail, mail_server  # noqa: F401

pytestmark = pytest.mark.django_db


def _act(report_id: int, **body: str) -> None:
    answer = call(PWD, f"/reports/{report_id}/actions", method="POST", body=json.dumps(body).encode())
    assert answer.status == 200, answer.body


def _inbox(uin: str) -> list[Notification]:
    return list(Notification.objects.filter(uin=uin, channel="inbox").order_by("id"))


def test_a_signed_in_reporter_reads_the_agencys_update_in_their_inbox_in_their_language() -> None:
    person = citizen()
    client = Client()
    portal_sign_in(client, person, next_url="/report/")
    lat, lon = a_point()
    sent = client.post(
        "/report/",
        {"service_code": "street-light", "lat": str(lat), "long": str(lon), "description": "Dark all night"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert sent.status_code == 302, sent.content.decode()[-800:]
    light = Report.objects.get(person_uin=person.identifier)
    assert light.language == "es"

    _act(light.pk, status="closed", public_update="Bombilla cambiada.")
    assert notify.notifications_run() == 0  # only the inbox copy: no email or SMS is configured
    [message] = _inbox(person.identifier)
    assert message.subject == f"Su informe {light.pk} fue cerrado"
    assert "Bombilla cambiada." in message.body
    assert message.link == f"/reports/{light.pk}/"
    page = client.get("/my/inbox").content.decode()
    assert f"Su informe {light.pk} fue cerrado" in page

    # Told once: a second run finds nothing more to tell.
    notify.concern_notices_queue()
    assert len(_inbox(person.identifier)) == 1
    assert not concerns.report_notices_pending()


def test_an_internal_note_or_the_same_status_again_tells_no_one() -> None:
    person = citizen()
    light = report("street-light", email="ana@example.org")
    Report.objects.filter(pk=light.pk).update(person_uin=person.identifier)
    _act(light.pk, internal_note="Ladder needed")
    _act(light.pk, status="open")
    assert not Notice.objects.exists()
    _act(light.pk, public_update="We will come on Monday.")
    notify.concern_notices_queue()
    [message] = _inbox(person.identifier)
    assert message.subject == f"News about your report {light.pk}"
    assert "We will come on Monday." in message.body


def test_an_anonymous_reporter_who_left_an_email_gets_the_news_by_email(mail: MailServer) -> None:  # noqa: F811
    leak = report("water-leak", email="bo@example.org")
    answer = call(
        "XA/GOV/WSA/water",
        f"/reports/{leak.pk}/actions",
        method="POST",
        body=json.dumps({"status": "closed", "public_update": "Pipe repaired."}).encode(),
    )
    assert answer.status == 200, answer.body
    assert notify.notifications_run() == 1
    [(recipients, message)] = mail.messages
    assert recipients == ["bo@example.org"]
    assert message["Subject"] == f"Your report {leak.pk} was closed"
    text = message.get_content()
    assert "Pipe repaired." in text and f"/reports/{leak.pk}/" in text
    assert not Notification.objects.filter(channel="inbox").exists()


def test_a_reporter_who_left_nothing_is_not_told_and_nothing_waits() -> None:
    light = report("street-light")
    _act(light.pk, status="closed", public_update="Fixed.")
    assert not Notice.objects.exists()
    assert notify.notifications_run() == 0


def test_the_reporter_of_a_merged_duplicate_is_told_of_the_merge_and_of_the_closing() -> None:
    first, second = citizen(), citizen()
    original = report("street-light")
    duplicate = report("street-light", offset_m=50)
    Report.objects.filter(pk=original.pk).update(person_uin=first.identifier)
    Report.objects.filter(pk=duplicate.pk).update(person_uin=second.identifier)
    merged = call(PWD, f"/reports/{duplicate.pk}/merge", method="POST", body=json.dumps({"into": original.pk}).encode())
    assert merged.status == 200, merged.body
    _act(original.pk, status="closed")
    notify.concern_notices_queue()
    assert [m.subject for m in _inbox(first.identifier)] == [f"Your report {original.pk} was closed"]
    told = [m.subject for m in _inbox(second.identifier)]
    assert told == [f"News about your report {duplicate.pk}", f"Your report {duplicate.pk} was closed"]
    assert f"Merged into report {original.pk}." in _inbox(second.identifier)[0].body


def test_two_workers_never_tell_the_same_notice_twice() -> None:
    person = citizen()
    light = report("street-light")
    Report.objects.filter(pk=light.pk).update(person_uin=person.identifier)
    _act(light.pk, status="closed")
    [pending] = concerns.report_notices_pending()
    # Another worker took it between the read and the mark.
    assert concerns.report_notice_told(notice_id=pending.id)
    assert not concerns.report_notice_told(notice_id=pending.id)
    notify.concern_notices_queue()
    assert _inbox(person.identifier) == []
