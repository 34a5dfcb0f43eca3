"""Departments that did not have to come: a decline the township upheld, or a release before
the department arrived. Nothing of theirs is rated, so neither the case's evaluation nor the
resident's satisfaction stands in for a rating, and the township is not asked for stars; a
check-out after a release, without a result, is no work done.

Scheme: one third (tests/fixtures_assessment.py), record weights came 0.3, acted 0.4, how
well 0.3; 20 points a star. Each record's total below is the weighted mean of the parts that
apply:

record                              came          acted           how well  total
c4 派出所: decline upheld in time,   n/a           upheld 100      none      100.00
case evaluated 2★                                                           (with 2★: 74.29)
released 09:10, before the 09:30    n/a           n/a (released)  none      none: not counted
deadline; evaluated 5★, resident
not satisfied
released 09:50, after the overdue   never came 0  n/a (released)  none      0.00
arrival; evaluated 5★                                                       (with 5★: 50.00)
checked in 09:20, released 10:00,   on time 100   n/a (released)  4★ 80     (30 + 24)/.6 = 90.00
checked out 10:05; evaluated 4★                                             (as handled: 94.00)
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from tests.fixtures_assessment import (
    Month,
    Story,
    bj,
    july_fixture,  # noqa: F401  (fixture)
    scheme_one_third,
)
from tests.fixtures_district import HOME
from whistle.assessment.actions import AssessmentError, rate_summons
from whistle.assessment.engine import check_all, update_scores
from whistle.assessment.models import Acted, Came, SummonsAssessment
from whistle.assessment.scoring import AssessmentEventKind
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind

D = Decimal


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def evaluate(story: Story, at, stars: int) -> None:
    Case.objects.filter(pk=story.case.pk).update(
        status=Case.Status.EVALUATED, township_rating=stars, evaluated_at=at
    )
    story.event(EventKind.EVALUATED, at)


def record(summons: Summons) -> SummonsAssessment:
    return SummonsAssessment.objects.get(summons=summons)


def released_before_the_deadline(m: Month) -> Summons:
    story = Story(m.dongsi, bj(27, 8, 50), m.dongsi_dispatcher, source="resident")
    (summons,) = story.whistle(bj(27, 9), m.urban)
    story.event(EventKind.RELEASED, bj(27, 9, 10), summons)
    story.close(bj(27, 10))
    evaluate(story, bj(27, 11), 5)
    story.event(EventKind.RESIDENT_CALLBACK, bj(27, 12), satisfied=False)
    Case.objects.filter(pk=story.case.pk).update(resident_satisfied=False)
    return summons


def released_after_the_deadline(m: Month) -> Summons:
    story = Story(m.dongsi, bj(29, 8, 50), m.dongsi_dispatcher)
    (summons,) = story.whistle(bj(29, 9), m.police)
    story.event(EventKind.ARRIVE_OVERDUE, bj(29, 9, 30), summons)
    story.event(EventKind.RELEASED, bj(29, 9, 50), summons)
    story.close(bj(29, 10))
    evaluate(story, bj(29, 11), 5)
    return summons


def released_on_site_then_checked_out(m: Month, *, with_result: bool) -> Summons:
    story = Story(m.longtan, bj(30, 8, 50), m.longtan_assessor)
    (summons,) = story.whistle(bj(30, 9), m.market)
    story.event(EventKind.CHECK_IN_ACCEPTED, bj(30, 9, 20), summons)
    if with_result:
        story.event(EventKind.RESULT, bj(30, 9, 50), summons)
    story.event(EventKind.RELEASED, bj(30, 10), summons)
    story.event(EventKind.CHECK_OUT, bj(30, 10, 5), summons)
    story.close(bj(30, 11))
    evaluate(story, bj(30, 12), 4)
    return summons


@pytest.mark.django_db
def test_the_case_evaluation_does_not_stand_in_for_a_department_whose_decline_was_upheld(july):
    m = july
    scheme_one_third(m.district)
    evaluate(m.stories["c4"], bj(20, 11), 2)
    update_scores()
    c4 = record(m.summonses["c4_police"])
    assert (c4.came, c4.acted, c4.excused) == (Came.NOT_APPLICABLE, Acted.DECLINE_UPHELD, True)
    assert (c4.rating, c4.quality_score, c4.total) == (None, None, D("100.00"))
    assert check_all() == []


@pytest.mark.django_db
def test_neither_evaluation_nor_resident_speaks_for_a_department_released_before_the_deadline(
    july,
):
    m = july
    scheme_one_third(m.district)
    summons = released_before_the_deadline(m)
    update_scores()
    released = record(summons)
    assert (released.came, released.acted, released.excused) == (
        Came.NOT_APPLICABLE,
        Acted.NOT_APPLICABLE,
        True,
    )
    assert (released.rating, released.resident_satisfied, released.quality_score) == (
        None,
        None,
        None,
    )
    # No part applies, so the record has no total and does not count in the scores.
    assert released.total is None
    assert check_all() == []


@pytest.mark.django_db
def test_a_department_released_after_it_failed_to_come_scores_its_absence_alone(july):
    m = july
    scheme_one_third(m.district)
    summons = released_after_the_deadline(m)
    update_scores()
    released = record(summons)
    assert (released.came, released.came_score, released.acted) == (
        Came.NO_SHOW,
        D("0.00"),
        Acted.NOT_APPLICABLE,
    )
    assert (released.excused, released.rating, released.total) == (True, None, D("0.00"))


@pytest.mark.django_db
def test_a_check_out_after_the_release_without_a_result_is_not_handling_the_case(july):
    m = july
    scheme_one_third(m.district)
    summons = released_on_site_then_checked_out(m, with_result=False)
    update_scores()
    released = record(summons)
    assert (released.came, released.acted, released.acted_score) == (
        Came.ON_TIME,
        Acted.NOT_APPLICABLE,
        None,
    )
    # It came, so the case's evaluation (4★) still speaks for it: (30 + 24) / 0.6.
    assert (released.excused, released.rating, released.total) == (False, 4, D("90.00"))
    assert check_all() == []


@pytest.mark.django_db
def test_a_result_before_the_release_is_still_handling_the_case(july):
    m = july
    scheme_one_third(m.district)
    summons = released_on_site_then_checked_out(m, with_result=True)
    update_scores()
    handled = record(summons)
    # 30 + 40 + 24
    assert (handled.acted, handled.total) == (Acted.HANDLED, D("94.00"))


@pytest.mark.django_db
def test_the_township_is_refused_stars_for_a_department_that_did_not_have_to_come(july):
    m = july
    scheme_one_third(m.district)
    released = released_before_the_deadline(m)
    with time_machine.travel(bj(31, 9), tick=False):
        with pytest.raises(AssessmentError, match="did not have to come"):
            rate_summons(m.dongsi_dispatcher, m.summonses["c4_police"], 3, "")
        with pytest.raises(AssessmentError, match="released before it arrived"):
            rate_summons(m.dongsi_dispatcher, released, 3, "")
        rate_summons(m.dongsi_dispatcher, m.summonses["c7_urban"], 3, "")
    rated = Event.objects.filter(kind=AssessmentEventKind.RATED)
    assert list(rated.values_list("summons_id", flat=True)) == [m.summonses["c7_urban"].pk]


@pytest.mark.django_db
def test_the_rating_page_does_not_ask_for_stars_for_a_department_that_did_not_have_to_come(
    client, july, settings, tmp_path
):
    m = july
    settings.MEDIA_ROOT = str(tmp_path / "media")
    scheme_one_third(m.district)
    released = released_before_the_deadline(m)
    update_scores()
    client.force_login(m.dongsi_dispatcher)
    with time_machine.travel(bj(31, 9), tick=False), translation.override("zh-hans"):
        html = client.get(HOME).content.decode()
    waiting = html[html.index('id="to-rate"') : html.index('id="township-view"')]
    for key in ("c3_urban", "c3_market", "c7_urban"):
        assert f'id="rate-{m.summonses[key].uuid.hex}"' in waiting, key
    assert m.summonses["c4_police"].uuid.hex not in waiting
    assert released.uuid.hex not in waiting
