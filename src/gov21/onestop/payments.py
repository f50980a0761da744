"""Paying for an application: online through a hosted payment provider (the GOV.UK Pay public API)
or in cash at an office, confirmed by an officer.

A hosted payment is started in three steps: a short transaction records the ``Payment`` row, the
provider is called outside any transaction, and a second short transaction stores what it answered.
The network call never holds a database lock (on SQLite that would be the whole database's write
lock for up to the provider's timeout), and a provider that fails leaves the row behind, marked
failed, so the attempt is on record and the citizen can simply try again. Callers should therefore
not wrap these functions in a transaction of their own.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx2 as httpx
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core import config
from gov21.core.errors import Conflict, DomainError
from gov21.onestop.models import Application, Payment

logger = logging.getLogger("gov21.onestop")

HOSTED = "hosted"
COUNTER = "counter"

_TIMEOUT_S = 10.0
# fullmatch, not ``^...$``: ``$`` also matches before a trailing newline, which would let
# "abc\n" through into a URL path.
_PROVIDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CURRENCY = re.compile(r"[A-Z]{3}")
# The amount column is a PositiveIntegerField: PostgreSQL's integer caps it.
_MAX_AMOUNT = 2_147_483_647
# GOV.UK Pay's own limits on these fields; refusing here gives the caller a field to blame
# instead of a bare refusal from the provider.
_MAX_TEXT = 255
_MAX_RETURN_URL = 2000
_MAX_NEXT_URL = 500  # Payment.next_url
# A hosted row still "created" this long after it was written belongs to a request that died
# between its two transactions. Longer than one provider call can take (each phase of the call
# may use the whole timeout), so a request still waiting on the provider is never overtaken.
_STARTING_GRACE = timedelta(seconds=60)

# GOV.UK Pay's payment states, in our five. "submitted" and "capturable" mean the citizen has
# entered card details and the money is not yet taken: still under way for us. "error" is the
# provider's own failure; the citizen was not charged.
_PROVIDER_STATES: dict[str, str] = {
    "created": Payment.Status.CREATED,
    "started": Payment.Status.STARTED,
    "submitted": Payment.Status.STARTED,
    "capturable": Payment.Status.STARTED,
    "success": Payment.Status.SUCCESS,
    "failed": Payment.Status.FAILED,
    "cancelled": Payment.Status.CANCELLED,
    "error": Payment.Status.FAILED,
}


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    provider_id: str
    status: str
    next_url: str


class PaymentProvider(Protocol):
    def create(
        self, *, amount: int, currency: str, reference: str, description: str, return_url: str
    ) -> ProviderPayment: ...

    def status(self, *, provider_id: str) -> str:
        """One of created, started, success, failed, cancelled."""
        ...


def _http_url(value: object, *, max_length: int) -> str | None:
    """``value`` if it is an absolute http(s) URL we may store or redirect a citizen to, else None."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        return None
    # Whitespace and control characters have no place in a URL and are how header and HTML
    # injection start.
    if not value.isprintable() or any(char.isspace() for char in value):
        return None
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not hostname:
        return None
    return value


def _provider_invalid(detail: str) -> DomainError:
    logger.warning("payment provider answered unexpectedly: %s", detail)
    return DomainError(
        "payment_provider_invalid",
        _("The payment service gave an answer we cannot use. Try again later or pay at an office."),
        status=502,
    )


class HostedPaymentProvider:
    """A client of the GOV.UK Pay public API: create a payment and read its state. The citizen is
    sent to the provider's ``next_url`` and comes back to our ``return_url``; the provider, not the
    return, is then asked how it went.

    GOV.UK Pay takes no currency: an account takes payments in its one currency, so ``currency``
    is ours to record, not the provider's to check."""

    def __init__(self, base_url: str, api_key: str) -> None:
        if _http_url(base_url, max_length=_MAX_RETURN_URL) is None:
            # Settings, not citizen input: a misconfigured server should fail loudly.
            raise ValueError(f"The payment provider's URL must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and error reports.
        return f"HostedPaymentProvider({self.base_url!r})"

    def create(
        self, *, amount: int, currency: str, reference: str, description: str, return_url: str
    ) -> ProviderPayment:
        body = {"amount": amount, "reference": reference, "description": description, "return_url": return_url}
        data = self._call("POST", "/v1/payments", body=body, expect=201)
        provider_id = data.get("payment_id")
        if not isinstance(provider_id, str) or not _PROVIDER_ID.fullmatch(provider_id):
            raise _provider_invalid(f"payment_id {str(provider_id)[:80]!r}")
        links = data.get("_links")
        next_link = links.get("next_url") if isinstance(links, dict) else None
        href = next_link.get("href") if isinstance(next_link, dict) else None
        next_url = _http_url(href, max_length=_MAX_NEXT_URL)
        if next_url is None:
            raise _provider_invalid(f"next_url {str(href)[:80]!r}")
        return ProviderPayment(provider_id=provider_id, status=self._state(data), next_url=next_url)

    def status(self, *, provider_id: str) -> str:
        if not _PROVIDER_ID.fullmatch(provider_id):
            raise DomainError("invalid_provider_id", _("This is not a payment reference."), field="provider_id")
        data = self._call("GET", f"/v1/payments/{provider_id}", body=None, expect=200)
        if data.get("payment_id", provider_id) != provider_id:
            raise _provider_invalid("the state of another payment")
        return self._state(data)

    def _state(self, data: dict[str, Any]) -> str:
        state = data.get("state")
        raw = state.get("status") if isinstance(state, dict) else None
        if not isinstance(raw, str) or raw not in _PROVIDER_STATES:
            raise _provider_invalid(f"state {str(raw)[:40]!r}")
        return _PROVIDER_STATES[raw]

    def _call(self, method: str, path: str, *, body: dict[str, Any] | None, expect: int) -> dict[str, Any]:
        try:
            response = httpx.request(
                method,
                self.base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"},
                timeout=_TIMEOUT_S,
            )
        except httpx.TransportError as exc:
            logger.warning("payment provider unreachable: %s %s: %r", method, path, exc)
            raise DomainError(
                "payment_provider_unavailable",
                _("The payment service cannot be reached. Nothing was charged; try again in a few minutes."),
                status=503,
            ) from exc
        if response.status_code >= 500:
            logger.warning("payment provider failed: %s %s: %s", method, path, response.status_code)
            raise DomainError(
                "payment_provider_unavailable",
                _("The payment service is not working. Nothing was charged; try again in a few minutes."),
                status=503,
            )
        if response.status_code >= 400:
            # Our request or our key is wrong: the citizen cannot fix it, an operator must.
            logger.error(
                "payment provider refused: %s %s: %s %s", method, path, response.status_code, response.text[:300]
            )
            raise DomainError(
                "payment_refused",
                _("The payment service refused the payment. Nothing was charged; pay at an office instead."),
                status=502,
            )
        if response.status_code != expect:
            raise _provider_invalid(f"HTTP {response.status_code} to {method} {path}")
        try:
            data = response.json()
        except ValueError as exc:
            raise _provider_invalid(f"no JSON in answer to {method} {path}") from exc
        if not isinstance(data, dict):
            raise _provider_invalid(f"no JSON object in answer to {method} {path}")
        return data


def payment_provider() -> PaymentProvider | None:
    """The configured hosted payment provider, or None when hosted payments are off."""
    url = config.PAY_URL.read()
    if not url:
        return None
    return HostedPaymentProvider(url, config.PAY_KEY.read())


def payment_page_origins() -> list[str]:
    """Where the pay page may send a citizen: the provider's hosted pages (GOV21_PAY_PAGES, or the
    origin of GOV21_PAY_URL). Browsers hold the redirect after the pay form to the page's
    content security policy, so these, and no others, are added to its form-action."""
    if not config.PAY_URL.read():
        return []
    pages = config.PAY_PAGES.read() or [config.PAY_URL.read()]
    origins = []
    for page in pages:
        parts = urlsplit(page.strip())
        if parts.scheme in {"http", "https"} and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def _check_amount(amount: int, currency: str) -> None:
    # bool is an int to Python, never an amount.
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= _MAX_AMOUNT:
        raise DomainError("invalid_amount", _("The amount must be a positive number of cents."), field="amount")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise DomainError("invalid_currency", _("The currency must be a three-letter ISO 4217 code."), field="currency")


def _open_payment(*, application: Application, method: str, amount: int, currency: str) -> Payment:
    """The application's started payment by ``method``, or a new one. Runs inside the caller's
    transaction, with the application row locked so that two requests cannot both start one."""
    Application.objects.select_for_update().filter(pk=application.pk).get()
    live = list(
        Payment.objects.select_for_update()
        .filter(
            application_id=application.pk,
            status__in=(Payment.Status.CREATED, Payment.Status.STARTED, Payment.Status.SUCCESS),
        )
        .order_by("pk")
    )
    if any(p.status == Payment.Status.SUCCESS for p in live):
        raise Conflict("already_paid", _("This application has already been paid for."))
    now = timezone.now()
    for existing in live:
        if existing.method != method:
            # A citizen who chose the counter may still pay online, and the other way round: the
            # officer's confirmation is refused once either has succeeded.
            continue
        if existing.status == Payment.Status.CREATED:
            if now - existing.created_at < _STARTING_GRACE:
                raise Conflict(
                    "payment_starting", _("A payment for this application is being started; try again in a moment.")
                )
            existing.status = Payment.Status.FAILED
            existing.updated_at = now
            existing.save(update_fields=["status", "updated_at"])
            continue
        if existing.amount != amount or existing.currency != currency:
            raise Conflict(
                "payment_in_progress",
                _("A payment of a different amount has been started for this application; cancel it first."),
            )
        return existing
    return Payment.objects.create(
        application_id=application.pk,
        amount=amount,
        currency=currency,
        method=method,
        status=Payment.Status.STARTED if method == COUNTER else Payment.Status.CREATED,
        created_at=now,
        updated_at=now,
    )


def _hosted_failed(payment_id: int) -> None:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == Payment.Status.CREATED:
            payment.status = Payment.Status.FAILED
            payment.updated_at = timezone.now()
            payment.save(update_fields=["status", "updated_at"])


def _hosted_started(payment_id: int, created: ProviderPayment) -> Payment:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        # Kept even if the row was cancelled or given up on meanwhile: with the provider's id,
        # a refresh still finds money the citizen paid on that page.
        payment.provider_id = created.provider_id
        payment.next_url = created.next_url
        if payment.status == Payment.Status.CREATED:
            payment.status = Payment.Status.STARTED
        payment.updated_at = timezone.now()
        payment.save(update_fields=["provider_id", "next_url", "status", "updated_at"])
        return payment


def payment_start_hosted(
    *, application: Application, amount: int, currency: str, description: str, return_url: str
) -> Payment:
    """Start paying online: the citizen is then sent to the payment's ``next_url``. Returns the
    application's started hosted payment if there is one, so a double click starts one payment."""
    _check_amount(amount, currency)
    if not isinstance(description, str) or not description.strip() or len(description) > _MAX_TEXT:
        raise DomainError("invalid_description", _("Describe the payment in 1 to 255 characters."), field="description")
    if _http_url(return_url, max_length=_MAX_RETURN_URL) is None:
        raise DomainError("invalid_return_url", _("The return address must be an http(s) URL."), field="return_url")
    provider = payment_provider()
    if provider is None:
        raise Conflict("hosted_payments_off", _("Online payment is not available; pay at an office."))
    with transaction.atomic():
        payment = _open_payment(application=application, method=HOSTED, amount=amount, currency=currency)
    if payment.status == Payment.Status.STARTED:
        return payment
    try:
        created = provider.create(
            amount=amount,
            currency=currency,
            reference=application.reference,
            description=description,
            return_url=return_url,
        )
    except Exception:
        # Whatever went wrong, the attempt stays on record and the next one is not blocked by it.
        _hosted_failed(payment.pk)
        raise
    return _hosted_started(payment.pk, created)


def payment_start_counter(*, application: Application, amount: int, currency: str) -> Payment:
    """Record that the citizen will pay at an office; an officer confirms the cash later."""
    _check_amount(amount, currency)
    with transaction.atomic():
        return _open_payment(application=application, method=COUNTER, amount=amount, currency=currency)


def _next_status(current: str, reported: str) -> str:
    if reported == Payment.Status.SUCCESS or current == Payment.Status.SUCCESS:
        # Money taken is recorded whatever we thought of the payment, and never un-recorded.
        return Payment.Status.SUCCESS
    if current in (Payment.Status.CANCELLED, Payment.Status.FAILED):
        return current
    if reported == Payment.Status.CREATED:
        # The provider's "created" is our "started": it is on the provider's side now.
        return Payment.Status.STARTED
    return reported


def payment_refresh(*, payment: Payment) -> Payment:
    """The payment with the provider's latest word on it. Counter payments, payments the provider
    never heard of and paid payments are returned as stored, without a call."""
    if payment.method != HOSTED or not payment.provider_id or payment.status == Payment.Status.SUCCESS:
        return payment
    provider = payment_provider()
    if provider is None:
        raise DomainError(
            "payment_provider_unavailable",
            _("Online payment is switched off, so this payment cannot be checked now."),
            status=503,
        )
    reported = provider.status(provider_id=payment.provider_id)
    with transaction.atomic():
        row = Payment.objects.select_for_update().get(pk=payment.pk)
        status = _next_status(row.status, reported)
        if status != row.status:
            logger.info("payment %s: %s -> %s", row.pk, row.status, status)
            row.status = status
            row.updated_at = timezone.now()
            row.save(update_fields=["status", "updated_at"])
        return row


@transaction.atomic
def payment_confirm_counter(*, payment: Payment, officer: str) -> Payment:
    """An officer took the cash at the counter."""
    if not isinstance(officer, str) or not officer.strip() or len(officer) > 150:
        raise DomainError("required", _("Name the officer who took the payment."), field="officer")
    # The application first, in the same order as starting a payment takes its locks.
    Application.objects.select_for_update().filter(pk=payment.application_id).get()
    row = Payment.objects.select_for_update().get(pk=payment.pk)
    if row.method != COUNTER:
        raise Conflict("not_counter_payment", _("Only a payment made at the counter can be confirmed by an officer."))
    if row.status != Payment.Status.STARTED:
        raise Conflict("payment_not_started", _("This payment is not waiting to be paid."))
    paid_otherwise = Payment.objects.filter(application_id=row.application_id, status=Payment.Status.SUCCESS).exists()
    if paid_otherwise:
        raise Conflict("already_paid", _("This application has already been paid for; take no cash."))
    row.status = Payment.Status.SUCCESS
    row.confirmed_by = officer
    row.updated_at = timezone.now()
    row.save(update_fields=["status", "confirmed_by", "updated_at"])
    return row


@transaction.atomic
def payment_cancel(*, payment: Payment) -> Payment:
    """Give up a payment not yet made. Cancelling twice is harmless; a paid payment stays paid.

    A hosted payment is cancelled here only: if the citizen still pays on the provider's page, a
    refresh records the success."""
    row = Payment.objects.select_for_update().get(pk=payment.pk)
    if row.status == Payment.Status.SUCCESS:
        raise Conflict("already_paid", _("This payment has been made and cannot be cancelled."))
    if row.status in (Payment.Status.CREATED, Payment.Status.STARTED):
        row.status = Payment.Status.CANCELLED
        row.updated_at = timezone.now()
        row.save(update_fields=["status", "updated_at"])
    return row


def application_paid(*, application: Application) -> bool:
    return Payment.objects.filter(application_id=application.pk, status=Payment.Status.SUCCESS).exists()
