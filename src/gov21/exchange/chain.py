"""Append-only hash chains with signed Merkle tree heads: the message log and the data-use log.

Each entry's hash is ``SHA-256(prev_hash || canonical fields)``, so changing, inserting or removing
an entry breaks every later link. Every ``SEAL_EVERY`` entries (and on demand) the node signs a
tree head: the RFC 6962 Merkle root over the entries since the previous head, the chain hash it
reached and the time, with the node's own key. An inclusion proof then shows one entry belongs
to a signed head without revealing the others. A pluggable RFC 3161 timestamping authority can
countersign heads later; the node's own signature is the first line of defence.

Appending locks the chain's head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
immediate transactions already serialise writers), so several worker processes append to one
chain in a single order.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from gov21.core.errors import Conflict, DomainError
from gov21.exchange import merkle
from gov21.exchange.models import ChainHead, DataUse, LogEntry, TreeHead

SEAL_EVERY: Final = 512
ZERO: Final = "0" * 64

# The fields of each kind of chain entry, in the order they are hashed.
LOG_FIELDS: Final = (
    "at",
    "role",
    "message_id",
    "request_id",
    "client",
    "service",
    "method",
    "path",
    "status",
    "error",
    "user_id",
    "issue",
    "represented_party",
    "request_hash",
    "response_hash",
    "request_sig",
    "response_sig",
    "subjects",
)
USE_FIELDS: Final = ("at", "subject", "client", "service", "method", "path", "user_id", "issue", "message_id")

_MODELS: Final[dict[str, tuple[type[Model], tuple[str, ...]]]] = {
    "log": (LogEntry, LOG_FIELDS),
    "uses": (DataUse, USE_FIELDS),
}


def _kind(chain: str) -> tuple[type[Model], tuple[str, ...]]:
    return _MODELS[chain.split(":", 1)[0]]


def _canonical(value: Any) -> str:
    if isinstance(value, datetime):
        # The same text whatever the database hands back: SQLite returns naive UTC, PostgreSQL aware.
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def entry_hash(prev_hash: str, seq: int, values: dict[str, Any], fields: tuple[str, ...]) -> str:
    payload = json.dumps([seq, *(_canonical(values[f]) for f in fields)], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def _lock_head(chain: str) -> tuple[int, str, int]:
    table = ChainHead._meta.db_table
    with connection.cursor() as cursor:
        lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
        cursor.execute(f"SELECT seq, hash, sealed_seq FROM {table} WHERE chain = %s{lock}", [chain])  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {table} (chain, seq, hash, sealed_seq, archived_seq, archived_hash) "  # noqa: S608
                "VALUES (%s, 0, %s, 0, 0, %s) ON CONFLICT (chain) DO NOTHING",
                [chain, ZERO, ZERO],
            )
            cursor.execute(f"SELECT seq, hash, sealed_seq FROM {table} WHERE chain = %s{lock}", [chain])  # noqa: S608
            row = cursor.fetchone()
    return int(row[0]), str(row[1]), int(row[2])


def append(chain: str, values: dict[str, Any], *, signer: Any = None, extra: dict[str, Any] | None = None) -> int:
    """Append one entry to ``chain`` (``log:<node>`` or ``uses:<node>``); its sequence number.

    Runs in its own transaction unless the caller holds one; the entry is durable when that commits.
    ``signer`` (a callable bytes → signature) seals a tree head every ``SEAL_EVERY`` entries."""
    model, fields = _kind(chain)
    with transaction.atomic():
        seq, prev, sealed = _lock_head(chain)
        seq += 1
        digest = entry_hash(prev, seq, values, fields)
        row = {**values, **(extra or {}), "chain": chain, "seq": seq, "prev_hash": prev, "entry_hash": digest}
        _insert(model, row)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ChainHead._meta.db_table} SET seq = %s, hash = %s WHERE chain = %s",  # noqa: S608
                [seq, digest, chain],
            )
        if signer is not None and seq - sealed >= SEAL_EVERY:
            _seal(chain, sealed + 1, seq, digest, signer)
    return seq


def _insert(model: type[Model], values: dict[str, Any]) -> None:
    meta = model._meta
    columns, params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        columns.append(connection.ops.quote_name(field.column))  # type: ignore[union-attr,arg-type]
        params.append(field.get_db_prep_save(value, connection))  # type: ignore[union-attr]
    sql = f"INSERT INTO {meta.db_table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(params))})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _entry_hashes(chain: str, first: int, last: int) -> list[str]:
    model, _ = _kind(chain)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT entry_hash FROM {model._meta.db_table} WHERE chain = %s AND seq BETWEEN %s AND %s "  # noqa: S608
            "ORDER BY seq",
            [chain, first, last],
        )
        return [row[0] for row in cursor.fetchall()]


def head_message(chain: str, first: int, last: int, root_hex: str, chain_hash: str, at: datetime) -> bytes:
    body = {"chain": chain, "first": first, "last": last, "root": root_hex, "chain_hash": chain_hash}
    body["at"] = at.isoformat()
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _seal(chain: str, first: int, last: int, chain_hash: str, signer: Any) -> None:
    hashes = _entry_hashes(chain, first, last)
    root_hex = merkle.root([merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]).hex()
    at = timezone.now()
    signature = base64.b64encode(signer(head_message(chain, first, last, root_hex, chain_hash, at))).decode()
    TreeHead.objects.create(
        chain=chain, first_seq=first, last_seq=last, root=root_hex, chain_hash=chain_hash, at=at, signature=signature
    )
    ChainHead.objects.filter(chain=chain).update(sealed_seq=last)


def seal(chain: str, signer: Any) -> TreeHead | None:
    """Sign a tree head over the entries appended since the last one, if there are any."""
    with transaction.atomic():
        seq, digest, sealed = _lock_head(chain)
        if seq <= sealed:
            return None
        _seal(chain, sealed + 1, seq, digest, signer)
    return TreeHead.objects.get(chain=chain, last_seq=seq)


@dataclass(frozen=True)
class Proof:
    seq: int
    entry_hash: str
    head: dict[str, Any]
    index: int
    size: int
    path: list[str]


def inclusion(chain: str, seq: int) -> Proof | None:
    """An entry's inclusion proof against the signed tree head that covers it (None: not yet sealed)."""
    head = TreeHead.objects.filter(chain=chain, first_seq__lte=seq, last_seq__gte=seq).first()
    if head is None:
        return None
    hashes = _entry_hashes(chain, head.first_seq, head.last_seq)
    if len(hashes) != head.last_seq - head.first_seq + 1:
        return None  # the entries were archived (or removed): the proof comes from the archive file
    leaves = [merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]
    index = seq - head.first_seq
    return Proof(
        seq=seq,
        entry_hash=hashes[index],
        head={
            "chain": chain,
            "first": head.first_seq,
            "last": head.last_seq,
            "root": head.root,
            "chain_hash": head.chain_hash,
            "at": head.at.isoformat(),
            "signature": head.signature,
        },
        index=index,
        size=len(leaves),
        path=[p.hex() for p in merkle.inclusion_proof(index, leaves)],
    )


@dataclass
class VerifyReport:
    chain: str
    entries: int = 0
    heads: int = 0
    first_broken: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def _rows(chain: str, model: type[Model], fields: tuple[str, ...], start: int) -> Iterator[tuple[Any, ...]]:
    columns = ", ".join(["seq", "prev_hash", "entry_hash", *fields])
    # A server-side cursor on PostgreSQL (Django's iterator) keeps memory flat over millions of rows.
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {model._meta.db_table} WHERE chain = %s AND seq > %s ORDER BY seq",  # noqa: S608
            [chain, start],
        )
        while batch := cursor.fetchmany(5000):
            yield from batch


def verify(chain: str, verify_signature: Any) -> VerifyReport:
    """Walk the whole chain: every link, every entry hash, every tree head's root and signature.
    Stops at the first broken entry and names it."""
    model, fields = _kind(chain)
    report = VerifyReport(chain)
    head_row = ChainHead.objects.filter(chain=chain).first()
    if head_row is None:
        return report
    expected_seq, prev = head_row.archived_seq, head_row.archived_hash
    at_field = fields.index("at")
    hashes: dict[int, str] = {}
    # Keyed by the entry that closes each head, so each entry costs one lookup however long the log.
    heads = {h.last_seq: h for h in TreeHead.objects.filter(chain=chain, last_seq__gt=head_row.archived_seq)}
    for row in _rows(chain, model, fields, head_row.archived_seq):
        seq, prev_hash, stored = row[0], row[1], row[2]
        values = list(row[3:])
        if isinstance(values[at_field], str):
            values[at_field] = datetime.fromisoformat(values[at_field])
        expected_seq += 1
        if seq != expected_seq:
            report.first_broken, report.reason = expected_seq, f"entry {expected_seq} is missing"
            return report
        if prev_hash != prev:
            report.first_broken, report.reason = seq, "its link to the previous entry does not match"
            return report
        if entry_hash(prev, seq, dict(zip(fields, values, strict=True)), fields) != stored:
            report.first_broken, report.reason = seq, "its content does not match its hash"
            return report
        prev = stored
        report.entries += 1
        if heads:
            hashes[seq] = stored
            broken = _check_heads(chain, heads, hashes, seq, verify_signature, report)
            if broken:
                return report
    if head_row.seq != expected_seq or head_row.hash != prev:
        report.first_broken = expected_seq + 1 if head_row.seq > expected_seq else head_row.seq
        report.reason = "the chain head does not match the last entry (entries removed from the end?)"
    return report


def _check_heads(
    chain: str,
    heads: dict[int, TreeHead],
    hashes: dict[int, str],
    seq: int,
    verify_signature: Any,
    report: VerifyReport,
) -> bool:
    head = heads.pop(seq, None)
    if head is None:
        return False
    last_hash = hashes.get(seq)
    try:
        leaves = [merkle.leaf_hash(bytes.fromhex(hashes.pop(s))) for s in range(head.first_seq, head.last_seq + 1)]
    except KeyError:
        report.first_broken, report.reason = (
            head.first_seq,
            f"tree head {head.first_seq}-{head.last_seq} covers entries that are not in the log",
        )
        return True
    message = head_message(chain, head.first_seq, head.last_seq, head.root, head.chain_hash, head.at)
    if merkle.root(leaves).hex() != head.root or head.chain_hash != last_hash:
        report.first_broken, report.reason = head.first_seq, f"tree head {head.first_seq}-{head.last_seq} differs"
        return True
    if not verify_signature(message, base64.b64decode(head.signature)):
        report.first_broken, report.reason = head.first_seq, f"tree head {head.last_seq} signature is not valid"
        return True
    report.heads += 1
    # Hashes of entries no remaining head covers (before the first head) are not needed again.
    for stale in [s for s in hashes if s < head.first_seq]:
        del hashes[stale]
    return False


# --- archiving ------------------------------------------------------------------------------------

ARCHIVE_FORMAT: Final = "gov21-chain-archive"


class _Walk:
    """Checks a run of entries and the signed tree heads over them as they stream past, in order:
    the same checks as :func:`verify`, for entries that come from an archive file."""

    def __init__(self, chain: str, fields: tuple[str, ...], seq: int, prev: str, verify_signature: Any) -> None:
        self.report = VerifyReport(chain)
        self.fields = fields
        self.seq, self.prev = seq, prev
        self.covered = seq
        self.hashes: dict[int, str] = {}
        self.verify_signature = verify_signature

    def _fail(self, seq: int, reason: str) -> bool:
        self.report.first_broken, self.report.reason = seq, reason
        return False

    def entry(self, seq: int, prev_hash: str, stored: str, values: dict[str, Any]) -> bool:
        expected = self.seq + 1
        if seq != expected:
            return self._fail(expected, f"entry {expected} is missing")
        if prev_hash != self.prev:
            return self._fail(seq, "its link to the previous entry does not match")
        if entry_hash(self.prev, seq, values, self.fields) != stored:
            return self._fail(seq, "its content does not match its hash")
        self.seq, self.prev = seq, stored
        self.hashes[seq] = stored
        self.report.entries += 1
        return True

    def head(self, head: TreeHead) -> bool:
        if head.first_seq != self.covered + 1 or head.last_seq != self.seq:
            return self._fail(self.covered + 1, f"tree head {head.first_seq}-{head.last_seq} is out of place")
        leaves = [merkle.leaf_hash(bytes.fromhex(self.hashes[s])) for s in range(head.first_seq, head.last_seq + 1)]
        if merkle.root(leaves).hex() != head.root or self.prev != head.chain_hash:
            return self._fail(head.first_seq, f"tree head {head.first_seq}-{head.last_seq} differs")
        message = head_message(self.report.chain, head.first_seq, head.last_seq, head.root, head.chain_hash, head.at)
        if not self.verify_signature(message, base64.b64decode(head.signature)):
            return self._fail(head.first_seq, f"tree head {head.last_seq} signature is not valid")
        self.hashes.clear()
        self.covered = head.last_seq
        self.report.heads += 1
        return True

    def finish(self, last_seq: int, last_hash: str) -> bool:
        if self.covered != self.seq:
            return self._fail(self.covered + 1, f"entries after {self.covered} are not covered by a signed tree head")
        if self.seq != last_seq or self.prev != last_hash:
            return self._fail(self.seq + 1, f"the entries end at {self.seq}, not at {last_seq} as the header says")
        return True


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _canonical(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def archive(chain: str, *, before: datetime, out_dir: Path, verify_signature: Any = None) -> Path | None:
    """Move the entries up to the last tree head signed before ``before`` into a gzip JSON-lines file
    in ``out_dir``: a header line (chain, first and last sequence numbers, the hash the run starts
    from and the hash of its last entry), then every entry with all its columns, each tree head
    right after the entry it closes. The run is checked as it is written, so a broken chain is never
    archived away; the file is fsynced before the rows are deleted, and the deletion commits together
    with the new starting point of :func:`verify` (``archived_seq``/``archived_hash``). Given
    ``verify_signature``, the tree heads' signatures are checked too before anything is deleted.

    None when no signed tree head is older than ``before``. A crash between the file and the commit
    leaves the rows in place; the next run writes the same file again."""
    model, fields = _kind(chain)
    head_row = ChainHead.objects.filter(chain=chain).first()
    if head_row is None:
        return None
    start, start_hash = head_row.archived_seq, head_row.archived_hash
    heads: list[TreeHead] = []
    for head in TreeHead.objects.filter(chain=chain, last_seq__gt=start).order_by("last_seq"):
        if head.at >= before:
            break
        heads.append(head)
    if not heads:
        return None
    last, last_hash = heads[-1].last_seq, heads[-1].chain_hash
    columns = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{chain.replace(':', '_')}-{start + 1:012d}-{last:012d}.jsonl.gz"
    partial = path.with_name(path.name + ".partial")
    header = {
        "type": "header",
        "format": ARCHIVE_FORMAT,
        "v": 1,
        "chain": chain,
        "first_seq": start + 1,
        "last_seq": last,
        "prev_hash": start_hash,
        "last_hash": last_hash,
        "entries": last - start,
        "heads": len(heads),
        "fields": list(fields),
        "created_at": _canonical(timezone.now()),
    }
    walk = _Walk(chain, fields, start, start_hash, verify_signature or (lambda _message, _signature: True))
    closing = {h.last_seq: h for h in heads}
    rows = (
        model._default_manager.filter(chain=chain, seq__gt=start, seq__lte=last)
        .order_by("seq")
        .values(*columns)
        .iterator(chunk_size=2000)
    )
    try:
        with open(partial, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:

                def write(item: dict[str, Any]) -> None:
                    out.write(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")

                write(header)
                for row in rows:
                    if not walk.entry(row["seq"], row["prev_hash"], row["entry_hash"], row):
                        break
                    write({"type": "entry", **{k: _jsonable(v) for k, v in row.items()}})
                    closed = closing.get(row["seq"])
                    if closed is not None:
                        if not walk.head(closed):
                            break
                        write(_head_line(closed))
            raw.flush()
            os.fsync(raw.fileno())
        if walk.report.ok:
            walk.finish(last, last_hash)
        if not walk.report.ok:
            raise DomainError(
                "chain_broken",
                f"Entry {walk.report.first_broken} of {chain}: {walk.report.reason}. Nothing was archived.",
                status=409,
            )
        os.replace(partial, path)
        _fsync_dir(out_dir)
    finally:
        partial.unlink(missing_ok=True)
    with transaction.atomic():
        _lock_head(chain)
        if ChainHead.objects.filter(chain=chain).values_list("archived_seq", flat=True).get() != start:
            raise Conflict("archive_conflict", f"{chain} was archived by another process meanwhile")
        deleted, _ = model._default_manager.filter(chain=chain, seq__gt=start, seq__lte=last).delete()
        if deleted != last - start:
            raise Conflict("archive_conflict", f"{chain} changed while it was being archived")
        ChainHead.objects.filter(chain=chain).update(archived_seq=last, archived_hash=last_hash)
    return path


def _head_line(head: TreeHead) -> dict[str, Any]:
    return {
        "type": "head",
        "first_seq": head.first_seq,
        "last_seq": head.last_seq,
        "root": head.root,
        "chain_hash": head.chain_hash,
        "at": head.at.isoformat(),
        "signature": head.signature,
    }


def verify_archive(path: Path, verify_signature: Any) -> VerifyReport:
    """Check an archive file written by :func:`archive` on its own: every link, every entry hash,
    every tree head's root and signature, and that it ends where its header says."""
    chain, walk = str(path), None
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            header = json.loads(next(lines, "{}"))
            if header.get("format") != ARCHIVE_FORMAT:
                report = VerifyReport(chain, first_broken=0, reason="not a chain archive (its header is missing)")
                return report
            chain = str(header["chain"])
            _, fields = _kind(chain)
            walk = _Walk(chain, fields, int(header["first_seq"]) - 1, str(header["prev_hash"]), verify_signature)
            for line in lines:
                item = json.loads(line)
                if item["type"] == "entry":
                    values = {f: item[f] for f in fields}
                    ok = walk.entry(int(item["seq"]), item["prev_hash"], item["entry_hash"], values)
                elif item["type"] == "head":
                    ok = walk.head(
                        TreeHead(
                            chain=chain,
                            first_seq=int(item["first_seq"]),
                            last_seq=int(item["last_seq"]),
                            root=item["root"],
                            chain_hash=item["chain_hash"],
                            at=datetime.fromisoformat(item["at"]),
                            signature=item["signature"],
                        )
                    )
                else:
                    ok = walk._fail(walk.seq + 1, f"unknown line type {item['type']!r}")
                if not ok:
                    return walk.report
            walk.finish(int(header["last_seq"]), str(header["last_hash"]))
            return walk.report
    except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError) as exc:
        if walk is None:
            return VerifyReport(chain, first_broken=0, reason=f"the archive cannot be read ({exc})")
        walk._fail(walk.seq + 1, f"the archive is damaged after entry {walk.seq} ({exc.__class__.__name__})")
        return walk.report
