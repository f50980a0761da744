"""What the land office's lodging pages need besides the services: boundaries read from what a
surveyor hands over (GeoJSON or WKT, typed, pasted or as a file), source documents taken from the
upload slots of a form, and the map drawn before anything is lodged, with what does not fit
(overlaps, gaps, parts outside the parent) drawn and named on it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import shapely
from django.core.files.uploadedfile import UploadedFile
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from shapely import wkt
from shapely.errors import GEOSException
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gov21.core.errors import DomainError
from gov21.core.geo import GeometryError, area_m2, geometry_check, geometry_json
from gov21.core.principal import Principal
from gov21.core.spatial import bbox_filter
from gov21.geo.contracts import Feature, map_figure
from gov21.land import sources
from gov21.land.collections import parcel_feature
from gov21.land.geometry import tolerance_m2
from gov21.land.models import Parcel

# The most characters of a boundary read from a file or a text box (a survey of a large estate with
# thousands of vertices fits many times over).
GEOMETRY_MAX_CHARACTERS: Final = 2 * 1024 * 1024
# What a file's first bytes say it is: the kinds of source document the register keeps.
_MAGIC: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


@dataclass(frozen=True)
class Shape:
    """One boundary as read: a GeoJSON geometry object (lists) and a land use it named, if any."""

    geometry: dict[str, Any]
    land_use: str = ""


def _fault(detail: str, field: str) -> GeometryError:
    return GeometryError(detail, field=field)


def _from_json(text: str, field: str) -> list[Shape]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _fault(
            _("This is not valid GeoJSON: %(problem)s at line %(line)d, column %(column)d.")
            % {"problem": error.msg, "line": error.lineno, "column": error.colno},
            field,
        ) from None
    if not isinstance(data, dict):
        raise _fault(_("GeoJSON is an object with a type, such as a Polygon or a FeatureCollection."), field)
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise _fault(_("A FeatureCollection needs a list of features."), field)
        shapes = []
        for feature in features:
            if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
                raise _fault(_("Every feature of the collection needs a geometry."), field)
            properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
            use = properties.get("land_use") if properties else ""
            shapes.append(Shape(feature["geometry"], str(use or "")[:30]))
        return shapes
    if kind == "Feature":
        geometry = data.get("geometry")
        if not isinstance(geometry, dict):
            raise _fault(_("The feature has no geometry."), field)
        return [Shape(geometry)]
    if kind == "GeometryCollection":
        members = data.get("geometries")
        if not isinstance(members, list):
            raise _fault(_("A GeometryCollection needs a list of geometries."), field)
        return [Shape(g if isinstance(g, dict) else {}) for g in members]
    return [Shape(data)]


def _from_wkt(text: str, field: str) -> list[Shape]:
    shapes = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # One geometry may span several lines; several geometries are written one a line.
    pieces = lines if all(line.upper().startswith(("POLYGON", "MULTIPOLYGON")) for line in lines) else [text]
    for number, piece in enumerate(pieces, start=1):
        try:
            geometry = wkt.loads(piece)
        except (GEOSException, ValueError, TypeError):
            if len(pieces) > 1:
                detail = _("Line %(line)d is not WKT, such as POLYGON ((-63.1 14.0, -63.099 14.0, ...)).") % {
                    "line": number
                }
            else:
                detail = _("This is neither GeoJSON nor WKT, such as POLYGON ((-63.1 14.0, -63.099 14.0, ...)).")
            raise _fault(detail, field) from None
        members = geometry.geoms if isinstance(geometry, GeometryCollection) else [geometry]
        shapes += [Shape(geometry_json(member)) for member in members]
    return shapes


def shapes_read(text: str, upload: UploadedFile | None, *, field: str) -> list[Shape]:
    """The boundaries in a file if one was chosen, else in ``text``: GeoJSON (a geometry, a Feature,
    a FeatureCollection whose features may say their ``land_use``) or WKT (one geometry, or one a
    line). Each is checked as GeoJSON is (``core.geo.geometry_check``) when it is used."""
    if upload is not None:
        if upload.size is not None and upload.size > GEOMETRY_MAX_CHARACTERS:
            raise _fault(_("A boundary file is at most 2 MB."), field)
        try:
            text = upload.read(GEOMETRY_MAX_CHARACTERS + 1).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _fault(_("The file is not text: choose a GeoJSON or WKT file."), field) from None
    text = text.strip()
    if not text:
        return []
    return _from_json(text, field) if text.startswith("{") else _from_wkt(text, field)


def polygons_split(shapes: Sequence[Shape]) -> list[Shape]:
    """Each polygon of ``shapes`` on its own (a MultiPolygon of the parts of a subdivision is read as
    its parts)."""
    result = []
    for shape in shapes:
        if shape.geometry.get("type") == "MultiPolygon" and isinstance(shape.geometry.get("coordinates"), list):
            result += [
                Shape({"type": "Polygon", "coordinates": polygon}, shape.land_use)
                for polygon in shape.geometry["coordinates"]
            ]
        else:
            result.append(shape)
    return result


def media_type_of(content: bytes) -> str:
    """The media type a file's content shows (not what the browser claimed), or ``""``."""
    return next((kind for magic, kind in _MAGIC if content.startswith(magic)), "")


def documents_store(
    uploads: Sequence[tuple[str, object]], *, actor: Principal
) -> tuple[list[str], list[tuple[str, str]]]:
    """Keep each uploaded (kind, file): the SHA-256 of each kept, and for each refused one its slot's
    field (``document_N``, ``document_kind_N``) and why. The files kept stay kept, so that the form
    shown again with the refusal does not ask for them twice."""
    stored: list[str] = []
    refused: list[tuple[str, str]] = []
    for slot, (kind, upload) in enumerate(uploads, start=1):
        if not isinstance(upload, UploadedFile):
            continue
        content = upload.read(sources.MAX_BYTES + 1)
        try:
            source = sources.source_store(
                content=content,
                kind=kind,
                filename=upload.name or "",
                media_type=media_type_of(content) or "application/octet-stream",
                actor=actor,
            )
        except DomainError as error:
            if error.status in (401, 403):
                raise
            refused.append((f"document_kind_{slot}" if error.field == "kind" else f"document_{slot}", error.detail))
        else:
            stored.append(source.sha256)
    return stored, refused


# --- the map before lodging ------------------------------------------------------------------------


def _shape(data: dict[str, Any]) -> BaseGeometry | None:
    try:
        return geometry_check(data)
    except GeometryError:
        return None


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    """The areas of ``geometry`` (an intersection may add stray lines and points), or None."""
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if isinstance(g, Polygon | MultiPolygon)]
    if not parts:
        return None
    return shapely.union_all(parts)


def _mark(entries: list[tuple[Feature, str | None]], ident: str, geometry: BaseGeometry, name: str) -> None:
    area = _polygonal(geometry)
    if area is not None and not area.is_empty:
        entries.append((Feature(id=ident, geometry=area, properties={"name": name, "kind": "fault"}), None))


def _neighbours(geometry: BaseGeometry, *, excluding: Sequence[str] = ()) -> list[Parcel]:
    rows = bbox_filter(Parcel.objects.filter(valid_to__isnull=True), geometry.buffer(0.0005))
    return list(rows.exclude(number__in=list(excluding)).order_by("number")[:50])


def _link(number: str) -> str:
    from django.urls import reverse

    return reverse("land:parcel", args=[number])


def parcel_current(number: str) -> Parcel | None:
    return Parcel.objects.filter(number=number, valid_to__isnull=True).first() if number else None


def preview_map(*, shapes: Sequence[Shape], parents: Sequence[Parcel] = (), name: str, label: str) -> SafeString | None:
    """The map of what is to be lodged: the new boundaries (``name`` numbered), the parcels they
    replace and their neighbours, and, drawn and listed, each overlap, each gap left inside the
    parent and each part outside it larger than the register's tolerance. None when nothing can
    be drawn."""
    drawn = [(index, g) for index, g in enumerate((_shape(s.geometry) for s in shapes), start=1) if g is not None]
    if not drawn and not parents:
        return None
    entries: list[tuple[Feature, str | None]] = []
    for index, geometry in drawn:
        title = name % {"number": index} if "%(number)" in name else name
        entries.append((Feature(id=f"new-{index}", geometry=geometry, properties={"name": title, "kind": "new"}), None))
    everything = [g for _i, g in drawn] + [p.geometry for p in parents]
    around = shapely.union_all(everything)
    numbers = [p.number for p in parents]
    neighbours = _neighbours(around, excluding=numbers)
    entries += [(parcel_feature(p), _link(p.number)) for p in [*parents, *neighbours]]
    for index, geometry in drawn:
        for near in neighbours:
            overlap = geometry.intersection(near.geometry)
            if area_m2(overlap) > tolerance_m2(area_m2(geometry)):
                _mark(
                    entries,
                    f"overlap-{index}-{near.number}",
                    overlap,
                    _("Overlap with parcel %(number)s") % {"number": near.number},
                )
    if parents and drawn:
        parent = shapely.union_all([p.geometry for p in parents])
        tolerance = tolerance_m2(area_m2(parent))
        union = shapely.union_all([g for _i, g in drawn])
        gap = parent.difference(union)
        if area_m2(gap) > tolerance:
            _mark(entries, "gap", gap, _("Not covered by any part"))
        for index, geometry in drawn:
            outside = geometry.difference(parent)
            if area_m2(outside) > tolerance:
                _mark(entries, f"outside-{index}", outside, _("Part %(part)d outside the parcel") % {"part": index})
    for position, (first, one) in enumerate(drawn):
        for second, other in drawn[position + 1 :]:
            overlap = one.intersection(other)
            if area_m2(overlap) > tolerance_m2(min(area_m2(one), area_m2(other))):
                _mark(
                    entries,
                    f"overlap-{first}-{second}",
                    overlap,
                    _("Overlap of %(first)d and %(second)d") % {"first": first, "second": second},
                )
    return map_figure(entries, label=label)
