"""Harvesting through CKAN's harvest actions, driven by ``ckanapi`` against a live gov21; the source
is a gov21 too (its own Action API on loopback), so the harvester reads what a gov21 serves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import ckanapi
import pytest
from pytest_django.live_server_helper import LiveServer

from gov21.identity.services import token_create
from gov21.opendata.contracts import table_publish
from gov21.opendata.models import Dataset
from tests.opendata.helpers import births

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def base(live_server: LiveServer, settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    settings.BASE_URL = live_server.url
    monkeypatch.setenv("GOV21_OPENDATA_HARVEST_LOOPBACK", "true")
    return str(live_server.url)


@pytest.fixture
def publisher(base: str) -> Iterator[ckanapi.RemoteCKAN]:
    token = token_create(name="harvest", role="administrator", lifetime=timedelta(hours=1), created_by="test").token
    with ckanapi.RemoteCKAN(base, apikey=token, user_agent="gov21-tests") as client:
        yield client


@pytest.fixture
def anonymous(base: str) -> Iterator[ckanapi.RemoteCKAN]:
    with ckanapi.RemoteCKAN(base, user_agent="gov21-tests") as client:
        yield client


def test_a_source_is_created_run_and_shown_through_the_action_api(
    base: str, publisher: ckanapi.RemoteCKAN, anonymous: ckanapi.RemoteCKAN
) -> None:
    table_publish(births())

    source = publisher.action.harvest_source_create(
        name="peer", url=f"{base}/api/3/action", source_type="ckan", owner_org="DGO", frequency="MANUAL"
    )
    job = publisher.action.harvest_job_create(source_id=source["id"])

    assert job["status"] == "finished"
    assert job["stats"] == {"added": 1, "updated": 0, "not modified": 0, "deleted": 0, "errored": 0}
    copy = Dataset.objects.get(harvested_from__name="peer")
    # The source's dataset keeps its name there; here the name is taken, by that very dataset.
    assert copy.name == "peer-births-by-parish-month"
    shown = anonymous.action.package_show(id=copy.name)
    assert shown["harvest_identifier"] == f"{base}/dataset/births-by-parish-month"
    assert shown["resources"][0]["url"].startswith(f"{base}/datastore/dump/")
    listed = anonymous.action.harvest_source_list()
    assert [s["name"] for s in listed] == ["peer"]
    assert anonymous.action.harvest_source_show(id="peer")["status"]["last_job"]["status"] == "finished"
    assert len(anonymous.action.harvest_job_list(source_id="peer")) == 1


def test_harvest_errors_come_in_ckans_shape(publisher: ckanapi.RemoteCKAN, anonymous: ckanapi.RemoteCKAN) -> None:
    with pytest.raises(ckanapi.ValidationError) as private:
        publisher.action.harvest_source_create(name="inside", url="http://10.0.0.2/", owner_org="DGO")
    assert "public address" in private.value.error_dict["url"][0]

    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.harvest_source_create(name="x", url="https://example.org/", owner_org="DGO")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.harvest_source_show(id="nowhere")

    publisher.action.harvest_source_create(
        name="dead", url="http://127.0.0.1:9/catalog.ttl", source_type="dcat_rdf", owner_org="DGO"
    )
    failed = publisher.action.harvest_job_create(source_id="dead")
    assert failed["status"] == "failed"
    assert "could not be reached" in failed["gather_errors"][0]["message"]
