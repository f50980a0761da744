"""Writes of the asset register and of disaster response: assets added and changed (each change
kept as a version), inspections recorded, disasters declared over an area, damage assessed with
photographs. Each action is one transaction; a refusal is a ``DomainError`` and writes nothing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from gov21.assets.models import (
    Asset,
    AssetChange,
    DamageAssessment,
    DamagePhoto,
    DisasterEvent,
    Inspection,
    ResidentsListing,
    ResidentsPurpose,
)
from gov21.assets.records import CAPACITY_KINDS, LINE_KINDS, AssessmentFacts, AssetFacts, EventFacts, InspectionFacts
from gov21.assets.selectors import places_within, settlement_key
from gov21.core import config
from gov21.core.errors import DomainError, NotFound
from gov21.core.geo import CRS84, GeometryError, area_m2, geometry_check, projected_crs, to_projected, transform
from gov21.core.geography import boundaries, country_bounds, parishes
from gov21.core.principal import Principal
from gov21.geo.contracts import collection_changed

# An area sent for a disaster is an outline or a track, not a survey: a few megabytes at most.
AREA_MAX_BYTES = 5 * 1024 * 1024
# The widest a track may be buffered: a hurricane's damaging winds reach some 300 km from its eye.
BUFFER_MAX_KM = 300.0
# A photograph from a phone; larger files are refused rather than stored.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# A port's pier or an airstrip may reach beyond the coast the boundaries draw; nothing reaches farther.
COUNTRY_MARGIN_DEGREES = 0.5


def facts_parse(model: type[Any], data: dict[str, Any]) -> Any:
    """``data`` as the record ``model``, or a ``DomainError`` naming the first field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise DomainError(
            "invalid_input", _("%(field)s: %(problem)s") % {"field": field, "problem": first["msg"]}, field=field
        ) from None


# --- assets ----------------------------------------------------------------------------------------


def _in_country(geometry: BaseGeometry, *, field: str) -> None:
    west, south, east, north = country_bounds().as_list()
    margin = COUNTRY_MARGIN_DEGREES
    if not geometry.intersects(shapely.box(west - margin, south - margin, east + margin, north + margin)):
        raise GeometryError(
            _(
                "The geometry lies outside the country (%(west).2f to %(east).2f longitude, %(south).2f to"
                " %(north).2f latitude). Positions are [longitude, latitude]: are they the wrong way round?"
            )
            % {"west": west, "east": east, "south": south, "north": north},
            field=field,
        )


def parish_at(geometry: BaseGeometry) -> str:
    """The code of the parish that holds ``geometry``'s representative point; "" when none does."""
    point = geometry.representative_point()
    return next((boundary.code for boundary in boundaries() if boundary.geometry.intersects(point)), "")


def asset_geometry_check(facts: AssetFacts) -> BaseGeometry:
    """The asset's geometry, checked as every geometry is and then for its kind: a road, a water
    main or a power line is a line; nothing else is."""
    geometry = geometry_check(facts.geometry)
    if facts.kind in LINE_KINDS and geometry.geom_type != "LineString":
        raise GeometryError(
            _("This kind of asset (%(kind)s) is drawn as a LineString, not as a %(type)s.")
            % {"kind": facts.kind.label, "type": geometry.geom_type}
        )
    if facts.kind not in LINE_KINDS and geometry.geom_type == "LineString" and facts.kind not in ("port", "airstrip"):
        raise GeometryError(
            _("This kind of asset (%(kind)s) is drawn as a Point or a Polygon, not as a line.")
            % {"kind": facts.kind.label}
        )
    _in_country(geometry, field="geometry")
    return geometry


def _facts_check(facts: AssetFacts) -> BaseGeometry:
    if facts.kind == "road":
        if facts.road_class is None:
            raise DomainError("road_class_required", _("A road needs its class."), field="road_class")
        if facts.road_surface is None:
            raise DomainError("road_surface_required", _("A road needs its surface."), field="road_surface")
    elif facts.road_class is not None or facts.road_surface is not None:
        raise DomainError(
            "road_only",
            _("Only a road has a road class and surface."),
            field="road_class" if facts.road_class else "road_surface",
        )
    if facts.capacity is not None and facts.kind not in CAPACITY_KINDS:
        raise DomainError(
            "no_capacity",
            _("Only schools, clinics, hospitals and shelters have a capacity."),
            field="capacity",
        )
    return asset_geometry_check(facts)


def _snapshot(asset: Asset) -> dict[str, Any]:
    return {
        "code": asset.code,
        "name": asset.name,
        "kind": asset.kind,
        "agency": asset.agency,
        "parish": asset.parish,
        "condition": asset.condition,
        "replacement_value_cents": asset.replacement_value_cents,
        "currency": asset.currency,
        "criticality": asset.criticality,
        "capacity": asset.capacity,
        "road_class": asset.road_class,
        "road_surface": asset.road_surface,
        "geometry_wkb_hex": bytes(asset.geometry_wkb).hex(),
    }


def _fill(asset: Asset, facts: AssetFacts, geometry: BaseGeometry) -> None:
    asset.name = facts.name
    asset.kind = facts.kind
    asset.agency = facts.agency
    asset.condition = facts.condition
    asset.replacement_value_cents = facts.replacement_value_cents
    asset.currency = facts.currency
    asset.criticality = facts.criticality
    asset.capacity = facts.capacity
    asset.road_class = facts.road_class or ""
    asset.road_surface = facts.road_surface or ""
    asset.geometry_set(geometry)
    asset.parish = parish_at(geometry)


def _assets_changed() -> None:
    """Say, in the transaction that changes an asset, that the asset collections change: their kept
    tiles are then built again from the register (the roads are assets of one kind)."""
    collection_changed("assets")
    collection_changed("roads")


def asset_add(*, facts: AssetFacts, actor: Principal) -> Asset:
    """Enter a new asset in the register (its first version)."""
    actor.require("assets.write")
    geometry = _facts_check(facts)
    now = timezone.now()
    exists = DomainError(
        "asset_exists",
        _("An asset with the code %(code)s is already registered.") % {"code": facts.code},
        status=409,
        field="code",
    )
    try:
        with transaction.atomic():
            if Asset.objects.filter(code=facts.code).exists():
                raise exists
            asset = Asset(code=facts.code, created_at=now, updated_at=now, version=1)
            _fill(asset, facts, geometry)
            asset.save()
            _assets_changed()
            AssetChange.objects.create(
                asset=asset,
                version=1,
                data=_snapshot(asset),
                reason="registered",
                changed_by=actor.name,
                changed_at=now,
            )
    except IntegrityError:
        # Another officer registered the same code between the check and the insert.
        raise exists from None
    return asset


def asset_update(*, facts: AssetFacts, reason: str, actor: Principal) -> Asset:
    """Change an asset (found by ``facts.code``): a new version, with the reason; the old one is kept."""
    actor.require("assets.write")
    reason = reason.strip()
    if not reason:
        raise DomainError("reason_required", _("Say why the asset changes."), field="reason")
    geometry = _facts_check(facts)
    now = timezone.now()
    with transaction.atomic():
        asset = Asset.objects.select_for_update().filter(code=facts.code).first()
        if asset is None:
            raise NotFound("asset_not_found", _("No asset has the code %(code)s.") % {"code": facts.code}, field="code")
        _fill(asset, facts, geometry)
        asset.version += 1
        asset.updated_at = now
        asset.save()
        _assets_changed()
        AssetChange.objects.create(
            asset=asset,
            version=asset.version,
            data=_snapshot(asset),
            reason=reason[:300],
            changed_by=actor.name,
            changed_at=now,
        )
    return asset


def inspection_record(*, code: str, facts: InspectionFacts, actor: Principal) -> Inspection:
    """Record an inspection. The asset's condition becomes the one found by its latest inspection;
    an inspection entered late, dated before the latest, joins the history without changing it."""
    actor.require("assets.write")
    if facts.inspected_on > timezone.localdate():
        raise DomainError(
            "inspection_in_future", _("An inspection cannot be dated in the future."), field="inspected_on"
        )
    with transaction.atomic():
        asset = Asset.objects.select_for_update().filter(code=code).first()
        if asset is None:
            raise NotFound("asset_not_found", _("No asset has the code %(code)s.") % {"code": code}, field="code")
        latest = asset.inspections.order_by("-inspected_on", "-pk").values_list("inspected_on", flat=True).first()
        inspection = Inspection.objects.create(
            asset=asset,
            inspected_on=facts.inspected_on,
            condition=facts.condition,
            notes=facts.notes,
            inspector=actor.name,
            recorded_at=timezone.now(),
        )
        if latest is None or facts.inspected_on >= latest:
            Asset.objects.filter(pk=asset.pk).update(condition=facts.condition)
            _assets_changed()
    return inspection


# --- the area a disaster struck ----------------------------------------------------------------------


def _area_error(detail: str) -> GeometryError:
    return GeometryError(detail, field="area")


def _geometries_of(data: object) -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        raise _area_error(_("The file must hold a GeoJSON object: a geometry, a Feature or a FeatureCollection."))
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise _area_error(_("The FeatureCollection holds no features."))
        return [geometry for feature in features for geometry in _geometries_of(feature)]
    if kind == "Feature":
        geometry = data.get("geometry")
        if not isinstance(geometry, dict):
            raise _area_error(_("A Feature in the file has no geometry."))
        return [geometry]
    return [data]


def _buffered(geometry: BaseGeometry, buffer_km: float) -> BaseGeometry:
    """``geometry`` widened by ``buffer_km`` on every side, measured in metres in the projected CRS."""
    widened = to_projected(geometry).buffer(buffer_km * 1000.0, quad_segs=16)
    return transform(widened, projected_crs(), CRS84)


@dataclass(frozen=True, slots=True)
class Area:
    """The area a disaster struck (Polygon or MultiPolygon, CRS84), and the track it was drawn from."""

    geometry: BaseGeometry
    track: BaseGeometry | None
    buffer_km: float | None


def area_parse(text: str | bytes, *, buffer_km: float | None = None) -> Area:
    """The struck area a GeoJSON text describes: polygons as they are; a track (LineString) or a
    point widened by ``buffer_km``, which it then needs. Several features are joined into one area."""
    if len(text) > AREA_MAX_BYTES:
        raise _area_error(_("The file is larger than %(mb)s MB.") % {"mb": AREA_MAX_BYTES // (1024 * 1024)})
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise _area_error(_("The file is not JSON: %(error)s.") % {"error": str(error)[:200]}) from None
    if buffer_km is not None and not 0 < buffer_km <= BUFFER_MAX_KM:
        raise DomainError(
            "invalid_buffer",
            _("The buffer radius must be more than 0 and at most %(max)s km.") % {"max": int(BUFFER_MAX_KM)},
            field="buffer_km",
        )
    parts: list[BaseGeometry] = []
    tracks: list[BaseGeometry] = []
    for raw in _geometries_of(data):
        geometry = geometry_check(raw, field="area")
        if geometry.geom_type in ("LineString", "Point"):
            if buffer_km is None:
                raise DomainError(
                    "buffer_required",
                    _("A track or a point needs a buffer radius in km to become an area."),
                    field="buffer_km",
                )
            tracks.append(geometry)
            parts.append(_buffered(geometry, buffer_km))
        else:
            parts.append(_buffered(geometry, buffer_km) if buffer_km is not None else geometry)
    area = shapely.union_all(parts)
    if area.geom_type not in ("Polygon", "MultiPolygon") or area.is_empty:
        raise _area_error(_("The file does not describe an area."))
    _in_country(area, field="area")
    track = shapely.union_all(tracks) if tracks else None
    return Area(geometry=area, track=track, buffer_km=buffer_km if tracks or buffer_km else None)


def disaster_declare(*, facts: EventFacts, area: Area, actor: Principal) -> DisasterEvent:
    """Declare a disaster over ``area``."""
    actor.require("disaster.declare")
    if facts.occurred_on > timezone.localdate():
        raise DomainError("event_in_future", _("A disaster cannot be declared for a future day."), field="occurred_on")
    now = timezone.now()
    event = DisasterEvent(
        name=facts.name,
        kind=facts.kind,
        occurred_on=facts.occurred_on,
        buffer_km=area.buffer_km,
        track_wkb=shapely.to_wkb(area.track) if area.track is not None else None,
        area_km2=round(area_m2(area.geometry) / 1e6, 2),
        declared_by=actor.name,
        declared_at=now,
    )
    event.geometry_set(area.geometry)
    event.save()
    return event


# --- damage --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Photo:
    """An uploaded file: the name it was sent with and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class CheckedPhoto:
    sha256: str
    media_type: str
    extension: str
    width: int
    height: int
    content: bytes


def photo_check(photo: Photo) -> CheckedPhoto:
    """``photo`` if it is a JPEG, PNG or WebP image that opens whole; a ``DomainError`` otherwise."""
    if len(photo.content) > PHOTO_MAX_BYTES:
        raise DomainError(
            "photo_too_large",
            _("%(name)s is larger than %(mb)s MB.") % {"name": photo.name, "mb": PHOTO_MAX_BYTES // (1024 * 1024)},
            field="photos",
        )
    try:
        with Image.open(io.BytesIO(photo.content)) as image:
            kind = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError(
            "photo_not_image",
            _("%(name)s is not a photograph we can read: send a JPEG, PNG or WebP image.") % {"name": photo.name},
            field="photos",
        ) from None
    if kind not in PHOTO_FORMATS:
        raise DomainError(
            "photo_not_image",
            _("%(name)s is a %(kind)s image: send a JPEG, PNG or WebP image.") % {"name": photo.name, "kind": kind},
            field="photos",
        )
    media_type, extension = PHOTO_FORMATS[kind]
    digest = hashlib.sha256(photo.content).hexdigest()
    return CheckedPhoto(digest, media_type, extension, width, height, photo.content)


def photo_directory() -> Path:
    return Path(config.DATA_DIR.read()) / "assets" / "photos"


def photo_path(sha256: str, extension: str) -> Path:
    return photo_directory() / f"{sha256}.{extension}"


def _photo_store(photo: CheckedPhoto) -> None:
    """Write the photo under its SHA-256, whole or not at all (the same bytes are stored once)."""
    target = photo_path(photo.sha256, photo.extension)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(photo.content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def assessment_record(
    *, event_id: int, facts: AssessmentFacts, photos: Sequence[Photo] = (), actor: Principal
) -> DamageAssessment:
    """Record the damage found to an asset or a parcel after the event. Every photo is checked
    before anything is written; a later assessment of the same thing stands over this one."""
    actor.require("disaster.assess")
    checked = [photo_check(photo) for photo in photos]
    if bool(facts.asset) == bool(facts.parcel_number.strip()):
        raise DomainError(
            "asset_or_parcel", _("Name either an asset (by its code) or a land parcel (by its number)."), field="asset"
        )
    event = DisasterEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound("event_not_found", _("No disaster has the number %(id)s.") % {"id": event_id})
    asset = None
    parish = facts.parish
    if facts.asset:
        asset = Asset.objects.filter(code=facts.asset).first()
        if asset is None:
            raise NotFound(
                "asset_not_found", _("No asset has the code %(code)s.") % {"code": facts.asset}, field="asset"
            )
        parish = asset.parish
    elif parish and parish not in dict(parishes()):
        raise DomainError("unknown_parish", _("No parish has the code %(code)s.") % {"code": parish}, field="parish")
    for photo in checked:
        _photo_store(photo)
    now = timezone.now()
    with transaction.atomic():
        assessment = DamageAssessment.objects.create(
            event=event,
            asset=asset,
            parcel_number=facts.parcel_number.strip() if asset is None else "",
            parish=parish,
            level=facts.level,
            notes=facts.notes,
            assessed_by=actor.name,
            assessed_at=now,
        )
        DamagePhoto.objects.bulk_create(
            DamagePhoto(
                assessment=assessment,
                sha256=photo.sha256,
                media_type=photo.media_type,
                size=len(photo.content),
                width=photo.width,
                height=photo.height,
                uploaded_at=now,
            )
            for photo in checked
        )
    return assessment


# --- residents named, for a purpose ---------------------------------------------------------------

# The fewest characters of a reason that says something (more than "check").
REASON_MIN_CHARACTERS = 10
REASON_MAX_CHARACTERS = 250


def residents_listing_state(
    *, event_id: int, purpose: str, reason: str, place: str, actor: Principal
) -> ResidentsListing:
    """Record why ``actor`` needs the residents of the disaster ``event_id`` by name: a lawful
    ``purpose``, their ``reason``, and ``place`` (a settlement inside the area as ``settlement_key``
    writes it, or "" for every settlement in the area). The names are read later, under this."""
    actor.require("disaster.residents")
    event = DisasterEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound("event_not_found", _("No disaster has the number %(id)s.") % {"id": event_id})
    if purpose not in ResidentsPurpose.values:
        raise DomainError("purpose_required", _("Choose the purpose for which you need the names."), field="purpose")
    reason = " ".join(reason.split())
    if len(reason) < REASON_MIN_CHARACTERS:
        raise DomainError(
            "reason_required",
            _("Say in a sentence why you need these names: it is shown to each person named."),
            field="reason",
        )
    if len(reason) > REASON_MAX_CHARACTERS:
        raise DomainError(
            "reason_too_long",
            _("Write the reason in %(limit)s characters or fewer.") % {"limit": REASON_MAX_CHARACTERS},
            field="reason",
        )
    _touched, inside = places_within(event.geometry)
    if not inside:
        raise DomainError(
            "no_settlement", _("No settlement lies inside the area, so there is nobody to name."), field="place"
        )
    parish, settlement = "", ""
    if place:
        chosen = next(((code, name) for code, name in inside if settlement_key(code, name) == place), None)
        if chosen is None:
            raise DomainError(
                "place_outside_area",
                _("This settlement is not inside the area the disaster struck. Choose one from the list."),
                field="place",
            )
        parish, settlement = chosen
    return ResidentsListing.objects.create(
        event=event,
        purpose=purpose,
        reason=reason,
        parish=parish,
        settlement=settlement,
        stated_by=actor.name,
        stated_at=timezone.now(),
    )
