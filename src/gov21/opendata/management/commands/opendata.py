"""``gov21 opendata harvest-source add|list|run`` manages the portals whose catalogues this one copies;
``gov21 opendata harvest [--every S]`` harvests the sources that are due (``gov21 up`` runs it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.core.principal import Principal, PrincipalKind
from gov21.opendata import harvest
from gov21.opendata.models import HarvestJob

OPERATOR = Principal(name="operator", kind=PrincipalKind.SYSTEM, roles=frozenset({"administrator"}))


class Command(BaseCommand):
    help = "Manage the data portal's harvest sources and harvest those that are due."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sources = sub.add_parser("harvest-source", help="Add, list or run a harvest source.")
        verbs = sources.add_subparsers(dest="verb", required=True)
        add = verbs.add_parser("add", help="Copy another portal's catalogue (CKAN or DCAT) on a schedule.")
        add.add_argument("name", help="Short name, e.g. xb-portal.")
        add.add_argument("url", help="The CKAN's address, or the DCAT catalogue's (Turtle, JSON-LD, RDF/XML).")
        add.add_argument("--type", dest="kind", choices=sorted(harvest.KIND_ALIASES), default="ckan")
        add.add_argument("--organization", required=True, help="Exchange member code the datasets are filed under.")
        add.add_argument("--title", default="")
        add.add_argument("--frequency", choices=list(harvest.FREQUENCY_HOURS), default="daily")
        verbs.add_parser("list", help="Every source and its last harvest.")
        run = verbs.add_parser("run", help="Harvest one source now and print its job's log.")
        run.add_argument("name")
        loop = sub.add_parser("harvest", help="Harvest every source that is due, once or every few seconds.")
        loop.add_argument("--every", type=float, default=0, metavar="SECONDS", help="Repeat (default: once).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "harvest":
                self._harvest(options["every"])
            elif options["verb"] == "add":
                source = harvest.source_add(
                    principal=OPERATOR,
                    name=options["name"],
                    url=options["url"],
                    kind=options["kind"],
                    organization=options["organization"],
                    title=options["title"],
                    frequency=options["frequency"],
                )
                self.stdout.write(f"added {source.name} ({source.kind}, {source.frequency}): {source.url}")
            elif options["verb"] == "list":
                for source, job in harvest.sources():
                    last = "never harvested" if job is None else f"{job.started:%Y-%m-%d %H:%M} {self._counts(job)}"
                    self.stdout.write(f"{source.name:<24} {source.kind:<5} {source.frequency:<7} {source.url}  {last}")
            else:
                job = harvest.source_run(principal=OPERATOR, key=options["name"])
                for entry in job.log:
                    self.stdout.write(f"{entry['level']:<5} {entry['identifier']} {entry['message']}".rstrip())
                self.stdout.write(self._counts(job))
                if job.status == "failed":
                    raise CommandError("the harvest failed")
        except DomainError as error:
            raise CommandError(error.detail) from None

    def _harvest(self, every: float) -> None:
        if every > 0:
            harvest.harvest_loop(interval=every, stop_after=None)
            return
        claimed, done = harvest.due_run(batch=1000)
        self.stdout.write(f"{claimed} sources harvested, {done} without error")

    @staticmethod
    def _counts(job: HarvestJob) -> str:
        return (
            f"{job.status}: created {job.created}, updated {job.updated}, unchanged {job.unchanged},"
            f" deleted {job.deleted}, errors {job.errors}"
        )
