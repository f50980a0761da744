"""The in-memory search index: the same answers as the catalogue's tables, current across
processes through the database's counter, and one query per search once built."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from gov21.core.principal import Principal, PrincipalKind
from gov21.opendata import search, selectors, services
from gov21.opendata.models import Dataset

pytestmark = pytest.mark.django_db

PUBLISHER = Principal(name="p", kind=PrincipalKind.STAFF, roles=frozenset({"registrar"}))
WORDS = ("births", "roads", "water", "schools")
ORGS = ("STATS", "LTA", "PWD")


def _catalogue(n: int = 24) -> None:
    for i in range(n):
        services.package_create(
            principal=PUBLISHER,
            data={
                "name": f"d-{i:03d}",
                "title": f"{WORDS[i % 4].capitalize()} table {i}",
                "notes": f"About {WORDS[(i * 3) % 4]}.",
                "owner_org": ORGS[i % 3],
                "tags": [WORDS[i % 4], f"t{i % 5}"],
                "groups": [f"theme-{i % 2}"],
                "resources": [{"url": "https://example.org/x.csv", "format": ("CSV", "PDF")[i % 2]}],
            },
        )


def _search(**kw: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "q": "",
        "fq": "",
        "rows": 10,
        "start": 0,
        "sort": "",
        "facet_fields": [],
        "facet_limit": 50,
    }
    return selectors.package_search(**(defaults | kw))


def test_answers_match_the_catalogue_tables() -> None:
    _catalogue()
    for q, fq in [
        ("roads", ""),
        ("about water", "organization:lta"),
        ("", "tags:t1 groups:theme-0"),
        ("table", "res_format:PDF"),
    ]:
        found = _search(q=q, fq=fq, rows=100, sort="name asc", facet_fields=["organization", "tags", "res_format"])
        expected = Dataset.objects.filter(state="active")
        for word in q.split():
            expected = expected.filter(search_text__contains=word)
        for term in fq.split():
            key, value = term.split(":")
            lookup = {
                "organization": "organization__name",
                "tags": "tags__name",
                "groups": "groups__name",
                "res_format": "resources__format",
            }[key]
            expected = expected.filter(**{lookup: value})
        names = sorted(expected.values_list("name", flat=True))
        assert [p["name"] for p in found["results"]] == names, (q, fq)
        assert found["count"] == len(names)
        orgs = Counter(expected.values_list("organization__name", flat=True))
        assert found["facets"]["organization"] == dict(sorted(orgs.items(), key=lambda kv: (-kv[1], kv[0])))
        tags = Counter(t for d in expected for t in d.tags.values_list("name", flat=True))
        assert found["facets"]["tags"] == dict(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0])))


def test_sorting_and_paging() -> None:
    _catalogue(12)
    first = _search(sort="title_string asc, name desc", rows=5)
    second = _search(sort="title_string asc, name desc", rows=5, start=5)
    titles = [p["title"] for p in first["results"] + second["results"]]
    assert titles == sorted(Dataset.objects.values_list("title", flat=True))[:10]
    newest = _search(sort="metadata_modified desc", rows=1)["results"][0]["name"]
    assert newest == Dataset.objects.order_by("-modified").first().name  # type: ignore[union-attr]


def test_a_change_made_by_another_process_is_seen_through_the_counter() -> None:
    _catalogue(4)
    assert _search(q="harbour")["count"] == 0
    # Another worker's write: the rows and the counter, in one transaction, not through this process.
    Dataset.objects.filter(name="d-001").update(search_text="d-001 harbour arrivals")
    assert _search(q="harbour")["count"] == 0  # the counter did not move: the index is still current
    search.catalogue_changed()
    assert [p["name"] for p in _search(q="harbour")["results"]] == ["d-001"]
    services.package_delete(principal=PUBLISHER, key="d-001")
    assert _search(q="harbour")["count"] == 0


def test_a_search_on_a_current_index_reads_one_row(django_assert_max_num_queries: Any) -> None:
    _catalogue(6)
    _search(q="table", facet_fields=["organization", "tags"])
    with django_assert_max_num_queries(1):
        found = _search(q="table", facet_fields=["organization", "tags"])
    assert found["count"] == 6
