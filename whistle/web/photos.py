"""The photo field of the desk's and the district's forms: files checked and re-encoded by
the cases' image pipeline (`whistle.cases.images`) while the form is validated, so that a
refused file comes back on the form, by its name, before any action runs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from whistle.cases.actions import MAX_PHOTOS
from whistle.cases.images import Photo, PhotoRefused, prepare, upload_max_bytes


def _photo_help_text() -> str:
    return str(_("JPEG, PNG or WebP, at most %(mb)s MB each.")) % {
        "mb": round(upload_max_bytes() / 1024 / 1024)
    }


# Built when shown, in the language of that request.
_photo_help = lazy(_photo_help_text, str)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to `MAX_PHOTOS` photos (or one, with `multiple=False`), cleaned to photos ready
    for the case actions."""

    def __init__(self, *, multiple: bool = True, **kwargs: Any) -> None:
        self.multiple = multiple
        self.max_photos = MAX_PHOTOS if multiple else 1
        attrs = {"accept": "image/jpeg,image/png,image/webp"}
        widget = MultipleFileInput(attrs=attrs) if multiple else forms.ClearableFileInput(attrs)
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _photo_help())
        super().__init__(widget=widget, **kwargs)

    def to_python(self, data: Any) -> Any:
        return data

    def clean(self, data: Any, initial: Any = None) -> list[Photo]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        most = self.max_photos
        if len(files) > most:
            raise ValidationError(
                _("Send at most %(max)s photos at a time."), params={"max": most}, code="too_many"
            )
        photos = []
        for upload in files:
            try:
                photos.append(prepare(upload, label=_("This file")))
            except PhotoRefused as refused:
                # The file's name, then the reason: "evil.pdf：该文件不是…".
                name = getattr(upload, "name", "") or "?"
                raise ValidationError(f"{name}{_(': ')}{refused}", code="not_a_photo") from None
        return photos
