"""The native PostgreSQL path on real servers started here: a streaming replica and its reported lag,
and point-in-time recovery from archived WAL.

The servers are this module's own (never the shared one on 5432), run as the postgres OS user in a
directory under /tmp, each on a free loopback port. Each postmaster runs under `timeout`, so it stops
by itself even if this process is killed before its finally blocks run.
"""

from __future__ import annotations

import contextlib
import io
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from gov21.continuity.postgres import (
    StandbyStatus,
    basebackup,
    native_status_lines,
    pg_bindir,
    pg_command,
    pitr_prepare,
    replicas_status,
    standby_status,
)
from gov21.core.errors import DomainError


def _missing() -> str | None:
    if shutil.which("runuser") is None:
        return "runuser is not installed"
    if os.geteuid() != 0:
        return "runuser needs root to start PostgreSQL as the postgres OS user"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no postgres OS user"
    try:
        pg_bindir()
    except DomainError as error:
        return error.detail
    return None


if (_reason := _missing()) is not None:
    pytest.skip(f"native PostgreSQL continuity tests skipped: {_reason}", allow_module_level=True)

pytestmark = [pytest.mark.xdist_group("postgres_native"), pytest.mark.timeout(120)]

PG_USER = "postgres"
LIFETIME_S = 150  # the longest any server started here may live, whatever happens to this process
READY_S = 30


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until(what: str, check: Callable[[], bool], *, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {within:.0f} s")


def _as_postgres(program: str, *args: str, timeout: float = 60) -> None:
    subprocess.run(pg_command(program, *args, run_as=PG_USER), check=True, capture_output=True, timeout=timeout)


@dataclass
class Server:
    name: str
    data: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres", connect_timeout=3, autocommit=True
        )

    def one(self, sql: str) -> Any:
        with self.connect() as conn:
            row = conn.execute(sql.encode()).fetchone()
            assert row is not None
            return row[0]

    def rows(self, table: str) -> int:
        """How many rows ``table`` holds; -1 while the table has not arrived (on a replica)."""
        try:
            return int(self.one(f"SELECT count(*) FROM {table}"))
        except psycopg.errors.UndefinedTable:
            return -1

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                _as_postgres("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "20", timeout=30)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self.proc.poll() is None:  # pg_ctl could not stop it: immediate shutdown of the postmaster
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((self.data / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@dataclass
class Lab:
    root: Path
    archive: Path
    servers: list[Server] = field(default_factory=list)

    def start(self, name: str, data: Path) -> Server:
        port = _free_port()
        log = self.root / f"{name}.log"
        argv = pg_command(
            "postgres",
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.root}",
            "-c",
            f"cluster_name={name}",  # also the application_name a standby reports to its primary
            run_as=PG_USER,
        )
        # `timeout` sends SIGINT (fast shutdown) after LIFETIME_S, SIGKILL 10 s later if need be.
        argv = [*argv[:4], "timeout", "-s", "INT", "-k", "10", str(LIFETIME_S), *argv[4:]]
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        server = Server(name=name, data=data, port=port, log=log, proc=proc)
        self.servers.append(server)

        def answers() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited: {log.read_text()[-2000:]}")
            try:
                server.one("SELECT 1")
            except psycopg.OperationalError:
                return False
            return True

        _until(f"{name} accepts connections", answers, within=READY_S)
        return server


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    postgres = pwd.getpwnam(PG_USER)
    root = Path(tempfile.mkdtemp(prefix="gov21-pg-", dir="/tmp"))
    lab = Lab(root=root, archive=root / "wal-archive")
    try:
        lab.archive.mkdir()
        for path in (root, lab.archive):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
            path.chmod(0o700)
        yield lab
    finally:
        for server in reversed(lab.servers):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def primary(lab: Lab) -> Server:
    data = lab.root / "primary"
    _as_postgres("initdb", "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            "wal_level = replica\n"
            "max_wal_senders = 5\n"
            "archive_mode = on\n"
            f"archive_command = 'test ! -f {lab.archive}/%f && cp %p {lab.archive}/%f'\n"
        )
    (data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "local replication all trust\n"
        "host all all 127.0.0.1/32 trust\n"
        "host replication all 127.0.0.1/32 trust\n"
    )
    return lab.start("gov21_primary", data)


@pytest.fixture(scope="module")
def replica(lab: Lab, primary: Server) -> Server:
    data = basebackup(
        host="127.0.0.1",
        port=primary.port,
        user=PG_USER,
        into=lab.root / "replica",
        fast_checkpoint=True,
        run_as=PG_USER,
    )
    assert (data / "standby.signal").exists()
    return lab.start("gov21_replica", data)


@pytest.fixture
def alias(django_db_blocker: Any) -> Iterator[Callable[[dict[str, Any]], str]]:
    """Django connection aliases made for one test (the suite's own database is not touched)."""
    made: list[str] = []

    def make(params: dict[str, Any]) -> str:
        name = f"native_{len(made)}"
        connections.settings[name] = connections.configure_settings({"default": params})["default"]
        made.append(name)
        return name

    with django_db_blocker.unblock():
        try:
            yield make
        finally:
            for name in made:
                connections[name].close()
                del connections[name]
                del connections.settings[name]


def _pg(server: Server) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": PG_USER,
        "HOST": "127.0.0.1",
        "PORT": str(server.port),
        "OPTIONS": {"connect_timeout": 3},
    }


def test_rows_stream_to_the_replica_and_its_lag_is_reported(
    primary: Server, replica: Server, alias: Callable[[dict[str, Any]], str]
) -> None:
    on_primary, on_replica = alias(_pg(primary)), alias(_pg(replica))
    with primary.connect() as conn:
        conn.execute("CREATE TABLE streamed (id bigserial PRIMARY KEY, note text NOT NULL)")
        conn.execute("INSERT INTO streamed (note) SELECT 'first ' || g FROM generate_series(1, 100) g")
    _until("the first rows on the replica", lambda: replica.rows("streamed") == 100, within=10)

    lag_s: list[float] = []
    lag_bytes: list[int] = []
    with primary.connect() as writer:
        load_ends = time.monotonic() + 3
        while time.monotonic() < load_ends:
            writer.execute("INSERT INTO streamed (note) SELECT repeat('x', 200) FROM generate_series(1, 200)")
            [seen] = replicas_status(using=on_primary)
            if seen.replay_lag_seconds is not None:
                lag_s.append(seen.replay_lag_seconds)
            if seen.replay_lag_bytes is not None:
                lag_bytes.append(seen.replay_lag_bytes)
        written = writer.execute("SELECT count(*) FROM streamed").fetchone()

    assert (seen.application_name, seen.client_addr, seen.state, seen.sync_state) == (
        "gov21_replica",
        "127.0.0.1",
        "streaming",
        "async",
    )
    assert lag_s and lag_bytes, "PostgreSQL reported no replay lag while rows were being written"
    lag_s.sort()
    print(
        f"\nreplay lag under load over {len(lag_s)} samples: median {lag_s[len(lag_s) // 2] * 1000:.2f} ms,"
        f" max {lag_s[-1] * 1000:.2f} ms; bytes behind: max {max(lag_bytes)}"
    )
    assert lag_s[-1] < 5
    assert written is not None
    _until("the replica catching up", lambda: replica.rows("streamed") == written[0], within=10)
    _until("no byte left to replay", lambda: replicas_status(using=on_primary)[0].replay_lag_bytes == 0, within=10)

    lines = native_status_lines(using=on_primary)
    assert lines[0] == "PostgreSQL primary: 1 replica(s) streaming"
    assert lines[1].startswith("- gov21_replica (127.0.0.1) streaming, async: replay lag ")
    assert lines[1].endswith(" 0 bytes")

    standby = standby_status(using=on_replica)
    assert standby is not None and standby.in_recovery
    assert standby.replay_delay_seconds is not None and standby.replay_delay_seconds < 30
    assert native_status_lines(using=on_replica)[0].startswith("PostgreSQL standby: last transaction replayed ")
    assert replicas_status(using=on_replica) == []
    assert standby_status(using=on_primary) == StandbyStatus(
        in_recovery=False, replay_delay_seconds=None, pending_bytes=None
    )


def test_point_in_time_recovery_stops_at_the_time_asked(lab: Lab, primary: Server) -> None:
    base = basebackup(
        host="127.0.0.1", port=primary.port, user=PG_USER, into=lab.root / "base", fast_checkpoint=True, run_as=PG_USER
    )
    with primary.connect() as conn:
        conn.execute("CREATE TABLE ledger (batch text NOT NULL, n int NOT NULL)")
        conn.execute("INSERT INTO ledger SELECT 'A', g FROM generate_series(1, 25) g")
        time.sleep(0.2)
        row = conn.execute("SELECT clock_timestamp()").fetchone()  # the primary's clock stamps commits
        assert row is not None
        at = row[0]
        time.sleep(0.2)
        conn.execute("INSERT INTO ledger SELECT 'B', g FROM generate_series(1, 25) g")
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
        assert segment is not None

        def archived() -> bool:
            done = conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()
            return done is not None and done[0] is not None and done[0] >= segment[0]

        _until(f"WAL segment {segment[0]} archived", archived, within=20)

    with pytest.raises(DomainError, match="time zone"):
        pitr_prepare(base=base, wal_archive=lab.archive, into=lab.root / "pitr", at=at.replace(tzinfo=None))
    with pytest.raises(CommandError, match="needs --pg-base, --wal-archive and --at"):
        call_command("restore", "--pg-base", str(base), "--to", str(lab.root / "pitr"))
    # The operator's way in: gov21 restore with the base backup, the archive and the moment.
    output = io.StringIO()
    call_command(
        "restore",
        *("--pg-base", str(base), "--wal-archive", str(lab.archive), "--to", str(lab.root / "pitr")),
        *("--at", at.isoformat(), "--owner", PG_USER),
        stdout=output,
    )
    assert "replays the archive up to" in output.getvalue()
    restored = lab.root / "pitr"
    assert (restored / "recovery.signal").exists() and not (restored / "standby.signal").exists()
    assert (base / "standby.signal").exists(), "the base backup itself stays as it was"

    server = lab.start("gov21_pitr", restored)
    _until("the restored copy promoted", lambda: server.one("SELECT NOT pg_is_in_recovery()"), within=30)
    with server.connect() as conn:
        batches = dict(conn.execute("SELECT batch, count(*) FROM ledger GROUP BY batch").fetchall())
        conn.execute("INSERT INTO ledger VALUES ('after restore', 1)")  # promoted: it takes writes
    assert batches == {"A": 25}
    assert primary.one("SELECT count(*) FROM ledger") == 50, "the primary keeps both batches"


def test_on_sqlite_the_native_path_does_not_apply(tmp_path: Path, alias: Callable[[dict[str, Any]], str]) -> None:
    embedded = alias({"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "node.sqlite3")})
    assert replicas_status(using=embedded) == []
    assert standby_status(using=embedded) is None
    assert native_status_lines(using=embedded) == [
        "PostgreSQL replication: does not apply (this node runs on SQLite; gov21 backup covers it)."
    ]
