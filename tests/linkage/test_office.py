"""The record linkage's office pages through the test client, signed in as staff: the sources and
their quality, the review queue, a record beside its person with the waterfall, decisions, their
reversal, a decision already taken by another officer, and the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from gov21.linkage import services
from gov21.linkage.models import Decision, Record
from tests.identity.flows import portal_sign_in, staff
from tests.linkage.helpers import clinic_rows, population, write_csv

pytestmark = pytest.mark.django_db


def _signed_in(username: str, *roles: str) -> Client:
    client = Client()
    portal_sign_in(client, staff(username, *roles), next_url="/office/linkage/")
    return client


def _linked(tmp_path: Path) -> tuple[dict[str, object], Record]:
    people = population()
    rows = [*clinic_rows(), ["C-6", "Marie", "Joseph", "1977-02-14", "F", "22 Harbour Road", "Port Royal", ""]]
    services.records_import(source="clinic", agency="MSD", path=write_csv(tmp_path / "c.csv", rows))
    services.run_source(source="clinic")
    record = Record.objects.get(record_id="C-3")
    record.status = "review"  # as a run between the thresholds leaves it
    record.save()
    return people, record  # type: ignore[return-value]


def test_an_officer_reviews_a_record_with_its_waterfall_and_decides(tmp_path: Path) -> None:
    people, record = _linked(tmp_path)
    officer = _signed_in("link.officer", "registrar")
    home = officer.get("/office/linkage/")
    assert home.status_code == 200 and b"clinic" in home.content
    source = officer.get("/office/linkage/sources/clinic/")
    assert (
        source.status_code == 200 and b"Distribution of match weights" in source.content and b"<svg" in source.content
    )
    queue = officer.get("/office/linkage/sources/clinic/review/")
    assert f"/office/linkage/records/{record.pk}/".encode() in queue.content
    page = officer.get(f"/office/linkage/records/{record.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert people["mary"].uin in body and 'accesskey="a"' in body and "Date of birth" in body and "<rect" in body
    done = officer.post(f"/office/linkage/records/{record.pk}/", {"verdict": "accept", "uin": people["mary"].uin})
    assert done.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.uin) == ("linked", people["mary"].uin)
    decision = Decision.objects.get()
    assert decision.officer and decision.verdict == "accept"
    # A second officer on a page opened before: a clear refusal, nothing decided twice.
    other = _signed_in("link.officer2", "registrar")
    again = other.post(f"/office/linkage/records/{record.pk}/", {"verdict": "reject", "uin": people["mary"].uin})
    assert again.status_code == 409 and b"decided this record" in again.content
    assert Decision.objects.count() == 1
    # Reversible: the record waits for review again.
    undo = other.post(f"/office/linkage/records/{record.pk}/", {"decision": str(decision.pk)})
    assert undo.status_code == 302
    record.refresh_from_db()
    assert record.status == "review" and Decision.objects.count() == 2


def test_bad_decisions_are_explained_and_roles_without_the_right_are_refused(tmp_path: Path) -> None:
    people, record = _linked(tmp_path)
    officer = _signed_in("link.officer3", "registrar")
    missing = officer.post(f"/office/linkage/records/{record.pk}/", {"uin": people["mary"].uin})
    assert missing.status_code == 422 and b"Choose same person" in missing.content
    stale = officer.post(f"/office/linkage/records/{record.pk}/", {"verdict": "accept", "uin": people["kim"].uin})
    assert stale.status_code == 409 and b"no longer waiting" in stale.content
    supervisor = _signed_in("link.super", "supervisor")
    assert supervisor.get(f"/office/linkage/records/{record.pk}/").status_code == 200
    refused = supervisor.post(f"/office/linkage/records/{record.pk}/", {"verdict": "accept", "uin": people["mary"].uin})
    assert refused.status_code == 403
    # (A clerk, who may not read the sources at all, is refused by the access policy's matrix.)
    assert officer.get("/office/linkage/duplicates/").status_code == 200
    assert officer.get("/office/linkage/sources/nothing/").status_code == 404


def _csv_bytes(rows: list[list[str]]) -> bytes:
    from tests.linkage.helpers import COLUMNS

    lines = [",".join(COLUMNS), *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def test_an_officer_imports_a_file_from_the_office_and_sees_its_unreadable_rows() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    officer = _signed_in("link.importer", "registrar")
    page = officer.get("/office/linkage/import/")
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    assert b"/office/linkage/import/" in officer.get("/office/linkage/").content
    rows = [
        ["C-1", "Ruth", "Charles", "04/03/1990", "F", "1 Bay Street", "Port Royal", "2009-05-05"],
        ["C-2", "Mary", "Joseph", "31/02/1975", "F", "3 Church Street", "Port Royal", "2012-01-01"],
    ]
    done = officer.post(
        "/office/linkage/import/",
        {
            "source": "clinic",
            "agency": "MSD",
            "encoding": "utf-8",
            "file": SimpleUploadedFile("clinic 2009.csv", _csv_bytes(rows), content_type="text/csv"),
        },
    )
    body = done.content.decode()
    assert done.status_code == 200 and "1 new record." in body and "1 row could not be read." in body
    assert Record.objects.get().record_id == "C-1"
    # The same errors as the command: a mapping naming a missing column, a file of another format.
    mapping = SimpleUploadedFile("m.yml", b"record_id: id\ngiven_names: first\n")
    bad = officer.post(
        "/office/linkage/import/",
        {"source": "clinic", "agency": "MSD", "encoding": "utf-8", "mapping": mapping, "file": _upload(rows)},
    )
    assert bad.status_code == 422 and "id" in bad.content.decode() and "field-error" in bad.content.decode()
    other = officer.post(
        "/office/linkage/import/",
        {
            "source": "clinic",
            "agency": "MSD",
            "encoding": "utf-8",
            "file": SimpleUploadedFile("clinic.txt", b"a,b\n1,2\n"),
        },
    )
    assert other.status_code == 422 and "CSV" in other.content.decode()
    missing = officer.post("/office/linkage/import/", {"source": "", "agency": "MSD", "encoding": "utf-8"})
    assert missing.status_code == 422 and "Choose the agency" in missing.content.decode()
    assert Record.objects.count() == 1


def _upload(rows: list[list[str]]):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("clinic.csv", _csv_bytes(rows), content_type="text/csv")


def test_a_file_over_the_limit_is_refused_before_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    officer = _signed_in("link.importer2", "registrar")
    monkeypatch.setenv("GOV21_LINKAGE_MAX_FILE_BYTES", str(2 * 2**20))
    refused = officer.post(
        "/office/linkage/import/",
        {
            "source": "clinic",
            "agency": "MSD",
            "encoding": "utf-8",
            "file": SimpleUploadedFile("c.csv", b"x" * (3 * 2**20)),
        },
    )
    assert refused.status_code == 413 and "Split it into parts" in refused.content.decode()
    assert not Record.objects.exists()


def test_an_officer_who_may_only_read_cannot_import() -> None:
    reader = _signed_in("link.reader", "supervisor")
    assert reader.get("/office/linkage/import/").status_code == 403
    assert b"/office/linkage/import/" not in reader.get("/office/linkage/").content
