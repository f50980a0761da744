"""``gov21 exchange log verify`` throughput on a large message log.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/exchange_log.py --entries 10000000

Migrates a fresh data directory (or the database of ``GOV21_DATABASE_URL``), writes a chain of
``--entries`` log entries of realistic size (two signatures of the lengths the gateway produces,
identifiers, hashes) with a signed tree head every 512 entries, exactly as the gateway would have
chained them, then times a full verification: every link, every entry hash, every tree head's
Merkle root and signature. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--verify-only", action="store_true", help="Verify a log an earlier run generated.")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from gov21.exchange import chain, merkle, node
    from gov21.exchange.models import ChainHead, LogEntry, TreeHead

    call_command("migrate", verbosity=0)
    name = "log:bench"
    fields = chain.LOG_FIELDS
    columns = ["chain", "seq", "prev_hash", "entry_hash", "duration_ms", *fields]
    sql = f"INSERT INTO {LogEntry._meta.db_table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    request_sig = "eyJhbGciOiJFZERTQSJ9." + "A" * 620 + ".sig"
    response_sig = "eyJhbGciOiJFZERTQSJ9." + "B" * 420 + ".sig"
    base = datetime(2026, 11, 1, tzinfo=UTC)
    prev = chain.ZERO
    started = time.perf_counter()
    pending_leaves: list[bytes] = []
    head_first = 1
    prev_head = chain.ZERO
    seq = 0
    if args.verify_only:
        seq = args.entries
    while seq < args.entries:
        rows = []
        heads = []
        for _ in range(min(args.batch, args.entries - seq)):
            seq += 1
            at = base + timedelta(milliseconds=seq * 3)
            values = {
                "at": at,
                "role": "provider" if seq % 2 else "consumer",
                "message_id": f"m-{seq:012d}",
                "request_id": f"r-{seq:034d}",
                "client": "XA/GOV/MSD/benefits",
                "service": "XA/GOV/CRO/civil-registry/persons",
                "method": "GET",
                "path": f"/{1000000000 + seq % 9000000}",
                "status": 200,
                "error": "",
                "user_id": "XA-officer-7",
                "issue": f"BEN-2026-{seq % 100000:05d}",
                "represented_party": "",
                "request_hash": base64.b64encode(seq.to_bytes(64, "big")).decode(),
                "response_hash": base64.b64encode((seq * 7).to_bytes(64, "big")).decode(),
                "request_sig": request_sig,
                "response_sig": response_sig,
                "subjects": str(1000000000 + seq % 9000000),
            }
            digest = chain.entry_hash(prev, seq, values, fields)
            stored = {**values, "at": at.strftime("%Y-%m-%d %H:%M:%S.%f")}
            rows.append([name, seq, prev, digest, 1.0, *(stored[f] for f in fields)])
            prev = digest
            pending_leaves.append(merkle.leaf_hash(bytes.fromhex(digest)))
            if len(pending_leaves) == chain.SEAL_EVERY or seq == args.entries:
                root = merkle.root(pending_leaves).hex()
                message = chain.head_message(name, head_first, seq, root, digest, at, prev_head)
                signature = base64.b64encode(node.sign_bytes(message)).decode()
                heads.append(
                    TreeHead(
                        chain=name,
                        first_seq=head_first,
                        last_seq=seq,
                        root=root,
                        chain_hash=digest,
                        at=at,
                        prev_head=prev_head,
                        signature=signature,
                    )
                )
                prev_head = hashlib.sha256(message).hexdigest()
                head_first, pending_leaves = seq + 1, []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
            TreeHead.objects.bulk_create(heads)
    if not args.verify_only:
        ChainHead.objects.update_or_create(chain=name, defaults={"seq": seq, "hash": prev, "sealed_seq": seq})
    generated = time.perf_counter() - started

    started = time.perf_counter()
    report = chain.verify(name, node.verify_own)
    verify_seconds = time.perf_counter() - started
    db = Path(str(connection.settings_dict["NAME"]))
    print(
        json.dumps(
            {
                "entries": report.entries,
                "heads": report.heads,
                "ok": report.ok,
                "generate_s": round(generated, 1),
                "verify_s": round(verify_seconds, 1),
                "verify_entries_per_s": round(report.entries / verify_seconds),
                "database": connection.vendor,
                "db_bytes": db.stat().st_size if db.exists() else None,
            }
        )
    )


if __name__ == "__main__":
    main()
