"""The data portal's office in a real browser: a registrar creates a dataset, is told what is wrong
with a bad table, publishes a release, and finds it on the portal; axe-core finds no serious problem
on the office's pages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.test_registrar_flow import _axe_source, _serious_violations
from tests.identity.flows import staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str) -> None:
    registrar = staff("opendata.browser", "registrar")
    page.goto(f"{base}/sign-in?next=/office/opendata/")
    page.fill("#identifier", registrar.identifier)
    page.fill("#password", registrar.password)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#code", registrar.code())
    page.get_by_role("button", name="Confirm").click()
    page.click("#allow")
    page.wait_for_url(re.compile(r"/office/opendata/$"))


def test_a_registrar_publishes_a_dataset_and_the_pages_are_accessible(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    _sign_in(page, live_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Data portal office")
    page.get_by_label("Web address name").fill("clinic-visits")
    page.get_by_label("Title").fill("Clinic visits")
    page.get_by_label("Publishing agency").fill("STATS")
    page.get_by_role("button", name="Create the dataset").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic visits")

    bad = tmp_path / "visits.csv"
    bad.write_bytes(b"clinic,visits\nNorth,=1+2\n")
    page.get_by_label("Table (CSV or XLSX)").set_input_files(str(bad))
    page.get_by_label("What changed").fill("First count.")
    page.get_by_role("button", name="Publish the release").click()
    expect(page.locator(".error-summary")).to_contain_text("formula")

    good = tmp_path / "visits-ok.csv"
    good.write_bytes(b"clinic,visits\nNorth,120\nSouth,95\n")
    page.get_by_label("Table (CSV or XLSX)").set_input_files(str(good))
    page.get_by_label("What changed").fill("First count.")
    page.get_by_role("button", name="Publish the release").click()
    expect(page.locator("main table")).to_contain_text("First count.")
    office_page = page.url
    page.get_by_role("link", name="See it on the portal").click()
    expect(page.locator("main")).to_contain_text("North")

    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    for url in (
        f"{live_server.url}/office/opendata/",
        office_page,
        f"{live_server.url}/office/opendata/harvest/",
        f"{live_server.url}/dataset/clinic-visits",
    ):
        page.goto(url)
        assert _serious_violations(page, axe) == [], url
