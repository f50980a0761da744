"""Encrypted, content-addressed backups of a gov21 node, and their restore.

A backup is a consistent snapshot of the database (SQLite's online backup API) and of the keys
the node needs to run (registry and provider signing keys, the sealing key, Django's secret key),
cut into 1 MiB chunks. SQLite changes whole pages, so fixed, page-aligned chunks are what stays the
same between two backups; a chunk a target already holds is not sent again.

Each chunk is compressed, then encrypted with AES-256-GCM under a key derived (HKDF) from the
node's master key and the chunk's id. The id is an HMAC of the plaintext under another derived key,
so a target cannot test a guess of what a chunk holds. The master key never leaves the node: it is
kept under ``<data dir>/keys/backup-master.key`` and exported only on purpose (``gov21 backup
export-keys``). The manifest lists every file and chunk with its keyed hash and the row counts of
the main tables; it is signed with the node's backup key (Ed25519), and the signature names the
manifest's SHA-256. Restore checks the signature, the master-key fingerprint, every chunk's tag and
id, every file's hash, SQLite's integrity check and the row counts, and stops at the first fault
with a message that names it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import shutil
import sqlite3
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connection

from gov21.continuity import postgres
from gov21.continuity.targets import Target
from gov21.core.crypto import KeyStore, private_file, verify_compact
from gov21.core.datafiles import backup_directories
from gov21.core.errors import DomainError

FORMAT = "gov21-backup/1"
CHUNK_SIZE = 1 << 20
BLOB_MAGIC = b"G21C2"  # zstd, then AES-256-GCM
BLOB_MAGIC_ZLIB = b"G21C1"  # zlib, then AES-256-GCM: backups made before zstd, still read
ZSTD_LEVEL = 3
# A file's hash is an HMAC of its chunks' ids in order (each id is itself an HMAC of the chunk), so
# the data is hashed once; manifests without this mark hashed the whole plaintext again.
FILE_HASH = "chunk-ids/1"
PIPELINE_DEPTH = 6  # chunks being compressed and sealed, or opened, at once
SIG_TYP = "gov21-backup+jwt"
MASTER_FILE = "backup-master.key"
DB_NAME = "gov21.sqlite3"
PG_DUMP = "pgdump"  # a PostgreSQL node's backup holds pg_dump's directory format here
# The tables whose row counts a restore must reproduce exactly.
COUNTED_TABLES = (
    "registry_person",
    "registry_personversion",
    "registry_lifeevent",
    "registry_certificate",
    "identity_account",
    "audit_accessrecord",
)


class BackupError(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail, status=422, title="Backup problem")


# --- keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeKeys:
    """What a restore needs that is never on a target: the master key and the signing public keys."""

    master: bytes
    jwks: dict[str, object]

    @property
    def fingerprint(self) -> str:
        return hmac.new(self.master, b"gov21 backup master fingerprint", hashlib.sha256).hexdigest()[:32]

    def to_json(self) -> str:
        return json.dumps(
            {"format": FORMAT, "master": base64.b64encode(self.master).decode(), "jwks": self.jwks}, indent=2
        )

    @classmethod
    def from_file(cls, path: Path) -> HomeKeys:
        try:
            data = json.loads(Path(path).read_text())
            master = base64.b64decode(data["master"], validate=True)
            jwks = data["jwks"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise BackupError("bad_key_file", f"{path} is not a gov21 backup key file ({error}).") from error
        if len(master) != 32 or not isinstance(jwks, dict):
            raise BackupError("bad_key_file", f"{path} is not a gov21 backup key file.")
        return cls(master=master, jwks=jwks)


def _data_dir() -> Path:
    return Path(settings.DATA_DIR)


def signing_keys(data_dir: Path | None = None) -> KeyStore:
    return KeyStore((data_dir or _data_dir()) / "keys", purpose="backup")


def home_keys(data_dir: Path | None = None) -> HomeKeys:
    directory = data_dir or _data_dir()
    master = private_file(directory / "keys" / MASTER_FILE, lambda: secrets.token_bytes(32))
    store = signing_keys(directory)
    store.active_key()
    return HomeKeys(master=master, jwks=store.public_jwks())


def _derive(master: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"gov21 backup " + label).derive(master)


# --- chunks -------------------------------------------------------------------------------------


def chunk_id(keys: HomeKeys, plain: bytes) -> str:
    return hmac.new(_derive(keys.master, b"chunk id"), plain, hashlib.sha256).hexdigest()


def seal_chunk(keys: HomeKeys, cid: str, plain: bytes) -> bytes:
    nonce = secrets.token_bytes(12)
    key = _derive(keys.master, b"chunk " + cid.encode())
    packed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(plain)
    return BLOB_MAGIC + nonce + AESGCM(key).encrypt(nonce, packed, cid.encode())


def open_chunk(keys: HomeKeys, cid: str, blob: bytes) -> bytes:
    magic = blob[: len(BLOB_MAGIC)]
    if magic not in (BLOB_MAGIC, BLOB_MAGIC_ZLIB) or len(blob) < len(BLOB_MAGIC) + 12 + 16:
        raise BackupError("chunk_corrupt", f"chunk {cid[:12]}… is not a gov21 chunk (truncated or overwritten).")
    nonce = blob[len(BLOB_MAGIC) : len(BLOB_MAGIC) + 12]
    key = _derive(keys.master, b"chunk " + cid.encode())
    try:
        packed = AESGCM(key).decrypt(nonce, blob[len(BLOB_MAGIC) + 12 :], cid.encode())
        if magic == BLOB_MAGIC_ZLIB:
            plain = zlib.decompress(packed)
        else:
            plain = zstandard.ZstdDecompressor().decompress(packed, max_output_size=CHUNK_SIZE)
    except InvalidTag as error:
        raise BackupError(
            "chunk_corrupt", f"chunk {cid[:12]}… fails its integrity check: it was altered, or the key is wrong."
        ) from error
    if not hmac.compare_digest(chunk_id(keys, plain), cid):
        raise BackupError("chunk_corrupt", f"chunk {cid[:12]}… does not hold what the manifest says.")
    return plain


def chunk_key(cid: str) -> str:
    """Where a chunk lives on a target: fanned out by its first two hex digits."""
    return f"chunks/{cid[:2]}/{cid}"


def file_hash(keys: HomeKeys, ids: list[str], size: int) -> str:
    digest = hmac.new(_derive(keys.master, b"file hash"), digestmod=hashlib.sha256)
    for cid in ids:
        digest.update(bytes.fromhex(cid))
    digest.update(size.to_bytes(8, "big"))
    return digest.hexdigest()


def _ordered(results: deque[tuple[str, Future[bytes]]], depth: int) -> Iterator[tuple[str, bytes]]:
    """Hand back finished work in the order it was queued, once more than ``depth`` are waiting."""
    while len(results) > depth:
        name, future = results.popleft()
        yield name, future.result()


def _write(ready: Iterator[tuple[str, bytes]], handle: BinaryIO, digest: hmac.HMAC | None) -> int:
    written = 0
    for _, plain in ready:
        if digest is not None:
            digest.update(plain)
        handle.write(plain)
        written += len(plain)
    return written


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_SIZE):
            yield block


# --- backup -------------------------------------------------------------------------------------


@dataclass
class BackupReport:
    backup_id: str
    target: str
    files: int = 0
    chunks: int = 0
    chunks_sent: int = 0
    bytes_read: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0
    full: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def _snapshot_sqlite(into: Path) -> Path:
    """A consistent copy of the live SQLite database (the online backup API; writers are not stopped).

    The whole copy is one step, so one read transaction: in WAL mode writers carry on meanwhile and
    the copy is the database as of the step's start. Copying in several steps would restart the copy
    each time another process writes, and under steady registrations never finish."""
    target = into / DB_NAME
    connection.ensure_connection()
    source = connection.connection
    dst = sqlite3.connect(target)
    try:
        source.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
    return target


def _counts(db: Path) -> dict[str, int]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        present = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {
            table: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608 - fixed names
            for table in COUNTED_TABLES
            if table in present
        }
    finally:
        connection.close()


def _key_files(data_dir: Path) -> list[tuple[str, Path]]:
    """The files a node needs to run, besides its database: every key but the backup master key,
    and the files of the directories apps registered (``core.datafiles``)."""
    files = [("secret_key", data_dir / "secret_key")] if (data_dir / "secret_key").exists() else []
    keys = data_dir / "keys"
    if keys.is_dir():
        for path in sorted(keys.rglob("*")):
            if path.is_file() and path.name != MASTER_FILE and not path.name.startswith("."):
                files.append((str(path.relative_to(data_dir)), path))
    # The apps' own files (a register's source documents), wherever they registered them.
    for relative in backup_directories():
        folder = data_dir / relative
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    files.append((str(path.relative_to(data_dir)), path))
    return files


def backup_run(target: Target, *, full: bool = False, progress: Callable[[str], None] | None = None) -> BackupReport:
    """Snapshot this node and write it to ``target``; only chunks the target lacks are sent.

    A ``full`` backup sends every chunk again, whether the target holds it or not: a daily full
    copy does not lean on chunks written months ago, which a slowly failing disk may have lost."""
    from gov21.continuity.check import published_jwks

    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError("engine_not_supported", f"gov21 backup reads SQLite and PostgreSQL nodes, not {vendor}.")
    started = time.monotonic()
    keys = home_keys()
    data_dir = _data_dir()
    backup_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)
    report = BackupReport(backup_id=backup_id, target=target.name, full=full)
    # Before the key files are read: publishing the key set makes any signing key not made yet.
    kids = sorted(str(key.get("kid", "")) for key in published_jwks().get("keys", []))
    with tempfile.TemporaryDirectory(prefix="gov21-backup-") as scratch:
        taken = datetime.now(UTC)  # the snapshot holds every transaction committed by now
        if vendor == "sqlite":
            snapshot = _snapshot_sqlite(Path(scratch))
            report.counts = _counts(snapshot)
            sources = [(DB_NAME, snapshot)]
        else:
            folder = postgres.dump(Path(scratch), database=settings.DATABASES["default"])
            report.counts = postgres.dump_counts(folder, COUNTED_TABLES)
            sources = [(f"{PG_DUMP}/{path.name}", path) for path in sorted(folder.iterdir()) if path.is_file()]
        sources += _key_files(data_dir)
        entries = []
        sealing: deque[tuple[str, Future[bytes]]] = deque()

        def send(ready: Iterator[tuple[str, bytes]]) -> None:
            for key, blob in ready:
                target.put(key, blob)
                report.chunks_sent += 1
                report.bytes_sent += len(blob)

        # Compression and encryption release the GIL: two threads seal while this one reads,
        # hashes and sends, in order.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gov21-seal") as pool:
            for name, path in sources:
                ids = []
                size = 0
                for plain in _chunks(path):
                    cid = chunk_id(keys, plain)
                    ids.append(cid)
                    size += len(plain)
                    report.chunks += 1
                    report.bytes_read += len(plain)
                    key = chunk_key(cid)
                    if full or not target.exists(key):
                        sealing.append((key, pool.submit(seal_chunk, keys, cid, plain)))
                        send(_ordered(sealing, PIPELINE_DEPTH))
                entries.append({"path": name, "size": size, "hash": file_hash(keys, ids, size), "chunks": ids})
                report.files += 1
                if progress:
                    progress(f"{name}: {len(ids)} chunks")
            send(_ordered(sealing, 0))
    manifest = {
        "format": FORMAT,
        "id": backup_id,
        "created": datetime.now(UTC).isoformat(),
        "snapshot": taken.isoformat(),
        "instance": str(getattr(settings, "GOV21_INSTANCE", "")),
        "master": keys.fingerprint,
        "counts": report.counts,
        "database": vendor,
        "full": full,
        "file_hash": FILE_HASH,
        "jwks_kids": kids,
        "files": entries,
    }
    body = json.dumps(manifest, sort_keys=True).encode()
    signature = signing_keys().sign({"sha256": hashlib.sha256(body).hexdigest(), "id": backup_id}, typ=SIG_TYP)
    target.put(f"manifests/{backup_id}.sig", signature.encode())
    target.put(f"manifests/{backup_id}.json", body)  # last: a manifest exists only once all it names is there
    report.seconds = time.monotonic() - started
    return report


# --- restore ------------------------------------------------------------------------------------


def backups_on(target: Target) -> list[str]:
    return sorted(
        (name.rsplit("/", 1)[1][: -len(".json")] for name in target.list("manifests") if name.endswith(".json")),
        reverse=True,
    )


def _manifest(target: Target, keys: HomeKeys, backup_id: str) -> dict[str, Any]:
    try:
        body = target.get(f"manifests/{backup_id}.json")
        token = target.get(f"manifests/{backup_id}.sig").decode("ascii", "replace")
    except Exception as error:
        raise BackupError("manifest_missing", f"backup {backup_id}: {error}") from error
    try:
        claims = verify_compact(token, keys.jwks, typ=SIG_TYP)
    except DomainError as error:
        raise BackupError(
            "manifest_foreign",
            f"backup {backup_id} is not signed by this node's backup key ({error.detail}); it may be another node's.",
        ) from error
    if claims.get("sha256") != hashlib.sha256(body).hexdigest() or claims.get("id") != backup_id:
        raise BackupError(
            "manifest_altered", f"backup {backup_id}: the manifest was altered or truncated after signing."
        )
    manifest: dict[str, Any] = json.loads(body)
    if manifest.get("format") != FORMAT:
        raise BackupError("manifest_format", f"backup {backup_id} has an unknown format {manifest.get('format')!r}.")
    if manifest.get("master") != keys.fingerprint:
        raise BackupError(
            "wrong_master_key", f"backup {backup_id} was encrypted with another master key than the one given."
        )
    return manifest


@dataclass
class RestoreReport:
    backup_id: str
    files: int
    bytes: int
    counts: dict[str, int]
    seconds: float
    created: str = ""  # when the snapshot was taken: the newest data the backup holds
    integrity: dict[str, Any] = field(default_factory=dict)


def backup_time(backup_id: str) -> datetime:
    """When a backup was taken, read from its id (``YYYYmmddTHHMMSSffffffZ-xxxxxx``)."""
    return datetime.strptime(backup_id.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def backup_at(available: list[str], at: datetime) -> str:
    """The newest backup taken at or before ``at``: the state a restore ``--at`` brings back."""
    if at.tzinfo is None:
        raise BackupError("bad_time", "Give the time with its zone, as in 2026-11-28T14:00:00+00:00.")
    for backup_id in available:  # newest first
        try:
            if backup_time(backup_id) <= at:
                return backup_id
        except ValueError:
            continue
    oldest = available[-1] if available else "none"
    raise BackupError("no_backup_then", f"No backup was taken at or before {at.isoformat()}; the oldest is {oldest}.")


def verify_backup(target: Target, keys: HomeKeys, backup_id: str) -> dict[str, Any]:
    """Check a backup end to end without writing anything: the manifest and every chunk it names."""
    manifest = _manifest(target, keys, backup_id)
    for entry in manifest["files"]:
        for cid in entry["chunks"]:
            open_chunk(keys, cid, target.get(chunk_key(cid)))
    return manifest


def restore_run(
    target: Target,
    into: Path,
    *,
    keys: HomeKeys,
    backup_id: str | None = None,
    at: datetime | None = None,
    check: bool = True,
    database_url: str | None = None,
) -> RestoreReport:
    """Rebuild a node's data directory in ``into`` (which must be empty) from a backup: the newest,
    the one named, or the newest taken at or before ``at``. With ``check``, the restored node then
    proves its integrity (:mod:`gov21.continuity.check`) before the restore counts as done."""
    from gov21.continuity.check import check_restored

    started = time.monotonic()
    available = backups_on(target)
    if not available:
        raise BackupError("no_backups", f"{target.name} holds no gov21 backup.")
    chosen = backup_id or (backup_at(available, at) if at is not None else available[0])
    if chosen not in available:
        raise BackupError("unknown_backup", f"{target.name} holds no backup {chosen!r}.")
    into = Path(into)
    if into.exists() and any(into.iterdir()):
        raise BackupError("target_not_empty", f"{into} is not empty; restore into a new directory.")
    try:
        manifest = _manifest(target, keys, chosen)
        on_postgres = manifest.get("database", "sqlite") == "postgresql"
        if on_postgres:
            if not database_url:
                raise BackupError(
                    "database_url_needed",
                    "this is a backup of a PostgreSQL node: give --database-url postgresql://… naming an empty"
                    " (or new) database to restore it into.",
                )
            postgres.database_prepare(database_url)
        written = 0
        by_ids = manifest.get("file_hash") == FILE_HASH
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gov21-open") as pool:
            for entry in manifest["files"]:
                path = into / entry["path"]
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                whole = hmac.new(_derive(keys.master, b"file hash"), digestmod=hashlib.sha256)
                opening: deque[tuple[str, Future[bytes]]] = deque()
                size = 0
                digest = None if by_ids else whole
                with path.open("wb") as handle:
                    for cid in entry["chunks"]:
                        opening.append((cid, pool.submit(open_chunk, keys, cid, target.get(chunk_key(cid)))))
                        size += _write(_ordered(opening, PIPELINE_DEPTH), handle, digest)
                    size += _write(_ordered(opening, 0), handle, digest)
                expected = file_hash(keys, entry["chunks"], size) if by_ids else whole.hexdigest()
                if size != entry["size"] or not hmac.compare_digest(expected, entry["hash"]):
                    raise BackupError("file_mismatch", f"{entry['path']} does not rebuild to what was backed up.")
                if entry["path"] != DB_NAME:
                    path.chmod(0o600)
                written += size
        if on_postgres:
            postgres.restore_dump(into / PG_DUMP, database_url=str(database_url))
            counts = postgres.table_counts(str(database_url), COUNTED_TABLES)
            shutil.rmtree(into / PG_DUMP)  # the database holds it now
        else:
            db = into / DB_NAME
            damage = sqlite3.connect(db).execute("PRAGMA quick_check").fetchone()[0]
            if damage != "ok":
                raise BackupError("database_damaged", f"the restored database fails SQLite's quick check: {damage}")
            counts = _counts(db)
        if counts != manifest["counts"]:
            raise BackupError("counts_differ", f"row counts {counts} differ from the backup's {manifest['counts']}.")
        private_file(into / "keys" / MASTER_FILE, lambda: keys.master)  # the node keeps backing up under the key
        integrity: dict[str, Any] = {}
        if check:
            integrity = check_restored(into, database_url=database_url if on_postgres else None)
            if not integrity.get("ok"):
                raise BackupError("integrity_failed", "; ".join(integrity.get("faults", [])[:5]))
            missing = set(manifest.get("jwks_kids", [])) - set(integrity.get("jwks_kids", []))
            if missing:
                raise BackupError(
                    "keys_missing", f"the restored node no longer publishes the keys {sorted(missing)} it did."
                )
    except Exception as error:
        older = _intact_older(target, keys, available, chosen)
        hint = f" The newest intact older backup is {older}." if older else " No older intact backup was found."
        detail = error.detail if isinstance(error, DomainError) else str(error)
        code = error.code if isinstance(error, DomainError) else "restore_failed"
        raise BackupError(code, f"Restore of {chosen} stopped: {detail}{hint}") from error
    return RestoreReport(
        chosen,
        len(manifest["files"]),
        written,
        counts,
        time.monotonic() - started,
        created=str(manifest.get("snapshot") or manifest.get("created", "")),
        integrity=integrity,
    )


def _intact_older(target: Target, keys: HomeKeys, available: list[str], failed: str, limit: int = 3) -> str | None:
    for candidate in [b for b in available if b < failed][:limit]:
        try:
            verify_backup(target, keys, candidate)
        except Exception:  # noqa: S112 - looking for any backup that verifies; the reason is in its own check
            continue
        return candidate
    return None


def prune(target: Target, *, keep: int, daily: int = 0) -> tuple[list[str], int]:
    """Keep the newest ``keep`` backups and, with ``daily``, the newest backup of each of the last
    ``daily`` days (UTC) besides; delete the other manifests, then every chunk no kept one names.

    Nothing is read beyond the list of manifests when nothing is to go. Chunks are deleted only after
    the manifests, so an interrupted prune leaves extra chunks, never a manifest whose chunks are gone."""
    if keep < 1 or daily < 0:
        raise BackupError("bad_keep", "Keep at least one backup.")
    available = backups_on(target)
    kept = set(available[:keep])
    days: dict[str, str] = {}
    for backup_id in available:  # newest first: the first seen of each day is that day's newest
        days.setdefault(backup_id[:8], backup_id)
    kept.update(sorted(days.values(), reverse=True)[:daily])
    doomed = [backup_id for backup_id in available if backup_id not in kept]
    if not doomed:
        return [], 0
    for backup_id in doomed:
        target.delete(f"manifests/{backup_id}.json")
        target.delete(f"manifests/{backup_id}.sig")
    wanted: set[str] = set()
    for backup_id in kept:
        manifest = json.loads(target.get(f"manifests/{backup_id}.json"))
        for entry in manifest["files"]:
            wanted.update(entry["chunks"])
    removed = 0
    for folder in target.list("chunks"):
        for name in target.list(folder):
            if name.rsplit("/", 1)[1] not in wanted:
                target.delete(name)
                removed += 1
    return doomed, removed
