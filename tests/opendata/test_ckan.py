"""The CKAN Action API, driven by CKAN's own client (``ckanapi.RemoteCKAN``) against a live server on
loopback, as any CKAN harvester or script would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import ckanapi
import pytest
import requests
from pytest_django.live_server_helper import LiveServer

from gov21.identity.services import token_create
from gov21.opendata.contracts import table_publish
from tests.opendata.helpers import births

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def base(live_server: LiveServer, settings: Any) -> str:
    settings.BASE_URL = live_server.url
    return str(live_server.url)


@pytest.fixture
def anonymous(base: str) -> Iterator[ckanapi.RemoteCKAN]:
    with ckanapi.RemoteCKAN(base, user_agent="gov21-tests") as client:
        yield client


@pytest.fixture
def publisher(base: str) -> Iterator[ckanapi.RemoteCKAN]:
    token = token_create(name="portal", role="registrar", lifetime=timedelta(hours=1), created_by="test").token
    with ckanapi.RemoteCKAN(base, apikey=token, user_agent="gov21-tests") as client:
        yield client


@pytest.fixture
def reader(base: str) -> Iterator[ckanapi.RemoteCKAN]:
    token = token_create(name="reader", role="reader", lifetime=timedelta(hours=1), created_by="test").token
    with ckanapi.RemoteCKAN(base, apikey=token, user_agent="gov21-tests") as client:
        yield client


def test_ckanapi_lists_shows_and_searches_published_tables(anonymous: ckanapi.RemoteCKAN) -> None:
    published = table_publish(births())

    assert anonymous.action.status_show()["ckan_version"].startswith("2.11")
    assert anonymous.action.package_list() == ["births-by-parish-month"]
    package = anonymous.action.package_show(id="births-by-parish-month")
    assert package["organization"]["name"] == "stats"
    assert package["license_id"] == "CC-BY-4.0"
    assert package["version"] == "1"
    assert [r["id"] for r in package["resources"]] == [published.resource_id]
    assert package["resources"][0]["datastore_active"] is True

    found = anonymous.action.package_search(q="births", fq="organization:stats", **{"facet.field": ["tags", "groups"]})
    assert found["count"] == 1
    assert found["facets"]["tags"] == {"births": 1, "vital statistics": 1}
    assert found["facets"]["groups"] == {"population": 1}
    assert anonymous.action.package_search(q="deaths")["count"] == 0
    assert anonymous.action.organization_list() == ["stats"]
    assert anonymous.action.organization_show(id="stats")["package_count"] == 1
    assert anonymous.action.group_list() == ["population"]
    assert anonymous.action.tag_list() == ["births", "vital statistics"]
    assert "CC-BY-4.0" in [lic["id"] for lic in anonymous.action.license_list()]


def test_ckanapi_runs_datastore_search_and_sql(anonymous: ckanapi.RemoteCKAN) -> None:
    rid = table_publish(births()).resource_id

    page = anonymous.action.datastore_search(resource_id=rid, filters={"parish": "P01"}, sort="births desc")
    assert page["total"] == 2
    assert [r["births"] for r in page["records"]] == [14, 12]
    assert [f["id"] for f in page["fields"]] == ["_id", "parish", "month", "sex", "births"]
    assert anonymous.action.datastore_search(resource_id=rid, q="p02", limit=1)["total"] == 2

    result = anonymous.action.datastore_search_sql(
        sql=f'SELECT parish, sum(births) AS n FROM "{rid}" GROUP BY parish ORDER BY parish'
    )
    assert result["records"] == [{"parish": "P01", "n": 26}, {"parish": "P02", "n": 16}]
    assert anonymous.action.datastore_info(id=rid)["meta"]["count"] == 4


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM t",
        "CREATE TABLE x AS SELECT 1",
        "ATTACH '/tmp/x.db' AS x",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT 1; SELECT 2",
        "INSTALL httpfs",
        "COPY (SELECT 1) TO '/tmp/out.csv'",
        "SELECT * FROM no_such_table",
    ],
)
def test_datastore_sql_that_writes_attaches_or_reads_files_is_a_validation_error(
    anonymous: ckanapi.RemoteCKAN, sql: str
) -> None:
    table_publish(births())
    with pytest.raises(ckanapi.ValidationError) as caught:
        anonymous.action.datastore_search_sql(sql=sql)
    assert caught.value.error_dict["__type"] == "Validation Error"
    assert "sql" in caught.value.error_dict


def test_a_query_past_its_time_limit_is_stopped(anonymous: ckanapi.RemoteCKAN, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_OPENDATA_SQL_TIMEOUT_S", "1")
    with pytest.raises(ckanapi.ValidationError) as caught:
        anonymous.action.datastore_search_sql(sql="SELECT count(*) FROM range(100000000000) a")
    assert caught.value.error_dict["code"] == "sql_timeout"


def test_rows_past_the_limit_are_cut_and_said_so(
    anonymous: ckanapi.RemoteCKAN, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV21_OPENDATA_SQL_ROWS_MAX", "3")
    result = anonymous.action.datastore_search_sql(sql="SELECT * FROM range(10)")
    assert len(result["records"]) == 3
    assert result["records_truncated"] is True


def test_ckanapi_creates_updates_patches_and_deletes_datasets_with_a_publishers_key(
    publisher: ckanapi.RemoteCKAN, anonymous: ckanapi.RemoteCKAN
) -> None:
    created = publisher.action.package_create(
        name="bus-stops",
        title="Bus stops",
        owner_org="LTA",
        notes="Where the buses stop.",
        tags=[{"name": "transport"}],
        resources=[{"name": "Timetable", "url": "https://transport.example.org/timetable.pdf", "format": "PDF"}],
    )
    assert created["organization"]["title"] == "Licensing and Transport Authority"
    assert created["resources"][0]["url"] == "https://transport.example.org/timetable.pdf"

    with pytest.raises(ckanapi.ValidationError) as taken:
        publisher.action.package_create(name="bus-stops", owner_org="LTA")
    assert taken.value.error_dict["name"] == ["That URL is already in use."]

    patched = publisher.action.package_patch(id="bus-stops", title="Bus stops and shelters")
    assert (patched["title"], patched["notes"]) == ("Bus stops and shelters", "Where the buses stop.")
    updated = publisher.action.package_update(id="bus-stops", owner_org="LTA", title="Bus stops")
    assert updated["notes"] == ""

    publisher.action.package_delete(id="bus-stops")
    assert anonymous.action.package_list() == []
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.package_show(id="bus-stops")


def test_writes_without_a_publishers_key_are_refused(anonymous: ckanapi.RemoteCKAN, reader: ckanapi.RemoteCKAN) -> None:
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_create(name="x-data", owner_org="LTA")
    with pytest.raises(ckanapi.NotAuthorized):
        reader.action.package_create(name="x-data", owner_org="LTA")
    assert anonymous.action.package_list() == []


def test_ckanapi_uploads_a_csv_into_the_datastore_and_downloads_it(
    publisher: ckanapi.RemoteCKAN, base: str, tmp_path: Any
) -> None:
    publisher.action.package_create(name="school-rolls", owner_org="CRO", title="School rolls")
    source = tmp_path / "rolls.csv"
    source.write_bytes(b"school,pupils\nSt Mary's,120\nHarbour Primary,85\n")
    with source.open("rb") as handle:
        resource = publisher.action.resource_create(package_id="school-rolls", name="Rolls", upload=handle)
    assert resource["datastore_active"] is True
    rows = publisher.action.datastore_search(resource_id=resource["id"])["records"]
    assert [(r["school"], r["pupils"]) for r in rows] == [("St Mary's", 120), ("Harbour Primary", 85)]
    dump = requests.get(f"{base}/datastore/dump/{resource['id']}?format=csv", timeout=10)
    assert dump.text == "school,pupils\r\nSt Mary's,120\r\nHarbour Primary,85\r\n"
    original = requests.get(resource["url"], timeout=10)
    assert original.content == source.read_bytes()


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        ("parish,births\nSainte-Thérèse,4\n".encode("latin-1"), "births.csv", "invalid_encoding"),
        (b"parish,births\nP01,4\nP02\n", "births.csv", "ragged_row"),
        (b'parish,births\nP01,=HYPERLINK("http://x")\n', "births.csv", "formula_cell"),
        (b"not a workbook", "births.xlsx", "invalid_xlsx"),
        (b"a,a\n1,2\n", "births.csv", "invalid_header"),
    ],
)
def test_a_malformed_upload_is_a_validation_error_and_adds_nothing(
    publisher: ckanapi.RemoteCKAN, tmp_path: Any, content: bytes, filename: str, code: str
) -> None:
    publisher.action.package_create(name="uploads", owner_org="CRO")
    source = tmp_path / filename
    source.write_bytes(content)
    with source.open("rb") as handle, pytest.raises(ckanapi.ValidationError) as caught:
        publisher.action.resource_create(package_id="uploads", upload=handle)
    assert caught.value.error_dict["code"] == code
    assert publisher.action.package_show(id="uploads")["resources"] == []


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    base: str, publisher: ckanapi.RemoteCKAN, monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher.action.package_create(name="big", owner_org="CRO")
    monkeypatch.setenv("GOV21_OPENDATA_UPLOAD_MAX_BYTES", "1000")
    answer = requests.post(
        f"{base}/api/3/action/resource_create",
        headers={"Authorization": publisher.apikey},
        data={"package_id": "big"},
        files={"upload": ("big.csv", b"a\n" + b"1\n" * 2000)},
        timeout=10,
    )
    assert answer.status_code == 413
    assert answer.json()["success"] is False
    assert answer.json()["error"]["code"] == "upload_too_large"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin",
        "http://10.0.0.5/data.csv",
        "http://169.254.169.254/latest",
        "http://localhost/x",
        "ftp://example.org/x",
    ],
)
def test_a_resource_link_to_a_private_address_is_refused(publisher: ckanapi.RemoteCKAN, url: str) -> None:
    publisher.action.package_create(name="links", owner_org="CRO")
    with pytest.raises(ckanapi.ValidationError) as caught:
        publisher.action.resource_create(package_id="links", url=url)
    assert "url" in caught.value.error_dict


def test_unknown_datasets_organizations_and_actions_answer_in_ckans_shape(
    base: str, anonymous: ckanapi.RemoteCKAN
) -> None:
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.organization_show(id="nosuch")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.datastore_search(resource_id="not-a-resource")
    with pytest.raises(ckanapi.SearchQueryError):
        anonymous.action.package_search(fq="secret:yes")
    answer = requests.get(f"{base}/api/3/action/no_such_action", timeout=10)
    assert answer.status_code == 400
    assert answer.json()["success"] is False
    broken = requests.post(
        f"{base}/api/3/action/package_show", data=b"{not json", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["__type"] == "Bad request"


def test_datastore_create_upsert_and_delete_through_the_api(publisher: ckanapi.RemoteCKAN) -> None:
    publisher.action.package_create(name="fuel-prices", owner_org="LTA")
    created = publisher.action.datastore_create(
        resource={"package_id": "fuel-prices", "name": "Prices"},
        fields=[{"id": "fuel", "type": "text"}, {"id": "price", "type": "numeric"}],
        records=[{"fuel": "diesel", "price": 2.1}, {"fuel": "petrol", "price": 2.4}],
        primary_key=["fuel"],
    )
    rid = created["resource_id"]
    publisher.action.datastore_upsert(resource_id=rid, records=[{"fuel": "diesel", "price": 2.2}], method="upsert")
    rows = publisher.action.datastore_search(resource_id=rid, sort="fuel")["records"]
    assert [(r["fuel"], r["price"]) for r in rows] == [("diesel", 2.2), ("petrol", 2.4)]
    publisher.action.datastore_delete(resource_id=rid, filters={"fuel": "petrol"})
    assert publisher.action.datastore_search(resource_id=rid)["total"] == 1
    with pytest.raises(ckanapi.ValidationError):
        publisher.action.datastore_upsert(resource_id=rid, records=[{"fuel": "lpg", "colour": "blue"}], method="insert")
    assert publisher.action.datastore_search(resource_id=rid)["total"] == 1


def test_a_published_table_cannot_be_changed_through_the_datastore_api(publisher: ckanapi.RemoteCKAN) -> None:
    rid = table_publish(births()).resource_id
    with pytest.raises(ckanapi.ValidationError):
        publisher.action.datastore_upsert(resource_id=rid, records=[], method="insert")
