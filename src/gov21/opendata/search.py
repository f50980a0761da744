"""The catalogue's search index, held in memory by each process (decisions 0071 and 0077).

Each active dataset has a slot; the index keeps, as Python integers used as bitsets over the slots,
the datasets holding each word of the search texts and each value of each facet. A search ANDs
them, counts a facet's values by ``(matching & value).bit_count()``, and pages through an ordering
of all slots computed once (with numpy) per sort. The JSON of a dataset's CKAN dictionary is made
once and joined into answers as it is.

Every change a search could see raises one counter in the database in the change's own transaction
and notes which datasets it touched (``catalogue_changed``). A search reads the counter (one
primary-key read); when another process, or this one, changed the catalogue since, it reads which
datasets changed and re-indexes only those. A change that names no dataset, a database that is not
the one the index was built from, or too many changes, build the index again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any, Final

import numpy as np
import orjson
from django.db import connection
from django.db.models import F

from gov21.opendata.models import CatalogueChange, CatalogueVersion, Dataset, Resource

# The facets an entry has values of (``id`` and ``name`` are looked up, not kept as bitsets).
FACETS: Final = ("organization", "license_id", "frequency", "tags", "groups", "res_format")
SORTABLE: Final = ("name", "title", "created", "modified")
# Searches remembered per index between two changes: a portal's front page and a harvester's
# paging come again and again.
ANSWERS_KEPT: Final = 512
# Query words whose datasets are kept (and kept current through changes).
WORDS_KEPT: Final = 4096
# Counters of changes kept in the database behind the newest; pruned every PRUNE_EVERY changes.
CHANGES_KEPT: Final = 10_000
PRUNE_EVERY: Final = 256
# Past this many changed datasets at once, building afresh is about as quick and simpler.
REINDEX_MAX: Final = 2000
# A word found in more tokens than this is looked for in the texts themselves.
TOKENS_OR_MAX: Final = 256
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    name: str
    title: str
    created: datetime
    modified: datetime
    text: str
    facets: dict[str, tuple[str, ...]]
    # The two moments in microseconds since 1970, as the orderings sort them.
    created_us: int = 0
    modified_us: int = 0


Version = tuple[str, int]
Order = tuple[tuple[str, bool], ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """The datasets a search matched (a bitset over slots), how many, and its facets' counts."""

    matching: int
    count: int
    facets: dict[str, dict[str, int]]


@dataclass
class Index:
    version: Version
    entries: list[Entry | None] = field(default_factory=list)
    slot_of: dict[str, int] = field(default_factory=dict)
    slot_named: dict[str, int] = field(default_factory=dict)
    free: list[int] = field(default_factory=list)
    alive: int = 0
    tokens: dict[str, int] = field(default_factory=dict)
    values: dict[str, dict[str, int]] = field(default_factory=lambda: {key: {} for key in FACETS})
    words: dict[str, int] = field(default_factory=dict)
    orders: dict[Order, Any] = field(default_factory=dict)
    answers: dict[Any, Answer] = field(default_factory=dict)
    # The JSON of each dataset's CKAN dictionary, by id, made when first shown.
    rendered: dict[str, bytes] = field(default_factory=dict)
    # Raised by every change applied: JSON made from the database while it moved is not kept.
    applied: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __len__(self) -> int:
        return self.alive.bit_count()


_lock = threading.Lock()
_index: Index | None = None


def catalogue_changed(datasets: Iterable[object] | None = None) -> None:
    """Call inside the transaction of any change of datasets, their tags, groups or resources,
    naming the datasets changed (their ids); ``None`` when the change may touch any of them."""
    if not CatalogueVersion.objects.filter(pk=1).update(counter=F("counter") + 1):
        CatalogueVersion.objects.get_or_create(pk=1, defaults={"counter": 1})
    # Our own raise: the row stays locked by this transaction until it ends.
    counter = CatalogueVersion.objects.filter(pk=1).values_list("counter", flat=True).get()
    ids: list[str | None] = [None] if datasets is None else [*sorted({str(d) for d in datasets})] or [None]
    CatalogueChange.objects.bulk_create([CatalogueChange(counter=counter, dataset=d) for d in ids], batch_size=500)
    if counter % PRUNE_EVERY == 0:
        CatalogueChange.objects.filter(counter__lte=counter - CHANGES_KEPT).delete()


def _version() -> Version:
    # One row by its key, on every search: a plain statement, not the ORM's compiler.
    with connection.cursor() as cursor:
        cursor.execute("SELECT generation, counter FROM opendata_catalogueversion WHERE id = 1")
        found = cursor.fetchone()
    return (str(found[0]).replace("-", ""), int(found[1])) if found is not None else ("", 0)


def _changed_since(counter: int, until: int) -> set[str] | None:
    """The datasets changed after ``counter`` up to ``until``; None when the index must be built again."""
    if until - counter > CHANGES_KEPT:
        return None
    rows = CatalogueChange.objects.filter(counter__gt=counter, counter__lte=until).values_list("counter", "dataset")
    seen: set[int] = set()
    changed: set[str] = set()
    for number, dataset in rows:
        if dataset is None:
            return None
        seen.add(number)
        changed.add(str(dataset))
    # Every raise writes a row: a missing one was pruned, or written by code that predates them.
    if len(seen) != until - counter or len(changed) > REINDEX_MAX:
        return None
    return changed


def _entries(ids: Collection[str] | None) -> list[Entry]:
    """The entries of the active datasets among ``ids`` (all of them when None)."""
    datasets = Dataset.objects.filter(state="active")
    tags = Dataset.tags.through.objects.filter(dataset__state="active")
    groups = Dataset.groups.through.objects.filter(dataset__state="active")
    resources = Resource.objects.filter(dataset__state="active")
    if ids is not None:
        datasets = datasets.filter(id__in=ids)
        tags = tags.filter(dataset_id__in=ids)
        groups = groups.filter(dataset_id__in=ids)
        resources = resources.filter(dataset_id__in=ids)
    many: dict[str, dict[str, set[str]]] = {"tags": {}, "groups": {}, "res_format": {}}
    for dataset_id, name in tags.values_list("dataset_id", "tag__name"):
        many["tags"].setdefault(str(dataset_id), set()).add(name)
    for dataset_id, name in groups.values_list("dataset_id", "group__name"):
        many["groups"].setdefault(str(dataset_id), set()).add(name)
    for dataset_id, kind in resources.values_list("dataset_id", "format"):
        many["res_format"].setdefault(str(dataset_id), set()).add(kind)
    entries = []
    rows = datasets.values_list(
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
                created_us=(created - _EPOCH) // _MICROSECOND,
                modified_us=(modified - _EPOCH) // _MICROSECOND,
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
    return entries


def _add(index: Index, entry: Entry) -> None:
    slot = index.free.pop() if index.free else len(index.entries)
    if slot == len(index.entries):
        index.entries.append(entry)
    else:
        index.entries[slot] = entry
    bit = 1 << slot
    index.slot_of[entry.id] = slot
    index.slot_named[entry.name] = slot
    index.alive |= bit
    tokens = index.tokens
    for token in set(entry.text.split()):
        tokens[token] = tokens.get(token, 0) | bit
    for key in FACETS:
        values = index.values[key]
        for value in entry.facets[key]:
            values[value] = values.get(value, 0) | bit
    for word in index.words:
        if word in entry.text:
            index.words[word] |= bit


def _remove(index: Index, dataset_id: str) -> None:
    slot = index.slot_of.pop(dataset_id, None)
    if slot is None:
        return
    entry = index.entries[slot]
    assert entry is not None
    index.entries[slot] = None
    index.free.append(slot)
    if index.slot_named.get(entry.name) == slot:
        del index.slot_named[entry.name]
    keep = ~(1 << slot)
    index.alive &= keep
    for token in set(entry.text.split()):
        left = index.tokens[token] & keep
        if left:
            index.tokens[token] = left
        else:
            del index.tokens[token]
    for key in FACETS:
        values = index.values[key]
        for value in entry.facets[key]:
            left = values[value] & keep
            if left:
                values[value] = left
            else:
                del values[value]
    for word in index.words:
        index.words[word] &= keep


def _bits(slots: Sequence[int], size: int) -> int:
    """The bitset of ``slots``."""
    if len(slots) <= 1:
        return 1 << slots[0] if slots else 0
    flags = np.zeros(size, dtype=bool)
    flags[list(slots)] = True
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def _build(version: Version) -> Index:
    """A whole index: the postings gathered as lists of slots first, each made a bitset once."""
    index = Index(version=version)
    entries = _entries(None)
    tokens: dict[str, list[int]] = {}
    values: dict[str, dict[str, list[int]]] = {key: {} for key in FACETS}
    for slot, entry in enumerate(entries):
        index.entries.append(entry)
        index.slot_of[entry.id] = slot
        index.slot_named[entry.name] = slot
        for token in set(entry.text.split()):
            tokens.setdefault(token, []).append(slot)
        for key in FACETS:
            for value in entry.facets[key]:
                values[key].setdefault(value, []).append(slot)
    size = len(entries)
    index.alive = (1 << size) - 1
    index.tokens = {token: _bits(slots, size) for token, slots in tokens.items()}
    index.values = {key: {value: _bits(slots, size) for value, slots in found.items()} for key, found in values.items()}
    return index


def _update(index: Index, version: Version, changed: set[str]) -> None:
    """Re-index the ``changed`` datasets (those no longer active leave it) and move to ``version``."""
    fresh = _entries(changed) if changed else []
    with index.lock:
        if len(changed) > 64:
            # Keeping many remembered words current costs more than finding them again.
            index.words.clear()
        for dataset_id in changed:
            _remove(index, dataset_id)
            index.rendered.pop(dataset_id, None)
        for entry in fresh:
            # A dataset renamed into the name another one just left is indexed under its new name.
            _add(index, entry)
        index.orders.clear()
        index.answers.clear()
        index.applied += 1
        index.version = version


def index_current() -> Index:
    """This process's index, brought up to the catalogue's counter first when it moved."""
    global _index
    version = _version()
    found = _index
    if found is not None and found.version == version:
        return found
    with _lock:
        found = _index
        if found is not None and found.version == version:
            return found
        changed = None
        if found is not None and found.version[0] == version[0] and found.version[1] < version[1]:
            changed = _changed_since(found.version[1], version[1])
        if found is None or changed is None:
            found = _build(version)
            _index = found
        else:
            _update(found, version, changed)
        return found


def _word(index: Index, word: str) -> int:
    """The datasets whose search text holds ``word`` anywhere: it cannot span a space, so it lies
    in one of the text's tokens."""
    found = index.words.get(word)
    if found is not None:
        return found
    hits = [bits for token, bits in index.tokens.items() if word in token]
    if len(hits) <= TOKENS_OR_MAX:
        found = reduce(or_, hits, 0)
    else:
        holding = [slot for slot, entry in enumerate(index.entries) if entry is not None and word in entry.text]
        found = _bits(holding, len(index.entries))
    if len(index.words) >= WORDS_KEPT:
        index.words.pop(next(iter(index.words)))
    index.words[word] = found
    return found


def _matching(index: Index, words: Sequence[str], terms: Sequence[tuple[str, str]]) -> int:
    found = index.alive
    for word in words:
        found &= _word(index, word)
    for key, value in terms:
        if key in {"id", "name"}:
            slot = (index.slot_of if key == "id" else index.slot_named).get(value)
            found &= 0 if slot is None else 1 << slot
        else:
            found &= index.values[key].get(value, 0)
    return found


def _members(index: Index, bits: int) -> Any:
    """``bits`` as a numpy array of booleans, one per slot."""
    size = len(index.entries)
    raw = np.frombuffer(bits.to_bytes((size + 7) // 8 or 1, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:size].astype(bool)


def facet_counts(index: Index, matching: int, key: str, limit: int) -> dict[str, int]:
    """The ``limit`` values of facet ``key`` held by most matching datasets (then by value)."""
    values = index.values[key]
    counts: dict[str, int] = {}
    if matching.bit_count() < len(values):
        # Few datasets and many values: count the datasets' values instead.
        for slot in np.flatnonzero(_members(index, matching)).tolist():
            entry = index.entries[slot]
            assert entry is not None
            for value in entry.facets[key]:
                counts[value] = counts.get(value, 0) + 1
    else:
        for value, bits in values.items():
            n = (matching & bits).bit_count()
            if n:
                counts[value] = n
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:limit])


def _rank(index: Index, key: str) -> Any:
    """A key per slot that orders the slots by ``key`` (equal values, equal keys)."""
    entries = index.entries
    if key in {"created", "modified"}:
        field = f"{key}_us"
        return np.fromiter((getattr(e, field) if e is not None else 0 for e in entries), np.int64, len(entries))
    texts = np.array([getattr(e, key) if e is not None else "" for e in entries], dtype=str)
    order = np.argsort(texts, kind="stable")
    ordered = texts[order]
    starts = np.ones(len(texts), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    rank = np.empty(len(texts), dtype=np.int64)
    rank[order] = np.cumsum(starts) - 1
    return rank


def _ordering(index: Index, order: Order) -> Any:
    """Every slot, sorted by ``order`` ((field, descending) pairs) and then by name."""
    found = index.orders.get(order)
    if found is None:
        ranks: dict[str, Any] = {}
        keys = [ranks.setdefault("name", _rank(index, "name"))]
        for key, descending in reversed(order):
            rank = ranks[key] if key in ranks else ranks.setdefault(key, _rank(index, key))
            keys.append(-rank if descending else rank)
        found = np.lexsort(keys) if index.entries else np.zeros(0, dtype=np.int64)
        index.orders[order] = found
    return found


def answer(
    index: Index,
    *,
    words: Sequence[str],
    terms: Sequence[tuple[str, str]],
    order: Sequence[tuple[str, bool]],
    facets: Sequence[str],
    limit: int,
    start: int,
    rows: int,
) -> tuple[Answer, list[str]]:
    """The search's answer (kept with the index for the next identical search, at most
    ``ANSWERS_KEPT``; a change of the catalogue forgets them) and the ids of the page asked for."""
    for sort, _descending in order:
        if sort not in SORTABLE:
            raise ValueError(f"not a sort field: {sort}")
    key = (tuple(words), tuple(terms), tuple(facets), limit)
    with index.lock:
        found = index.answers.get(key)
        if found is None:
            matching = _matching(index, words, terms)
            found = Answer(
                matching=matching,
                count=matching.bit_count(),
                facets={facet: facet_counts(index, matching, facet, limit) for facet in facets},
            )
            if len(index.answers) >= ANSWERS_KEPT:
                index.answers.pop(next(iter(index.answers)))
            index.answers[key] = found
        page: list[str] = []
        if rows and start < found.count:
            ordering = _ordering(index, tuple(order))
            members = _members(index, found.matching)
            for slot in ordering[members[ordering]][start : start + rows].tolist():
                entry = index.entries[slot]
                assert entry is not None
                page.append(entry.id)
    return found, page


def packages(index: Index, ids: Sequence[str], build: Callable[[list[str]], dict[str, dict[str, Any]]]) -> list[bytes]:
    """The JSON of the CKAN dictionaries of ``ids``, made once per change of each (by ``build``)."""
    with index.lock:
        applied = index.applied
        missing = [i for i in ids if i not in index.rendered]
    if not missing:
        return [index.rendered[i] for i in ids]
    made = {key: orjson.dumps(value, default=str) for key, value in build(missing).items()}
    with index.lock:
        if index.applied == applied:
            index.rendered.update(made)
        kept = {i: index.rendered.get(i) for i in ids}
    # A dataset gone from the database since the index was read is left out of the page.
    return [found for i in ids if (found := kept[i] or made.get(i)) is not None]
