"""Source documents (deeds, survey plans, court orders) kept as files under the data directory,
each named by the SHA-256 of its content and checked against it every time it is read. A file is
written once: the same content uploaded again is the same document."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.errors import DomainError, NotFound
from gov21.core.principal import Principal
from gov21.land.models import Source, SourceKind

# Where the documents live, inside the data directory (and so in every backup: see apps.py).
DIRECTORY: Final = "land/documents"
MAX_BYTES: Final = 20 * 1024 * 1024
MEDIA_TYPES: Final = frozenset({"application/pdf", "image/png", "image/jpeg", "image/tiff"})


def _path(sha256: str) -> Path:
    return Path(settings.DATA_DIR) / DIRECTORY / sha256[:2] / sha256


@transaction.atomic
def source_store(*, content: bytes, kind: str, filename: str, media_type: str, actor: Principal) -> Source:
    """Keep a source document: its file written (atomically, by its hash) and its row recorded."""
    actor.require("land.lodge")
    if kind not in SourceKind.values:
        raise DomainError("invalid_source_kind", _("Choose what kind of document this is."), field="kind")
    if media_type not in MEDIA_TYPES:
        raise DomainError("invalid_media_type", _("A source document is a PDF, PNG, JPEG or TIFF file."), field="file")
    if not content:
        raise DomainError("empty_file", _("The file is empty."), field="file")
    if len(content) > MAX_BYTES:
        raise DomainError("file_too_large", _("A source document is at most 20 MB."), field="file")
    digest = hashlib.sha256(content).hexdigest()
    known = Source.objects.filter(sha256=digest).first()
    path = _path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    if known is not None:
        return known
    return Source.objects.create(
        sha256=digest,
        kind=kind,
        filename=Path(filename).name[:200] or digest,
        media_type=media_type,
        size=len(content),
        uploaded_by=actor.name,
        uploaded_at=timezone.now(),
    )


def source_read(*, sha256: str) -> tuple[Source, bytes]:
    """A document and its content, checked against its hash: a file changed or lost on disk is
    refused, never handed out."""
    source = Source.objects.filter(sha256=sha256).first()
    if source is None:
        raise NotFound("source_not_found", _("No such source document."))
    try:
        content = _path(sha256).read_bytes()
    except FileNotFoundError:
        raise DomainError(
            "source_missing", _("The file of this document is missing; restore it from a backup."), status=409
        ) from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise DomainError(
            "source_damaged",
            _("The file of this document does not match its hash; restore it from a backup."),
            status=409,
        )
    return source, content
