"""Tiles built before a map asks for them: after a register's change, the tiles that had been kept
for the collection's earlier version (the ones maps asked for) are built again for the new version
in the background (``tiles_follow``, run by ``gov21 up`` as ``gov21 tiles follow``); after a bulk
load, every tile over a collection's extent up to a zoom (``tiles_seed``, ``gov21 tiles seed``).

Both build a tile the way a request does (``tiles.layer_tile``): it is read from the register at the
collection's current version and kept only when the version is the same after the read, so a tile
built while a newer change commits is not kept. A request for a tile the keeper has not reached yet
builds it itself, from the new version: a tile of the earlier version is never served once the
change has committed, for public collections as for any other (decision 0080). Collections that
need a right are never kept, so never built here."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections, connection
from django.utils.translation import gettext as _

from gov21.core.errors import DomainError
from gov21.geo.contracts import Collection, collection_get, collection_version, collections_all
from gov21.geo.tiles import (
    MAX_ZOOM,
    TileAddress,
    layer_tile,
    tile_built_at,
    tile_kept,
    tile_matrix_set,
    tiles_in_folder,
    tiles_kept_folders,
)

logger = logging.getLogger("gov21.geo")
# After one change the keeper builds at most this many tiles of the earlier version (the most
# recently built first): a map's tiles, not every tile a crawler once asked for.
REBUILD_MAX = 5000
# ``tiles seed`` refuses to build more tiles than this at once.
SEED_MAX = 50_000


def kept_collections() -> list[Collection]:
    """The collections whose tiles are kept: public, and their register says when they change."""
    return [c for c in collections_all() if c.versioned and c.permission is None]


def tiles_rebuild(collection: Collection, *, max_zoom: int = MAX_ZOOM, limit: int = REBUILD_MAX) -> int:
    """Build, for the collection's current version, the tiles kept for its earlier versions (zoom up
    to ``max_zoom``, at most ``limit`` of them, the most recently built first), then remove the
    earlier versions' folders; how many tiles were built. Stops early, leaving the earlier folders
    for the next call, when the collection changes again meanwhile."""
    folder, earlier = tiles_kept_folders(collection)
    if folder is None or not earlier:
        return 0
    version = collection_version(collection.id)
    wanted: dict[TileAddress, float] = {}
    for old in earlier:
        for tile in tiles_in_folder(old):
            if collection.tile_min_zoom <= tile.zoom <= max_zoom:
                wanted[tile] = max(wanted.get(tile, 0.0), tile_built_at(old, tile))
    built = 0
    for tile in sorted(wanted, key=lambda t: -wanted[t])[:limit]:
        if collection_version(collection.id) != version:
            return built  # changed again: the next call starts over from every earlier folder
        if not tile_kept(folder, tile):  # a request may have built it already
            layer_tile(collection, tile, None)
            built += 1
    for old in earlier:
        shutil.rmtree(old, ignore_errors=True)
    return built


def tiles_follow(*, every: float, stop_after: float | None = None, say: Callable[[str], None] | None = None) -> int:
    """Every ``every`` seconds (for ``stop_after`` seconds, or for ever), build again the kept tiles of
    each collection that changed since; how many tiles were built in all."""
    started = time.monotonic()
    built = 0
    while stop_after is None or time.monotonic() - started < stop_after:
        if not connection.in_atomic_block:  # a connection the database dropped is opened again
            close_old_connections()
        for collection in kept_collections():
            try:
                made = tiles_rebuild(collection)
            except (DatabaseError, OSError):
                # The database or the disk failed this round: requests build their tiles meanwhile,
                # and the next round tries again (the keeper stopping would stop ``gov21 up``).
                logger.exception("tiles of %s not rebuilt this round", collection.id)
                continue
            if made and say is not None:
                say(f"{collection.id}: {made} tiles built for the new version")
            built += made
        time.sleep(every)
    return built


def seed_count(collection: Collection, max_zoom: int) -> int:
    """How many tiles cover the collection's extent from its lowest tile zoom to ``max_zoom``."""
    box = collection.extent()
    if box is None:
        return 0
    tms = tile_matrix_set()
    count = 0
    for zoom in range(collection.tile_min_zoom, max_zoom + 1):
        first, last = tms.tile(box.minx, box.maxy, zoom), tms.tile(box.maxx, box.miny, zoom)
        count += (last.x - first.x + 1) * (last.y - first.y + 1)
    return count


def seed_tiles(collection: Collection, max_zoom: int) -> list[TileAddress]:
    """Every tile over the collection's extent from its lowest tile zoom to ``max_zoom``."""
    box = collection.extent()
    zooms = list(range(collection.tile_min_zoom, max_zoom + 1))
    if box is None or not zooms:
        return []
    tms = tile_matrix_set()
    return [TileAddress(t.z, t.y, t.x) for t in tms.tiles(box.minx, box.miny, box.maxx, box.maxy, zooms)]


def tiles_seed(*, collection_id: str | None, max_zoom: int, limit: int | None = None) -> dict[str, int]:
    """Build and keep every tile over the extent of ``collection_id`` (every kept collection when
    None) from its lowest tile zoom up to ``max_zoom``; how many tiles were built per collection. A
    tile already kept for the current version is not built again."""
    if not 0 <= max_zoom <= MAX_ZOOM:
        raise DomainError(
            "max_zoom_out_of_range",
            _("The highest zoom is a whole number from 0 to %(max)s, not %(given)s.")
            % {"max": MAX_ZOOM, "given": max_zoom},
            field="max_zoom",
        )
    if collection_id is None:
        chosen = kept_collections()
    else:
        found = collection_get(collection_id)
        if found is None:
            raise DomainError(
                "unknown_collection",
                _("There is no collection %(given)s.") % {"given": collection_id},
                status=404,
                field="collection",
            )
        if found not in kept_collections():
            raise DomainError(
                "collection_not_kept",
                _(
                    "The tiles of %(given)s are not kept: it needs a right to read, or its register does not say"
                    " when it changes."
                )
                % {"given": collection_id},
                field="collection",
            )
        chosen = [found]
    total = sum(seed_count(collection, max_zoom) for collection in chosen)
    limit = SEED_MAX if limit is None else limit
    if total > limit:
        raise DomainError(
            "too_many_tiles",
            _("That is %(count)s tiles, more than %(limit)s at once; give a lower highest zoom.")
            % {"count": total, "limit": limit},
            field="max_zoom",
        )
    built: dict[str, int] = {}
    for collection in chosen:
        folder, _earlier = tiles_kept_folders(collection)
        made = 0
        for tile in seed_tiles(collection, max_zoom):
            if folder is None or not tile_kept(folder, tile):
                layer_tile(collection, tile, None)
                made += 1
        built[collection.id] = made
    return built


__all__ = ["kept_collections", "seed_count", "seed_tiles", "tiles_follow", "tiles_rebuild", "tiles_seed"]
