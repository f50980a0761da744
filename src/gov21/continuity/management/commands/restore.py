from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.continuity.engine import BackupError, HomeKeys, home_keys, restore_run
from gov21.continuity.postgres import pitr_prepare
from gov21.continuity.shares import keys_from_sheets
from gov21.continuity.targets import TargetError, target_from
from gov21.core.config import child_environment
from gov21.core.errors import DomainError


class Command(BaseCommand):
    help = "Rebuild a gov21 data directory from a backup, checking every chunk, signature and count."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="source", help="Where the backups are: a directory, s3://bucket/prefix or partner:XB."
        )
        parser.add_argument("--to", dest="into", required=True, type=Path, help="A new, empty data directory.")
        parser.add_argument("--keys", type=Path, help="The key file from `gov21 backup export-keys`.")
        parser.add_argument(
            "--share", type=Path, action="append", dest="shares", help="A recovery share sheet (repeat k times)."
        )
        parser.add_argument("--backup", help="A backup id (default: the newest).")
        parser.add_argument(
            "--at",
            type=_moment,
            help="Bring back the state as of this time (ISO 8601 with its zone): the newest backup taken by then.",
        )

        parser.add_argument(
            "--database-url",
            help="For a backup of a PostgreSQL node: the empty (or new) database to restore into, postgresql://…",
        )
        parser.add_argument(
            "--start",
            action="store_true",
            help="Once restored and proved, serve it: gov21 up on the new data directory, without demo sign-ins.",
        )
        parser.add_argument("--host", default="127.0.0.1", help="With --start: the address to serve on.")
        parser.add_argument("--port", type=int, default=8000, help="With --start: the port to serve on.")
        native = parser.add_argument_group(
            "PostgreSQL point-in-time recovery",
            "Instead of --from: a base backup from pg_basebackup and the WAL archive; --to is the new data"
            " directory and --at the moment to stop replaying at.",
        )
        native.add_argument("--pg-base", type=Path, help="A plain-format base backup (pg_basebackup -Fp).")
        native.add_argument("--wal-archive", type=Path, help="The directory archive_command copies WAL into.")
        native.add_argument("--owner", help="The OS user to own the new data directory (as root: postgres).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["pg_base"] or options["wal_archive"]:
            self._point_in_time(options)
            return
        if not options["source"]:
            raise CommandError("Say where the backups are: --from DIR, s3://bucket/prefix or partner:XB.")
        try:
            if options["shares"]:
                keys = keys_from_sheets([path.read_text() for path in options["shares"]])
            elif options["keys"]:
                keys = HomeKeys.from_file(options["keys"])
            else:
                keys = home_keys()
            report = restore_run(
                target_from(options["source"]),
                options["into"],
                keys=keys,
                backup_id=options["backup"],
                at=options["at"],
                database_url=options["database_url"],
            )
        except OSError as error:
            raise CommandError(f"Cannot read a key or share file: {error}") from error
        except (BackupError, TargetError) as error:
            raise CommandError(getattr(error, "detail", str(error))) from error
        counts = ", ".join(f"{table} {count:,}" for table, count in report.counts.items())
        integrity = report.integrity
        chains = integrity.get("chains", [])
        self.stdout.write(
            f"Restored {report.backup_id} (taken {report.created}) into {options['into']} ({report.bytes:,} bytes, "
            f"{report.seconds:.1f} s): {counts}.\n"
            f"Integrity: {len(chains)} hash chains ({sum(c['entries'] for c in chains):,} entries) intact; "
            f"{integrity.get('certificates', 0):,} certificates and {integrity.get('documents', 0):,} documents "
            f"verify against the {len(integrity.get('jwks_kids', []))} published keys.\n"
            f"Start it with GOV21_DATA_DIR={options['into']} "
            + (f"GOV21_DATABASE_URL={options['database_url']} " if options["database_url"] else "")
            + "gov21 up --no-demo"
        )
        if options["start"]:
            self.stdout.flush()
            into = Path(options["into"]).resolve()
            env = child_environment(GOV21_DATA_DIR=str(into), DJANGO_SETTINGS_MODULE="gov21.settings")
            env.pop("GOV21_DATABASE_URL", None)  # the restored node: its SQLite file, or the database named
            if options["database_url"]:
                env["GOV21_DATABASE_URL"] = options["database_url"]
            argv = [sys.executable, "-m", "gov21.cli", "up", "--no-demo"]
            os.execve(sys.executable, [*argv, "--host", options["host"], "--port", str(options["port"])], env)  # noqa: S606

    def _point_in_time(self, options: dict[str, Any]) -> None:
        if not (options["pg_base"] and options["wal_archive"] and options["at"]):
            raise CommandError("Point-in-time recovery needs --pg-base, --wal-archive and --at together.")
        try:
            into = pitr_prepare(
                base=options["pg_base"],
                wal_archive=options["wal_archive"],
                into=options["into"],
                at=options["at"],
                owner=options["owner"],
            )
        except DomainError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(
            f"Prepared {into}: started with pg_ctl, PostgreSQL replays the archive up to {options['at'].isoformat()}"
            " and then takes writes. Point GOV21_DATABASE_URL at it, then run gov21 continuity check."
        )


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time such as 2026-11-28T14:00:00+00:00") from error
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add +00:00 or the local offset")
    return moment
