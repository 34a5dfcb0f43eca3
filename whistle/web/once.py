"""A form that files something files it once, however often it is sent.

A double tap on a phone, a slow network's resend or the back button after sending would
otherwise send the same form twice and file the same report twice. Each such form carries a
one-time key, made when the form is rendered (`{% once_field %}`, the hidden field
`FIELD`), and sent back unchanged when the form is shown again with its errors. The view
files inside `filing(key)`: the key is claimed (a `SentForm` row, the key unique) in the
transaction that files, and the reference of what was filed is kept with it. A second
sending of the same key files nothing and leads where the first led:

- before anything is checked, the view asks `filed_under` (one read, no waiting): a sending
  whose first was written long ago stops there;
- before a form whose check failed answers with its errors (the first may have used up the
  kept photo or the question), the view asks `first_reference`, which waits for a sending
  still filing under the key;
- sent while the first is still filing and passing its checks, its claim waits for the
  first's transaction (the unique key) and fails once the first is written: `AlreadySent`
  names the first's reference. Had the first failed, its claim was undone with it and the
  second files.

A form sent without a key (a page rendered before the key existed) files as before.

Keys are not personal data: a random string, a time, a reference. They are kept `KEPT`
(a resend comes within minutes; a week covers a phone that lost its signal mid-send and
sends the page again days later). One claim in `PRUNE_EVERY`, at random, first removes the
keys older than that (one indexed DELETE in a transaction of its own), so the table holds
about a week of filings and a filing seldom pays for it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from whistle.web.models import SentForm

FIELD = "sent_once"
KEPT = timedelta(days=7)
PRUNE_EVERY = 32
_KEY = re.compile(r"^[A-Za-z0-9_-]{32}$")


class AlreadySent(Exception):
    """The key was claimed by an earlier sending of the form, which filed `reference`."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


class Filing:
    """What the block inside `filing` filed: the view names its reference."""

    reference = ""


def new_key() -> str:
    return secrets.token_urlsafe(24)


def posted_key(request: HttpRequest) -> str:
    """The key the form sent, or "" when it sent none (or not one of ours)."""
    key = request.POST.get(FIELD, "")
    return key if _KEY.match(key) else ""


def form_key(request: HttpRequest) -> str:
    """The key to render into the form: the one it was sent with when it is shown again
    (nothing was filed under it), else a new one."""
    return posted_key(request) or new_key()


class _Free(Exception):
    """The key was free: the probe that found out is undone."""


def filed_under(key: str) -> str | None:
    """The reference filed under `key` so far, or None (read only, without waiting)."""
    if not _KEY.match(key):
        return None
    return SentForm.objects.filter(key=key).values_list("reference", flat=True).first()


def first_reference(key: str) -> str | None:
    """The reference filed under `key`, or None when nothing was. A sending filing under the
    key at this moment is waited for: the key is claimed for a moment and let go again, a
    claim the database holds back until the other transaction ends."""
    found = filed_under(key)
    if found is not None or not _KEY.match(key):
        return found
    try:
        with transaction.atomic():
            SentForm.objects.create(key=key, sent_at=timezone.now())
            raise _Free
    except _Free:
        return None
    except IntegrityError:
        return filed_under(key)


def prune() -> int:
    count, _by_model = SentForm.objects.filter(sent_at__lt=timezone.now() - KEPT).delete()
    return count


@contextmanager
def filing(key: str) -> Iterator[Filing]:
    """One transaction that claims `key` and files: raises `AlreadySent` when an earlier
    sending claimed the key (waiting for it while it still files), else runs the block,
    which sets the `Filing`'s reference. An error in the block undoes the claim too.

    The claim is the transaction's first row: a refused claim ends the transaction, and the
    first sending's reference is read after it, outside."""
    if key and secrets.randbelow(PRUNE_EVERY) == 0:
        prune()
    filed = Filing()
    try:
        with transaction.atomic():
            if key:
                SentForm.objects.create(key=key, sent_at=timezone.now())
            yield filed
            if key:
                if not filed.reference:
                    raise RuntimeError("A form filed under a one-time key must name what it filed.")
                SentForm.objects.filter(key=key).update(reference=filed.reference)
    except IntegrityError:
        first = filed_under(key) if key else None
        if first is None:
            raise
        raise AlreadySent(first) from None
