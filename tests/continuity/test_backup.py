from __future__ import annotations

import contextlib
import io
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from gov21.continuity.engine import (
    BackupError,
    backup_run,
    backups_on,
    home_keys,
    restore_run,
    verify_backup,
)
from gov21.continuity.models import DrillRun
from gov21.continuity.targets import DirectoryTarget, TargetError, target_from
from gov21.core.principal import Principal
from tests.continuity.conftest import NewDatabase
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db(transaction=True)
# Two tests read a restored SQLite node's own files; tests/continuity/test_backup_postgres.py proves the
# same of a PostgreSQL node. Every other test here runs on the suite's engine, either one.
sqlite_node = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="reads a restored SQLite node's files; test_backup_postgres.py covers PostgreSQL",
)
REGISTRAR = Principal(name="backup.test", kind="staff", roles=frozenset({"registrar"}))


def _into(database_url: str | None) -> list[str]:
    """The restore command's option naming the database to restore into, on PostgreSQL."""
    return ["--database-url", database_url] if database_url else []


def _restored_uins(into: Path, database_url: str | None) -> set[str]:
    """The UINs in a restored node's registry: its SQLite file, or the PostgreSQL database it went into."""
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as conn:
            return {row[0] for row in conn.execute("SELECT uin FROM registry_person")}
    with contextlib.closing(sqlite3.connect(into / "gov21.sqlite3")) as db:
        return {row[0] for row in db.execute("SELECT uin FROM registry_person")}


@sqlite_node
def test_a_backup_restores_to_the_same_registry(node: Path, tmp_path: Path) -> None:
    people = [register_person(REGISTRAR) for _ in range(3)]
    target = DirectoryTarget(tmp_path / "offsite")
    first = backup_run(target)
    assert first.counts["registry_person"] == 3 and first.chunks_sent == first.chunks

    register_person(REGISTRAR)
    second = backup_run(target)
    assert second.counts["registry_person"] == 4
    assert second.chunks_sent < second.chunks  # unchanged pages and keys are not sent again
    assert len(backups_on(target)) == 2

    # Nothing on the target is readable without the home keys.
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "offsite" / "chunks").rglob("*") if p.is_file())
    assert people[0].uin.encode() not in blobs and b"SQLite format" not in blobs

    restored = tmp_path / "restored"
    report = restore_run(target, restored, keys=home_keys())
    assert report.counts["registry_person"] == 4
    uins = {row[0] for row in sqlite3.connect(restored / "gov21.sqlite3").execute("SELECT uin FROM registry_person")}
    assert {p.uin for p in people} <= uins
    assert (restored / "keys" / "backup").is_dir()  # the node's keys come back with it, private...
    key_files = [p for p in (restored / "keys").rglob("*") if p.is_file()] + [restored / "secret_key"]
    assert len(key_files) > 3 and all(p.stat().st_mode & 0o077 == 0 for p in key_files)
    assert (restored / "keys" / "backup-master.key").read_bytes() == home_keys().master  # ...and it backs up again
    older = restore_run(target, tmp_path / "older", keys=home_keys(), backup_id=first.backup_id)
    assert older.counts["registry_person"] == 3


def test_commands_back_up_verify_and_restore_with_an_exported_key_file(
    node: Path, tmp_path: Path, new_database: NewDatabase
) -> None:
    register_person(REGISTRAR)
    offsite = tmp_path / "offsite"
    out = io.StringIO()
    call_command("backup", "--to", str(offsite), stdout=out)
    assert "new" in out.getvalue()
    key_file = tmp_path / "home-keys.json"
    call_command("backup", "export-keys", str(key_file), stdout=io.StringIO())
    assert key_file.stat().st_mode & 0o077 == 0
    verified = io.StringIO()
    call_command("backup", "verify", "--from", str(offsite), "--keys", str(key_file), stdout=verified)
    assert "intact" in verified.getvalue()
    restored = io.StringIO()
    call_command(
        *("restore", "--from", str(offsite), "--to", str(tmp_path / "new-node"), "--keys", str(key_file)),
        *_into(new_database()),
        stdout=restored,
    )
    assert "registry_person 1" in restored.getvalue()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", "--from", str(offsite), "--to", str(tmp_path / "new-node"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="Say where to"):
        call_command("backup", stdout=io.StringIO())
    assert node == settings.DATA_DIR


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 server on loopback: a real S3 protocol peer, stopped after the module."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("moto_server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_backup_to_s3_and_restore_from_it(
    node: Path, tmp_path: Path, s3_server: str, settings: Any, new_database: NewDatabase
) -> None:
    import boto3

    settings.GOV21_S3_ENDPOINT_URL = s3_server
    settings.GOV21_S3_ACCESS_KEY_ID = "testing"
    settings.GOV21_S3_SECRET_ACCESS_KEY = "testing"
    boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket="embassy")
    person = register_person(REGISTRAR)
    out = io.StringIO()
    call_command("backup", "--to", "s3://embassy/xa", stdout=out)
    call_command("backup", "--to", "s3://embassy/xa", stdout=out)
    first, second = out.getvalue().splitlines()
    # The first backup sends chunks ("30 new", never "(0 new"); the second says how many were new.
    assert "(0 new" not in first and "new" in second
    target = target_from("s3://embassy/xa")
    assert len(backups_on(target)) == 2
    database_url = new_database()
    report = restore_run(target, tmp_path / "from-s3", keys=home_keys(), database_url=database_url)
    assert report.counts["registry_person"] == 1
    assert _restored_uins(tmp_path / "from-s3", database_url) == {person.uin}
    # Pruning on S3 keeps the newest backup whole and drops what only the older one needed.
    register_person(REGISTRAR)
    call_command("backup", "--to", "s3://embassy/xa", "--keep", "1", stdout=io.StringIO())
    assert len(backups_on(target)) == 1
    after = restore_run(target, tmp_path / "after-prune", keys=home_keys(), database_url=new_database())
    assert after.counts["registry_person"] == 2
    with pytest.raises(CommandError, match="s3://nowhere/xa"):
        call_command("backup", "--to", "s3://nowhere/xa", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_drill_restores_starts_and_checks_the_copy(node: Path, tmp_path: Path) -> None:
    from gov21.continuity.drill import drill_run
    from gov21.registry import services
    from gov21.registry.models import LifeEvent

    person = register_person(REGISTRAR)
    event = LifeEvent.objects.filter(subject=person, kind="birth").first()
    assert event is not None
    services.certificate_issue(event_id=event.pk, actor=REGISTRAR)
    target = DirectoryTarget(tmp_path / "offsite")
    backup_run(target)
    run = drill_run(target, keys=home_keys())
    assert run.ok, run.detail
    assert run.detail["checks"] == {
        "chains_and_credentials": "ok",
        "discovery": "ok",
        "person_read": "ok",
        "certificate_verify": "ok",
    }
    assert run.detail["integrity"]["certificates"] >= 1
    assert run.rpo_seconds is not None and 0 <= run.rpo_seconds < 120
    assert run.rto_seconds is not None and run.rto_seconds > 0

    # A drill against a damaged target fails and says why.
    for blob in (tmp_path / "offsite" / "chunks").rglob("*"):
        if blob.is_file():
            blob.write_bytes(b"G21C1" + b"\0" * 40)
    failed = drill_run(target, keys=home_keys())
    assert not failed.ok and "integrity check" in failed.detail["error"]


def test_any_three_of_five_share_sheets_restore_and_two_do_not(
    node: Path, tmp_path: Path, new_database: NewDatabase
) -> None:
    register_person(REGISTRAR)
    offsite = tmp_path / "offsite"
    call_command("backup", "--to", str(offsite), stdout=io.StringIO())
    sheets = tmp_path / "sheets"
    call_command("backup", "shares", "--threshold", "3", "--shares", "5", "--out", str(sheets), stdout=io.StringIO())
    files = sorted(sheets.iterdir())
    assert len(files) == 5 and all(f.stat().st_mode & 0o077 == 0 for f in files)
    assert home_keys().master.hex() not in "".join(f.read_text() for f in files)
    chosen = [files[4], files[0], files[2]]
    out = io.StringIO()
    call_command(
        "restore",
        "--from",
        str(offsite),
        "--to",
        str(tmp_path / "bare"),
        *[arg for f in chosen for arg in ("--share", str(f))],
        *_into(new_database()),
        stdout=out,
    )
    assert "registry_person 1" in out.getvalue()
    with pytest.raises(CommandError, match="do not rebuild"):
        call_command(
            "restore",
            "--from",
            str(offsite),
            "--to",
            str(tmp_path / "bare2"),
            "--share",
            str(files[1]),
            "--share",
            str(files[3]),
            stdout=io.StringIO(),
        )


def test_prune_keeps_the_newest_backups_whole(node: Path, tmp_path: Path, new_database: NewDatabase) -> None:
    from gov21.continuity.engine import prune

    target = DirectoryTarget(tmp_path / "offsite")
    for _ in range(3):
        register_person(REGISTRAR)
        backup_run(target)
    chunks_before = sum(1 for p in (tmp_path / "offsite" / "chunks").rglob("*") if p.is_file())
    doomed, removed = prune(target, keep=2)
    assert len(doomed) == 1 and len(backups_on(target)) == 2
    assert 0 < removed < chunks_before
    for backup_id in backups_on(target):
        restore_run(target, tmp_path / backup_id, keys=home_keys(), backup_id=backup_id, database_url=new_database())
    with pytest.raises(BackupError, match="at least one"):
        prune(target, keep=0)
    assert prune(target, keep=5) == ([], 0)  # nothing to go: nothing read but the list


def test_prune_keeps_the_newest_of_each_day_as_asked(node: Path, tmp_path: Path) -> None:
    import shutil
    from datetime import timedelta

    from gov21.continuity.engine import backup_time, prune

    offsite = tmp_path / "offsite"
    target = DirectoryTarget(offsite)
    ids = []
    for _ in range(3):
        register_person(REGISTRAR)
        ids.append(backup_run(target).backup_id)
    # Older days' backups, as the schedule would have left them (same content, earlier names).
    older = []
    for days in (2, 3):
        stamp = (backup_time(ids[0]) - timedelta(days=days)).strftime("%Y%m%dT%H%M%S%fZ")
        older.append(f"{stamp}-{days:06x}")
        for suffix in (".json", ".sig"):
            shutil.copy(offsite / "manifests" / f"{ids[0]}{suffix}", offsite / "manifests" / f"{older[-1]}{suffix}")
    doomed, _ = prune(target, keep=1, daily=2)
    assert backups_on(target) == [ids[2], older[0]]
    assert set(doomed) == {ids[0], ids[1], older[1]}


def test_a_failing_target_does_not_stop_the_others(node: Path, tmp_path: Path) -> None:
    register_person(REGISTRAR)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the target should be")
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"Backup failed for: .*not-a-directory"):
        call_command("backup", "--to", str(blocked), "--to", str(tmp_path / "good"), stdout=io.StringIO(), stderr=err)
    assert "cannot write" in err.getvalue()
    assert len(backups_on(DirectoryTarget(tmp_path / "good"))) == 1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, so that a target really runs out of space (needs root; skipped otherwise)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_is_reported_and_the_previous_backup_stays_good(node: Path, small_disk: Path) -> None:
    register_person(REGISTRAR)
    target = DirectoryTarget(small_disk / "offsite")
    first = backup_run(target)
    # Fill the disk, then change the registry so that the next backup has new chunks to write.
    with contextlib.suppress(OSError), (small_disk / "filler").open("wb") as filler:
        while True:
            filler.write(b"\0" * 65536)
            filler.flush()
    for _ in range(3):
        register_person(REGISTRAR)
    with pytest.raises(TargetError, match="No space left on device"):
        backup_run(target)
    assert backups_on(target) == [first.backup_id]  # no manifest for the failed backup
    (small_disk / "filler").unlink()
    verify_backup(target, home_keys(), first.backup_id)
    assert not list((small_disk / "offsite").rglob(".tmp-*"))  # no half-written objects left


def test_the_plan_says_what_is_missing_and_then_what_is_in_place(node: Path, tmp_path: Path, settings: Any) -> None:
    settings.GOV21_BACKUP_TARGETS = []
    bare = io.StringIO()
    call_command("continuity", "plan", stdout=bare)
    assert "NO TARGET CONFIGURED" in bare.getvalue() and "NO RECOVERY SHEETS" in bare.getvalue()
    offsite = str(tmp_path / "offsite")
    settings.GOV21_BACKUP_TARGETS = [offsite]
    register_person(REGISTRAR)
    call_command("backup", stdout=io.StringIO())
    with pytest.raises(CommandError, match="one custodian per sheet"):
        call_command(
            *("backup", "shares", "--threshold", "2", "--shares", "3", "--out", str(tmp_path / "x")),
            *("--holder", "Only One"),
            stdout=io.StringIO(),
        )
    holders = ["Permanent Secretary, Ministry of Finance", "Auditor General", "CERT of XB"]
    call_command(
        *("backup", "shares", "--threshold", "2", "--shares", "3", "--out", str(tmp_path / "s")),
        *[arg for name in holders for arg in ("--holder", name)],
        stdout=io.StringIO(),
    )
    assert "custodian: Auditor General" in (tmp_path / "s" / "share-2-of-3.txt").read_text()
    DrillRun.objects.create(target=offsite, started_at=timezone.now(), ok=True, rpo_seconds=30, rto_seconds=20)
    settings.GOV21_BACKUP_TARGETS = [offsite, "partner:XB"]
    ready = io.StringIO()
    call_command("continuity", "plan", stdout=ready)
    text = ready.getvalue()
    assert f"Target: {offsite}" in text and "any 2 rebuild the key" in text and f"{offsite}: ok" in text
    assert "sheet 3: CERT of XB" in text
    assert "data embassy on XB's gov21 node" in text and "ask XB's operators" in text
    assert f"gov21 restore --from {offsite}" in text


@sqlite_node
def test_one_command_brings_a_bare_machine_back_from_s3_and_serves(node: Path, tmp_path: Path, s3_server: str) -> None:
    """The node is lost; on a machine that has only gov21 installed, three custodians' sheets and one
    command fetch the newest backup from S3, prove it and serve it."""
    import os
    import signal

    import boto3
    import httpx2

    from gov21.registry import services
    from gov21.registry.models import LifeEvent

    boto3.client(
        "s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    ).create_bucket(Bucket="bare")
    person = register_person(REGISTRAR)
    event = LifeEvent.objects.filter(subject=person, kind="birth").first()
    assert event is not None
    certificate = services.certificate_issue(event_id=event.pk, actor=REGISTRAR)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOV21_")}
    env.update(GOV21_S3_ENDPOINT_URL=s3_server, GOV21_S3_ACCESS_KEY_ID="t", GOV21_S3_SECRET_ACCESS_KEY="t")
    with override_s3(s3_server):
        call_command("backup", "--to", "s3://bare/xa", stdout=io.StringIO())
    sheets = tmp_path / "sheets"
    call_command("backup", "shares", "--threshold", "3", "--shares", "5", "--out", str(sheets), stdout=io.StringIO())
    chosen = sorted(sheets.iterdir())[1:4]

    bare = tmp_path / "bare-machine"  # a fresh installation: its own empty data directory
    bare.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env.update(GOV21_DATA_DIR=str(bare), GOV21_WEB_WORKERS="1")
    command = [sys.executable, "-m", "gov21.cli", "restore", "--from", "s3://bare/xa", "--to", str(tmp_path / "srv")]
    command += [arg for sheet in chosen for arg in ("--share", str(sheet))]
    command += ["--start", "--port", str(port)]
    log = tmp_path / "restore.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            while True:
                try:
                    if http.get("/readyz").status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
            verified = http.post("/api/v1/registry/verify", json={"payload": f"GOV21:{certificate.credential}"})
            assert verified.json()["status"] == "valid"
        text = log.read_text()
        assert "Integrity:" in text and "1 certificates" in text
        assert "Demo sign-ins" not in text  # a restored government gets no demo accounts
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@contextlib.contextmanager
def override_s3(url: str) -> Iterator[None]:
    from django.test import override_settings

    with override_settings(GOV21_S3_ENDPOINT_URL=url, GOV21_S3_ACCESS_KEY_ID="t", GOV21_S3_SECRET_ACCESS_KEY="t"):
        yield


def test_before_the_daily_full_copy_the_newest_backup_is_read_back(
    node: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from gov21.continuity.management.commands.backup import Command

    register_person(REGISTRAR)
    offsite = tmp_path / "offsite"
    target = DirectoryTarget(offsite)
    backup_run(target)
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    caplog.clear()
    with caplog.at_level("WARNING", logger="gov21.continuity"):
        command._verify_newest(target)
    assert not [r for r in caplog.records if r.name == "gov21.continuity"]
    blob = next(p for p in (offsite / "chunks").rglob("*") if p.is_file())
    blob.write_bytes(blob.read_bytes()[:-1] + bytes([blob.read_bytes()[-1] ^ 1]))
    with caplog.at_level("WARNING", logger="gov21.continuity"):
        command._verify_newest(target)
    assert any("is damaged" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    # The full copy that follows rewrites every chunk, and the newest backup is whole again.
    backup_run(target, full=True)
    verify_backup(target, home_keys(), backups_on(target)[0])
