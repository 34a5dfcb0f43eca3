"""Photos from phones: checked by their content, turned upright, shrunk and re-encoded.

Whatever the file is called, Pillow must read it as a JPEG, PNG or WebP image. The stored
copy is a new JPEG written from the pixels alone: no EXIF block survives, so neither the
phone's GPS position nor its serial number leaves the device through us; the case keeps
the position the person confirmed on the form instead.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from whistle.street import conf

# Pillow's names of the formats accepted (MPO: the JPEG variant some phones write).
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
MAX_PIXELS = 60_000_000
THUMBNAIL_SIDE = 240


class PhotoRefused(Exception):
    def __init__(self, message: str | Promise, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class Photo:
    jpeg: bytes
    width: int
    height: int
    thumbnail: str  # a data: URI, small enough to show the photo again on a re-rendered form


def _read(upload: Any, limit: int) -> bytes:
    if isinstance(upload, bytes | bytearray):
        return bytes(upload[: limit + 1])
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise PhotoRefused(
            _("The photo is larger than %(mb)s MB."), mb=round(limit / 1024 / 1024, 1)
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    return bytes(upload.read(limit + 1))


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels; transparent parts become white, as a photo viewer would show them."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int, icc: bytes | None = None) -> bytes:
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": quality, "optimize": True, "progressive": True}
    if icc:
        options["icc_profile"] = icc
    image.save(out, format="JPEG", **options)
    return out.getvalue()


def process(upload: Any) -> Photo:
    """Check an uploaded photo and return it re-encoded; PhotoRefused says why not."""
    limit = conf.upload_max_bytes()
    content = _read(upload, limit)
    if not content:
        raise PhotoRefused(_("The photo file is empty."))
    if len(content) > limit:
        raise PhotoRefused(
            _("The photo is larger than %(mb)s MB."), mb=round(limit / 1024 / 1024, 1)
        )
    try:
        with Image.open(io.BytesIO(content)) as opened:
            if opened.format not in ACCEPTED_FORMATS:
                raise PhotoRefused(
                    _("This file is a %(format)s image; choose a JPEG, PNG or WebP photo."),
                    format=opened.format or "?",
                )
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise PhotoRefused(_("The photo has too many pixels."))
            opened.load()
            icc = opened.info.get("icc_profile")
            upright = ImageOps.exif_transpose(opened) or opened
            pixels = _flatten(upright)
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoRefused(
            _("This file cannot be read as a photo; choose a JPEG, PNG or WebP image.")
        ) from None
    side = conf.photo_max_side()
    pixels.thumbnail((side, side), Image.Resampling.LANCZOS)
    jpeg = _jpeg(pixels, conf.photo_quality(), icc if isinstance(icc, bytes) else None)
    small = pixels.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    thumbnail = "data:image/jpeg;base64," + base64.b64encode(_jpeg(small, 70)).decode("ascii")
    return Photo(jpeg=jpeg, width=pixels.width, height=pixels.height, thumbnail=thumbnail)


def reencode_for_display(content: bytes, side: int = 1280) -> bytes:
    """A stored photo as shown to the public: upright, at most `side` pixels, no EXIF."""
    with Image.open(io.BytesIO(content)) as opened:
        opened.load()
        pixels = _flatten(ImageOps.exif_transpose(opened) or opened)
    pixels.thumbnail((side, side), Image.Resampling.LANCZOS)
    return _jpeg(pixels, conf.photo_quality())
