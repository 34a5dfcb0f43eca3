"""One pipeline for every uploaded photo (whistle.cases.images): the header is checked before
anything is decoded, a JPEG is decoded at the scale it needs, the photo is turned upright,
shrunk and written again as a JPEG without any metadata; reports, the desk's forms, the case
actions and appeals all store what it writes."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image, ImageCms, ImageFile

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import (
    beijing,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_district import rate_july, scored_july_fixture  # noqa: F401
from tests.fixtures_street import (  # noqa: F401  (fixtures)
    ON_THE_LANE,
    gps_exif,
    noisy_jpeg,
    png_bytes,
    street_fixture,
)
from whistle.assessment.editing import appeal_with_photos
from whistle.cases import actions
from whistle.cases.images import MAX_PIXELS, Photo, PhotoRefused, prepare
from whistle.cases.models import Attachment, Case
from whistle.web.photos import PhotosField

NOW = beijing(2026, 3, 10, 9, 30)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def sideways_phone_photo() -> bytes:
    """What a phone held upright writes: landscape pixels, black on the left and white on the
    right, with EXIF saying "turn 90° clockwise to view", its GPS position and its make."""
    image = Image.new("RGB", (400, 200), "white")
    image.paste("black", (0, 0, 200, 200))
    exif = Image.Exif()
    exif.load(gps_exif())
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def assert_upright_without_metadata(content: bytes) -> None:
    """Stored upright (portrait, the black half on top) with no EXIF, GPS or make left."""
    image = opened(content)
    assert (image.format, image.size) == ("JPEG", (200, 400))
    top, bottom = image.getpixel((100, 50)), image.getpixel((100, 350))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert max(top) < 40 and min(bottom) > 215
    assert not image.getexif() and "exif" not in image.info
    assert b"PhoneMaker" not in content


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG file that declares an enormous image: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def decoded_sizes(monkeypatch) -> list[tuple[int, int]]:
    """The size of every image Pillow decodes (loads) while the test runs."""
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def spy(self):
        sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


# The header, before decoding ---------------------------------------------------------------


def test_a_header_declaring_more_than_the_pixel_limit_is_refused_before_decoding(decoded_sizes):
    bomb = png_header(10_000, 6_001)
    assert MAX_PIXELS < 10_000 * 6_001 and len(bomb) < 100
    with pytest.raises(PhotoRefused) as refused:
        prepare(bomb)
    assert str(refused.value) == "照片像素过多（最多 60 百万像素）。"
    assert decoded_sizes == []


def test_a_header_beyond_pillows_own_bomb_limit_is_refused_as_too_many_pixels(decoded_sizes):
    with pytest.raises(PhotoRefused) as refused:
        prepare(png_header(30_000, 30_000))
    assert str(refused.value) == "照片像素过多（最多 60 百万像素）。"
    assert decoded_sizes == []


def test_a_header_of_exactly_the_pixel_limit_goes_on_to_decoding(monkeypatch):
    attempts: list[tuple[int, int]] = []

    def decode_nothing(self):
        # Stands in for the decoder, without allocating 180 MB for the pixels.
        attempts.append(self.size)
        raise OSError("not decoded in this test")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode_nothing)
    with pytest.raises(PhotoRefused) as refused:
        prepare(png_header(10_000, 6_000))
    assert attempts == [(10_000, 6_000)]
    assert str(refused.value) == "照片不是可读取的 JPEG、PNG 或 WebP 图片。"


def test_a_text_file_named_jpg_is_refused_whatever_its_name():
    upload = SimpleUploadedFile("photo.jpg", "井盖丢了".encode(), content_type="image/jpeg")
    with pytest.raises(PhotoRefused) as refused:
        prepare(upload)
    assert str(refused.value) == "照片不是可读取的 JPEG、PNG 或 WebP 图片。"


def test_a_gif_and_an_empty_file_are_refused_naming_what_they_are():
    gif = io.BytesIO()
    Image.new("P", (4, 4)).save(gif, format="GIF")
    with pytest.raises(PhotoRefused) as refused:
        prepare(gif.getvalue(), label="anim.jpg")
    assert str(refused.value) == "anim.jpg是 GIF 格式的图片，请选择 JPEG、PNG 或 WebP 照片。"
    with pytest.raises(PhotoRefused) as refused:
        prepare(b"")
    assert str(refused.value) == "照片是空文件。"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(settings):
    settings.WHISTLE_PHOTO_UPLOAD_MAX_BYTES = 1024 * 1024

    class Upload:
        """A browser's file as Django hands it over: its size is known before reading."""

        name = "big.jpg"
        size = 5_000_000

        def read(self, *args):
            pytest.fail("the file was read")

    with pytest.raises(PhotoRefused) as refused:
        prepare(Upload())
    assert refused.value.field == "photos"
    assert str(refused.value) == "照片超过 1.0 MB。"
    with pytest.raises(PhotoRefused) as refused:
        prepare(noisy_jpeg((2000, 1500)))
    assert str(refused.value) == "照片超过 1.0 MB。"


def test_a_truncated_jpeg_is_refused():
    content = noisy_jpeg((300, 300))
    with pytest.raises(PhotoRefused):
        prepare(content[: len(content) // 3])


# Decoding and writing ------------------------------------------------------------------------


def test_a_large_jpeg_is_decoded_only_at_the_scale_it_is_stored_at(settings, decoded_sizes):
    settings.WHISTLE_PHOTO_MAX_SIDE = 256
    photo = prepare(noisy_jpeg((2048, 1536)))
    # Decoded at 1/8 of its size: 256 × 192 pixels in memory, never 2048 × 1536.
    assert decoded_sizes[0] == (256, 192)
    assert (photo.width, photo.height) == (256, 192)


def test_a_big_photo_is_shrunk_within_the_longest_side(settings):
    settings.WHISTLE_PHOTO_MAX_SIDE = 2048
    original = noisy_jpeg((4000, 3000))
    photo = prepare(SimpleUploadedFile("IMG_0001.JPG", original, content_type="image/jpeg"))
    assert len(photo.content) < len(original) / 2
    assert opened(photo.content).size == (2048, 1536) == (photo.width, photo.height)


def test_a_rotated_phone_photo_is_stored_upright_without_its_exif_and_gps():
    original = sideways_phone_photo()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif()[ORIENTATION] == 6 and before.getexif().get_ifd(GPS_IFD)
    assert_upright_without_metadata(prepare(original).content)


def test_comments_xmp_colour_profiles_and_trailing_data_do_not_survive():
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(
        buffer,
        format="JPEG",
        comment=b"owner: Zhang Wei 13800138000",
        xmp=b"<x:xmpmeta>Zhang Wei</x:xmpmeta>",
        icc_profile=profile,
    )
    content = buffer.getvalue() + b"<?php system($_GET['c']); ?>"
    stored = prepare(content).content
    assert b"Zhang Wei" not in stored and b"<?php" not in stored
    after = opened(stored)
    assert not {"comment", "xmp", "icc_profile", "exif"} & set(after.info)
    pixel = after.getpixel((32, 24))
    assert isinstance(pixel, tuple)
    assert all(abs(a - b) <= 6 for a, b in zip(pixel, (200, 120, 40), strict=True))


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_png_and_webp_are_stored_as_jpeg_and_transparency_becomes_white(image_format):
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(buffer, format=image_format)
    photo = prepare(buffer.getvalue())
    image = opened(photo.content)
    assert (photo.content_type, image.format, image.mode) == ("image/jpeg", "JPEG", "RGB")
    pixel = image.getpixel((5, 5))
    assert isinstance(pixel, tuple) and min(pixel) > 240


# Every upload path stores what the pipeline writes ------------------------------------------


def test_the_case_actions_store_uploads_through_the_pipeline(whistle_city):
    case = reported_case(whistle_city, at=NOW, photos=[sideways_phone_photo()])
    (attachment,) = Attachment.objects.filter(case=case)
    with attachment.file.open("rb") as stored:
        assert_upright_without_metadata(stored.read())


def test_the_case_actions_name_a_refused_photo_by_its_number(whistle_city):
    with pytest.raises(actions.InvalidInput) as refused:
        reported_case(whistle_city, at=NOW, photos=[png_bytes(), b"not a photo"])
    assert refused.value.field == "photos"
    assert str(refused.value) == "第 2 张照片不是可读取的 JPEG、PNG 或 WebP 图片。"


def test_the_desk_and_district_photo_field_cleans_to_pipeline_photos_stored_as_they_are(
    whistle_city,
):
    upload = SimpleUploadedFile("IMG_2041.jpg", sideways_phone_photo(), content_type="image/jpeg")
    (photo,) = PhotosField().clean([upload])
    assert isinstance(photo, Photo)
    assert_upright_without_metadata(photo.content)
    case = reported_case(whistle_city, at=NOW, photos=[photo])
    (attachment,) = Attachment.objects.filter(case=case)
    with attachment.file.open("rb") as stored:
        assert stored.read() == photo.content  # not decoded and written a second time
    assert attachment.sha256 == photo.sha256


def test_the_photo_field_names_a_refused_file(settings):
    settings.WHISTLE_PHOTO_UPLOAD_MAX_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("big.jpg", noisy_jpeg((2000, 1500)), content_type="image/jpeg")
    assert (upload.size or 0) > 1024 * 1024
    with pytest.raises(ValidationError) as refused:
        PhotosField().clean([upload])
    assert refused.value.messages == ["big.jpg：该文件超过 1.0 MB。"]


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("zh-hans", "evil.pdf：该文件不是可读取的 JPEG、PNG 或 WebP 图片。"),
        ("en", "evil.pdf: This file is not a readable JPEG, PNG or WebP image."),
    ],
)
def test_the_photo_field_sets_the_files_name_apart_from_the_reason(language, says):
    upload = SimpleUploadedFile("evil.pdf", b"%PDF-1.7", content_type="application/pdf")
    with translation.override(language), pytest.raises(ValidationError) as refused:
        PhotosField().clean([upload])
    assert refused.value.messages == [says]


def test_a_steward_s_report_stores_its_photo_through_the_pipeline(client, street):
    client.force_login(street.steward)
    upload = SimpleUploadedFile("IMG_2041.jpg", sideways_phone_photo(), content_type="image/jpeg")
    response = client.post(
        "/patrol/report/",
        {
            "description": "人民市场东巷有游商摆摊占道",
            "lon": str(ON_THE_LANE[0]),
            "lat": str(ON_THE_LANE[1]),
            "accuracy_m": "8",
            "category": street.vending.pk,
            "photo": upload,
        },
    )
    assert response.status_code == 302
    (attachment,) = Attachment.objects.filter(case=Case.objects.get())
    with attachment.file.open("rb") as stored:
        assert_upright_without_metadata(stored.read())


def test_an_appeal_stores_its_evidence_through_the_pipeline(scored):
    july = scored
    rate_july(july)
    with time_machine.travel(bj(16, 10), tick=False):
        appeal = appeal_with_photos(
            july.urban_officer,
            july.summonses["c3_urban"],
            "came",
            {"came": "on_time"},
            "执法队员10:20已到场，定位信号弱未能签到",
            photos=[sideways_phone_photo()],
        )
    (attachment,) = appeal.attachments.all()
    assert attachment.purpose == Attachment.Purpose.APPEAL
    with attachment.file.open("rb") as stored:
        assert_upright_without_metadata(stored.read())
