"""The catalogue's search index, held in memory by each process: per active dataset its search
text, the values of every facet and the fields it sorts by, and the CKAN dictionaries of datasets
already shown. Every change a search could see raises one counter in the database in the change's
own transaction (``catalogue_changed``); a search reads that counter (one primary-key read) and
rebuilds the index when another process, or this one, changed the catalogue since."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from django.db.models import F

from gov21.opendata.models import CatalogueVersion, Dataset, Resource


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    name: str
    title: str
    created: datetime
    modified: datetime
    text: str
    facets: dict[str, tuple[str, ...]]


Version = tuple[str, int]


@dataclass
class Index:
    version: Version
    entries: list[Entry]
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[Any, tuple[list[Entry], dict[str, dict[str, int]]]] = field(default_factory=dict)


# Searches remembered per index: the same few queries (a portal's front page, a harvester's
# paging) come again and again between two changes of the catalogue.
ANSWERS_KEPT = 512
_lock = threading.Lock()
_index: Index | None = None


def catalogue_changed() -> None:
    """Call inside the transaction of any change of datasets, their tags, groups or resources."""
    if not CatalogueVersion.objects.filter(pk=1).update(counter=F("counter") + 1):
        CatalogueVersion.objects.get_or_create(pk=1, defaults={"counter": 1})


def _version() -> Version:
    found = CatalogueVersion.objects.filter(pk=1).values_list("generation", "counter").first()
    return (str(found[0]), found[1]) if found is not None else ("", 0)


def _build(version: Version) -> Index:
    many: dict[str, dict[str, set[str]]] = {"tags": {}, "groups": {}, "res_format": {}}
    for dataset_id, name in Dataset.tags.through.objects.filter(dataset__state="active").values_list(
        "dataset_id", "tag__name"
    ):
        many["tags"].setdefault(str(dataset_id), set()).add(name)
    for dataset_id, name in Dataset.groups.through.objects.filter(dataset__state="active").values_list(
        "dataset_id", "group__name"
    ):
        many["groups"].setdefault(str(dataset_id), set()).add(name)
    for dataset_id, kind in Resource.objects.filter(dataset__state="active").values_list("dataset_id", "format"):
        many["res_format"].setdefault(str(dataset_id), set()).add(kind)
    entries = []
    rows = Dataset.objects.filter(state="active").values_list(
        "id", "name", "title", "created", "modified", "search_text", "organization__name", "license_id", "frequency"
    )
    for pk, name, title, created, modified, text, organization, licence, frequency in rows.iterator(chunk_size=2000):
        key = str(pk)
        entries.append(
            Entry(
                id=key,
                name=name,
                title=title,
                created=created,
                modified=modified,
                text=text,
                facets={
                    "id": (key,),
                    "name": (name,),
                    "organization": (organization,),
                    "license_id": (licence,),
                    "frequency": (frequency,),
                    "tags": tuple(sorted(many["tags"].get(key, ()))),
                    "groups": tuple(sorted(many["groups"].get(key, ()))),
                    "res_format": tuple(sorted(many["res_format"].get(key, ()))),
                },
            )
        )
    return Index(version=version, entries=entries)


def index_current() -> Index:
    """This process's index, rebuilt first when the catalogue changed since it was built."""
    global _index
    version = _version()
    found = _index
    if found is not None and found.version == version:
        return found
    with _lock:
        if _index is None or _index.version != version:
            _index = _build(version)
        return _index


def search(
    index: Index, *, words: Sequence[str], terms: Sequence[tuple[str, str]], order: Sequence[tuple[str, bool]]
) -> list[Entry]:
    """The entries whose text holds every word and which have every (facet, value) term, sorted by
    ``order`` ((field, descending) pairs; the name breaks ties)."""
    found: Iterable[Entry] = index.entries
    for word in words:
        found = [e for e in found if word in e.text]
    for key, value in terms:
        found = [e for e in found if value in e.facets[key]]
    ordered = sorted(found, key=lambda e: e.name)
    for key, descending in reversed(order):
        ordered.sort(key=_sort_key(key), reverse=descending)
    return ordered


def _sort_key(key: str) -> Callable[[Entry], Any]:
    return lambda e: getattr(e, key)


def facet_counts(entries: Sequence[Entry], key: str, limit: int) -> dict[str, int]:
    counts = Counter(chain.from_iterable([entry.facets[key] for entry in entries]))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:limit])


def answer(
    index: Index,
    *,
    words: Sequence[str],
    terms: Sequence[tuple[str, str]],
    order: Sequence[tuple[str, bool]],
    facets: Sequence[str],
    limit: int,
) -> tuple[list[Entry], dict[str, dict[str, int]]]:
    """The matching entries in order and the counts of each facet, kept with the index for the
    next identical search (at most ``ANSWERS_KEPT``; the index, and so they, go when anything changes)."""
    key = (tuple(words), tuple(terms), tuple(order), tuple(facets), limit)
    kept = index.answers.get(key)
    if kept is not None:
        return kept
    matching = search(index, words=words, terms=terms, order=order)
    found = (matching, {facet: facet_counts(matching, facet, limit) for facet in facets})
    if len(index.answers) >= ANSWERS_KEPT:
        index.answers.pop(next(iter(index.answers)))
    index.answers[key] = found
    return found


def packages(index: Index, ids: Sequence[str], build: Callable[[list[str]], dict[str, dict[str, Any]]]) -> list[Any]:
    """The CKAN dictionaries of ``ids``, built once per index (by ``build`` for those not yet kept)."""
    missing = [i for i in ids if i not in index.packages]
    if missing:
        index.packages.update(build(missing))
    return [index.packages[i] for i in ids]
