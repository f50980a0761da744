"""The land registry's office in a real browser: a clerk lodges a transfer on sale, the page of the
transaction says it waits, the parcel's page draws its map without script, and axe-core finds no
serious problem on the office's pages."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.test_registrar_flow import _axe_source, _serious_violations
from tests.identity.flows import staff
from tests.land.helpers import first_register, owners, person, square

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str) -> None:
    clerk = staff("land.browser", "clerk")
    page.goto(f"{base}/sign-in?next=/office/land/")
    page.fill("#identifier", clerk.identifier)
    page.fill("#password", clerk.password)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#code", clerk.code())
    page.get_by_role("button", name="Confirm").click()
    page.click("#allow")
    page.wait_for_url(re.compile(r"/office/land/$"))


def test_a_clerk_lodges_a_transfer_and_the_pages_are_accessible(page: Page, live_server: LiveServer) -> None:
    seller, buyer = person(), person()
    number = first_register(square(0, 0), owners((seller, "1/1")))
    _sign_in(page, live_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Land register")
    page.get_by_role("link", name="Lodge a transfer on sale").click()
    page.get_by_label("Parcel number").fill(number)
    page.get_by_label("UIN of the registered owner who sells").fill(seller.uin)
    page.get_by_label("Buyers and their shares").fill(f"{buyer.uin} 1/2")
    page.get_by_role("button", name="Lodge").click()
    expect(page.locator(".error-summary")).to_contain_text("add up to 1/2")
    page.get_by_label("Buyers and their shares").fill(f"{buyer.uin} 1/1")
    page.get_by_role("button", name="Lodge").click()
    expect(page.locator("#state")).to_have_text("Lodged")
    transaction_page = page.url
    page.get_by_role("link", name=number).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Parcel {number}")
    expect(page.locator("[data-geo-map]")).to_be_visible()  # the map: drawn on the server, or by MapLibre
    expect(page.locator("main")).to_contain_text(seller.uin)
    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    for url in (
        f"{live_server.url}/office/land/",
        f"{live_server.url}/office/land/lodge/transfer/",
        f"{live_server.url}/office/land/lodge/mortgage/",
        transaction_page,
        f"{live_server.url}/office/land/parcels/{number}/",
    ):
        page.goto(url)
        assert _serious_violations(page, axe) == [], url
