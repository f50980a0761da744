"""The portal's pages of the catalogue, read without JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.opendata.contracts import table_publish
from tests.opendata.helpers import ROWS, births

pytestmark = pytest.mark.django_db


def test_search_finds_a_published_dataset(client: Client) -> None:
    table_publish(births())
    page = client.get("/dataset/", {"q": "births"}).content.decode()
    assert "Births by parish and month" in page
    assert "1 dataset" in page
    assert "0 datasets" in client.get("/dataset/", {"q": "rainfall"}).content.decode()


def test_a_dataset_page_previews_its_table_sorted_and_charts_it(client: Client) -> None:
    table_publish(births())
    table_publish(births(rows=ROWS[1:], change_note="One row withdrawn."))

    page = client.get("/dataset/births-by-parish-month", {"sort": "births", "desc": "on"}).content.decode()
    cells = page.split('<table id="preview">', 1)[1].split("</table>", 1)[0]
    assert cells.index("<td>14</td>") < cells.index("<td>9</td>") < cells.index("<td>7</td>")
    assert 'aria-sort="descending"' in cells
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page
    assert '<title id="chart-title">Births by Parish</title>' in page
    # The chart's numbers as a table: P01 has 14 (one row withdrawn), P02 7 + 9.
    assert '<th scope="row">P01</th><td>14</td>' in page
    assert '<th scope="row">P02</th><td>16</td>' in page
    assert "One row withdrawn." in page and "First release." in page
    assert "?version=1" in page


def test_a_bad_page_or_sort_shows_the_first_page_and_an_unknown_dataset_is_404(client: Client) -> None:
    table_publish(births())
    answer = client.get("/dataset/births-by-parish-month", {"page": "x", "sort": "'; DROP TABLE"})
    assert answer.status_code == 200
    assert client.get("/dataset/no-such-thing").status_code == 404


def test_the_dataset_address_answers_rdf_to_a_harvester(client: Client) -> None:
    table_publish(births())
    answer = client.get("/dataset/births-by-parish-month", HTTP_ACCEPT="text/turtle")
    assert answer["Content-Type"].startswith("text/turtle")
    assert b"dcat:Dataset" in answer.content


def test_downloads_of_every_format_and_of_an_earlier_version(client: Client) -> None:
    rid = table_publish(births()).resource_id
    table_publish(births(rows=ROWS[1:], change_note="One row withdrawn."))
    now = client.get(f"/datastore/dump/{rid}").content.decode()
    before = client.get(f"/datastore/dump/{rid}", {"version": "1"}).content.decode()
    assert now.count("\r\n") == 4 and before.count("\r\n") == 5
    assert client.get(f"/datastore/dump/{rid}", {"format": "xlsx"}).content[:2] == b"PK"
    assert client.get(f"/datastore/dump/{rid}", {"format": "parquet"}).content[:4] == b"PAR1"
    assert client.get(f"/datastore/dump/{rid}", {"format": "json"}).json()["records"][0]["parish"] == "P01"
    assert client.get(f"/datastore/dump/{rid}", {"format": "exe"}).status_code == 422
    assert client.get(f"/datastore/dump/{rid}", {"version": "9"}).status_code == 404


def _geojson_resource(content: bytes, name: str = "clinics.geojson") -> str:
    from gov21.core.principal import Principal, PrincipalKind
    from gov21.opendata import services, uploads

    publisher = Principal(name="p", kind=PrincipalKind.STAFF, roles=frozenset({"registrar"}))
    dataset = services.package_create(
        principal=publisher, data={"name": "clinics", "title": "Clinics", "owner_org": "STATS"}
    )
    services.resource_create(
        principal=publisher,
        data={"package_id": str(dataset.id), "name": "Clinic locations", "format": "GeoJSON"},
        upload=uploads.Upload(filename=name, content=content, media_type="application/geo+json"),
    )
    return dataset.name


def test_a_geojson_resource_is_drawn_on_a_map_without_script(client: Client) -> None:
    import orjson

    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "c1",
                "geometry": {"type": "Point", "coordinates": [-61.5, 16.2]},
                "properties": {"name": "North clinic"},
            },
            {
                "type": "Feature",
                "id": "c2",
                "geometry": {"type": "Point", "coordinates": [-61.6, 16.1]},
                "properties": {"name": "South clinic"},
            },
            {"type": "Feature", "id": "bad", "geometry": {"type": "Point", "coordinates": [500, 16]}},
        ],
    }
    name = _geojson_resource(orjson.dumps(collection))

    page = client.get(f"/dataset/{name}").content.decode()

    assert "Map: Clinic locations" in page
    assert "<svg" in page and 'role="img"' in page
    assert "North clinic" in page and "South clinic" in page
    assert "2 of 3 features are shown" in page


def test_a_broken_geojson_file_is_said_to_be_unreadable(client: Client) -> None:
    name = _geojson_resource(b"{not json")

    page = client.get(f"/dataset/{name}")

    assert page.status_code == 200
    assert "could not be read as GeoJSON" in page.content.decode()
