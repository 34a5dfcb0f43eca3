"""Photos uploaded through the desk forms: read by their content, re-encoded, limited."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import ValidationError
from PIL import Image

from tests.fixtures_desk import not_a_photo, photo_upload
from whistle.desk.photos import PhotosField, reencode

GPS_TAG = 0x8825
ORIENTATION_TAG = 0x0112


def exif_with_gps_and_rotation() -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6  # the phone was held upright: rotate 90° to show it
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_TAG)[2] = (39.0, 52.0, 21.0)
    return exif


def test_a_photo_is_re_encoded_upright_without_its_exif():
    upload = photo_upload(size=(80, 40), exif=exif_with_gps_and_rotation())
    with Image.open(io.BytesIO(upload.read())) as original:
        assert original.getexif()[ORIENTATION_TAG] == 6
    cleaned = reencode(upload.file.getvalue())
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.format == "JPEG"
        assert image.size == (40, 80)
        assert not image.getexif()


@pytest.mark.parametrize(("image_format", "expected"), [("PNG", "PNG"), ("WEBP", "WEBP")])
def test_png_and_webp_stay_what_they_are(image_format, expected):
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 128)).save(buffer, format=image_format)
    with Image.open(io.BytesIO(reencode(buffer.getvalue()))) as image:
        assert image.format == expected


def test_trailing_data_after_the_image_is_dropped():
    content = photo_upload().file.getvalue() + b"<?php system($_GET['c']); ?>"
    assert b"<?php" not in reencode(content)


@pytest.mark.parametrize(
    "upload",
    [
        not_a_photo(),
        photo_upload("anim.jpg", image_format="GIF"),
        SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg"),
    ],
    ids=["script-named-jpg", "gif", "empty"],
)
def test_what_is_not_a_jpeg_png_or_webp_photo_is_refused(upload):
    with pytest.raises(ValidationError):
        PhotosField().clean([upload])


def test_a_photo_over_the_size_limit_is_refused_by_name(settings):
    settings.WHISTLE_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as refused:
        PhotosField().clean([photo_upload("big.jpg", size=(200, 200))])
    assert "big.jpg" in str(refused.value)


def test_at_most_nine_photos_and_one_for_a_check_in():
    with pytest.raises(ValidationError):
        PhotosField().clean([photo_upload(f"{n}.jpg") for n in range(10)])
    with pytest.raises(ValidationError):
        PhotosField(multiple=False).clean([photo_upload("a.jpg"), photo_upload("b.jpg")])
    assert len(PhotosField().clean([photo_upload(f"{n}.jpg") for n in range(9)])) == 9


def test_no_photo_is_fine_unless_required():
    assert PhotosField().clean([]) == []
    with pytest.raises(ValidationError):
        PhotosField(required=True).clean([])
