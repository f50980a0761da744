"""Restore drills: bring the newest backup back in a scratch directory, start it, and prove it serves.

The drill measures what a disaster would cost: RPO, the age of the newest data the backup holds,
and RTO, the time from the start of the restore to the restored node answering. Smoke checks run
against the restored server over HTTP: the identity provider's discovery, a person read through the
API with a token made for the drill, and a certificate from the restored registry verified against
the restored keys.
"""

from __future__ import annotations

import json
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
from django.conf import settings
from django.utils import timezone

from gov21.continuity import postgres
from gov21.continuity.engine import DB_NAME, HomeKeys, backups_on, restore_run
from gov21.continuity.models import DrillRun
from gov21.continuity.services import drill_record
from gov21.core.config import child_environment

SERVE_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _node_env(data_dir: Path, base_url: str, database_url: str | None = None) -> dict[str, str]:
    env = child_environment(GOV21_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="gov21.settings")
    env.pop("GOV21_DATABASE_URL", None)  # the restored node is the SQLite file in data_dir...
    if database_url:
        env["GOV21_DATABASE_URL"] = database_url  # ...or the scratch database a PostgreSQL backup went into
    env["GOV21_BASE_URL"] = base_url
    return env


def scratch_database_url() -> str:
    """A new database's URL on the server this node uses, for drilling a PostgreSQL backup."""
    from urllib.parse import quote

    database = settings.DATABASES["default"]
    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(database.get("HOST") or "localhost")
    port = str(database.get("PORT") or 5432)
    return f"postgresql://{credentials}{host}:{port}/gov21_drill_{secrets.token_hex(4)}"


def _is_postgres_backup(target: Any, backup_id: str) -> bool:
    return bool(json.loads(target.get(f"manifests/{backup_id}.json")).get("database") == "postgresql")


def _gov21(
    data_dir: Path, base_url: str, *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "gov21.cli", *args],
        env=_node_env(data_dir, base_url, database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def drill_run(target: Any, *, keys: HomeKeys) -> DrillRun:
    started = timezone.now()
    clock = time.monotonic()
    detail: dict[str, Any] = {"checks": {}}
    backup_id = ""
    rpo = rto = None
    ok = False
    server: subprocess.Popen[bytes] | None = None
    database_url: str | None = None
    with tempfile.TemporaryDirectory(prefix="gov21-drill-") as scratch:
        node = Path(scratch) / "node"
        try:
            available = backups_on(target)
            backup_id = available[0] if available else ""
            if backup_id and _is_postgres_backup(target, backup_id):
                database_url = scratch_database_url()
            report = restore_run(target, node, keys=keys, database_url=database_url)
            rpo = (started - datetime.fromisoformat(report.created)).total_seconds()
            detail["counts"] = report.counts
            chains = report.integrity.get("chains", [])
            detail["integrity"] = {
                "chains": len(chains),
                "entries": sum(int(row["entries"]) for row in chains),
                "certificates": report.integrity.get("certificates", 0),
                "documents": report.integrity.get("documents", 0),
            }
            detail["checks"]["chains_and_credentials"] = "ok" if report.integrity.get("ok") else "failed"
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            _gov21(node, base, "migrate", "--no-input", database_url=database_url)
            token = _gov21(
                node, base, "token", "create", "--role", "reader", "--expires", "1h", database_url=database_url
            ).stdout.strip()
            server = subprocess.Popen(  # noqa: S603
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "gov21.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--log-level",
                    "warning",
                ],
                env=_node_env(node, base, database_url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + SERVE_TIMEOUT
            with httpx2.Client(base_url=base, timeout=5) as http:
                while True:
                    try:
                        if http.get("/.well-known/openid-configuration").status_code == 200:
                            break
                    except httpx2.TransportError:
                        pass
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the restored node did not start serving")
                    time.sleep(0.2)
                rto = time.monotonic() - clock
                detail["checks"]["discovery"] = "ok"
                detail["checks"].update(_smoke(http, _samples(node / DB_NAME, database_url), token))
            ok = all(value == "ok" for value in detail["checks"].values())
        except Exception as error:
            detail["error"] = getattr(error, "detail", None) or str(error)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=15)
            if database_url:
                try:
                    postgres.database_drop(database_url)
                except Exception as error:  # the drill's result stands; the leftover is named
                    detail["cleanup"] = f"scratch database not dropped: {error}"
    return drill_record(
        target=target.name, backup_id=backup_id, started_at=started, ok=ok, rpo=rpo, rto=rto, detail=detail
    )


def _samples(db: Path, database_url: str | None) -> tuple[str | None, str | None]:
    """A person's UIN and a valid certificate's credential from the restored database, to ask for."""
    person_sql = "SELECT uin FROM registry_person ORDER BY id LIMIT 1"
    certificate_sql = "SELECT credential FROM registry_certificate WHERE status = 'valid' ORDER BY id DESC LIMIT 1"
    if database_url:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=10) as conn:
            person = conn.execute(person_sql).fetchone()
            certificate = conn.execute(certificate_sql).fetchone()
    else:
        database = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            person = database.execute(person_sql).fetchone()
            certificate = database.execute(certificate_sql).fetchone()
        finally:
            database.close()
    return (str(person[0]) if person else None, str(certificate[0]) if certificate else None)


def _smoke(http: httpx2.Client, samples: tuple[str | None, str | None], token: str) -> dict[str, str]:
    checks: dict[str, str] = {}
    uin, credential = samples
    if uin:
        response = http.get(
            f"/api/v1/registry/persons/{uin}",
            headers={"Authorization": f"Bearer {token}", "X-Purpose": "restore drill"},
        )
        checks["person_read"] = (
            "ok"
            if response.status_code == 200 and response.json().get("uin") == uin
            else f"HTTP {response.status_code}"
        )
    if credential:
        response = http.post("/api/v1/registry/verify", json={"payload": f"GOV21:{credential}"})
        status = response.json().get("status") if response.status_code == 200 else f"HTTP {response.status_code}"
        checks["certificate_verify"] = "ok" if status == "valid" else str(status)
    return checks
