"""The geographic data pages in a real browser: the map is drawn without JavaScript, a parish on the
map leads to its page, the pages fit a 320 px phone screen, and axe-core finds no serious problem."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.test_registrar_flow import _axe_source, _serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_parish_on_the_map_leads_to_its_page(browser: Browser, live_server: LiveServer) -> None:
    # The map drawn on the server is the map of a page without script (with script, MapLibre takes
    # its place as soon as it has loaded, and the table keeps every link).
    context = browser.new_context(java_script_enabled=False, locale="en")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/geo/collections/parishes/items?limit=20")
        expect(page.get_by_role("heading", level=1)).to_have_text("Parishes")
        expect(page.get_by_role("group", name="Parishes")).to_be_visible()
        expect(page.locator("#counts")).to_contain_text("12 shown of 12 features.")
        page.locator("svg.geo-map a", has=page.locator("title", has_text="Cassia")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("XA-11")
        expect(page.locator("dl.summary")).to_contain_text("Cassia")
    finally:
        context.close()


def test_the_pages_fit_a_phone_without_javascript(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 640}, locale="en")
    page = context.new_page()
    try:
        for path in ("/geo/", "/geo/collections", "/geo/collections/parishes", "/geo/collections/parishes/items"):
            page.goto(f"{live_server.url}{path}")
            expect(page.locator("main h1")).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, f"{path} scrolls sideways ({width} px)"
        box = page.locator("svg.geo-map").bounding_box()
        assert box is not None and box["width"] <= 320 and box["height"] > 100
    finally:
        context.close()


def test_the_geographic_pages_have_no_serious_accessibility_problems(page: Page, live_server: LiveServer) -> None:
    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    for path in (
        "/geo/",
        "/geo/collections/parishes",
        "/geo/collections/parishes/items",
        "/geo/api?f=html",
        "/geo/collections/parishes/queryables?f=html",
        "/geo/collections/settlements/items?f=html&filter=parish_code%3D%27XA-02%27",
    ):
        page.goto(f"{live_server.url}{path}")
        assert _serious_violations(page, axe) == [], path
    page.goto(f"{live_server.url}/geo/collections/parishes/items/XA-01")
    assert _serious_violations(page, axe) == []
    # The map's tiles still loading when the test ends would be queries in flight as the test
    # database is emptied (on PostgreSQL, a deadlock with its TRUNCATE).
    page.wait_for_load_state("networkidle")
