"""The statistics office follows the registry's events through the exchange and publishes its
protected tables on the data portal."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.utils import timezone

from gov21.core.principal import Principal
from gov21.opendata import datastore
from gov21.opendata.models import Dataset
from gov21.statistics import services
from gov21.statistics.models import TableRelease
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

REGISTRAR = Principal(name="civil.registrar", kind="staff", roles=frozenset({"registrar"}))
FAMILIES = ("Alleyne", "Baptiste", "Charles", "Duncan", "Edwards", "Francois", "Gordon", "Hinds", "Ince", "Joseph")
_used = {"n": 0}


def births(n: int, *, month: int, sex: str = "F") -> None:
    """``n`` births in ``month`` of this year, each on its own day to a family of its own (no two look
    like duplicates of each other)."""
    year = timezone.localdate().year
    for _ in range(n):
        _used["n"] += 1
        k = _used["n"]
        register_person(REGISTRAR, sex=sex, born=date(year, month, k % 28 + 1), family=f"{FAMILIES[k % 10]}{k}")


def published(resource_id: str) -> dict[tuple[str, str, str], int | None]:
    """The portal's current table: the count of each (parish, month, sex), None where suppressed."""
    _names, rows, _cut = datastore.sql_run(
        f'SELECT parish, month, sex, births, suppressed FROM "{resource_id}"', limit=10000, timeout_s=5
    )
    out: dict[tuple[str, str, str], int | None] = {}
    for parish, month, sex, count, suppressed in rows:
        assert suppressed == (count is None)
        out[(str(parish), str(month), str(sex))] = None if count is None else int(count)
    return out


def test_a_registration_reaches_the_published_table_within_seconds() -> None:
    year = timezone.localdate().year
    births(6, month=3)
    count, _made = services.events_follow()
    assert count == 6
    name = f"births-by-parish-month-sex-{year}"
    first = TableRelease.objects.get(dataset=name, version=1)
    assert first.portal_version == 1
    table = published(first.portal_resource)
    assert table[("XA-01", f"{year}-03", "F")] == 6
    assert table[("total", "total", "total")] == 6
    assert table[("XA-02", f"{year}-03", "F")] == 0

    started = time.monotonic()
    births(1, month=3)
    count, _made = services.events_follow()
    elapsed = time.monotonic() - started
    assert count == 1
    assert elapsed < 10
    second = TableRelease.objects.get(dataset=name, version=2)
    assert second.portal_version == 2
    assert published(second.portal_resource)[("XA-01", f"{year}-03", "F")] == 7
    assert Dataset.objects.get(name=name).organization.member_code == "STATS"


def test_small_counts_are_never_published() -> None:
    year = timezone.localdate().year
    births(3, month=4)
    births(8, month=5)
    services.events_follow()
    release = TableRelease.objects.get(dataset=f"births-by-parish-month-sex-{year}")
    table = published(release.portal_resource)
    assert all(v is None or v == 0 or v >= 5 for v in table.values())
    assert table[("XA-01", f"{year}-04", "F")] is None
    # Its row total would give it away beside May's 8: both are hidden.
    assert table[("XA-01", "total", "F")] is None or table[("XA-01", f"{year}-05", "F")] is None
    assert "threshold 5" in Dataset.objects.get(name=release.dataset).notes


def test_events_already_read_are_not_read_again() -> None:
    births(5, month=2)
    assert services.events_follow()[0] == 5
    assert services.events_follow() == (0, [])
