"""What each process keeps of who is told of what (the township's dispatchers, their
preferences and channels, the group robots, the webhook endpoints), which unit handles what,
and the caller's own roles: the next filing obeys every change, however it was made — by an
action, a bulk update, raw SQL, or another connection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import translation

from tests.conftest import elsewhere, make_person
from tests.fixtures_cases import (  # noqa: F401  (fixture)
    ON_THE_LANE,
    WhistleCity,
    whistle_city_fixture,
)
from tests.hotline_classes import deadline_class
from whistle.api.shared import category_by_code
from whistle.cases.actions import report_case
from whistle.cases.actions.hotline import take_hotline_order
from whistle.cases.errors import InvalidInput, PermissionRefused
from whistle.cases.models import Case, HotlineOrder
from whistle.notifications.models import (
    Channel,
    GroupRobot,
    Notification,
    NotificationPreference,
    PushSubscription,
    WebhookEndpoint,
)
from whistle.organisation import directory, map_triggers
from whistle.organisation.models import (
    CentreMembership,
    DirectoryRevision,
    Person,
    Role,
    RoleAssignment,
    TownshipUnit,
)
from whistle.policies.models import (
    Category,
    CategoryKind,
    DurationUnit,
    HotlineDeadlineClass,
    MajorClass,
)
from whistle.policies.offices import UnitInput, save_unit
from whistle.policies.routing import CategoryRoute

pytestmark = pytest.mark.django_db


def _file(city: WhistleCity) -> Case:
    """The township's dispatcher files a problem on the lane."""
    return report_case(
        city.dispatcher,
        description="人民市场东巷有游商占道",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        category=city.street_vending,
    )


def _rows(case: Case, **filters) -> list[Notification]:
    return list(Notification.objects.filter(payload__case=case.reference, **filters).order_by("pk"))


def _told(case: Case) -> set[str]:
    """Who got the case's message in their inbox."""
    return {
        row.recipient.username
        for row in _rows(case, channel=Channel.INBOX)
        if row.recipient is not None
    }


# The dispatchers --------------------------------------------------------------------------


def test_a_new_dispatcher_is_told_of_the_next_filing(whistle_city):
    c = whistle_city
    assert _told(_file(c)) == {c.dispatcher.username}
    make_person("longtan-night-dispatcher", Role.DISPATCHER, jurisdiction=c.longtan)
    assert _told(_file(c)) == {c.dispatcher.username, "longtan-night-dispatcher"}


def test_a_dispatcher_whose_role_was_taken_away_by_a_bulk_delete_is_not_told(whistle_city):
    c = whistle_city
    other = make_person("longtan-night-dispatcher", Role.DISPATCHER, jurisdiction=c.longtan)
    assert other.username in _told(_file(c))
    RoleAssignment.objects.filter(person=other).delete()
    assert _told(_file(c)) == {c.dispatcher.username}


def test_a_deactivated_dispatcher_is_not_told_and_reactivated_is_again(whistle_city):
    c = whistle_city
    other = make_person("longtan-night-dispatcher", Role.DISPATCHER, jurisdiction=c.longtan)
    _file(c)
    Person.objects.filter(pk=other.pk).update(is_active=False)
    assert _told(_file(c)) == {c.dispatcher.username}
    Person.objects.filter(pk=other.pk).update(is_active=True)
    assert other.username in _told(_file(c))


def test_a_new_phone_number_is_where_the_next_text_goes(whistle_city):
    c = whistle_city
    NotificationPreference.objects.create(person=c.dispatcher, channels=["sms"])
    assert _rows(_file(c), channel=Channel.SMS) == []  # no phone yet
    Person.objects.filter(pk=c.dispatcher.pk).update(phone="13900000002")
    [text] = _rows(_file(c), channel=Channel.SMS)
    assert text.address == "13900000002"


def test_a_sign_in_does_not_change_the_directory(whistle_city):
    c = whistle_city
    _file(c)
    before = directory.revision()
    c.dispatcher.last_login = c.dispatcher.date_joined
    c.dispatcher.save(update_fields=["last_login"])
    assert directory.revision() == before


# Their preferences and channels -----------------------------------------------------------


def test_a_changed_order_of_channels_is_obeyed_at_the_next_filing(whistle_city):
    c = whistle_city
    Person.objects.filter(pk=c.dispatcher.pk).update(phone="13900000002", email="d@example.cn")
    preference = NotificationPreference.objects.create(person=c.dispatcher, channels=["sms"])
    assert [r.channel for r in _rows(_file(c)) if r.channel != Channel.INBOX] == [Channel.SMS]
    preference.channels = ["email", "sms"]
    preference.save()
    assert [r.channel for r in _rows(_file(c)) if r.channel != Channel.INBOX] == [Channel.EMAIL]
    NotificationPreference.objects.filter(pk=preference.pk).update(channels=[])
    assert [r.channel for r in _rows(_file(c))] == [Channel.INBOX]
    NotificationPreference.objects.filter(pk=preference.pk).delete()
    assert len(_rows(_file(c))) == 2  # the inbox and the deployment's first channel


def test_new_quiet_hours_hold_the_next_message(whistle_city):
    c = whistle_city
    Person.objects.filter(pk=c.dispatcher.pk).update(phone="13900000002")
    preference = NotificationPreference.objects.create(person=c.dispatcher, channels=["sms"])
    [text] = _rows(_file(c), channel=Channel.SMS)
    assert text.next_attempt_at == text.created_at
    # Quiet all day but one minute: whenever the test runs, the message waits.
    preference.quiet_from, preference.quiet_until = _one_minute_before_and_at(text)
    preference.save()
    [held] = _rows(_file(c), channel=Channel.SMS)
    assert held.next_attempt_at > held.created_at


def _one_minute_before_and_at(row: Notification):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    local = row.created_at.astimezone(ZoneInfo("Asia/Shanghai"))
    start = (local + timedelta(minutes=2)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    return start, end


def test_a_new_push_subscription_is_used_at_the_next_filing(whistle_city, settings):
    c = whistle_city
    settings.WHISTLE_VAPID_PRIVATE_KEY = "configured"
    NotificationPreference.objects.create(person=c.dispatcher, channels=["push"])
    assert [r.channel for r in _rows(_file(c))] == [Channel.INBOX]
    PushSubscription.objects.create(
        person=c.dispatcher, endpoint="https://push.example/1", p256dh="k", auth="a"
    )
    assert {r.channel for r in _rows(_file(c))} == {Channel.INBOX, Channel.PUSH}
    PushSubscription.objects.filter(person=c.dispatcher).delete()
    assert [r.channel for r in _rows(_file(c))] == [Channel.INBOX]


# Robots and webhooks ----------------------------------------------------------------------


def test_a_new_township_robot_gets_the_next_filing_and_a_disabled_one_does_not(whistle_city):
    c = whistle_city
    assert _rows(_file(c), channel=Channel.ROBOT) == []
    robot = GroupRobot.objects.create(
        name="龙潭街道指挥中心群", platform=GroupRobot.Platform.WECOM, township=c.longtan, key="k"
    )
    [row] = _rows(_file(c), channel=Channel.ROBOT)
    assert row.robot == robot
    GroupRobot.objects.filter(pk=robot.pk).update(event_kinds=["summons.overdue"])
    assert _rows(_file(c), channel=Channel.ROBOT) == []
    GroupRobot.objects.filter(pk=robot.pk).update(event_kinds=[], is_active=False)
    assert _rows(_file(c), channel=Channel.ROBOT) == []


def test_a_robot_recording_its_sends_leaves_the_directory_as_it_was(whistle_city):
    c = whistle_city
    robot = GroupRobot.objects.create(
        name="龙潭街道指挥中心群", platform=GroupRobot.Platform.WECOM, township=c.longtan, key="k"
    )
    before = directory.revision()
    robot.recent_sends = ["2026-03-10T02:00:00+00:00"]
    robot.save(update_fields=["recent_sends"])
    assert directory.revision() == before


def test_a_department_robot_hears_of_a_centre_duty_given_after_the_last_filing(whistle_city):
    c = whistle_city
    robot = GroupRobot.objects.create(
        name="东城区房管局群", platform=GroupRobot.Platform.WECOM, department=c.housing, key="k"
    )
    assert _rows(_file(c), channel=Channel.ROBOT) == []
    duty = CentreMembership.objects.create(township=c.longtan, department=c.housing, role="core")
    duty.people.add(c.dispatcher)
    [row] = _rows(_file(c), channel=Channel.ROBOT)
    assert row.robot == robot
    duty.people.remove(c.dispatcher)
    assert _rows(_file(c), channel=Channel.ROBOT) == []


def test_a_new_webhook_endpoint_gets_the_next_filing_and_a_narrowed_one_does_not(whistle_city):
    c = whistle_city
    assert _webhook_rows(_file(c)) == []
    endpoint = WebhookEndpoint.objects.create(name="区网格化中心", url="https://grid.example/h")
    [row] = _webhook_rows(case := _file(c))
    assert (row.endpoint, row.address, row.payload["case"]) == (
        endpoint,
        "https://grid.example/h",
        case.reference,
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://grid.example/v2")
    [moved] = _webhook_rows(_file(c))
    assert moved.address == "https://grid.example/v2"
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(event_kinds=["case.closed"])
    assert _webhook_rows(_file(c)) == []


def _webhook_rows(case: Case) -> list[Notification]:
    return list(Notification.objects.filter(channel=Channel.WEBHOOK, payload__case=case.reference))


def test_a_filing_writes_its_messages_and_webhooks_in_one_insert(whistle_city):
    c = whistle_city
    WebhookEndpoint.objects.create(name="区网格化中心", url="https://grid.example/h")
    make_person("longtan-night-dispatcher", Role.DISPATCHER, jurisdiction=c.longtan)
    _file(c)  # the directory read once
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        case = _file(c)
    table = Notification._meta.db_table
    # One call of the driver: an executemany is captured as "3 times: INSERT …".
    inserts = [
        q
        for q in queries.captured_queries
        if "INSERT" in q["sql"] and f'INTO "{table}" ' in q["sql"]
    ]
    assert len(inserts) == 1
    assert len(_rows(case)) == 3  # two inboxes and the webhook


# The unit a case goes to ------------------------------------------------------------------


def test_a_unit_given_the_category_receives_the_next_filing(whistle_city):
    c = whistle_city
    assert _file(c).office is None
    team = save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(
            kind=TownshipUnit.Kind.ENFORCEMENT, name="综合执法队", categories=[c.street_vending]
        ),
    )
    assert _file(c).office == team
    office = save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(kind=TownshipUnit.Kind.OFFICE, name="城市管理办公室"),
    )
    CategoryRoute.objects.filter(unit=team).update(unit=office)
    assert _file(c).office == office
    TownshipUnit.objects.filter(pk=office.pk).update(is_active=False)
    assert _file(c).office is None


def test_a_renamed_unit_is_named_in_the_next_filing_s_trail(whistle_city):
    c = whistle_city
    team = save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(
            kind=TownshipUnit.Kind.ENFORCEMENT, name="综合执法队", categories=[c.street_vending]
        ),
    )
    _file(c)
    TownshipUnit.objects.filter(pk=team.pk).update(name="综合行政执法队")
    assert _file(c).events.get(seq=1).data["office"] == "综合行政执法队"


def test_a_changed_deadline_class_sets_the_next_order_s_limits(whistle_city):
    c = whistle_city
    first = _order(c, "20260310001")
    deadline_class(
        c.district,
        "fast",
        "快办",
        (1, DurationUnit.NATURAL_HOURS),
        (2, DurationUnit.NATURAL_HOURS),
        is_default=True,
    )
    second = _order(c, "20260310002")
    assert (first.deadline_class, second.deadline_class) != ("fast", "fast")
    assert second.deadline_class == "fast"
    assert second.resolve_due_at - second.received_at == timedelta(hours=2)
    HotlineDeadlineClass.objects.filter(district=c.district, code="fast").update(resolve_within=3)
    third = _order(c, "20260310003")
    assert third.resolve_due_at - third.received_at == timedelta(hours=3)


def _order(city: WhistleCity, number: str) -> HotlineOrder:
    taken = take_hotline_order(
        city.dispatcher,
        number=number,
        caller_name="王女士",
        caller_phone="13800000000",
        description="人民市场东巷有游商占道",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        category=city.street_vending,
    )
    return taken.order


# The categories the API looks up by code ----------------------------------------------------


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_a_category_changed_by_bulk_update_or_raw_sql_is_obeyed_at_the_next_look_up(
    whistle_city, english
):
    c = whistle_city
    from django.test.utils import CaptureQueriesContext

    assert category_by_code(c.district, "0501", None) == c.street_vending
    with CaptureQueriesContext(connection) as queries:
        assert category_by_code(c.district, "0501", None).name == "无照经营游商"
    assert queries.captured_queries == []
    Category.objects.filter(pk=c.street_vending.pk).update(name="游商")
    assert category_by_code(c.district, "0501", None).name == "游商"
    Category.objects.filter(pk=c.street_vending.pk).update(is_active=False)
    with pytest.raises(InvalidInput, match="no longer in use"):
        _file_with(c, category_by_code(c.district, "0501", None))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE policies_category SET is_active = %s WHERE id = %s",
            [True, c.street_vending.pk],
        )
    assert _file_with(c, category_by_code(c.district, "0501", None)).category == c.street_vending


def test_a_new_category_or_major_class_sharing_a_code_is_seen_at_the_next_look_up(
    whistle_city, english
):
    c = whistle_city
    assert category_by_code(c.district, "0501", "event") == c.street_vending
    with pytest.raises(InvalidInput, match="no category"):
        category_by_code(c.district, "0601", None)
    parts = MajorClass.objects.create(
        district=c.district, kind=CategoryKind.COMPONENT, code="05", name="部件"
    )
    twin = Category.objects.create(major=parts, code="01", name="井盖")
    with pytest.raises(InvalidInput, match="category_kind"):
        category_by_code(c.district, "0501", None)
    assert category_by_code(c.district, "0501", "component") == twin
    MajorClass.objects.filter(pk=parts.pk).update(code="06")
    assert category_by_code(c.district, "0501", None) == c.street_vending
    assert category_by_code(c.district, "0601", None) == twin
    with transaction.atomic():
        Category.objects.filter(pk=twin.pk).delete()
        with pytest.raises(InvalidInput, match="no category"):
            category_by_code(c.district, "0601", None)
        transaction.set_rollback(True)
    assert category_by_code(c.district, "0601", None) == twin


def _file_with(city: WhistleCity, category: Category) -> Case:
    return report_case(
        city.dispatcher,
        description="人民市场东巷有游商占道",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        category=category,
    )


# The caller's roles -----------------------------------------------------------------------


def test_a_caller_whose_role_was_taken_away_may_no_longer_file(whistle_city):
    c = whistle_city
    _file(c)
    RoleAssignment.objects.filter(person=c.dispatcher, role=Role.DISPATCHER).update(
        jurisdiction=c.city.dongsi
    )
    with pytest.raises(PermissionRefused):
        _file(c)


def test_a_role_given_by_raw_sql_lets_the_caller_file(whistle_city):
    c = whistle_city
    newcomer = Person.objects.create_user(username="newcomer", password="pw-123456")
    with pytest.raises(PermissionRefused):
        report_case(newcomer, description="占道", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RoleAssignment._meta.db_table} "
            "(person_id, role, jurisdiction_id, public_phone) VALUES (%s, %s, %s, '')",
            [newcomer.pk, Role.DISPATCHER, c.longtan.pk],
        )
    assert report_case(newcomer, description="占道", lon=ON_THE_LANE[0], lat=ON_THE_LANE[1])


# How it is kept ---------------------------------------------------------------------------


def test_a_rolled_back_change_leaves_nothing_behind(whistle_city):
    c = whistle_city
    _file(c)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_person("longtan-night-dispatcher", Role.DISPATCHER, jurisdiction=c.longtan)
        assert "longtan-night-dispatcher" in _told(_file(c))
        raise RuntimeError("rolled back")
    assert _told(_file(c)) == {c.dispatcher.username}


def test_nothing_is_read_twice_while_nothing_changes(whistle_city):
    c = whistle_city
    first = directory.people_with_role(Role.DISPATCHER, c.longtan.pk)
    assert directory.generation() is directory.generation()
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        again = directory.people_with_role(Role.DISPATCHER, c.longtan.pk)
    assert again == first and again is not first
    assert queries.captured_queries == []


def test_a_flushed_token_is_put_back_and_nothing_is_kept_meanwhile(whistle_city):
    c = whistle_city
    DirectoryRevision.objects.all().delete()
    assert directory.revision() is None
    assert _told(_file(c)) == {c.dispatcher.username}
    map_triggers.ensure(connection)
    assert directory.revision() is not None


def test_every_table_of_the_directory_has_its_triggers_after_the_migrations(db):
    assert map_triggers.missing(connection, map_triggers.DIRECTORY) == []


# Another connection -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_changes_committed_by_another_connection_are_obeyed_at_the_next_filing(
    small_city, settings, tmp_path
):
    from tests.fixtures_cases import build_whistle_city
    from whistle.cases.signing import init_key

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.WHISTLE_SIGNING_KEY_FILE = str(tmp_path / "keys" / "signing-key.pem")
    init_key()
    c = build_whistle_city(small_city)
    assert _told(_file(c)) == {c.dispatcher.username}
    assert _webhook_rows(_file(c)) == []
    night = make_person("longtan-night-dispatcher", Role.DISPATCHER, jurisdiction=c.longtan)
    assert _told(_file(c)) == {c.dispatcher.username, night.username}

    def changes() -> None:
        Person.objects.filter(pk=night.pk).update(is_active=False)
        NotificationPreference.objects.create(person=c.dispatcher, channels=[])
        WebhookEndpoint.objects.create(name="区网格化中心", url="https://grid.example/h")
        save_unit(
            c.township_chief,
            c.longtan,
            UnitInput(
                kind=TownshipUnit.Kind.ENFORCEMENT,
                name="综合执法队",
                categories=[c.street_vending],
            ),
        )

    elsewhere(changes)
    case = _file(c)
    assert _told(case) == {c.dispatcher.username}
    assert [r.channel for r in _rows(case, recipient=c.dispatcher)] == [Channel.INBOX]
    assert len(_webhook_rows(case)) == 1
    assert case.office is not None and case.office.name == "综合执法队"

    elsewhere(
        lambda: RoleAssignment.objects.filter(person=c.dispatcher, role=Role.DISPATCHER).delete()
    )
    with pytest.raises(PermissionRefused):
        _file(c)


def test_inside_a_pin_the_directory_is_the_one_read_at_its_start(whistle_city):
    c = whistle_city
    assert _told(_file(c)) == {c.dispatcher.username}
    with directory.pinned() as pinned:
        make_person("longtan-night-dispatcher", Role.DISPATCHER, jurisdiction=c.longtan)
        assert directory.generation() is pinned
        with directory.pinned() as inner, directory.pinned_at("another token") as given:
            assert inner is pinned and given is pinned
        assert _told(_file(c)) == {c.dispatcher.username}
    assert _told(_file(c)) == {c.dispatcher.username, "longtan-night-dispatcher"}
    token = map_triggers.read_tokens(connection, map_triggers.DIRECTORY)[0]
    with directory.pinned_at(token) as given:
        assert given.token == token == directory.generation().token
