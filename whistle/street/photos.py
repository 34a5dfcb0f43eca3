"""The photo field of the report forms: check the new file, or find the one kept from an
earlier attempt, so that a form sent back never silently drops the photo."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext as _

from whistle.cases.images import Photo, PhotoRefused, prepare
from whistle.street import kept

# The small copy shown again on a form sent back.
THUMBNAIL_SIDE = 240


@dataclass
class PhotoState:
    photo: Photo | None = None
    # A data: URI, small enough to show the photo again on a re-rendered form.
    thumbnail: str = ""
    token: str = ""
    # Why the photo must be chosen again, shown on the photo field.
    error: str = ""


def thumbnail(photo: Photo) -> str:
    small = prepare(photo.content, side=THUMBNAIL_SIDE, quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(small.content).decode("ascii")


def take_photo(request: HttpRequest, *, decode: bool = True) -> PhotoState:
    """The photo of this submission: a newly chosen file (checked and re-encoded), else the
    one kept under the form's token; a file that is not a photo is refused.

    With `decode` false (a visitor who has not answered the question yet) a newly chosen
    file is not opened at all: decoding costs the server far more than the request costs
    the sender, so only a person who passed the check gets that work done for them."""
    upload = request.FILES.get("photo")
    previous = request.POST.get("photo_token", "")
    if upload is not None and not decode:
        return PhotoState(error=_("Answer the question first, then choose the photo again."))
    if upload is not None:
        try:
            photo = prepare(upload, field="photo")
        except PhotoRefused as refused:
            return PhotoState(error=_("%(reason)s Choose the photo again.") % {"reason": refused})
        small = thumbnail(photo)
        kept.drop(previous)
        return PhotoState(photo=photo, thumbnail=small, token=kept.keep(request, photo, small))
    if previous:
        found = kept.find(request, previous)
        if found is None:
            return PhotoState(
                error=_("The photo chosen earlier has expired. Choose the photo again.")
            )
        photo, small = found
        return PhotoState(photo=photo, thumbnail=small, token=previous)
    return PhotoState()


def attach(form: forms.Form, state: PhotoState) -> None:
    """Show why the photo must be chosen again on a validated form."""
    if state.error:
        form.add_error("photo", state.error)
