"""The native PostgreSQL continuity path: a streaming replica whose lag we report, and point-in-time
recovery from a base backup plus archived WAL (decision 0009).

Between gov21's own sealed backups (decision 0006, for which this module also runs pg_dump and
pg_restore), a PostgreSQL node is kept by PostgreSQL's own tools; this module reads their state for
`gov21 continuity status` and wraps the commands an operator runs, so that the runbook and the tests
run exactly the same steps.
"""

from __future__ import annotations

import functools
import os
import pwd
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connections

from gov21.core.config import child_environment
from gov21.core.errors import DomainError

# Settings that make a data directory follow a primary; a point-in-time copy must not keep them.
_STANDBY_SETTINGS = re.compile(r"^\s*(primary_conninfo|primary_slot_name)\s*=", re.IGNORECASE)


@dataclass(frozen=True)
class ReplicaLag:
    """One standby streaming from this primary, as `pg_stat_replication` shows it.

    Every field but ``pid`` is None when the database user may not see the details (grant it
    ``pg_monitor``). ``replay_lag_seconds`` is also None when the standby has caught up and no WAL
    has been written for a while: PostgreSQL then stops measuring, and ``replay_lag_bytes`` is 0.
    """

    pid: int
    application_name: str | None
    client_addr: str | None
    state: str | None
    sync_state: str | None
    replay_lag_seconds: float | None
    replay_lag_bytes: int | None


@dataclass(frozen=True)
class StandbyStatus:
    """The configured database seen from inside: is it a standby, and how far behind is it?

    ``replay_delay_seconds`` is the age of the last transaction replayed (``now() -
    pg_last_xact_replay_timestamp()``); it also grows while the primary is idle, so read it with
    ``pending_bytes`` (WAL received but not yet replayed).
    """

    in_recovery: bool
    replay_delay_seconds: float | None
    pending_bytes: int | None


def _vendor(using: str) -> str:
    return str(connections[using].vendor)


def _query(using: str, sql: str) -> list[tuple[object, ...]]:
    try:
        with connections[using].cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())
    except DatabaseError as error:
        raise DomainError(
            "postgres_unreadable",
            f"Could not read replication state from the database {using!r}: {error}".strip(),
            status=503,
        ) from error


def _seconds(value: object) -> float | None:
    return None if value is None else float(str(value))


def _bytes(value: object) -> int | None:
    return None if value is None else int(str(value))


def replicas_status(*, using: str = "default") -> list[ReplicaLag]:
    """The standbys streaming from this primary; empty on SQLite, or when none is connected."""
    if _vendor(using) != "postgresql":
        return []
    rows = _query(
        using,
        """
        SELECT pid, application_name, host(client_addr), state, sync_state,
               EXTRACT(EPOCH FROM replay_lag),
               CASE WHEN pg_is_in_recovery() OR replay_lsn IS NULL THEN NULL
                    ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) END
        FROM pg_stat_replication
        ORDER BY application_name, pid
        """,
    )
    return [
        ReplicaLag(
            pid=int(str(pid)),
            application_name=None if name is None else str(name),
            client_addr=None if addr is None else str(addr),
            state=None if state is None else str(state),
            sync_state=None if sync is None else str(sync),
            replay_lag_seconds=_seconds(lag),
            replay_lag_bytes=_bytes(lag_bytes),
        )
        for pid, name, addr, state, sync, lag, lag_bytes in rows
    ]


def standby_status(*, using: str = "default") -> StandbyStatus | None:
    """The configured database's own recovery state; None on SQLite."""
    if _vendor(using) != "postgresql":
        return None
    [(in_recovery, delay, pending)] = _query(
        using,
        """
        SELECT pg_is_in_recovery(),
               EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()),
               pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
        """,
    )
    return StandbyStatus(
        in_recovery=bool(in_recovery),
        replay_delay_seconds=_seconds(delay) if in_recovery else None,
        pending_bytes=_bytes(pending) if in_recovery else None,
    )


def native_status_lines(*, using: str = "default") -> list[str]:
    """What `gov21 continuity status` prints about the native path, one line each."""
    if _vendor(using) != "postgresql":
        return ["PostgreSQL replication: does not apply (this node runs on SQLite; gov21 backup covers it)."]
    standby = standby_status(using=using)
    if standby is not None and standby.in_recovery:
        delay = "none replayed yet" if standby.replay_delay_seconds is None else f"{standby.replay_delay_seconds:.3f} s"
        return [
            f"PostgreSQL standby: last transaction replayed {delay} ago, "
            f"{standby.pending_bytes or 0} bytes received and not yet replayed "
            "(the delay also grows while the primary is idle)."
        ]
    replicas = replicas_status(using=using)
    if not replicas:
        return [
            "PostgreSQL primary: NO REPLICA connected; the newest base backup plus archived WAL is all"
            " there is (docs/operations.md)."
        ]
    lines = [f"PostgreSQL primary: {len(replicas)} replica(s) streaming"]
    for replica in replicas:
        name = replica.application_name or f"pid {replica.pid}"
        if replica.state is None:
            lines.append(f"- {name}: details hidden from this database user (GRANT pg_monitor TO it)")
            continue
        if replica.replay_lag_seconds is None:
            seconds = "idle, caught up" if replica.replay_lag_bytes == 0 else "not measured yet"
        else:
            seconds = f"{replica.replay_lag_seconds:.3f} s"
        lines.append(
            f"- {name} ({replica.client_addr or 'local socket'}) {replica.state}, {replica.sync_state}:"
            f" replay lag {seconds}, {replica.replay_lag_bytes if replica.replay_lag_bytes is not None else '?'} bytes"
        )
    return lines


# --- The commands an operator runs ------------------------------------------------------------------


@functools.cache
def pg_bindir() -> Path:
    """Where the PostgreSQL server programs are: `pg_config --bindir`, else the newest
    /usr/lib/postgresql/*/bin (Debian puts only wrappers on PATH)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            found = subprocess.run(  # noqa: S603 - fixed arguments, no shell
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(found.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for bindir in candidates:
        if (bindir / "pg_basebackup").is_file() and (bindir / "postgres").is_file():
            return bindir
    raise DomainError(
        "postgres_binaries_missing",
        "PostgreSQL's server programs were not found (neither `pg_config --bindir` nor /usr/lib/postgresql/*/bin):"
        " install the PostgreSQL server package.",
    )


def pg_command(program: str, *args: str, run_as: str | None = None) -> list[str]:
    """The argv for one PostgreSQL program; as another OS user through runuser when ``run_as`` is set
    (PostgreSQL refuses to run its server as root)."""
    argv = [str(pg_bindir() / program), *args]
    if run_as is None:
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        raise DomainError("runuser_missing", f"Cannot run {program} as {run_as}: runuser is not installed.")
    return [runuser, "-u", run_as, "--", *argv]


def _run(argv: list[str], *, what: str, timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - list argv, no shell
            argv, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise DomainError("postgres_command_timeout", f"{what} did not finish within {timeout:.0f} s.") from error
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise DomainError("postgres_command_failed", f"{what} failed: {' / '.join(tail) or done.returncode}")
    return done.stdout


def _must_be_empty(into: Path) -> None:
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise DomainError(
            "postgres_target_not_empty",
            f"{into} already exists and is not empty: choose a new directory.",
            field="into",
        )


def basebackup(
    *,
    host: str,
    port: int,
    user: str,
    into: Path,
    password: str | None = None,
    replica: bool = True,
    fast_checkpoint: bool = False,
    run_as: str | None = None,
    timeout: float = 3600,
) -> Path:
    """Copy a running primary into ``into`` with `pg_basebackup -X stream` (plain format).

    With ``replica`` (the default) it also writes `standby.signal` and `primary_conninfo` (`-R`), so
    starting PostgreSQL on ``into`` makes a streaming replica; kept unstarted, the same directory is a
    base backup for `pitr_prepare`. ``fast_checkpoint`` starts at once instead of spreading the
    checkpoint's I/O. The password, if any, travels in the environment, never on the command line;
    note that `-R` writes it into `postgresql.auto.conf`.
    """
    _must_be_empty(into)
    args = ["-h", host, "-p", str(port), "-U", user, "-D", str(into), "-X", "stream", "--no-password"]
    if replica:
        args.append("-R")
    if fast_checkpoint:
        args.append("--checkpoint=fast")
    env = child_environment(PGCONNECT_TIMEOUT="10")
    if password is not None:
        env["PGPASSWORD"] = password
    _run(pg_command("pg_basebackup", *args, run_as=run_as), what="pg_basebackup", timeout=timeout, env=env)
    return into


def _conf(value: str) -> str:
    """A postgresql.conf string literal."""
    return "'" + value.replace("'", "''") + "'"


def pitr_prepare(
    *,
    base: Path,
    wal_archive: Path,
    into: Path,
    at: datetime,
    owner: str | None = None,
    archiving: bool = False,
) -> Path:
    """Lay out in ``into`` a data directory that, when started, replays ``wal_archive`` on top of the
    base backup ``base`` up to the time ``at`` and then promotes itself to a read-write primary.

    ``base`` is left untouched (it may serve again). Archiving is switched off in the copy unless
    ``archiving`` is set, so that a drill does not write into the live archive; turn it on once the
    copy becomes the new primary. ``owner`` (when run as root) hands the copy to that OS user.
    """
    if at.tzinfo is None:
        raise DomainError(
            "pitr_time_naive", "Give the recovery time with its time zone (e.g. 2025-01-31T14:05:00+00:00).", field="at"
        )
    if not (base / "PG_VERSION").is_file():
        raise DomainError(
            "pitr_base_missing", f"{base} is not a plain-format base backup (no PG_VERSION).", field="base"
        )
    if not wal_archive.is_dir():
        raise DomainError(
            "pitr_archive_missing", f"The WAL archive {wal_archive} is not a directory.", field="wal_archive"
        )
    try:
        account = None if owner is None else pwd.getpwnam(owner)
    except KeyError as error:
        raise DomainError(
            "pitr_owner_unknown", f"There is no OS user {owner!r} to own {into}.", field="owner"
        ) from error
    _must_be_empty(into)
    if into.exists():
        into.rmdir()
    shutil.copytree(base, into, symlinks=True)
    for stale in ("standby.signal", "postmaster.pid", "postmaster.opts"):
        (into / stale).unlink(missing_ok=True)
    auto = into / "postgresql.auto.conf"
    kept = (
        [line for line in auto.read_text().splitlines() if not _STANDBY_SETTINGS.match(line)] if auto.exists() else []
    )
    restore = "cp " + shlex.quote(str(wal_archive.resolve())) + '/%f "%p"'
    when = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    kept += [
        f"# Point-in-time recovery laid out by gov21 on {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC",
        f"restore_command = {_conf(restore)}",
        f"recovery_target_time = {_conf(when)}",
        "recovery_target_action = 'promote'",
    ]
    if not archiving:
        kept.append("archive_mode = 'off'")
    auto.write_text("\n".join(kept) + "\n")
    (into / "recovery.signal").touch()
    into.chmod(0o700)
    if account is not None:
        os.chown(into, account.pw_uid, account.pw_gid)
        for folder, dirs, files in os.walk(into):
            for name in dirs + files:
                os.chown(Path(folder) / name, account.pw_uid, account.pw_gid, follow_symlinks=False)
    return into


# --- Logical backups: gov21 backup and restore of a PostgreSQL node --------------------------------------


def _libpq_env(database: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for Django's connection settings: no password on a command line."""
    env = {key: value for key, value in child_environment().items() if not key.startswith("PG")}
    env.update(
        PGHOST=str(database.get("HOST") or "localhost"),
        PGPORT=str(database.get("PORT") or 5432),
        PGUSER=str(database.get("USER") or ""),
        PGDATABASE=str(database["NAME"]),
    )
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    sslmode = (database.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def dump(into: Path, *, database: dict[str, Any], timeout: float = 6 * 3600) -> Path:
    """A consistent logical copy of the database (pg_dump's directory format, one file per table,
    uncompressed so that unchanged tables give unchanged chunks). One transaction: writers carry on."""
    folder = into / "pgdump"
    _run(
        pg_command(
            "pg_dump", "--format=directory", "--compress=0", "--no-owner", "--no-privileges", "--file", str(folder)
        ),
        what="pg_dump",
        timeout=timeout,
        env=_libpq_env(database),
    )
    return folder


def dump_counts(folder: Path, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows of each of ``tables`` in a directory-format dump, read from its table of contents and
    data files (one row a line in COPY's text format, ending with a line ``\\.``)."""
    listing = _run(pg_command("pg_restore", "--list", str(folder)), what="pg_restore --list", timeout=600)
    counts: dict[str, int] = {}
    for line in listing.splitlines():
        match = re.match(r"(\d+); \d+ \d+ TABLE DATA public (\S+) ", line)
        if match and match.group(2) in tables:
            rows = 0
            with (folder / f"{match.group(1)}.dat").open("rb") as data:
                for row in data:
                    if row == b"\\.\n":
                        break
                    rows += 1
            counts[match.group(2)] = rows
    return counts


def database_prepare(database_url: str) -> None:
    """Make sure the database at ``database_url`` exists and holds no table, creating it if needed."""
    import psycopg
    from psycopg import sql

    try:
        params = psycopg.conninfo.conninfo_to_dict(database_url)
    except psycopg.ProgrammingError as error:
        raise DomainError("bad_database_url", f"{database_url!r} is not a PostgreSQL URL: {error}") from error
    name = str(params.get("dbname") or "")
    if not name:
        raise DomainError("bad_database_url", "Name the database in the URL, as in postgresql://host/gov21.")
    maintenance = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(database_url, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
    except psycopg.Error as error:
        raise DomainError("database_unreachable", f"Cannot prepare {name}: {error}".strip()) from error
    if row and row[0]:
        raise DomainError("database_not_empty", f"The database {name} already holds tables; restore into an empty one.")


def database_drop(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    name = str(psycopg.conninfo.conninfo_to_dict(database_url).get("dbname") or "")
    maintenance = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def restore_dump(folder: Path, *, database_url: str, timeout: float = 6 * 3600) -> None:
    """Load a directory-format dump into the empty database at ``database_url``; stops at the first error."""
    _run(
        pg_command(
            "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", database_url, str(folder)
        ),
        what="pg_restore",
        timeout=timeout,
    )


def table_counts(database_url: str, tables: tuple[str, ...]) -> dict[str, int]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url, connect_timeout=10) as conn:
        present = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        counts = {}
        for table in tables:
            if table in present:
                row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
                counts[table] = int(row[0]) if row else 0
        return counts
