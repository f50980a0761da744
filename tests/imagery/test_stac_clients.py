"""Real clients against the live server: pystac-client searching (GET and POST, paging), pystac
validating every object against the STAC schemas kept in the repository (never the network), and
GDAL reading a Cloud-Optimized GeoTIFF where it lies, by HTTP range requests."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pystac
import pystac.validation
import pytest
import rasterio
from pystac_client import Client
from pystac_client.exceptions import APIError
from pytest_django.live_server_helper import LiveServer

from gov21.imagery.validation import OfflineValidator, vendored_schemas

from .conftest import Catalogue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stac(live_server: LiveServer, catalogue: Catalogue) -> Client:
    return Client.open(f"{live_server.url}/stac/", timeout=30)


def _ids(search: Any) -> list[str]:
    return [item.id for item in search.items()]


def test_pystac_client_sees_the_catalogue_and_its_conformance(stac: Client) -> None:
    assert stac.conforms_to("ITEM_SEARCH") and stac.conforms_to("COLLECTIONS") and stac.conforms_to("FEATURES")
    assert sorted(collection.id for collection in stac.get_collections()) == ["flood", "survey"]
    item = stac.get_collection("survey").get_item("north-b")
    assert item is not None and item.properties["proj:code"] == "EPSG:32620"
    assert item.assets["data"].media_type == pystac.MediaType.COG


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_pystac_client_searches_by_place_time_collection_and_id(stac: Client, method: str) -> None:
    def ids(**query: Any) -> list[str]:
        return sorted(_ids(stac.search(method=method, **query)))

    assert ids(bbox=[-63.0, 14.2, -62.9, 14.3]) == ["flood-1", "north-a", "north-b"]
    assert ids(datetime="2026-09-01/2026-09-30") == ["flood-1", "flood-2", "south"]
    assert ids(collections=["flood"]) == ["flood-1", "flood-2"]
    assert ids(ids=["south", "north-a"]) == ["north-a", "south"]
    assert ids(collections=["survey"], bbox=[-63.0, 13.9, -62.9, 14.1], datetime="2026-09-02") == ["south"]
    point = {"type": "Point", "coordinates": [-62.9512, 14.27]}
    assert ids(intersects=point) == ["north-a", "north-b"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_pystac_client_follows_next_links_page_by_page(stac: Client, method: str) -> None:
    search = stac.search(method=method, limit=2, collections=["survey", "flood"])
    pages = [[item.id for item in page.items] for page in search.pages()]
    assert pages == [["flood-1", "flood-2"], ["north-a", "north-b"], ["south"]]
    assert search.matched() == 5
    assert _ids(stac.search(method=method, limit=2, max_items=3)) == ["flood-1", "flood-2", "north-a"]


def test_pystac_client_hears_a_refusal_as_an_api_error(stac: Client) -> None:
    with pytest.raises(APIError, match="antimeridian"):
        list(stac.search(method="GET", bbox=[170, 10, -170, 20]).items())
    with pytest.raises(APIError, match="closed at one end"):
        list(stac.search(method="POST", datetime="../..").items())


def test_every_item_and_collection_is_valid_against_the_kept_schemas(
    stac: Client, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A schema read from anywhere but the repository would come through StacIO: forbid it.
    def no_network(self: Any, source: Any, *args: Any, **kwargs: Any) -> str:
        raise AssertionError(f"the validator tried to read {source}")

    monkeypatch.setattr(pystac.StacIO, "read_text", no_network)
    monkeypatch.setattr(pystac.stac_io.DefaultStacIO, "read_text", no_network)
    validator = OfflineValidator()

    def fetch(path: str) -> dict[str, Any]:
        with urlopen(f"{live_server.url}{path}", timeout=30) as response:
            body: dict[str, Any] = json.load(response)
            return body

    landing = fetch("/stac/")
    assert pystac.validation.validate_dict(landing, validator=validator) == [
        "https://schemas.stacspec.org/v1.1.0/catalog-spec/json-schema/catalog.json"
    ]
    checked = 0
    for collection in fetch("/stac/collections")["collections"]:
        pystac.validation.validate_dict(collection, validator=validator)
        pystac.validation.validate_dict(fetch(f"/stac/collections/{collection['id']}"), validator=validator)
        for item in fetch(f"/stac/collections/{collection['id']}/items?limit=1000")["features"]:
            schemas = pystac.validation.validate_dict(item, validator=validator)
            assert schemas == ["https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/item.json"]
            # The extensions have no kept schema; their fields are checked here.
            properties = item["properties"]
            assert properties["proj:code"] == "EPSG:32620" and len(properties["proj:transform"]) == 6
            for asset in item["assets"].values():
                assert isinstance(asset["file:size"], int) and len(asset["file:checksum"]) == 68
            pystac.validation.validate_dict(
                fetch(item["links"][0]["href"][len(live_server.url) :]), validator=validator
            )
            checked += 1
    assert checked == 5
    assert validator.unchecked_extensions == {
        "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
        "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    }
    # The validator does refuse: an item without its time fails.
    broken = fetch("/stac/collections/survey/items/north-a")
    del broken["properties"]["datetime"]
    with pytest.raises(pystac.errors.STACValidationError):
        pystac.validation.validate_dict(broken, validator=validator)


def test_the_kept_schemas_are_the_released_ones_under_their_1_1_0_names() -> None:
    """The kept files are 1.1.0-beta.1; renamed for 1.1.0 they equal the schemas pystac carries for
    the 1.1.0 release, so validating 1.1.0 objects against them is validating against 1.1.0."""
    released = resources.files("pystac.validation.jsonschemas")
    kept = vendored_schemas()
    compared = 0
    for uri, schema in kept.items():
        if "/v1.1.0/" not in uri:
            continue
        name = uri.rsplit("/", 1)[1]
        assert schema == json.loads(released.joinpath("stac-spec", "v1.1.0", name).read_text()), name
        compared += 1
    assert compared == 11
    for name in ("Feature", "Geometry"):
        assert kept[f"https://geojson.org/schema/{name}.json"] == json.loads(
            released.joinpath("geojson", f"{name}.json").read_text()
        )


def test_gdal_reads_the_cog_remotely_by_ranges(
    live_server: LiveServer, catalogue: Catalogue, imagery_store: Path
) -> None:
    # GDAL's /vsicurl/ refuses a server that does not answer Range requests with 206 ("Range
    # downloading not supported by this server"): reading a window proves the ranges work for it.
    url = f"{live_server.url}/stac/collections/survey/items/north-a/assets/data"
    stored = catalogue["north-a"].assets.get(key="data")
    with rasterio.open(imagery_store / stored.storage_key) as local:
        expected = local.read(window=((10, 20), (5, 25)))
    with (
        rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_HTTP_MAX_RETRY="0"),
        rasterio.open(f"/vsicurl/{url}") as remote,
    ):
        assert remote.crs.to_epsg() == 32620 and (remote.width, remote.height) == (64, 48)
        assert (remote.read(window=((10, 20), (5, 25))) == expected).all()
        assert remote.overviews(1) is not None
