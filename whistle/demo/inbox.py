"""The demo's inbox as the people who use it would have left it: what came more than
`UNREAD_FOR` before the build read, each entry some minutes after it came, the messages of
the last hours still unread.

The history's and the township's steps send their messages dated as their trail events and
records are (`whistle.demo.history.clock_stopped_at`); this step, the last of
``whistle seed-demo`` (whistle.demo.builders.BUILDERS), reads them as their readers would
have: their own entries, and those shared by the audiences their roles make them part of,
through the inbox's own marking (`mark_read`) with the clock at the moment of each reading.
Only a demo whose inbox nobody has read yet is touched: running it again, or on a demo in
use, changes nothing.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.demo.history import clock_stopped_at
from whistle.notifications.audiences import AUDIENCES
from whistle.notifications.models import Channel, InboxRead, InboxReadThrough, Notification
from whistle.notifications.outbox import Reading, mark_read
from whistle.organisation.models import Person

# What came within these last hours is still unread.
UNREAD_FOR = timedelta(hours=12)
# How many minutes after an entry came its reader read it, at the least and at the most.
READ_AFTER_MINUTES = (3, 90)


def read_by_nobody() -> bool:
    return not (
        Notification.objects.filter(channel=Channel.INBOX, read_at__isnull=False).exists()
        or InboxRead.objects.exists()
        or InboxReadThrough.objects.exists()
    )


def _members(audiences: set[str]) -> dict[str, list[Person]]:
    """The people of each audience, as their inbox sees them (`Reading.of`)."""
    roles = {role for audience in AUDIENCES for role in audience.roles}
    people = Person.objects.filter(is_active=True, roles__role__in=roles).distinct()
    found: dict[str, list[Person]] = defaultdict(list)
    for person in people.order_by("pk"):
        for audience in sorted(Reading.of(person).memberships & audiences):
            found[audience].append(person)
    return found


def readings(seed: int, before: datetime) -> list[tuple[datetime, int, Person, uuid.UUID]]:
    """Who reads which entry that came before `before`, and when: each (moment, order,
    reader, entry) in the order of the moments."""
    rng = random.Random(seed)
    entries = Notification.objects.filter(channel=Channel.INBOX, created_at__lt=before).order_by(
        "pk"
    )
    own = list(
        entries.filter(recipient__isnull=False)
        .select_related("recipient")
        .only("uuid", "created_at", "recipient")
    )
    shared = list(entries.filter(audience__isnull=False).only("uuid", "created_at", "audience"))
    members = _members({entry.audience for entry in shared if entry.audience})
    found: list[tuple[datetime, int, Person, uuid.UUID]] = []
    pairs = [(entry, entry.recipient) for entry in own if entry.recipient is not None] + [
        (entry, person) for entry in shared for person in members.get(entry.audience or "", [])
    ]
    for entry, person in pairs:
        late = timedelta(minutes=rng.randint(*READ_AFTER_MINUTES))
        found.append((min(entry.created_at + late, before), len(found), person, entry.uuid))
    return sorted(found, key=lambda reading: reading[:2])


def read_the_older_entries(seed: int, now: datetime) -> tuple[int, int]:
    """Mark read what came before `now - UNREAD_FOR`, each at its moment; return how many
    readings were made and how many entries are left unread."""
    before = now - UNREAD_FOR
    done = readings(seed, before)
    for moment, _order, person, entry in done:
        with clock_stopped_at(moment):
            mark_read(person, [entry])
    unread = Notification.objects.filter(channel=Channel.INBOX, created_at__gte=before).count()
    return len(done), unread


def build(city: Any) -> str:
    """The seed-demo builder step (whistle.demo.builders.BUILDERS)."""
    if not read_by_nobody():
        return _("Inbox: already read, left as it is.")
    read, unread = read_the_older_entries(city.seed, timezone.now())
    return _("Inbox: %(read)s messages read, %(unread)s of the last %(hours)s hours unread.") % {
        "read": read,
        "unread": unread,
        "hours": int(UNREAD_FOR.total_seconds() // 3600),
    }
