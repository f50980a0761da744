"""'My property' in a real browser: a citizen who owns a parcel with a mortgage signs in, finds the
page from their account, sees the parcel, their share and its map, gets a signed extract, and
axe-core finds no serious problem on either page."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gov21.land.records import MortgageFacts, PartyRef
from tests.browser.test_registrar_flow import _axe_source, _serious_violations
from tests.identity.flows import citizen_of
from tests.land.helpers import complete, first_register, lodge, owners, person, ref, square

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_citizen_sees_their_land_and_gets_an_extract_on_accessible_pages(page: Page, live_server: LiveServer) -> None:
    registered, partner = person(), person()
    number = first_register(square(50, 0), owners((registered, "1/2"), (partner, "1/2")))
    bank = PartyRef(kind="agency", identifier="MSD")
    complete(lodge(MortgageFacts(parcel=number, applicant=ref(registered), lender=bank, amount_cents=9_000_000)))
    owner = citizen_of(registered.uin)

    page.goto(f"{live_server.url}/sign-in?next=/my/")
    page.fill("#identifier", owner.identifier)
    page.fill("#password", owner.password)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#code", owner.code())
    page.get_by_role("button", name="Confirm").click()
    page.click("#allow")
    page.wait_for_url(re.compile(r"/my/$"))
    page.get_by_role("link", name="My property").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My property")
    section = page.locator(f"#parcel-{number}")
    expect(section.locator(".share")).to_have_text("1/2")
    expect(section).to_contain_text("Mortgage")
    expect(section.locator("[data-geo-map]")).to_be_visible()  # drawn on the server, or by MapLibre
    property_url = page.url

    page.get_by_role("button", name=f"Get a signed extract of the title of parcel {number}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Extract of title from the land register")
    expect(page.locator("#extract-serial")).to_have_text(re.compile(r"^LT-"))
    page.get_by_role("button", name="Check it now").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "valid")

    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    page.goto(property_url)
    expect(page.locator(f"#parcel-{number}")).to_be_visible()
    assert _serious_violations(page, axe) == [], property_url
    page.get_by_role("button", name=f"Get a signed extract of the title of parcel {number}").click()
    expect(page.locator("#extract-serial")).to_be_visible()
    assert _serious_violations(page, axe) == [], page.url
