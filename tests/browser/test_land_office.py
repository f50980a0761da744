"""The land registry's office in a real browser: a clerk lodges a transfer on sale, the page of the
transaction says it waits, the parcel's page draws its map without script, and axe-core finds no
serious problem on the office's pages."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.test_registrar_flow import _axe_source, _serious_violations
from tests.identity.flows import staff
from tests.land.helpers import first_register, owners, person, rect, square

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


def _wkt(geometry: dict[str, object]) -> str:
    from shapely.geometry import shape

    return str(shape(geometry).wkt)


def _axe_or_skip() -> str:
    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    return axe


def test_a_clerk_lodges_a_first_registration_with_its_survey_plan(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    owner = person()
    _sign_in(page, live_server.url)
    page.get_by_role("link", name="Lodge a first registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lodge a first registration")
    axe = _axe_or_skip()
    assert _serious_violations(page, axe) == [], page.url
    page.get_by_label("Parish").select_option("XA-01")
    page.get_by_label("Boundary (GeoJSON or WKT)").fill("POLYGON ((-63.1 14.0, -63.099 14.001))")
    page.get_by_label("Owners and their shares").fill(f"{owner.uin} 1/1")
    page.get_by_role("button", name="Lodge", exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text("neither GeoJSON nor WKT")
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert _serious_violations(page, axe) == [], "the form with its errors"
    plan = tmp_path / "survey.pdf"
    plan.write_bytes(b"%PDF-1.4\nsurvey plan of the lot\n%%EOF\n")
    boundary = tmp_path / "lot.geojson"
    boundary.write_text(json.dumps(square(90, 0)))
    page.get_by_label("Boundary (GeoJSON or WKT)").fill("")
    page.get_by_label("Or the boundary as a file").set_input_files(str(boundary))
    page.get_by_label("Kind of document 1").select_option("survey_plan")
    page.get_by_label("File of document 1").set_input_files(str(plan))
    page.get_by_role("button", name="Show it on the map").click()
    expect(page.locator("[data-geo-map]")).to_be_visible()
    expect(page.locator("main")).to_contain_text("The new parcel")
    expect(page.locator("main")).to_contain_text("survey.pdf")  # kept: not asked for again
    assert _serious_violations(page, axe) == [], "the preview with its map"
    page.get_by_label("Or the boundary as a file").set_input_files(str(boundary))
    page.get_by_role("button", name="Lodge", exact=True).click()
    expect(page.locator("#state")).to_have_text("Lodged")
    expect(page.locator("main")).to_contain_text("survey.pdf")


def test_a_clerk_sees_a_subdivisions_gap_on_the_map_and_lodges_it_mended(page: Page, live_server: LiveServer) -> None:
    owner = person()
    number = first_register(rect(94, 0, 96, 1), owners((owner, "1/1")))
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/office/land/parcels/{number}/")
    page.get_by_role("link", name="Lodge a subdivision of this parcel").click()
    expect(page.get_by_label("Parcel to divide")).to_have_value(number)
    axe = _axe_or_skip()
    assert _serious_violations(page, axe) == [], page.url
    page.get_by_label("UIN of the registered owner").fill(owner.uin)
    parts = page.get_by_label("The new parcels (GeoJSON or WKT)")
    parts.fill("\n".join([_wkt(rect(94, 0, 95, 1)), _wkt(rect(95, 0, 95.7, 1))]))
    page.get_by_role("button", name="Lodge", exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text("they must cover all of it")
    expect(page.locator("main")).to_contain_text("Not covered by any part")
    expect(page.locator("[data-geo-map]")).to_be_visible()
    assert _serious_violations(page, axe) == [], "the subdivision's faults on the map"
    parts.fill("\n".join([_wkt(rect(94, 0, 95, 1)), _wkt(rect(95, 0, 96, 1))]))
    page.get_by_role("button", name="Lodge", exact=True).click()
    expect(page.locator("#state")).to_have_text("Lodged")


def test_the_lodging_pages_work_without_script(browser: Browser, live_server: LiveServer) -> None:
    owner = person()
    number = first_register(rect(97, 0, 99, 1), owners((owner, "1/1")))
    context = browser.new_context(java_script_enabled=False, locale="en")
    page = context.new_page()
    try:
        _sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/office/land/lodge/subdivision/?parcel={number}")
        page.get_by_label("UIN of the registered owner").fill(owner.uin)
        page.get_by_label("The new parcels (GeoJSON or WKT)").fill(
            "\n".join([_wkt(rect(97, 0, 98.3, 1)), _wkt(rect(98, 0, 99, 1))])
        )
        page.get_by_role("button", name="Show it on the map").click()
        expect(page.locator("[data-geo-map] svg").first).to_be_visible()  # the server's drawing
        expect(page.locator("main")).to_contain_text("Overlap of 1 and 2")
    finally:
        context.close()
