"""What a restore refuses and what it brings back, proved on the engine the suite runs on (CI runs the
suite on SQLite, then on PostgreSQL): a corrupted chunk, a wrong master key, a truncated manifest,
another node's keys, a rewritten log, and a restore to a moment in time. A PostgreSQL node's backup
is restored into new databases on the same server, dropped afterwards."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gov21.continuity.engine import BackupError, HomeKeys, backup_run, backup_time, home_keys, restore_run
from gov21.continuity.targets import DirectoryTarget
from gov21.core.principal import Principal
from tests.continuity.conftest import NewDatabase
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db(transaction=True)
REGISTRAR = Principal(name="restore.test", kind="staff", roles=frozenset({"registrar"}))


def _manifest_chunks(offsite: Path, backup_id: str) -> list[str]:
    manifest = json.loads((offsite / "manifests" / f"{backup_id}.json").read_text())
    return [chunk for entry in manifest["files"] for chunk in entry["chunks"]]


def test_corruption_a_wrong_key_and_a_foreign_backup_are_refused(
    node: Path, tmp_path: Path, new_database: NewDatabase
) -> None:
    register_person(REGISTRAR)
    offsite = tmp_path / "offsite"
    target = DirectoryTarget(offsite)
    good = backup_run(target)
    register_person(REGISTRAR)
    newest = backup_run(target)
    keys = home_keys()

    # A flipped byte in a chunk that only the newest backup has.
    old_chunks = set(_manifest_chunks(offsite, good.backup_id))
    new_only = [c for c in _manifest_chunks(offsite, newest.backup_id) if c not in old_chunks]
    blob = offsite / "chunks" / new_only[0][:2] / new_only[0]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    with pytest.raises(BackupError) as info:
        restore_run(target, tmp_path / "r1", keys=keys, database_url=new_database())
    assert "fails its integrity check" in info.value.detail
    assert f"The newest intact older backup is {good.backup_id}" in info.value.detail

    # A wrong master key.
    stranger = HomeKeys(master=b"\x01" * 32, jwks=keys.jwks)
    with pytest.raises(BackupError, match="another master key"):
        restore_run(target, tmp_path / "r2", keys=stranger, backup_id=good.backup_id, database_url=new_database())

    # The older backup is whole, and restores.
    report = restore_run(target, tmp_path / "r0", keys=keys, backup_id=good.backup_id, database_url=new_database())
    assert report.counts["registry_person"] == 1 and report.integrity["ok"]

    # A manifest that is truncated after signing.
    manifest = offsite / "manifests" / f"{good.backup_id}.json"
    manifest.write_bytes(manifest.read_bytes()[:-10])
    with pytest.raises(BackupError, match="altered or truncated"):
        restore_run(target, tmp_path / "r3", keys=keys, backup_id=good.backup_id, database_url=new_database())

    # Another node's signing keys do not accept our manifests.
    other = HomeKeys(master=keys.master, jwks={"keys": []})
    with pytest.raises(BackupError, match="not signed by this node"):
        restore_run(target, tmp_path / "r4", keys=other, backup_id=newest.backup_id, database_url=new_database())


def test_a_restore_proves_chains_and_certificates_and_refuses_a_tampered_log(
    node: Path, tmp_path: Path, exchange: None, new_database: NewDatabase
) -> None:
    from gov21.exchange.contracts import exchange_call
    from gov21.registry.models import LifeEvent
    from gov21.registry.services import certificate_issue

    person = register_person(REGISTRAR)
    event = LifeEvent.objects.filter(subject=person).first()
    assert event is not None
    certificate_issue(event_id=event.pk, actor=REGISTRAR)
    read = exchange_call(
        client="XA/GOV/MSD/benefits",
        service="XA/GOV/CRO/civil-registry/persons",
        path=f"/{person.uin}",
        issue="benefit case 7",
    )
    assert read.status == 200
    target = DirectoryTarget(tmp_path / "offsite")
    good = backup_run(target)

    report = restore_run(target, tmp_path / "r1", keys=home_keys(), database_url=new_database())
    assert report.integrity["ok"] and report.integrity["certificates"] == 1
    assert {row["chain"].split(":")[0] for row in report.integrity["chains"]} == {"access", "log", "uses"}
    assert all(row["ok"] and row["entries"] > 0 for row in report.integrity["chains"])

    # Someone with access to the database rewrites who read the record; the next backup carries it.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE exchange_logentry SET issue = 'nothing to see' WHERE issue = 'benefit case 7'")
    backup_run(target)
    with pytest.raises(BackupError) as info:
        restore_run(target, tmp_path / "r2", keys=home_keys(), database_url=new_database())
    assert info.value.code == "integrity_failed"
    assert "chain log:" in info.value.detail and "content does not match its hash" in info.value.detail
    assert f"The newest intact older backup is {good.backup_id}" in info.value.detail


def _restore_command(offsite: Path, into: Path, at: str, database_url: str | None) -> str:
    output = io.StringIO()
    options = ["--database-url", database_url] if database_url else []
    call_command("restore", "--from", str(offsite), "--to", str(into), "--at", at, *options, stdout=output)
    return output.getvalue()


def test_restore_at_a_time_brings_back_the_newest_backup_taken_by_then(
    node: Path, tmp_path: Path, new_database: NewDatabase
) -> None:
    register_person(REGISTRAR)
    offsite = tmp_path / "offsite"
    target = DirectoryTarget(offsite)
    first = backup_run(target)
    register_person(REGISTRAR)
    second = backup_run(target)
    between = backup_time(second.backup_id) - timedelta(microseconds=1)
    assert backup_time(first.backup_id) <= between

    output = _restore_command(offsite, tmp_path / "then", between.isoformat(), new_database())
    assert f"Restored {first.backup_id}" in output and "Integrity: " in output
    assert "registry_person 1" in output
    output = _restore_command(offsite, tmp_path / "now", backup_time(second.backup_id).isoformat(), new_database())
    assert f"Restored {second.backup_id}" in output and "registry_person 2" in output
    with pytest.raises(CommandError, match="No backup was taken at or before"):
        before = (backup_time(first.backup_id) - timedelta(days=1)).isoformat()
        _restore_command(offsite, tmp_path / "never", before, new_database())
    with pytest.raises(CommandError, match="no time zone"):
        _restore_command(offsite, tmp_path / "x", "2026-01-01", new_database())
