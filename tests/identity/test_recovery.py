"""Recovering an account in use at a service counter: one officer asks, a different officer approves
with the person in front of them, and the owner is told on every channel and can cancel."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from django.test import Client

from gov21.core.errors import Conflict, DomainError, Forbidden
from gov21.core.principal import Principal
from gov21.identity.models import Account, AuthEvent, TotpFactor
from gov21.identity.services import (
    account_activate,
    account_recovery_approve,
    account_recovery_request,
    activation_code_issue,
    password_authenticate,
    second_factor_verify,
)
from gov21.onestop import notify
from gov21.onestop.models import Notification
from tests.identity.flows import PASSWORD, Person, citizen, idp_sign_in, portal_sign_in, staff
from tests.onestop.test_notify import MailServer, SmsProvider, _free_port, _SmsHandler

pytestmark = pytest.mark.django_db

FIRST = Principal(name="counter.first", kind="staff", roles=frozenset({"case_officer"}))
SECOND = Principal(name="counter.second", kind="staff", roles=frozenset({"supervisor"}))
NEW_PASSWORD = "a brand new passphrase"


def _code_on(page: str) -> str | None:
    match = re.search(r'id="activation-code">([A-Z0-9-]+)<', page)
    return match.group(1) if match else None


def test_one_officer_alone_cannot_take_over_an_account_in_use(client: Client) -> None:
    person = citizen()
    portal_sign_in(client, staff("counter.one", "case_officer"), next_url="/office/identity/activation")
    page = client.post("/office/identity/activation", {"uin": person.identifier, "checked": "yes"}).content.decode()
    # No code is shown: a recovery was asked for, and waits for another officer.
    assert _code_on(page) is None
    assert 'id="recovery-requested"' in page
    with pytest.raises(Conflict):
        activation_code_issue(uin=person.identifier, officer=FIRST)
    # Nothing of the person's changed: their password and authenticator app still work.
    assert password_authenticate(identifier=person.identifier, password=PASSWORD, source="s")
    assert second_factor_verify(account=person.account, code=person.code(), source="s") == "otp"
    # The officer who asked cannot approve it on the approvals page either.
    approvals = client.get("/office/identity/recoveries").content.decode()
    assert "Another officer must approve" in approvals
    recovery = person.account.recoveries.get()
    refused = client.post("/office/identity/recoveries", {"recovery": recovery.pk, "checked": "yes"})
    assert refused.status_code == 403 and _code_on(refused.content.decode()) is None


def test_the_second_approver_must_be_a_different_officer() -> None:
    person = citizen()
    recovery = account_recovery_request(uin=person.identifier, officer=FIRST)
    with pytest.raises(Forbidden):
        account_recovery_approve(recovery_id=recovery.pk, officer=FIRST)
    # An API token holding the role is nobody in particular: it cannot be the second officer.
    token = Principal(name="token:counter", kind="token", roles=frozenset({"registrar"}))
    with pytest.raises(Forbidden):
        account_recovery_approve(recovery_id=recovery.pk, officer=token)
    code = account_recovery_approve(recovery_id=recovery.pk, officer=SECOND)
    with pytest.raises(Conflict):  # approved once
        account_recovery_approve(recovery_id=recovery.pk, officer=SECOND)

    account = account_activate(uin=person.identifier, code=code, password=NEW_PASSWORD, source="counter")
    assert account.status == Account.Status.ACTIVE
    assert not TotpFactor.objects.filter(account=account).exists()  # every earlier credential replaced
    assert password_authenticate(identifier=person.identifier, password=NEW_PASSWORD, source="s")
    recovery.refresh_from_db()
    assert (recovery.requested_by, recovery.approved_by) == ("counter.first", "counter.second")
    assert recovery.completed_at is not None


def test_two_officers_recover_an_account_through_the_back_office(client: Client) -> None:
    person = citizen()
    portal_sign_in(client, staff("counter.one", "case_officer"), next_url="/office/identity/activation")
    client.post("/office/identity/activation", {"uin": person.identifier, "checked": "yes"})

    second = Client()
    portal_sign_in(second, staff("counter.two", "supervisor"), next_url="/office/identity/recoveries")
    recovery = person.account.recoveries.get()
    for bad in ("abc", "99999999", "1" * 400, "²"):
        answer = second.post("/office/identity/recoveries", {"recovery": bad, "checked": "yes"})
        assert answer.status_code == 404 and "No account recovery" in answer.content.decode()
    unchecked = second.post("/office/identity/recoveries", {"recovery": recovery.pk})
    assert unchecked.status_code == 422 and _code_on(unchecked.content.decode()) is None
    page = second.post("/office/identity/recoveries", {"recovery": recovery.pk, "checked": "yes"}).content.decode()
    code = _code_on(page)
    assert code is not None
    assert account_activate(uin=person.identifier, code=code, password=NEW_PASSWORD, source="counter")


def test_a_code_for_an_account_in_use_works_only_through_an_approved_recovery() -> None:
    person = citizen()
    recovery = account_recovery_request(uin=person.identifier, officer=FIRST)
    # Not approved yet: there is no code, and guessing at the activation form gets nothing.
    with pytest.raises(DomainError, match="do not match"):
        account_activate(uin=person.identifier, code="AAAA-BBBB-CCCC", password=NEW_PASSWORD, source="s")
    assert recovery.code is None


def _sms_server() -> tuple[SmsProvider, threading.Thread]:
    server = SmsProvider(("127.0.0.1", 0), _SmsHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def channels(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MailServer, ThreadingHTTPServer]]:
    """A real mail server and SMS provider on loopback, configured for gov21."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    mail = MailServer(_free_port())
    mail.start()
    sms, thread = _sms_server()
    monkeypatch.setenv("GOV21_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GOV21_SMTP_PORT", str(mail.port))
    monkeypatch.setenv("GOV21_SMS_URL", sms.url)
    monkeypatch.setenv("GOV21_SMS_TOKEN", "sms-secret")
    yield mail, sms
    mail.stop()
    sms.shutdown()
    sms.server_close()
    thread.join(5)


def _with_contacts(person: Person) -> Person:
    # The contact details an account holds (no self-service form sets them yet).
    Account.objects.filter(pk=person.account.pk).update(email="ana@example.org", phone="+1 767 555 0100")
    person.account.refresh_from_db()
    return person


def test_the_owner_is_told_on_every_channel_when_a_recovery_is_asked_for_and_approved(
    channels: tuple[MailServer, SmsProvider],
) -> None:
    mail, sms = channels
    person = _with_contacts(citizen())
    recovery = account_recovery_request(uin=person.identifier, officer=FIRST)
    notify.notifications_run()
    inbox = notify.inbox_for(uin=person.identifier)
    assert [m["subject"] for m in inbox] == ["Someone asked to recover your digital ID"]
    assert "counter.first" in inbox[0]["body"] and inbox[0]["link"] == "/auth/account"
    assert [recipients for recipients, _ in mail.messages] == [["ana@example.org"]]
    assert mail.messages[0][1]["Subject"] == "Someone asked to recover your digital ID"
    assert [body["to"] for _, body in sms.requests] == ["+17675550100"]

    account_recovery_approve(recovery_id=recovery.pk, officer=SECOND)
    notify.notifications_run()
    notify.notifications_run()  # a second worker run tells nobody twice
    subjects = [m["subject"] for m in notify.inbox_for(uin=person.identifier)]
    assert subjects == [
        "A recovery code for your digital ID was handed over",
        "Someone asked to recover your digital ID",
    ]
    assert len(mail.messages) == 2 and len(sms.requests) == 2
    assert Notification.objects.filter(uin=person.identifier, channel="inbox").count() == 2


def test_the_owner_cancels_a_recovery_from_their_account_and_its_code_stops_working(client: Client) -> None:
    person = citizen()
    recovery = account_recovery_request(uin=person.identifier, officer=FIRST)
    code = account_recovery_approve(recovery_id=recovery.pk, officer=SECOND)
    idp_sign_in(client, person)
    page = client.get("/auth/account").content.decode()
    assert 'id="recovery-warning"' in page
    done = client.post("/auth/account", {"action": "recovery_cancel"}).content.decode()
    assert "was cancelled" in done and 'id="recovery-warning"' not in done
    with pytest.raises(DomainError, match="do not match"):
        account_activate(uin=person.identifier, code=code, password=NEW_PASSWORD, source="s")
    assert password_authenticate(identifier=person.identifier, password=PASSWORD, source="s")
    assert AuthEvent.objects.filter(account=person.account, kind="recovery_cancelled", tell=True).exists()
