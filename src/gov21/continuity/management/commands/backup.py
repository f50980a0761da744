from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.continuity.engine import BackupError, HomeKeys, backup_run, backups_on, home_keys, verify_backup
from gov21.continuity.shares import shares_make
from gov21.continuity.targets import TargetError, target_from


class Command(BaseCommand):
    help = "Encrypted, deduplicated backups of this node: take one, verify them, export the home keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", action="append", dest="targets", help="A directory (repeat for several).")
        sub = parser.add_subparsers(dest="action")
        verify = sub.add_parser("verify", help="Check every backup on a target, chunk by chunk.")
        verify.add_argument("--from", dest="source", required=True)
        verify.add_argument("--keys", type=Path, help="A key file from export-keys (default: this node's keys).")
        export = sub.add_parser("export-keys", help="Write the master key and signing keys a restore needs.")
        export.add_argument("file", type=Path)
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
            else:
                self._backup(options["targets"] or list(settings.GOV21_BACKUP_TARGETS))
        except (BackupError, TargetError) as error:
            raise CommandError(getattr(error, "detail", str(error))) from error

    def _backup(self, specs: list[str]) -> None:
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
