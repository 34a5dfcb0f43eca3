"""Making, revoking and checking API tokens. Each change is one function and one
transaction.

A secret is `wst_` and 43 URL-safe characters (256 random bits). The database keeps its
SHA-256 digest (a secret this long needs no slow hash: nobody can guess it to match a
digest) and its first 12 characters as the prefix; checking finds the candidates by prefix
and compares digests in constant time.

Each process keeps what it found of a token (its person, the roles it carries, its expiry
and revocation) by the secret's digest, under the directory's revision token
(`whistle.organisation.directory`): database triggers give that a new value with every change
to a token, to the roles it carries, to a person or to their roles, so a request made while
nothing changed reads no token, and the next request after a change, in any process, reads
it again. The expiry is compared with the clock at every request. Only a token's last use is
written without a new revision, at most every LAST_USED_EVERY.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.api.models import ApiToken
from whistle.cases.actions import moment
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.organisation import directory
from whistle.organisation.models import Person, RoleAssignment

SECRET_PREFIX = "wst_"
PREFIX_LENGTH = 12
NAME_MAX = 100
# last_used_at is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its secret: show the secret once, it is not kept."""

    token: ApiToken
    secret: str


class TokenRefused(Exception):
    """A request's token does not open the API: unknown, expired or revoked."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def max_days() -> int:
    return int(settings.WHISTLE_API_TOKEN_MAX_DAYS)


def default_days() -> int:
    return int(settings.WHISTLE_API_TOKEN_DEFAULT_DAYS)


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name", _("Give the token a name that says where it is used."))
    text = name.strip()
    if len(text) > NAME_MAX or "\x00" in text:
        raise InvalidInput(
            "name", _("The name is too long: at most %(max)s characters."), max=NAME_MAX
        )
    return text


def clean_expiry(expires_at: object, now: datetime) -> datetime:
    """A token's expiry as given, or InvalidInput: a moment in the future, at most
    `max_days()` ahead."""
    if not isinstance(expires_at, datetime) or timezone.is_naive(expires_at):
        raise InvalidInput("expires_at", _("Give the expiry as a date and time."))
    if expires_at <= now:
        raise InvalidInput("expires_at", _("The expiry must be in the future."))
    if expires_at > now + timedelta(days=max_days()):
        raise InvalidInput("expires_at", _("A token lives at most %(days)s days."), days=max_days())
    return expires_at


def may_issue_service_tokens(person: object) -> bool:
    return bool(getattr(person, "is_active", False) and getattr(person, "is_superuser", False))


def issue_token(
    actor: Person,
    *,
    person: Person,
    name: str,
    roles: Iterable[RoleAssignment] | None = None,
    expires_at: datetime | None = None,
    kind: str = ApiToken.Kind.PERSONAL,
    now: datetime | None = None,
) -> IssuedToken:
    """A new token acting for `person` with the chosen roles of theirs (all of them when
    none are chosen). A person makes personal tokens for themself; an administrator makes
    service tokens for a system account."""
    now = moment(now)
    if kind not in ApiToken.Kind.values:
        raise InvalidInput("kind", _("Choose a personal or a service token."))
    if kind == ApiToken.Kind.PERSONAL and (actor.pk != person.pk or not actor.is_active):
        raise PermissionRefused(_("A personal token is made by its own person."))
    if kind == ApiToken.Kind.SERVICE and not may_issue_service_tokens(actor):
        raise PermissionRefused(_("Only an administrator makes service tokens."))
    name = _clean_name(name)
    expires_at = clean_expiry(
        expires_at if expires_at is not None else now + timedelta(days=default_days()), now
    )
    held = {r.pk: r for r in RoleAssignment.objects.filter(person=person)}
    chosen = list(roles) if roles is not None else []
    if any(r.pk not in held for r in chosen):
        raise InvalidInput("roles", _("A token carries only roles its person holds."))
    if not chosen:
        chosen = list(held.values())
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            person=person,
            kind=kind,
            name=name,
            prefix=secret[:PREFIX_LENGTH],
            digest=digest_of(secret),
            created_at=now,
            created_by=actor,
            expires_at=expires_at,
        )
        token.roles.set(chosen)
    return IssuedToken(token, secret)


def revoke_token(actor: Person, token: ApiToken, *, now: datetime | None = None) -> ApiToken:
    """Revoke a token at once: its person revokes it, or an administrator does."""
    now = moment(now)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.person_id != actor.pk and not may_issue_service_tokens(actor):
            raise PermissionRefused(_("Only the token's person or an administrator revokes it."))
        if token.revoked_at is not None:
            raise ActionRefused(_("This token is already revoked."))
        token.revoked_at = now
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Known:
    """A token as one process keeps it: shared by requests, so each gets copies."""

    token: ApiToken
    person: Person
    roles: frozenset[int]


# When each token's last use was last written, or found written, by this process: by digest,
# as the kept tokens are.
_last_used: dict[str, datetime] = {}


def _find(secret: str) -> _Known:
    """The token whose secret this is, kept under the directory's current revision. A secret
    that opens nothing is not kept: guessing fills no memory."""
    wanted = digest_of(secret)

    def load() -> _Known:
        found = None
        candidates = (
            ApiToken.objects.filter(prefix=secret[:PREFIX_LENGTH])
            .select_related("person")
            # Neither changes the directory's revision: read again if ever asked for.
            .defer("person__password", "person__last_login")
        )
        for candidate in candidates:
            if hmac.compare_digest(candidate.digest, wanted):
                found = candidate
        if found is None:
            raise TokenRefused("token_invalid")
        roles = frozenset(found.roles.values_list("pk", flat=True))
        return _Known(found, found.person, roles)

    return directory.kept(("api_token", wanted), load)


def _note_use(token: ApiToken, now: datetime) -> None:
    """Write the token's last use when this process has not written or seen one within
    LAST_USED_EVERY; another process's more recent write is left as it is."""
    written = (_last_used.get(token.digest), token.last_used_at)
    seen = max((at for at in written if at is not None), default=None)
    if seen is not None and seen > now - LAST_USED_EVERY:
        token.last_used_at = seen
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY), pk=token.pk
    ).update(last_used_at=now)
    if len(_last_used) >= directory.MAX_ENTRIES:
        _last_used.clear()
    _last_used[token.digest] = now
    token.last_used_at = now


def _own(kept: M) -> M:
    """A copy of a kept instance as `copy.copy` makes it, its fields and its state with
    the cache of related objects copied (`Model.__getstate__`), without pickling's way
    through the app registry: what the request sets on it stays its own."""
    clone = type(kept).__new__(type(kept))
    clone.__dict__.update(kept.__dict__)
    clone._state = copy.copy(kept._state)
    clone._state.fields_cache = kept._state.fields_cache.copy()
    return clone


def authenticate(secret: str, *, now: datetime | None = None) -> tuple[ApiToken, Person]:
    """The token and its person, the person carrying only the token's roles
    (`Person.role_limit`). Raises TokenRefused("token_invalid" | "token_expired" |
    "token_revoked" | "person_inactive")."""
    now = moment(now)
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        raise TokenRefused("token_invalid")
    known = _find(secret)
    if known.token.revoked_at is not None:
        raise TokenRefused("token_revoked")
    if known.token.expires_at <= now:
        raise TokenRefused("token_expired")
    if not known.person.is_active:
        raise TokenRefused("person_inactive")
    # The request's own objects: what it sets on them stays its own.
    token, person = _own(known.token), _own(known.person)
    token.person = person
    person.role_limit = known.roles
    _note_use(token, now)
    return token, person
