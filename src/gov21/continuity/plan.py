"""The business-continuity runbook, written from the node's actual configuration and records."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.utils import timezone

from gov21.continuity.engine import home_keys
from gov21.continuity.selectors import drills_latest
from gov21.continuity.shares import shares_recorded


def plan_text() -> str:
    targets = list(settings.GOV21_BACKUP_TARGETS)
    keys = home_keys()
    shares = shares_recorded()
    lines = [
        f"# Continuity plan for {settings.GOV21_COUNTRY_NAME} ({settings.GOV21_INSTANCE})",
        f"Written {timezone.now():%Y-%m-%d %H:%M %Z} from this node's configuration.",
        "",
        "## What is backed up, and where",
        f"- Database: {connection.vendor}"
        + (
            " (an online snapshot, cut into sealed chunks)"
            if connection.vendor == "sqlite"
            else " (pg_dump's consistent copy, cut into sealed chunks; restore it with --database-url. Between"
            " backups, PostgreSQL's own streaming replica and WAL archive, see docs/operations.md;"
            " `gov21 continuity status` shows the replica's lag)"
        ),
        "- Keys: registry, identity provider, sealing and backup signing keys travel inside the backups, encrypted.",
    ]
    for target in targets:
        where = (
            f"data embassy on {target.removeprefix('partner:')}'s gov21 node, through the exchange"
            if target.startswith("partner:")
            else ("S3-compatible object storage" if target.startswith("s3://") else "a directory")
        )
        lines.append(f"- Target: {target} ({where}; every minute while `gov21 up` runs, in full once a day)")
    if targets:
        lines.append(
            "- Every restore verifies each chunk, the signed manifest, row counts, every hash chain and certificate."
        )
    else:
        lines.append("- NO TARGET CONFIGURED: set GOV21_BACKUP_TARGETS, or nothing leaves this machine.")
    lines += ["", "## Keys", f"- Master key fingerprint: {keys.fingerprint} (the key itself never leaves this node)."]
    if shares:
        lines.append(
            f"- Recovery sheets: {shares['count']} made on {shares['made'][:10]}; any {shares['threshold']} rebuild"
            " the key."
        )
        holders = shares.get("holders") or []
        if holders:
            lines += [f"  - sheet {number}: {name}" for number, name in enumerate(holders, start=1)]
        else:
            lines.append("  Keep a list of who holds each sheet beside this plan (or make them with --holder).")
    else:
        lines.append(
            "- NO RECOVERY SHEETS: run `gov21 backup shares --threshold 3 --shares 5 --out DIR` and hand them out,"
            " or a lost machine means lost backups."
        )
    lines += ["", "## Last drills"]
    drills = drills_latest()
    if not drills:
        lines.append("- NONE: run `gov21 continuity drill` now and weekly.")
    for run in drills:
        state = "ok" if run.ok else "FAILED"
        lines.append(
            f"- {run.target}: {state} on {run.started_at:%Y-%m-%d %H:%M}, RPO {run.rpo_seconds or 0:.0f} s,"
            f" RTO {run.rto_seconds or 0:.0f} s"
        )
    source = targets[0] if targets else "TARGET"
    lines += [
        "",
        "## Bringing the government back (repatriation)",
        "1. On any machine with Python 3.11: install gov21 (`make run` creates its environment).",
        f"2. `gov21 restore --from {source} --to /srv/gov21 --share sheet1.txt --share sheet2.txt --share sheet3.txt`",
        "   (or `--keys FILE`). It stops with a clear message if anything is wrong and names an intact older backup.",
        "3. `GOV21_DATA_DIR=/srv/gov21 GOV21_BASE_URL=https://<public address> gov21 up`",
        "4. Check `/readyz`, look up a person, verify a certificate, sign in; then point the public address here.",
        "5. Configure GOV21_BACKUP_TARGETS on the new machine and run `gov21 continuity drill`.",
    ]
    partners = [t.removeprefix("partner:") for t in targets if t.startswith("partner:")]
    for partner in partners:
        lines += [
            "",
            f"If every machine here is lost, ask {partner}'s operators to copy"
            " <data dir>/embassy/<our instance>__GOV__EXCHANGE__data-embassy/ to a disk and send it; then run step 2"
            " with --from set to that folder. No network is needed.",
        ]
    return "\n".join(lines) + "\n"
