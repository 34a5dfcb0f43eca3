"""The base map under the vector layers, built from the WHISTLE_BASEMAP_* settings.

Settings are validated when they are read (whistle/settings.py); this module turns them
into what the browser's map component needs: tile layers and the coordinate system the
tiles are drawn in. Stored positions are WGS-84; when ``crs`` is ``gcj02`` the component
shifts them for display and shifts clicks back (whistle/web/gcj02.py, static/whistle/gcj02.js).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

WGS84 = "wgs84"
GCJ02 = "gcj02"

# Tianditu's Web-Mercator ("_w") vector map and its Chinese annotation layer. The service
# is CGCS2000, within a few centimetres of WGS-84 for a city map.
_TIANDITU_LAYER = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)
_TIANDITU_ATTRIBUTION = "© 天地图 (国家地理信息公共服务平台)"
_AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
_AMAP_ATTRIBUTION = "© 高德地图"


def _tianditu_url(layer: str, key: str) -> str:
    # Only {layer} and {key} are filled here; {s}, {z}, {x}, {y} are left for Leaflet.
    return _TIANDITU_LAYER.replace("{layer}", layer).replace("{key}", key)


def basemap_config() -> dict[str, Any]:
    """The base map as JSON for static/whistle/map.js: ``kind``, ``crs``, ``layers``."""
    kind = settings.WHISTLE_BASEMAP
    max_zoom = settings.WHISTLE_BASEMAP_MAX_ZOOM
    attribution = settings.WHISTLE_BASEMAP_ATTRIBUTION
    if kind == "tianditu":
        key = settings.WHISTLE_BASEMAP_KEY
        layers = [
            {
                "url": _tianditu_url(layer, key),
                "subdomains": "01234567",
                "attribution": attribution or _TIANDITU_ATTRIBUTION,
                "maxZoom": max_zoom,
            }
            for layer in ("vec", "cva")
        ]
        return {"kind": kind, "crs": WGS84, "layers": layers}
    if kind == "amap":
        layer = {
            "url": _AMAP_URL,
            "subdomains": "1234",
            "attribution": attribution or _AMAP_ATTRIBUTION,
            "maxZoom": max_zoom,
        }
        return {"kind": kind, "crs": GCJ02, "layers": [layer]}
    if kind == "custom":
        layer = {
            "url": settings.WHISTLE_BASEMAP_URL,
            "subdomains": settings.WHISTLE_BASEMAP_SUBDOMAINS or "abc",
            "attribution": attribution,
            "maxZoom": max_zoom,
        }
        return {"kind": kind, "crs": settings.WHISTLE_BASEMAP_CRS, "layers": [layer]}
    return {"kind": "none", "crs": WGS84, "layers": []}
