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
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

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
        columns.append(connection.ops.quote_name(field.column))  # type: ignore[union-attr]
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
    heads = {h.first_seq: h for h in TreeHead.objects.filter(chain=chain, last_seq__gt=head_row.archived_seq)}
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
    closing = [h for h in heads.values() if h.last_seq == seq]
    for head in closing:
        leaves = [merkle.leaf_hash(bytes.fromhex(hashes[s])) for s in range(head.first_seq, head.last_seq + 1)]
        message = head_message(chain, head.first_seq, head.last_seq, head.root, head.chain_hash, head.at)
        if merkle.root(leaves).hex() != head.root or hashes[seq] != head.chain_hash:
            report.first_broken, report.reason = head.first_seq, f"tree head {head.first_seq}-{head.last_seq} differs"
            return True
        if not verify_signature(message, base64.b64decode(head.signature)):
            report.first_broken, report.reason = head.first_seq, f"tree head {head.last_seq} signature is not valid"
            return True
        report.heads += 1
        for s in range(head.first_seq, head.last_seq + 1):
            hashes.pop(s, None)
        del heads[head.first_seq]
    if not any(h.first_seq <= seq for h in heads.values()):
        hashes.clear()
    return False
