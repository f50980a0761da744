"""The readiness report in a real browser: the regional ranking and a country's page read without
JavaScript, fit a 320 px phone screen, and axe-core finds no serious problem in them."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.test_registrar_flow import _axe_source, _serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = ("/readiness/", "/readiness/?year=2016&group=cariforum", "/readiness/countries/JAM/")


@pytest.fixture
def surveys(db: None) -> None:
    from gov21.readiness.contracts import egdi_shipped_load

    egdi_shipped_load()


@pytest.mark.usefixtures("surveys")
def test_the_report_reads_without_javascript_on_a_phone(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 640}, locale="en")
    page = context.new_page()
    try:
        for path in PAGES:
            page.goto(f"{live_server.url}{path}")
            expect(page.locator("main h1")).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, f"{path} scrolls sideways ({width} px)"
        page.goto(f"{live_server.url}/readiness/")
        expect(page.locator("main table").first).to_contain_text("Barbados")
    finally:
        context.close()


@pytest.mark.usefixtures("surveys")
def test_the_report_has_no_serious_accessibility_problems(page: Page, live_server: LiveServer) -> None:
    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        assert _serious_violations(page, axe) == [], path
