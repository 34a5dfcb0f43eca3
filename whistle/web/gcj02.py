"""WGS-84 ⇄ GCJ-02, the offset coordinate system that Chinese map providers must use.

Positions are stored in WGS-84. Tiles from a GCJ-02 provider (Amap and most commercial
Chinese maps) are drawn in GCJ-02, so a map over such tiles shifts every stored position
into GCJ-02 before drawing it and shifts a clicked or dragged position back before
storing it.

The forward conversion is the published GCJ-02 formula: a fixed polynomial-and-sine
offset, scaled to degrees on the Krasovsky 1940 ellipsoid. It has no closed-form inverse,
so ``gcj02_to_wgs84`` solves ``wgs84_to_gcj02(p) = q`` by fixed-point iteration; the
offset varies slowly (a few metres per kilometre), which makes each step shrink the error
by about three orders of magnitude.

The same formulas are in ``static/whistle/gcj02.js`` for the browser; the browser test
compares the two.
"""

from __future__ import annotations

import math

# Krasovsky 1940: semi-major axis (m) and first eccentricity squared.
_A = 6378245.0
_EE = 0.00669342162296594323

# GCJ-02 applies inside China only; outside this box positions pass through unchanged.
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)  # min_lon, min_lat, max_lon, max_lat

Position = tuple[float, float]  # (longitude, latitude), GeoJSON order


def in_china(lon: float, lat: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = CHINA_BOX
    return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


def _offset_lat(x: float, y: float) -> float:
    value = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    value += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    value += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y / 30.0 * math.pi)) * 2 / 3
    return value


def _offset_lon(x: float, y: float) -> float:
    value = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    value += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    value += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return value


def _delta(lon: float, lat: float) -> Position:
    """The GCJ-02 shift (Δlon, Δlat) in degrees at a WGS-84 position."""
    d_lat = _offset_lat(lon - 105.0, lat - 35.0)
    d_lon = _offset_lon(lon - 105.0, lat - 35.0)
    rad_lat = math.radians(lat)
    w = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_w = math.sqrt(w)
    # Metres-per-degree along the meridian and the parallel on the Krasovsky ellipsoid.
    d_lat = d_lat * 180.0 / ((_A * (1.0 - _EE)) / (w * sqrt_w) * math.pi)
    d_lon = d_lon * 180.0 / (_A / sqrt_w * math.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> Position:
    """Shift a WGS-84 position into GCJ-02 (unchanged outside China)."""
    if not in_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _delta(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float, *, tolerance_deg: float = 1e-9) -> Position:
    """Shift a GCJ-02 position back into WGS-84 (unchanged outside China).

    ``tolerance_deg`` of 1e-9 degrees is about 0.1 mm; three or four steps reach it.
    """
    if not in_china(lon, lat):
        return lon, lat
    guess_lon, guess_lat = lon, lat
    for _ in range(30):
        shifted_lon, shifted_lat = wgs84_to_gcj02(guess_lon, guess_lat)
        err_lon, err_lat = shifted_lon - lon, shifted_lat - lat
        guess_lon -= err_lon
        guess_lat -= err_lat
        if abs(err_lon) < tolerance_deg and abs(err_lat) < tolerance_deg:
            break
    return guess_lon, guess_lat
