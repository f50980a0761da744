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


QUERIES: tuple[tuple[str, str, str], ...] = (
    ("", "", "name asc"),
    ("roads", "", ""),
    ("table", "organization:lta", "title_string desc"),
    ("about", "tags:t1", "metadata_created asc, name desc"),
    ("", "res_format:PDF", "metadata_modified desc"),
    ("renamed", "", ""),
    ("s", "groups:theme-1", "name desc"),
)


def _answers(index: search.Index) -> list[tuple[int, list[str], dict[str, dict[str, int]]]]:
    found = []
    for q, fq, sort in QUERIES:
        words, terms = selectors._query(q)
        terms += selectors._terms(fq, field="fq")
        order = [(selectors.SORTS[p.split()[0]].lstrip("-"), "desc" in p) for p in (sort or "name asc").split(",")]
        answer, page = search.answer(
            index,
            words=words,
            terms=terms,
            order=order,
            facets=list(selectors.FACETABLE),
            limit=50,
            start=0,
            rows=1000,
        )
        found.append((answer.count, page, answer.facets))
    return found


def test_the_index_kept_current_change_by_change_answers_as_one_built_afresh() -> None:
    import random

    _catalogue(30)
    kept = search.index_current()
    chance = random.Random(77)
    alive = [f"d-{i:03d}" for i in range(30)]
    made = 30
    withdrawn: list[str] = []
    for _step in range(40):
        kind = chance.choice(["create", "update", "delete", "withdraw", "return", "resource"])
        if kind == "create" or not alive:
            services.package_create(
                principal=PUBLISHER,
                data={"name": f"d-{made:03d}", "title": f"New {WORDS[made % 4]}", "owner_org": ORGS[made % 3]},
            )
            alive.append(f"d-{made:03d}")
            made += 1
        elif kind == "update":
            name = chance.choice(alive)
            services.package_update(
                principal=PUBLISHER,
                data={
                    "id": name,
                    "title": f"Renamed {chance.choice(WORDS)}",
                    "tags": [chance.choice(WORDS), f"t{chance.randrange(7)}"],
                    "groups": [f"theme-{chance.randrange(3)}"],
                    "owner_org": chance.choice(ORGS),
                },
                partial=True,
            )
        elif kind == "delete":
            name = alive.pop(chance.randrange(len(alive)))
            services.package_delete(principal=PUBLISHER, key=name)
        elif kind == "withdraw":
            # What a harvest does to a dataset its source no longer lists, from another process.
            name = alive.pop(chance.randrange(len(alive)))
            dataset = Dataset.objects.get(name=name)
            Dataset.objects.filter(pk=dataset.pk).update(state="deleted")
            search.catalogue_changed([dataset.pk])
            withdrawn.append(name)
        elif kind == "return" and withdrawn:
            name = withdrawn.pop()
            dataset = Dataset.objects.get(name=name)
            Dataset.objects.filter(pk=dataset.pk).update(state="active")
            search.catalogue_changed([dataset.pk])
            alive.append(name)
        else:
            name = chance.choice(alive)
            services.resource_create(
                principal=PUBLISHER,
                data={
                    "package_id": name,
                    "url": "https://example.org/y.json",
                    "format": chance.choice(["JSON", "PDF"]),
                },
                upload=None,
            )
        current = search.index_current()
        assert current is kept  # brought up to date in place, not built again
        assert len(current) == len(alive)
        assert _answers(current) == _answers(search._build(search._version())), (_step, kind)


def test_a_change_naming_no_dataset_builds_the_index_again() -> None:
    _catalogue(3)
    before = search.index_current()
    search.catalogue_changed()
    assert search.index_current() is not before


def test_a_changed_dataset_is_shown_changed_and_a_deleted_one_to_no_one() -> None:
    _catalogue(4)
    # A publisher's search first: what it puts in the index's memory is what anyone may see.
    assert [p["name"] for p in _search(q="harbour")["results"]] == []
    services.package_update(principal=PUBLISHER, data={"id": "d-001", "title": "Harbour arrivals"}, partial=True)
    shown = _search(q="harbour")["results"]
    assert [(p["name"], p["title"]) for p in shown] == [("d-001", "Harbour arrivals")]
    services.package_update(principal=PUBLISHER, data={"id": "d-001", "title": "Harbour departures"}, partial=True)
    assert [p["title"] for p in _search(q="harbour")["results"]] == ["Harbour departures"]
    services.package_delete(principal=PUBLISHER, key="d-001")
    assert _search(q="harbour")["count"] == 0
    assert "d-001" not in [p["name"] for p in _search(rows=100)["results"]]
