"""``gov21 readiness import-egdi FILE --year YYYY``: load a UN E-Government Survey's country table.
``gov21 readiness rankings --year YYYY [--index egdi|21cg] [--group caricom]``: print a ranking.
``gov21 readiness hub-member INSTANCE COUNTRY`` (on the regional hub) and ``gov21 readiness submit
--round YYYY`` (on a national instance): the regional ranking's submissions.
``gov21 readiness publish``: the ranking and its methodology on the data portal (the worker does it
after each import or submission).
``gov21 readiness measure [--every S]``: measure the live indicators now, or every S seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.core.principal import Principal, PrincipalKind
from gov21.readiness import selectors
from gov21.readiness.publishing import results_publish
from gov21.readiness.regional import member_register, submission_send
from gov21.readiness.services import TOLERANCE, egdi_import


class Command(BaseCommand):
    help = "Readiness and benchmarks: load the UN EGDI, print rankings."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import-egdi", help="Load a UN EGDI country table (CSV) for a survey year.")
        load.add_argument("file", type=Path)
        load.add_argument("--year", type=int, required=True)
        show = sub.add_parser("rankings", help="Print a country group's ranking.")
        show.add_argument("--year", type=int, required=True)
        show.add_argument("--index", choices=selectors.INDICES, default="egdi")
        show.add_argument("--group", default="caricom")
        member = sub.add_parser("hub-member", help="On the regional hub: an exchange instance speaks for a country.")
        member.add_argument("instance")
        member.add_argument("country_code")
        send = sub.add_parser("submit", help="Send a round's signed-off self-assessments to the regional hub.")
        send.add_argument("--round", type=int, required=True)
        sub.add_parser("publish", help="Publish the ranking and its methodology on the data portal now.")
        measure = sub.add_parser("measure", help="Measure the live indicators from the agencies' numbers.")
        measure.add_argument("--every", type=float, default=None, help="Measure again every this many seconds.")
        measure.add_argument("--for", dest="stop_after", type=float, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "import-egdi":
                self._import(options["file"], options["year"])
            elif options["action"] == "hub-member":
                found = member_register(instance=options["instance"], country_code=options["country_code"].upper())
                self.stdout.write(f"{found.instance} speaks for {found.country_code} at this hub.")
            elif options["action"] == "publish":
                for published in results_publish():
                    state = f"version {published.version}" if published.created else "unchanged"
                    self.stdout.write(f"{published.dataset}: {state}")
            elif options["action"] == "measure":
                self._measure(options["every"], options["stop_after"])
            elif options["action"] == "submit":
                operator = Principal(name="operator", kind=PrincipalKind.SYSTEM, roles=frozenset({"administrator"}))
                receipt = submission_send(round=options["round"], actor=operator)
                self.stdout.write(f"The hub received {receipt['country_code']} {receipt['round']}.")
            else:
                self._rankings(options["index"], options["year"], options["group"])
        except DomainError as error:
            raise CommandError(error.detail) from error

    def _measure(self, every: float | None, stop_after: float | None) -> None:
        from gov21.readiness.indicators import BY_CODE, indicators_measure, measure_loop

        if every is not None:
            kept = measure_loop(interval=every, stop_after=stop_after)
            self.stdout.write(f"{kept} rounds measured")
            return
        row = indicators_measure()
        self.stdout.write(f"Measured {row.measured_at:%Y-%m-%d %H:%M} in {row.seconds:.1f} s")
        for v in row.values.order_by("pk"):
            shown = "-" if v.value is None else f"{v.value:.4g}"
            self.stdout.write(f"  {v.code:<24} {shown:>10}  {BY_CODE[v.code].unit}")

    def _import(self, path: Path, year: int) -> None:
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        loaded = egdi_import(content=content, year=year)
        verb = "Replaced" if loaded.replaced else "Loaded"
        self.stdout.write(f"{verb} the EGDI of {loaded.year}: {loaded.countries} countries.")
        for d in loaded.discrepancies:
            self.stdout.write(
                f"  {d.country_code}: published {d.published:.5f}, mean of its components {d.recomputed:.5f}"
                f" (differs by more than {TOLERANCE})"
            )
        if loaded.incomplete:
            self.stdout.write("  Not recomputed (a component is missing): " + ", ".join(loaded.incomplete))
        if not loaded.discrepancies:
            self.stdout.write("Every recomputed EGDI agrees with the published value.")

    def _rankings(self, index: str, year: int, group: str) -> None:
        found = selectors.rankings(index=index, year=year, group_code=group)
        self.stdout.write(f"{found.group.name}, {index} {year}")
        for c in found.countries:
            value = "-" if c.value is None else f"{c.value:.4f}"
            interval = f"  [{c.rank_low}-{c.rank_high}]" if c.rank_low is not None else ""
            self.stdout.write(f"{c.rank or '-':>3}  {c.country_code}  {value}{interval}  {c.country_name}")
