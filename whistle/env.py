"""Small strict readers for settings that come from the environment.

Every reader fails loudly, naming the variable, when a value cannot be understood:
a typo in a deployment's environment must stop the process, not change its behaviour.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


class ImproperSetting(ValueError):
    """A setting in the environment has a value that cannot be used."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines from ``path`` into the environment without overriding it."""
    if not path.is_file():
        return
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ImproperSetting(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        os.environ.setdefault(key.strip(), value)


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperSetting(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperSetting(f"{name} must be a whole number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperSetting(f"{name} must be at least {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ImproperSetting(f"{name} must be at most {maximum}; got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperSetting(f"{name} must be a number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperSetting(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json_object(name: str) -> dict[str, Any]:
    """A JSON object (``{...}``) from the environment; empty or unset is ``{}``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperSetting(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ImproperSetting(f"{name} must be a JSON object ({{...}}); got {raw[:40]!r}")
    return value


def env_choices(name: str, default: list[str], choices: tuple[str, ...]) -> list[str]:
    """A comma-separated list of distinct values, each one of ``choices``."""
    values = env_list(name, default)
    unknown = [value for value in values if value not in choices]
    if unknown:
        raise ImproperSetting(
            f"{name} may name only {', '.join(choices)}; got {', '.join(map(repr, unknown))}"
        )
    if len(set(values)) != len(values):
        raise ImproperSetting(f"{name} names a value twice: {', '.join(values)}")
    return values


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip()
    if value not in choices:
        raise ImproperSetting(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


_POOL = re.compile(r"(\d{1,4})(?::(\d{1,4}))?")


def env_database_pool(name: str) -> dict[str, int] | None:
    """The sizes of each process's pool of PostgreSQL connections: ``MIN:MAX`` (``2:8``: two
    kept open, at most eight), or ``N`` for ``N:N``; unset or empty, no pool."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    match = _POOL.fullmatch(raw)
    if match is None:
        raise ImproperSetting(
            f"{name} must be MIN:MAX connections (e.g. 2:8) or one number; got {raw!r}"
        )
    smallest = int(match.group(1))
    largest = int(match.group(2) or smallest)
    if largest < 1:
        raise ImproperSetting(f"{name}: a pool needs at least 1 connection; got {raw!r}")
    if smallest > largest:
        raise ImproperSetting(
            f"{name}: the pool's smallest size ({smallest}) is above its largest ({largest})"
        )
    return {"min_size": smallest, "max_size": largest}


def database_from_url(
    url: str, *, base_dir: Path, pool: dict[str, int] | None = None
) -> dict[str, object]:
    """Turn a DATABASE_URL into a Django DATABASES entry.

    ``sqlite:///var/whistle.sqlite3`` (relative to the project) or ``sqlite:////abs/path``;
    ``postgresql://user:password@host:port/name?sslmode=require``. With ``pool`` (PostgreSQL
    only: ``env_database_pool``), each process takes its connections from psycopg's pool and
    puts them back after each request, instead of keeping one for a minute.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if pool is not None and scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperSetting(
            "WHISTLE_DB_POOL is for PostgreSQL: DATABASE_URL is not postgresql://"
        )
    if scheme == "sqlite":
        raw_path = unquote(parts.path)
        path = Path(raw_path[1:]) if raw_path.startswith("//") else base_dir / raw_path.lstrip("/")
        if not raw_path.strip("/"):
            raise ImproperSetting("DATABASE_URL: a sqlite URL needs a file path")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            "OPTIONS": {
                # Writers wait for the lock instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperSetting("DATABASE_URL: a postgresql URL needs a database name")
        options: dict[str, object] = dict(parse_qsl(parts.query))
        if pool is not None:
            options["pool"] = dict(pool)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            # A pooled connection goes back to the pool at the end of each request (Django
            # refuses a pool with persistent connections); the pool checks it when it is
            # taken again, as the health checks do.
            "CONN_MAX_AGE": 0 if pool is not None else 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperSetting(
        f"DATABASE_URL must start with sqlite:// or postgresql://; got {scheme or url!r}"
    )


_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# Django's own default for the per-process cache; a table holds more without strain, and
# rate-limit counters must not be culled while their window lasts.
_MAX_ENTRIES = {"locmem": 300, "db": 10_000}


def cache_from_url(url: str) -> dict[str, object]:
    """Turn WHISTLE_CACHE_URL into a Django CACHES entry.

    ``locmem://`` (or ``locmem://<name>``): each server process keeps its own cache in
    memory, the default. ``db://<table>``: Django's database cache in that table of the
    default database, shared by every process on SQLite and PostgreSQL; the table is created
    by ``whistle createcachetable``. Either takes ``?max_entries=<n>``, the number of entries
    kept before the oldest third is dropped (300 in memory, 10,000 in a table by default).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    name = unquote(parts.netloc + parts.path).strip("/")
    if scheme not in _MAX_ENTRIES:
        raise ImproperSetting(f"WHISTLE_CACHE_URL must start with locmem:// or db://; got {url!r}")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - {"max_entries"})
    if unknown:
        raise ImproperSetting(
            f"WHISTLE_CACHE_URL: unknown option {', '.join(unknown)}; only max_entries"
        )
    raw = options.get("max_entries", str(_MAX_ENTRIES[scheme]))
    try:
        max_entries = int(raw)
    except ValueError:
        max_entries = 0
    if max_entries < 1:
        raise ImproperSetting(
            f"WHISTLE_CACHE_URL: max_entries must be a whole number of at least 1; got {raw!r}"
        )
    if scheme == "locmem":
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": name or "whistle",
            "OPTIONS": {"MAX_ENTRIES": max_entries},
        }
    if not _TABLE.fullmatch(name):
        raise ImproperSetting(
            "WHISTLE_CACHE_URL: db:// needs a table name of letters, digits and underscores, "
            f"e.g. db://whistle_cache; got {url!r}"
        )
    return {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": name,
        "OPTIONS": {"MAX_ENTRIES": max_entries},
    }
