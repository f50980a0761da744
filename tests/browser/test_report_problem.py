"""Reporting a problem in a real browser, the way the public does it: choose the category, place it
(with script by clicking the map, without script by choosing the settlement and street), add a photo,
send, and follow the status as the agency closes it. axe-core finds no serious problem on the way."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from gov21.concerns.categories import categories_load
from gov21.concerns.models import Report
from gov21.geo.maps import maplibre_installed
from tests.browser.test_maps import _required, webgl_browser  # noqa: F401
from tests.browser.test_registrar_flow import _axe_source, _serious_violations
from tests.concerns.helpers import PWD, call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _desk(exchange: None) -> None:
    categories_load()  # a transactional test's flush empties what the migration loaded


def _photo() -> dict[str, object]:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 120, 200)).save(out, format="JPEG")
    return {"name": "light.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def _follow_until_closed(page: Page, live_server: LiveServer) -> None:
    match = re.search(r"/reports/(\d+)/$", page.url)
    assert match, page.url
    report = Report.objects.get(pk=int(match.group(1)))
    assert report.photos.count() == 1
    expect(page.get_by_text("Open", exact=True).first).to_be_visible()
    body = json.dumps({"status": "closed", "public_update": "The lamp was replaced."}).encode()
    assert call(PWD, f"/reports/{report.pk}/actions", method="POST", body=body).status == 200
    page.reload()
    expect(page.get_by_text("Closed", exact=True).first).to_be_visible()
    expect(page.get_by_text("The lamp was replaced.", exact=True)).to_be_visible()


def test_with_script_a_click_on_the_map_places_the_report(webgl_browser: Browser, live_server: LiveServer) -> None:  # noqa: F811
    _required(maplibre_installed(), "MapLibre GL JS is not installed: run python -m gov21.geo.vendor")
    axe, origin = _axe_source()
    _required(axe is not None, origin)
    assert axe is not None
    context = webgl_browser.new_context(locale="en")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{live_server.url}/report/")
        expect(page.locator("[data-geo-map]")).to_have_attribute("data-geo-map", "maplibre")
        assert _serious_violations(page, axe) == []
        page.get_by_label("What is the problem?").select_option("street-light")
        canvas = page.locator(".geo-map-canvas canvas.maplibregl-canvas")
        expect(canvas).to_be_visible()
        page.wait_for_load_state("networkidle")
        canvas.click()  # its centre: the middle of the country's settlements
        expect(page.get_by_label("Latitude (optional)")).not_to_have_value("")
        expect(page.locator(".maplibregl-marker")).to_have_count(1)
        lat = float(page.get_by_label("Latitude (optional)").input_value())
        lon = float(page.get_by_label("Longitude (optional)").input_value())
        page.get_by_label("Describe the problem").fill("The lamp is out.")
        page.get_by_label("Photos (optional)").set_input_files([_photo()])  # type: ignore[list-item]
        page.get_by_role("button", name="Send the report").click()
        expect(page).to_have_url(re.compile(r"/reports/\d+/$"))
        report = Report.objects.order_by("-pk").first()
        assert report is not None
        assert report.lat == pytest.approx(lat, abs=1e-6) and report.lon == pytest.approx(lon, abs=1e-6)
        assert report.parish
        assert _serious_violations(page, axe) == []
        _follow_until_closed(page, live_server)
    finally:
        context.close()


def test_without_script_the_settlement_and_street_place_the_report(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/report/")
        expect(page.locator("svg.geo-map")).to_be_visible()
        expect(page.locator(".geo-map-canvas")).to_be_hidden()
        page.get_by_label("What is the problem?").select_option("street-light")
        where = page.get_by_label("Where is it?")
        where.select_option(index=1)
        page.get_by_label("Street or landmark").fill("Bay Street")
        page.get_by_label("Describe the problem").fill("The lamp is out.")
        page.get_by_label("Photos (optional)").set_input_files([_photo()])  # type: ignore[list-item]
        page.get_by_role("button", name="Send the report").click()
        expect(page).to_have_url(re.compile(r"/reports/\d+/$"))
        report = Report.objects.order_by("-pk").first()
        assert report is not None and "Bay Street" in report.address and report.lat is not None
        _follow_until_closed(page, live_server)
    finally:
        context.close()


def test_without_script_a_missing_place_is_a_clear_error_on_the_form(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/report/")
        page.get_by_label("What is the problem?").select_option("street-light")
        page.get_by_label("Describe the problem").fill("The lamp is out.")
        page.get_by_role("button", name="Send the report").click()
        expect(page).to_have_title(re.compile("^Error:"))
        expect(page.get_by_text("Choose the place, or give its latitude and longitude.").first).to_be_visible()
        assert Report.objects.count() == 0
    finally:
        context.close()
