"""``table_publish``: the door through which the statistics office publishes its tables."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest

from gov21.core.errors import DomainError
from gov21.opendata import datastore
from gov21.opendata.contracts import PublishedVersion, TableColumn, table_publish
from gov21.opendata.models import Dataset, Organization, Version
from tests.opendata.helpers import ROWS, births

pytestmark = pytest.mark.django_db


def _current(resource_id: str) -> list[tuple[object, ...]]:
    _names, rows, _cut = datastore.sql_run(
        f'SELECT parish, month, sex, births FROM "{resource_id}" ORDER BY _id', limit=100, timeout_s=5
    )
    return rows


def test_the_first_publication_creates_the_dataset_its_organization_and_version_1() -> None:
    published = table_publish(births())

    assert published == PublishedVersion("births-by-parish-month", 1, published.resource_id, created=True)
    dataset = Dataset.objects.get(name="births-by-parish-month")
    organization = Organization.objects.get(member_code="STATS")
    assert (organization.name, organization.title) == ("stats", "Statistics Office")
    assert dataset.organization == organization
    assert sorted(t.name for t in dataset.tags.all()) == ["births", "vital statistics"]
    assert [g.name for g in dataset.groups.all()] == ["population"]
    assert _current(published.resource_id) == ROWS
    assert dataset.resources.get().fields[3] == {"id": "births", "type": "int", "info": {"label": "Births"}}


def test_the_same_rows_again_create_no_version() -> None:
    first = table_publish(births())
    again = table_publish(births(change_note="Nothing new."))

    assert again == PublishedVersion(first.dataset, 1, first.resource_id, created=False)
    assert Version.objects.count() == 1


def test_changed_rows_make_version_2_with_its_diff_and_keep_version_1() -> None:
    first = table_publish(births())
    rows = [*ROWS[:3], ("P02", date(2026, 1, 1), "M", 10), ("P03", date(2026, 1, 1), "F", 5)]
    second = table_publish(births(rows=rows[1:], change_note="Late registrations."))

    assert (second.version, second.resource_id, second.created) == (2, first.resource_id, True)
    version = Version.objects.get(number=2)
    assert (version.diff["added"], version.diff["removed"], version.diff["changed"]) == (1, 1, 1)
    assert version.diff["key"] == ["parish", "month", "sex"]
    assert version.diff["examples"]["changed"] == [
        {"before": ["P02", "2026-01-01", "M", "9"], "after": ["P02", "2026-01-01", "M", "10"]}
    ]
    assert _current(first.resource_id) == rows[1:]
    # The first release is still there, unchanged, under its own name.
    assert datastore.table_rows(f"{first.resource_id}@1", ["parish", "month", "sex", "births"]) == ROWS
    assert Dataset.objects.get().version == 2


def test_a_failure_after_the_table_is_written_publishes_nothing() -> None:
    first = table_publish(births())
    with (
        mock.patch.object(Version.objects, "create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        table_publish(births(rows=ROWS[:2], change_note="Fewer rows."))

    assert Version.objects.count() == 1
    assert _current(first.resource_id) == ROWS
    _names, tables, _cut = datastore.sql_run(
        "SELECT table_name FROM information_schema.tables ORDER BY 1", limit=10, timeout_s=5
    )
    assert tables == [(first.resource_id,), (f"{first.resource_id}@1",)]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"dataset": "Births!"}, "invalid_name"),
        ({"organization": "NOSUCH"}, "unknown_organization"),
        ({"licence": "proprietary"}, "invalid_licence"),
        ({"frequency": "hourly"}, "invalid_frequency"),
        ({"change_note": " "}, "invalid_change_note"),
        ({"columns": (TableColumn("Parish", "text", "Parish"),)}, "invalid_column"),
        ({"rows": [("P01", date(2026, 1, 1), "F")]}, "ragged_row"),
        ({"rows": [("P01", date(2026, 1, 1), "F", "twelve")]}, "invalid_cell"),
        ({"temporal_start": date(2026, 2, 1)}, "invalid_temporal"),
    ],
)
def test_bad_publications_are_refused_and_publish_nothing(changes: dict[str, object], code: str) -> None:
    with pytest.raises(DomainError) as caught:
        table_publish(births(**changes))

    assert caught.value.code == code
    assert not Dataset.objects.exists()
    assert not Organization.objects.exists()


def test_a_second_organization_cannot_take_a_dataset_name() -> None:
    table_publish(births())
    with pytest.raises(DomainError) as caught:
        table_publish(births(organization="CRO"))
    assert caught.value.status == 409
