"""`whistle calendar`: look at the working calendar, and find out which years it knows.

whistle calendar show 2026-10 [--district 110101]   every day of a month
whistle calendar show 2026 [--district 110101]      the holidays and special days of a year
whistle calendar status                             known years and warnings
whistle calendar explain "2026-09-30 15:30" 4 working_hours [--district 110101]
whistle calendar recompute [--year 2027] [--district 110101]
                                                    deadlines computed on an assumed calendar
whistle calendar deadlines [--district 110101] [--move]
                                                    open deadlines a changed calendar moves
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext

from whistle.organisation.models import Jurisdiction
from whistle.policies.calendar import (
    LOCAL_TIME_ZONE,
    PACKAGE_FIRST_YEAR,
    PACKAGE_LAST_YEAR,
    PACKAGE_VERSION,
    CalendarError,
    DayReason,
    DaySource,
    DayStatus,
    calendar_for,
    horizon_warnings,
    known_years_summary,
    package_knows,
)
from whistle.policies.models import DurationUnit
from whistle.policies.signals import announce_calendar_entered, ask_calendar_moves

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_ORDINARY = (DayReason.WEEKDAY, DayReason.WEEKEND)


class Command(BaseCommand):
    help = (
        "Show the working calendar of a month or year, the years it knows, or explain a deadline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        show = actions.add_parser(
            "show", help="every day of a month (2026-10) or a year's special days (2026)"
        )
        show.add_argument("period", help="YYYY-MM for a month, YYYY for a year")
        show.add_argument("--district", metavar="CODE", help="6-digit district code")
        self._add_language(show)

        status = actions.add_parser("status", help="the years the calendar knows, with warnings")
        self._add_language(status)

        explain = actions.add_parser("explain", help="compute a deadline and show how")
        explain.add_argument("start", help='Beijing time, "YYYY-MM-DD HH:MM"')
        explain.add_argument("amount", type=int)
        explain.add_argument("unit", choices=DurationUnit.values)
        explain.add_argument("--district", metavar="CODE", help="6-digit district code")
        self._add_language(explain)

        recompute = actions.add_parser(
            "recompute",
            help="compute again the open deadlines that were computed on an assumed calendar",
        )
        recompute.add_argument(
            "--year",
            type=int,
            action="append",
            dest="years",
            metavar="YEAR",
            help="only deadlines that assumed this year (repeatable; default: every year)",
        )
        recompute.add_argument("--district", metavar="CODE", help="6-digit district code")
        self._add_language(recompute)

        deadlines = actions.add_parser(
            "deadlines",
            help="list the open deadlines in working time that the calendar now moves",
        )
        deadlines.add_argument("--district", metavar="CODE", help="6-digit district code")
        deadlines.add_argument(
            "--move", action="store_true", help="move them (default: only list them)"
        )
        self._add_language(deadlines)

    @staticmethod
    def _add_language(parser: Any) -> None:
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of the output (default: the site's language)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        language = options.get("language") or translation.get_language() or settings.LANGUAGE_CODE
        with translation.override(language):
            try:
                if options["action"] == "show":
                    self.show(options["period"], self.district(options.get("district")))
                elif options["action"] == "status":
                    self.status()
                elif options["action"] == "deadlines":
                    district = self.district(options.get("district"))
                    lines = ask_calendar_moves(
                        districts=[district] if district is not None else None,
                        move=options["move"],
                    )
                    for line in lines:
                        self.stdout.write(line)
                elif options["action"] == "recompute":
                    self.recompute(options.get("years"), self.district(options.get("district")))
                else:
                    self.explain(
                        options["start"],
                        options["amount"],
                        options["unit"],
                        self.district(options.get("district")),
                    )
            except CalendarError as exc:
                raise CommandError(str(exc)) from exc

    def district(self, code: str | None) -> Jurisdiction | None:
        if not code:
            return None
        district = Jurisdiction.objects.filter(
            level=Jurisdiction.Level.DISTRICT, code=code.strip()
        ).first()
        if district is None:
            raise CommandError(gettext("No district has the code %(code)s.") % {"code": code})
        return district

    @staticmethod
    def scope_name(district: Jurisdiction | None) -> str:
        return district.name if district is not None else gettext("whole city")

    def show(self, period: str, district: Jurisdiction | None) -> None:
        calendar = calendar_for(district)
        month = _MONTH.match(period.strip())
        year = _YEAR.match(period.strip())
        if month:
            first = self.first_of_month(int(month.group(1)), int(month.group(2)), period)
            last = self.first_of_month(first.year + first.month // 12, first.month % 12 + 1, period)
            last = date.fromordinal(last.toordinal() - 1)
        elif year:
            first = self.first_of_month(int(year.group(1)), 1, period)
            last = date(first.year, 12, 31)
        else:
            raise CommandError(
                gettext(
                    "Give a month as YYYY-MM (2026-10) or a year as YYYY (2026), not %(value)s."
                )
                % {"value": period}
            )
        days = list(calendar.days(first, last))
        self.stdout.write(
            gettext("%(period)s · %(scope)s · working periods %(periods)s")
            % {
                "period": period.strip(),
                "scope": self.scope_name(district),
                "periods": calendar.working_periods,
            }
        )
        shown = days if month else [d for d in days if d.reason not in _ORDINARY]
        for status in shown:
            self.stdout.write(self.day_line(status))
        if year and not shown:
            self.stdout.write(gettext("No holidays or moved workdays in this year."))
        working = sum(1 for d in days if d.is_workday)
        self.stdout.write(
            gettext("Working days: %(working)s, rest days: %(rest)s.")
            % {"working": working, "rest": len(days) - working}
        )
        assumed = sorted({d.date.year for d in days if d.source == DaySource.ASSUMED})
        for unknown in assumed:
            self.stdout.write(
                self.style.WARNING(
                    gettext(
                        "The schedule of %(year)s is not known: only weekends are shown as rest "
                        "days. Enter the official schedule."
                    )
                    % {"year": unknown}
                )
            )

    @staticmethod
    def first_of_month(year: int, month: int, raw: str) -> date:
        try:
            return date(year, month, 1)
        except ValueError:
            raise CommandError(
                gettext(
                    "Give a month as YYYY-MM (2026-10) or a year as YYYY (2026), not %(value)s."
                )
                % {"value": raw}
            ) from None

    def day_line(self, status: DayStatus) -> str:
        state = gettext("working day") if status.is_workday else gettext("rest day")
        detail = "" if status.reason in _ORDINARY else str(status.reason.label)
        if status.name:
            detail = f"{detail} · {status.name}" if detail else status.name
        if status.source == DaySource.ASSUMED:
            detail = f"{detail} ({status.source.label})".strip()
        line = f"{status.date.isoformat()}  {WEEKDAYS[status.date.weekday()]}  {state}  {detail}"
        line = line.rstrip()
        if status.reason not in _ORDINARY:
            return self.style.MIGRATE_HEADING(line)
        return line

    def status(self) -> None:
        self.stdout.write(
            gettext(
                "The calendar package (chinesecalendar %(version)s) knows %(first)s to %(last)s."
            )
            % {"version": PACKAGE_VERSION, "first": PACKAGE_FIRST_YEAR, "last": PACKAGE_LAST_YEAR}
        )
        entered = known_years_summary()
        if not entered:
            self.stdout.write(gettext("No year has been entered here."))
        else:
            self.stdout.write(gettext("Entered years:"))
            for scope, years in entered.items():
                listed = ", ".join(
                    str(y) + ("" if not package_knows(y) else gettext(" (also in the package)"))
                    for y in years
                )
                self.stdout.write(f"  {scope or gettext('whole city')}: {listed}")
        mode = settings.WHISTLE_CALENDAR_UNKNOWN_YEAR
        if mode == "error":
            fallback = gettext("deadlines that reach into it are refused")
        else:
            fallback = gettext("only weekends count as rest days, with a warning in the log")
        self.stdout.write(
            gettext("For a year not known: %(fallback)s (WHISTLE_CALENDAR_UNKNOWN_YEAR=%(mode)s).")
            % {"fallback": fallback, "mode": mode}
        )
        warnings = horizon_warnings()
        if not warnings:
            self.stdout.write(
                self.style.SUCCESS(
                    gettext("The calendar knows the coming year for every district.")
                )
            )
        for warning in warnings:
            self.stdout.write(self.style.WARNING(warning.message))
            self.stdout.write(f"  {warning.hint}")

    def recompute(self, years: list[int] | None, district: Jurisdiction | None) -> None:
        reports = announce_calendar_entered(years=years, district=district, trigger="command")
        for report in reports:
            self.stdout.write(report)

    def explain(
        self, raw_start: str, amount: int, unit: str, district: Jurisdiction | None
    ) -> None:
        try:
            start = datetime.strptime(raw_start.strip(), "%Y-%m-%d %H:%M").replace(
                tzinfo=LOCAL_TIME_ZONE
            )
        except ValueError:
            raise CommandError(
                gettext('Give the start as "YYYY-MM-DD HH:MM" in Beijing time, not %(value)s.')
                % {"value": raw_start}
            ) from None
        if amount < 0:
            raise CommandError(gettext("A time limit cannot be negative."))
        explanation = calendar_for(district).explain(start, amount, unit)
        self.stdout.write(self.scope_name(district))
        for line in explanation.lines():
            self.stdout.write(line)
