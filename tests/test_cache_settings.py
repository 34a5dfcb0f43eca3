"""The cache and the street pages' settings come from the environment: WHISTLE_CACHE_URL picks
the per-process memory or Django's database cache (shared by every server process), and
every street setting of docs/street.md is read from the environment with its documented
default and listed in .env.example."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command

from whistle.env import ImproperSetting, cache_from_url
from whistle.street import conf, ratelimit

ROOT = Path(settings.BASE_DIR)
SETTINGS = ROOT / "whistle" / "settings.py"

# The street settings of docs/street.md with their defaults.
STREET_DEFAULTS = {
    "WHISTLE_PATROL_MAX_BATCH": 200,
    "WHISTLE_PATROL_MAX_POINTS": 20_000,
    "WHISTLE_PATROL_MAX_ACCURACY_M": 50.0,
    "WHISTLE_PATROL_MIN_STEP_M": 10.0,
    "WHISTLE_PATROL_MAX_SPEED_MPS": 8.0,
    "WHISTLE_PHOTO_UPLOAD_MAX_BYTES": 15 * 1024 * 1024,
    "WHISTLE_PHOTO_MAX_SIDE": 2048,
    "WHISTLE_PHOTO_JPEG_QUALITY": 82,
    "WHISTLE_PHOTO_KEEP_SECONDS": 3600,
    "WHISTLE_CAPTCHA_SECONDS": 600,
    "WHISTLE_RESIDENT_REPORTS_PER_IP": 10,
    "WHISTLE_RESIDENT_REPORTS_IP_WINDOW": 3600,
    "WHISTLE_RESIDENT_REPORTS_PER_PHONE": 5,
    "WHISTLE_RESIDENT_REPORTS_PHONE_WINDOW": 86400,
    "WHISTLE_CAPTCHA_FAILURES_PER_IP": 20,
    "WHISTLE_CAPTCHA_FAILURES_WINDOW": 3600,
    "WHISTLE_FOLLOW_MISSES_PER_IP": 30,
    "WHISTLE_FOLLOW_MISSES_WINDOW": 3600,
    "WHISTLE_TRUSTED_PROXIES": 0,
}


def example_values() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", text, re.MULTILINE))


def settings_read_from(monkeypatch, **environment: str) -> dict:
    """whistle/settings.py run again with these variables (and no others of the street or
    the cache) in the environment, as a new server process would read it."""
    for name in [*STREET_DEFAULTS, "WHISTLE_CACHE_URL"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


# WHISTLE_CACHE_URL ------------------------------------------------------------------------


def test_the_default_cache_is_the_memory_of_each_process():
    assert cache_from_url("locmem://") == {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "whistle",
        "OPTIONS": {"MAX_ENTRIES": 300},
    }
    assert cache_from_url("locmem://street")["LOCATION"] == "street"


def test_a_database_cache_names_its_table_and_keeps_more_entries():
    assert cache_from_url("db://whistle_cache") == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "whistle_cache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
    assert cache_from_url("db://whistle_cache?max_entries=50000")["OPTIONS"] == {
        "MAX_ENTRIES": 50_000
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1:6379/0", "must start with locmem:// or db://"),
        ("whistle_cache", "must start with locmem:// or db://"),
        ("db://", "needs a table name"),
        ("db://whistle-cache", "needs a table name"),
        ("db://cache;drop table x", "needs a table name"),
        ("db://whistle_cache?max_entries=lots", "max_entries must be a whole number"),
        ("locmem://?max_entries=0", "max_entries must be a whole number"),
        ("db://whistle_cache?timeout=5", "unknown option timeout"),
    ],
)
def test_a_cache_url_that_cannot_work_stops_the_process_naming_the_variable(url, message):
    with pytest.raises(ImproperSetting, match="WHISTLE_CACHE_URL") as refused:
        cache_from_url(url)
    assert message in str(refused.value)


def test_the_settings_read_the_cache_from_the_environment(monkeypatch):
    default = settings_read_from(monkeypatch)
    assert default["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    shared = settings_read_from(monkeypatch, WHISTLE_CACHE_URL="db://whistle_cache")
    assert shared["CACHES"] == {"default": cache_from_url("db://whistle_cache")}


@pytest.mark.django_db
def test_with_the_database_cache_every_process_sees_the_same_counts(settings):
    settings.CACHES = {"default": cache_from_url("db://whistle_test_cache")}
    settings.WHISTLE_RESIDENT_REPORTS_PER_IP = 2
    call_command("createcachetable", verbosity=0)
    # createcachetable leaves an existing table alone.
    call_command("createcachetable", verbosity=0)
    limit = ratelimit.reports_by_ip()
    assert limit.hit("203.0.113.9") == 1
    # Another server process opens its own cache on the same table.
    other = DatabaseCache("whistle_test_cache", {})
    key, _ = limit._key("203.0.113.9")
    assert other.get(key) == 1
    other.incr(key)
    assert limit.exceeded("203.0.113.9")
    assert not limit.exceeded("203.0.113.10")


# The street settings ------------------------------------------------------------------------


def test_every_street_setting_has_its_documented_default(monkeypatch):
    values = settings_read_from(monkeypatch)
    assert {name: values[name] for name in STREET_DEFAULTS} == STREET_DEFAULTS
    # The same defaults the street pages fall back on.
    assert conf.reports_per_ip() == (10, 3600)
    assert conf.reports_per_phone() == (5, 86400)
    assert conf.captcha_failures_per_ip() == (20, 3600)
    assert conf.follow_misses_per_ip() == (30, 3600)
    assert (conf.kept_photo_seconds(), conf.captcha_seconds(), conf.trusted_proxies()) == (
        3600,
        600,
        0,
    )


def test_the_street_settings_come_from_the_environment(monkeypatch):
    values = settings_read_from(
        monkeypatch,
        WHISTLE_RESIDENT_REPORTS_PER_IP="3",
        WHISTLE_TRUSTED_PROXIES="1",
        WHISTLE_PATROL_MAX_SPEED_MPS="6.5",
    )
    assert values["WHISTLE_RESIDENT_REPORTS_PER_IP"] == 3
    assert values["WHISTLE_TRUSTED_PROXIES"] == 1
    assert values["WHISTLE_PATROL_MAX_SPEED_MPS"] == 6.5
    with pytest.raises(ImproperSetting, match="WHISTLE_CAPTCHA_SECONDS"):
        settings_read_from(monkeypatch, WHISTLE_CAPTCHA_SECONDS="ten minutes")
    with pytest.raises(ImproperSetting, match="WHISTLE_RESIDENT_REPORTS_PER_PHONE"):
        settings_read_from(monkeypatch, WHISTLE_RESIDENT_REPORTS_PER_PHONE="0")


def test_the_example_lists_every_setting_with_its_default(monkeypatch):
    example = example_values()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', SETTINGS.read_text(encoding="utf-8")))
    assert set(example) == read
    defaults = settings_read_from(monkeypatch)
    for name, default in STREET_DEFAULTS.items():
        assert type(default)(example[name]) == default, name
    assert defaults["CACHES"] == {"default": cache_from_url(example["WHISTLE_CACHE_URL"])}
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "# WHISTLE_CACHE_URL=db://whistle_cache" in text
    assert "createcachetable" in text and "More than one server process" in text
