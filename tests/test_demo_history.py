"""The demo's lived-in history: four weeks of cases in every state, through the actions."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.scoring import AssessmentEventKind
from whistle.cases.models import Case, Event, Summons, SupervisionNotice
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.demo.history import HistoryError, build_history
from whistle.demo.inbox import READ_AFTER_MINUTES, UNREAD_FOR, read_the_older_entries
from whistle.notifications.models import Channel, InboxRead, Notification
from whistle.notifications.outbox import inbox, unread_count
from whistle.organisation.models import Department, Person
from whistle.policies.calendar import to_local

# A Wednesday afternoon; the four weeks before it lie in a year the calendar knows.
BUILT_AT = beijing(2026, 6, 17, 15, 0)


def build():
    with time_machine.travel(BUILT_AT, tick=True):
        return build_history()


def course() -> list[tuple[str, str, list[str]]]:
    """Each case's description, status and the kinds of its trail, in the order reported."""
    return [
        (case.description, case.status, [e.kind for e in case.events.order_by("seq")])
        for case in Case.objects.order_by("reported_at", "pk").prefetch_related("events")
    ]


def test_the_history_holds_cases_in_every_state_with_complete_trails(whistle_city):
    counts = build()
    assert counts["created"] == counts["cases"] >= 20
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses >= {
        Case.Status.REPORTED,
        Case.Status.FILED,
        Case.Status.REJECTED,
        Case.Status.MERGED,
        Case.Status.DISPATCHED,
        Case.Status.WHISTLED,
        Case.Status.BACKLOG,
        Case.Status.CLOSED,
        Case.Status.EVALUATED,
    }
    summons_statuses = set(Summons.objects.values_list("status", flat=True))
    assert summons_statuses >= {
        Summons.Status.SUMMONED,
        Summons.Status.ON_SITE,
        Summons.Status.DECLINED,
        Summons.Status.RELEASED,
        Summons.Status.LEFT,
    }
    kinds = set(Event.objects.values_list("kind", flat=True))
    assert kinds >= {
        EventKind.CHECK_IN_REFUSED,
        EventKind.CHECK_OUT_REFUSED,
        EventKind.ACKNOWLEDGE_OVERDUE,
        EventKind.ARRIVE_OVERDUE,
        EventKind.ESCALATED,
        EventKind.REWORK,
        EventKind.SUPERVISION_ISSUED,
        EventKind.RESIDENT_CALLBACK,
        EventKind.EVALUATED,
    }
    late = Event.objects.filter(kind=EventKind.CHECK_IN_ACCEPTED, data__on_time=False)
    assert 11 in [e.data["minutes_late"] for e in late]
    assert Case.objects.filter(rework_count=1, status=Case.Status.WHISTLED).exists()
    assert Case.objects.filter(escalation=Case.Escalation.DISTRICT).count() >= 2
    assert SupervisionNotice.objects.filter(overdue_at__isnull=False).exists()
    # Everything happened in the four weeks before the build, and the trails are whole.
    first = Event.objects.order_by("at").first()
    last = Event.objects.order_by("at").last()
    assert first is not None and last is not None
    assert (BUILT_AT - first.at).days <= 28 and last.at <= BUILT_AT
    assert verify_database().ok
    call_command("verify_trail")


def test_the_same_seed_tells_the_same_history_once(whistle_city):
    with transaction.atomic():
        build()
        told = course()
        transaction.set_rollback(True)
    assert not Case.objects.exists()
    first = build()
    assert course() == told
    events = Event.objects.count()
    again = build()
    assert again["created"] == 0 and again["cases"] == first["cases"]
    assert Event.objects.count() == events


def test_without_the_demo_city_there_is_nothing_to_build(db):
    with pytest.raises(HistoryError):
        build_history()


@pytest.mark.slow
def test_the_history_plays_in_the_real_demo_city(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
    # seed-demo plays the history as one of its builders; building again finds it there.
    counts = build()
    assert counts["created"] == 0
    assert counts["cases"] >= 20 and counts["status.evaluated"] >= 4
    assert Case.objects.filter(lane__name="人民市场东巷").count() >= 5
    assert verify_database().ok
    # The demo's ratings (whistle.demo.scores) come after each case's history too.
    assert Event.objects.filter(kind=AssessmentEventKind.RATED).exists()
    assert trails_going_back() == []
    # The township's powers tell of a matter asked twenty days ago when it was asked, and
    # the inbox was read up to the last hours, as people would have left it.
    asked = Notification.objects.filter(kind="township.matter").order_by("created_at").first()
    assert asked is not None and timezone.now() - asked.created_at > timedelta(days=19)
    dispatcher = Person.objects.get(username="dispatcher")
    assert 0 < unread_count(dispatcher) < inbox(dispatcher).count()


def trails_going_back() -> list[str]:
    """Every event recorded before the one preceding it in its case's trail."""
    found = []
    previous: dict[int, Event] = {}
    for event in Event.objects.order_by("case_id", "seq").select_related("case"):
        before = previous.get(event.case_id)
        if before is not None and event.at < before.at:
            found.append(
                f"{event.case.reference} #{event.seq} {event.kind} at {event.at:%m-%d %H:%M:%S}"
                f" after #{before.seq} {before.kind} at {before.at:%m-%d %H:%M:%S}"
            )
        previous[event.case_id] = event
    return found


def test_no_trail_of_the_history_goes_back_in_time(whistle_city):
    build()
    assert Event.objects.count() > 200
    assert trails_going_back() == []


def test_the_residents_login_finds_its_own_reports_on_its_home_page(client, whistle_city):
    build()
    resident = Person.objects.get(username="resident")
    theirs = Case.objects.filter(reporter=resident, source=Case.Source.RESIDENT)
    # One closed and called back, one with the department at work on it.
    assert sorted(theirs.values_list("status", flat=True)) == [
        Case.Status.CLOSED,
        Case.Status.DISPATCHED,
    ]
    client.force_login(resident)
    html = client.get("/").content.decode()
    reports = html[html.index('id="my-reports"') :]
    for case in theirs:
        assert f"/report/follow/{case.reference}/" in reports


def test_the_historys_messages_carry_their_events_times_and_the_older_ones_are_read(
    whistle_city,
):
    build()
    told = list(Notification.objects.filter(channel=Channel.INBOX, payload__has_key="seq"))
    events = {(e.case.reference, e.seq): e.at for e in Event.objects.select_related("case")}
    # Each message is dated as the step of the trail it tells of, over the four weeks.
    assert len(told) > 100
    assert all(n.created_at == events[n.payload["case"], n.payload["seq"]] for n in told)
    assert max(n.created_at for n in told) - min(n.created_at for n in told) > timedelta(days=20)
    assert not Notification.objects.filter(read_at__isnull=False).exists()

    read, unread = read_the_older_entries(2026, BUILT_AT)
    cut = BUILT_AT - UNREAD_FOR
    own = Notification.objects.filter(channel=Channel.INBOX, recipient__isnull=False)
    earliest, latest = (timedelta(minutes=m) for m in READ_AFTER_MINUTES)
    older = own.filter(created_at__lt=cut)
    assert older.exists() and not older.filter(read_at__isnull=True).exists()
    for entry in older:
        assert entry.read_at is not None
        assert earliest <= entry.read_at - entry.created_at <= latest
    # The messages of the last hours are still unread.
    recent = Notification.objects.filter(channel=Channel.INBOX, created_at__gte=cut)
    assert unread == recent.count() > 0
    assert not own.filter(created_at__gte=cut, read_at__isnull=False).exists()
    # An entry shared by a unit's people is read by each of them, after it came.
    shared = InboxRead.objects.select_related("notification")
    assert shared.exists() and read == older.count() + shared.count()
    assert all(r.notification.created_at < r.read_at <= cut for r in shared)
    assert not shared.filter(notification__created_at__gte=cut).exists()
    officer = Person.objects.get(username="urban-officer")
    assert 0 < unread_count(officer) < inbox(officer).count()


# What only urban-management enforcement does to a street vendor.
ENFORCING = ("立案", "查处", "暂扣", "劝离")


def test_on_a_street_vendor_case_only_the_urban_management_team_enforces(whistle_city):
    build()
    results = Event.objects.filter(
        kind=EventKind.RESULT, case__category__name="无照经营游商"
    ).select_related("summons__department__sector")
    by_sector: dict[str, list[str]] = {}
    for event in results:
        assert event.summons is not None
        by_sector.setdefault(event.summons.department.sector.code, []).append(event.data["result"])
    assert {"urban_management", "public_security"} <= by_sector.keys()
    assert any(word in text for text in by_sector["urban_management"] for word in ENFORCING)
    for sector, texts in by_sector.items():
        if sector != "urban_management":
            assert not [t for t in texts if any(word in t for word in ENFORCING)], sector
    # The police keep order and assist.
    assert all("协助" in text for text in by_sector["public_security"])


def test_a_department_declining_names_another_department_responsible_never_itself(whistle_city):
    build()
    declined = Event.objects.filter(kind=EventKind.DECLINED).select_related(
        "summons__department", "case__category"
    )
    assert declined.exists()
    for event in declined:
        assert event.summons is not None and event.case.category is not None
        declining = event.summons.department
        reason = event.data["reason"]
        assert declining.name not in reason
        responsible = Department.objects.filter(
            sector__in=event.case.category.responsible_sectors.all()
        ).exclude(pk=declining.pk)
        assert any(d.name in reason for d in responsible), reason


def test_the_assessor_evaluates_a_case_in_office_hours_the_morning_after_it_closed(
    whistle_city,
):
    build()
    evaluated = Event.objects.filter(kind=EventKind.EVALUATED).select_related("case")
    assert evaluated.count() >= 4
    for event in evaluated:
        assert event.case.closed_at is not None
        at = to_local(event.at)
        assert 9 <= at.hour < 10
        assert at.date() == to_local(event.case.closed_at).date() + timedelta(days=1)
