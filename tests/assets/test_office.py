"""The office pages of the asset register and of disaster response, through the real sign-in:
lists, forms that refuse bad input with the reason beside the field, maps, and the gate."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gov21.assets.models import Asset, DamageAssessment, DamagePhoto, DisasterEvent, Inspection
from tests.assets.factories import asset, point
from tests.identity.flows import portal_sign_in, staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exchange")]

AREA = {
    "type": "Polygon",
    "coordinates": [[[-63.14, 14.22], [-63.10, 14.22], [-63.10, 14.245], [-63.14, 14.245], [-63.14, 14.22]]],
}


def _login(client: Client, *roles: str, username: str = "works.one", next_url: str = "/office/assets/") -> Client:
    portal_sign_in(client, staff(username, *roles), next_url=next_url)
    return client


@pytest.fixture
def supervisor(client: Client) -> Client:
    return _login(client, "supervisor")


def _asset_form(**overrides: object) -> dict[str, object]:
    return {
        "code": "SCH-100",
        "name": "Port Clement Primary",
        "kind": "school",
        "agency": "moe",
        "condition": "good",
        "replacement_value": "1,250,000.50",
        "currency": "xcd",
        "criticality": "high",
        "capacity": "420",
        "road_class": "",
        "road_surface": "",
        "geometry": json.dumps(point(-63.12, 14.23)),
        **overrides,
    }


def test_an_asset_is_registered_from_the_form_and_shown_with_its_map(supervisor: Client) -> None:
    response = supervisor.post("/office/assets/add", _asset_form())
    assert response.status_code == 302 and response["Location"] == "/office/assets/SCH-100"
    stored = Asset.objects.get(code="SCH-100")
    assert (stored.replacement_value_cents, stored.currency, stored.agency, stored.parish) == (
        125_000_050,
        "XCD",
        "MOE",
        "XA-01",
    )
    page = supervisor.get("/office/assets/SCH-100").content.decode()
    assert "Port Clement Primary" in page and "1,250,000.50 XCD" in page and "<svg" in page
    listing = supervisor.get("/office/assets/?kind=school&parish=XA-01").content.decode()
    assert "SCH-100" in listing and 'href="/office/assets/SCH-100"' in listing


def test_a_geojson_file_can_be_uploaded_for_the_geometry(supervisor: Client) -> None:
    upload = SimpleUploadedFile("shape.geojson", json.dumps(point(-63.08, 14.38)).encode(), "application/geo+json")
    response = supervisor.post("/office/assets/add", _asset_form(geometry="", geometry_file=upload))
    assert response.status_code == 302
    assert Asset.objects.get(code="SCH-100").parish == "XA-02"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"geometry": "{not json"}, "not GeoJSON"),
        ({"geometry": json.dumps(point(10, 10))}, "outside the country"),
        ({"geometry": ""}, "Give the asset"),
        ({"replacement_value": "lots"}, "as a number"),
        ({"replacement_value": "1.005"}, "two decimals"),
        (
            {"kind": "road", "capacity": "", "road_class": "primary", "road_surface": "paved"},
            "(Road) is drawn as a LineString",
        ),
        ({"agency": "m o e"}, "agency: String should match pattern"),
    ],
)
def test_a_bad_asset_form_says_why_and_stores_nothing(
    supervisor: Client, overrides: dict[str, object], words: str
) -> None:
    response = supervisor.post("/office/assets/add", _asset_form(**overrides))
    assert response.status_code == 422
    page = response.content.decode()
    assert "There is a problem" in page and words in page
    assert not Asset.objects.exists()


def test_an_inspection_is_recorded_and_a_bad_one_refused(supervisor: Client) -> None:
    asset(code="RD-9", kind="road", capacity=None, road_class="track", road_surface="earth",
          geometry={"type": "LineString", "coordinates": [[-63.12, 14.23], [-63.1, 14.22]]})  # fmt: skip
    ok = supervisor.post(
        "/office/assets/RD-9/inspect", {"inspected_on": "2026-01-05", "condition": "poor", "notes": "ruts"}
    )
    assert ok.status_code == 302
    future = supervisor.post("/office/assets/RD-9/inspect", {"inspected_on": "2999-01-01", "condition": "good"})
    assert future.status_code == 422 and "future" in future.content.decode()
    bad = supervisor.post("/office/assets/RD-9/inspect", {"inspected_on": "soon", "condition": "good"})
    assert bad.status_code == 422
    assert list(Inspection.objects.values_list("condition", "notes")) == [("poor", "ruts")]
    assert "ruts" in supervisor.get("/office/assets/RD-9").content.decode()
    assert supervisor.get("/office/assets/NOPE").status_code == 404


def test_a_disaster_is_declared_from_a_track_and_its_impact_shown(supervisor: Client) -> None:
    asset(code="SH-1", kind="shelter", capacity=150, geometry=point(-63.12, 14.23))
    asset(code="FAR-1", geometry=point(-62.77, 14.63))
    track = {"type": "LineString", "coordinates": [[-63.2, 14.2], [-63.05, 14.25]]}
    form = {"name": "Hurricane Ada", "kind": "hurricane", "occurred_on": "2026-09-01", "buffer_km": "5"}
    response = supervisor.post("/office/disasters/declare", form | {"area": json.dumps(track)})
    assert response.status_code == 302, response.content.decode()[-2000:]
    event = DisasterEvent.objects.get()
    assert event.buffer_km == 5
    page = supervisor.get(response["Location"]).content.decode()
    assert "SH-1" in page and "FAR-1" not in page
    assert "Port Clement" in page and "<svg" in page
    assert "Shelter places in the area" in page


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"area": '{"type": "LineString", "coordinates": [[-63.2, 14.2], [-63.05, 14.25]]}'}, "buffer radius"),
        ({"area": "[]"}, "GeoJSON object"),
        ({"area": ""}, "Paste the area"),
        ({"area": json.dumps(AREA), "buffer_km": "wide"}, "kilometres"),
        ({"area": json.dumps(AREA), "occurred_on": "2999-01-01"}, "future"),
    ],
)
def test_a_bad_declaration_says_why_and_declares_nothing(supervisor: Client, data: dict[str, str], words: str) -> None:
    form = {"name": "Flood", "kind": "flood", "occurred_on": "2026-09-01", "buffer_km": "", **data}
    response = supervisor.post("/office/disasters/declare", form)
    assert response.status_code == 422
    assert words in response.content.decode()
    assert not DisasterEvent.objects.exists()


def test_a_geojson_file_declares_the_area(supervisor: Client) -> None:
    upload = SimpleUploadedFile(
        "flood.geojson", json.dumps({"type": "Feature", "properties": {}, "geometry": AREA}).encode()
    )
    response = supervisor.post(
        "/office/disasters/declare",
        {"name": "Flood", "kind": "flood", "occurred_on": "2026-09-01", "area_file": upload},
    )
    assert response.status_code == 302
    bad = SimpleUploadedFile("flood.geojson", b"\xff\xfe not text")
    refused = supervisor.post(
        "/office/disasters/declare", {"name": "Flood", "kind": "flood", "occurred_on": "2026-09-01", "area_file": bad}
    )
    assert refused.status_code == 422 and "UTF-8" in refused.content.decode()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "green").save(out, format="PNG")
    return out.getvalue()


def test_damage_is_assessed_with_photos_and_summed(
    supervisor: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV21_DATA_DIR", str(tmp_path))
    asset(code="SCH-1", agency="MOE", replacement_value_cents=2_000_000, geometry=point(-63.12, 14.23))
    supervisor.post(
        "/office/disasters/declare",
        {"name": "Flood", "kind": "flood", "occurred_on": "2026-09-01", "area": json.dumps(AREA)},
    )
    event = DisasterEvent.objects.get()
    photo = SimpleUploadedFile("roof.png", _png(), "image/png")
    response = supervisor.post(
        f"/office/disasters/{event.pk}/assess", {"asset": "SCH-1", "level": "major", "notes": "roof", "photos": [photo]}
    )
    assert response.status_code == 302
    stored = DamagePhoto.objects.get()
    page = supervisor.get(f"/office/disasters/{event.pk}").content.decode()
    assert "10,000.00 XCD" in page  # half of 20,000.00
    image = supervisor.get(f"/office/disasters/photos/{stored.sha256}")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.content == _png()

    text = SimpleUploadedFile("roof.jpg", b"MZ\x90\x00 not an image", "image/jpeg")
    refused = supervisor.post(
        f"/office/disasters/{event.pk}/assess", {"asset": "SCH-1", "level": "minor", "photos": [text]}
    )
    assert refused.status_code == 422 and "not a photograph" in refused.content.decode()
    neither = supervisor.post(f"/office/disasters/{event.pk}/assess", {"level": "minor"})
    assert neither.status_code == 422 and "either an asset" in neither.content.decode()
    assert DamageAssessment.objects.count() == 1


def test_a_reader_sees_but_cannot_write_or_declare(client: Client) -> None:
    reader = _login(client, "reader", username="reader.two")
    assert reader.get("/office/assets/").status_code == 200
    assert "Register an asset" not in reader.get("/office/assets/").content.decode()
    assert reader.post("/office/assets/add", _asset_form()).status_code == 403
    assert reader.get("/office/disasters/declare").status_code == 403
    assert reader.get("/office/disasters/").status_code == 200
    assert not Asset.objects.exists()


def test_a_visitor_is_sent_to_sign_in(client: Client) -> None:
    for url in ("/office/assets/", "/office/disasters/"):
        response = client.get(url)
        assert response.status_code == 302 and "sign-in" in response["Location"]


def test_an_asset_is_changed_from_its_edit_page_as_a_new_version(client: Client) -> None:
    supervisor = _login(client, "supervisor", username="works.editor")
    assert supervisor.post("/office/assets/add", _asset_form(code="SCH-200")).status_code == 302
    page = supervisor.get("/office/assets/SCH-200")
    assert b"/office/assets/SCH-200/edit" in page.content
    form = supervisor.get("/office/assets/SCH-200/edit")
    html = form.content.decode()
    assert form.status_code == 200 and 'value="Port Clement Primary"' in html and "1250000.50" in html
    assert 'name="code"' not in html  # the code names the asset: it does not change
    changed = _asset_form(name="Port Clement Primary School", condition="poor", capacity="380")
    del changed["code"]
    no_reason = supervisor.post("/office/assets/SCH-200/edit", changed)
    assert no_reason.status_code == 422 and "Why it changes" in no_reason.content.decode()
    offshore = supervisor.post(
        "/office/assets/SCH-200/edit", {**changed, "reason": "moved", "geometry": json.dumps(point(-70.0, 10.0))}
    )
    assert offshore.status_code == 422
    done = supervisor.post("/office/assets/SCH-200/edit", {**changed, "reason": "Roof rebuilt; two rooms closed"})
    assert done.status_code == 302 and done["Location"] == "/office/assets/SCH-200"
    stored = Asset.objects.get(code="SCH-200")
    assert (stored.version, stored.name, stored.condition, stored.capacity) == (
        2,
        "Port Clement Primary School",
        "poor",
        380,
    )
    versions = [(c.version, c.reason, c.data["name"]) for c in stored.changes.order_by("version")]
    assert versions == [
        (1, "registered", "Port Clement Primary"),
        (2, "Roof rebuilt; two rooms closed", "Port Clement Primary School"),
    ]
    shown = supervisor.get("/office/assets/SCH-200").content.decode()
    assert "Roof rebuilt; two rooms closed" in shown
    assert supervisor.get("/office/assets/NONE-1/edit").status_code == 404


def test_a_reader_may_not_change_an_asset(client: Client) -> None:
    asset(code="RD-9")
    reader = _login(client, "reader", username="works.reader2")
    assert reader.get("/office/assets/RD-9/edit").status_code == 403
    assert b"/office/assets/RD-9/edit" not in reader.get("/office/assets/RD-9").content


def test_the_assets_a_disaster_touches_are_listed_a_page_at_a_time(supervisor: Client) -> None:
    for n in range(105):
        asset(code=f"PG-{n:03d}", geometry=point(-63.139 + n * 0.0003, 14.23))
    form = {"name": "Flood of pages", "kind": "flood", "occurred_on": "2026-09-01", "area": json.dumps(AREA)}
    response = supervisor.post("/office/disasters/declare", form)
    assert response.status_code == 302

    def table(page: str) -> str:  # the list of assets, not the map (which draws all of them)
        return page.split('id="assets"')[1].split('id="summary"')[0]

    first = table(supervisor.get(response["Location"]).content.decode())
    assert "1 to 100 of 105" in first and ">PG-000<" in first and ">PG-104<" not in first
    assert '?offset=100#assets" rel="next"' in first
    second = table(supervisor.get(response["Location"], {"offset": "100"}).content.decode())
    assert "101 to 105 of 105" in second and ">PG-104<" in second and ">PG-000<" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # An offset past the end, or not a number, starts again at the first page.
    for offset in ("9999", "-1", "x"):
        assert "1 to 100 of 105" in supervisor.get(response["Location"], {"offset": offset}).content.decode()
