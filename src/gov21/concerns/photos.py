"""Photos of reported problems: decoded with Pillow and encoded again as JPEG, so nothing of the
uploaded file survives but its pixels (no EXIF, no GPS position, no embedded scripts or trailers)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from gov21.core.errors import DomainError

# The largest upload accepted and the largest picture decoded (a small file can claim huge pixels).
MAX_BYTES: Final = 10 * 1024 * 1024
MAX_PIXELS: Final = 40_000_000
# The longest side kept: enough to see a pothole, small enough for a phone on a slow line.
MAX_SIDE: Final = 2048
MAX_PHOTOS: Final = 3


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    jpeg: bytes
    width: int
    height: int


def photo_clean(data: bytes) -> CleanPhoto:
    """``data`` re-encoded as a JPEG without metadata, turned upright, at most MAX_SIDE on a side."""
    if len(data) > MAX_BYTES:
        raise DomainError(
            "photo_too_large", f"A photo may be at most {MAX_BYTES // (1024 * 1024)} MB.", status=413, field="photo"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in {"JPEG", "PNG", "WEBP", "GIF"}:
                    raise UnidentifiedImageError(image.format)
                if image.width * image.height > MAX_PIXELS:
                    raise Image.DecompressionBombError("too many pixels")
                image.load()
                upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError):
        raise DomainError(
            "photo_invalid", "The photo must be a JPEG, PNG, WebP or GIF picture.", status=400, field="photo"
        ) from None
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    # A fresh image carries no info dictionary: no EXIF, no XMP, no ICC, no comment.
    clean = Image.new("RGB", upright.size)
    clean.paste(upright)
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return CleanPhoto(jpeg=out.getvalue(), width=clean.width, height=clean.height)
