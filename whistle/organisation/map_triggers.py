"""The database triggers that give a revision token a new value whenever a table read through
it changes: by the admin, an import, `QuerySet.update()`, raw SQL or another program. Three
tokens: the map's (`MapRevision`, the tables the map is read from), the directory's
(`DirectoryRevision`, who is told of what and which unit handles what:
`whistle.organisation.directory`) and the assessment schemes' (`SchemeRevision`, the schemes
and their components: `whistle.assessment.engine.scheme_book`). Used by the migrations that
install them.

On SQLite, a later migration that alters one of these tables rebuilds it without its
triggers, and a flush (as after a transactional test) empties the token's table. `ensure`
puts back what is missing; it runs after every `migrate` and every flush (the
`post_migrate` signal, connected in the app's config), so no migration has to remember it
(tests/test_places.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

REVISION_TABLE = "organisation_maprevision"
# Every table the map is read from; the last belongs to the policies app (a district's lane
# matching distance), named here only as a table.
MAP_TABLES = (
    "organisation_jurisdiction",
    "organisation_lane",
    "organisation_gridcell",
    "policies_districtpolicy",
)
DIRECTORY_REVISION_TABLE = "organisation_directoryrevision"
# Every table the directory is read from (and the districts' deadline classes of hotline
# orders, which every order reads, and the categories and major classes the API looks up by
# code, and the API's tokens with the roles they carry, which every request made with a token
# reads), with the columns whose update changes its token (None: every column). A person's
# sign-in, a robot's record of its recent sends, a push subscription's last delivery and a
# token's last use are written all day and change nothing the directory keeps.
# The tables of the policies, notifications and api apps are named here only as tables.
DIRECTORY_TABLES: dict[str, tuple[str, ...] | None] = {
    "organisation_person": (
        "is_active",
        "phone",
        "email",
        "username",
        "name",
        "first_name",
        "last_name",
        "is_superuser",
        "is_staff",
    ),
    "organisation_roleassignment": None,
    "organisation_centremembership": None,
    "organisation_centremembership_people": None,
    "organisation_townshipunit": None,
    "policies_categoryroute": None,
    "policies_majorclass": None,
    "policies_category": None,
    "policies_hotlinedeadlineclass": None,
    "notifications_notificationpreference": None,
    "notifications_pushsubscription": ("person_id",),
    "notifications_grouprobot": (
        "name",
        "department_id",
        "township_id",
        "event_kinds",
        "is_active",
    ),
    "notifications_webhookendpoint": ("url", "event_kinds", "is_active"),
    "api_apitoken": (
        "uuid",
        "person_id",
        "kind",
        "name",
        "prefix",
        "digest",
        "created_at",
        "created_by_id",
        "expires_at",
        "revoked_at",
        "revoked_by_id",
    ),
    "api_apitoken_roles": None,
}
# The assessment's schemes and their components (`SchemeRevision`), named here only as tables:
# the incremental update keeps them per process under this token.
SCHEME_REVISION_TABLE = "assessment_schemerevision"
SCHEME_TABLES = ("assessment_scheme", "assessment_schemecomponent")
_OPERATIONS = ("insert", "update", "delete")


@dataclass(frozen=True)
class Revision:
    """One token and the tables whose changes give it a new value."""

    name: str
    table: str
    watched: dict[str, tuple[str, ...] | None]


MAP = Revision("map", REVISION_TABLE, dict.fromkeys(MAP_TABLES))
DIRECTORY = Revision("directory", DIRECTORY_REVISION_TABLE, DIRECTORY_TABLES)
SCHEMES = Revision("schemes", SCHEME_REVISION_TABLE, dict.fromkeys(SCHEME_TABLES))
REVISIONS = (MAP, DIRECTORY, SCHEMES)


def install(schema_editor: Any, table: str, revision: Revision = MAP) -> None:
    vendor = schema_editor.connection.vendor
    columns = revision.watched.get(table)
    update = "UPDATE" if columns is None else f"UPDATE OF {', '.join(columns)}"
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {revision.table}_bump() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE {revision.table} SET token = md5(random()::text || clock_timestamp()::text);
                RETURN NULL;
            END;
            $$
            """,
            params=None,
        )
        # Once per statement: a bulk insert of 50,000 lanes changes the token once.
        schema_editor.execute(
            f"CREATE OR REPLACE TRIGGER {table}_{revision.name}_revision "
            f"AFTER INSERT OR {update} OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {revision.table}_bump()"
        )
    elif vendor == "sqlite":
        for operation in _OPERATIONS:
            event = update if operation == "update" else operation.upper()
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_{revision.name}_revision_{operation} "
                f"AFTER {event} ON {table} "
                f"BEGIN UPDATE {revision.table} SET token = lower(hex(randomblob(16))); END"
            )
    else:
        raise NotImplementedError(f"no revision triggers for the {vendor} database")


def uninstall(schema_editor: Any, table: str, revision: Revision = MAP) -> None:
    for name in _trigger_names(schema_editor.connection.vendor, table, revision):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


@dataclass(frozen=True)
class Watching:
    """A migration's tables given the triggers of a revision: its two steps, for
    `migrations.RunPython(watching.install, watching.uninstall)`."""

    tables: tuple[str, ...]
    revision: Revision = MAP

    def install(self, apps: Any, schema_editor: Any) -> None:
        for table in self.tables:
            install(schema_editor, table, self.revision)

    def uninstall(self, apps: Any, schema_editor: Any) -> None:
        for table in self.tables:
            uninstall(schema_editor, table, self.revision)


def read_token(connection: Any, revision: Revision) -> str | None:
    """The revision's current token (None when its row is missing: then the caller keeps
    nothing). Read with the driver's own cursor: it runs before every look-up served from
    memory, and Django's wrapper would cost more than the read; its errors are still
    Django's (a dropped connection is then marked unusable and replaced, and callers catch
    DatabaseError)."""
    return read_tokens(connection, revision)[0]


def read_tokens(connection: Any, *revisions: Revision) -> tuple[str | None, ...]:
    """The current tokens of several revisions in one statement, as `read_token` reads one."""
    columns = ", ".join(token_columns(*revisions))
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(f"SELECT {columns}")
            row = cursor.fetchone()
        finally:
            cursor.close()
    return tuple(None if token is None else str(token) for token in row)


# Confirmed tokens ------------------------------------------------------------------------------
#
# A filing through the API on PostgreSQL does not read the map's and the directory's tokens
# before it starts: it works under the tokens of the map and the directory its process holds
# in memory, and the statement that writes the filing reads the current ones beside its
# inserts (`rows.insert_together`). When they differ, the filing raises `RevisionsChanged`
# inside its transaction, which rolls everything back, and the request is done again under
# tokens read first, as every request was before. A filing that writes without that
# statement, or writes nothing, reads the tokens once at its end (`confirm`).


class RevisionsChanged(Exception):
    """The map's or the directory's token is not the one a filing worked under."""


@dataclass
class Expected:
    """The map's and the directory's tokens a filing works under, not yet confirmed."""

    tokens: tuple[str | None, ...]
    confirmed: bool = False

    def settle(self, found: Sequence[Any]) -> None:
        """Compare the tokens read now with those worked under (`RevisionsChanged` when
        they differ)."""
        current = tuple(None if token is None else str(token) for token in found)
        if current != self.tokens:
            raise RevisionsChanged
        self.confirmed = True


_expected: ContextVar[Expected | None] = ContextVar("whistle_expected_tokens", default=None)
FILING_REVISIONS = (MAP, DIRECTORY)


@contextmanager
def expecting(tokens: tuple[str | None, ...]) -> Iterator[Expected]:
    """Work under `tokens` (the map's and the directory's), to be confirmed."""
    expected = Expected(tokens)
    reset = _expected.set(expected)
    try:
        yield expected
    finally:
        _expected.reset(reset)


def pending() -> Expected | None:
    """The tokens of the filing in hand that no read has confirmed yet, if any."""
    expected = _expected.get()
    return None if expected is None or expected.confirmed else expected


def token_columns(*revisions: Revision) -> list[str]:
    """The subqueries that read the revisions' current tokens inside another statement."""
    return [f"(SELECT token FROM {r.table} ORDER BY id LIMIT 1)" for r in revisions]


def confirm(connection: Any) -> None:
    """Confirm the tokens of the filing in hand by reading them, unless done already."""
    expected = pending()
    if expected is not None:
        expected.settle(read_tokens(connection, *FILING_REVISIONS))


class _Statements:
    """What `install` needs of a schema editor, on a plain connection: SQLite's schema
    editor refuses to open inside a transaction, and a trigger needs none of its work."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Any = None) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)


def _trigger_names(vendor: str, table: str, revision: Revision = MAP) -> list[str]:
    if vendor == "postgresql":
        return [f"{table}_{revision.name}_revision"]
    return [f"{table}_{revision.name}_revision_{operation}" for operation in _OPERATIONS]


def missing(connection: Any, revision: Revision = MAP) -> list[str]:
    """The token's tables, among those that exist, that lack one of their triggers."""
    tables = set(connection.introspection.table_names())
    if revision.table not in tables:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [
        table
        for table in revision.watched
        if table in tables
        and not all(name in present for name in _trigger_names(connection.vendor, table, revision))
    ]


def ensure(connection: Any) -> list[str]:
    """Install the triggers a table rebuild dropped and put back the tokens a flush removed;
    the tables whose triggers were missing."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return []
    gone = []
    tables = connection.introspection.table_names()
    for revision in REVISIONS:
        for table in missing(connection, revision):
            install(_Statements(connection), table, revision)
            gone.append(table)
        if revision.table in tables:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {revision.table} (token) SELECT %s "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {revision.table})",
                    [uuid.uuid4().hex],
                )
    return gone
