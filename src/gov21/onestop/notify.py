"""Notifications to citizens, in the manner of GOV.UK Notify: templates with ``((placeholders))``, and
an outbox that sends them on the portal inbox, by email and by SMS.

:func:`notification_queue` is called inside the transaction that makes the change the person is told
about, so the message exists if and only if the change committed. The portal inbox row is delivered
at once: it is the channel that never fails, so every person always has the message somewhere.
Email and SMS rows wait for :func:`notifications_run` (``gov21 notify``), which sends them outside
any transaction and retries temporary failures with exponential backoff. The rows are the one
outbox's (``core.outbox``): a message that fails for good is a dead letter (``failed``), listed in
the back office with a button to send it again.

Delivery is at least once: a worker that dies between sending and recording the outcome leaves
its row in ``sending``, and the row is sent again once the lease expires. Nothing is ever lost.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Final, Protocol

import httpx2 as httpx
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from gov21.concerns import contracts as concerns
from gov21.core import config
from gov21.core.contact import EMAIL_MAX_LENGTH, email_normalised, phone_normalised
from gov21.core.errors import DomainError
from gov21.core.loops import batches_loop
from gov21.core.outbox import Outbox, outbox_claim, outbox_done, outbox_fail, outbox_register
from gov21.identity import contracts as identity
from gov21.onestop.models import Notification

logger = logging.getLogger("gov21.onestop.notify")

INBOX: Final = "inbox"
EMAIL: Final = "email"
SMS: Final = "sms"
CHANNEL_NAMES: Final = (INBOX, EMAIL, SMS)

MAX_ATTEMPTS: Final = 10
BACKOFF_BASE_S: Final = 30.0
BACKOFF_CAP_S: Final = 3600.0
# How long a worker's lease on a row it is sending lasts. Far longer than a send can take (10 s
# timeouts), so a row still `sending` after this was left by a worker that died, and another
# worker takes it.
CLAIM_S: Final = 600.0
SEND_TIMEOUT_S: Final = 10.0
RUN_LIMIT: Final = 100
INBOX_LIMIT_MAX: Final = 200

_PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")


# --- templates -------------------------------------------------------------------------------------


def _text_in(part: Any, language: str, what: str) -> str:
    if not isinstance(part, dict) or not isinstance(part.get("en"), str):
        raise DomainError("template_invalid", f"The template's {what} has no English text.", field="template")
    # "es-AR" falls back to "es", then to English, which every template has.
    for tag in (language, language.split("-")[0], "en"):
        text = part.get(tag)
        if isinstance(text, str) and text:
            return text
    return str(part["en"])


def template_render(*, template: dict[str, Any], params: dict[str, str], language: str) -> tuple[str, str]:
    """The subject and body of ``template`` in ``language`` (English where it has no such text),
    with every ``((name))`` replaced by ``params[name]`` as plain text."""
    subject_text = _text_in(template.get("subject", {"en": ""}), language, "subject")
    body_text = _text_in(template.get("body"), language, "body")
    wanted = [m.strip() for m in _PLACEHOLDER.findall(subject_text + "\n" + body_text)]
    missing = sorted({name for name in wanted if name not in params})
    if missing:
        names = ", ".join(f"(({name}))" for name in missing)
        raise DomainError(
            "missing_placeholder", f"No value given for {names}.", field="params", extra={"missing": missing}
        )

    # One pass: a value that itself contains ((…)) is shown as written, never expanded.
    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: str(params[m.group(1).strip()]), text)

    # A subject is one line: a value with a line break must not become a second mail header.
    subject = " ".join(fill(subject_text).split())
    return subject, fill(body_text)


# --- queueing (inside the caller's transaction) ----------------------------------------------------


def _email_checked(email: str) -> str:
    checked = email_normalised(email)
    if checked is None:
        if len(email.strip()) > EMAIL_MAX_LENGTH:
            detail = f"The email address is longer than {EMAIL_MAX_LENGTH} characters."
        else:
            detail = f"{email.strip()!r} is not an email address."
        raise DomainError("invalid_email", detail, field="email")
    return checked


def _phone_checked(phone: str) -> str:
    number = phone_normalised(phone)
    if number is None:
        raise DomainError(
            "invalid_phone", f"{phone!r} is not a phone number (digits, optionally +country code).", field="phone"
        )
    return number


def _link_checked(link: str) -> str:
    # The portal renders the link as an href: only site paths and web addresses, never javascript:.
    if link and not (link.startswith(("https://", "http://")) or (link.startswith("/") and not link.startswith("//"))):
        raise DomainError("invalid_link", "A link is a path on this site (/…) or an http(s) address.", field="link")
    if len(link) > 200:
        raise DomainError("invalid_link", "The link is longer than 200 characters.", field="link")
    return link


def notification_queue(
    *,
    uin: str,
    template: str,
    subject: str,
    body: str,
    link: str = "",
    language: str = "en",
    email: str = "",
    phone: str = "",
) -> list[Notification]:
    """Queue a message to one person: always in the portal inbox (delivered now), and by email and
    SMS where an address is given and that channel is configured. Call it inside the transaction of
    the change the message is about."""
    if not uin:
        raise DomainError("invalid_uin", "A notification needs the person's UIN.", field="uin")
    if not body.strip():
        raise DomainError("empty_notification", "A notification needs a body.", field="body")
    link = _link_checked(link)
    address_of = {
        EMAIL: _email_checked(email) if email else "",
        SMS: _phone_checked(phone) if phone else "",
    }
    configured = {EMAIL: bool(config.SMTP_HOST.read()), SMS: bool(config.SMS_URL.read())}
    now = timezone.now()
    common: dict[str, Any] = {
        "uin": uin,
        "template": template[:80],
        "language": language[:8],
        # One line, as template_render makes it: an email subject is a header.
        "subject": " ".join(subject.split())[:200],
        "body": body,
        "link": link,
        "created_at": now,
        "next_attempt_at": now,
    }
    with transaction.atomic():
        rows = [
            Notification.objects.create(
                channel=INBOX, status=Notification.Status.DELIVERED, sent_at=now, address="", **common
            )
        ]
        for channel in (EMAIL, SMS):
            if address_of[channel] and configured[channel]:
                rows.append(Notification.objects.create(channel=channel, address=address_of[channel], **common))
    return rows


# --- channels ----------------------------------------------------------------------------------------


class ChannelError(Exception):
    """A send that did not happen. ``permanent``: sending the same message again cannot succeed
    (the address is refused, the provider rejects the message); otherwise it is retried."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Channel(Protocol):
    def send(self, n: Notification) -> None: ...


def _absolute(link: str) -> str:
    # The inbox link is a site path; outside the portal a reader needs the whole address.
    return config.BASE_URL.read().rstrip("/") + link if link.startswith("/") else link


class EmailChannel:
    """Plain-text email through the configured SMTP server, one connection per message."""

    def message(self, n: Notification) -> EmailMessage:
        mail_from = config.MAIL_FROM.read()
        msg = EmailMessage()
        msg["From"] = mail_from
        msg["To"] = Address(addr_spec=n.address)
        msg["Subject"] = n.subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=str(DNS_NAME))
        # RFC 3834: an automatic message, so vacation responders do not answer it.
        msg["Auto-Submitted"] = "auto-generated"
        text = n.body if not n.link else f"{n.body.rstrip()}\n\n{_absolute(n.link)}"
        msg.set_content(text + "\n")
        return msg

    def send(self, n: Notification) -> None:
        host = config.SMTP_HOST.read()
        if not host:
            # Switched off after the row was queued: keep it, an operator may switch it on again.
            raise ChannelError("email is not configured (GOV21_SMTP_HOST)", permanent=False)
        try:
            msg = self.message(n)
        except (ValueError, TypeError) as exc:
            raise ChannelError(f"cannot build the message: {exc}", permanent=True) from exc
        try:
            with smtplib.SMTP(
                host, config.SMTP_PORT.read(), local_hostname=DNS_NAME.get_fqdn(), timeout=SEND_TIMEOUT_S
            ) as smtp:
                if config.SMTP_STARTTLS.read():
                    # Raises when the server offers no STARTTLS: mail waits rather than go in clear.
                    smtp.starttls(context=ssl.create_default_context())
                user = config.SMTP_USER.read()
                if user:
                    smtp.login(user, config.SMTP_PASSWORD.read())
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            raise ChannelError(_smtp_reason(code, reply), permanent=500 <= code < 600) from exc
        except smtplib.SMTPDataError as exc:
            raise ChannelError(
                _smtp_reason(exc.smtp_code, exc.smtp_error), permanent=500 <= exc.smtp_code < 600
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # A 5xx to the greeting, the login or MAIL FROM is about our server's configuration, not
            # this message: retried, so nothing is lost while an operator fixes it.
            raise ChannelError(_smtp_reason(exc.smtp_code, exc.smtp_error), permanent=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"mail server {host}: {type(exc).__name__}: {exc}", permanent=False) from exc


def _smtp_reason(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"SMTP {code} {' '.join(text.split())}"


# 408 and 429 ask to come back later; 401 and 403 mean our token is wrong, which an operator fixes,
# so those messages wait rather than fail.
_SMS_RETRYABLE_4XX: Final = frozenset({401, 403, 408, 429})


class SmsChannel:
    """Text messages through the provider at GOV21_SMS_URL: a JSON POST per message."""

    def payload(self, n: Notification) -> dict[str, str]:
        text = n.body if not n.link else f"{n.body.rstrip()} {_absolute(n.link)}"
        return {"to": n.address, "body": text, "reference": str(n.pk)}

    def send(self, n: Notification) -> None:
        url = config.SMS_URL.read()
        if not url:
            raise ChannelError("SMS is not configured (GOV21_SMS_URL)", permanent=False)
        try:
            response = httpx.post(
                url,
                json=self.payload(n),
                headers={"Authorization": f"Bearer {config.SMS_TOKEN.read()}"},
                timeout=SEND_TIMEOUT_S,
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ChannelError(f"SMS provider: {type(exc).__name__}: {exc}", permanent=False) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"SMS provider answered {status}: {' '.join(response.text.split())[:200]}"
        permanent = 400 <= status < 500 and status not in _SMS_RETRYABLE_4XX
        raise ChannelError(reason, permanent=permanent)


CHANNELS: dict[str, Channel] = {EMAIL: EmailChannel(), SMS: SmsChannel()}


# --- the worker ------------------------------------------------------------------------------------


def _describe(n: Notification) -> str:
    # No address and no UIN: the page is for operators, who need the message, not the person.
    return f"{n.channel} {n.template} of {n.created_at:%Y-%m-%d %H:%M}"


NOTIFICATIONS: Final = outbox_register(
    Outbox(
        name="notifications",
        title="Notifications by email and SMS",
        item="notification",
        model=Notification,
        permission="services.admin",
        waiting=Notification.Status.CREATED,
        sending=Notification.Status.SENDING,
        done=Notification.Status.DELIVERED,
        dead=Notification.Status.FAILED,
        done_at="sent_at",
        describe=_describe,
        max_attempts=MAX_ATTEMPTS,
        backoff_base_s=BACKOFF_BASE_S,
        backoff_cap_s=BACKOFF_CAP_S,
        lease_s=CLAIM_S,
    )
)


def _send_one(row: Notification, down: set[str]) -> bool:
    """Send one claimed row: True delivered, False not (yet)."""
    channel = CHANNELS.get(row.channel)
    try:
        if channel is None:
            raise ChannelError(f"no channel {row.channel!r}", permanent=True)
        channel.send(row)
    except ChannelError as exc:
        error, permanent = exc.message, exc.permanent
    except Exception as exc:
        logger.exception("notification %s: the %s channel failed", row.pk, row.channel)
        error, permanent = f"{type(exc).__name__}: {exc}", False
    else:
        outbox_done(NOTIFICATIONS, row)
        return True
    if permanent or row.attempts >= MAX_ATTEMPTS:
        logger.warning("notification %s (%s) failed after %d attempts: %s", row.pk, row.channel, row.attempts, error)
    else:
        # One refusal is enough to know the server is down or throttling us: the channel's other
        # rows wait for the next run instead of each waiting out its own timeout now.
        down.add(row.channel)
    outbox_fail(NOTIFICATIONS, row, error[:300], permanent=permanent)
    return False


def account_notices_queue(*, limit: int = RUN_LIMIT) -> int:
    """Queue what identity must tell people about their accounts (a recovery asked for, a factor
    removed): the inbox at once, email and SMS to the addresses the account holds. How many."""
    queued = 0
    for notice in identity.account_notices_pending(limit=limit):
        with transaction.atomic():
            if not identity.account_notice_told(notice_id=notice.id):
                continue  # another worker took it
            common = {
                "uin": notice.uin,
                "template": f"identity.{notice.kind}",
                "subject": notice.subject,
                "body": notice.body,
                "link": notice.link,
            }
            try:
                notification_queue(**common, email=notice.email, phone=notice.phone)
            except DomainError:
                # An address on file that is not one: the person still gets the inbox copy.
                notification_queue(**common)
        queued += 1
    return queued


def _email_only_queue(*, email: str, template: str, subject: str, body: str, link: str, language: str) -> None:
    """An email to someone with no account here (an anonymous reporter who left an address): no
    inbox to deliver to, so nothing when email is not configured or the address is not one."""
    address = email_normalised(email)
    if address is None or not config.SMTP_HOST.read():
        return
    now = timezone.now()
    Notification.objects.create(
        uin="",
        channel=EMAIL,
        address=address,
        template=template[:80],
        language=language[:8],
        subject=" ".join(subject.split())[:200],
        body=body,
        link=_link_checked(link),
        created_at=now,
        next_attempt_at=now,
    )


def concern_notices_queue(*, limit: int = RUN_LIMIT) -> int:
    """Queue what the reporting desk must tell reporters of their reports (a status changed, an
    agency's public update): the signed-in reporter's inbox at once, and email to the address they
    left. How many notices were taken."""
    queued = 0
    for notice in concerns.report_notices_pending(limit=limit):
        with transaction.atomic():
            if not concerns.report_notice_told(notice_id=notice.id):
                continue  # another worker took it
            common = {
                "template": "concerns.report_update",
                "subject": notice.subject,
                "body": notice.body,
                "link": notice.link,
                "language": notice.language,
            }
            if notice.uin:
                try:
                    notification_queue(uin=notice.uin, email=notice.email, **common)
                except DomainError:
                    # An address that is not one: the person still gets the inbox copy.
                    notification_queue(uin=notice.uin, **common)
            elif notice.email:
                _email_only_queue(email=notice.email, **common)
        queued += 1
    return queued


def _run(*, limit: int) -> tuple[int, int]:
    if limit < 1:
        return 0, 0
    # Before sending, so a notice about an account or a report leaves in the same run it was queued.
    account_notices_queue(limit=limit)
    concern_notices_queue(limit=limit)
    # A row still `sending` whose lease ran out was left by a dead worker: due again, like `created`.
    # Rows are claimed one at a time, so a second worker takes the next row rather than wait.
    down: set[str] = set()
    attempted = delivered = 0
    while attempted < limit:
        waiting = Notification.objects.exclude(channel__in=down).order_by("created_at", "id")
        claimed = outbox_claim(NOTIFICATIONS, waiting, limit=1)
        if not claimed:
            break
        attempted += 1
        delivered += _send_one(claimed[0], down)
    return attempted, delivered


def notifications_run(*, limit: int = RUN_LIMIT) -> int:
    """Send up to ``limit`` due email and SMS notifications, oldest first; how many were delivered."""
    return _run(limit=limit)[1]


def notifications_loop(*, interval: float, stop_after: float | None = None) -> int:
    """Run :func:`notifications_run` until ``stop_after`` seconds have passed (for ever without it),
    resting ``interval`` seconds whenever a run found less than a full batch; how many were delivered."""
    return batches_loop(
        lambda limit: _run(limit=limit),
        batch=RUN_LIMIT,
        interval=interval,
        stop_after=stop_after,
        logger=logger,
        what="notification",
    )


# --- reads for the portal and operators ------------------------------------------------------------


def inbox_for(*, uin: str, limit: int = 50) -> list[dict[str, Any]]:
    """The person's portal inbox, newest first."""
    rows = Notification.objects.filter(uin=uin, channel=INBOX).order_by("-created_at", "-id")
    limit = max(1, min(limit, INBOX_LIMIT_MAX))
    return [
        {
            "id": n.pk,
            "subject": n.subject,
            "body": n.body,
            "link": n.link,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in rows.only("id", "subject", "body", "link", "created_at", "read_at")[:limit]
    ]


def inbox_unread_count(*, uin: str) -> int:
    return Notification.objects.filter(uin=uin, channel=INBOX, read_at__isnull=True).count()


def inbox_mark_read(*, uin: str, notification_id: int) -> bool:
    """Mark one of the person's inbox messages read. False when the person has no such message:
    someone else's looks exactly like one that does not exist."""
    mine = Notification.objects.filter(pk=notification_id, uin=uin, channel=INBOX)
    return bool(mine.filter(read_at__isnull=True).update(read_at=timezone.now())) or mine.exists()


def notifications_summary() -> dict[str, dict[str, int]]:
    """How many notifications each channel has in each status (every channel and status, zeros too)."""
    summary = {channel: dict.fromkeys(Notification.Status.values, 0) for channel in CHANNEL_NAMES}
    counts = Notification.objects.order_by().values("channel", "status").annotate(n=Count("id"))
    for row in counts:
        summary.setdefault(row["channel"], dict.fromkeys(Notification.Status.values, 0))[row["status"]] = row["n"]
    return summary


__all__ = [
    "CHANNELS",
    "MAX_ATTEMPTS",
    "Channel",
    "ChannelError",
    "EmailChannel",
    "SmsChannel",
    "account_notices_queue",
    "concern_notices_queue",
    "inbox_for",
    "inbox_mark_read",
    "inbox_unread_count",
    "notification_queue",
    "notifications_loop",
    "notifications_run",
    "notifications_summary",
    "template_render",
]
