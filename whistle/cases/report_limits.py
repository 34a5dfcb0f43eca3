"""How many reports one resident sends: under one phone number, however it was written, or,
for a report without a number, under the signed-in account that sends it. The residents'
report form (`whistle.street.views_resident`) and the API's resident reports (the report a
signed-in resident's phone kept without signal and sends later) and Open311's requests that
carry a resident's number (`whistle.api.open311`) apply the same limit,
`WHISTLE_RESIDENT_REPORTS_PER_PHONE` per `WHISTLE_RESIDENT_REPORTS_PHONE_WINDOW` seconds
(docs/street.md, "Rate limits").

Counted in fixed windows in Django's cache; keys hold a SHA-256 digest of the number or the
account, never the value itself. With the default per-process cache each server process
counts on its own; a deployment with several processes configures a shared cache.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from whistle.organisation.personal_data import phone_digits


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: int  # seconds

    def _key(self, who: str) -> tuple[str, int]:
        digest = hashlib.sha256(f"{settings.SECRET_KEY}:{who}".encode()).hexdigest()[:32]
        window_no = int(time.time() // self.window)
        return f"street:rl:{self.name}:{digest}:{window_no}", window_no

    def count(self, who: str) -> int:
        key, _ = self._key(who)
        return int(cache.get(key, 0))

    def exceeded(self, who: str) -> bool:
        return self.count(who) >= self.limit

    def hit(self, who: str) -> int:
        key, _ = self._key(who)
        cache.add(key, 0, timeout=self.window)
        try:
            return int(cache.incr(key))
        except ValueError:
            # The entry expired between add and incr: this is the first hit of a window.
            cache.set(key, 1, timeout=self.window)
            return 1

    def retry_after(self) -> int:
        """Seconds until the current window ends."""
        return int(self.window - time.time() % self.window) + 1


# What a resident over the limit is told: on the form's phone field, or in the list of what
# the phone kept without signal.
NUMBER_LIMIT_REACHED = _(
    "This number has sent the most reports allowed for today. Call 12345 instead."
)
ACCOUNT_LIMIT_REACHED = _(
    "Your account has sent the most reports allowed for today. Call 12345 instead."
)
ACCOUNT = "account:"


def per_phone() -> tuple[int, int]:
    """Resident reports under one phone number (or one account): (how many, per seconds)."""
    return (
        int(getattr(settings, "WHISTLE_RESIDENT_REPORTS_PER_PHONE", 5)),
        int(getattr(settings, "WHISTLE_RESIDENT_REPORTS_PHONE_WINDOW", 86400)),
    )


def reports_by_phone() -> Limit:
    return Limit("reports-phone", *per_phone())


def phone_key(phone: str) -> str:
    """The same number however it was typed (`phone_digits`): 0086 138-0013-8000 counts
    as 13800138000."""
    return phone_digits(phone)


def resident_key(phone: str, reporter: Any = None) -> str:
    """Whose count a resident's report goes to: the number typed, else the signed-in
    account; "" for a report without either (only the address's limit applies)."""
    number = phone_key(phone or "")
    if number:
        return number
    if reporter is not None and getattr(reporter, "is_authenticated", False):
        return f"{ACCOUNT}{reporter.pk}"
    return ""


def refusal(key: str) -> Any:
    """What a resident over the limit under `key` is told."""
    return ACCOUNT_LIMIT_REACHED if key.startswith(ACCOUNT) else NUMBER_LIMIT_REACHED
