from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.continuity.engine import BackupError, HomeKeys, home_keys, restore_run
from gov21.continuity.shares import keys_from_sheets
from gov21.continuity.targets import TargetError, target_from


class Command(BaseCommand):
    help = "Rebuild a gov21 data directory from a backup, checking every chunk, signature and count."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, help="Where the backups are (a directory).")
        parser.add_argument("--to", dest="into", required=True, type=Path, help="A new, empty data directory.")
        parser.add_argument("--keys", type=Path, help="The key file from `gov21 backup export-keys`.")
        parser.add_argument(
            "--share", type=Path, action="append", dest="shares", help="A recovery share sheet (repeat k times)."
        )
        parser.add_argument("--backup", help="A backup id (default: the newest).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["shares"]:
                keys = keys_from_sheets([path.read_text() for path in options["shares"]])
            elif options["keys"]:
                keys = HomeKeys.from_file(options["keys"])
            else:
                keys = home_keys()
            report = restore_run(
                target_from(options["source"]), options["into"], keys=keys, backup_id=options["backup"]
            )
        except OSError as error:
            raise CommandError(f"Cannot read a key or share file: {error}") from error
        except (BackupError, TargetError) as error:
            raise CommandError(getattr(error, "detail", str(error))) from error
        counts = ", ".join(f"{table} {count:,}" for table, count in report.counts.items())
        self.stdout.write(
            f"Restored {report.backup_id} into {options['into']} ({report.bytes:,} bytes, {report.seconds:.1f} s): "
            f"{counts}. Start it with GOV21_DATA_DIR={options['into']} gov21 up"
        )
