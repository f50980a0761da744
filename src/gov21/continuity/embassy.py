"""The data embassy: this node keeps a partner government's encrypted backups, and it keeps ours.

A partner's backup node calls ``<instance>/GOV/EXCHANGE/data-embassy/store`` through the exchange,
so every call is signed, rights-checked and logged at both ends, and only the partner a right was
granted to gets in. What it stores are the sealed chunks and signed manifests of
:mod:`gov21.continuity.engine`: this node holds no key to them and cannot read them. Each partner
(each calling client) has its own folder under ``<data dir>/embassy/`` and a quota; the folder has
the layout of a directory target, so if the link is down the operator can carry it out on a disk
and the partner restores from it with ``gov21 restore --from DIR``.

Its endpoints (``PUT|GET|DELETE /objects/{key}``, ``GET /list/{prefix}`` and ``GET /inventory``)
are routes in :mod:`gov21.continuity.exchange_routes`.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from gov21.continuity.targets import DirectoryTarget, TargetError
from gov21.core import config
from gov21.core.errors import DomainError

# Only what a gov21 backup writes: a sealed chunk or a manifest and its signature.
OBJECT_KEY = re.compile(r"chunks/[0-9a-f]{2}/[0-9a-f]{64}|manifests/[0-9A-Za-z-]{1,64}\.(json|sig)")
LIST_PREFIX = re.compile(r"manifests|chunks|chunks/[0-9a-f]{2}")
CLIENT_PART = re.compile(r"[A-Za-z0-9._-]{1,64}")


def guest_folder(client: str) -> Path:
    """The folder of the partner calling as ``client`` (instance/class/member/subsystem)."""
    parts = client.split("/")
    if len(parts) != 4 or not all(CLIENT_PART.fullmatch(part) for part in parts):
        raise DomainError("invalid_client", "Only an information system (a subsystem) may keep backups here.")
    return Path(settings.DATA_DIR) / "embassy" / "__".join(parts)


_usage: dict[Path, tuple[float, int]] = {}
USAGE_REFRESH_S = 60.0


def _used(folder: Path) -> int:
    """The bytes a partner's folder holds: counted afresh each minute, kept up to date in between."""
    seen = _usage.get(folder)
    if seen is None or time.monotonic() - seen[0] > USAGE_REFRESH_S:
        total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        seen = (time.monotonic(), total)
        _usage[folder] = seen
    return seen[1]


def _count(folder: Path, change: int) -> None:
    if folder in _usage:
        stamp, total = _usage[folder]
        _usage[folder] = (stamp, max(0, total + change))


@contextlib.contextmanager
def _storage() -> Iterator[None]:
    """A failure of the disk, as the problem the partner sees."""
    try:
        yield
    except TargetError as error:
        raise DomainError("storage_failed", str(error), status=507, title="Storage problem") from error


def _shelf(client: str) -> tuple[DirectoryTarget, Path]:
    folder = guest_folder(client)
    return DirectoryTarget(folder), folder


def _checked_key(key: str) -> str:
    if not OBJECT_KEY.fullmatch(key):
        raise DomainError("invalid_key", f"{key[:80]!r} is not the name of a backup object.", field="key")
    return key


def object_get(*, client: str, key: str) -> bytes:
    """One object the partner stored."""
    shelf, _ = _shelf(client)
    key = _checked_key(key)
    with _storage():
        if not shelf.exists(key):
            raise DomainError("not_found", f"No object {key}.", status=404)
        return shelf.get(key)


def object_put(*, client: str, key: str, data: bytes) -> int:
    """Store one object within the partner's quota; its size."""
    shelf, folder = _shelf(client)
    key = _checked_key(key)
    quota = config.EMBASSY_QUOTA_GB.read() * 10**9
    with _storage():
        if _used(folder) + len(data) > quota:
            raise DomainError(
                "quota_exceeded",
                f"This embassy lends {quota:,} bytes to your backups and they are full; prune old backups.",
                status=507,
                title="Storage problem",
            )
        shelf.put(key, data)
    _count(folder, len(data))
    return len(data)


def object_delete(*, client: str, key: str) -> None:
    shelf, folder = _shelf(client)
    key = _checked_key(key)
    with _storage():
        size = (folder / key).stat().st_size if shelf.exists(key) else 0
        shelf.delete(key)
    _count(folder, -size)


def objects_list(*, client: str, prefix: str) -> list[str]:
    """The objects under ``prefix``: the manifests, the chunks, or the chunks under two hex digits."""
    shelf, _ = _shelf(client)
    if not LIST_PREFIX.fullmatch(prefix):
        raise DomainError("invalid_prefix", "List manifests, chunks or chunks/<two hex digits>.", field="prefix")
    with _storage():
        return shelf.list(prefix)


def inventory(*, client: str) -> tuple[list[str], int, int]:
    """Every chunk the partner keeps here, the bytes used, and the quota."""
    _, folder = _shelf(client)
    with _storage():
        chunks = sorted(p.name for p in (folder / "chunks").glob("*/*") if not p.name.startswith("."))
        return chunks, _used(folder), config.EMBASSY_QUOTA_GB.read() * 10**9
