"""gov21 backup of a PostgreSQL node: pg_dump's consistent copy, cut into the same sealed chunks as a
SQLite node's, restored into a new database with every check, and drilled in a scratch database.
Runs in the PostgreSQL pass of the suite."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gov21.continuity.drill import drill_run, scratch_database_url
from gov21.continuity.engine import BackupError, backup_run, home_keys, restore_run
from gov21.continuity.postgres import database_drop
from gov21.continuity.targets import DirectoryTarget
from gov21.core.principal import Principal
from tests.registry.factories import register_person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL pass covers PostgreSQL nodes"),
]
REGISTRAR = Principal(name="backup.pg.test", kind="staff", roles=frozenset({"registrar"}))


@pytest.fixture
def new_database() -> Iterator[str]:
    url = scratch_database_url()
    yield url
    database_drop(url)


def test_a_postgresql_node_backs_up_and_restores_into_a_new_database(
    node: Path, tmp_path: Path, new_database: str
) -> None:
    from gov21.registry import services
    from gov21.registry.models import LifeEvent

    person = register_person(REGISTRAR)
    event = LifeEvent.objects.filter(subject=person, kind="birth").first()
    assert event is not None
    services.certificate_issue(event_id=event.pk, actor=REGISTRAR)
    target = DirectoryTarget(tmp_path / "offsite")
    first = backup_run(target)
    assert first.counts["registry_person"] == 1 and first.counts["registry_certificate"] == 1
    register_person(REGISTRAR)
    second = backup_run(target)
    assert second.chunks_sent < second.chunks  # unchanged tables and keys are not sent again
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "offsite" / "chunks").rglob("*") if p.is_file())
    assert person.uin.encode() not in blobs and b"PGDMP" not in blobs

    with pytest.raises(BackupError, match="give --database-url"):
        restore_run(target, tmp_path / "nowhere", keys=home_keys())
    report = restore_run(target, tmp_path / "restored", keys=home_keys(), database_url=new_database)
    assert report.counts["registry_person"] == 2
    assert report.integrity["ok"] and report.integrity["certificates"] == 1
    assert not (tmp_path / "restored" / "pgdump").exists() and (tmp_path / "restored" / "keys").is_dir()
    with psycopg.connect(new_database) as conn:
        row = conn.execute("SELECT count(*) FROM registry_person WHERE uin = %s", [person.uin]).fetchone()
        assert row is not None and row[0] == 1
    # The database is no longer empty: a second restore into it is refused, and says why.
    with pytest.raises(CommandError, match="already holds tables"):
        call_command(
            *("restore", "--from", str(tmp_path / "offsite"), "--to", str(tmp_path / "again")),
            *("--database-url", new_database),
            stdout=io.StringIO(),
        )


def test_a_drill_of_a_postgresql_backup_uses_a_scratch_database_and_drops_it(
    node: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gov21.continuity import drill
    from gov21.registry import services
    from gov21.registry.models import LifeEvent

    person = register_person(REGISTRAR)
    event = LifeEvent.objects.filter(subject=person, kind="birth").first()
    assert event is not None
    services.certificate_issue(event_id=event.pk, actor=REGISTRAR)
    target = DirectoryTarget(tmp_path / "offsite")
    backup_run(target)
    # Other workers may drill at the same moment on the same server: follow this drill's own database.
    used: list[str] = []

    def scratch_url_recorded() -> str:
        used.append(scratch_database_url())
        return used[-1]

    monkeypatch.setattr(drill, "scratch_database_url", scratch_url_recorded)
    run = drill_run(target, keys=home_keys())
    assert run.ok, run.detail
    assert run.detail["checks"]["person_read"] == "ok" and run.detail["checks"]["certificate_verify"] == "ok"
    assert "cleanup" not in run.detail
    assert len(used) == 1
    server, name = used[0].rsplit("/", 1)
    with psycopg.connect(server + "/postgres") as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone()
    assert left is not None and left[0] == 0
