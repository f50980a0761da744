"""An officer imports an agency's file into the record linkage in a real browser: a file with a
mapping that names a missing column is refused with the command's message beside the mapping field,
the same file without the mapping is imported, and its unreadable row is listed with its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gov21.linkage.models import Record
from tests.browser.test_registrar_flow import _axe_source, _serious_violations
from tests.identity.flows import staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = (
    "record_id,given_names,surname,date_of_birth,sex,address,settlement\n"
    "C-1,Ruth,Charles,04/03/1990,F,1 Bay Street,Port Royal\n"
    "C-2,Mary,Joseph,31/02/1975,F,3 Church Street,Port Royal\n"
    "C-3,Jon,Baptiste,1988-06-06,M,7 Hill Road,Port Royal\n"
)


def _sign_in(page: Page, base: str) -> None:
    person = staff("link.browser", "registrar")
    page.goto(f"{base}/sign-in?next=/office/linkage/")
    page.fill("#identifier", person.identifier)
    page.fill("#password", person.password)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#code", person.code())
    page.get_by_role("button", name="Confirm").click()
    page.click("#allow")
    page.wait_for_url(re.compile(r"/office/linkage/$"))


def test_an_officer_imports_an_agencys_file_and_reads_what_could_not_be_read(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    clinic = tmp_path / "clinic-2009.csv"
    clinic.write_text(ROWS, encoding="utf-8")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("record_id: patient_no\n", encoding="utf-8")
    _sign_in(page, live_server.url)
    page.get_by_role("link", name="Import an agency's file").click()
    expect(page.get_by_role("heading", name="Import an agency's file")).to_be_visible()
    page.get_by_label("Source").fill("clinic-2009")
    page.get_by_label("Agency").fill("MSD")
    page.get_by_label("File", exact=True).set_input_files(str(clinic))
    page.get_by_label("Mapping of columns (optional)").set_input_files(str(mapping))
    page.get_by_role("button", name="Import the file").click()
    expect(page.get_by_role("alert")).to_contain_text("patient_no")
    expect(page.locator(".field-error")).to_contain_text("patient_no")
    assert not Record.objects.exists()
    axe, _why = _axe_source()
    if axe is not None:
        assert _serious_violations(page, axe) == []
    # Without the mapping the columns are recognised by name.
    page.get_by_label("Source").fill("clinic-2009")
    page.get_by_label("Agency").fill("MSD")
    page.get_by_label("File", exact=True).set_input_files(str(clinic))
    page.get_by_role("button", name="Import the file").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("2 new records.")
    expect(status).to_contain_text("1 row could not be read.")
    row = page.get_by_role("row").filter(has_text="3")
    expect(row.first).to_be_visible()
    assert sorted(Record.objects.values_list("record_id", flat=True)) == ["C-1", "C-3"]
    page.get_by_role("link", name="Go to the source").click()
    expect(page.get_by_role("heading", name="Source clinic-2009")).to_be_visible()
