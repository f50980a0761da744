from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from gov21.continuity.alerts import ERROR, alert_log, alerts
from gov21.continuity.check import node_check
from gov21.continuity.drill import drill_run
from gov21.continuity.engine import HomeKeys, home_keys
from gov21.continuity.plan import plan_text
from gov21.continuity.postgres import native_status_lines
from gov21.continuity.selectors import drills_latest
from gov21.continuity.targets import TargetError, target_from
from gov21.core.errors import DomainError


class Command(BaseCommand):
    help = "Restore drills (RPO and RTO measured on a restored, serving copy) and their status."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        drill = sub.add_parser("drill", help="Restore the newest backup of each target, start it, check it.")
        drill.add_argument("--from", dest="sources", action="append", help="A target (default: every configured).")
        drill.add_argument("--keys", type=Path)
        sub.add_parser("status", help="The last drill of each target and, on PostgreSQL, each replica's replay lag.")
        sub.add_parser("plan", help="Print the continuity runbook for this node's configuration.")
        check = sub.add_parser("check", help="Verify every hash chain, certificate and document of this node.")
        check.add_argument("--json", action="store_true", help="Print the report as one line of JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "plan":
            self.stdout.write(plan_text())
            return
        if options["action"] == "check":
            self._check(as_json=options["json"])
            return
        if options["action"] == "status":
            try:
                runs = drills_latest()
            except DatabaseError as error:
                raise CommandError(f"Could not read the database: {error}".strip()) from error
            if not runs:
                self.stdout.write("No drill has run yet: gov21 continuity drill")
            for run in runs:
                age = (timezone.now() - run.started_at).total_seconds() / 3600
                self.stdout.write(
                    f"{run.target}: {'ok' if run.ok else 'FAILED'} {age:.1f} h ago, backup {run.backup_id}, "
                    f"RPO {run.rpo_seconds or 0:.0f} s, RTO {run.rto_seconds or 0:.1f} s"
                )
            try:
                native = native_status_lines()
            except DomainError as error:
                raise CommandError(error.detail) from error
            for line in native:
                self.stdout.write(line)
            found = alerts()
            for alert in found:
                self.stdout.write(f"ALERT ({alert.severity}): {alert.text}")
            if any(alert.severity == ERROR for alert in found):
                raise CommandError(f"{sum(a.severity == ERROR for a in found)} alert(s) need attention.")
            return
        sources = options["sources"] or list(settings.GOV21_BACKUP_TARGETS)
        if not sources:
            raise CommandError("Say which target: --from DIR, or set GOV21_BACKUP_TARGETS.")
        keys = HomeKeys.from_file(options["keys"]) if options["keys"] else home_keys()
        failed = []
        for source in sources:
            try:
                run = drill_run(target_from(source), keys=keys)
            except TargetError as error:
                failed.append(source)
                self.stderr.write(f"{source}: {error}")
                continue
            checks = ", ".join(f"{name} {value}" for name, value in run.detail.get("checks", {}).items())
            if run.ok:
                self.stdout.write(
                    f"{source}: drill ok on {run.backup_id}: RPO {run.rpo_seconds:.0f} s, RTO {run.rto_seconds:.1f} s"
                    f" ({checks})"
                )
            else:
                failed.append(source)
                self.stderr.write(f"{source}: drill FAILED: {run.detail.get('error') or checks}")
        for alert in alerts():
            if alert.code == "drill_failed" and alert.target in failed:
                alert_log(alert)
        if failed:
            raise CommandError(f"Drill failed for: {', '.join(failed)}")

    def _check(self, *, as_json: bool) -> None:
        report = node_check()
        if as_json:
            self.stdout.write(json.dumps(report))
        else:
            for row in report["chains"]:
                state = "intact" if row["ok"] else f"BROKEN at {row['first_broken']}: {row['reason']}"
                self.stdout.write(f"{row['chain']}: {row['entries']} entries, {row['heads']} signed heads, {state}")
            self.stdout.write(
                f"{report['certificates']} certificates and {report['documents']} documents verify against the "
                f"{len(report['jwks_kids'])} published keys"
            )
        if not report["ok"]:
            raise CommandError("; ".join(report["faults"][:5]))
