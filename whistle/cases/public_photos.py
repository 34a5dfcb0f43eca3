"""The photos a case's follow page shows, and who may fetch them: the result's to anyone
with the reference, those sent with the report to its reporter alone (`sees_own_report`),
whether they ask through the follow page (`whistle.street`) or the API with their token
(`GET /api/v1/cases/{reference}/photos/{sha256}`, named by the photo's digest, since the
API names nothing by its database id). Each is served re-encoded, without its EXIF
block (`public_copy`)."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile

from whistle.cases.images import CONTENT_TYPE, EXTENSION, PhotoRefused, prepare
from whistle.cases.models import Attachment, Case
from whistle.cases.public_timeline import REPORT_PURPOSES, RESULT_PURPOSES, sees_own_report

# Photos shown outside the case pages are at most this many pixels on their longer side.
PUBLIC_PHOTO_SIDE = 1280
# The headers of a served photo: kept by the reader's browser only, never sniffed.
PHOTO_HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


def public_copy(attachment: Attachment) -> tuple[bytes, str]:
    """A photo as the follow page shows it (re-encoded, without its EXIF block, at most
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


def followed_photo(
    reference: str, person: Any, *, pk: int | None = None, sha256: str | None = None
) -> tuple[bytes, str] | None:
    """The photo of the case `reference` (by its `pk`, as the follow page names it, or by its
    `sha256`, as the API does) as its follow page shows it to `person`, and its content
    type: a photo of the result to anyone, one sent with the report only to the resident who
    reported the case with their account, before its personal data is erased. None for
    anyone else, and for a photo that is not there or cannot be read."""
    found = Attachment.objects.filter(
        case__reference=reference, purpose__in=[*RESULT_PURPOSES, *REPORT_PURPOSES]
    )
    if pk is not None:
        found = found.filter(pk=pk)
    elif sha256 is not None:
        found = found.filter(sha256=sha256)
    else:
        return None
    own: bool | None = None
    # The same picture may be kept twice in a case: the first that the person may see.
    for attachment in found.only("file", "sha256", "purpose", "case_id").order_by("pk")[:8]:
        if attachment.purpose in REPORT_PURPOSES:
            if own is None:
                own = sees_own_report(Case.objects.get(pk=attachment.case_id), person)
            if not own:
                continue
        try:
            return public_copy(attachment)
        except (OSError, PhotoRefused):
            return None
    return None
