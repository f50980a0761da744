"""The publishers' back office: a registrar creates a dataset, adds a table and a link, publishes
releases with change notes, and manages harvest sources; mistakes are shown on the forms."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gov21.opendata import selectors
from gov21.opendata.models import Dataset, HarvestSource
from tests.identity.flows import portal_sign_in, staff

pytestmark = pytest.mark.django_db

HOME = "/office/opendata/"


def _signed_in(username: str, *roles: str, next_url: str = HOME) -> Client:
    client = Client()
    portal_sign_in(client, staff(username, *roles), next_url=next_url)
    return client


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _dataset(**changes: str) -> dict[str, str]:
    return {
        "name": "school-enrolment",
        "title": "School enrolment",
        "notes": "Pupils enrolled in public schools, by school and year.",
        "owner_org": "STATS",
        "license_id": "CC-BY-4.0",
        "frequency": "annual",
        "tags": "education, schools",
        "contact_name": "Statistics office",
        "contact_email": "open@stats.example",
    } | changes


CSV_1 = b"school,year,pupils\nNorth,2025,310\nSouth,2025,280\n"
CSV_2 = b"school,year,pupils\nNorth,2025,310\nSouth,2025,295\nEast,2025,120\n"


def test_a_publisher_creates_a_dataset_and_publishes_two_releases() -> None:
    client = _signed_in("reg.opendata", "registrar")

    created = client.post(HOME, _dataset())
    assert created.status_code == 302 and created["Location"] == f"{HOME}datasets/school-enrolment/"
    page = client.get(created["Location"])
    assert page.status_code == 200 and "School enrolment" in _text(page)
    assert [t.name for t in Dataset.objects.get(name="school-enrolment").tags.order_by("name")] == [
        "education",
        "schools",
    ]

    first = client.post(
        created["Location"],
        {"action": "version", "change_note": "First count.", "table": SimpleUploadedFile("enrolment.csv", CSV_1)},
    )
    assert first.status_code == 302
    second = client.post(
        created["Location"],
        {
            "action": "version",
            "change_note": "South recounted; East opened.",
            "table": SimpleUploadedFile("e.csv", CSV_2),
        },
    )
    assert second.status_code == 302
    found = selectors.dataset_get("school-enrolment")
    versions = selectors.versions_of(found)
    assert [(v.number, v.change_note) for v in versions] == [(2, "South recounted; East opened."), (1, "First count.")]
    assert (versions[0].diff["added"], versions[0].diff["changed"]) == (1, 1)
    shown = _text(client.get(created["Location"]))
    assert "1 added, 0 removed, 1 changed" in shown

    link = client.post(
        created["Location"], {"action": "resource", "name": "Method", "url": "https://stats.example/method.pdf"}
    )
    assert link.status_code == 302
    described = client.post(created["Location"], _dataset(title="Enrolment in public schools") | {"action": "describe"})
    assert described.status_code == 302
    package = selectors.package_dict(selectors.dataset_get("school-enrolment"))
    assert package["title"] == "Enrolment in public schools"
    assert package["name"] == "school-enrolment"
    assert [r["name"] for r in package["resources"]][-1] == "Method"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "Bad Name!"}, "lower-case letters"),
        ({"owner_org": "NOSUCH"}, "has no agency NOSUCH"),
        ({"contact_email": "not-an-address"}, "valid email"),
        ({"title": ""}, "required"),
    ],
)
def test_mistakes_in_a_new_dataset_are_shown_on_the_form(form: dict[str, str], message: str) -> None:
    client = _signed_in("reg.opendata2", "registrar")

    answer = client.post(HOME, _dataset(**form))

    assert answer.status_code == 422
    assert "There is a problem" in _text(answer) and message in _text(answer)
    assert not Dataset.objects.exists()


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ({"action": "resource", "name": "x", "url": "http://192.168.0.4/x.csv"}, "private address"),
        ({"action": "resource", "name": "x", "url": ""}, "Upload a file or give a link"),
        (
            {"action": "version", "change_note": "x", "table": SimpleUploadedFile("t.csv", b"a,b\n1\n2,3,4\n")},
            "",
        ),
        ({"action": "version", "change_note": "x", "table": SimpleUploadedFile("t.pdf", b"%PDF-1.4")}, "CSV or XLSX"),
        (
            {"action": "version", "change_note": "x", "table": SimpleUploadedFile("t.csv", b"a,b\n=1+2,3\n")},
            "formula",
        ),
    ],
)
def test_bad_resources_and_releases_are_refused_on_the_page(sent: dict[str, Any], message: str) -> None:
    client = _signed_in("reg.opendata3", "registrar")
    url = client.post(HOME, _dataset())["Location"]

    answer = client.post(url, sent)

    assert answer.status_code == 422
    assert "There is a problem" in _text(answer)
    assert message in _text(answer)
    found = selectors.dataset_get("school-enrolment")
    assert not found.versions.exists() and not found.resources.exists()


def test_harvest_sources_are_added_and_refused_on_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _signed_in("adm.opendata", "administrator", next_url=f"{HOME}harvest/")
    form = {"name": "xb", "title": "XB portal", "kind": "ckan", "organization": "DGO", "frequency": "daily"}

    refused = client.post(f"{HOME}harvest/", form | {"url": "http://10.0.0.1/"})
    assert refused.status_code == 422 and "public address" in _text(refused)
    assert not HarvestSource.objects.exists()

    monkeypatch.setenv("GOV21_OPENDATA_HARVEST_LOOPBACK", "true")
    added = client.post(f"{HOME}harvest/", form | {"url": "http://127.0.0.1:9/"})
    assert added.status_code == 302
    # Nothing listens there: the job fails and says why.
    run = client.post(added["Location"])
    assert run.status_code == 302
    page = _text(client.get(added["Location"]))
    assert "failed" in page and "could not be reached" in page
    assert "XB portal" in _text(client.get(f"{HOME}harvest/"))


def test_staff_without_the_publisher_role_are_refused() -> None:
    client = _signed_in("reader.opendata", "reader")

    assert client.get(HOME).status_code == 403
    assert client.post(HOME, _dataset()).status_code == 403
    assert not Dataset.objects.exists()
