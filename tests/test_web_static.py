"""Front-end packages: pinned in package.json, locked, served from node_modules by Django."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

ROOT = Path(settings.BASE_DIR)
PACKAGES = {"htmx.org", "leaflet", "echarts"}


def test_package_json_pins_exact_versions_that_the_lockfile_holds():
    manifest = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    pinned = manifest["dependencies"]
    assert set(pinned) == PACKAGES
    for name, version in pinned.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned exactly"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
        assert lock["packages"][f"node_modules/{name}"]["integrity"].startswith("sha512-")


@pytest.mark.parametrize(
    "path",
    [
        "vendor/htmx/htmx.min.js",
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/leaflet.css",
        "vendor/echarts/echarts.min.js",
        "whistle/whistle.css",
        "whistle/whistle.js",
        "whistle/countdown.js",
        "whistle/geolocate.js",
        "whistle/gcj02.js",
        "whistle/map.js",
    ],
)
def test_static_files_are_found_in_node_modules_and_static(path):
    found = finders.find(path)
    assert found, f"{path} not found: run `npm ci` (make setup does)"
    found_path = Path(str(found)).resolve()
    if path.startswith("vendor/"):
        assert (ROOT / "node_modules").resolve() in found_path.parents
    else:
        assert (ROOT / "static").resolve() in found_path.parents


def test_the_installed_packages_are_the_locked_versions():
    for name in PACKAGES:
        installed = json.loads((ROOT / "node_modules" / name / "package.json").read_text())
        locked = json.loads((ROOT / "package-lock.json").read_text())
        assert installed["version"] == locked["packages"][f"node_modules/{name}"]["version"]


def test_no_third_party_code_is_copied_into_static():
    names = {p.name.lower() for p in (ROOT / "static").rglob("*") if p.is_file()}
    assert not {n for n in names if re.search(r"htmx|leaflet|echarts", n)}


@pytest.mark.django_db
def test_every_static_file_a_page_names_exists(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get("/").content.decode() + client.get("/accounts/login/").content.decode()
    for path in re.findall(r'(?:src|href)="/static/([^"]+)"', html):
        assert finders.find(path), path
