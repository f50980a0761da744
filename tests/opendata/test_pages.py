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
