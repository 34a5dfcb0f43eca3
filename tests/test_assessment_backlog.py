"""The assessment does not count a case's time on the backlog against a department.

Through the actions on a frozen clock: T0 = Tuesday 12 May 2026, 09:00 Beijing time, 龙潭街道
blows a routine whistle (arrive within 30 minutes). The records are read from the trail
alone, so recomputing them from scratch gives the same answer and the check finds nothing.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command

from tests.fixtures_assessment import scheme_one_third
from tests.fixtures_cases import (
    beijing,
    on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.assessment.engine import check_all, recompute_all, update_scores
from whistle.assessment.models import Came, SummonsAssessment
from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.models import Event
from whistle.cases.trail import EventKind
from whistle.notifications.models import Notification
from whistle.notifications.status import event_key
from whistle.policies.models import BacklogResumeRule

T0 = beijing(2026, 5, 12, 9, 0)
MIN = timedelta(minutes=1)
DAYS = timedelta(days=3)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def city(whistle_city):
    scheme_one_third(whistle_city.district)
    return whistle_city


def check_in(clock, city, officer, summons, at) -> None:
    """The department acknowledges and checks in at `at`."""
    clock.move_to(at)
    on_site(city, summons, officer, at=at)


def came(summons) -> tuple[str, int | None]:
    record = SummonsAssessment.objects.get(summons=summons)
    return record.came, record.late_minutes


def backlog(city, case, clock, at):
    clock.move_to(at)
    return actions.put_on_backlog(
        city.dispatcher, case, reason="需区里协调", review_on=date(2026, 5, 30)
    )


def resume(city, case, clock, at):
    clock.move_to(at)
    return actions.resume_from_backlog(city.dispatcher, case)


def assert_recomputable_from_the_trail() -> None:
    kept = list(
        SummonsAssessment.objects.order_by("summons_id").values_list("came", "late_minutes")
    )
    assert check_all() == []
    SummonsAssessment.objects.all().delete()
    recompute_all()
    assert (
        list(SummonsAssessment.objects.order_by("summons_id").values_list("came", "late_minutes"))
        == kept
    )


def test_arriving_within_the_remaining_time_after_the_backlog_is_on_time(city, clock):
    case, _whistle, summonses = whistled_case(city)
    urban, police = summonses[city.urban.pk], summonses[city.police.pk]
    # On the backlog at 09:20 with 10 minutes left, for three days.
    case = backlog(city, case, clock, T0 + 20 * MIN)
    resumed = T0 + 20 * MIN + DAYS
    resume(city, case, clock, resumed)
    check_in(clock, city, city.police_officer, police, resumed + 10 * MIN)
    check_in(clock, city, city.urban_officer, urban, resumed + 15 * MIN)
    update_scores()
    assert came(police) == (Came.ON_TIME, None)
    assert came(urban) == (Came.LATE, 5)
    assert_recomputable_from_the_trail()


def test_an_arrival_while_the_case_is_on_the_backlog_counts_no_paused_time(city, clock):
    case, _whistle, summonses = whistled_case(city)
    urban, police = summonses[city.urban.pk], summonses[city.police.pk]
    clock.move_to(T0 + 31 * MIN)
    sweep(T0 + 31 * MIN, batch=100)  # both arrivals recorded overdue
    # On the backlog 10 minutes after the deadline; both come while it is paused.
    backlog(city, case, clock, T0 + 40 * MIN)
    check_in(clock, city, city.urban_officer, urban, T0 + 40 * MIN + timedelta(hours=2))
    check_in(clock, city, city.police_officer, police, T0 + 40 * MIN + DAYS)
    update_scores()
    assert came(urban) == (Came.LATE, 10)
    assert came(police) == (Came.LATE, 10)
    assert_recomputable_from_the_trail()


def test_an_arrival_on_the_backlog_before_the_deadline_would_have_passed_is_on_time(city, clock):
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    urban = summonses[city.urban.pk]
    backlog(city, case, clock, T0 + 20 * MIN)
    check_in(clock, city, city.urban_officer, urban, T0 + timedelta(hours=5))
    update_scores()
    assert came(urban) == (Came.ON_TIME, None)
    assert_recomputable_from_the_trail()


def test_with_fresh_limits_a_department_is_judged_by_its_new_deadline(city, clock):
    city.policy.backlog_resume_rule = BacklogResumeRule.FRESH_LIMITS
    city.policy.save(update_fields=["backlog_resume_rule"])
    case, _whistle, summonses = whistled_case(city)
    urban, police = summonses[city.urban.pk], summonses[city.police.pk]
    case = backlog(city, case, clock, T0 + 20 * MIN)
    resumed = T0 + 20 * MIN + DAYS
    resume(city, case, clock, resumed)
    # Arrive within 30 minutes of the resumption.
    check_in(clock, city, city.police_officer, police, resumed + 30 * MIN)
    check_in(clock, city, city.urban_officer, urban, resumed + 36 * MIN)
    update_scores()
    assert came(police) == (Came.ON_TIME, None)
    assert came(urban) == (Came.LATE, 6)
    assert_recomputable_from_the_trail()


# The check-in's own event says what the assessment says -----------------------------------


def check_in_event(summons) -> Event:
    return Event.objects.get(summons=summons, kind=EventKind.CHECK_IN_ACCEPTED)


def recompute_check() -> str:
    out = io.StringIO()
    call_command("recompute_scores", "--check", stdout=out)
    return out.getvalue()


def test_a_check_in_on_the_backlog_is_on_time_in_its_event_as_in_the_assessment(city, clock):
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    urban = summonses[city.urban.pk]
    # 10 minutes left when the case went on the backlog; on site five hours later.
    backlog(city, case, clock, T0 + 20 * MIN)
    check_in(clock, city, city.urban_officer, urban, T0 + timedelta(hours=5))
    event = check_in_event(urban)
    assert (event.data["on_time"], event.data["minutes_late"]) == (True, 0)
    message = Notification.objects.get(dedupe_key=event_key(event.hash))
    assert "已按时到达" in message.body
    # On site while paused: nothing turns overdue once the case is resumed.
    resume(city, case, clock, T0 + timedelta(days=1))
    sweep(T0 + timedelta(days=1), batch=100)
    assert not Event.objects.filter(summons=urban, kind=EventKind.ARRIVE_OVERDUE).exists()
    update_scores()
    assert came(urban) == (Came.ON_TIME, None)
    assert "均与留痕记录一致" in recompute_check()


def test_a_check_in_on_the_backlog_late_before_the_pause_is_late_by_as_much(city, clock):
    case, _whistle, summonses = whistled_case(city, departments=[city.urban])
    urban = summonses[city.urban.pk]
    backlog(city, case, clock, T0 + 40 * MIN)
    check_in(clock, city, city.urban_officer, urban, T0 + timedelta(hours=5))
    event = check_in_event(urban)
    assert (event.data["on_time"], event.data["minutes_late"]) == (False, 10)
    update_scores()
    assert came(urban) == (Came.LATE, 10)
    assert "均与留痕记录一致" in recompute_check()
