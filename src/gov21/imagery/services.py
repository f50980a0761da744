"""Writes to the imagery catalogue: collections, and scenes added from raster files."""

from __future__ import annotations

import contextlib
import hashlib
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.errors import Conflict, DomainError
from gov21.core.geo import parse_datetime
from gov21.imagery import raster
from gov21.imagery.models import ImageryAsset, ImageryCollection, ImageryItem
from gov21.imagery.storage import CHUNK, StorageError, storage

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def id_check(value: str, *, field: str) -> str:
    """``value`` when it can be a collection's or an item's id (it is part of addresses)."""
    if not _ID.fullmatch(value):
        raise DomainError(
            "invalid_id",
            _(
                "%(field)s %(given)s must be 1 to 63 lower-case letters, digits, - and _, beginning with a letter"
                " or a digit."
            )
            % {"field": field, "given": repr(value)},
            status=422,
            field=field,
        )
    return value


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def collection_ensure(
    *, collection_id: str, title: str = "", description: str = "", license: str = "other"
) -> ImageryCollection:
    """The collection ``collection_id``, created with these words when it does not exist yet."""
    id_check(collection_id, field="collection")
    found, _created = ImageryCollection.objects.get_or_create(
        collection_id=collection_id,
        defaults={
            "title": title or collection_id,
            "description": description or _("Imagery of the collection %(id)s.") % {"id": collection_id},
            "license": license,
        },
    )
    return found


def taken_check(text: str) -> tuple[datetime, datetime]:
    """When a scene was taken: an instant, a day, or a closed interval ``start/end`` (RFC 3339)."""
    interval = parse_datetime(text)
    if interval.start is None or interval.end is None:
        raise DomainError(
            "invalid_datetime",
            _("datetime: a scene's time must be an instant or an interval closed at both ends."),
            status=422,
            field="datetime",
        )
    return interval.start, interval.end


@dataclass(frozen=True, slots=True)
class Added:
    """The item a file is catalogued as, and whether this call catalogued it (False: it already was)."""

    item: ImageryItem
    created: bool


def _slug(stem: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")[:63]
    return slug or "scene"


def _instant(start: datetime, text: str) -> datetime | None:
    """The instant a scene was taken, when ``text`` gave one (not a day nor an interval)."""
    return start if "/" not in text and "T" in text.upper() else None


def imagery_add(
    *,
    path: Path,
    collection_id: str,
    taken: str,
    item_id: str | None = None,
    title: str = "",
    profile: str = "deflate",
    properties: dict[str, Any] | None = None,
    collection_title: str = "",
    collection_description: str = "",
    license: str = "other",
) -> Added:
    """Catalogue the raster at ``path`` as an item of ``collection_id``: checked, converted to a
    Cloud-Optimized GeoTIFF, its footprint, thumbnail and projection found, its files stored, then its
    rows written in one transaction. The same file added again to the same collection is found, not
    added twice. A file that cannot be used is refused (``RasterRefused``) before anything is stored;
    a failure after the files are stored removes them."""
    start, end = taken_check(taken)
    id_check(collection_id, field="collection")
    if profile not in raster.COG_PROFILES:
        raise DomainError(
            "invalid_profile", _("profile must be one of %(known)s.") % {"known": ", ".join(raster.COG_PROFILES)}
        )
    if not path.is_file():
        raise raster.RasterRefused(_("%(name)s is not a file.") % {"name": str(path)})
    source_sha256 = file_sha256(path)
    existing = ImageryItem.objects.filter(collection__collection_id=collection_id, source_sha256=source_sha256).first()
    if existing is not None:
        return Added(existing, created=False)
    item_id = id_check(item_id or _slug(path.stem), field="id")
    if ImageryItem.objects.filter(collection__collection_id=collection_id, item_id=item_id).exists():
        raise Conflict(
            "item_exists",
            _("%(collection)s already has an item %(item)s made from another file; give this one another id.")
            % {"collection": collection_id, "item": item_id},
            field="id",
        )
    facts = raster.raster_check(path)
    import rasterio

    with tempfile.TemporaryDirectory(prefix="gov21-imagery-") as work:
        cog = Path(work) / "scene.tif"
        raster.cog_write(path, cog, profile=profile)
        with rasterio.open(cog) as dataset:
            outline = raster.footprint(dataset)
            preview = Path(work) / "thumbnail.png"
            preview.write_bytes(raster.thumbnail(dataset))
        files = {
            "data": (cog, raster.COG_MEDIA_TYPE, ["data"], _("The scene (Cloud-Optimized GeoTIFF)"), "tif"),
            "thumbnail": (preview, raster.PNG_MEDIA_TYPE, ["thumbnail"], _("Thumbnail"), "png"),
        }
        stored: list[str] = []
        target = storage()
        try:
            assets = []
            for key, (file, media_type, roles, asset_title, suffix) in files.items():
                digest = file_sha256(file)
                storage_key = f"{collection_id}/{item_id}/{key}-{digest[:16]}.{suffix}"
                if not target.exists(storage_key):
                    target.put(storage_key, file)
                    stored.append(storage_key)
                assets.append(
                    ImageryAsset(
                        key=key,
                        title=str(asset_title),
                        media_type=media_type,
                        roles=roles,
                        storage_key=storage_key,
                        size=file.stat().st_size,
                        sha256=digest,
                    )
                )
            item_properties = {
                **(properties or {}),
                **raster.projection(facts),
                "gsd": round(abs(facts.transform[0]), 3) if facts.epsg and facts.epsg != 4326 else None,
            }
            if title:
                item_properties["title"] = title
            item_properties = {key: value for key, value in item_properties.items() if value is not None}
            with transaction.atomic():
                collection = collection_ensure(
                    collection_id=collection_id,
                    title=collection_title,
                    description=collection_description,
                    license=license,
                )
                item = ImageryItem(
                    collection=collection,
                    item_id=item_id,
                    taken_at=_instant(start, taken),
                    start_at=start,
                    end_at=end,
                    properties=item_properties,
                    source_sha256=source_sha256,
                    created_at=timezone.now(),
                ).geometry_set(outline)
                item.save()
                for asset in assets:
                    asset.item = item
                ImageryAsset.objects.bulk_create(assets)
        except IntegrityError:
            _remove(stored)
            raise Conflict(
                "item_exists",
                _("%(collection)s already has an item %(item)s; give this one another id.")
                % {"collection": collection_id, "item": item_id},
                field="id",
            ) from None
        except StorageError as error:
            _remove(stored)
            raise DomainError(
                "storage_failed",
                _("The imagery storage refused the file: %(error)s") % {"error": str(error)},
                status=503,
            ) from error
        except BaseException:
            _remove(stored)
            raise
    return Added(item, created=True)


def _remove(keys: list[str]) -> None:
    target = storage()
    for key in keys:
        with contextlib.suppress(StorageError):
            target.delete(key)
