"""The check-in page's preview (static/desk/checkin.js) measures the distance to the place as
the server does, and writes it in whole metres the same way as the server's messages."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from whistle.organisation import geo

SCRIPT = Path(__file__).resolve().parent.parent / "static" / "desk" / "checkin.js"
NODE = shutil.which("node")
CASE = (116.4321, 39.8729)

pytestmark = pytest.mark.skipif(NODE is None, reason="the preview's script runs in Node.js")


def preview(pairs: list[tuple[tuple[float, float], tuple[float, float]]]) -> list[list[float]]:
    """What the page's script makes of each pair of positions: the distance and the number
    it writes."""
    program = (
        "global.window = {};"
        f"require({json.dumps(str(SCRIPT))});"
        "const W = window.Whistle;"
        f"const pairs = {json.dumps(pairs)};"
        "console.log(JSON.stringify(pairs.map(([a, b]) => {"
        "  const d = W.checkInMetres(a[0], a[1], b[0], b[1]);"
        "  return [d, W.shownMetres(d)];"
        "})));"
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", program], capture_output=True, text=True, check=True, timeout=30
    )
    return json.loads(done.stdout)


def at(distance_m: float, bearing: float) -> tuple[float, float]:
    lon, lat, _back = geo.WGS84.fwd(CASE[0], CASE[1], bearing, distance_m)
    return lon, lat


@pytest.mark.parametrize(
    ("distance_m", "bearing"),
    [(3780.8, 90), (3777.0, 0), (300.04, 45), (299.96, 200), (20.0, 300), (48_000.3, 135)],
)
def test_the_preview_measures_and_writes_the_distance_as_the_server_does(distance_m, bearing):
    fix = at(distance_m, bearing)
    [(measured, written)] = preview([(fix, CASE)])
    server = round(geo.distance_m(fix, CASE), 1)
    assert measured == server
    assert written == geo.shown_metres(server)


def test_a_fix_beyond_the_radius_never_reads_as_on_it():
    [(measured, written)] = preview([(at(300.3, 10), CASE)])
    assert measured > 300
    assert written == 301
    assert geo.shown_metres(300.0) == 300
