"""The GeoJSON of a versioned collection's features, kept in each worker under the collection's
version (decision 0079), so a page of features read before is a join of kept texts.

A register that says in every change which collection changed (``collection_changed``) and can give
a page as the keys of its rows (``Collection.rows``) has each feature rendered once per version and
output CRS: the feature's JSON up to its links, which depend on the address the request came to and
are added to each answer. When the collection's version changes, what was kept under the old one is
dropped by the first request that reads the new one; a request that read the old version before the
change keeps what it renders only under the old one, which no later request asks for. What is kept
in all is bounded (``BUDGET`` characters a worker, ``GOV21_GEO_FEATURES_KEPT_MB``); past it everything
is dropped and kept anew."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Final

from django.conf import settings

# A feature's text is mostly ASCII: a character is about a byte. The default, 256 MB, holds about half a million
# parcels: a small state's register several times over (200,000 parcels take about 90 MB).
BUDGET: Final = int(settings.GOV21_GEO_FEATURES_KEPT_MB) * 1_000_000


@dataclass(slots=True)
class Kept:
    """The features of one collection, in one output CRS, at one version: each row's key to its JSON
    up to its links and its id as it goes in an address (JSON-escaped; None: built each time)."""

    version: str
    texts: dict[int, tuple[str, str | None]] = field(default_factory=dict)


_lock = threading.Lock()
_kept: dict[tuple[str, str], Kept] = {}
_size = 0


def kept_get(collection_id: str, crs_uri: str, version: str) -> Kept:
    """What is kept of the collection in ``crs_uri`` at ``version`` (empty at first)."""
    found = _kept.get((collection_id, crs_uri))
    if found is not None and found.version == version:
        return found
    with _lock:
        found = _kept.get((collection_id, crs_uri))
        if found is None or found.version != version:
            global _size
            if found is not None:
                _size -= sum(len(text) for text, _href in found.texts.values())
            found = _kept[(collection_id, crs_uri)] = Kept(version=version)
        return found


def kept_add(kept: Kept, texts: dict[int, tuple[str, str | None]]) -> None:
    """Keep ``texts`` in ``kept``; past the budget, drop everything kept first."""
    global _size
    if BUDGET <= 0:
        return  # configured to keep nothing
    added = sum(len(text) for text, _href in texts.values())
    with _lock:
        if not any(each is kept for each in _kept.values()):
            return  # of a version already replaced: no request will ask for it
        if _size + added > BUDGET:
            for each in _kept.values():
                each.texts.clear()
            _size = 0
        kept.texts.update(texts)
        _size += added


def kept_clear() -> None:
    """Drop everything kept (tests)."""
    global _size
    with _lock:
        _kept.clear()
        _size = 0
