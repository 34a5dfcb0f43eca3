"""Photos from phones: checked by content, size-limited, turned upright, shrunk, and stripped
of EXIF (the GPS position and the camera) before anything is stored."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.fixtures_street import gps_exif, noisy_jpeg, png_bytes
from whistle.street.images import PhotoRefused, process, reencode_for_display


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def test_a_text_file_renamed_jpg_is_refused():
    upload = SimpleUploadedFile("photo.jpg", "井盖丢了".encode(), content_type="image/jpeg")
    with pytest.raises(PhotoRefused) as refused:
        process(upload)
    assert "JPEG" in str(refused.value)


def test_an_empty_file_and_a_gif_are_refused():
    with pytest.raises(PhotoRefused):
        process(SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg"))
    gif = io.BytesIO()
    Image.new("P", (4, 4)).save(gif, format="GIF")
    with pytest.raises(PhotoRefused) as refused:
        process(SimpleUploadedFile("anim.jpg", gif.getvalue(), content_type="image/jpeg"))
    assert "GIF" in str(refused.value)


def test_a_file_over_the_limit_is_refused_before_it_is_decoded(settings):
    settings.WHISTLE_PHOTO_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(PhotoRefused) as refused:
        process(SimpleUploadedFile("big.jpg", noisy_jpeg((200, 200)), content_type="image/jpeg"))
    assert "MB" in str(refused.value)


def test_a_truncated_jpeg_is_refused():
    content = noisy_jpeg((300, 300))
    with pytest.raises(PhotoRefused):
        process(content[: len(content) // 3])


def test_a_big_photo_is_re_encoded_smaller_within_the_longest_side(settings):
    settings.WHISTLE_PHOTO_MAX_SIDE = 2048
    original = noisy_jpeg((4000, 3000))  # about 7.6 MB, as a 12-megapixel phone writes
    photo = process(SimpleUploadedFile("IMG_0001.JPG", original, content_type="image/jpeg"))
    assert len(photo.jpeg) < len(original) / 2
    image = opened(photo.jpeg)
    assert image.format == "JPEG"
    assert image.size == (2048, 1536)
    assert (photo.width, photo.height) == (2048, 1536)


def test_the_exif_block_with_its_gps_position_is_removed():
    original = noisy_jpeg((640, 480), exif=gps_exif())
    assert opened(original).getexif().get(0x8825)  # the GPS block is there before
    photo = process(original)
    image = opened(photo.jpeg)
    assert not image.getexif()
    assert "exif" not in image.info
    assert b"PhoneMaker" not in photo.jpeg


def test_a_photo_taken_sideways_is_turned_upright_before_its_exif_goes():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    content = noisy_jpeg((400, 300), exif=exif.tobytes())
    image = opened(process(content).jpeg)
    assert image.size == (300, 400)


def test_a_transparent_png_becomes_a_jpeg_on_white():
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(buffer, format="PNG")
    image = opened(process(buffer.getvalue()).jpeg)
    assert image.mode == "RGB"
    pixel = image.getpixel((5, 5))
    assert isinstance(pixel, tuple) and pixel[1] > 240  # white, not black


def test_the_thumbnail_is_a_small_jpeg_data_uri():
    photo = process(png_bytes((800, 600)))
    assert photo.thumbnail.startswith("data:image/jpeg;base64,")
    assert len(photo.thumbnail) < 20_000


def test_photos_shown_to_the_public_lose_their_exif_too():
    shown = reencode_for_display(noisy_jpeg((2000, 1000), exif=gps_exif()), side=1280)
    image = opened(shown)
    assert image.size == (1280, 640)
    assert not image.getexif()
