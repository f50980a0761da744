"""The register of public assets: assets added and changed with every version kept, inspections
recorded without overwriting, and clear refusals of what cannot be stored."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import mapbox_vector_tile
import morecantile
import pytest
from django.test import Client, override_settings
from django.utils import timezone

from gov21.assets import selectors, services
from gov21.assets.models import Asset, AssetChange, Inspection
from gov21.assets.records import AssetFacts, InspectionFacts
from gov21.core.errors import DomainError
from gov21.geo.contracts import collection_version
from tests.assets.factories import OFFICER, READER, asset, facts, point, square

pytestmark = pytest.mark.django_db


def test_an_asset_is_registered_with_its_parish_box_and_first_version() -> None:
    school = asset(code="SCH-001", geometry=square(-63.125, 14.24))

    stored = Asset.objects.get(code="SCH-001")
    assert stored.parish == "XA-01"  # Port Clement
    assert (stored.min_lon, stored.min_lat) == pytest.approx((-63.125, 14.24))
    assert stored.max_lon == pytest.approx(-63.123)
    assert stored.geometry.geom_type == "Polygon"
    assert stored.replacement_value_cents == 250_000_000 and stored.currency == "XCD"
    change = AssetChange.objects.get(asset=school)
    assert change.version == 1 and change.changed_by == OFFICER.name and change.data["capacity"] == 400


def test_a_change_is_a_new_version_and_the_old_one_is_kept() -> None:
    school = asset(code="SCH-002")
    changed = facts(code="SCH-002", name="Renamed school", capacity=450, geometry=point(-63.08, 14.38))

    services.asset_update(facts=changed, reason="extension built", actor=OFFICER)

    school.refresh_from_db()
    assert school.version == 2 and school.name == "Renamed school" and school.parish == "XA-02"
    versions = list(AssetChange.objects.filter(asset=school).order_by("version").values_list("version", "data"))
    assert [v for v, _ in versions] == [1, 2]
    assert versions[0][1]["capacity"] == 400 and versions[1][1]["capacity"] == 450
    assert versions[0][1]["parish"] == "XA-01"


def test_a_change_needs_a_reason_and_an_existing_asset() -> None:
    asset(code="SCH-003")
    with pytest.raises(DomainError) as no_reason:
        services.asset_update(facts=facts(code="SCH-003"), reason="  ", actor=OFFICER)
    assert no_reason.value.field == "reason"
    with pytest.raises(DomainError) as unknown:
        services.asset_update(facts=facts(code="NOPE-1"), reason="x", actor=OFFICER)
    assert unknown.value.status == 404


def test_a_code_is_registered_once() -> None:
    asset(code="SCH-004")
    with pytest.raises(DomainError) as twice:
        asset(code="SCH-004")
    assert twice.value.status == 409 and twice.value.field == "code"
    assert Asset.objects.filter(code="SCH-004").count() == 1


def test_inspections_are_kept_and_the_latest_sets_the_condition() -> None:
    road = asset(
        code="RD-001", kind="road", capacity=None, road_class="primary", road_surface="paved",
        geometry={"type": "LineString", "coordinates": [[-63.125, 14.24], [-63.08, 14.38]]},
    )  # fmt: skip
    today = timezone.localdate()
    services.inspection_record(
        code="RD-001",
        facts=InspectionFacts(inspected_on=today - timedelta(days=10), condition="poor", notes="potholes"),
        actor=OFFICER,
    )  # fmt: skip
    services.inspection_record(
        code="RD-001", facts=InspectionFacts(inspected_on=today, condition="fair", notes="patched"), actor=OFFICER
    )
    # Entered late: an older inspection joins the history and leaves the condition alone.
    services.inspection_record(
        code="RD-001", facts=InspectionFacts(inspected_on=today - timedelta(days=30), condition="unusable"),
        actor=OFFICER,
    )  # fmt: skip

    road.refresh_from_db()
    assert road.condition == "fair"
    history = selectors.asset_inspections(road)
    assert [(i.condition, i.notes) for i in history] == [("fair", "patched"), ("poor", "potholes"), ("unusable", "")]
    assert Inspection.objects.filter(asset=road).count() == 3


def test_an_inspection_in_the_future_is_refused_and_writes_nothing() -> None:
    asset(code="SCH-005")
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(DomainError) as refused:
        services.inspection_record(
            code="SCH-005", facts=InspectionFacts(inspected_on=tomorrow, condition="poor"), actor=OFFICER
        )
    assert refused.value.field == "inspected_on"
    assert not Inspection.objects.exists()


def test_a_reader_may_not_write() -> None:
    with pytest.raises(DomainError) as refused:
        services.asset_add(facts=facts(), actor=READER)
    assert refused.value.status == 403
    assert not Asset.objects.exists()


_LINE = {"type": "LineString", "coordinates": [[-63.1, 14.2], [-63.0, 14.3]]}
_BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[-63.1, 14.2], [-63.0, 14.3], [-63.0, 14.2], [-63.1, 14.3], [-63.1, 14.2]]],
}
_ROAD = {"kind": "road", "capacity": None}


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (_ROAD | {"road_class": "primary", "road_surface": "paved"}, "geometry", "LineString"),
        ({"geometry": _LINE}, "geometry", "not as a line"),
        ({"geometry": point(14.24, -63.125)}, "geometry", "wrong way round"),
        ({"geometry": point(-63.125, 94.24)}, "geometry", "latitude 94.24"),
        ({"geometry": point(10.0, 10.0)}, "geometry", "outside the country"),
        ({"geometry": _BOWTIE}, "geometry", "not valid"),
        (_ROAD | {"geometry": _LINE}, "road_class", "class"),
        ({"kind": "substation", "capacity": 30}, "capacity", "capacity"),
        ({"road_class": "primary"}, "road_class", "Only a road"),
    ],
)  # fmt: skip
def test_bad_assets_are_refused_with_the_field_and_why(overrides: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(DomainError) as refused:
        services.asset_add(facts=facts(**overrides), actor=OFFICER)
    assert refused.value.field == field
    assert words in refused.value.detail
    assert not Asset.objects.exists()


def test_malformed_facts_are_refused_naming_the_field() -> None:
    data = facts().model_dump(mode="json") | {"replacement_value_cents": -5}
    with pytest.raises(DomainError) as refused:
        services.facts_parse(AssetFacts, data)
    assert refused.value.field == "replacement_value_cents"
    with pytest.raises(DomainError) as currency:
        services.facts_parse(AssetFacts, data | {"replacement_value_cents": 5, "currency": "dollars"})
    assert currency.value.field == "currency"


def test_an_inspection_date_must_be_a_date() -> None:
    with pytest.raises(DomainError) as refused:
        services.facts_parse(InspectionFacts, {"inspected_on": "yesterday", "condition": "good"})
    assert refused.value.field == "inspected_on"
    assert services.facts_parse(
        InspectionFacts, {"inspected_on": "2026-01-02", "condition": "good"}
    ).inspected_on == date(2026, 1, 2)


def test_a_change_of_an_asset_shows_on_its_kept_map_tile(tmp_path: Path) -> None:
    tile = morecantile.tms.get("WebMercatorQuad").tile(-63.08, 14.38, 15)
    url = f"/geo/collections/assets/tiles/WebMercatorQuad/15/{tile.y}/{tile.x}"

    def names() -> set[str]:
        content = Client().get(url).content
        return {f["properties"]["name"] for f in mapbox_vector_tile.decode(content)["assets"]["features"]}

    with override_settings(DATA_DIR=tmp_path):
        school = asset(code="SCH-010", geometry=point(-63.08, 14.38))
        roads_before = collection_version("roads")
        assert names() == {school.name}
        assert list((tmp_path / "tiles" / "assets").rglob("*.mvt"))  # kept until the register changes
        services.asset_update(
            facts=facts(code="SCH-010", name="Renamed school", geometry=point(-63.08, 14.38)),
            reason="renamed",
            actor=OFFICER,
        )
        assert names() == {"Renamed school"}
        assert collection_version("roads") != roads_before
