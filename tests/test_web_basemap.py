import os
import subprocess
import sys

import pytest

from whistle.web.basemap import basemap_config


def test_there_is_no_base_map_unless_one_is_configured(settings):
    settings.WHISTLE_BASEMAP = "none"
    assert basemap_config() == {"kind": "none", "crs": "wgs84", "layers": []}


def test_tianditu_draws_vector_tiles_and_chinese_labels_in_wgs84(settings):
    settings.WHISTLE_BASEMAP = "tianditu"
    settings.WHISTLE_BASEMAP_KEY = "k3y"
    config = basemap_config()
    assert config["crs"] == "wgs84"
    urls = [layer["url"] for layer in config["layers"]]
    assert len(urls) == 2
    assert "LAYER=vec" in urls[0] and "LAYER=cva" in urls[1]
    assert all("tk=k3y" in url and "{z}" in url and "{s}" in url for url in urls)


def test_amap_tiles_are_declared_gcj02(settings):
    settings.WHISTLE_BASEMAP = "amap"
    config = basemap_config()
    assert config["crs"] == "gcj02"
    assert config["layers"][0]["subdomains"] == "1234"


def test_an_in_house_tile_server_keeps_its_declared_coordinate_system(settings):
    settings.WHISTLE_BASEMAP = "custom"
    settings.WHISTLE_BASEMAP_URL = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    settings.WHISTLE_BASEMAP_CRS = "gcj02"
    settings.WHISTLE_BASEMAP_ATTRIBUTION = "区政务地图"
    config = basemap_config()
    assert config["crs"] == "gcj02"
    assert config["layers"] == [
        {
            "url": "https://tiles.example.gov.cn/{z}/{x}/{y}.png",
            "subdomains": "abc",
            "attribution": "区政务地图",
            "maxZoom": 18,
        }
    ]


def _load_settings(**env):
    environment = {**os.environ, "WHISTLE_DEBUG": "1", **env}
    return subprocess.run(
        [sys.executable, "-c", "import whistle.settings"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"WHISTLE_BASEMAP": "tianditu"}, "needs WHISTLE_BASEMAP_KEY"),
        ({"WHISTLE_BASEMAP": "custom", "WHISTLE_BASEMAP_CRS": "wgs84"}, "with {z}, {x} and {y}"),
        (
            {"WHISTLE_BASEMAP": "custom", "WHISTLE_BASEMAP_URL": "https://t/{z}/{x}/{y}.png"},
            "needs WHISTLE_BASEMAP_CRS",
        ),
        ({"WHISTLE_BASEMAP": "google"}, "WHISTLE_BASEMAP must be one of"),
        ({"WHISTLE_BASEMAP_CRS": "bd09"}, "WHISTLE_BASEMAP_CRS must be one of"),
    ],
)
def test_a_base_map_setting_that_cannot_work_stops_the_start(env, complaint):
    result = _load_settings(**env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_a_complete_in_house_base_map_setting_loads():
    result = _load_settings(
        WHISTLE_BASEMAP="custom",
        WHISTLE_BASEMAP_URL="https://tiles.example.gov.cn/{z}/{x}/{y}.png",
        WHISTLE_BASEMAP_CRS="wgs84",
    )
    assert result.returncode == 0, result.stderr
