"""Photos uploaded through the desk forms: checked by their content and re-encoded.

The browser's file name and content type mean nothing; Pillow reads the bytes. A photo is
accepted when Pillow recognises it as JPEG, PNG or WebP within the size and pixel limits
the case actions apply, and is then decoded and encoded again: what is stored is an image
Pillow wrote (no trailing data, no embedded scripts), turned upright, without its EXIF block
(which carries the phone's GPS position and serial number).
"""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from whistle.cases.actions import (
    MAX_PHOTO_PIXELS,
    MAX_PHOTOS,
    PHOTO_FORMATS,
    max_photo_bytes,
)

JPEG_QUALITY = 85
# Pillow's decoders read this many pixels of a file before they refuse it as a bomb.
_PIL_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
)


def reencode(content: bytes) -> bytes:
    """The photo decoded and written again in its own format; ValueError when it is not a
    photo the cases accept."""
    try:
        with Image.open(io.BytesIO(content)) as probe:
            image_format = probe.format or ""
            width, height = probe.size
            probe.verify()
    except _PIL_ERRORS:
        raise ValueError("unreadable") from None
    if image_format not in PHOTO_FORMATS:
        raise ValueError(image_format or "?")
    if width * height > MAX_PHOTO_PIXELS:
        raise ValueError("pixels")
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            output = io.BytesIO()
            if image_format == "JPEG":
                upright.convert("RGB").save(
                    output, format="JPEG", quality=JPEG_QUALITY, optimize=True
                )
            elif image_format == "PNG":
                keep = upright if upright.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else None
                (keep or upright.convert("RGBA")).save(output, format="PNG", optimize=True)
            else:
                mode = "RGBA" if "A" in upright.getbands() else "RGB"
                upright.convert(mode).save(output, format="WEBP", quality=JPEG_QUALITY)
    except _PIL_ERRORS:
        raise ValueError("unreadable") from None
    return output.getvalue()


def _photo_help_text() -> str:
    return str(_("JPEG, PNG or WebP, at most %(mb)s MB each.")) % {
        "mb": round(max_photo_bytes() / 1024 / 1024)
    }


# Built when shown, in the language of that request.
_photo_help = lazy(_photo_help_text, str)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to `MAX_PHOTOS` photos (or one, with `multiple=False`), cleaned to re-encoded
    bytes ready for the case actions."""

    def __init__(self, *, multiple: bool = True, **kwargs: Any) -> None:
        self.multiple = multiple
        attrs = {"accept": "image/jpeg,image/png,image/webp"}
        widget = MultipleFileInput(attrs=attrs) if multiple else forms.ClearableFileInput(attrs)
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _photo_help())
        super().__init__(widget=widget, **kwargs)

    def to_python(self, data: Any) -> Any:
        return data

    def clean(self, data: Any, initial: Any = None) -> list[bytes]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > (MAX_PHOTOS if self.multiple else 1):
            raise ValidationError(
                _("Send at most %(max)s photos at a time."),
                params={"max": MAX_PHOTOS if self.multiple else 1},
                code="too_many",
            )
        limit = max_photo_bytes()
        cleaned = []
        for upload in files:
            name = getattr(upload, "name", "") or "?"
            if getattr(upload, "size", 0) > limit:
                raise ValidationError(
                    _("%(name)s is larger than %(mb)s MB."),
                    params={"name": name, "mb": round(limit / 1024 / 1024, 1)},
                    code="too_large",
                )
            upload.seek(0)
            content = upload.read(limit + 1)
            if not content:
                raise ValidationError(_("%(name)s is empty."), params={"name": name}, code="empty")
            try:
                cleaned.append(reencode(content))
            except ValueError:
                raise ValidationError(
                    _("%(name)s is not a readable JPEG, PNG or WebP photo."),
                    params={"name": name},
                    code="not_a_photo",
                ) from None
        return cleaned
