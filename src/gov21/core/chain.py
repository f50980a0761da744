"""Append-only hash chains with linked, signed and anchored Merkle tree heads: the one machinery
behind the exchange's message and data-use logs and the registry's access log.

Each entry's hash is ``SHA-256(prev_hash || canonical fields)``, so changing, inserting or removing
an entry breaks every later link. Every ``SEAL_EVERY`` entries (and on demand) a tree head is
signed: the RFC 6962 Merkle root over the entries since the previous head, the chain hash it
reached, the time, and the digest of the previous head. Heads therefore form a chain of their own
from the first entry: a head removed from the middle, or a range no head covers, is a break.

What the database alone cannot prove is that nobody removed the newest heads (and the entries
after them) or rolled the archive pointer forward, because whoever edits the database can edit
any row that says how far the chain reached. So, after each seal commits:

* the head is countersigned by an RFC 3161 timestamping authority (``GOV21_TSA_URL``), whose token
  is kept beside the head and checked against the pinned authority certificate; and
* the newest head's digest is written to an anchor file under ``DATA_DIR/anchors`` (outside the
  database), named after the chain's first head, so a database whose newest head is older than
  the anchor, or different, is reported as rolled back.

Archiving moves old entries to a file and leaves a *signed* pointer: "entries 1..N are archived,
the last hash is H, the file's digest is D". Verification refuses a pointer that is unsigned or
does not match the signed head at N.

Appending locks the chain's head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
immediate transactions already serialise writers), so several worker processes append to one
chain in a single order. That one locked row update is the whole extra cost of an append, and a
request that holds no transaction shares it, and the commit, with every request appending at the
same moment (:mod:`gov21.core.groupcommit`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Model
from django.utils import timezone

from gov21.core import config, groupcommit, merkle, tsa
from gov21.core.errors import Conflict, DomainError

logger = logging.getLogger(__name__)

SEAL_EVERY: Final = 512
ZERO: Final = "0" * 64
ARCHIVE_FORMAT: Final = "gov21-chain-archive"

Signer = Callable[[bytes], bytes]
Verifier = Callable[[bytes, bytes], bool]


class ChainHeadBase(models.Model):
    """The last sequence number and hash of an append-only chain. Appends lock this row, which
    orders them. Nothing here is trusted by verification on its own: it is checked against the
    signed heads, the signed archive statement and the anchor outside the database."""

    chain = models.CharField(max_length=100, unique=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=ZERO)
    sealed_seq = models.BigIntegerField(default=0)
    # Entries up to here were moved to an archive file; verification of what remains starts here,
    # once the signed statement below says the same.
    archived_seq = models.BigIntegerField(default=0)
    archived_hash = models.CharField(max_length=64, default=ZERO)
    archive_statement = models.TextField(blank=True, default="")
    archive_signature = models.TextField(blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq}"


class TreeHeadBase(models.Model):
    """A signed Merkle tree head (RFC 6962 hashing) over entries ``first_seq..last_seq``, linked to
    the head before it and, once an authority answered, countersigned (an RFC 3161 token, base64)."""

    chain = models.CharField(max_length=100)
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    root = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    signature = models.TextField()
    # Empty on heads signed before heads were linked: those are checked in their own format.
    prev_head = models.CharField(max_length=64, blank=True, default="")
    tsa_token = models.TextField(blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.chain} head {self.first_seq}-{self.last_seq}"


# A check of an entry's further columns (e.g. a sealed body): the reason it fails, or "".
EntryCheck = Callable[[str, int, str, tuple[Any, ...]], str]


@dataclass(frozen=True)
class Kind:
    """One kind of chain: where its entries, head rows and tree heads live, the fields hashed in
    order, fields kept as JSON, and further columns checked per entry."""

    entries: type[Model]
    fields: tuple[str, ...]
    heads: type[ChainHeadBase]
    tree_heads: type[TreeHeadBase]
    json_fields: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    check: EntryCheck | None = None


def _canonical(value: object) -> str:
    if isinstance(value, datetime):
        # The same text whatever the database hands back: SQLite returns naive UTC, PostgreSQL aware.
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def entry_hash(prev_hash: str, seq: int, values: Mapping[str, object], fields: tuple[str, ...]) -> str:
    payload = json.dumps([seq, *(_canonical(values[f]) for f in fields)], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def _lock_head(kind: Kind, chain: str) -> tuple[int, str, int]:
    table = kind.heads._meta.db_table
    with connection.cursor() as cursor:
        lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
        cursor.execute(f"SELECT seq, hash, sealed_seq FROM {table} WHERE chain = %s{lock}", [chain])  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {table} (chain, seq, hash, sealed_seq, archived_seq, archived_hash, "  # noqa: S608
                "archive_statement, archive_signature) VALUES (%s, 0, %s, 0, 0, %s, '', '') "
                "ON CONFLICT (chain) DO NOTHING",
                [chain, ZERO, ZERO],
            )
            cursor.execute(f"SELECT seq, hash, sealed_seq FROM {table} WHERE chain = %s{lock}", [chain])  # noqa: S608
            row = cursor.fetchone()
    return int(row[0]), str(row[1]), int(row[2])


@dataclass(frozen=True)
class Entry:
    """One entry to append: its chain, the hashed ``values``, an optional ``signer`` that seals a
    tree head every ``SEAL_EVERY`` entries, further unhashed columns (``extra``) and columns that
    depend on the entry's place (``bound``: from its sequence number and hash, e.g. a body sealed to
    this entry and no other)."""

    kind: Kind
    chain: str
    values: Mapping[str, object]
    signer: Signer | None = None
    extra: Mapping[str, object] | None = None
    bound: Callable[[int, str], Mapping[str, object]] | None = None


def append(
    kind: Kind,
    chain: str,
    values: Mapping[str, object],
    *,
    signer: Signer | None = None,
    extra: dict[str, object] | None = None,
    bound: Callable[[int, str], Mapping[str, object]] | None = None,
) -> int:
    """Append one entry to ``chain``; its sequence number (see :func:`append_all`)."""
    return append_all([Entry(kind, chain, values, signer, extra, bound)])[0]


def append_all(entries: Sequence[Entry]) -> list[int]:
    """Append ``entries`` (to one chain or several), committed together; their sequence numbers.

    Inside a caller's transaction they are written there and then, durable when it commits. Outside
    one, they go to the process's group writer (:mod:`gov21.core.groupcommit`) with the entries of
    every other request waiting at that moment, in one transaction, and this returns only once that
    transaction has committed: it raises :class:`~gov21.core.groupcommit.NotCommitted` otherwise."""
    if not entries:
        return []
    if connection.in_atomic_block or not connection.get_autocommit():
        # No savepoint: an entry that cannot be written must fail the caller's whole transaction (its
        # change may not commit unlogged), and a savepoint cost two statements on every append of a
        # registration.
        with transaction.atomic(savepoint=False):
            return _write(entries, transaction.on_commit)
    return _GROUP.submit(tuple(entries))


def _write(entries: Sequence[Entry], after: groupcommit.After) -> list[int]:
    """Write ``entries`` in the transaction the caller holds: each chain's head is locked once, in
    the order of the chains' names (so two writers never wait on each other's heads), the entries of
    each chain follow one another in the order given, rows are inserted in one statement per table
    (flushed early only where a tree head is sealed, since sealing reads them), and each head is
    updated once."""
    kinds = {(e.kind.heads._meta.db_table, e.chain): e.kind for e in entries}
    heads = {key: _Head(*_lock_head(kinds[key], key[1])) for key in sorted(kinds)}
    rows: dict[str, tuple[tuple[Any, ...], list[list[Any]]]] = {}
    seqs = []
    for e in entries:
        head = heads[(e.kind.heads._meta.db_table, e.chain)]
        seq, prev, sealed = head.seq + 1, head.hash, head.sealed
        digest = entry_hash(prev, seq, e.values, e.kind.fields)
        row = {**e.values, **(e.extra or {}), "chain": e.chain, "seq": seq, "prev_hash": prev, "entry_hash": digest}
        if e.bound is not None:
            row.update(e.bound(seq, digest))
        sql, fields = _insert_sql(e.kind.entries, tuple(row))
        params = [f.get_db_prep_save(v, connection) for f, v in zip(fields, row.values(), strict=True)]
        rows.setdefault(sql, (fields, []))[1].append(params)
        head.seq, head.hash = seq, digest
        seqs.append(seq)
        if e.signer is not None and seq - sealed >= SEAL_EVERY:
            _flush(rows)
            _seal(e.kind, e.chain, sealed + 1, seq, digest, e.signer, after)
            head.sealed = seq
    _flush(rows)
    with connection.cursor() as cursor:
        for (table, chain), head in heads.items():
            cursor.execute(f"UPDATE {table} SET seq = %s, hash = %s WHERE chain = %s", [head.seq, head.hash, chain])  # noqa: S608
    return seqs


@dataclass
class _Head:
    seq: int
    hash: str
    sealed: int


def _flush(rows: dict[str, tuple[tuple[Any, ...], list[list[Any]]]]) -> None:
    with connection.cursor() as cursor:
        for sql, (_fields, params) in rows.items():
            if len(params) == 1:
                cursor.execute(sql, params[0])
            else:
                cursor.executemany(sql, params)
    rows.clear()


def _write_batch(batch: Sequence[tuple[Entry, ...]], after: groupcommit.After) -> list[list[int]]:
    seqs = iter(_write([e for item in batch for e in item], after))
    return [[next(seqs) for _ in item] for item in batch]


_GROUP: Final[groupcommit.GroupCommit[tuple[Entry, ...], list[int]]] = groupcommit.GroupCommit(_write_batch, name="log")
_THREAD: Final[groupcommit.ThreadWriter[tuple[Entry, ...], list[int]]] = groupcommit.ThreadWriter(
    _write_batch, name="log"
)


async def append_all_async(entries: Sequence[Entry]) -> list[int]:
    """:func:`append_all` for an event loop: the entries go to the process's writer thread with those
    of every other request queued at that moment, and this returns once their transaction has
    committed (:class:`~gov21.core.groupcommit.NotCommitted` otherwise), without blocking the loop."""
    if not entries:
        return []
    return await _THREAD.submit(tuple(entries))


@lru_cache(maxsize=64)
def _insert_sql(model: type[Model], names: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in names)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)  # type: ignore[union-attr,arg-type]
    sql = f"INSERT INTO {meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
    return sql, fields


def _entry_hashes(kind: Kind, chain: str, first: int, last: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT entry_hash FROM {kind.entries._meta.db_table} WHERE chain = %s AND seq BETWEEN %s AND %s "  # noqa: S608
            "ORDER BY seq",
            [chain, first, last],
        )
        return [row[0] for row in cursor.fetchall()]


def head_message(
    chain: str, first: int, last: int, root_hex: str, chain_hash: str, at: datetime, prev: str = ZERO
) -> bytes:
    """The bytes a tree head's signature covers; ``prev`` is the digest of the head before it
    (empty only for heads signed before heads were linked)."""
    body = {"chain": chain, "first": first, "last": last, "root": root_hex, "chain_hash": chain_hash}
    if prev:
        body["prev"] = prev
    body["at"] = at.isoformat()
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _message(head: TreeHeadBase) -> bytes:
    return head_message(head.chain, head.first_seq, head.last_seq, head.root, head.chain_hash, head.at, head.prev_head)


def head_digest(head: TreeHeadBase) -> str:
    """What the next head signs as its ``prev``, and what the timestamping authority countersigns."""
    return hashlib.sha256(_message(head)).hexdigest()


def _newest(kind: Kind, chain: str) -> TreeHeadBase | None:
    return kind.tree_heads._default_manager.filter(chain=chain).order_by("-last_seq").first()


def _seal(
    kind: Kind,
    chain: str,
    first: int,
    last: int,
    chain_hash: str,
    signer: Signer,
    after: groupcommit.After = transaction.on_commit,
) -> TreeHeadBase:
    hashes = _entry_hashes(kind, chain, first, last)
    root_hex = merkle.root([merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]).hex()
    at = timezone.now()
    before = _newest(kind, chain)
    prev = head_digest(before) if before is not None else ZERO
    message = head_message(chain, first, last, root_hex, chain_hash, at, prev)
    head = kind.tree_heads._default_manager.create(
        chain=chain,
        first_seq=first,
        last_seq=last,
        root=root_hex,
        chain_hash=chain_hash,
        at=at,
        prev_head=prev,
        signature=base64.b64encode(signer(message)).decode(),
    )
    kind.heads._default_manager.filter(chain=chain).update(sealed_seq=last)
    # The authority is asked only after the head is durable, and never while the chain is locked.
    after(partial(anchor, kind, chain))
    return head


def seal(kind: Kind, chain: str, signer: Signer) -> TreeHeadBase | None:
    """Sign a tree head over the entries appended since the last one, if there are any."""
    with transaction.atomic():
        seq, digest, sealed = _lock_head(kind, chain)
        if seq <= sealed:
            return None
        return _seal(kind, chain, sealed + 1, seq, digest, signer)


# --- anchoring outside the database -------------------------------------------------------------


def anchor_dir() -> Path:
    return Path(settings.DATA_DIR) / "anchors"


def _anchor_path(chain: str, genesis: str) -> Path:
    return anchor_dir() / f"{chain.replace(':', '_')}-{genesis[:32]}.json"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_name(path.name + ".partial")
    with open(partial_path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial_path, path)


def anchor(kind: Kind, chain: str) -> int:
    """Countersign the chain's heads that lack a token (when an authority is configured), then
    record the newest head outside the database. Returns how many heads were countersigned.

    Never raises: an authority that is down leaves heads to be countersigned by the next seal or
    by ``gov21 exchange log anchor``; the node's own signature still covers them meanwhile."""
    stamped = 0
    try:
        if config.TSA_URL.read():
            pending = kind.tree_heads._default_manager.filter(chain=chain, tsa_token="").order_by("last_seq")
            for head in pending[:1000]:
                token = tsa.stamp(bytes.fromhex(head_digest(head))).token
                kind.tree_heads._default_manager.filter(pk=head.pk).update(tsa_token=base64.b64encode(token).decode())
                stamped += 1
    except DomainError as error:
        logger.warning("tree heads of %s not countersigned: %s", chain, error.detail)
    try:
        _anchor_write(kind, chain)
    except OSError:
        logger.exception("the anchor of %s could not be written", chain)
    return stamped


def _anchor_write(kind: Kind, chain: str) -> None:
    heads = kind.tree_heads._default_manager.filter(chain=chain)
    first = heads.order_by("last_seq").first()
    newest = heads.order_by("-last_seq").first()
    if first is None or newest is None:
        return
    genesis = head_digest(first)
    path = _anchor_path(chain, genesis)
    known = _anchor_read(path)
    if known is not None and int(known["last_seq"]) > newest.last_seq:
        return  # this database is behind its anchor: verification reports it, anchoring never hides it
    body = {
        "chain": chain,
        "genesis": genesis,
        "last_seq": newest.last_seq,
        "head": head_digest(newest),
        "tsa_token": newest.tsa_token,
    }
    _write_atomically(path, json.dumps(body, sort_keys=True).encode())


def _anchor_read(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"last_seq": -1, "head": "", "damaged": True}
    return data


# --- inclusion proofs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proof:
    seq: int
    entry_hash: str
    head: dict[str, Any]
    index: int
    size: int
    path: list[str]


def inclusion(kind: Kind, chain: str, seq: int) -> Proof | None:
    """An entry's inclusion proof against the signed tree head that covers it (None: not yet sealed)."""
    head = kind.tree_heads._default_manager.filter(chain=chain, first_seq__lte=seq, last_seq__gte=seq).first()
    if head is None:
        return None
    hashes = _entry_hashes(kind, chain, head.first_seq, head.last_seq)
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
            "prev": head.prev_head,
            "signature": head.signature,
            "tsa_token": head.tsa_token,
        },
        index=index,
        size=len(leaves),
        path=[p.hex() for p in merkle.inclusion_proof(index, leaves)],
    )


# --- verification ---------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    chain: str
    entries: int = 0
    heads: int = 0
    first_broken: int | None = None
    reason: str = ""
    countersigned: int = 0
    anchored: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_broken is None

    def fail(self, seq: int, reason: str) -> VerifyReport:
        self.first_broken, self.reason = seq, reason
        return self


def _rows(kind: Kind, chain: str, start: int) -> Iterator[tuple[Any, ...]]:
    columns = ", ".join(["seq", "prev_hash", "entry_hash", *kind.fields, *kind.extra])
    # A server-side cursor on PostgreSQL (Django's iterator) keeps memory flat over millions of rows.
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {kind.entries._meta.db_table} WHERE chain = %s AND seq > %s ORDER BY seq",  # noqa: S608
            [chain, start],
        )
        while batch := cursor.fetchmany(5000):
            yield from batch


def _values(kind: Kind, raw: tuple[Any, ...]) -> dict[str, Any]:
    values = dict(zip(kind.fields, raw, strict=True))
    if isinstance(values.get("at"), str):
        values["at"] = datetime.fromisoformat(values["at"])
    for name in kind.json_fields:
        if isinstance(values[name], str | bytes):
            values[name] = json.loads(values[name])
    return values


def _check_token(head: TreeHeadBase, cert: bytes | None) -> str:
    """Why the head's countersignature fails, or ""."""
    if not head.tsa_token:
        return ""
    if cert is None:
        return (
            f"tree head {head.last_seq} is countersigned but no timestamping authority certificate is "
            "configured to check it (GOV21_TSA_CERT)"
        )
    try:
        tsa.check(base64.b64decode(head.tsa_token), bytes.fromhex(head_digest(head)), cert)
    except (DomainError, ValueError) as error:
        detail = error.detail if isinstance(error, DomainError) else str(error)
        return f"tree head {head.last_seq}'s timestamp token does not match it: {detail}"
    return ""


def _walk_heads(
    kind: Kind, chain: str, verify_signature: Verifier, report: VerifyReport
) -> dict[int, TreeHeadBase] | None:
    """Check the heads as a chain of their own: each signed, each starting where the one before
    ended and naming its digest, each countersignature genuine. Keyed by the entry each closes."""
    cert = tsa.pinned_certificate() if _any_token(kind, chain) else None
    heads: dict[int, TreeHeadBase] = {}
    covered, prev = 0, ZERO
    for head in kind.tree_heads._default_manager.filter(chain=chain).order_by("last_seq").iterator(chunk_size=2000):
        if head.first_seq != covered + 1:
            report.fail(
                covered + 1,
                f"entries {covered + 1}-{head.first_seq - 1} are not covered by a signed tree head "
                "(a head was removed?)"
                if head.first_seq > covered + 1
                else f"tree head {head.first_seq}-{head.last_seq} overlaps the head before it",
            )
            return None
        if head.prev_head and head.prev_head != prev:
            report.fail(
                head.first_seq, f"tree head {head.first_seq}-{head.last_seq} does not follow the head before it"
            )
            return None
        if not verify_signature(_message(head), base64.b64decode(head.signature)):
            report.fail(head.first_seq, f"tree head {head.last_seq} signature is not valid")
            return None
        reason = _check_token(head, cert)
        if reason:
            report.fail(head.first_seq, reason)
            return None
        report.countersigned += bool(head.tsa_token)
        heads[head.last_seq] = head
        covered, prev = head.last_seq, head_digest(head)
    return heads


def _any_token(kind: Kind, chain: str) -> bool:
    return kind.tree_heads._default_manager.filter(chain=chain).exclude(tsa_token="").exists()


def _check_anchor(chain: str, heads: dict[int, TreeHeadBase], report: VerifyReport) -> bool:
    """The newest head recorded outside the database must still be in it, unchanged."""
    if not heads:
        return True
    genesis = head_digest(heads[min(heads)])
    known = _anchor_read(_anchor_path(chain, genesis))
    if known is None:
        report.notes.append("no anchor outside the database yet")
        return True
    last = int(known["last_seq"])
    held = heads.get(last)
    if held is None or head_digest(held) != known.get("head"):
        newest = max(heads)
        report.fail(
            min(last, newest) + 1 if last > newest else last,
            f"the newest tree head anchored outside the database ends at entry {last}, but the database's "
            f"heads {'end at ' + str(newest) if last > newest else 'differ there'} (heads removed or rolled back)",
        )
        return False
    report.anchored = True
    return True


def statement_message(chain: str, archived_seq: int, archived_hash: str, file_name: str, file_sha256: str) -> bytes:
    body = {
        "chain": chain,
        "archived_seq": archived_seq,
        "archived_hash": archived_hash,
        "file": file_name,
        "file_sha256": file_sha256,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def archive_statement(kind: Kind, chain: str) -> dict[str, Any] | None:
    """The signed statement of what was archived last (None: nothing was)."""
    row = kind.heads._default_manager.filter(chain=chain).first()
    if row is None or not row.archive_statement:
        return None
    statement: dict[str, Any] = json.loads(row.archive_statement)
    return statement


def _check_pointer(
    row: ChainHeadBase, heads: dict[int, TreeHeadBase], verify_signature: Verifier, report: VerifyReport
) -> bool:
    """The archive pointer counts only with a genuine signed statement that says the same, and
    it must end exactly where a signed head ends, at that head's chain hash."""
    if row.archived_seq == 0 and row.archived_hash == ZERO and not row.archive_statement:
        return True
    try:
        statement = json.loads(row.archive_statement)
        message = statement_message(
            row.chain,
            int(statement["archived_seq"]),
            str(statement["archived_hash"]),
            str(statement["file"]),
            str(statement["file_sha256"]),
        )
        signed = verify_signature(message, base64.b64decode(row.archive_signature))
    except (ValueError, KeyError, TypeError):
        signed, statement = False, {}
    if not signed:
        report.fail(1, "the archive pointer is not signed (archived_seq/archived_hash edited?)")
        return False
    if (int(statement["archived_seq"]), str(statement["archived_hash"])) != (row.archived_seq, row.archived_hash):
        report.fail(1, "the archive pointer does not match its signed statement (archived_seq/archived_hash edited)")
        return False
    head = heads.get(row.archived_seq)
    if head is None or head.chain_hash != row.archived_hash:
        report.fail(1, f"the archive pointer at entry {row.archived_seq} does not end at a signed tree head")
        return False
    return True


def verify(kind: Kind, chain: str, verify_signature: Verifier) -> VerifyReport:
    """Walk the whole chain: the heads as a chain (signatures, links, countersignatures, the anchor
    outside the database), the archive pointer, then every remaining link and entry hash and each
    head's Merkle root. Stops at the first break and names the first entry it affects."""
    report = VerifyReport(chain)
    row = kind.heads._default_manager.filter(chain=chain).first()
    if row is None:
        if kind.entries._default_manager.filter(chain=chain).exists():
            report.fail(1, "the chain's head row is missing")
        return report
    heads = _walk_heads(kind, chain, verify_signature, report)
    if heads is None or not _check_anchor(chain, heads, report):
        return report
    if not _check_pointer(row, heads, verify_signature, report):
        return report
    sealed = max(heads, default=0)
    if row.sealed_seq > sealed:
        return report.fail(
            sealed + 1, f"signed tree heads after entry {sealed} are missing (the chain head says {row.sealed_seq})"
        )
    expected_seq, prev = row.archived_seq, row.archived_hash
    hashes: dict[int, str] = {}
    pending = {s: h for s, h in heads.items() if s > row.archived_seq}
    for raw in _rows(kind, chain, row.archived_seq):
        seq, prev_hash, stored = raw[0], raw[1], raw[2]
        expected_seq += 1
        if seq != expected_seq:
            return report.fail(expected_seq, f"entry {expected_seq} is missing")
        if prev_hash != prev:
            return report.fail(seq, "its link to the previous entry does not match")
        width = len(kind.fields)
        if entry_hash(prev, seq, _values(kind, raw[3 : 3 + width]), kind.fields) != stored:
            return report.fail(seq, "its content does not match its hash")
        if kind.check is not None:
            reason = kind.check(chain, seq, stored, tuple(raw[3 + width :]))
            if reason:
                return report.fail(seq, reason)
        prev = stored
        report.entries += 1
        if pending:
            hashes[seq] = stored
            head = pending.pop(seq, None)
            if head is not None and not _check_root(head, hashes, report):
                return report
    if pending:
        first = min(h.first_seq for h in pending.values())
        return report.fail(first, f"tree head {first}-{max(pending)} covers entries that are not in the log")
    if row.seq != expected_seq or row.hash != prev:
        report.first_broken = expected_seq + 1 if row.seq > expected_seq else row.seq
        report.reason = "the chain head does not match the last entry (entries removed from the end?)"
        return report
    if expected_seq - sealed >= SEAL_EVERY:
        return report.fail(
            sealed + 1,
            f"{expected_seq - sealed} entries follow the last signed tree head; a head is signed every "
            f"{SEAL_EVERY} (heads removed?)",
        )
    return report


def _check_root(head: TreeHeadBase, hashes: dict[int, str], report: VerifyReport) -> bool:
    last_hash = hashes.get(head.last_seq)
    try:
        leaves = [merkle.leaf_hash(bytes.fromhex(hashes.pop(s))) for s in range(head.first_seq, head.last_seq + 1)]
    except KeyError:
        report.fail(
            head.first_seq, f"tree head {head.first_seq}-{head.last_seq} covers entries that are not in the log"
        )
        return False
    if merkle.root(leaves).hex() != head.root or head.chain_hash != last_hash:
        report.fail(head.first_seq, f"tree head {head.first_seq}-{head.last_seq} differs")
        return False
    report.heads += 1
    # Hashes of entries no remaining head covers (before this one) are not needed again.
    for stale in [s for s in hashes if s < head.first_seq]:
        del hashes[stale]
    return True


# --- archiving ------------------------------------------------------------------------------------


class _Walk:
    """Checks a run of entries and the signed tree heads over them as they stream past, in order:
    the same checks as :func:`verify`, for entries that come from an archive file."""

    def __init__(self, kind: Kind, chain: str, seq: int, prev: str, verify_signature: Verifier) -> None:
        self.report = VerifyReport(chain)
        self.kind = kind
        self.seq, self.prev = seq, prev
        self.covered = seq
        self.prev_head: str | None = None  # the head before the file's first is not in the file
        self.hashes: dict[int, str] = {}
        self.verify_signature = verify_signature

    def _fail(self, seq: int, reason: str) -> bool:
        self.report.fail(seq, reason)
        return False

    def entry(self, seq: int, prev_hash: str, stored: str, values: Mapping[str, object]) -> bool:
        expected = self.seq + 1
        if seq != expected:
            return self._fail(expected, f"entry {expected} is missing")
        if prev_hash != self.prev:
            return self._fail(seq, "its link to the previous entry does not match")
        if entry_hash(self.prev, seq, values, self.kind.fields) != stored:
            return self._fail(seq, "its content does not match its hash")
        self.seq, self.prev = seq, stored
        self.hashes[seq] = stored
        self.report.entries += 1
        return True

    def head(self, head: TreeHeadBase) -> bool:
        if head.first_seq != self.covered + 1 or head.last_seq != self.seq:
            return self._fail(self.covered + 1, f"tree head {head.first_seq}-{head.last_seq} is out of place")
        if self.prev_head is not None and head.prev_head and head.prev_head != self.prev_head:
            return self._fail(
                head.first_seq, f"tree head {head.first_seq}-{head.last_seq} does not follow the head before it"
            )
        leaves = [merkle.leaf_hash(bytes.fromhex(self.hashes[s])) for s in range(head.first_seq, head.last_seq + 1)]
        if merkle.root(leaves).hex() != head.root or self.prev != head.chain_hash:
            return self._fail(head.first_seq, f"tree head {head.first_seq}-{head.last_seq} differs")
        if not self.verify_signature(_message(head), base64.b64decode(head.signature)):
            return self._fail(head.first_seq, f"tree head {head.last_seq} signature is not valid")
        self.hashes.clear()
        self.covered = head.last_seq
        self.prev_head = head_digest(head)
        self.report.heads += 1
        return True

    def finish(self, last_seq: int, last_hash: str) -> bool:
        if self.covered != self.seq:
            return self._fail(self.covered + 1, f"entries after {self.covered} are not covered by a signed tree head")
        if self.seq != last_seq or self.prev != last_hash:
            return self._fail(self.seq + 1, f"the entries end at {self.seq}, not at {last_seq} as the header says")
        return True


def _jsonable(value: object) -> object:
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


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while block := data.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def archive(
    kind: Kind,
    chain: str,
    *,
    before: datetime,
    out_dir: Path,
    signer: Signer,
    verify_signature: Verifier | None = None,
) -> Path | None:
    """Move the entries up to the last tree head signed before ``before`` into a gzip JSON-lines file
    in ``out_dir``: a header line (chain, first and last sequence numbers, the hash the run starts
    from and the hash of its last entry), then every entry with all its columns, each tree head
    right after the entry it closes. The run is checked as it is written, so a broken chain is never
    archived away; the file is fsynced before the rows are deleted, and the deletion commits together
    with the new starting point of :func:`verify` and its signed statement (the file's digest
    included). Given ``verify_signature``, the tree heads' signatures are checked too before
    anything is deleted. The tree heads stay in the database: they keep the head chain whole.

    None when no signed tree head is older than ``before``. A crash between the file and the commit
    leaves the rows in place; the next run writes the same file again."""
    model, fields = kind.entries, kind.fields
    head_row = kind.heads._default_manager.filter(chain=chain).first()
    if head_row is None:
        return None
    start, start_hash = head_row.archived_seq, head_row.archived_hash
    heads: list[TreeHeadBase] = []
    for head in kind.tree_heads._default_manager.filter(chain=chain, last_seq__gt=start).order_by("last_seq"):
        if head.at >= before:
            break
        heads.append(head)
    if not heads:
        return None
    last, last_hash = heads[-1].last_seq, heads[-1].chain_hash
    columns = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{chain.replace(':', '_')}-{start + 1:012d}-{last:012d}.jsonl.gz"
    partial_path = path.with_name(path.name + ".partial")
    header = {
        "type": "header",
        "format": ARCHIVE_FORMAT,
        "v": 2,
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
    walk = _Walk(kind, chain, start, start_hash, verify_signature or (lambda _message, _signature: True))
    closing = {h.last_seq: h for h in heads}
    rows = (
        model._default_manager.filter(chain=chain, seq__gt=start, seq__lte=last)
        .order_by("seq")
        .values(*columns)
        .iterator(chunk_size=2000)
    )
    try:
        with open(partial_path, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:

                def write(item: Mapping[str, object]) -> None:
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
        os.replace(partial_path, path)
        _fsync_dir(out_dir)
    finally:
        partial_path.unlink(missing_ok=True)
    statement = statement_message(chain, last, last_hash, path.name, _file_sha256(path))
    signature = base64.b64encode(signer(statement)).decode()
    with transaction.atomic():
        _lock_head(kind, chain)
        if kind.heads._default_manager.filter(chain=chain).values_list("archived_seq", flat=True).get() != start:
            raise Conflict("archive_conflict", f"{chain} was archived by another process meanwhile")
        deleted, _ = model._default_manager.filter(chain=chain, seq__gt=start, seq__lte=last).delete()
        if deleted != last - start:
            raise Conflict("archive_conflict", f"{chain} changed while it was being archived")
        kind.heads._default_manager.filter(chain=chain).update(
            archived_seq=last,
            archived_hash=last_hash,
            archive_statement=statement.decode(),
            archive_signature=signature,
        )
    return path


def _head_line(head: TreeHeadBase) -> dict[str, object]:
    return {
        "type": "head",
        "first_seq": head.first_seq,
        "last_seq": head.last_seq,
        "root": head.root,
        "chain_hash": head.chain_hash,
        "at": head.at.isoformat(),
        "prev": head.prev_head,
        "signature": head.signature,
        "tsa_token": head.tsa_token,
    }


def verify_archive(kinds: Callable[[str], Kind], path: Path, verify_signature: Verifier) -> VerifyReport:
    """Check an archive file written by :func:`archive` on its own: every link, every entry hash,
    every tree head's root, signature and link to the head before it, and that it ends where its
    header says. ``kinds`` names the kind of a chain."""
    chain, walk = str(path), None
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            header = json.loads(next(lines, "{}"))
            if header.get("format") != ARCHIVE_FORMAT:
                return VerifyReport(chain, first_broken=0, reason="not a chain archive (its header is missing)")
            chain = str(header["chain"])
            kind = kinds(chain)
            walk = _Walk(kind, chain, int(header["first_seq"]) - 1, str(header["prev_hash"]), verify_signature)
            for line in lines:
                item = json.loads(line)
                if item["type"] == "entry":
                    values = {f: item[f] for f in kind.fields}
                    for name in kind.json_fields:
                        if isinstance(values[name], str):
                            values[name] = json.loads(values[name])
                    ok = walk.entry(int(item["seq"]), item["prev_hash"], item["entry_hash"], values)
                elif item["type"] == "head":
                    ok = walk.head(
                        kind.tree_heads(
                            chain=chain,
                            first_seq=int(item["first_seq"]),
                            last_seq=int(item["last_seq"]),
                            root=item["root"],
                            chain_hash=item["chain_hash"],
                            at=datetime.fromisoformat(item["at"]),
                            prev_head=item.get("prev", ""),
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
