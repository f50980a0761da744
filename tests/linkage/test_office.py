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
