"""The citizen's journey on the portal without script: choose a category and a place, add photos,
follow the report; the list and map; refusals with a helpful message; text shown escaped."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gov21.concerns.models import Report
from gov21.core.geography import geography
from tests.concerns.helpers import jpeg, report

pytestmark = pytest.mark.django_db


def _place() -> str:
    parish = geography()[0]
    return f"{parish.code}|{parish.settlements[0].name}"


def test_a_report_with_a_settlement_a_street_and_a_photo_without_script() -> None:
    client = Client()
    form = client.get("/report/")
    assert form.status_code == 200 and b'name="settlement"' in form.content
    answer = client.post(
        "/report/",
        {
            "service_code": "illegal-dumping",
            "settlement": _place(),
            "street": "Bay Road",
            "description": "<script>alert('x')</script> sofas by the river",
            "photos": [SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg")],
        },
    )
    assert answer.status_code == 302
    row = Report.objects.get()
    assert row.agency == "SWA" and row.address.startswith("Bay Road, ") and row.lat is not None
    assert row.person_uin == "" and row.photos.count() == 1
    page = client.get(answer["Location"])
    text = page.content.decode()
    assert "&lt;script&gt;alert" in text and "<script>alert" not in text
    photo = client.get(f"/reports/photos/{row.photos.get().pk}.jpg")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"description": "x"}, "Choose the place"),
        ({"service_code": "volcano", "settlement": "x|y", "description": "x"}, "Select a valid choice"),
        ({"service_code": "drain", "lat": "1", "long": "1", "description": "x"}, "not in the country"),
        ({"service_code": "drain", "settlement": "", "description": ""}, "This field is required"),
    ],
)
def test_bad_input_on_the_form_is_explained_and_nothing_is_recorded(data: dict[str, str], message: str) -> None:
    answer = Client().post("/report/", data)
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "There is a problem" in text and message in text
    assert Report.objects.count() == 0


def test_a_photo_that_is_not_a_picture_or_too_big_is_refused_with_a_message() -> None:
    base = {"service_code": "drain", "settlement": _place(), "description": "blocked"}
    for upload, message in (
        (SimpleUploadedFile("a.jpg", b"MZ this is a program", "image/jpeg"), "must be a JPEG"),
        (SimpleUploadedFile("b.jpg", b"\xff\xd8" + b"0" * (11 * 1024 * 1024), "image/jpeg"), "at most 10 MB"),
    ):
        answer = Client().post("/report/", {**base, "photos": [upload]})
        assert answer.status_code == 400 and message in answer.content.decode()
    assert Report.objects.count() == 0


def test_the_public_list_filters_and_links_each_report() -> None:
    light, leak = report("street-light"), report("water-leak")
    page = Client().get("/reports/?service_code=water-leak").content.decode()
    assert f"/reports/{leak.pk}/" in page and f'href="/reports/{light.pk}/"' not in page
    assert Client().get("/reports/999999/").status_code == 404


def test_your_reports_needs_sign_in() -> None:
    answer = Client().get("/reports/mine/")
    assert answer.status_code == 302 and answer["Location"].startswith("/sign-in")


def test_a_signed_in_persons_report_is_linked_to_them_and_listed_as_theirs(client: Client) -> None:
    from tests.identity.flows import citizen, portal_sign_in

    person = citizen()
    portal_sign_in(client, person, next_url="/reports/mine/")
    answer = client.post("/report/", {"service_code": "pothole", "settlement": _place(), "description": "deep"})
    # The pothole's size is a required attribute of the service, asked on the form.
    assert answer.status_code == 400 and "Answer the question" in answer.content.decode()
    answer = client.post(
        "/report/",
        {"service_code": "pothole", "settlement": _place(), "description": "deep", "attribute_pothole_size": "large"},
    )
    assert answer.status_code == 302
    row = Report.objects.get()
    assert row.person_uin == person.identifier and row.attributes == {"size": "large"}
    mine = client.get("/reports/mine/").content.decode()
    assert f"/reports/{row.pk}/" in mine
    assert f"/reports/{row.pk}/" not in Client().get("/reports/mine/").content.decode()
