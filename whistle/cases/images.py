"""Every uploaded photo passes here, whichever page or action receives it: a steward's or a
resident's report, the desk's check-in, progress, result and check photos, an appeal's
evidence.

The steps, in this order:

1. the upload's size, refused before more than the limit is read;
2. the header: Pillow reads the format and the declared dimensions only. A file that is not
   a JPEG, PNG or WebP image, whatever its name says, or that declares more than
   `MAX_PIXELS` pixels, is refused before a single pixel is decoded (a small file can
   declare an enormous image: a decompression bomb);
3. decoding with bounded memory: a JPEG is decoded directly at a reduced scale (1/2, 1/4 or
   1/8, as far as the target size allows), so a large phone photo never sits in memory at
   full size; other formats are bounded by `MAX_PIXELS`;
4. turned upright by its EXIF orientation, colours converted to sRGB when the file embeds a
   colour profile, transparency laid on white;
5. shrunk to `WHISTLE_PHOTO_MAX_SIDE` pixels on its longer side and written as a new JPEG
   from the pixels alone: no EXIF block (the phone's GPS position, its serial number), no
   XMP, colour profile or comment, no data after the image.

The same steps make the smaller copies the pages show (`prepare(..., side=240)`).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps

from whistle.cases.errors import InvalidInput

logger = logging.getLogger("whistle.images")

# Pillow's names of the formats accepted (MPO: the JPEG variant some phones write).
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
# The most pixels a file may declare: a 60-megapixel RGBA image decodes to 240 MB.
MAX_PIXELS = 60_000_000
CONTENT_TYPE = "image/jpeg"
EXTENSION = "jpg"


def upload_max_bytes() -> int:
    """The largest file accepted, before it is re-encoded."""
    return int(settings.WHISTLE_PHOTO_UPLOAD_MAX_BYTES)


def max_side() -> int:
    return int(settings.WHISTLE_PHOTO_MAX_SIDE)


def jpeg_quality() -> int:
    return int(settings.WHISTLE_PHOTO_JPEG_QUALITY)


class PhotoRefused(InvalidInput):
    """The file is not a photo the product stores; the message names it by `photo`."""

    code = "photo"


@dataclass(frozen=True)
class Photo:
    """A photo as stored: a JPEG written by `prepare`."""

    content: bytes
    width: int
    height: int
    content_type: str = CONTENT_TYPE
    extension: str = EXTENSION

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def prepare(
    upload: Any,
    *,
    label: str | Promise | None = None,
    field: str = "photos",
    side: int | None = None,
    quality: int | None = None,
) -> Photo:
    """Check an upload (bytes or a file) and return it re-encoded; PhotoRefused says why
    not, naming the file by `label` ("The photo" when not given)."""
    label = label if label is not None else _("The photo")
    content = _read(upload, label, field)
    try:
        with Image.open(io.BytesIO(content)) as image:
            _check_header(image, label, field)
            return _reencode(image, side or max_side(), quality or jpeg_quality())
    except PhotoRefused:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels(label, field) from None
    except Exception as exc:
        # Pillow's decoders answer malformed input with many kinds of error; whichever it
        # is, the file is not a photo the product can store.
        logger.debug("photo refused as unreadable: %s: %s", type(exc).__name__, exc)
        raise PhotoRefused(
            field, _("%(photo)s is not a readable JPEG, PNG or WebP image."), photo=label
        ) from None


def _read(upload: Any, label: str | Promise, field: str) -> bytes:
    limit = upload_max_bytes()
    too_large = PhotoRefused(
        field,
        _("%(photo)s is larger than %(mb)s MB."),
        photo=label,
        mb=round(limit / 1024 / 1024, 1),
    )
    if isinstance(upload, bytes | bytearray):
        content = bytes(upload[: limit + 1])
    elif hasattr(upload, "read"):
        size = getattr(upload, "size", None)
        if isinstance(size, int) and size > limit:
            raise too_large
        if hasattr(upload, "seek"):
            upload.seek(0)
        content = bytes(upload.read(limit + 1))
    else:
        raise PhotoRefused(field, _("%(photo)s is not a file."), photo=label)
    if not content:
        raise PhotoRefused(field, _("%(photo)s is empty."), photo=label)
    if len(content) > limit:
        raise too_large
    return content


def _too_many_pixels(label: str | Promise, field: str) -> PhotoRefused:
    return PhotoRefused(
        field,
        _("%(photo)s has too many pixels (at most %(max)s megapixels)."),
        photo=label,
        max=MAX_PIXELS // 1_000_000,
    )


def _check_header(image: Image.Image, label: str | Promise, field: str) -> None:
    """What the header says, before anything is decoded."""
    if image.format not in ACCEPTED_FORMATS:
        raise PhotoRefused(
            field,
            _("%(photo)s is a %(format)s image; choose a JPEG, PNG or WebP photo."),
            photo=label,
            format=image.format or "?",
        )
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(label, field)


def _reencode(image: Image.Image, side: int, quality: int) -> Photo:
    width, height = image.size
    scale = side / max(width, height)
    if scale < 1:
        # JPEG only: the decoder itself skips the detail the target size does not need.
        image.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
    image.load()
    profile = image.info.get("icc_profile")
    pixels = _plain_mode(image)
    # Shrunk before anything else, so that every later step works on the small copy; the
    # bounding box is square, so turning the photo upright afterwards gives the same size.
    pixels.thumbnail((side, side), Image.Resampling.BICUBIC)
    ImageOps.exif_transpose(pixels, in_place=True)
    pixels = _on_white(_in_srgb(pixels, profile if isinstance(profile, bytes) else None))
    # Nothing but the pixels is written: Pillow would otherwise carry a comment over.
    pixels.info = {}
    output = io.BytesIO()
    # Optimised Huffman tables: a few per cent smaller for little time; progressive encoding
    # would cost several times the encoding for little more.
    pixels.save(output, format="JPEG", quality=quality, optimize=True)
    return Photo(output.getvalue(), pixels.width, pixels.height)


def _has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or (image.mode == "P" and "transparency" in image.info)


def _plain_mode(image: Image.Image) -> Image.Image:
    """The image itself when its pixels are plain RGB(A), grey or CMYK values, else a copy
    that is (palettes and 16-bit modes resize and convert badly)."""
    if image.mode in ("RGB", "RGBA", "L", "CMYK"):
        return image
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


def _in_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """The image's colours in sRGB, so that they survive the profile's removal."""
    if not profile:
        return image
    try:
        converted = ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(profile)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGBA" if image.mode == "RGBA" else "RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A profile that does not fit the pixels: the pixels as they are.
        return image
    return converted if converted is not None else image


def _on_white(image: Image.Image) -> Image.Image:
    """RGB pixels; transparent parts white, as a photo viewer shows them."""
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")
