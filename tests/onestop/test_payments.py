from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import pytest
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.onestop import payments
from gov21.onestop.models import Application, Payment, ServiceDefinition
from gov21.onestop.payments import (
    application_paid,
    payment_cancel,
    payment_confirm_counter,
    payment_refresh,
    payment_start_counter,
    payment_start_hosted,
)
from tests.onestop.payprovider import LoopbackPayProvider

pytestmark = pytest.mark.django_db

RETURN_URL = "http://127.0.0.1:8000/services/applications/A-0001/paid"


@pytest.fixture
def hosted(pay_provider: LoopbackPayProvider, monkeypatch: pytest.MonkeyPatch) -> LoopbackPayProvider:
    monkeypatch.setenv("GOV21_PAY_URL", pay_provider.url)
    monkeypatch.setenv("GOV21_PAY_KEY", pay_provider.key)
    return pay_provider


def _application(reference: str = "A-0001") -> Application:
    now = timezone.now()
    service, _ = ServiceDefinition.objects.get_or_create(
        code="fee-service", version=1, defaults={"definition": {}, "digest": "0" * 64, "created_at": now}
    )
    return Application.objects.create(
        reference=reference,
        service=service,
        applicant_uin="1000000001",
        state=Application.State.AWAITING_PAYMENT,
        created_at=now,
        updated_at=now,
    )


def _start(application: Application, amount: int = 1250) -> Payment:
    return payment_start_hosted(
        application=application,
        amount=amount,
        currency="XAD",
        description="Driving licence renewal",
        return_url=RETURN_URL,
    )


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _error(excinfo: pytest.ExceptionInfo[DomainError]) -> tuple[str, int]:
    return excinfo.value.code, excinfo.value.status


def test_citizen_pays_on_the_providers_page(hosted: LoopbackPayProvider) -> None:
    application = _application()

    payment = _start(application)

    assert payment.status == Payment.Status.STARTED
    assert payment.method == "hosted"
    assert payment.provider_id in hosted.payments
    assert payment.next_url == f"{hosted.url}/pay/{payment.provider_id}"
    page = httpx.get(payment.next_url)
    assert page.status_code == 200
    assert "12.50" in page.text
    assert 'value="pay"' in page.text
    assert 'value="cancel"' in page.text
    assert not application_paid(application=application)

    back = httpx.post(payment.next_url, data={"action": "pay"}, follow_redirects=False)

    assert back.status_code == 303
    assert back.headers["Location"] == RETURN_URL
    payment = payment_refresh(payment=payment)
    assert payment.status == Payment.Status.SUCCESS
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCESS
    assert application_paid(application=application)


def test_citizen_cancels_on_the_providers_page_and_can_start_again(hosted: LoopbackPayProvider) -> None:
    application = _application()
    payment = _start(application)

    back = httpx.post(payment.next_url, data={"action": "cancel"}, follow_redirects=False)

    assert back.status_code == 303
    assert back.headers["Location"] == RETURN_URL
    assert payment_refresh(payment=payment).status == Payment.Status.CANCELLED
    assert not application_paid(application=application)
    again = _start(application)
    assert again.pk != payment.pk
    assert again.provider_id != payment.provider_id
    assert again.status == Payment.Status.STARTED


def test_a_second_payment_is_never_started_once_paid(hosted: LoopbackPayProvider) -> None:
    application = _application()
    payment = _start(application)
    hosted.complete(payment.provider_id, "success")
    payment_refresh(payment=payment)

    with pytest.raises(DomainError) as online:
        _start(application)
    with pytest.raises(DomainError) as counter:
        payment_start_counter(application=application, amount=1250, currency="XAD")

    assert _error(online) == ("already_paid", 409)
    assert _error(counter) == ("already_paid", 409)
    assert len(hosted.payments) == 1


def test_provider_down_keeps_the_attempt_and_the_citizen_can_retry(
    hosted: LoopbackPayProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    application = _application()
    monkeypatch.setenv("GOV21_PAY_URL", _closed_port_url())

    with pytest.raises(DomainError) as excinfo:
        _start(application)

    assert _error(excinfo) == ("payment_provider_unavailable", 503)
    assert "try again" in excinfo.value.detail
    kept = Payment.objects.get(application=application)
    assert (kept.method, kept.status, kept.amount, kept.provider_id) == ("hosted", "failed", 1250, "")

    monkeypatch.setenv("GOV21_PAY_URL", hosted.url)
    retried = _start(application)

    assert retried.status == Payment.Status.STARTED
    assert Payment.objects.filter(application=application).count() == 2


def test_provider_error_is_unavailable(hosted: LoopbackPayProvider) -> None:
    application = _application()
    hosted.tamper(http_status=500)

    with pytest.raises(DomainError) as excinfo:
        _start(application)

    assert _error(excinfo) == ("payment_provider_unavailable", 503)
    assert Payment.objects.get(application=application).status == Payment.Status.FAILED


def test_wrong_key_is_refused(hosted: LoopbackPayProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    application = _application()
    monkeypatch.setenv("GOV21_PAY_KEY", "not-the-key")

    with pytest.raises(DomainError) as excinfo:
        _start(application)

    assert _error(excinfo) == ("payment_refused", 502)
    assert hosted.payments == {}
    assert Payment.objects.get(application=application).status == Payment.Status.FAILED


def test_provider_refuses_what_it_cannot_take(hosted: LoopbackPayProvider) -> None:
    # Beyond GOV.UK Pay's largest amount: the provider answers 400 and nothing is charged.
    with pytest.raises(DomainError) as excinfo:
        _start(_application(), amount=10_000_001)

    assert _error(excinfo) == ("payment_refused", 502)
    assert hosted.payments == {}


def test_starting_twice_gives_the_same_payment(hosted: LoopbackPayProvider) -> None:
    application = _application()

    first = _start(application)
    second = _start(application)

    assert second.pk == first.pk
    assert second.next_url == first.next_url
    assert len(hosted.payments) == 1
    assert Payment.objects.filter(application=application).count() == 1


def test_a_different_amount_while_one_is_started_is_refused(hosted: LoopbackPayProvider) -> None:
    application = _application()
    _start(application)

    with pytest.raises(DomainError) as excinfo:
        _start(application, amount=2000)

    assert _error(excinfo) == ("payment_in_progress", 409)
    assert len(hosted.payments) == 1


def test_a_start_in_flight_blocks_a_second_one_until_it_is_given_up(hosted: LoopbackPayProvider) -> None:
    application = _application()
    now = timezone.now()
    in_flight = Payment.objects.create(
        application=application, amount=1250, currency="XAD", method="hosted", created_at=now, updated_at=now
    )

    with pytest.raises(DomainError) as excinfo:
        _start(application)
    assert _error(excinfo) == ("payment_starting", 409)
    assert hosted.payments == {}

    # The request that wrote it died: after the grace period the row is given up on.
    Payment.objects.filter(pk=in_flight.pk).update(created_at=now - timedelta(minutes=5))
    payment = _start(application)

    assert payment.pk != in_flight.pk
    assert payment.status == Payment.Status.STARTED
    assert Payment.objects.get(pk=in_flight.pk).status == Payment.Status.FAILED


@pytest.mark.parametrize(
    "fields",
    [
        {"payment_id": "../../admin"},
        {"payment_id": "abc\n"},
        {"payment_id": "x" * 65},
        {"payment_id": 12345},
        {"next_url": "javascript:alert(1)"},
        {"next_url": "//evil.example/pay"},
        {"next_url": "https://evil.example/pay\r\nSet-Cookie: a=b"},
        {"next_url": "https://evil.example/" + "a" * 500},
        {"state": "paid-in-full"},
    ],
)
def test_a_hostile_provider_answer_is_refused(hosted: LoopbackPayProvider, fields: dict[str, Any]) -> None:
    application = _application()
    hosted.tamper(**fields)

    with pytest.raises(DomainError) as excinfo:
        _start(application)

    assert _error(excinfo) == ("payment_provider_invalid", 502)
    kept = Payment.objects.get(application=application)
    assert (kept.status, kept.provider_id, kept.next_url) == ("failed", "", "")


def test_a_provider_id_is_checked_before_it_goes_into_a_url(hosted: LoopbackPayProvider) -> None:
    provider = payments.payment_provider()
    assert provider is not None

    with pytest.raises(DomainError) as excinfo:
        provider.status(provider_id="../v1/payments")

    assert excinfo.value.code == "invalid_provider_id"


def test_paid_after_cancelling_here_is_still_recorded(hosted: LoopbackPayProvider) -> None:
    application = _application()
    payment = _start(application)
    payment_cancel(payment=payment)

    # The provider's page was still open and the citizen paid on it.
    hosted.complete(payment.provider_id, "success")

    assert payment_refresh(payment=payment).status == Payment.Status.SUCCESS
    assert application_paid(application=application)


def test_a_paid_payment_never_goes_back(hosted: LoopbackPayProvider) -> None:
    payment = _start(_application())
    hosted.complete(payment.provider_id, "success")
    payment = payment_refresh(payment=payment)
    hosted.tamper(state="failed")

    assert payment_refresh(payment=payment).status == Payment.Status.SUCCESS
    with pytest.raises(DomainError) as excinfo:
        payment_cancel(payment=payment)
    assert _error(excinfo) == ("already_paid", 409)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCESS


def test_officer_confirms_cash_at_the_counter() -> None:
    application = _application()

    payment = payment_start_counter(application=application, amount=1250, currency="XAD")

    assert (payment.method, payment.status) == ("counter", "started")
    assert not application_paid(application=application)
    assert payment_start_counter(application=application, amount=1250, currency="XAD").pk == payment.pk

    confirmed = payment_confirm_counter(payment=payment, officer="clerk.one")

    assert (confirmed.status, confirmed.confirmed_by) == ("success", "clerk.one")
    assert application_paid(application=application)
    with pytest.raises(DomainError) as excinfo:
        payment_confirm_counter(payment=payment, officer="clerk.two")
    assert _error(excinfo) == ("payment_not_started", 409)
    assert Payment.objects.get(pk=payment.pk).confirmed_by == "clerk.one"


def test_officer_cannot_confirm_a_hosted_payment(hosted: LoopbackPayProvider) -> None:
    payment = _start(_application())

    with pytest.raises(DomainError) as excinfo:
        payment_confirm_counter(payment=payment, officer="clerk.one")

    assert _error(excinfo) == ("not_counter_payment", 409)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.STARTED


def test_officer_cannot_confirm_a_cancelled_counter_payment() -> None:
    payment = payment_start_counter(application=_application(), amount=1250, currency="XAD")
    payment_cancel(payment=payment)
    payment_cancel(payment=payment)

    with pytest.raises(DomainError) as excinfo:
        payment_confirm_counter(payment=payment, officer="clerk.one")

    assert _error(excinfo) == ("payment_not_started", 409)


def test_no_cash_is_taken_once_paid_online(hosted: LoopbackPayProvider) -> None:
    application = _application()
    at_counter = payment_start_counter(application=application, amount=1250, currency="XAD")
    online = _start(application)
    hosted.complete(online.provider_id, "success")
    payment_refresh(payment=online)

    with pytest.raises(DomainError) as excinfo:
        payment_confirm_counter(payment=at_counter, officer="clerk.one")

    assert _error(excinfo) == ("already_paid", 409)
    assert Payment.objects.get(pk=at_counter.pk).status == Payment.Status.STARTED


def test_hosted_payments_off_without_a_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOV21_PAY_URL", raising=False)
    application = _application()

    assert payments.payment_provider() is None
    with pytest.raises(DomainError) as excinfo:
        _start(application)

    assert _error(excinfo) == ("hosted_payments_off", 409)
    assert not Payment.objects.filter(application=application).exists()
    assert payment_start_counter(application=application, amount=1250, currency="XAD").status == "started"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": True}, "amount"),
        ({"currency": "xad"}, "currency"),
        ({"description": " "}, "description"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
    ],
)
def test_bad_input_names_the_field(hosted: LoopbackPayProvider, changes: dict[str, object], field: str) -> None:
    application = _application()
    arguments: dict[str, object] = {
        "amount": 1250,
        "currency": "XAD",
        "description": "Driving licence renewal",
        "return_url": RETURN_URL,
        **changes,
    }

    with pytest.raises(DomainError) as excinfo:
        payment_start_hosted(application=application, **arguments)  # type: ignore[arg-type]

    assert (excinfo.value.status, excinfo.value.field) == (422, field)
    assert hosted.payments == {}
    assert not Payment.objects.filter(application=application).exists()


def test_the_provider_api_wants_its_key_and_valid_input(pay_provider: LoopbackPayProvider) -> None:
    body = {"amount": 1250, "reference": "A-1", "description": "Fee", "return_url": RETURN_URL}

    no_key = httpx.post(f"{pay_provider.url}/v1/payments", json=body)
    bad = httpx.post(
        f"{pay_provider.url}/v1/payments",
        json={**body, "return_url": "ftp://x"},
        headers={"Authorization": f"Bearer {pay_provider.key}"},
    )

    assert no_key.status_code == 401
    assert bad.status_code == 400
    assert bad.json()["field"] == "return_url"
    assert pay_provider.payments == {}
