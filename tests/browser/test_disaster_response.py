"""Disaster response in a real browser: a supervisor declares a hurricane by pasting its area, sees
the assets and residents it struck, records damage with a photograph and reads the cost; every page
of the asset register and of disaster response passes axe-core."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gov21.core.principal import Principal
from tests.assets.factories import asset, point
from tests.browser.test_registrar_flow import _axe_source, _serious_violations
from tests.identity.flows import staff
from tests.registry.factories import register_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REGISTRAR = Principal(name="setup", kind="staff", roles=frozenset({"registrar"}))
AREA = {
    "type": "Polygon",
    "coordinates": [[[-63.14, 14.22], [-63.10, 14.22], [-63.10, 14.245], [-63.14, 14.245], [-63.14, 14.22]]],
}


def _sign_in(page: Page, base: str) -> None:
    person = staff("ndmo.browser", "supervisor")
    page.goto(f"{base}/sign-in?next=/office/disasters/")
    page.fill("#identifier", person.identifier)
    page.fill("#password", person.password)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#code", person.code())
    page.get_by_role("button", name="Confirm").click()
    page.click("#allow")
    page.wait_for_url(re.compile(r"/office/disasters/$"))


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "roof.jpg"
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_a_hurricane_is_declared_its_damage_recorded_and_costed(
    page: Page, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV21_DATA_DIR", str(tmp_path))
    asset(code="SH-PC", name="Port Clement shelter", kind="shelter", capacity=150, agency="NDMO",
          replacement_value_cents=4_000_000, geometry=point(-63.12, 14.23))  # fmt: skip
    asset(code="SCH-N", name="Cassia school", geometry=point(-62.77, 14.63))
    register_person(REGISTRAR, address_parish="XA-01", address_settlement="Port Clement")
    _sign_in(page, live_server.url)

    page.get_by_role("link", name="Declare a disaster").click()
    page.get_by_label("Name", exact=True).fill("Hurricane Ada")
    page.get_by_label("Kind").select_option("hurricane")
    page.get_by_label("Day it struck").fill("2026-09-01")
    page.get_by_label("Area struck (GeoJSON)").fill("{not geojson")
    page.get_by_role("button", name="Declare and show what it struck").click()
    expect(page.locator(".error-summary")).to_contain_text("The file is not JSON")
    page.get_by_label("Area struck (GeoJSON)").fill(json.dumps(AREA))
    page.get_by_role("button", name="Declare and show what it struck").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hurricane Ada")
    assets = page.get_by_role("table", name="Public assets the area touches")
    expect(assets).to_contain_text("Port Clement shelter")
    expect(assets).not_to_contain_text("Cassia school")
    expect(page.get_by_role("table", name="Residents of the settlements inside the area")).to_contain_text(
        "Port Clement"
    )
    expect(page.locator("dl.summary")).to_contain_text("150")
    expect(page.locator("[data-geo-map]")).to_be_visible()  # the map: drawn on the server, or by MapLibre

    page.get_by_label("Asset code").fill("SH-PC")
    page.get_by_label("Damage", exact=True).select_option("destroyed")
    page.get_by_label("Notes").fill("Roof and walls gone")
    page.get_by_label("Photographs").set_input_files(str(_photo(tmp_path)))
    page.get_by_role("button", name="Record the damage").click()

    expect(page.locator("main [role=status]").first).to_contain_text("The damage assessment is recorded.")
    expect(page.get_by_role("table", name="Damage by owning agency")).to_contain_text("40,000.00")
    photo = page.get_by_role("link", name="Photo 1")
    expect(photo).to_be_visible()
    response = page.request.get(f"{live_server.url}{photo.get_attribute('href')}")
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"


def test_the_asset_and_disaster_pages_have_no_serious_accessibility_problems(
    page: Page, live_server: LiveServer
) -> None:
    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    asset(code="SCH-AX", name="Axe school", geometry=point(-63.12, 14.23))
    _sign_in(page, live_server.url)
    for path in ("/office/disasters/", "/office/disasters/declare", "/office/assets/", "/office/assets/add",
                 "/office/assets/SCH-AX"):  # fmt: skip
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main h1")).to_be_visible()
        assert _serious_violations(page, axe) == [], path
    page.goto(f"{live_server.url}/office/disasters/declare")
    page.get_by_role("button", name="Declare and show what it struck").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert _serious_violations(page, axe) == [], "declare with errors"
    page.get_by_label("Name", exact=True).fill("Flood")
    page.get_by_label("Day it struck").fill("2026-09-01")
    page.get_by_label("Area struck (GeoJSON)").fill(json.dumps(AREA))
    page.get_by_role("button", name="Declare and show what it struck").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Flood")
    assert _serious_violations(page, axe) == [], "impact"


def test_an_officer_states_a_purpose_and_reads_the_residents_by_name_with_no_accessibility_problem(
    page: Page, live_server: LiveServer
) -> None:
    from gov21.assets import services
    from gov21.assets.records import EventFacts
    from tests.assets.factories import OFFICER

    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    register_person(REGISTRAR, given="Rose", family="Auguste", address_parish="XA-01",
                    address_settlement="Port Clement", address_line="3 Harbour Street")  # fmt: skip
    event = services.disaster_declare(
        facts=EventFacts(name="Flood Bea", kind="flood", occurred_on=date(2026, 9, 1)),
        area=services.area_parse(json.dumps(AREA)),
        actor=OFFICER,
    )
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/office/disasters/{event.pk}")
    expect(page.locator("main")).not_to_contain_text("Auguste")

    page.get_by_role("link", name="Residents by name, for a purpose you state").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Residents by name")
    assert _serious_violations(page, axe) == [], "purpose"
    page.get_by_role("button", name="State the purpose and show the names").click()
    expect(page.locator(".error-summary")).to_contain_text("Choose the purpose for which you need the names.")
    assert _serious_violations(page, axe) == [], "purpose with errors"
    page.get_by_label("Purpose").select_option("welfare_check")
    page.get_by_label("Why you need the names").fill("Checking on the elderly after the flood")
    page.get_by_label("Where").select_option(label="Port Clement (Port Clement)")
    page.get_by_role("button", name="State the purpose and show the names").click()

    names = page.get_by_role("table", name=re.compile("Residents by address"))
    expect(names).to_contain_text("Auguste, Rose")
    expect(page.locator("dl.summary")).to_contain_text("Welfare check")
    assert _serious_violations(page, axe) == [], "names"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download every resident listed (CSV)").click()
    assert "Auguste" in Path(download.value.path()).read_text(encoding="utf-8")
