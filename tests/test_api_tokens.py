"""What each process keeps of the API's tokens (the person, the roles carried, the expiry, the
revocation): a request made while nothing changed reads no token, and the next request obeys
every change, however it was made — by an action, a bulk update, raw SQL, or another
connection. The expiry is compared with the clock at each request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import SmallCity, build_small_city, elsewhere, make_person
from tests.fixtures_api import Api
from whistle.api import tokens
from whistle.api.models import ApiToken
from whistle.organisation import directory
from whistle.organisation.models import Person, Role, RoleAssignment

TOKENS = ApiToken._meta.db_table
CARRIED = ApiToken.roles.through._meta.db_table
PEOPLE = Person._meta.db_table


@dataclass
class Caller:
    """A township dispatcher of 龙潭街道 who is also its assessor, with a token carrying both
    roles."""

    person: Person
    dispatching: RoleAssignment
    assessing: RoleAssignment
    token: ApiToken
    api: Api

    def me(self):
        return self.api.get("/me")

    def refused_with(self) -> str | None:
        answer = self.me()
        if answer.status_code == 200:
            return None
        assert answer.status_code == 401, answer.content
        return str(answer.json()["code"])

    def roles(self) -> list[str]:
        answer = self.me()
        assert answer.status_code == 200, answer.content
        return sorted(row["role"] for row in answer.json()["roles"])


def _caller(city: SmallCity) -> Caller:
    person = make_person("longtan-dispatcher", Role.DISPATCHER, jurisdiction=city.longtan)
    dispatching = RoleAssignment.objects.get(person=person)
    assessing = RoleAssignment.objects.create(
        person=person, role=Role.TOWNSHIP_ASSESSOR, jurisdiction=city.longtan
    )
    issued = tokens.issue_token(person, person=person, name="网格化平台")
    caller = Caller(person, dispatching, assessing, issued.token, Api(issued.secret))
    assert caller.roles() == [Role.DISPATCHER, Role.TOWNSHIP_ASSESSOR]
    return caller


@pytest.fixture
def caller(small_city) -> Caller:
    return _caller(small_city)


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# How each change is made: by the application (the action, or the model as the admin saves it),
# by a bulk update, by raw SQL. Another connection is tested below.


def _revoke_by_action(c: Caller) -> None:
    tokens.revoke_token(c.person, c.token)


def _revoke_by_bulk_update(c: Caller) -> None:
    ApiToken.objects.filter(pk=c.token.pk).update(revoked_at=timezone.now())


def _revoke_by_raw_sql(c: Caller) -> None:
    _raw(f"UPDATE {TOKENS} SET revoked_at = %s WHERE id = %s", [timezone.now(), c.token.pk])


def _expire_by_the_model(c: Caller) -> None:
    token = ApiToken.objects.get(pk=c.token.pk)
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save(update_fields=["expires_at"])


def _expire_by_bulk_update(c: Caller) -> None:
    ApiToken.objects.filter(pk=c.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _expire_by_raw_sql(c: Caller) -> None:
    _raw(
        f"UPDATE {TOKENS} SET expires_at = %s WHERE id = %s",
        [timezone.now() - timedelta(seconds=1), c.token.pk],
    )


def _narrow_by_the_model(c: Caller) -> None:
    ApiToken.objects.get(pk=c.token.pk).roles.set([c.dispatching])


def _narrow_by_bulk_delete(c: Caller) -> None:
    ApiToken.roles.through.objects.filter(
        apitoken_id=c.token.pk, roleassignment_id=c.assessing.pk
    ).delete()


def _narrow_by_raw_sql(c: Caller) -> None:
    _raw(
        f"DELETE FROM {CARRIED} WHERE apitoken_id = %s AND roleassignment_id = %s",
        [c.token.pk, c.assessing.pk],
    )


def _delete_by_the_model(c: Caller) -> None:
    ApiToken.objects.get(pk=c.token.pk).delete()


def _delete_by_bulk_delete(c: Caller) -> None:
    ApiToken.objects.filter(person=c.person).delete()


def _delete_by_raw_sql(c: Caller) -> None:
    _raw(f"DELETE FROM {CARRIED} WHERE apitoken_id = %s", [c.token.pk])
    _raw(f"DELETE FROM {TOKENS} WHERE id = %s", [c.token.pk])


def _deactivate_by_the_model(c: Caller) -> None:
    person = Person.objects.get(pk=c.person.pk)
    person.is_active = False
    person.save()


def _deactivate_by_bulk_update(c: Caller) -> None:
    Person.objects.filter(pk=c.person.pk).update(is_active=False)


def _deactivate_by_raw_sql(c: Caller) -> None:
    _raw(f"UPDATE {PEOPLE} SET is_active = %s WHERE id = %s", [False, c.person.pk])


REFUSALS = {
    "revoked by its person": (_revoke_by_action, "token_revoked"),
    "revoked by bulk update": (_revoke_by_bulk_update, "token_revoked"),
    "revoked by raw SQL": (_revoke_by_raw_sql, "token_revoked"),
    "expiry moved back by the model": (_expire_by_the_model, "token_expired"),
    "expiry moved back by bulk update": (_expire_by_bulk_update, "token_expired"),
    "expiry moved back by raw SQL": (_expire_by_raw_sql, "token_expired"),
    "deleted by the model": (_delete_by_the_model, "token_invalid"),
    "deleted by bulk delete": (_delete_by_bulk_delete, "token_invalid"),
    "deleted by raw SQL": (_delete_by_raw_sql, "token_invalid"),
    "person deactivated by the model": (_deactivate_by_the_model, "person_inactive"),
    "person deactivated by bulk update": (_deactivate_by_bulk_update, "person_inactive"),
    "person deactivated by raw SQL": (_deactivate_by_raw_sql, "person_inactive"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("change", REFUSALS, ids=list(REFUSALS))
def test_the_next_request_after_a_change_is_refused(caller, change):
    make, code = REFUSALS[change]
    assert caller.refused_with() is None
    make(caller)
    assert caller.refused_with() == code


NARROWINGS = {
    "by the model": _narrow_by_the_model,
    "by bulk delete": _narrow_by_bulk_delete,
    "by raw SQL": _narrow_by_raw_sql,
}


@pytest.mark.django_db
@pytest.mark.parametrize("change", NARROWINGS, ids=list(NARROWINGS))
def test_a_token_narrowed_to_fewer_roles_acts_in_those_alone_at_the_next_request(caller, change):
    NARROWINGS[change](caller)
    assert caller.roles() == [Role.DISPATCHER]


@pytest.mark.django_db
def test_a_role_given_back_to_the_token_by_raw_sql_is_carried_at_the_next_request(caller):
    _narrow_by_raw_sql(caller)
    assert caller.roles() == [Role.DISPATCHER]
    _raw(
        f"INSERT INTO {CARRIED} (apitoken_id, roleassignment_id) VALUES (%s, %s)",
        [caller.token.pk, caller.assessing.pk],
    )
    assert caller.roles() == [Role.DISPATCHER, Role.TOWNSHIP_ASSESSOR]


@pytest.mark.django_db
def test_a_role_the_person_lost_is_not_carried_at_the_next_request(caller):
    RoleAssignment.objects.filter(pk=caller.assessing.pk).delete()
    assert caller.roles() == [Role.DISPATCHER]


@pytest.mark.django_db
def test_a_reactivated_person_s_token_opens_the_api_again(caller):
    _deactivate_by_bulk_update(caller)
    assert caller.refused_with() == "person_inactive"
    Person.objects.filter(pk=caller.person.pk).update(is_active=True)
    assert caller.refused_with() is None


@pytest.mark.django_db
def test_a_renamed_person_is_named_at_the_next_request(caller):
    assert caller.me().json()["name"] == "longtan-dispatcher"
    Person.objects.filter(pk=caller.person.pk).update(name="龙潭调度员", username="longtan-1")
    assert caller.me().json()["name"] == "龙潭调度员"
    assert caller.me().json()["username"] == "longtan-1"


# The clock ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_expires_by_the_clock_alone_at_its_expiry(caller):
    expires_at = caller.token.expires_at
    with time_machine.travel(expires_at - timedelta(seconds=1), tick=False):
        assert caller.refused_with() is None
    with time_machine.travel(expires_at, tick=False):
        assert caller.refused_with() == "token_expired"


@pytest.mark.django_db
def test_the_last_use_is_written_at_most_once_a_minute_and_changes_nothing_kept(caller):
    start = timezone.now() + timedelta(hours=1)
    with time_machine.travel(start, tick=False) as clock:
        before = directory.revision()
        assert caller.refused_with() is None
        assert ApiToken.objects.get(pk=caller.token.pk).last_used_at == start
        clock.shift(timedelta(seconds=59))
        with CaptureQueriesContext(connection) as queries:
            assert caller.refused_with() is None
        assert not any(TOKENS in query["sql"] for query in queries.captured_queries)
        assert ApiToken.objects.get(pk=caller.token.pk).last_used_at == start
        clock.shift(timedelta(seconds=2))
        assert caller.refused_with() is None
        assert ApiToken.objects.get(pk=caller.token.pk).last_used_at == start + timedelta(
            seconds=61
        )
        assert directory.revision() == before


@pytest.mark.django_db
def test_a_last_use_written_by_another_process_is_not_written_again_within_the_minute(caller):
    start = timezone.now() + timedelta(hours=1)
    with time_machine.travel(start, tick=False) as clock:
        assert caller.refused_with() is None
        # Another process wrote it half a minute later; this one's minute is over next.
        later = start + timedelta(seconds=30)
        ApiToken.objects.filter(pk=caller.token.pk).update(last_used_at=later)
        clock.shift(timedelta(seconds=61))
        assert caller.refused_with() is None
        assert ApiToken.objects.get(pk=caller.token.pk).last_used_at == later


# How it is kept -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_nothing_of_the_token_is_read_while_nothing_changes(caller):
    assert caller.refused_with() is None
    with CaptureQueriesContext(connection) as queries:
        assert caller.refused_with() is None
    read = [q["sql"] for q in queries.captured_queries if TOKENS in q["sql"]]
    assert read == []


@pytest.mark.django_db
def test_what_a_request_sets_on_its_token_and_person_stays_its_own(caller):
    first, person = tokens.authenticate(caller.api.secret or "")
    person.role_limit = frozenset()
    first.name = "改过的名字"
    again, person_again = tokens.authenticate(caller.api.secret or "")
    assert again is not first and person_again is not person
    assert person_again.role_limit == {caller.dispatching.pk, caller.assessing.pk}
    assert again.name == "网格化平台" and again.person is person_again


@pytest.mark.django_db
def test_a_request_s_token_and_person_share_no_state_with_the_kept_ones(caller):
    secret = caller.api.secret or ""
    token, person = tokens.authenticate(secret)
    with CaptureQueriesContext(connection) as queries:
        kept = tokens._find(secret)
    assert [q for q in queries.captured_queries if TOKENS in q["sql"]] == []
    assert token is not kept.token and person is not kept.person
    assert token._state is not kept.token._state
    assert token._state.fields_cache is not kept.token._state.fields_cache
    # The request's token names the request's person; the kept token still the kept one.
    assert token.person is person and kept.token.person is kept.person
    person.first_name = "改过"
    token.revoked_at = timezone.now()
    assert kept.person.first_name != "改过" and kept.token.revoked_at is None


@pytest.mark.django_db
def test_an_unknown_secret_is_refused_and_not_kept(caller):
    unknown = tokens.SECRET_PREFIX + "x" * 43
    for _attempt in range(2):
        with pytest.raises(tokens.TokenRefused) as refused:
            tokens.authenticate(unknown)
        assert refused.value.code == "token_invalid"
    generation = directory.generation()
    assert ("api_token", tokens.digest_of(unknown)) not in generation._values


# Another connection ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_changes_committed_by_another_connection_are_obeyed_at_the_next_request():
    c = _caller(build_small_city())
    elsewhere(lambda: _narrow_by_the_model(c))
    assert c.roles() == [Role.DISPATCHER]
    elsewhere(lambda: _deactivate_by_bulk_update(c))
    assert c.refused_with() == "person_inactive"
    elsewhere(lambda: Person.objects.filter(pk=c.person.pk).update(is_active=True))
    assert c.refused_with() is None
    elsewhere(lambda: _expire_by_bulk_update(c))
    assert c.refused_with() == "token_expired"
    elsewhere(
        lambda: ApiToken.objects.filter(pk=c.token.pk).update(
            expires_at=timezone.now() + timedelta(days=1)
        )
    )
    assert c.refused_with() is None
    elsewhere(lambda: _revoke_by_action(c))
    assert c.refused_with() == "token_revoked"
    elsewhere(lambda: _delete_by_bulk_delete(c))
    assert c.refused_with() == "token_invalid"


@pytest.mark.parametrize(
    ("language", "asks", "yes"),
    [("zh-hans", "吊销此令牌？", "确认吊销"), ("en", "Revoke the token?", "Yes, revoke it")],
)
def test_revoking_a_token_on_its_page_asks_first_without_javascript(
    small_city, language, asks, yes
):
    person = make_person("owner", Role.DISPATCHER, jurisdiction=small_city.longtan)
    issued = tokens.issue_token(person, person=person, name="大屏")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(person)
    listed = client.get("/settings/api-tokens/").content.decode()
    url = f"/settings/api-tokens/{issued.token.uuid}/revoke"
    assert f'href="{url}"' in listed  # the list's button opens the question
    # The question names the token; opening it, or sending its form unconfirmed, revokes nothing.
    for answer in (client.get(url), client.post(url, {})):
        html = answer.content.decode()
        assert answer.status_code == 200 and asks in html and yes in html and "大屏" in html
        assert 'name="confirm" value="yes"' in html
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is None
    done = client.post(url, {"confirm": "yes"})
    assert done.status_code == 302
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is not None


@pytest.mark.parametrize(
    ("language", "copy", "copied"),
    [("zh-hans", "复制令牌", "已复制。"), ("en", "Copy the token", "Copied.")],
)
def test_a_new_token_is_shown_once_with_a_button_that_copies_it(small_city, language, copy, copied):
    person = make_person("owner", Role.DISPATCHER, jurisdiction=small_city.longtan)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(person)
    answer = client.post("/settings/api-tokens/", {"name": "大屏", "days": 30})
    html = answer.content.decode()
    secret = html.split('id="new-token-secret" data-token-secret>', 1)[1].split("<", 1)[0]
    assert tokens.digest_of(secret) == ApiToken.objects.get(name="大屏").digest
    # The button copies the secret's element, and is shown by the script that does it.
    assert f'data-copy="new-token-secret" hidden>{copy}</button>' in html
    assert "whistle/copy.js" in html
    # The script's words, in the page's language.
    assert f'"copyDone": {json.dumps(copied)}' in html
    assert 'data-copy="' not in client.get("/settings/api-tokens/").content.decode()


def test_a_refused_call_with_a_valid_token_is_logged_with_its_person_not_its_secret(
    small_city, caplog
):
    person = make_person("owner", Role.DISPATCHER, jurisdiction=small_city.longtan)
    issued = tokens.issue_token(person, person=person, name="大屏")
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    with caplog.at_level("WARNING", logger="django.request"):
        answer = client.get("/api/v1/hotline/answers", {"district": "110101"})
    assert answer.status_code == 403
    refusals = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert refusals == [
        f"refused (403): GET /api/v1/hotline/answers, person {person.pk} "
        f"(token {issued.token.prefix}…)"
    ]
    assert issued.secret not in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="django.request"):
        unknown = Client(HTTP_AUTHORIZATION="Bearer wst_nothing").get("/api/v1/me")
    assert unknown.status_code == 401
    refusals = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert refusals == ["refused (401): GET /api/v1/me, person anonymous"]
