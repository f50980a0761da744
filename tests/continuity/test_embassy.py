"""The data embassy: a partner government's gov21 keeps our sealed backups through the exchange.

In-process, a node that is its own partner exercises the service and the target over the real
gateway path. Across processes, two instances (XA and XB) that trust each other: XA backs up into
XB's embassy, a drill brings XA back from there and serves, and XB's operator can carry the folder
out on a disk for a restore that needs no network at all."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gov21.continuity.embassy import guest_folder
from gov21.continuity.engine import backup_run, backups_on, home_keys, prune, restore_run
from gov21.continuity.targets import PartnerTarget, TargetError, target_from
from gov21.core.principal import Principal
from gov21.exchange.contracts import exchange_call
from tests.continuity.conftest import NewDatabase, forget_key_stores
from tests.exchange.twonodes import Deployment, sqlite_nodes, trust_each_other
from tests.registry.factories import register_person

REGISTRAR = Principal(name="embassy.test", kind="staff", roles=frozenset({"registrar"}))
STORE = "XA/GOV/EXCHANGE/data-embassy/store"
GUEST = "XA/GOV/EXCHANGE/data-embassy"


@pytest.fixture
def own_embassy(tmp_path: Path, settings: object, transactional_db: None) -> Iterator[Path]:
    """This node lends its embassy to itself: the whole path through the gateway, one process. The
    data directory is set before the exchange is, so the node's keys and certificates agree."""
    from gov21.exchange import node, provider, setup
    from gov21.exchange.services import right_grant

    def forget() -> None:
        forget_key_stores()
        node._node_cache.clear()
        node.CONFS.clear()
        provider._address_cache.clear()

    data = tmp_path / "node"
    data.mkdir()
    settings.DATA_DIR = data  # type: ignore[attr-defined]
    forget()
    setup.bootstrap()
    right_grant(service=STORE, subject=GUEST, method="*", path="/**", by="test")
    yield data
    forget()


@pytest.mark.django_db(transaction=True)
def test_a_backup_goes_through_the_exchange_into_the_embassy_and_comes_back(
    own_embassy: Path, tmp_path: Path, new_database: NewDatabase
) -> None:
    register_person(REGISTRAR)
    target = target_from("partner:XA")
    assert isinstance(target, PartnerTarget)
    first = backup_run(target)
    register_person(REGISTRAR)
    second = backup_run(target_from("partner:XA"))
    assert second.chunks_sent < second.chunks  # the embassy's inventory spares what it holds
    folder = guest_folder(GUEST)
    assert (folder / "manifests" / f"{first.backup_id}.json").exists()
    blobs = b"".join(p.read_bytes() for p in (folder / "chunks").rglob("*") if p.is_file())
    assert b"SQLite format" not in blobs and b"PGDMP" not in blobs and b"registry_person" not in blobs

    assert backups_on(target) == [second.backup_id, first.backup_id]
    report = restore_run(target_from("partner:XA"), tmp_path / "back", keys=home_keys(), database_url=new_database())
    assert report.backup_id == second.backup_id and report.counts["registry_person"] == 2
    assert report.integrity["ok"]
    doomed, removed = prune(target_from("partner:XA"), keep=1)
    assert doomed == [first.backup_id] and removed > 0


@pytest.mark.django_db(transaction=True)
def test_the_embassy_refuses_what_is_not_a_backup_object_and_strangers(own_embassy: Path) -> None:
    def call(method: str, path: str, client: str = GUEST, body: bytes = b"") -> tuple[int, str]:
        result = exchange_call(client=client, service=STORE, method=method, path=path, body=body, issue="test")
        return result.status, result.error or (result.body.decode(errors="replace"))

    # Dot segments never reach the embassy: the exchange refuses an ambiguous path itself.
    assert call("PUT", "/objects/../../secret_key", body=b"x") == (400, "Client.BadRequest")
    assert call("PUT", "/objects/keys/registry/private.pem", body=b"x")[0] == 422
    assert call("GET", "/list/../keys") == (400, "Client.BadRequest")
    assert call("GET", "/list/keys")[0] == 422
    status, text = call("GET", f"/objects/chunks/ab/{'ab' * 32}")
    assert status == 404 and "No object" in text
    assert call("POST", "/objects/manifests/x.json", body=b"{}")[0] == 405
    status, text = call("GET", "/inventory", client="XA/GOV/STATS/statistics")
    assert "AccessDenied" in text
    with pytest.raises(TargetError, match="is missing"):
        PartnerTarget("partner:XA").get("manifests/none.json")
    with pytest.raises(TargetError, match="name the partner"):
        target_from("partner:../XB")


@pytest.mark.django_db(transaction=True)
def test_a_full_embassy_says_so(own_embassy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_EMBASSY_QUOTA_GB", "0")
    with pytest.raises(TargetError, match="they are full"):
        PartnerTarget("partner:XA").put(f"chunks/ab/{'ab' * 32}", b"sealed")
    assert not (guest_folder(GUEST) / "chunks" / "ab").exists()


# --- two governments --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partners() -> Iterator[tuple[Deployment, Deployment]]:
    xa, xb = Deployment("XA"), Deployment("XB")
    try:
        xa.create_directory(people=40)
        xb.create_directory()
        xa.serve()
        xb.serve()
        trust_each_other(xa, xb)
        # XB lends its embassy to XA's backup system, and nothing else of XA's.
        xb.gov21(
            *("exchange", "right", "grant", "XB/GOV/EXCHANGE/data-embassy/store", "XA/GOV/EXCHANGE/data-embassy"),
        )
        yield xa, xb
    finally:
        xa.stop()
        xb.stop()


def _until_trusted(xa: Deployment) -> str:
    """A newly trusted partner is admitted within seconds (each node re-reads its configuration)."""
    deadline = time.monotonic() + 40
    while True:
        try:
            return xa.gov21("backup", "--to", "partner:XB")
        except RuntimeError as error:
            if "NetworkError" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(1)


@pytest.mark.xdist_group("nodes")
@sqlite_nodes
# Two whole deployments (each a platform, a client, a TLS client and a node listener), a backup, a
# drill and a restore: more than the default five minutes on a busy shared machine.
@pytest.mark.timeout(900)
def test_a_neighbour_keeps_our_backup_and_a_drill_brings_us_back_from_it(
    partners: tuple[Deployment, Deployment], tmp_path: Path
) -> None:
    xa, xb = partners
    sent = _until_trusted(xa)
    assert "→ partner:XB" in sent
    folder = xb.root / "embassy" / "XA__GOV__EXCHANGE__data-embassy"
    manifests = sorted((folder / "manifests").glob("*.json"))
    assert manifests, "XB holds XA's manifest"
    blobs = b"".join(p.read_bytes() for p in (folder / "chunks").rglob("*") if p.is_file())
    assert b"SQLite format" not in blobs, "XB cannot read what it keeps"

    # The drill brings XA back from XB into a scratch directory, starts it and checks it serves.
    drill = xa.gov21("continuity", "drill", "--from", "partner:XB", timeout=300)
    assert "drill ok" in drill and "person_read ok" in drill, drill

    # XA's machine is lost; XB's operator carries the folder out on a disk. With XA's key file, a
    # bare machine restores from it and the node proves every chain and certificate.
    keyfile = tmp_path / "xa-keys.json"
    xa.gov21("backup", "export-keys", str(keyfile))
    bare = Deployment("XA")
    restored = bare.gov21(
        *("restore", "--from", str(folder), "--to", str(tmp_path / "xa-again"), "--keys", str(keyfile)), timeout=300
    )
    assert "Integrity:" in restored and "verify against the" in restored, restored
    assert "registry_person" in restored

    # XB records every use of its embassy in its own message log, as any exchange call.
    logged = xb.py(
        """
        from gov21.exchange.models import LogEntry
        print(LogEntry.objects.filter(service="XB/GOV/EXCHANGE/data-embassy/store", role="provider").count())
        """
    )
    assert int(logged.split()[-1]) >= len(manifests) * 2


def test_the_command_names_the_partner_target(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="partner:XB"):
        call_command("restore", "--to", str(tmp_path / "x"), stdout=io.StringIO())
