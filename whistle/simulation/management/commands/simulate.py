"""``whistle simulate``: a synthetic city with a year of history, or live traffic on the demo
city (docs/simulation.md)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.demo.history import HistoryError
from whistle.simulation import live
from whistle.simulation.city import build_city, counts, simulated_city_exists
from whistle.simulation.history import Written, Year
from whistle.simulation.presets import PRESETS, QUICK_SCALE, CityShape

DEFAULT_SEED = 2018


def _day(text: str) -> date:
    return date.fromisoformat(text)


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        self.help = _(
            "Simulate a city: build a synthetic city of a chosen size and write a year of its "
            "history in bulk, or (with --live) play cases through the actions on the demo city "
            "for some hours of simulated time. The same seed gives the same city and history."
        )
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--preset",
            choices=sorted(PRESETS),
            default="dongcheng",
            help=_("the size of the city (default: %(default)s)"),
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help=_("multiplies every count of the preset (default: %(default)s)"),
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help=_("a thousandth of the preset, for a test or a laptop"),
        )
        parser.add_argument(
            "--days",
            type=int,
            default=365,
            help=_("days of history, ending on --end (default: %(default)s)"),
        )
        parser.add_argument(
            "--end",
            type=_day,
            default=None,
            help=_("the day the history ends, YYYY-MM-DD (default: today)"),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=_("draws the city and its history (default: %(default)s)"),
        )
        parser.add_argument(
            "--live",
            action="store_true",
            help=_("play cases through the actions on the demo city instead"),
        )
        parser.add_argument(
            "--hours",
            type=float,
            default=8.0,
            help=_("with --live: hours of simulated time, ending now (default: %(default)s)"),
        )
        parser.add_argument(
            "--cases-per-hour",
            type=float,
            default=6.0,
            help=_("with --live: cases found in an hour (default: %(default)s)"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["scale"] <= 0 or options["days"] < 3 or options["hours"] <= 0:
            raise CommandError(
                _("The scale and the hours must be above 0, and the history at least 3 days.")
            )
        started = time.monotonic()
        if options["live"]:
            self._live(options, started)
        else:
            self._bulk(options, started)

    def _bulk(self, options: dict[str, Any], started: float) -> None:
        if simulated_city_exists():
            raise CommandError(
                _("This database already holds a simulated city: use an empty database.")
            )
        scale = options["scale"] * (QUICK_SCALE if options["quick"] else 1)
        shape = PRESETS[options["preset"]].scaled(scale)
        end_day = options["end"] or timezone.localdate()
        end = min(datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC), timezone.now())
        start = end - timedelta(days=options["days"])
        try:
            with transaction.atomic():
                self._city_and_year(shape, options, start=start, end=end, started=started)
        except DatabaseError as exc:
            raise CommandError(
                _("The simulation failed, nothing was changed: %(error)s") % {"error": exc}
            ) from exc

    def _city_and_year(
        self,
        shape: CityShape,
        options: dict[str, Any],
        *,
        start: datetime,
        end: datetime,
        started: float,
    ) -> None:
        cases = round(shape.cases_per_year * options["days"] / 365)
        city = build_city(shape, options["seed"])
        self.stdout.write(
            _(
                "City built: %(districts)d districts, %(townships)d townships, "
                "%(communities)d communities, %(lanes)d lanes, %(departments)d departments, "
                "%(people)d people (%(seconds).1f s)."
            )
            % {**counts(city), "seconds": time.monotonic() - started}
        )
        behaviours = city.behaviour_counts()
        self.stdout.write(
            _("Departments: %(punctual)d punctual, %(slow)d slow, %(absent)d often absent.")
            % {
                "punctual": behaviours.get("punctual", 0),
                "slow": behaviours.get("slow", 0),
                "absent": behaviours.get("often_absent", 0),
            }
        )
        year = Year(city, start=start, end=end, cases=cases)
        history_started = time.monotonic()

        def progress(written: Written) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"  {written.cases:,} / {cases:,}")

        written = year.write(progress)
        seconds = time.monotonic() - history_started
        self.stdout.write(
            _(
                "History written: %(cases)d cases, %(whistles)d whistles, %(summonses)d "
                "summonses, %(events)d trail events in %(seconds).1f s (%(rate).0f events/s)."
            )
            % {**written.as_dict(), "seconds": seconds, "rate": written.events / max(seconds, 1e-9)}
        )

    def _live(self, options: dict[str, Any], started: float) -> None:
        try:
            with transaction.atomic():
                played = live.play(
                    seed=options["seed"],
                    hours=options["hours"],
                    cases_per_hour=options["cases_per_hour"],
                )
        except HistoryError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _(
                "Played %(cases)d cases through the actions (%(steps)d steps, %(refused)d "
                "refused) in %(seconds).1f s."
            )
            % {**played.as_dict(), "seconds": time.monotonic() - started}
        )
