"""What anyone may see of a case, with its reference number: its status, a timeline in plain
words without names, notes or phone numbers (`whistle.cases.public_timeline`, which the API
gives too), and the photos of the result. (The city's lanes, for residents to choose a place,
are `whistle.web.places`.)"""

from __future__ import annotations

import re

from django.core.files.base import ContentFile

from whistle.cases.images import CONTENT_TYPE, EXTENSION, prepare
from whistle.cases.models import Attachment

REFERENCE = re.compile(r"^[2-9A-HJ-NP-Z]{10}$")


def normal_reference(text: str) -> str:
    """A reference as typed (spaces, dashes, lower case) in its stored form."""
    return re.sub(r"[\s-]+", "", text or "").upper()


# Result photos are shown to the public at most this many pixels on their longer side.
PUBLIC_PHOTO_SIDE = 1280


def public_copy(attachment: Attachment) -> tuple[bytes, str]:
    """A result photo as the public sees it (re-encoded, without its EXIF block, at most
    `PUBLIC_PHOTO_SIDE` wide), and its content type.

    Made once per stored photo and kept beside the originals, named by the photo's digest,
    so that every process serves the same copy and a GET costs a file read, not a decoding.
    Raises OSError or PhotoRefused when the stored file cannot be read as a photo."""
    storage = attachment.file.storage
    name = f"public/{attachment.sha256}-{PUBLIC_PHOTO_SIDE}.{EXTENSION}"
    if storage.exists(name):
        with storage.open(name, "rb") as kept:
            return kept.read(), CONTENT_TYPE
    with attachment.file.open("rb") as handle:
        shown = prepare(handle.read(), side=PUBLIC_PHOTO_SIDE)
    # Two processes making the same copy at once each save one; the second under another
    # name, which only costs its bytes.
    storage.save(name, ContentFile(shown.content))
    return shown.content, shown.content_type
