"""The data embassy: this node keeps a partner government's encrypted backups, and it keeps ours.

A partner's backup node calls ``<instance>/GOV/EXCHANGE/data-embassy/store`` through the exchange,
so every call is signed, rights-checked and logged at both ends, and only the partner a right was
granted to gets in. What it stores are the sealed chunks and signed manifests of
:mod:`gov21.continuity.engine`: this node holds no key to them and cannot read them. Each partner
(each calling client) has its own folder under ``<data dir>/embassy/`` and a quota; the folder has
the layout of a directory target, so if the link is down the operator can carry it out on a disk
and the partner restores from it with ``gov21 restore --from DIR``.

Endpoints: ``PUT|GET|DELETE /objects/{key}``, ``GET /list/{prefix}`` and ``GET /inventory``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import orjson
from django.conf import settings

from gov21.continuity.targets import DirectoryTarget, TargetError
from gov21.core import config
from gov21.core.errors import DomainError
from gov21.exchange.contracts import ServiceRequest, ServiceResponse, local_service, problem_response

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


def _ok(data: object) -> ServiceResponse:
    return ServiceResponse(status=200, body=orjson.dumps(data))


@local_service("continuity.embassy")
def store(req: ServiceRequest) -> ServiceResponse:
    try:
        folder = guest_folder(req.client)
        shelf = DirectoryTarget(folder)
        path = req.path.strip("/")
        if path.startswith("objects/"):
            key = path.removeprefix("objects/")
            if not OBJECT_KEY.fullmatch(key):
                raise DomainError("invalid_key", f"{key[:80]!r} is not the name of a backup object.", field="key")
            return _object(req, shelf, folder, key)
        if req.method == "GET" and path.startswith("list/"):
            prefix = path.removeprefix("list/")
            if not LIST_PREFIX.fullmatch(prefix):
                raise DomainError(
                    "invalid_prefix", "List manifests, chunks or chunks/<two hex digits>.", field="prefix"
                )
            return _ok({"items": shelf.list(prefix)})
        if req.method == "GET" and path == "inventory":
            chunks = sorted(p.name for p in (folder / "chunks").glob("*/*") if not p.name.startswith("."))
            quota = config.EMBASSY_QUOTA_GB.read() * 10**9
            return _ok({"chunks": chunks, "used_bytes": _used(folder), "quota_bytes": quota})
        raise DomainError("not_found", "No such endpoint: /objects/{key}, /list/{prefix} or /inventory.", status=404)
    except TargetError as error:
        return problem_response(DomainError("storage_failed", str(error), status=507, title="Storage problem"))
    except DomainError as error:
        return problem_response(error)


def _object(req: ServiceRequest, shelf: DirectoryTarget, folder: Path, key: str) -> ServiceResponse:
    if req.method == "GET":
        if not shelf.exists(key):
            raise DomainError("not_found", f"No object {key}.", status=404)
        return ServiceResponse(status=200, body=shelf.get(key), content_type="application/octet-stream")
    if req.method == "PUT":
        quota = config.EMBASSY_QUOTA_GB.read() * 10**9
        if _used(folder) + len(req.body) > quota:
            raise DomainError(
                "quota_exceeded",
                f"This embassy lends {quota:,} bytes to your backups and they are full; prune old backups.",
                status=507,
                title="Storage problem",
            )
        shelf.put(key, req.body)
        _count(folder, len(req.body))
        return ServiceResponse(status=201, body=orjson.dumps({"key": key, "size": len(req.body)}))
    if req.method == "DELETE":
        size = (folder / key).stat().st_size if shelf.exists(key) else 0
        shelf.delete(key)
        _count(folder, -size)
        return ServiceResponse(status=204, body=b"")
    raise DomainError("method_not_allowed", "Objects are PUT, read with GET and removed with DELETE.", status=405)
