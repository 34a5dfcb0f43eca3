"""``whistle vapid-keys``: a new VAPID key pair for Web Push, printed as settings lines."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from whistle.notifications.webpush import generate_vapid_keys


class Command(BaseCommand):
    help = (
        "Generate a VAPID key pair for Web Push and print the lines for .env. Keep the private "
        "key secret; changing it later makes every browser subscribe again."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--subject",
            default="mailto:whistle-admin@example.gov.cn",
            help="the contact the push services may write to (mailto: or https:)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        private, public = generate_vapid_keys()
        self.stdout.write(f"WHISTLE_VAPID_PRIVATE_KEY={private}")
        self.stdout.write(f"WHISTLE_VAPID_SUBJECT={options['subject']}")
        self.stdout.write(f"# The public key (browsers get it from the page): {public}")
