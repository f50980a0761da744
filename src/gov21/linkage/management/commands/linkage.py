"""``gov21 linkage import|run|export|duplicates``: an agency's file in, the linkage run (continued
where it stopped when it was interrupted), the outcomes out as CSV, the registry's likely duplicates."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.linkage import services


def _cell(value: str) -> str:
    """A value as a spreadsheet will not run it: a leading =, +, - or @ is quoted."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


class Command(BaseCommand):
    help = "Link agencies' records to persons in the civil registry."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="Import an agency's CSV, XLSX or Parquet file into a source.")
        load.add_argument("source", help="The source, such as msd-2009 (created on first import).")
        load.add_argument("file", type=Path)
        load.add_argument("--agency", required=True, help="The exchange member that owns it, such as MSD/benefits.")
        load.add_argument("--mapping", type=Path, help="YAML: linkage field → the file's column.")
        load.add_argument("--encoding", default="utf-8", help="The CSV file's encoding (default utf-8).")
        run = sub.add_parser("run", help="Link a source (an interrupted run continues where it stopped).")
        run.add_argument("source")
        run.add_argument("--no-history", action="store_true", help="Compare with today's records only.")
        export = sub.add_parser("export", help="Write record_id,uin,match_probability,status as CSV.")
        export.add_argument("source")
        export.add_argument("--out", type=Path, required=True)
        sub.add_parser("duplicates", help="List the civil registry's likely duplicate persons for the registrar.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("import", "load"))(options)
        except DomainError as error:
            raise CommandError(error.detail) from None

    def _load(self, options: dict[str, Any]) -> None:
        report = services.records_import(
            source=options["source"],
            agency=options["agency"],
            path=options["file"],
            mapping=options["mapping"],
            encoding=options["encoding"],
        )
        self.stdout.write(
            f"{report.source}: {report.imported} records imported, {report.updated} replaced, "
            f"{len(report.bad)} rows not read"
        )
        for bad in report.bad:
            self.stdout.write(f"  line {bad.line}: {bad.reason}")

    def _run(self, options: dict[str, Any]) -> None:
        run = services.run_source(source=options["source"], history=not options["no_history"])
        counts = run.counts
        self.stdout.write(
            f"{options['source']}: {counts.get('linked', 0)} linked, {counts.get('review', 0)} for review, "
            f"{counts.get('unlinked', 0)} not linked ({counts.get('pairs', 0)} candidate pairs)"
        )

    def _export(self, options: dict[str, Any]) -> None:
        rows = services.outcomes_of(options["source"])
        with options["out"].open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["record_id", "uin", "match_probability", "status"])
            for record_id, uin, probability, status in rows:
                linked = status == "linked"
                p = "" if probability is None else f"{probability:.6f}"
                writer.writerow([_cell(record_id), uin if linked else "", p, status or "unlinked"])
        self.stdout.write(f"Written to {options['out']}")

    def _duplicates(self, options: dict[str, Any]) -> None:
        services.index_refresh()
        self.stdout.write(f"{services.duplicates_find()} likely duplicate pairs listed for the registrar")
