"""The integrity of a node's data as it stands: what a restore must prove before the node serves.

* Every hash chain the node keeps (the exchange's message and data-use logs, the registry's access
  log) verifies from its first entry to its head: every link, every signed tree head and its link
  to the one before, every countersignature, the signed archive pointer.
* Every certificate the civil registry issued and every document a service issued still verifies
  against the keys the node publishes at ``/.well-known/jwks.json``: a relying party that saved
  those keys before the disaster accepts what the restored node hands out.

``node_check`` runs inside the node it checks; ``check_restored`` runs it in a restored data
directory, as a separate process, so the restored database and keys are read exactly as the
restored node will read them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.db import connection
from django.test import RequestFactory
from django.urls import resolve

from gov21.audit.contracts import access_log_exists, access_log_verify
from gov21.core.config import child_environment
from gov21.core.crypto import verify_compact
from gov21.core.errors import DomainError
from gov21.exchange.contracts import log_chains_verify

# Issued credentials and where they live: (table, label). Revoked or superseded ones must still
# carry a genuine signature; their status is the registry's business, not the signature's.
CREDENTIAL_TABLES = (("registry_certificate", "certificates"), ("services_document", "documents"))


def published_jwks() -> dict[str, Any]:
    """The key set this node publishes, produced by the same view that answers the public."""
    request = RequestFactory().get("/.well-known/jwks.json")
    match = resolve("/.well-known/jwks.json")
    response = match.func(request, *match.args, **match.kwargs)
    keys: dict[str, Any] = json.loads(response.content)
    return keys


def _credentials(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        present = table in connection.introspection.table_names(cursor)
        if not present:
            return []
        cursor.execute(f"SELECT serial, credential FROM {table} ORDER BY id")  # noqa: S608 - fixed names
        return [(str(serial), str(credential)) for serial, credential in cursor.fetchall()]


def node_check() -> dict[str, Any]:
    """Check this node's chains and credentials; a report with ``ok`` and the first faults found."""
    chains = log_chains_verify()
    if access_log_exists():
        access = access_log_verify()
        chains.append(
            {
                "chain": access.chain,
                "entries": access.entries,
                "heads": access.heads,
                "ok": access.ok,
                "first_broken": access.first_broken,
                "reason": access.reason,
            }
        )
    report: dict[str, Any] = {"chains": chains, "faults": []}
    for row in chains:
        if not row["ok"]:
            report["faults"].append(f"chain {row['chain']} breaks at entry {row['first_broken']}: {row['reason']}")
    jwks = published_jwks()
    report["jwks_kids"] = sorted(str(key.get("kid", "")) for key in jwks.get("keys", []))
    for table, label in CREDENTIAL_TABLES:
        checked = 0
        for serial, credential in _credentials(table):
            try:
                verify_compact(credential, jwks)
            except DomainError as error:
                if len(report["faults"]) < 20:
                    report["faults"].append(f"{label[:-1]} {serial} does not verify: {error.detail}")
                continue
            checked += 1
        report[label] = checked
    report["ok"] = not report["faults"]
    return report


def check_restored(data_dir: Path, *, database_url: str | None = None, timeout: float = 1800) -> dict[str, Any]:
    """Run :func:`node_check` in the node restored under ``data_dir`` (its SQLite file, or the
    PostgreSQL database at ``database_url``), after bringing its schema up to this release's."""
    env = child_environment(GOV21_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="gov21.settings")
    env.pop("GOV21_DATABASE_URL", None)
    if database_url:
        env["GOV21_DATABASE_URL"] = database_url
    for args in (["migrate", "--no-input", "-v0"], ["continuity", "check", "--json"]):
        done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "gov21.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        if args[0] == "migrate" and done.returncode != 0:
            return {"ok": False, "faults": [f"the restored database does not migrate: {done.stderr.strip()[-500:]}"]}
    try:
        report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "faults": [f"the integrity check did not run: {done.stderr.strip()[-500:]}"]}
    return report
