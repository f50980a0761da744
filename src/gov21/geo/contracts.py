"""How an app puts its geographic data on the OGC API Features server at ``/geo/``.

An app declares a ``Collection`` (its id, words, the properties of its features and which of them
may filter, where to find the features) and calls ``collection_register`` from its ``ready()``. The
server parses and checks every request before it asks the collection: a collection receives a
``Query`` whose bbox is checked, whose limit is within bounds and whose filters name declared
properties only, and answers with a ``Result``.

Public reference data (parishes, roads, the land register's parcels without their owners) declares
no permission and is served to anyone. A collection that holds personal data declares the
``permission`` a reader needs: the server then serves it only to a signed-in caller whose roles give
it (401 or 403 otherwise), lists it only to them, and passes the caller as ``Query.reader`` so the
collection logs each read with its reader, as every read of personal data is logged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from django.utils.functional import Promise
from django.utils.safestring import SafeString
from shapely.geometry.base import BaseGeometry

from gov21.core.geo import BBox, Interval
from gov21.core.principal import Principal
from gov21.geo.cql import Filter, cql_matches, cql_q
from gov21.geo.versions import collection_changed, collection_version, version_column

# CQL2 filters (checked by the server, applied by collections) and the versions registers replace.
__all__ = ["Filter", "collection_changed", "collection_version", "cql_matches", "cql_q", "version_column"]

Value = str | int | float | bool | None
PropertyType = Literal["string", "integer", "number", "boolean"]
_ID = re.compile(r"[a-z][a-z0-9-]{0,62}")
# The parameters of the items resource; a property filtering by one of these names would be ambiguous.
RESERVED = frozenset({"f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang"})


@dataclass(frozen=True, slots=True)
class Property:
    """A property every feature of a collection has. ``filter``: a request may select features by
    its value (``?name=value``, an exact match; for numbers, numeric equality). ``queryable``: a CQL2
    ``filter`` may name it (every property by default; a collection whose items read a database maps
    each queryable property to a field for ``cql_q``)."""

    name: str
    type: PropertyType
    title: str | Promise
    filter: bool = False
    queryable: bool = True


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature: its id (unique in its collection), its geometry in CRS84, its properties, and,
    for things that exist for a time, when it began and ended (None: unbounded)."""

    id: str
    geometry: BaseGeometry | None
    properties: Mapping[str, Value]
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeatureColumns:
    """Features held as columns rather than one ``Feature`` each (what a tile of thousands of parcels
    is built from): feature ``i`` is ``ids[i]``, ``geometries[i]`` and ``properties[name][i]`` for
    each declared property (None where it has no value)."""

    ids: Sequence[str]
    geometries: Sequence[BaseGeometry | None]
    properties: Mapping[str, Sequence[Value]]


@dataclass(frozen=True, slots=True)
class Query:
    """A checked request for a page of features. ``bbox`` is the box asked for, in the CRS it was
    given in; ``bbox.geometry()`` is that box in CRS84, the CRS features are held in. ``filters``
    holds values of declared, filterable properties, already of the property's type. ``cql`` is a
    CQL2 filter (``filter=``) checked against the collection's queryables: a collection applies it
    with ``cql_matches`` on each feature's properties, or with ``cql_q`` on its queryset."""

    limit: int
    offset: int = 0
    bbox: BBox | None = None
    interval: Interval | None = None
    filters: Mapping[str, Value] = field(default_factory=dict)
    reader: Principal | None = None
    cql: Filter | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """A page of features and how many match the query in all (None when counting would cost too much)."""

    features: Sequence[Feature]
    number_matched: int | None


@dataclass(frozen=True, slots=True)
class Rows:
    """A page as the keys of the register's rows that hold its features (in the page's order), and
    how many features match the query in all (None when counting would cost too much)."""

    keys: Sequence[int]
    number_matched: int | None
    # The collection's version when the register read it in the same statement as the keys (with
    # ``version_column``: one round trip and one snapshot for both); None when it did not, and the
    # server asks for it apart.
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Collection:
    """A feature collection served at ``/geo/collections/<id>``."""

    id: str
    title: str | Promise
    description: str | Promise
    properties: tuple[Property, ...]
    # A page of the features that match a query.
    items: Callable[[Query], Result]
    # One feature by id, for the reader (None when there is no such feature).
    item: Callable[[str, Principal | None], Feature | None]
    # The box around all the features (CRS84), shown as the collection's spatial extent.
    extent: Callable[[], BBox | None]
    # The permission a reader needs; None for public reference data.
    permission: str | None = None
    # Whether ``items`` applies ``Query.cql`` (``features_select`` does; a collection reading a
    # database uses ``cql_q``). Without it the server refuses ``filter``: a filter is never ignored.
    filtering: bool = False
    # The lowest zoom (tile matrix) whose vector tiles hold this collection's features: a register of
    # many small shapes (parcels) sets it so a tile of the whole island is not asked for all of them;
    # its layer is empty in tiles below it. 0: every zoom.
    tile_min_zoom: int = 0
    # Whether the register calls ``collection_changed`` in every transaction that changes this
    # collection's features (a database register): its public tiles are then built once and kept
    # until the next change, instead of being built for each request.
    versioned: bool = False
    # For a versioned register, a page in two steps: the keys of its rows (``rows``), then the
    # features of those keys that the server does not keep already (``features_of``, each by its
    # key). The server keeps each feature's GeoJSON under its key until the collection's version
    # changes, so a page of features read before costs one statement of keys. A row's feature must
    # not change without the version changing.
    rows: Callable[[Query], Rows] | None = None
    features_of: Callable[[Sequence[int]], Mapping[int, Feature]] | None = None
    # The current features whose geometry meets a box (CRS84), the first ``limit`` of them in a
    # stable order, as columns: a public collection's tiles are built from them with no ``Feature``
    # per row (the same features ``items`` gives for that bbox without datetime). None: tiles page
    # through ``items``.
    tile_columns: Callable[[BBox, int], FeatureColumns] | None = None

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.id):
            raise ValueError(f"A collection id is lower-case letters, digits and hyphens, not {self.id!r}.")
        names = [prop.name for prop in self.properties]
        if len(set(names)) != len(names):
            raise ValueError(f"Collection {self.id} declares a property twice.")
        if (self.rows is None) != (self.features_of is None) or (self.rows is not None and not self.versioned):
            raise ValueError(f"Collection {self.id}: rows and features_of go together, on a versioned collection.")
        if not 0 <= self.tile_min_zoom <= 22:
            raise ValueError(f"Collection {self.id}: tile_min_zoom is a zoom from 0 to 22, not {self.tile_min_zoom}.")
        clashing = sorted(prop.name for prop in self.properties if prop.filter and prop.name in RESERVED)
        if clashing:
            raise ValueError(f"Collection {self.id} cannot filter by {', '.join(clashing)}: a parameter has that name.")

    def filterable(self) -> dict[str, Property]:
        return {prop.name: prop for prop in self.properties if prop.filter}

    def queryables(self) -> dict[str, Property]:
        """The properties a CQL2 filter may name."""
        return {prop.name: prop for prop in self.properties if prop.queryable}


_COLLECTIONS: dict[str, Collection] = {}


def collection_register(collection: Collection) -> None:
    """Serve ``collection`` (called from an app's ``ready()``; registering an id again replaces it)."""
    _COLLECTIONS[collection.id] = collection


def collections_all() -> list[Collection]:
    """Every registered collection, in the order they were registered."""
    return list(_COLLECTIONS.values())


def collection_get(collection_id: str) -> Collection | None:
    return _COLLECTIONS.get(collection_id)


def features_select(features: Sequence[Feature], query: Query) -> Result:
    """The page of ``features`` that ``query`` asks for, filtered in memory: for collections small
    enough to hold in memory (reference data), so each does not filter its own way."""
    window = query.bbox.geometry() if query.bbox is not None else None
    matched = [
        feature
        for feature in features
        if (window is None or (feature.geometry is not None and feature.geometry.intersects(window)))
        and (query.interval is None or query.interval.overlaps(feature.valid_from, feature.valid_to))
        and all(feature.properties.get(name) == value for name, value in query.filters.items())
        and (query.cql is None or cql_matches(query.cql, feature.properties))
    ]
    return Result(features=matched[query.offset : query.offset + query.limit], number_matched=len(matched))


def map_figure(
    entries: Sequence[tuple[Feature, str | None]],
    *,
    label: str,
    collections: Sequence[str] | None = None,
    raster: str | None = None,
    table: bool = True,
    pick: tuple[str, str] | None = None,
) -> SafeString:
    """A map of ``entries`` (each feature with the page it links to, or None) for any app's page,
    titled ``label``. Always: the map drawn on the server (an SVG, on any phone without script) and,
    unless ``table`` is False (a page that lists the features itself), a table of the features (id,
    name or kind). Where script runs: a MapLibre map of the platform's own vector tiles of the public
    collections (only those named in ``collections``, when given) with the entries drawn on top, and
    under them, when ``raster`` is given, imagery tiles from that template on this platform
    (``/imagery/.../{z}/{x}/{y}.png``; MapLibre's placeholders). With ``pick`` (the ids of a form's
    latitude and longitude inputs), a click on that map places a marker and fills the two inputs; the
    inputs stay the way to give a position without script or a pointer."""
    from gov21.geo.maps import figure_render  # the drawing needs this module's Feature: imported when used

    return figure_render(entries, label=label, collections=collections, raster=raster, table=table, pick=pick)
