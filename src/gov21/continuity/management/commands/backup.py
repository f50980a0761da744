from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.continuity.engine import (
    BackupError,
    HomeKeys,
    backup_run,
    backups_on,
    home_keys,
    prune,
    verify_backup,
)
from gov21.continuity.shares import record_shares, shares_make
from gov21.continuity.targets import TargetError, target_from


class Command(BaseCommand):
    help = "Encrypted, deduplicated backups of this node: take one, verify them, export the home keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", action="append", dest="targets", help="A directory or s3://bucket/prefix (repeat for several)."
        )
        parser.add_argument("--every", type=int, metavar="SECONDS", help="Keep backing up at this interval.")
        parser.add_argument("--keep", type=int, default=0, help="After each backup, keep only the newest N.")
        sub = parser.add_subparsers(dest="action")
        verify = sub.add_parser("verify", help="Check every backup on a target, chunk by chunk.")
        verify.add_argument("--from", dest="source", required=True)
        verify.add_argument("--keys", type=Path, help="A key file from export-keys (default: this node's keys).")
        export = sub.add_parser("export-keys", help="Write the master key and signing keys a restore needs.")
        export.add_argument("file", type=Path)
        prune_parser = sub.add_parser("prune", help="Keep the newest N backups and drop unreferenced chunks.")
        prune_parser.add_argument("--from", dest="source", required=True)
        prune_parser.add_argument("--keep", type=int, required=True)
        shares = sub.add_parser("shares", help="Split the master key into k-of-n printable recovery sheets.")
        shares.add_argument("--threshold", type=int, required=True)
        shares.add_argument("--shares", type=int, required=True, dest="count")
        shares.add_argument("--out", type=Path, required=True, help="A new directory for the sheets.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "export-keys":
                self._export(options["file"])
            elif options["action"] == "shares":
                self._shares(options["threshold"], options["count"], options["out"])
            elif options["action"] == "verify":
                self._verify(options["source"], options["keys"])
            elif options["action"] == "prune":
                doomed, removed = prune(target_from(options["source"]), keep=options["keep"])
                self.stdout.write(f"Removed {len(doomed)} backups and {removed} chunks no kept backup needs.")
            elif options["every"]:
                self._loop(options["targets"] or list(settings.GOV21_BACKUP_TARGETS), options["every"], options["keep"])
            else:
                self._backup(options["targets"] or list(settings.GOV21_BACKUP_TARGETS), options["keep"])
        except (BackupError, TargetError) as error:
            raise CommandError(getattr(error, "detail", str(error))) from error

    def _loop(self, specs: list[str], every: int, keep: int) -> None:
        """Back up at a fixed interval until stopped; a failing target is retried at the next round
        while the others carry on."""
        if every < 10:
            raise CommandError("Back up at most every 10 seconds.")
        while True:
            started = time.monotonic()
            try:
                self._backup(specs, keep)
            except CommandError as error:
                self.stderr.write(f"ALERT: {error}")
            time.sleep(max(1.0, every - (time.monotonic() - started)))

    def _backup(self, specs: list[str], keep: int = 0) -> None:
        if not specs:
            raise CommandError("Say where to: --to DIR, or set GOV21_BACKUP_TARGETS.")
        failed = []
        for spec in specs:
            try:
                report = backup_run(target_from(spec))
            except (BackupError, TargetError) as error:
                failed.append(spec)
                self.stderr.write(f"{spec}: {getattr(error, 'detail', str(error))}")
                continue
            if keep:
                prune(target_from(spec), keep=keep)
            self.stdout.write(
                f"{report.backup_id} → {report.target}: {report.files} files, {report.chunks} chunks "
                f"({report.chunks_sent} new, {report.bytes_sent:,} bytes sent of {report.bytes_read:,} read) "
                f"in {report.seconds:.1f} s"
            )
        if failed:
            raise CommandError(f"Backup failed for: {', '.join(failed)} (the other targets are up to date).")

    def _verify(self, source: str, key_file: Path | None) -> None:
        keys = HomeKeys.from_file(key_file) if key_file else home_keys()
        target = target_from(source)
        bad = 0
        for backup_id in backups_on(target):
            try:
                verify_backup(target, keys, backup_id)
                self.stdout.write(f"{backup_id}: intact")
            except (BackupError, TargetError) as error:
                bad += 1
                self.stdout.write(f"{backup_id}: DAMAGED: {getattr(error, 'detail', str(error))}")
        if bad:
            raise CommandError(f"{bad} damaged backup(s) on {source}.")

    def _shares(self, threshold: int, count: int, out: Path) -> None:
        if out.exists():
            raise CommandError(f"{out} exists; choose a new directory.")
        sheets = shares_make(home_keys(), threshold=threshold, count=count)
        out.mkdir(mode=0o700, parents=True)
        record_shares(threshold=threshold, count=count)
        for number, sheet in enumerate(sheets, start=1):
            path = out / f"share-{number}-of-{count}.txt"
            path.write_text(sheet)
            path.chmod(0o600)
        self.stdout.write(
            f"Wrote {count} sheets to {out}; any {threshold} rebuild the key. Print each, give each to a different"
            " custodian, then delete the files."
        )

    def _export(self, path: Path) -> None:
        if path.exists():
            raise CommandError(f"{path} exists; choose a new file.")
        path.write_text(home_keys().to_json())
        path.chmod(0o600)
        self.stdout.write(f"Wrote {path}. Keep it off this machine and away from the backups.")
