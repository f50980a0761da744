"""Disaster response: an area declared from GeoJSON (a polygon, or a track buffered in the projected
CRS), everything it touches listed exactly, residents counted by the civil registry through the
exchange, damage assessed with photographs and summed with its cost."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gov21.assets import selectors, services
from gov21.assets.models import DamageAssessment, DamagePhoto, DisasterEvent
from gov21.assets.records import AssessmentFacts, EventFacts
from gov21.core.errors import DomainError
from gov21.core.geo import length_m
from gov21.core.principal import Principal
from gov21.exchange.models import LogEntry
from tests.assets.factories import OFFICER, READER, asset, point
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))
# Around Port Clement and Belvedere (parish XA-01), clear of every other settlement.
PORT_CLEMENT = {
    "type": "Polygon",
    "coordinates": [[[-63.14, 14.22], [-63.10, 14.22], [-63.10, 14.245], [-63.14, 14.245], [-63.14, 14.22]]],
}
TRIANGLE = {
    "type": "Polygon",
    "coordinates": [[[-63.10, 14.20], [-63.05, 14.20], [-63.10, 14.25], [-63.10, 14.20]]],
}


def declare(
    area: dict[str, Any] | str, *, buffer_km: float | None = None, name: str = "Hurricane Test"
) -> DisasterEvent:
    text = area if isinstance(area, str) else json.dumps(area)
    return services.disaster_declare(
        facts=EventFacts(name=name, kind="hurricane", occurred_on=date(2026, 9, 1)),
        area=services.area_parse(text, buffer_km=buffer_km),
        actor=OFFICER,
    )


def png(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(out, format="PNG")
    return out.getvalue()


# --- the area -------------------------------------------------------------------------------------


def test_a_polygon_feature_collection_is_the_area() -> None:
    event = declare(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": PORT_CLEMENT}]}
    )

    assert event.geometry.geom_type == "Polygon"
    assert event.buffer_km is None and event.track_wkb is None
    # About 4.3 km by 2.8 km.
    assert 10 < event.area_km2 < 14


def test_a_track_is_buffered_in_metres() -> None:
    track = {"type": "LineString", "coordinates": [[-63.2, 14.1], [-62.9, 14.4]]}
    event = declare({"type": "Feature", "properties": {}, "geometry": track}, buffer_km=10)

    assert event.buffer_km == 10 and event.geometry.geom_type == "Polygon"
    length_km = length_m(services.geometry_check(track)) / 1000
    # A band 20 km wide along the track, with a half disc at each end.
    expected = length_km * 20 + 3.14159 * 10**2
    assert event.area_km2 == pytest.approx(expected, rel=0.01)
    # The band reaches 10 km (about 0.09 degrees of latitude) beyond the track's ends, no more.
    assert event.min_lat == pytest.approx(14.1 - 10 / 111.0, abs=0.003)


@pytest.mark.parametrize(
    ("text", "buffer_km", "field", "words"),
    [
        ("{not json", None, "area", "not JSON"),
        ("[1, 2]", None, "area", "GeoJSON object"),
        ('{"type": "FeatureCollection", "features": []}', None, "area", "no features"),
        ('{"type": "Feature", "geometry": null}', None, "area", "no geometry"),
        ('{"type": "LineString", "coordinates": [[-63.2, 14.1], [-62.9, 14.4]]}', None, "buffer_km", "buffer radius"),
        ('{"type": "LineString", "coordinates": [[-63.2, 14.1], [-62.9, 14.4]]}', 900, "buffer_km", "at most 300"),
        (
            '{"type": "Polygon", "coordinates": [[[-63.1, 14.2], [-63.0, 14.2], [-63.0, 14.3]]]}',
            None,
            "area",
            "positions",
        ),
        ('{"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 10]]]}', None, "area", "outside"),
        ('{"type": "GeometryCollection", "geometries": []}', None, "area", "geometry type"),
    ],
)
def test_bad_geojson_is_refused_and_nothing_is_declared(
    text: str, buffer_km: float | None, field: str, words: str
) -> None:
    with pytest.raises(DomainError) as refused:
        declare(text, buffer_km=buffer_km)
    assert refused.value.field == field
    assert words in refused.value.detail
    assert not DisasterEvent.objects.exists()


def test_a_reader_cannot_declare() -> None:
    with pytest.raises(DomainError) as refused:
        services.disaster_declare(
            facts=EventFacts(name="x", kind="flood", occurred_on=date(2026, 1, 1)),
            area=services.area_parse(json.dumps(PORT_CLEMENT)),
            actor=READER,
        )
    assert refused.value.status == 403


# --- impact ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("exchange")
def test_impact_lists_exactly_the_assets_whose_geometry_meets_the_area() -> None:
    inside = asset(code="IN-1", geometry=point(-63.09, 14.21))
    # Its box meets the triangle's box and the triangle itself, but the road runs beside it.
    beside = asset(
        code="BESIDE-1",
        kind="road",
        capacity=None,
        road_class="secondary",
        road_surface="paved",
        geometry={"type": "LineString", "coordinates": [[-63.06, 14.26], [-63.04, 14.24]]},
    )
    crossing = asset(
        code="ROAD-X",
        kind="road",
        capacity=None,
        road_class="primary",
        road_surface="paved",
        geometry={"type": "LineString", "coordinates": [[-63.12, 14.21], [-63.03, 14.21]]},
    )
    asset(code="FAR-1", geometry=point(-62.77, 14.63))  # Cassia, in the north
    event = declare(TRIANGLE)
    window = event.geometry
    assert beside.max_lon >= window.bounds[0] and beside.min_lat <= window.bounds[3]  # the boxes do meet

    impact = selectors.event_impact(event=event, actor=READER)

    assert [a.code for a in impact.assets] == [inside.code, crossing.code]


@pytest.mark.usefixtures("exchange")
def test_residents_are_counted_by_the_registry_through_the_exchange() -> None:
    for settlement in ("Port Clement", "Port Clement", "Belvedere", "Rosehall"):
        register_person(REGISTRAR, address_parish="XA-01", address_settlement=settlement)
    register_person(REGISTRAR, address_parish="XA-02", address_settlement="Ambrose Town")
    shelter = asset(code="SH-1", kind="shelter", capacity=120, geometry=point(-63.12, 14.23))
    event = declare(PORT_CLEMENT)

    impact = selectors.event_impact(event=event, actor=READER)

    assert [a.code for a in impact.assets] == [shelter.code] and impact.shelter_places == 120
    assert [(p.parish, p.residents) for p in impact.parishes] == [("XA-01", 4)]
    assert {(p.settlement, p.residents) for p in impact.settlements} == {("Port Clement", 2), ("Belvedere", 1)}
    assert impact.residents_in_settlements == 3
    # Read as the disaster management office, the officer named, logged at both ends; nobody's UIN in it.
    logged = LogEntry.objects.filter(message_id=impact.message_id)
    assert {entry.role for entry in logged} == {"consumer", "provider"}
    for entry in logged:
        assert entry.client.endswith("/GOV/NDMO/disaster-response")
        assert entry.service.endswith("/GOV/CRO/civil-registry/residents")
        assert entry.user_id == READER.name and entry.issue == f"disaster {event.pk}: impact"
        assert entry.subjects == ""


@pytest.mark.usefixtures("exchange")
def test_only_the_disaster_office_may_count_residents() -> None:
    from gov21.exchange.contracts import agency_client, agency_service, exchange_call

    result = exchange_call(
        client=agency_client("LTA", "licensing"),
        service=agency_service("CRO", "civil-registry", "residents"),
        path="/counts",
        query="parishes=XA-01",
    )
    assert result.error.endswith("AccessDenied")


# --- damage ---------------------------------------------------------------------------------------


def test_damage_is_summed_by_parish_and_agency_with_its_cost() -> None:
    school = asset(code="SCH-A", agency="MOE", replacement_value_cents=1_000_000, geometry=point(-63.12, 14.23))
    clinic = asset(
        code="CL-B", kind="clinic", agency="MOH", replacement_value_cents=500_000, geometry=point(-63.08, 14.38)
    )
    event = declare(PORT_CLEMENT)
    assess = services.assessment_record
    assess(event_id=event.pk, facts=AssessmentFacts(asset=school.code, level="minor"), actor=OFFICER)
    # A second look finds worse: it stands over the first, which is kept.
    assess(event_id=event.pk, facts=AssessmentFacts(asset=school.code, level="major", notes="roof gone"), actor=OFFICER)
    assess(event_id=event.pk, facts=AssessmentFacts(asset=clinic.code, level="destroyed"), actor=OFFICER)
    assess(
        event_id=event.pk,
        facts=AssessmentFacts(parcel_number="PC-0042", parish="XA-01", level="major"),
        actor=OFFICER,
    )

    summary = selectors.damage_summary(event=event, actor=READER)

    parishes = {row.key: (row.levels, row.cost_cents) for row in summary.by_parish}
    assert parishes["XA-01"] == ({"none": 0, "minor": 0, "major": 2, "destroyed": 0}, 500_000)
    assert parishes["XA-02"] == ({"none": 0, "minor": 0, "major": 0, "destroyed": 1}, 500_000)
    agencies = {row.key: (row.assessed, row.cost_cents) for row in summary.by_agency}
    assert agencies == {"MOE": (1, 500_000), "MOH": (1, 500_000), "": (1, 0)}
    assert summary.total.cost_cents == 1_000_000 and summary.total.assessed == 3
    assert summary.currencies == ("XCD",)
    assert DamageAssessment.objects.filter(event=event).count() == 4


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"level": "minor"}, "asset"),
        ({"asset": "SCH-Z", "parcel_number": "P-1", "level": "minor"}, "asset"),
        ({"asset": "NOPE", "level": "minor"}, "asset"),
        ({"parcel_number": "P-1", "parish": "XA-99", "level": "minor"}, "parish"),
    ],
)
def test_an_assessment_names_one_known_thing(facts: dict[str, Any], field: str) -> None:
    asset(code="SCH-Z")
    event = declare(PORT_CLEMENT)
    with pytest.raises(DomainError) as refused:
        services.assessment_record(event_id=event.pk, facts=AssessmentFacts.model_validate(facts), actor=OFFICER)
    assert refused.value.field == field
    assert not DamageAssessment.objects.exists()


def test_a_damage_level_is_one_of_four() -> None:
    with pytest.raises(DomainError) as refused:
        services.facts_parse(AssessmentFacts, {"asset": "X", "level": "catastrophic"})
    assert refused.value.field == "level"


def test_photos_are_checked_as_images_and_stored_by_their_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_DATA_DIR", str(tmp_path))
    school = asset(code="SCH-P")
    event = declare(PORT_CLEMENT)
    picture = png()

    assessment = services.assessment_record(
        event_id=event.pk,
        facts=AssessmentFacts(asset=school.code, level="major"),
        photos=[services.Photo("roof.png", picture), services.Photo("same.png", picture)],
        actor=OFFICER,
    )

    digest = hashlib.sha256(picture).hexdigest()
    stored = tmp_path / "assets" / "photos" / f"{digest}.png"
    assert stored.read_bytes() == picture
    photos = DamagePhoto.objects.filter(assessment=assessment)
    assert [(p.sha256, p.media_type, p.width, p.height) for p in photos] == [(digest, "image/png", 8, 6)] * 2


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"#!/bin/sh\nrm -rf /\n", "not a photograph"),
        (png()[:40], "not a photograph"),
        (b"GIF89a" + b"\x00" * 20, "not a photograph"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_written(
    content: bytes, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV21_DATA_DIR", str(tmp_path))
    school = asset(code="SCH-Q")
    event = declare(PORT_CLEMENT)
    with pytest.raises(DomainError) as refused:
        services.assessment_record(
            event_id=event.pk,
            facts=AssessmentFacts(asset=school.code, level="minor"),
            photos=[services.Photo("good.png", png()), services.Photo("evil.jpg", content)],
            actor=OFFICER,
        )
    assert refused.value.field == "photos" and words in refused.value.detail and "evil.jpg" in refused.value.detail
    assert not DamageAssessment.objects.exists()
    assert not (tmp_path / "assets").exists()


def test_a_gif_is_refused_by_its_format() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(out, format="GIF")
    with pytest.raises(DomainError) as refused:
        services.photo_check(services.Photo("a.gif", out.getvalue()))
    assert "GIF" in refused.value.detail
