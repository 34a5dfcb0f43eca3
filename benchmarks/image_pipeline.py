"""The image pipeline every upload passes through, against a raw Pillow open and save.

For each input (phone-like JPEGs of 12 and 48 megapixels with EXIF, a PNG screenshot, and
a tiny PNG whose header declares 60 megapixels), a fresh process times REPEAT runs of

- pipeline: `whistle.cases.images.prepare` (header check, reduced-scale JPEG decoding,
  orientation, sRGB, shrink to WHISTLE_PHOTO_MAX_SIDE, JPEG without metadata);
- raw: `Image.open(...)`, decode at full size, save as JPEG at the same quality;

and reports the median time and the process's peak resident memory above what it held
before the first run (Linux's VmHWM, reset through /proc/self/clear_refs: Pillow allocates
pixels outside Python's allocator, so tracemalloc would not see them).

    .venv/bin/python benchmarks/image_pipeline.py [--repeat 5] [--quick]

`--quick` times 2 runs of each.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from reporting import report


def phone_jpeg(size: tuple[int, int], quality: int = 90) -> bytes:
    """Noisy pixels (they compress about as badly as a photo) with an EXIF block carrying an
    orientation, a camera make and a GPS position."""
    from PIL import Image

    # Noise at a quarter of the size, enlarged: grain and gradients that compress to about
    # 3 bits a pixel at quality 90 (2 at 75), as a phone's photo of a street.
    quarter = (size[0] // 4, size[1] // 4)
    small = Image.merge("RGB", [Image.effect_noise(quarter, 40) for _band in "RGB"])
    image = small.resize(size, Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (39.0, 52.0, 21.0), 3: "E", 4: (116.0, 25.0, 55.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def screenshot_png(size: tuple[int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for y in range(0, size[1], 40):
        draw.rectangle((20, y + 8, size[0] - 20, y + 30), fill=(40 + y % 200, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


INPUTS = {
    "phone photo, 12 MP JPEG": lambda: phone_jpeg((4000, 3000)),
    "phone photo, 48 MP JPEG": lambda: phone_jpeg((8000, 6000), quality=75),
    "screenshot, 2.1 MP PNG": lambda: screenshot_png((1080, 1920)),
    "bomb header, 60 MP declared": lambda: bomb_png(10_000, 6_001),
}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _resident_kib(*, reset_peak: bool = False) -> int:
    """The memory the process holds now; with `reset_peak`, Linux also forgets its peak so
    far, so that the peak read later is that of the runs alone."""
    if reset_peak:
        Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS")


def _peak_kib() -> int:
    return _status_kib("VmHWM")


def child(way: str, path: str, repeat: int) -> None:
    """One measurement in this process: the median time and the peak memory added."""
    from scratch import set_up_django

    set_up_django()
    from django.conf import settings
    from PIL import Image

    from whistle.cases.images import PhotoRefused, prepare

    content = Path(path).read_bytes()
    quality = settings.WHISTLE_PHOTO_JPEG_QUALITY

    def raw() -> int:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            output = io.BytesIO()
            image.convert("RGB").save(output, format="JPEG", quality=quality)
            return len(output.getvalue())

    def pipeline() -> int:
        return len(prepare(content).content)

    run = pipeline if way == "pipeline" else raw
    before = _resident_kib(reset_peak=True)
    times, size, outcome = [], 0, "stored"
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            size = run()
        except (PhotoRefused, OSError, Image.DecompressionBombError) as exc:
            outcome = f"refused: {type(exc).__name__}"
        times.append(time.perf_counter() - started)
    peak = _peak_kib() - before
    print(
        json.dumps(
            {
                "seconds": statistics.median(times),
                "peak_mib": peak / 1024,
                "bytes": size,
                "outcome": outcome,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("WAY", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="2 runs of each")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 2
    if args.child:
        child(args.child[0], args.child[1], args.repeat)
        return

    print(f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.1f}")
    header = f"{'':4}{'way':9} {'median s':>9} {'peak MiB':>9} {'output':>10}  outcome"
    print(header)
    with tempfile.TemporaryDirectory() as scratch:
        for name, make in INPUTS.items():
            path = Path(scratch) / "input"
            content = make()
            path.write_bytes(content)
            print(f"{name} ({len(content):,d} bytes)")
            results = {}
            for way in ("pipeline", "raw"):
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--repeat",
                        str(args.repeat),
                        "--child",
                        way,
                        str(path),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results[way] = json.loads(out.stdout.strip().splitlines()[-1])
                r = results[way]
                print(
                    f"{'':4}{way:9} {r['seconds']:9.3f} {r['peak_mib']:9.1f} "
                    f"{r['bytes']:10,d}  {r['outcome']}"
                )
            ratio = results["pipeline"]["seconds"] / max(results["raw"]["seconds"], 1e-9)
            print(f"{'':4}{'ratio':9} {ratio:9.2f}  (pipeline time / raw time)")
            pipeline, raw = results["pipeline"], results["raw"]
            report(
                f"image_pipeline: {name}",
                pipeline["seconds"],
                "seconds (median)",
                database="none",
                baseline=raw["seconds"],
                note=f"peak {pipeline['peak_mib']:.0f} MiB against {raw['peak_mib']:.0f} MiB raw; "
                f"{pipeline['outcome']}",
            )


if __name__ == "__main__":
    main()
