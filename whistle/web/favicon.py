"""The favicon: a white whistle on the top bar's red, drawn once as a few shapes.

`static/whistle/favicon.svg` is these shapes as SVG; `favicon.png` (180 px, also the icon a
phone puts on its home screen) and `favicon.ico` (16, 32 and 48 px, for whatever asks for
/favicon.ico) are the same shapes rendered by Pillow. After changing a shape, write the
three files again with

    .venv/bin/python -m whistle.web.favicon

(`tests/test_web_favicon.py` fails while the files and the shapes disagree).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

BRAND = "#8e1b1b"  # --brand in whistle.css
WHITE = "#ffffff"
BOX = 64  # the drawing's own units: a 64 × 64 square
PNG_SIZE = 180
ICO_SIZES = (16, 32, 48)
# Pillow draws hard edges: draw this many times larger, then scale down smoothly.
OVERSAMPLE = 8

STATIC = Path(__file__).resolve().parent.parent.parent / "static" / "whistle"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    radius: float = 0

    def svg(self) -> str:
        rounded = f' rx="{self.radius:g}"' if self.radius else ""
        return (
            f'<rect x="{self.x:g}" y="{self.y:g}" width="{self.width:g}" '
            f'height="{self.height:g}"{rounded} fill="{self.fill}"/>'
        )

    def draw(self, canvas: ImageDraw.ImageDraw, scale: float) -> None:
        box = (
            self.x * scale,
            self.y * scale,
            (self.x + self.width) * scale - 1,
            (self.y + self.height) * scale - 1,
        )
        canvas.rounded_rectangle(box, radius=self.radius * scale, fill=self.fill)


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str

    def svg(self) -> str:
        return f'<circle cx="{self.cx:g}" cy="{self.cy:g}" r="{self.r:g}" fill="{self.fill}"/>'

    def draw(self, canvas: ImageDraw.ImageDraw, scale: float) -> None:
        box = (
            (self.cx - self.r) * scale,
            (self.cy - self.r) * scale,
            (self.cx + self.r) * scale - 1,
            (self.cy + self.r) * scale - 1,
        )
        canvas.ellipse(box, fill=self.fill)


# Back to front: the red tile, the whistle's round body with the mouthpiece running right
# from its top, the hole in the body and the notch where the air leaves.
SHAPES: tuple[Rect | Circle, ...] = (
    Rect(0, 0, BOX, BOX, BRAND, radius=14),
    Circle(23, 35, 15, WHITE),
    Rect(23, 20, 34, 12, WHITE, radius=3),
    Circle(23, 35, 6, BRAND),
    Rect(38, 20, 7, 5, BRAND),
)


def svg() -> str:
    body = "\n  ".join(shape.svg() for shape in SHAPES)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {BOX} {BOX}" '
        f'width="{BOX}" height="{BOX}">\n  {body}\n</svg>\n'
    )


def render(size: int) -> Image.Image:
    """The icon as a ``size`` × ``size`` RGBA image."""
    big = size * OVERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    canvas = ImageDraw.Draw(image)
    for shape in SHAPES:
        shape.draw(canvas, big / BOX)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def png() -> bytes:
    out = io.BytesIO()
    render(PNG_SIZE).save(out, format="PNG", optimize=True)
    return out.getvalue()


def ico() -> bytes:
    out = io.BytesIO()
    # Each size rendered from the shapes, not scaled down from the largest.
    images = [render(size) for size in sorted(ICO_SIZES, reverse=True)]
    images[0].save(out, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=images[1:])
    return out.getvalue()


def write(folder: Path = STATIC) -> list[Path]:
    files = {"favicon.svg": svg().encode(), "favicon.png": png(), "favicon.ico": ico()}
    written = []
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path)
