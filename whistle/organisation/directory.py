"""Who is told of what, and which unit handles what, kept in memory by each process.

Every action that tells people reads the same few things again and again: the dispatchers of
a township, their notification preferences, the group robots of their departments and
townships, the webhook endpoints, the unit a category goes to, the caller's own roles (and
the API, a district's categories by their code). Each
process keeps what it has read of them in a generation tied to the directory's revision
token (`DirectoryRevision`), which database triggers change with every change to the tables
they come from (`map_triggers.DIRECTORY_TABLES`): by the admin, an import, `update()`, raw SQL
or another program. A look-up reads the token first (one single-row read) and uses the
generation only while the token is the one it was made under; else it starts a new one. What
a generation holds was always read after its token, so it is never older than the token says.

An action that makes several look-ups reads the token once for all of them (`pinned`). The
token is random, not a counter, so a rolled-back change never leaves a generation under a
token that comes back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F

from whistle.organisation import map_triggers, places
from whistle.organisation.models import Person, Role, RoleAssignment

Value = TypeVar("Value")

# A generation forgets everything past this many entries and starts filling again: a process
# that sees every person of a city does not keep them all.
MAX_ENTRIES = 20_000

# Only what the messages need of a person: whether they are active, and where to reach them
# (the columns whose updates the triggers watch).
PERSON_FIELDS = ("id", "is_active", "phone", "email")


def revision() -> str | None:
    """The directory's current revision token (None when the row is missing)."""
    return map_triggers.read_token(connections[DEFAULT_DB_ALIAS], map_triggers.DIRECTORY)


class Generation:
    """What was read under one token: values by key, each read the first time it is asked
    for. Without a token nothing is kept."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, load: Callable[[], Value]) -> Value:
        try:
            return self._values[key]
        except KeyError:
            pass
        value = load()
        self._keep({key: value})
        return value

    def get_many(
        self,
        keys: Iterable[Hashable],
        load: Callable[[list[Any]], dict[Any, Value]],
        prefix: str,
        default: Value,
    ) -> dict[Any, Value]:
        """The values of many keys of one kind (`prefix`), the missing ones read in one call
        of `load` (which may leave out a key: it gets `default`)."""
        found: dict[Any, Value] = {}
        wanted = []
        for key in keys:
            try:
                found[key] = self._values[(prefix, key)]
            except KeyError:
                wanted.append(key)
        if wanted:
            loaded = load(wanted)
            fresh = {key: loaded.get(key, default) for key in wanted}
            self._keep({(prefix, key): value for key, value in fresh.items()})
            found.update(fresh)
        return found

    def _keep(self, values: dict[Hashable, Any]) -> None:
        if self.token is None:
            return
        if len(self._values) + len(values) > MAX_ENTRIES:
            self._values = {}
        self._values.update(values)


_lock = threading.Lock()
_current: Generation | None = None
_pinned: ContextVar[Generation | None] = ContextVar("whistle_directory", default=None)


def generation() -> Generation:
    """The generation of the current token: the pinned one inside `pinned`, else the token
    read now."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    return _for(revision())


def held_token() -> str | None:
    """The token of what this process keeps of the directory (None when it keeps nothing
    under a token)."""
    current = _current
    return None if current is None else current.token


def _for(token: str | None) -> Generation:
    global _current
    current = _current
    if current is not None and token is not None and current.token == token:
        return current
    with _lock:
        current = _current
        if current is None or token is None or current.token != token:
            current = Generation(token)
            _current = current
    return current


@contextmanager
def pinned() -> Iterator[Generation]:
    """Read the token once for every look-up inside: for an action that changes none of the
    directory's tables itself, and makes several look-ups (a filing: the caller's roles, the
    unit, the dispatchers, their preferences and robots, the webhooks)."""
    outer = _pinned.get()
    with pinned_at(revision() if outer is None else outer.token) as current:
        yield current


@contextmanager
def pinned_with_map() -> Iterator[Generation]:
    """`pinned`, with the map pinned too (`places.pinned_at`), the two tokens read in one
    statement (`map_triggers.read_tokens`): for a filing, which locates its point and looks
    the directory up, and changes neither. Inside another pin of the directory, that one,
    the map then read as outside a pin; inside a batch of the map (`places.batch`: the
    orders of an import), the batch's map, the directory's token read alone."""
    outer = _pinned.get()
    if outer is not None:
        yield outer
        return
    if places.batched():
        with pinned() as current:
            yield current
        return
    map_token, directory_token = map_triggers.read_tokens(
        connections[DEFAULT_DB_ALIAS], map_triggers.MAP, map_triggers.DIRECTORY
    )
    with places.pinned_at(map_token), pinned_at(directory_token) as current:
        yield current


@contextmanager
def pinned_at(token: str | None) -> Iterator[Generation]:
    """`pinned` under a token the caller has just read (with another, in one statement:
    `map_triggers.read_tokens`); inside another pin, that one."""
    outer = _pinned.get()
    if outer is not None:
        yield outer
        return
    current = _for(token)
    reset = _pinned.set(current)
    try:
        yield current
    finally:
        _pinned.reset(reset)


def kept(key: Hashable, load: Callable[[], Value]) -> Value:
    """The value of `key` as read by `load` under the current token."""
    return generation().get(key, load)


def people_with_role(role: str, jurisdiction_id: int | None) -> list[Person]:
    """The active people who hold the role in the jurisdiction (a new list each time; the
    people in it are shared and carry only `PERSON_FIELDS`)."""
    if jurisdiction_id is None:
        return []

    def load() -> tuple[Person, ...]:
        return tuple(
            Person.objects.filter(
                is_active=True, roles__role=role, roles__jurisdiction=jurisdiction_id
            )
            .distinct()
            .order_by("pk")
            .only(*PERSON_FIELDS)
        )

    return list(kept(("people_with_role", role, jurisdiction_id), load))


# The chiefs who answer for a lane (街巷长制): its lane chiefs and its street chiefs, both
# appointed to the lane itself (a street chief holds the role on each lane of the street).
LANE_CHIEF_ROLES = (Role.LANE_CHIEF, Role.STREET_CHIEF)


def lane_chiefs(
    lane_ids: Iterable[int], kept: Generation | None = None
) -> dict[int, tuple[Person, ...]]:
    """The active lane and street chiefs of each lane (in the order of their ids; a lane
    without any has an empty tuple), as kept under the token (`kept`, else the current
    generation): the lanes not kept yet read in one query."""

    def load(ids: list[int]) -> dict[int, tuple[Person, ...]]:
        found: dict[int, dict[int, Person]] = {}
        people = (
            Person.objects.filter(
                is_active=True, roles__role__in=LANE_CHIEF_ROLES, roles__lane__in=ids
            )
            .annotate(chief_of=F("roles__lane"))
            .order_by("pk")
            .only(*PERSON_FIELDS)
        )
        for person in people:
            found.setdefault(person.chief_of, {}).setdefault(person.pk, person)
        return {lane_id: tuple(chiefs.values()) for lane_id, chiefs in found.items()}

    generation_ = generation() if kept is None else kept
    return generation_.get_many(set(lane_ids), load, "lane_chiefs", ())


Grant = tuple[int, str, int | None, int | None, int | None]


def grants(person_id: int) -> tuple[Grant, ...]:
    """Every role the person holds: (assignment, role, jurisdiction, lane, department)."""

    def load() -> tuple[Grant, ...]:
        return tuple(
            RoleAssignment.objects.filter(person=person_id)
            .order_by("pk")
            .values_list("pk", "role", "jurisdiction_id", "lane_id", "department_id")
        )

    return kept(("grants", person_id), load)
