"""What gov21 does with a raster file, with rasterio (GDAL, carried by its wheel) and rio-cogeo: check
it can be used, convert it to a Cloud-Optimized GeoTIFF, find its footprint in CRS84, draw its
thumbnail, describe its projection, and cut web map tiles from it.

Nothing here touches the database or the storage: ``services`` calls these on local files, the tile
view on a dataset it opened from the storage."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from numpy.typing import NDArray
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from gov21.core.errors import DomainError

if TYPE_CHECKING:
    from rasterio.io import DatasetReader

TILE_SIZE = 256
THUMBNAIL_SIZE = 256
# The footprint is traced on a copy of the mask at most this many pixels across: enough for a scene's
# outline, cheap for a large one.
FOOTPRINT_PIXELS = 512
MAX_ZOOM = 24
# Half the side of the Web Mercator square (EPSG:3857), in metres.
MERCATOR_HALF = 20037508.342789244
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
PNG_MEDIA_TYPE = "image/png"
COG_PROFILES = ("deflate", "jpeg")


class RasterRefused(DomainError):
    """A file that cannot be catalogued, with the reason in words for the person who gave it."""

    def __init__(self, detail: str) -> None:
        super().__init__("raster_refused", detail, status=422, title="Raster refused", field="file")


@dataclass(frozen=True, slots=True)
class RasterFacts:
    """What a checked raster is: its size, bands and projection."""

    width: int
    height: int
    count: int
    dtype: str
    epsg: int | None
    wkt: str
    transform: tuple[float, ...]
    bounds: tuple[float, float, float, float]


def raster_check(path: Path) -> RasterFacts:
    """The facts of the raster at ``path``, once it is clear that GDAL reads it, that it has a
    coordinate reference system and that every block of it can be read (a truncated file opens but
    fails there); a ``RasterRefused`` saying which of these failed otherwise."""
    import rasterio
    from rasterio.errors import RasterioError

    name = path.name
    try:
        dataset = rasterio.open(path)
    except RasterioError:
        raise RasterRefused(_("%(name)s is not a raster file gov21 can read.") % {"name": name}) from None
    with dataset:
        if dataset.count < 1 or dataset.width < 1 or dataset.height < 1:
            raise RasterRefused(_("%(name)s holds no raster bands.") % {"name": name})
        if dataset.crs is None:
            raise RasterRefused(
                _(
                    "%(name)s has no coordinate reference system, so gov21 cannot tell where it lies;"
                    " georeference it (for instance with gdal_translate -a_srs) and add it again."
                )
                % {"name": name}
            )
        if dataset.transform.is_identity:
            raise RasterRefused(
                _("%(name)s has no geotransform: its pixels are not placed on the ground.") % {"name": name}
            )
        try:
            for _index, window in dataset.block_windows(1):
                dataset.read(window=window)
        except RasterioError:
            raise RasterRefused(
                _("%(name)s cannot be read to the end: the file is truncated or damaged.") % {"name": name}
            ) from None
        epsg = dataset.crs.to_epsg()
        return RasterFacts(
            width=dataset.width,
            height=dataset.height,
            count=dataset.count,
            dtype=str(dataset.dtypes[0]),
            epsg=epsg,
            wkt=dataset.crs.to_wkt(),
            transform=tuple(float(v) for v in dataset.transform[:6]),
            bounds=tuple(float(v) for v in dataset.bounds),  # type: ignore[arg-type]
        )


def cog_write(source: Path, target: Path, *, profile: str = "deflate") -> None:
    """``source`` written to ``target`` as a Cloud-Optimized GeoTIFF (tiled, with overviews), checked
    with rio-cogeo's validator."""
    from rio_cogeo.cogeo import cog_translate, cog_validate
    from rio_cogeo.profiles import cog_profiles

    output = cog_profiles.get(profile)  # type: ignore[no-untyped-call]
    cog_translate(
        str(source),
        str(target),
        output,
        quiet=True,
        in_memory=False,
        overview_resampling="average",
        use_cog_driver=False,
    )
    valid, errors, _warnings = cog_validate(str(target), quiet=True)
    if not valid:
        raise RasterRefused(
            _("The file could not be converted to a Cloud-Optimized GeoTIFF: %(errors)s")
            % {"errors": "; ".join(errors)}
        )


def _to_crs84(dataset: DatasetReader) -> Transformer:
    return Transformer.from_crs(
        ProjCRS.from_user_input(dataset.crs.to_wkt()), ProjCRS.from_user_input("OGC:CRS84"), always_xy=True
    )


def _carry(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def carry(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, carry)


def footprint(dataset: DatasetReader) -> BaseGeometry:
    """Where ``dataset`` has data, in CRS84: the outline of its valid pixels (its mask, traced on a
    reduced copy), or, when every pixel is valid, its whole rectangle; each edge densified before it is
    reprojected, so a straight edge in the raster's CRS follows its curve in longitude and latitude."""
    from rasterio.features import shapes

    scale = max(dataset.width, dataset.height) / FOOTPRINT_PIXELS
    scale = max(scale, 1.0)
    out_width, out_height = max(1, round(dataset.width / scale)), max(1, round(dataset.height / scale))
    mask = dataset.dataset_mask(out_shape=(out_height, out_width))
    transform = dataset.transform @ dataset.transform.scale(dataset.width / out_width, dataset.height / out_height)
    if bool(mask.all()):
        left, bottom, right, top = dataset.bounds
        native: BaseGeometry = box(left, bottom, right, top)
        # A rotated raster: its corners through its own transform, not its bounds.
        if dataset.transform.b or dataset.transform.d:
            grid = dataset.transform
            corners = [
                (grid.c + grid.a * col + grid.b * row, grid.f + grid.d * col + grid.e * row)
                for col, row in ((0, 0), (dataset.width, 0), (dataset.width, dataset.height), (0, dataset.height))
            ]
            native = shapely.Polygon(corners)
    else:
        parts = [shape(geometry) for geometry, value in shapes(mask, mask=mask > 0, transform=transform) if value > 0]
        if not parts:
            raise RasterRefused(_("The raster has no valid pixel: every pixel is marked as no data."))
        native = shapely.union_all(parts).simplify(abs(transform.a))
    minx, miny, maxx, maxy = native.bounds
    native = shapely.segmentize(native, max(maxx - minx, maxy - miny) / 64)
    # Points on the densified edges that the curve does not need (under a centimetre off it) go again.
    geometry = _carry(native, _to_crs84(dataset)).simplify(1e-7)
    geometry = shapely.set_precision(geometry, 1e-7)
    if not geometry.is_valid:
        geometry = make_valid(geometry)
    if isinstance(geometry, shapely.GeometryCollection):
        geometry = shapely.union_all([part for part in geometry.geoms if part.geom_type in ("Polygon", "MultiPolygon")])
    return shapely.normalize(geometry)


def projection(facts: RasterFacts) -> dict[str, Any]:
    """The projection extension's properties (v2.0.0) of a raster."""
    properties: dict[str, Any] = {
        "proj:code": f"EPSG:{facts.epsg}" if facts.epsg is not None else None,
        "proj:shape": [facts.height, facts.width],
        "proj:transform": list(facts.transform),
        "proj:bbox": list(facts.bounds),
    }
    if facts.epsg is None:
        properties["proj:wkt2"] = facts.wkt
    return properties


def _png(rgba: NDArray[np.uint8]) -> bytes:
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile

    bands, height, width = rgba.shape
    # A PNG of pixels for a screen has no place on the ground; GDAL would say so each time.
    with warnings.catch_warnings(), MemoryFile() as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open(driver="PNG", width=width, height=height, count=bands, dtype="uint8") as png:
            png.write(rgba)
        return bytes(memory.read())


def _as_bytes(data: NDArray[Any], dataset: DatasetReader) -> NDArray[np.uint8]:
    """Pixel values as 0–255: unchanged for 8-bit imagery, otherwise stretched between the 2nd and
    98th percentiles of the dataset's smallest overview."""
    if data.dtype == np.uint8:
        return data.astype(np.uint8)
    small = dataset.read(
        out_shape=(dataset.count, max(1, dataset.height // 16), max(1, dataset.width // 16)), masked=True
    )
    values = small.compressed() if np.ma.isMaskedArray(small) else np.asarray(small).ravel()
    low, high = (float(v) for v in np.percentile(values, (2, 98))) if values.size else (0.0, 1.0)
    if high <= low:
        high = low + 1
    return np.clip((data.astype(np.float64) - low) * 255 / (high - low), 0, 255).astype(np.uint8)


def _rgba(data: NDArray[Any], mask: NDArray[Any], dataset: DatasetReader) -> NDArray[np.uint8]:
    colour = _as_bytes(data[:3] if data.shape[0] >= 3 else np.repeat(data[:1], 3, axis=0), dataset)
    return np.concatenate([colour, (mask > 0).astype(np.uint8)[None] * 255])


def thumbnail(dataset: DatasetReader) -> bytes:
    """A PNG of ``dataset`` at most ``THUMBNAIL_SIZE`` pixels across, transparent where there is no data."""
    scale = max(dataset.width, dataset.height) / THUMBNAIL_SIZE
    width, height = max(1, round(dataset.width / scale)), max(1, round(dataset.height / scale))
    bands = [1, 2, 3] if dataset.count >= 3 else [1]
    from rasterio.enums import Resampling

    data = dataset.read(bands, out_shape=(len(bands), height, width), resampling=Resampling.average)
    mask = dataset.dataset_mask(out_shape=(height, width))
    return _png(_rgba(data, mask, dataset))


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The bounds (west, south, east, north) in EPSG:3857 of tile ``z/x/y`` of WebMercatorQuad."""
    side = 2 * MERCATOR_HALF / (1 << z)
    west = -MERCATOR_HALF + x * side
    north = MERCATOR_HALF - y * side
    return west, north - side, west + side, north


def tile_outline(z: int, x: int, y: int) -> BaseGeometry:
    """Tile ``z/x/y`` as a polygon in CRS84."""
    west, south, east, north = tile_bounds(z, x, y)

    def lon(v: float) -> float:
        return math.degrees(v / 6378137.0)

    def lat(v: float) -> float:
        return math.degrees(2 * math.atan(math.exp(v / 6378137.0)) - math.pi / 2)

    return box(lon(west), lat(south), lon(east), lat(north))


def _overview_level(dataset: DatasetReader, bounds: tuple[float, float, float, float]) -> int | None:
    """The index of the coarsest overview of ``dataset`` still at least as fine as a tile over
    ``bounds`` (EPSG:3857) needs, or None when full resolution is needed."""
    from rasterio.warp import transform_bounds

    west, south, east, north = transform_bounds("EPSG:3857", dataset.crs, *bounds)
    needed = min(east - west, north - south) / TILE_SIZE
    level = None
    for index, factor in enumerate(dataset.overviews(1)):
        if abs(dataset.res[0]) * factor <= needed:
            level = index
    return level


def tile(dataset: DatasetReader, z: int, x: int, y: int) -> bytes:
    """Tile ``z/x/y`` of WebMercatorQuad cut from ``dataset`` as a 256×256 RGBA PNG, transparent
    outside the data. The source is read at the coarsest overview that is still fine enough, then
    warped onto the tile's own grid."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import from_bounds
    from rasterio.vrt import WarpedVRT

    west, south, east, north = tile_bounds(z, x, y)
    grid = from_bounds(west, south, east, north, TILE_SIZE, TILE_SIZE)
    bands = [1, 2, 3] if dataset.count >= 3 else [1]
    level = _overview_level(dataset, (west, south, east, north))
    source = dataset if level is None else rasterio.open(dataset.name, overview_level=level)
    try:
        with WarpedVRT(
            source,
            crs="EPSG:3857",
            transform=grid,
            width=TILE_SIZE,
            height=TILE_SIZE,
            resampling=Resampling.bilinear,
            add_alpha=True,
        ) as vrt:
            data = vrt.read(bands)
            mask = vrt.dataset_mask()
    finally:
        if source is not dataset:
            source.close()
    return _png(_rgba(data, mask, dataset))
