from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.onestop import notify
from gov21.onestop.models import Notification

pytestmark = pytest.mark.django_db

UIN = "1234567890"
OTHER_UIN = "2222222222"
TEMPLATE = {
    "subject": {"en": "Your application ((reference))", "es": "Su solicitud ((reference))"},
    "body": {"en": "Dear ((name)), your application ((reference)) was approved."},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a real mail server on loopback ---------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class MailServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = _Collector()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        return self.handler.messages

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the developer's environment would take loopback requests elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("GOV21_SMTP_HOST", "GOV21_SMS_URL", "GOV21_SMTP_STARTTLS", "GOV21_SMTP_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOV21_BASE_URL", "https://portal.gov21.example")


@pytest.fixture
def mail_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailServer]:
    """A mail server configured for gov21 but not started: tests start it (or leave it down)."""
    server = MailServer(_free_port())
    monkeypatch.setenv("GOV21_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GOV21_SMTP_PORT", str(server.port))
    monkeypatch.setenv("GOV21_MAIL_FROM", "Gov21 <no-reply@gov21.example>")
    yield server
    server.stop()


@pytest.fixture
def mail(mail_server: MailServer) -> MailServer:
    mail_server.start()
    return mail_server


# --- a real SMS provider on loopback ----------------------------------------------------------------


class SmsProvider(ThreadingHTTPServer):
    answer = 200
    requests: list[tuple[dict[str, str], dict[str, Any]]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v2/sms"


class _SmsHandler(BaseHTTPRequestHandler):
    server: SmsProvider

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append((dict(self.headers), json.loads(body)))
        answer = self.server.answer
        payload = json.dumps({"id": "prov-1"} if answer < 300 else {"error": f"provider says {answer}"}).encode()
        self.send_response(answer)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def sms(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmsProvider]:
    server = SmsProvider(("127.0.0.1", 0), _SmsHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GOV21_SMS_URL", server.url)
    monkeypatch.setenv("GOV21_SMS_TOKEN", "sms-secret")
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _queue(**kwargs: Any) -> list[Notification]:
    subject, body = notify.template_render(
        template=TEMPLATE, params={"name": "Ana", "reference": "APP-1"}, language=kwargs.pop("language", "en")
    )
    args: dict[str, Any] = {"uin": UIN, "template": "approved", "subject": subject, "body": body}
    return notify.notification_queue(**(args | kwargs))


def _row(channel: str) -> Notification:
    return Notification.objects.get(channel=channel)


def _time_passes() -> None:
    """Every waiting notification becomes due, as if its backoff had elapsed."""
    Notification.objects.filter(status=Notification.Status.CREATED).update(next_attempt_at=timezone.now())


# --- templates -------------------------------------------------------------------------------------


def test_a_template_is_rendered_in_the_persons_language_with_its_placeholders_filled() -> None:
    subject, body = notify.template_render(
        template=TEMPLATE, params={"name": "Ana", "reference": "APP-1"}, language="es"
    )
    assert subject == "Su solicitud APP-1"
    # No Spanish body: the English one, never an empty message.
    assert body == "Dear Ana, your application APP-1 was approved."


def test_a_language_the_template_lacks_falls_back_to_english_and_a_region_to_its_language() -> None:
    assert notify.template_render(template=TEMPLATE, params={"name": "A", "reference": "R"}, language="fr")[0] == (
        "Your application R"
    )
    assert notify.template_render(template=TEMPLATE, params={"name": "A", "reference": "R"}, language="es-AR")[0] == (
        "Su solicitud R"
    )


def test_a_placeholder_without_a_value_is_refused_naming_it() -> None:
    with pytest.raises(DomainError) as caught:
        notify.template_render(template=TEMPLATE, params={"name": "Ana"}, language="en")
    assert caught.value.code == "missing_placeholder"
    assert "((reference))" in caught.value.detail
    assert caught.value.extra == {"missing": ["reference"]}


def test_values_are_inserted_as_plain_text_exactly_once() -> None:
    subject, body = notify.template_render(
        template=TEMPLATE,
        params={"name": "<b>Ana</b> ((reference))", "reference": "APP-1\nBcc: victim@example.org"},
        language="en",
    )
    assert body.startswith("Dear <b>Ana</b> ((reference)), ")
    # The subject becomes an email header: a line break in a value must not add a header.
    assert subject == "Your application APP-1 Bcc: victim@example.org"


def test_a_template_without_english_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        notify.template_render(template={"body": {"es": "Hola"}}, params={}, language="es")
    assert caught.value.code == "template_invalid"


# --- queueing ---------------------------------------------------------------------------------------


def test_the_inbox_copy_is_delivered_at_once_and_no_email_or_sms_without_a_configured_channel() -> None:
    rows = _queue(email="ana@example.org", phone="+1 868 555 0101", link="/portal/applications/APP-1")
    assert [r.channel for r in rows] == ["inbox"]
    inbox = rows[0]
    assert inbox.status == Notification.Status.DELIVERED
    assert inbox.sent_at is not None
    assert notify.inbox_for(uin=UIN) == [
        {
            "id": inbox.pk,
            "subject": "Your application APP-1",
            "body": "Dear Ana, your application APP-1 was approved.",
            "link": "/portal/applications/APP-1",
            "created_at": inbox.created_at,
            "read": False,
        }
    ]
    assert notify.notifications_run() == 0


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("email", "ana.example.org", "invalid_email"),
        ("email", "ana@exa mple.org", "invalid_email"),
        ("phone", "call me", "invalid_phone"),
        ("phone", "12", "invalid_phone"),
        ("link", "javascript:alert(1)", "invalid_link"),
        ("link", "//evil.example/x", "invalid_link"),
    ],
)
def test_obviously_bad_contact_details_are_refused_and_nothing_is_queued(
    mail_server: MailServer, sms: SmsProvider, field: str, value: str, code: str
) -> None:
    with pytest.raises(DomainError) as caught:
        _queue(**{field: value})
    assert (caught.value.code, caught.value.field) == (code, field)
    assert not Notification.objects.exists()


def test_a_phone_number_is_kept_without_its_punctuation(sms: SmsProvider) -> None:
    rows = _queue(phone="+1 (868) 555-0101")
    assert [(r.channel, r.address) for r in rows] == [("inbox", ""), ("sms", "+18685550101")]


# --- email -----------------------------------------------------------------------------------------


def test_an_email_is_received_by_the_mail_server(mail: MailServer) -> None:
    rows = _queue(email="ana@example.org", link="/portal/applications/APP-1")
    assert [r.channel for r in rows] == ["inbox", "email"]
    assert _row("email").status == Notification.Status.CREATED

    assert notify.notifications_run() == 1

    [(recipients, message)] = mail.messages
    assert recipients == ["ana@example.org"]
    assert message["To"] == "ana@example.org"
    assert message["From"] == "Gov21 <no-reply@gov21.example>"
    assert message["Subject"] == "Your application APP-1"
    assert message.get_content_type() == "text/plain"
    text = message.get_content()
    assert "Dear Ana, your application APP-1 was approved." in text
    assert "https://portal.gov21.example/portal/applications/APP-1" in text
    email = _row("email")
    assert (email.status, email.attempts, email.last_error) == (Notification.Status.DELIVERED, 1, "")
    assert email.sent_at is not None
    assert notify.notifications_run() == 0
    assert len(mail.messages) == 1


def test_while_the_mail_server_is_down_the_email_waits_and_is_delivered_when_it_is_back(
    mail_server: MailServer,
) -> None:
    _queue(email="ana@example.org")

    before = timezone.now()
    assert notify.notifications_run() == 0
    email = _row("email")
    assert (email.status, email.attempts) == (Notification.Status.CREATED, 1)
    assert email.last_error.startswith("mail server 127.0.0.1: ConnectionRefusedError")
    assert timedelta(seconds=29) < email.next_attempt_at - before < timedelta(seconds=31)

    mail_server.start()
    assert notify.notifications_run() == 0  # not before its backoff has passed
    assert mail_server.messages == []

    _time_passes()
    assert notify.notifications_run() == 1
    assert len(mail_server.messages) == 1
    email = _row("email")
    assert (email.status, email.attempts, email.last_error) == (Notification.Status.DELIVERED, 2, "")


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        ("550 5.1.1 No such user here", Notification.Status.FAILED),
        ("452 4.2.2 Mailbox full, try later", Notification.Status.CREATED),
    ],
)
def test_a_refused_recipient_fails_for_good_on_5xx_and_is_retried_on_4xx(
    mail: MailServer, reply: str, status: str
) -> None:
    mail.handler.refuse["ana@example.org"] = reply
    _queue(email="ana@example.org")
    assert notify.notifications_run() == 0
    email = _row("email")
    assert (email.status, email.attempts) == (status, 1)
    assert email.last_error == f"SMTP {reply}"
    assert mail.messages == []


def test_required_starttls_not_offered_keeps_the_email_waiting_instead_of_sending_in_clear(
    mail: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV21_SMTP_STARTTLS", "true")
    _queue(email="ana@example.org")
    assert notify.notifications_run() == 0
    email = _row("email")
    assert (email.status, email.attempts) == (Notification.Status.CREATED, 1)
    assert "STARTTLS" in email.last_error
    assert mail.messages == []


# --- SMS -------------------------------------------------------------------------------------------


def test_an_sms_is_posted_to_the_provider_with_its_token(sms: SmsProvider) -> None:
    rows = _queue(phone="+18685550101", link="/portal/applications/APP-1")
    assert notify.notifications_run() == 1
    [(headers, payload)] = sms.requests
    assert headers["Authorization"] == "Bearer sms-secret"
    assert payload == {
        "to": "+18685550101",
        "body": "Dear Ana, your application APP-1 was approved. https://portal.gov21.example/portal/applications/APP-1",
        "reference": str(rows[1].pk),
    }
    assert _row("sms").status == Notification.Status.DELIVERED


def test_an_sms_the_provider_cannot_take_now_is_retried(sms: SmsProvider) -> None:
    _queue(phone="+18685550101")
    sms.answer = 500
    assert notify.notifications_run() == 0
    text = _row("sms")
    assert (text.status, text.attempts) == (Notification.Status.CREATED, 1)
    assert text.last_error.startswith("SMS provider answered 500")

    sms.answer = 200
    _time_passes()
    assert notify.notifications_run() == 1
    assert len(sms.requests) == 2
    assert _row("sms").status == Notification.Status.DELIVERED


def test_an_sms_the_provider_rejects_fails_for_good(sms: SmsProvider) -> None:
    _queue(phone="+18685550101")
    sms.answer = 400
    assert notify.notifications_run() == 0
    text = _row("sms")
    assert (text.status, text.attempts) == (Notification.Status.FAILED, 1)
    assert text.last_error.startswith("SMS provider answered 400")
    _time_passes()
    assert notify.notifications_run() == 0
    assert len(sms.requests) == 1


def test_retries_back_off_exponentially_up_to_an_hour_then_give_up(sms: SmsProvider) -> None:
    _queue(phone="+18685550101")
    sms.answer = 503
    waits = []
    for _ in range(notify.MAX_ATTEMPTS - 1):
        before = timezone.now()
        notify.notifications_run()
        waits.append(round((_row("sms").next_attempt_at - before).total_seconds() / 10) * 10)
        _time_passes()
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    notify.notifications_run()
    text = _row("sms")
    assert (text.status, text.attempts) == (Notification.Status.FAILED, notify.MAX_ATTEMPTS)
    assert len(sms.requests) == notify.MAX_ATTEMPTS


def test_one_temporary_failure_holds_the_rest_of_that_channel_until_the_next_run(sms: SmsProvider) -> None:
    _queue(phone="+18685550101")
    _queue(phone="+18685550102")
    sms.answer = 500
    assert notify.notifications_run() == 0
    assert len(sms.requests) == 1  # not one timeout per waiting message while the provider is down
    attempts = sorted(Notification.objects.filter(channel="sms").values_list("attempts", flat=True))
    assert attempts == [0, 1]
    sms.answer = 200
    assert notify.notifications_run() == 1  # the untried one; the failed one waits for its backoff


# --- workers ---------------------------------------------------------------------------------------


def test_two_workers_never_send_the_same_notification(mail: MailServer, monkeypatch: pytest.MonkeyPatch) -> None:
    second_worker: list[int] = []
    started = threading.Event()

    class SlowEmail(notify.EmailChannel):
        def send(self, n: Notification) -> None:
            if not started.is_set():
                started.set()
                # While the first worker is sending its first row, with both rows on its list,
                # a second worker runs: it must skip the row in hand and take the other one.
                second_worker.append(notify.notifications_run())
            super().send(n)

    monkeypatch.setitem(notify.CHANNELS, "email", SlowEmail())
    _queue(email="ana@example.org")
    _queue(email="bob@example.org")
    # The first worker then reaches the second row on its (now stale) list and must not send it again.
    assert notify.notifications_run() == 1
    assert second_worker == [1]
    assert sorted(recipients[0] for recipients, _ in mail.messages) == ["ana@example.org", "bob@example.org"]
    assert set(Notification.objects.filter(channel="email").values_list("status", "attempts")) == {
        (Notification.Status.DELIVERED, 1)
    }


class WorkerKilled(BaseException):
    pass


def test_a_notification_left_sending_by_a_dead_worker_is_sent_again_once_the_claim_is_stale(
    mail: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    class DyingEmail:
        def send(self, n: Notification) -> None:
            raise WorkerKilled

    _queue(email="ana@example.org")
    with monkeypatch.context() as patched:
        patched.setitem(notify.CHANNELS, "email", DyingEmail())
        with pytest.raises(WorkerKilled):
            notify.notifications_run()
    assert _row("email").status == Notification.Status.SENDING

    # Another worker, soon after: the row may still be in someone's hands.
    assert notify.notifications_run() == 0
    assert mail.messages == []

    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=11))
    assert notify.notifications_run() == 1
    assert len(mail.messages) == 1
    email = _row("email")
    assert (email.status, email.attempts) == (Notification.Status.DELIVERED, 2)


# --- the portal inbox and the operators' summary ---------------------------------------------------


def test_the_inbox_lists_newest_first_and_counts_what_is_unread() -> None:
    first = _queue()[0]
    second = notify.notification_queue(uin=UIN, template="t", subject="Second", body="Hello")[0]
    notify.notification_queue(uin=OTHER_UIN, template="t", subject="Not yours", body="Hello")
    assert [m["id"] for m in notify.inbox_for(uin=UIN)] == [second.pk, first.pk]
    assert [m["id"] for m in notify.inbox_for(uin=UIN, limit=1)] == [second.pk]
    assert notify.inbox_unread_count(uin=UIN) == 2

    assert notify.inbox_mark_read(uin=UIN, notification_id=first.pk) is True
    assert notify.inbox_mark_read(uin=UIN, notification_id=first.pk) is True  # again: still fine
    assert notify.inbox_unread_count(uin=UIN) == 1
    assert [m["read"] for m in notify.inbox_for(uin=UIN)] == [False, True]


def test_nobody_can_mark_another_persons_message_read() -> None:
    mine = _queue()[0]
    assert notify.inbox_mark_read(uin=OTHER_UIN, notification_id=mine.pk) is False
    assert notify.inbox_mark_read(uin=OTHER_UIN, notification_id=mine.pk + 1000) is False
    assert notify.inbox_unread_count(uin=UIN) == 1
    assert notify.inbox_for(uin=OTHER_UIN) == []


def test_the_summary_counts_each_channel_in_each_status(mail: MailServer, sms: SmsProvider) -> None:
    _queue(email="ana@example.org", phone="+18685550101")
    _queue(email="bob@example.org", phone="+18685550102")
    sms.answer = 400
    notify.notifications_run()
    summary = notify.notifications_summary()
    assert summary == {
        "inbox": {"created": 0, "sending": 0, "delivered": 2, "failed": 0},
        "email": {"created": 0, "sending": 0, "delivered": 2, "failed": 0},
        "sms": {"created": 0, "sending": 0, "delivered": 0, "failed": 2},
    }


def test_the_notify_command_sends_once_and_prints_the_counts(mail: MailServer) -> None:
    _queue(email="ana@example.org")
    out = StringIO()
    call_command("notify", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "1 notifications delivered"
    assert "email   created 0  sending 0  delivered 1  failed 0" in lines
    assert len(mail.messages) == 1
