"""The favicon: drawn as shapes in code, written as SVG, PNG and ICO into static/, linked by
every page, and answered at /favicon.ico."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from PIL import Image, ImageChops, ImageStat

from whistle.web import favicon

STATIC = Path(settings.BASE_DIR) / "static" / "whistle"


def test_the_svg_in_static_is_the_one_the_shapes_draw():
    assert (STATIC / "favicon.svg").read_text(encoding="utf-8") == favicon.svg()


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean difference of two images' channels, 0 to 255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 4


def rgb(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    pixel = image.getpixel((x, y))
    assert isinstance(pixel, tuple)
    return (pixel[0], pixel[1], pixel[2])


def test_the_png_in_static_is_the_shapes_rendered_at_180_pixels():
    stored = Image.open(STATIC / "favicon.png").convert("RGBA")
    assert stored.size == (180, 180)
    assert difference(stored, favicon.render(180)) < 1
    # The brand red below the whistle, its white body left of the middle.
    assert rgb(stored, 60, 60) == (255, 255, 255)
    assert rgb(stored, 90, 172) == (0x8E, 0x1B, 0x1B)


def test_the_ico_holds_16_32_and_48_pixel_renderings():
    ico = Image.open(STATIC / "favicon.ico")
    assert ico.info["sizes"] == {(16, 16), (32, 32), (48, 48)}
    for size in (16, 32, 48):
        ico.size = (size, size)  # type: ignore[misc]  # how Pillow picks an ICO's image
        assert difference(ico.convert("RGBA"), favicon.render(size)) < 2, size


def test_writing_again_gives_the_same_files(tmp_path):
    for path in favicon.write(tmp_path):
        stored = STATIC / path.name
        if path.suffix == ".svg":
            assert path.read_bytes() == stored.read_bytes()
        else:
            assert (
                difference(
                    Image.open(io.BytesIO(path.read_bytes())).convert("RGBA"),
                    Image.open(stored).convert("RGBA"),
                )
                < 1
            )


@pytest.mark.django_db
def test_every_page_links_the_icons(client):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/whistle/favicon.svg" type="image/svg+xml">' in html
    assert 'rel="apple-touch-icon" href="/static/whistle/favicon.png"' in html
    for name in ("favicon.svg", "favicon.png", "favicon.ico"):
        assert finders.find(f"whistle/{name}")


@pytest.mark.django_db
def test_favicon_ico_answers_with_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/whistle/favicon.ico"
    assert client.head("/favicon.ico").status_code == 302
