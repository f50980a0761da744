"""The land register's collections through the OGC API Features server over HTTP: parcels without
owners, buildings, box and time queries, filters, paging, and a box that reads only matching rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import morecantile
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gov21.geo import views
from gov21.geo.contracts import collection_version
from gov21.land import collections
from gov21.land.records import PartPlan, SubdivisionFacts, TransferFacts
from tests.land.helpers import (
    SOUTH,
    STEP,
    WEST,
    complete,
    first_register,
    geojson,
    lodge,
    owners,
    person,
    rect,
    ref,
    square,
)

pytestmark = pytest.mark.django_db
ITEMS = "/geo/collections/parcels/items"


def _json(url: str) -> dict[str, Any]:
    response = Client().get(url, HTTP_ACCEPT="application/geo+json")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"{WEST + x0 * STEP},{SOUTH + y0 * STEP},{WEST + x1 * STEP},{SOUTH + y1 * STEP}"


def test_parcels_are_public_and_name_no_owner() -> None:
    owner = person()
    number = first_register(square(0, 0), owners((owner, "1/1")), buildings=[rect(0.2, 0.2, 0.4, 0.4)])
    body = _json(f"{ITEMS}?f=json")
    [feature] = body["features"]
    assert feature["id"] == number
    assert set(feature["properties"]) == {"number", "parish", "area_m2", "land_use"}
    assert owner.uin.encode() not in Client().get(f"{ITEMS}?f=json").content
    assert _json(f"/geo/collections/parcels/items/{number}?f=json")["properties"]["parish"] == "XA-01"
    [building] = _json("/geo/collections/buildings/items?f=json")["features"]
    assert building["properties"]["parcel_number"] == number
    assert "parcels" in {c["id"] for c in _json("/geo/collections?f=json")["collections"]}


def test_a_box_finds_the_parcels_it_meets_and_reads_only_rows_whose_boxes_meet_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers = [first_register(square(col, 0), owners((person(), "1/1"))) for col in range(4)]
    # An L-shaped parcel whose box meets the window but whose shape does not.
    ell = {
        "type": "Polygon",
        "coordinates": [
            [
                [WEST + 5 * STEP, SOUTH],
                [WEST + 8 * STEP, SOUTH],
                [WEST + 8 * STEP, SOUTH + 0.2 * STEP],
                [WEST + 5.2 * STEP, SOUTH + 0.2 * STEP],
                [WEST + 5.2 * STEP, SOUTH + 3 * STEP],
                [WEST + 5 * STEP, SOUTH + 3 * STEP],
                [WEST + 5 * STEP, SOUTH],
            ]
        ],
    }
    first_register(ell, owners((person(), "1/1")))
    found = _json(f"{ITEMS}?f=json&bbox={_box(1.5, 0.2, 2.5, 0.8)}")
    assert [f["id"] for f in found["features"]] == numbers[1:3] and found["numberMatched"] == 2
    inside_ell = _json(f"{ITEMS}?f=json&bbox={_box(6, 1, 7, 2)}")
    assert inside_ell["features"] == [] and inside_ell["numberMatched"] == 0
    with CaptureQueriesContext(connection) as queries:
        _json(f"{ITEMS}?f=json&bbox={_box(1.5, 0.2, 2.5, 0.8)}")
    reads = [q["sql"] for q in queries.captured_queries if "land_parcel" in q["sql"]]
    # One statement reads the candidates by their boxes (and the WKB of those on the edge) with the
    # collection's version; the page's features were kept by the first request (geo.kept), so no
    # statement reads them again, and the request makes no other.
    assert len(reads) == 1 and "max_lon" in reads[0] and "geo_collectionversion" in reads[0]
    assert len(queries.captured_queries) == 1
    # Without them (as for a register that keeps no version), one statement more reads the page.
    _unkept(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        _json(f"{ITEMS}?f=json&bbox={_box(1.5, 0.2, 2.5, 0.8)}")
    reads = [q["sql"] for q in queries.captured_queries if "land_parcel" in q["sql"]]
    assert len(reads) == 2 and "max_lon" in reads[0] and "max_lon" not in reads[1]
    # A large page (a tile's) is read by the range of its ids: the same features. In the range of
    # the second and third squares' ids, the fourth's box is a candidate but not on the page.
    by_ids = _json(f"{ITEMS}?f=json&bbox={_box(0.5, 0.1, 5.1, 0.15)}")
    assert [f["id"] for f in by_ids["features"]][:4] == numbers and by_ids["numberMatched"] == 5
    monkeypatch.setattr(collections, "_BY_ID", 1)
    by_range = _json(f"{ITEMS}?f=json&bbox={_box(0.5, 0.1, 5.1, 0.15)}")
    assert by_range["features"] == by_ids["features"] and by_range["numberMatched"] == 5
    paged = _json(f"{ITEMS}?f=json&limit=2&offset=1&bbox={_box(0.5, 0.1, 5.1, 0.15)}")
    assert [f["id"] for f in paged["features"]] == numbers[1:3]


def test_filters_paging_and_time() -> None:
    seller, buyer = person(), person()
    numbers = [first_register(square(col, 2), owners((seller, "1/1")), parish="XA-02") for col in range(3)]
    first_register(square(5, 2), owners((person(), "1/1")))
    by_parish = _json(f"{ITEMS}?f=json&parish=XA-02&limit=2")
    assert [f["id"] for f in by_parish["features"]] == numbers[:2] and by_parish["numberMatched"] == 3
    assert any(link["rel"] == "next" for link in by_parish["links"])
    # A transfer changes no geometry: the parcel keeps one current version.
    complete(lodge(TransferFacts(parcel=numbers[0], applicant=ref(seller), buyers=owners((buyer, "1/1")))))
    assert _json(f"{ITEMS}?f=json&number={numbers[0]}")["numberMatched"] == 1
    before = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert _json(f"{ITEMS}?f=json&datetime=../{before}")["numberMatched"] == 0


def test_bad_parameters_are_refused_with_problem_details() -> None:
    response = Client().get(f"{ITEMS}?bbox=1,2,3")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    response = Client().get(f"{ITEMS}?owner=someone")
    assert response.status_code == 400
    assert Client().get("/geo/collections/parcels/items/XA-01-404?f=json").status_code == 404
    assert Client().get("/geo/collections/buildings/items/notanumber?f=json").status_code == 404


def test_the_collection_page_draws_a_map() -> None:
    first_register(square(0, 4), owners((person(), "1/1")))
    page = Client().get("/geo/collections/parcels/items", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"<svg" in page.content


def test_a_cql2_filter_selects_parcels_by_their_properties_in_the_database() -> None:
    small = first_register(square(0, 0), owners((person(), "1/1")))
    large = first_register(rect(2, 0, 4, 2), owners((person(), "1/1")))
    area = _json(f"{ITEMS}/{small}?f=json")["properties"]["area_m2"]
    body = _json(f"{ITEMS}?f=json&filter=area_m2%20%3E%20{area * 2}")
    assert [f["id"] for f in body["features"]] == [large]
    assert body["numberMatched"] == 1
    body = _json(f"{ITEMS}?f=json&filter=parish%3D'XA-01'%20AND%20NOT%20number%3D'{large}'")
    assert [f["id"] for f in body["features"]] == [small]
    # A property the collection does not have is refused, naming it, never ignored.
    refused = Client().get(f"{ITEMS}?f=json&filter=owner%3D'x'", HTTP_ACCEPT="application/geo+json")
    assert refused.status_code == 400
    assert "owner" in refused.json()["detail"]


def test_a_parcels_tile_is_kept_until_a_registration_changes_the_parcels(tmp_path: Path) -> None:
    from gov21.land.records import PartPlan, SubdivisionFacts
    from tests.land.helpers import geojson

    seller, buyer = person(), person()
    parent = first_register(square(0, 0), owners((seller, "1/1")))
    tile = morecantile.tms.get("WebMercatorQuad").tile(WEST + 0.5 * STEP, SOUTH + 0.5 * STEP, 16)
    url = f"/geo/collections/parcels/tiles/WebMercatorQuad/16/{tile.y}/{tile.x}"
    client = Client()

    def numbers(content: bytes) -> set[str]:
        return {f["properties"]["id"] for f in mapbox_vector_tile.decode(content)["parcels"]["features"]}

    first = client.get(url)
    assert first.status_code == 200 and numbers(first.content) == {parent}
    assert list((tmp_path / "tiles" / "parcels").rglob("*.mvt"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert not [q for q in queries.captured_queries if "land_parcel" in q["sql"]]
    # A transfer changes no parcel: the kept tile is still the right one.
    complete(lodge(TransferFacts(parcel=parent, applicant=ref(seller), buyers=owners((buyer, "1/1")))))
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # A subdivision does: the next tile has the two new parcels and not their parent.
    parts = [PartPlan(geometry=geojson(rect(0, 0, 0.5, 1))), PartPlan(geometry=geojson(rect(0.5, 0, 1, 1)))]
    made = complete(lodge(SubdivisionFacts(parcel=parent, applicant=ref(buyer), parts=parts))).made
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert numbers(changed.content) == set(made)


def test_a_page_of_kept_features_is_the_page_read_anew_and_a_registration_changes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = person()
    numbers = [first_register(square(col, row), owners((owner, "1/1"))) for col in range(3) for row in range(2)]
    url = f"{ITEMS}?f=json&limit=4&bbox={_box(0.5, 0.5, 2.5, 1.5)}"
    fixed = timezone.now()
    monkeypatch.setattr(views, "datetime", type("Fixed", (), {"now": staticmethod(lambda tz=None: fixed)}))
    first, again = Client().get(url), Client().get(url)
    with monkeypatch.context() as unkept:
        _unkept(unkept)
        anew = Client().get(url)
    assert first.content == again.content == anew.content
    assert [f["id"] for f in first.json()["features"]] == sorted(numbers)[:4]
    # In CRS84 and in metres: each is kept apart.
    utm = f"{url}&crs=EPSG:32620"
    kept_utm = Client().get(utm).content
    with monkeypatch.context() as unkept:
        _unkept(unkept)
        assert Client().get(utm).content == kept_utm
    # A subdivision ends a parcel's current version: its row's feature becomes an earlier version,
    # with another id, and the next page read says so (the register changed the collection's version).
    every = f"{ITEMS}?f=json&limit=100&datetime=2000-01-01/..&bbox={_box(0.5, 0.5, 2.5, 1.5)}"
    parent = numbers[0]
    assert parent in [f["id"] for f in Client().get(every).json()["features"]]
    parts = [PartPlan(geometry=geojson(rect(0, 0, 0.5, 1))), PartPlan(geometry=geojson(rect(0.5, 0, 1, 1)))]
    made = complete(lodge(SubdivisionFacts(parcel=parent, applicant=ref(owner), parts=parts))).made
    after = [f["id"] for f in Client().get(every).json()["features"]]
    assert parent not in after and any(i.startswith(parent + "~") for i in after)
    assert str(made[1]) in after
    # The page of the box alone, whose version comes with its keys, says so too.
    now = [
        f["id"] for f in Client().get(f"{ITEMS}?f=json&limit=100&bbox={_box(0.5, 0.5, 2.5, 1.5)}").json()["features"]
    ]
    assert parent not in now and str(made[1]) in now
    with monkeypatch.context() as unkept:
        _unkept(unkept)
        assert [
            f["id"]
            for f in Client().get(f"{ITEMS}?f=json&limit=100&bbox={_box(0.5, 0.5, 2.5, 1.5)}").json()["features"]
        ] == now


def _unkept(patch: pytest.MonkeyPatch) -> None:
    """Serve the parcels as a collection that keeps nothing: each page read anew from the register."""
    collection = views._collection

    def unversioned(request: Any, collection_id: str) -> Any:
        found, reader = collection(request, collection_id)
        return replace(found, rows=None, features_of=None, versioned=False), reader

    patch.setattr(views, "_collection", unversioned)


def test_a_box_alone_reads_through_the_statement_compiled_once_and_finds_what_the_queryset_finds() -> None:
    from gov21.core.geo import parse_bbox
    from gov21.geo.contracts import Query
    from gov21.land.models import Parcel

    numbers = [first_register(square(col, row), owners((person(), "1/1"))) for col in range(3) for row in range(2)]
    first_register(rect(4, 0, 4.2, 3), owners((person(), "1/1")))
    windows = [
        (0.5, 0.5, 2.5, 1.5),
        (1.5, 0.2, 2.5, 0.8),
        (0.1, 0.1, 0.2, 0.2),
        (3.1, 0, 3.9, 3),
        (-1, -1, 9, 9),
        (4.1, 2, 6, 2.5),
    ]
    for x0, y0, x1, y1 in windows:
        query = Query(limit=100, bbox=parse_bbox(_box(x0, y0, x1, y1)))
        compiled, version = collections._current_keys(Parcel, query.bbox.geometry(), "parcels")
        built = collections._matching_ids(Parcel.objects.filter(valid_to__isnull=True), query)
        assert compiled == built, (x0, y0, x1, y1)
        if compiled:  # the version, read in the same statement as the keys
            assert version == collection_version("parcels") is not None
    everything, _version = collections._current_keys(Parcel, parse_bbox(_box(-1, -1, 9, 9)).geometry(), "parcels")
    assert len(everything) == len(numbers) + 1
    # No row in the box: no keys, and no version read with them.
    assert collections._current_keys(Parcel, parse_bbox(_box(3.1, 0, 3.9, 3)).geometry(), "parcels") == ([], None)
