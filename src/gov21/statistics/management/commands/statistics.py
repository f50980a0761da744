"""``gov21 statistics refresh [--year Y ...]`` recounts and republishes the tables now;
``gov21 statistics follow [--interval S]`` follows the registry's events and keeps them current;
``gov21 statistics forecast [--base-year Y]`` projects the population and the demand for services."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gov21.statistics import services


class Command(BaseCommand):
    help = "Recount the statistics office's tables, or follow the registry's events to keep them current."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        refresh = sub.add_parser("refresh", help="Recount every table of the years given (this year by default).")
        refresh.add_argument("--year", type=int, action="append", default=[])
        follow = sub.add_parser("follow", help="Read new events every few seconds and republish what they change.")
        follow.add_argument("--interval", type=float, default=2.0)
        follow.add_argument("--for", dest="stop_after", type=float, default=None)
        forecast = sub.add_parser("forecast", help="Project the population and service demand ten years ahead.")
        forecast.add_argument("--base-year", dest="base_year", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "refresh":
            made = services.tables_refresh(years=options["year"])
            self.stdout.write(f"{len(made)} new releases")
        elif options["action"] == "forecast":
            from gov21.statistics import forecasting

            run = forecasting.forecast_build(base_year=options["base_year"])
            back = run.result["backtest"]["total_mape"]
            self.stdout.write(
                f"projection from {run.base_year} to {run.result['years'][-1]}; back-test error after "
                f"{len(back) - 1} years: {back[-1]:.1f}%"
            )
        else:
            made_n = services.follow_loop(interval=options["interval"], stop_after=options["stop_after"])
            self.stdout.write(f"{made_n} new releases")
