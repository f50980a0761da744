from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from gov21.continuity.alerts import ERROR, Alert, alert_log
from gov21.continuity.engine import (
    BackupError,
    HomeKeys,
    backup_run,
    backups_on,
    home_keys,
    prune,
    verify_backup,
)
from gov21.continuity.selectors import full_copy_due
from gov21.continuity.services import record_backup, record_backup_failure
from gov21.continuity.shares import record_shares, shares_make
from gov21.continuity.targets import TargetError, target_from

logger = logging.getLogger("gov21.continuity")

# Within a round of `--every`, a failing target is tried again after these pauses (seconds) before
# the round reports it; the other targets are served first. A link that is down longer than this is
# tried again at the next round.
RETRY_DELAYS: tuple[float, ...] = (2.0, 4.0)
# The loop sends a target every chunk again when it has had no complete copy for this long, so that
# restoring never leans only on chunks written months ago.
FULL_EVERY = timedelta(days=1)
PRUNE_EVERY = 3600.0
sleep = time.sleep


class Command(BaseCommand):
    help = "Encrypted, deduplicated backups of this node: take one, verify them, export the home keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", action="append", dest="targets", help="A directory or s3://bucket/prefix (repeat for several)."
        )
        parser.add_argument("--every", type=int, metavar="SECONDS", help="Keep backing up at this interval.")
        parser.add_argument("--keep", type=int, default=0, help="After each backup, keep only the newest N...")
        parser.add_argument(
            "--keep-daily", type=int, default=0, metavar="DAYS", help="...and the newest of each of the last DAYS days."
        )
        parser.add_argument(
            "--full", action="store_true", help="Send every chunk again, even those the target already holds."
        )
        sub = parser.add_subparsers(dest="action")
        verify = sub.add_parser("verify", help="Check every backup on a target, chunk by chunk.")
        verify.add_argument("--from", dest="source", required=True)
        verify.add_argument("--keys", type=Path, help="A key file from export-keys (default: this node's keys).")
        export = sub.add_parser("export-keys", help="Write the master key and signing keys a restore needs.")
        export.add_argument("file", type=Path)
        prune_parser = sub.add_parser("prune", help="Keep the newest N backups and drop unreferenced chunks.")
        prune_parser.add_argument("--from", dest="source", required=True)
        prune_parser.add_argument("--keep", type=int, required=True)
        prune_parser.add_argument("--keep-daily", type=int, default=0, metavar="DAYS")
        shares = sub.add_parser("shares", help="Split the master key into k-of-n printable recovery sheets.")
        shares.add_argument("--threshold", type=int, required=True)
        shares.add_argument("--shares", type=int, required=True, dest="count")
        shares.add_argument("--out", type=Path, required=True, help="A new directory for the sheets.")
        shares.add_argument(
            "--holder",
            action="append",
            dest="holders",
            help="The custodian of each sheet, in order (repeat once per sheet); printed on the sheet and in the plan.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.pruned = {}
        try:
            if options["action"] == "export-keys":
                self._export(options["file"])
            elif options["action"] == "shares":
                self._shares(options["threshold"], options["count"], options["out"], options["holders"] or [])
            elif options["action"] == "verify":
                self._verify(options["source"], options["keys"])
            elif options["action"] == "prune":
                doomed, removed = prune(
                    target_from(options["source"]), keep=options["keep"], daily=options["keep_daily"]
                )
                self.stdout.write(f"Removed {len(doomed)} backups and {removed} chunks no kept backup needs.")
            elif options["every"]:
                self.keep_daily = options["keep_daily"]
                self._loop(
                    options["targets"] or list(settings.GOV21_BACKUP_TARGETS),
                    options["every"],
                    options["keep"],
                    full=options["full"],
                )
            else:
                self.keep_daily = options["keep_daily"]
                self._backup(
                    options["targets"] or list(settings.GOV21_BACKUP_TARGETS), options["keep"], full=options["full"]
                )
        except (BackupError, TargetError) as error:
            raise CommandError(getattr(error, "detail", str(error))) from error

    def _loop(self, specs: list[str], every: int, keep: int, *, full: bool = False) -> None:
        """Back up at a fixed interval until stopped, in full once a day per target. A failing target is
        tried again within the round, after the others are served; if it still fails, the round raises
        an alert and the next round tries it again. A target that comes back receives every chunk it
        lacks, so nothing is lost."""
        if every < 10:
            raise CommandError("Back up at most every 10 seconds.")
        self.looping = True
        while True:
            started = time.monotonic()
            try:
                self._backup(specs, keep, full=full, retry_delays=RETRY_DELAYS, full_every=FULL_EVERY)
            except CommandError as error:
                self.stderr.write(f"ALERT: {error}")
            sleep(max(1.0, every - (time.monotonic() - started)))

    def _backup(
        self,
        specs: list[str],
        keep: int = 0,
        *,
        full: bool = False,
        retry_delays: tuple[float, ...] = (),
        full_every: timedelta | None = None,
    ) -> None:
        if not specs:
            raise CommandError("Say where to: --to DIR, or set GOV21_BACKUP_TARGETS.")
        attempts = 1 + len(retry_delays)
        pending = list(specs)
        errors: dict[str, str] = {}
        for attempt, delay in enumerate((0.0, *retry_delays), start=1):
            if not pending:
                break
            if attempt > 1:
                sleep(delay)
            errors = {}
            for spec in pending:
                error = self._backup_one(spec, keep, full=full, full_every=full_every)
                if error is None:
                    continue
                errors[spec] = error
                if attempt < attempts:
                    logger.warning(
                        "Backup to %s failed (attempt %d of %d), trying again in %.0f s: %s",
                        spec,
                        attempt,
                        attempts,
                        retry_delays[attempt - 1],
                        error,
                    )
                else:
                    self.stderr.write(f"{spec}: {error}")
            pending = list(errors)
        for spec, error in errors.items():
            alert_log(Alert(ERROR, spec, f"Backup to {spec} failed: {error}", "backup_failed"))
        if errors:
            raise CommandError(f"Backup failed for: {', '.join(errors)} (the other targets are up to date).")

    def _backup_one(self, spec: str, keep: int, *, full: bool, full_every: timedelta | None) -> str | None:
        """Back up to one target and record the attempt; the reason it failed, or None."""
        started = timezone.now()
        clock = time.monotonic()
        name = spec
        try:
            target = target_from(spec)
            name = target.name
            if not full and full_every is not None:
                full = self._full_due(name, full_every)
                if full:
                    self._verify_newest(target)
            report = backup_run(target, full=full)
        except (BackupError, TargetError) as error:
            detail = str(getattr(error, "detail", str(error)))
            self._record(
                lambda: record_backup_failure(
                    target=name, started_at=started, seconds=time.monotonic() - clock, full=full, error=detail
                )
            )
            return detail
        self._record(lambda: record_backup(report=report, started_at=started))
        if keep and self._prune_due(name):
            try:
                prune(target, keep=keep, daily=self.keep_daily)
            except (BackupError, TargetError) as error:  # the backup itself is safe; pruning waits
                logger.warning("Could not prune %s: %s", name, getattr(error, "detail", error))
        self.stdout.write(
            f"{report.backup_id} → {report.target}: {report.files} files, {report.chunks} chunks "
            f"({report.chunks_sent} new, {report.bytes_sent:,} bytes sent of {report.bytes_read:,} read) "
            f"in {report.seconds:.1f} s"
        )
        return None

    keep_daily = 0
    looping = False
    pruned: dict[str, float]

    def _prune_due(self, target: str) -> bool:
        """A one-off backup prunes at once; the loop prunes each target once an hour, since pruning
        reads every kept manifest."""
        if not self.looping:
            return True
        last = self.pruned.get(target)
        if last is not None and time.monotonic() - last < PRUNE_EVERY:
            return False
        self.pruned[target] = time.monotonic()
        return True

    def _verify_newest(self, target: Any) -> None:
        """Before the daily full copy: read the newest backup back, chunk by chunk. Damage found (a
        disk or bucket that lost or altered a chunk) raises an alert; the full copy then rewrites
        every chunk, which repairs it."""
        available = backups_on(target)
        if not available:
            return
        try:
            verify_backup(target, home_keys(), available[0])
        except (BackupError, TargetError) as error:
            alert_log(
                Alert(
                    ERROR,
                    target.name,
                    f"The newest backup on {target.name} is damaged ({getattr(error, 'detail', error)});"
                    " a full copy is being written.",
                    "backup_damaged",
                )
            )

    def _full_due(self, target: str, every: timedelta) -> bool:
        try:
            return full_copy_due(target, every=every)
        except DatabaseError as error:
            logger.warning("Could not read when %s last had a full copy: %s", target, error)
            return False

    def _record(self, write: Callable[[], object]) -> None:
        # The backup is on its target whether or not its record can be written: a busy or failing
        # database must not stop the backups that would rebuild it.
        try:
            write()
        except DatabaseError as error:
            logger.warning("Could not record a backup attempt: %s", error)

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

    def _shares(self, threshold: int, count: int, out: Path, holders: list[str]) -> None:
        if out.exists():
            raise CommandError(f"{out} exists; choose a new directory.")
        holders = [" ".join(name.split())[:120] for name in holders]
        sheets = shares_make(home_keys(), threshold=threshold, count=count, holders=holders)
        out.mkdir(mode=0o700, parents=True)
        record_shares(threshold=threshold, count=count, holders=holders)
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
