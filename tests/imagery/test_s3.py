"""Imagery kept in an S3 bucket (``GOV21_IMAGERY_STORAGE=s3://…``), against moto's S3 server on
loopback: a real S3 protocol peer. Files are written there, served by byte range from there, and
tiles are cut by GDAL reading the bucket (/vsis3/)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.test import Client

from gov21.core.errors import DomainError
from gov21.imagery.models import ImageryItem
from gov21.imagery.services import imagery_add

from .conftest import MakeRaster, tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("moto_server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(s3_server: str, settings: Any) -> Any:
    settings.GOV21_S3_ENDPOINT_URL = s3_server
    settings.GOV21_S3_ACCESS_KEY_ID = "testing"
    settings.GOV21_S3_SECRET_ACCESS_KEY = "testing"
    settings.GOV21_S3_REGION = "us-east-1"
    settings.GOV21_IMAGERY_STORAGE = "s3://imagery/scenes"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="imagery")
    yield client
    for found in client.list_objects_v2(Bucket="imagery").get("Contents", []):
        client.delete_object(Bucket="imagery", Key=found["Key"])
    client.delete_bucket(Bucket="imagery")


def test_imagery_is_written_to_the_bucket_and_served_from_it_by_ranges(
    bucket: Any, make_raster: MakeRaster, imagery_store: Path
) -> None:
    item = imagery_add(path=make_raster(), collection_id="survey", taken="2026-09-02T14:30:00Z").item
    keys = sorted(found["Key"] for found in bucket.list_objects_v2(Bucket="imagery")["Contents"])
    data = item.assets.get(key="data")
    assert keys == sorted(f"scenes/{asset.storage_key}" for asset in item.assets.all())
    assert not imagery_store.exists()
    stored = bucket.get_object(Bucket="imagery", Key=f"scenes/{data.storage_key}")["Body"].read()
    assert len(stored) == data.size
    client = Client()
    response = client.get("/stac/collections/survey/items/scene/assets/data", headers={"Range": "bytes=100-299"})
    assert response.status_code == 206 and response["Content-Range"] == f"bytes 100-299/{data.size}"
    assert b"".join(response.streaming_content) == stored[100:300]
    whole = client.get("/stac/collections/survey/items/scene/assets/data")
    assert b"".join(whole.streaming_content) == stored


def test_tiles_are_cut_from_the_bucket(bucket: Any, make_raster: MakeRaster) -> None:
    item = imagery_add(path=make_raster(), collection_id="survey", taken="2026-09-02").item
    centre = item.geometry.centroid
    x, y = tile_of(centre.x, centre.y, 15)
    response = Client().get(f"/stac/collections/survey/items/scene/tiles/WebMercatorQuad/15/{y}/{x}.png")
    assert response.status_code == 200 and response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bucket_that_refuses_the_file_leaves_nothing_catalogued(
    bucket: Any, make_raster: MakeRaster, settings: Any
) -> None:
    settings.GOV21_IMAGERY_STORAGE = "s3://no-such-bucket/scenes"
    with pytest.raises(DomainError, match="imagery storage refused") as refused:
        imagery_add(path=make_raster(), collection_id="survey", taken="2026-09-02")
    assert refused.value.status == 503 and not ImageryItem.objects.exists()
