"""``whistle seed-demo``: load or refresh the demo city (东城区) with its people and rules."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from whistle.demo.builders import run_builders
from whistle.demo.city import DEFAULT_SEED, build_demo_city
from whistle.demo.content import counts, fingerprint
from whistle.demo.logins import missing_demo_logins
from whistle.organisation.models import Jurisdiction


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Translated when the command runs, in the language then active.
        self.help = _(
            "Build the demo city: Dongcheng district with its 17 street offices, communities, "
            "lanes, departments, enforcement centres, problem categories and one login per "
            "role. Running it again with the same seed changes nothing."
        )
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=_("draws the shapes and the names of people (default: %(default)s)"),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=_("do nothing when the database already holds a district"),
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help=_("set the demo logins' passwords back to WHISTLE_DEMO_PASSWORD"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if (
            options["if_empty"]
            and Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT).exists()
        ):
            if missing_demo_logins() == []:
                self.stdout.write(_("The demo city is already loaded: nothing was changed."))
            else:
                self.stdout.write(_("A district already exists: the demo city was not loaded."))
            return
        started = time.monotonic()
        try:
            with transaction.atomic():
                city = build_demo_city(options["seed"], reset_passwords=options["reset_passwords"])
                extra_lines = run_builders(city)
        except (DatabaseError, ValueError) as exc:
            raise CommandError(
                _("The demo city could not be built, nothing was changed: %(error)s")
                % {"error": exc}
            ) from exc
        n = counts(city.district)
        timing: dict[str, Any] = {"district": city.district, "seed": city.seed}
        timing["seconds"] = time.monotonic() - started
        totals: dict[str, Any] = {"created": city.created.total(), "updated": city.updated.total()}
        totals["hash"] = fingerprint()[:12]
        lines = [
            _("Demo city %(district)s ready (seed %(seed)d, %(seconds).1f s).") % timing,
            _(
                "%(townships)d townships, %(communities)d communities, %(lanes)d lanes, "
                "%(cells)d grid cells."
            )
            % n,
            _(
                "%(sectors)d sectors, %(departments)d departments, "
                "%(members)d enforcement centre members."
            )
            % n,
            _("%(majors)d major classes, %(categories)d categories, %(rules)d whistle rules.") % n,
            _(
                "%(people)d people with %(roles)d roles; "
                "%(logins)d demo logins (see: whistle demo-logins)."
            )
            % n,
            *extra_lines,
            _("%(created)d rows created, %(updated)d updated; content hash %(hash)s.") % totals,
        ]
        for line in lines:
            self.stdout.write(line)
