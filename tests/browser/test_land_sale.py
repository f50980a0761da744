"""Register the sale of land in a real browser, with JavaScript on and off: the seller applies with
the parcel the land register shows them owning, the buyer signs in and confirms, the seller pays
online, two land registrars check and register the transfer in the land office, the register's event
completes the application, and the buyer sees the parcel in My property. axe-core checks every page
of ours visited."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from gov21.exchange.pubsub import deliveries_run
from gov21.onestop.models import Application
from gov21.registry.models import Person as Registered
from tests.browser import test_services_flows as flows
from tests.browser.test_more_services import pay_online
from tests.browser.test_services_flows import (
    JAVASCRIPT,
    Browsing,
    _path,
    answer,
    check_and_send,
    sign_in,
    start_service,
    submit,
    visit,
)
from tests.identity.flows import Person, citizen, staff
from tests.land.helpers import first_register, owners, square
from tests.onestop import conftest as services_conftest
from tests.onestop.payprovider import LoopbackPayProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_services = flows._services
auditor = flows.auditor
browsing = flows.browsing
pay_provider = services_conftest.pay_provider


def _land_officer_acts(page: Page, base: str, officer: Person, number: str, button: str) -> None:
    """A land registrar signs in to the land office and acts on the transaction's page."""
    page.goto(f"{base}/sign-in?next=/office/land/transactions/{number}/")
    sign_in(page, officer)
    assert _path(page.url) == f"/office/land/transactions/{number}/", page.url
    submit(page, page.get_by_role("button", name=button, exact=True), f"/office/land/transactions/{number}/")


@JAVASCRIPT
def test_a_sale_of_land_from_the_seller_to_the_buyers_property(
    browsing: Browsing, javascript: bool, pay_provider: LoopbackPayProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV21_PAY_URL", pay_provider.url)
    monkeypatch.setenv("GOV21_PAY_KEY", pay_provider.key)
    seller = citizen(given="Marisol", family="Joseph", born=date(1968, 3, 3))
    buyer = citizen(given="Dion", family="Alexander", born=date(1985, 5, 5))
    parcel = first_register(square(90, 0), owners((Registered.objects.get(uin=seller.identifier), "1/1")))

    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/services/land-sale")
    reference = start_service(page, seller, "land-sale")
    # The seller's only parcel is filled in from the land register: the first question is the buyer.
    assert _path(page.url) == f"/apply/{reference}/q/buyer_uin", page.url
    answer(
        page,
        {
            "buyer_uin": buyer.identifier,
            "price": "180000",
            "sale_date": timezone.localdate(),
            "email": "",
        },
    )
    check_and_send(page, reference, [parcel, buyer.identifier, "180000"])
    assert page.locator("#state").inner_text() == "Waiting for the other party to confirm"
    assert "confirm" in page.locator("#what-next").inner_text()

    # The buyer reads the request in their inbox and confirms.
    other = browsing.open(javascript=javascript)
    other.goto(f"{browsing.base}/sign-in?next=/my/inbox")
    sign_in(other, buyer)
    assert _path(other.url) == "/my/inbox", other.url
    message = other.locator("#messages li", has_text="Confirm your purchase of land")
    submit(other, message.get_by_role("link", name="Open"))
    assert _path(other.url) == f"/my/confirmations/{reference}", other.url
    assert "Marisol Joseph" in other.locator("main").inner_text()
    submit(other, other.locator("#confirm"), f"/my/confirmations/{reference}")
    assert other.locator("#confirm").count() == 0

    # The seller pays online; the transfer is lodged with the land register.
    visit(page, f"{browsing.base}/my/applications/{reference}")
    submit(page, page.locator("#pay-link"), f"/apply/{reference}/pay")
    pay_online(page, pay_provider, reference, "150.00")
    assert "Application approved" in page.locator("#confirmation").inner_text()
    number = Application.objects.get(reference=reference).external_ref
    assert re.fullmatch(r"L-\d{4}-\d{6}", number), number

    # Two land registrars: one checks, another registers (four eyes).
    desk = browsing.open(javascript=javascript)
    _land_officer_acts(desk, browsing.base, staff("land.checker.sale", "registrar"), number, "Mark as checked")
    second = browsing.open(javascript=javascript)
    _land_officer_acts(second, browsing.base, staff("land.registrar.sale", "registrar"), number, "Register")
    assert second.locator("#state").inner_text() == "Registered"
    assert deliveries_run() >= 1

    visit(page, f"{browsing.base}/my/applications/{reference}")
    assert "Done" in page.locator("#confirmation").inner_text()
    visit(other, f"{browsing.base}/my/property")
    assert other.locator(f"#parcel-{parcel}").count() == 1, other.locator("main").inner_text()
