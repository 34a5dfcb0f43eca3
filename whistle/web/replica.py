"""Which database a page reads: the read replica for the pages that declare themselves
read-only and stale-tolerant, the primary for everything else (docs/deployment.md, "Read
replica for the read-heavy pages").

`WHISTLE_REPLICA_DATABASE_URL` adds the `replica` alias (a PostgreSQL streaming replica of
`default`); without it nothing changes. A view decorated with `@reads_replica` runs with a
context variable set, and while it is set `ReplicaRouter` sends the reads of the domain's
tables to `replica`. Everything else stays on `default`:

- every write, and every read inside a transaction (a read that leads to a write sees the
  primary's rows);
- the tables of signing in, sessions, the cache (rate limits, lock-outs) and the API's
  idempotency keys, whose rows a person has just written (read-your-writes), and people and
  their roles, which decide what a page may show;
- every view that is not decorated, so a page that follows a write by the same person (the
  case page after an action, a desk's queue) reads the primary.

Migrations run on `default` only: the replica follows the primary's schema by replication.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connections

REPLICA = "replica"
DEFAULT = "default"

# Apps whose rows a person may have written a moment ago, read from the primary always.
PRIMARY_ONLY_APPS = frozenset(
    {
        "auth",
        "sessions",
        "contenttypes",
        "admin",
        "accounts",
        "axes",
        "otp_totp",
        "otp_static",
        "django_cache",
        "api",
    }
)
# Who a person is and which roles they hold decide what a page shows them: never seconds old.
# (The router sees the model a query is for: a query of records that joins people's names
# reads them with the records.)
PRIMARY_ONLY_MODELS = frozenset({"organisation.person", "organisation.roleassignment"})

_reading_replica: ContextVar[bool] = ContextVar("whistle_reading_replica", default=False)

View = TypeVar("View", bound=Callable[..., Any])


@contextmanager
def replica_reads() -> Iterator[None]:
    """The reads inside go to the replica (where one is configured and the router allows)."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


def reads_replica(view: View) -> View:
    """Declare a view read-only and stale-tolerant: its reads may come from the replica.
    Put it below `login_required`, so that the person is read from the primary first."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    wrapped.reads_replica = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def replica_configured() -> bool:
    return REPLICA in connections.databases


class ReplicaRouter:
    """Reads of a declared view to `replica`; everything else to `default`."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        if (
            _reading_replica.get()
            and replica_configured()
            and model._meta.app_label not in PRIMARY_ONLY_APPS  # type: ignore[attr-defined]
            and model._meta.label_lower not in PRIMARY_ONLY_MODELS  # type: ignore[attr-defined]
            and not connections[DEFAULT].in_atomic_block
        ):
            return REPLICA
        return DEFAULT

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT

    def allow_relation(self, first: Any, second: Any, **hints: Any) -> bool:
        # The replica holds the primary's rows: an object read from either relates to any.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT
