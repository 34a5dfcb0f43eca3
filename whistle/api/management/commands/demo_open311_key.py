"""``whistle demo-open311-key``: an API key for trying Open311 on the demo city, printed once.

The key is a personal API token of the demo resident, as a resident's app would hold one;
each run revokes the previous demo key and issues a new one, because a secret is never shown
twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.api import tokens
from whistle.api.models import ApiToken
from whistle.organisation.models import Person

KEY_NAME = "Open311 demo"
KEY_DAYS = 30


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        self.help = _("Issue an Open311 API key for the demo resident and print it.")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="resident", help=_("the key's person"))

    def handle(self, *args: Any, **options: Any) -> None:
        person = Person.objects.filter(username=options["username"], is_active=True).first()
        if person is None:
            self.stdout.write(
                _("No active account %(username)s here: no Open311 key was issued.")
                % {"username": options["username"]}
            )
            return
        now = timezone.now()
        for old in ApiToken.objects.filter(person=person, name=KEY_NAME, revoked_at=None):
            tokens.revoke_token(person, old, now=now)
        issued = tokens.issue_token(
            person, person=person, name=KEY_NAME, expires_at=now + timedelta(days=KEY_DAYS), now=now
        )
        self.stdout.write(
            _("Open311 (/open311/v2/) api_key, valid %(days)s days: %(secret)s")
            % {"days": KEY_DAYS, "secret": issued.secret}
        )
