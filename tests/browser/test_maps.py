"""The shared map in a real browser. With script, MapLibre (served by the platform) draws the platform's
own vector tiles, every tile request answers 200 and nothing breaks the page's Content-Security-Policy;
without script, the server's SVG and the table are there. axe-core finds no serious problem in either."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect
from pytest_django.live_server_helper import LiveServer

from gov21.geo.maps import maplibre_installed
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_registrar_flow import _axe_source, _serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# WebGL without a GPU: Chromium's software renderer (SwiftShader), which it no longer falls back to unasked.
WEBGL_ARGS = [arg for arg in CHROMIUM_ARGS if arg != "--disable-gpu"] + [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
ITEMS = "/geo/collections/parishes/items?limit=20"
ITEM = "/geo/collections/parishes/items/XA-11"


def _required(ok: bool, reason: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def webgl_browser(browser: Browser) -> Iterator[Browser]:
    """Chromium as the suite's, with software WebGL (one Playwright per process: the suite's)."""
    webgl = browser.browser_type.launch(executable_path=str(CHROMIUM), args=WEBGL_ARGS)
    yield webgl
    webgl.close()


def test_with_script_the_map_draws_the_platforms_own_tiles(webgl_browser: Browser, live_server: LiveServer) -> None:
    _required(maplibre_installed(), "MapLibre GL JS is not installed: run python -m gov21.geo.vendor")
    axe, origin = _axe_source()
    _required(axe is not None, origin)
    assert axe is not None
    context = webgl_browser.new_context(locale="en")
    page: Page = context.new_page()
    page.set_default_timeout(20_000)
    responses: list[Response] = []
    refused: list[str] = []
    page.on("response", lambda response: responses.append(response))
    page.on("requestfailed", lambda request: refused.append(f"failed: {request.url}"))

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            refused.append(message.text)

    page.on("console", console)
    try:
        for path in (ITEMS, ITEM):
            responses.clear()
            page.goto(f"{live_server.url}{path}")
            figure = page.locator("[data-geo-map]")
            expect(figure).to_have_attribute("data-geo-map", "maplibre")
            expect(page.locator(".geo-map-canvas canvas.maplibregl-canvas")).to_be_visible()
            # The server's drawing steps aside for the live map; the page's table stays.
            expect(page.locator("svg.geo-map")).to_be_hidden()
            page.wait_for_load_state("networkidle")
            tiles = [r for r in responses if "/geo/tiles/WebMercatorQuad/" in r.url]
            assert tiles, [r.url for r in responses]
            assert all(r.status == 200 for r in tiles), [(r.url, r.status) for r in tiles if r.status != 200]
            assert all(r.url.startswith(live_server.url) for r in responses), "a request left the platform"
            assert refused == [], refused
            assert _serious_violations(page, axe) == [], path
        expect(page.locator("table.geo-features")).to_contain_text("Cassia")
    finally:
        context.close()


def test_without_script_the_map_is_the_svg_and_the_table(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{ITEM}")
        expect(page.get_by_role("img", name="XA-11")).to_be_visible()
        table = page.locator("table.geo-features")
        expect(table).to_be_visible()
        expect(table.locator("caption")).to_have_text("On the map: XA-11")
        expect(table.locator("tbody tr")).to_have_text(["XA-11 Cassia"], use_inner_text=True)
        expect(page.locator(".geo-map-canvas")).to_be_hidden()
        page.goto(f"{live_server.url}{ITEMS}")
        expect(page.get_by_role("group", name="Parishes")).to_be_visible()
        expect(page.locator("svg.geo-map a")).to_have_count(12)
    finally:
        context.close()


def test_when_maplibre_cannot_load_the_page_keeps_the_svg_and_stays_accessible(
    browser: Browser, live_server: LiveServer
) -> None:
    """What a reader gets when MapLibre was never installed or does not arrive: the page as without
    script (axe-core needs script to run, so this is where the script-less page is checked)."""
    axe, origin = _axe_source()
    _required(axe is not None, origin)
    assert axe is not None
    context = browser.new_context(locale="en")
    page = context.new_page()
    page.route("**/geo/map/maplibre-gl.mjs", lambda route: route.abort())
    try:
        for path in (ITEM, ITEMS):
            page.goto(f"{live_server.url}{path}")
            if maplibre_installed():
                expect(page.locator("[data-geo-map]")).to_have_attribute("data-geo-map", "svg")
            expect(page.locator(".geo-map-canvas")).to_have_count(0)
            expect(page.locator("svg.geo-map")).to_be_visible()
            assert _serious_violations(page, axe) == [], path
        expect(page.get_by_role("group", name="Parishes")).to_be_visible()
    finally:
        context.close()
