"""The township recruits alley stewards by public call (龙潭街道, 25 April 2017): the
conditions are checked on the call's date, the township reviews impartially, an accepted
applicant becomes a steward of lanes (and of a team), and the applicant's personal data is
seen only by the reviewing township, kept out of every log and erased on request or after
the retention period."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import make_person
from tests.fixtures_measures import bj
from whistle.cases.models import Event
from whistle.notifications.models import Notification
from whistle.organisation.models import Lane, Person, Role, RoleAssignment
from whistle.policies.models import DistrictPolicy
from whistle.street import captcha
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.recruitment import (
    apply,
    erase_expired_applications,
    full_years,
    publish_call,
    review,
)
from whistle.township.recruitment_models import (
    RecruitmentEvent,
    StewardApplication,
    StewardCall,
    StewardTeam,
)

pytestmark = pytest.mark.django_db

# The call of 25 April 2017, as the article tells it; applications until 10 May.
CALL_DAY = date(2017, 4, 25)
PUBLISHED = bj(4, 25, 9, year=2017)
APPLYING = bj(4, 28, 20, year=2017)
REVIEWING = bj(5, 12, 10, year=2017)


@pytest.fixture
def recruiting(small_city):
    xizhaosi_lane = Lane.objects.create(
        name="夕照寺西里",
        township=small_city.longtan,
        community=small_city.xizhaosi,
        centre_line={"type": "LineString", "coordinates": [[116.433, 39.872], [116.433, 39.873]]},
    )
    office = make_person("longtan-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.longtan)
    office.phone = "010-67112233"
    office.save()
    chief = make_person("sun-chief", Role.TOWNSHIP_CHIEF, jurisdiction=small_city.longtan)
    call = publish_call(
        office,
        small_city.longtan,
        title="龙潭街道公开招募小巷管家",
        description="巡查街巷、沟通邻里、反映问题。",
        lanes=[small_city.renmin_lane, xizhaosi_lane],
        opens_on=CALL_DAY,
        closes_on=date(2017, 5, 10),
        now=PUBLISHED,
    )
    return {
        "call": call,
        "office": office,
        "chief": chief,
        "lane": xizhaosi_lane,
        **vars(small_city),
    }


def application(call, born=date(1950, 3, 2), year=None, phone="13800138000", **changes):
    values = {
        "name": "梁萍",
        "phone": phone,
        "birth_date": born,
        "birth_year": year,
        "healthy": True,
        "communicates": True,
        "party_member": True,
        "lanes": list(call.lanes.all()),
        "now": APPLYING,
        **changes,
    }
    return apply(call, **values)


# Conditions ---------------------------------------------------------------------------------


def test_ages_are_full_years_counted_by_hand():
    # Born 25 April 1999: 18 on 25 April 2017; born a day later, still 17.
    assert full_years(date(1999, 4, 25), CALL_DAY) == 18
    assert full_years(date(1999, 4, 26), CALL_DAY) == 17
    # Born 26 April 1941: 75 until the day after the call; born a day earlier, 76.
    assert full_years(date(1941, 4, 26), CALL_DAY) == 75
    assert full_years(date(1941, 4, 25), CALL_DAY) == 76
    # 29 February's children have their birthday on 1 March in other years.
    assert full_years(date(2000, 2, 29), date(2018, 2, 28)) == 17
    assert full_years(date(2000, 2, 29), date(2018, 3, 1)) == 18


@pytest.mark.parametrize(
    ("born", "accepted", "message"),
    [
        (date(1999, 4, 26), False, "您尚未年满 18 周岁"),  # 17 on the call's day
        (date(1999, 4, 25), True, ""),  # 18 that very day
        (date(1941, 4, 26), True, ""),  # 75
        (date(1941, 4, 25), False, "您已超过 75 周岁"),  # 76 that very day
    ],
)
def test_the_ages_18_to_75_are_checked_on_the_calls_date(recruiting, born, accepted, message):
    call = recruiting["call"]
    if accepted:
        assert application(call, born=born).status == "submitted"
        return
    with pytest.raises(InvalidTownshipInput) as refused:
        application(call, born=born)
    assert refused.value.field == "birth_date"
    from django.utils import translation

    with translation.override("zh-hans"):
        assert message in str(refused.value)
        assert "2017-04-25" in str(refused.value)
    assert StewardApplication.objects.count() == 0


def test_a_year_of_birth_alone_is_enough_unless_it_leaves_the_age_open(recruiting):
    call = recruiting["call"]
    assert application(call, born=None, year=1968).birth_year == 1968
    # Born in 1999: 17 or 18 on 25 April 2017, depending on the birthday.
    with pytest.raises(InvalidTownshipInput) as refused:
        application(call, born=None, year=1999, phone="13900139000")
    assert refused.value.field == "birth_date"
    # Born in 2000: 16 or 17, too young whatever the day.
    with pytest.raises(InvalidTownshipInput) as refused:
        application(call, born=None, year=2000, phone="13900139000")
    assert refused.value.field == "birth_year"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"healthy": False}, "healthy"),
        ({"communicates": False}, "communicates"),
        ({"name": "  "}, "name"),
        ({"phone": "123"}, "phone"),
        ({"born": None}, "birth_date"),
    ],
)
def test_every_condition_is_checked_and_nothing_is_written(recruiting, changes, field):
    with pytest.raises(InvalidTownshipInput) as refused:
        application(recruiting["call"], **changes)
    assert refused.value.field == field
    assert (
        StewardApplication.objects.count()
        == RecruitmentEvent.objects.filter(kind="applied").count()
        == 0
    )


def test_a_lane_of_another_call_and_a_closed_call_are_refused(recruiting):
    with pytest.raises(InvalidTownshipInput):
        application(recruiting["call"], lanes=[recruiting["dongsi_lane"]])
    with pytest.raises(TownshipRefused):
        application(recruiting["call"], now=bj(5, 11, 9, year=2017))


# Review ---------------------------------------------------------------------------------


def test_an_application_tells_the_townships_reviewers_without_naming_the_applicant(recruiting):
    a = application(recruiting["call"])
    told = Notification.objects.filter(kind="township.steward_application")
    assert {n.recipient for n in told} == {recruiting["office"], recruiting["chief"]}
    assert all(a.reference in n.subject and "梁" not in n.subject for n in told)
    first = told.first()
    assert first is not None and first.link == f"/township/recruitment/applications/{a.pk}/"


def test_accepting_makes_the_applicant_a_steward_of_the_lanes_and_a_team(recruiting):
    a = application(recruiting["call"], lanes=[recruiting["lane"]])
    review(
        recruiting["chief"],
        a,
        accept=True,
        new_team="夕照寺西里管家团",
        now=REVIEWING,
    )
    a.refresh_from_db()
    steward = a.steward
    assert (a.status, a.reviewed_by, a.reviewed_at) == ("accepted", recruiting["chief"], REVIEWING)
    assert (steward.name, steward.phone, steward.has_usable_password()) == (
        "梁萍",
        "13800138000",
        False,
    )
    assert list(
        RoleAssignment.objects.filter(person=steward).values_list("role", "lane__name")
    ) == [(Role.STEWARD, "夕照寺西里")]
    team = StewardTeam.objects.get()
    assert (team.name, list(team.members.all()), a.team) == ("夕照寺西里管家团", [steward], team)
    # In the inbox and by SMS to the number given (the steward's channels).
    told = list(Notification.objects.filter(recipient=steward))
    assert {n.channel for n in told} >= {"inbox", "sms"}
    assert all("夕照寺西里" in n.subject for n in told)
    assert told[0].link == f"/report/stewards/status/{a.reference}/"


def test_refusing_needs_a_reason_and_an_application_is_reviewed_once(recruiting):
    a = application(recruiting["call"])
    with pytest.raises(InvalidTownshipInput):
        review(recruiting["office"], a, accept=False, reason="", now=REVIEWING)
    review(recruiting["office"], a, accept=False, reason="本巷管家已满", now=REVIEWING)
    with pytest.raises(TownshipRefused):
        review(recruiting["chief"], a, accept=True, now=REVIEWING)
    assert Person.objects.filter(username__startswith="steward-").count() == 0


def test_nobody_reviews_their_own_application(recruiting, small_city):
    # The office's staff member applies with their own phone number.
    own = application(recruiting["call"], phone="010 6711 2233")
    with pytest.raises(TownshipRefused) as refused:
        review(recruiting["office"], own, accept=True, now=REVIEWING)
    assert "自己" in str(refused.value) or "own" in str(refused.value)
    # Signed in with their account, whatever number they gave.
    signed = application(recruiting["call"], phone="13700137000", account=recruiting["chief"])
    with pytest.raises(TownshipRefused):
        review(recruiting["chief"], signed, accept=True, now=REVIEWING)
    # Another reviewer of the township decides.
    review(recruiting["chief"], own, accept=True, now=REVIEWING)
    dongsi_office = make_person("dongsi-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.dongsi)
    with pytest.raises(TownshipRefused):
        review(dongsi_office, signed, accept=False, reason="x", now=REVIEWING)


# Personal data --------------------------------------------------------------------------


def test_the_log_and_the_trail_never_hold_the_applicants_data(recruiting):
    a = application(recruiting["call"])
    review(recruiting["chief"], a, accept=False, reason="年龄符合，但本巷已满", now=REVIEWING)
    logged = str(list(RecruitmentEvent.objects.values_list("data", flat=True)))
    assert "梁萍" not in logged and "13800138000" not in logged and "1950" not in logged
    assert a.reference in logged
    assert Event.objects.count() == 0


def test_only_the_reviewing_township_sees_the_data_in_full(client, recruiting, small_city):
    a = application(recruiting["call"])
    page = reverse("township:application", args=[a.pk])
    district_office = make_person("dc-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.district)
    with time_machine.travel(REVIEWING, tick=False):
        client.force_login(recruiting["office"])
        full = client.get(page).content.decode()
        client.force_login(district_office)
        masked = client.get(page).content.decode()
        listed = client.get(reverse("township:recruitment")).content.decode()
        client.force_login(
            make_person("dongsi-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.dongsi)
        )
        assert client.get(page).status_code == 404
        client.logout()
        public = client.get(reverse("stewards:status", args=[a.reference])).content.decode()
    assert "梁萍" in full and "13800138000" in full and "1950-03-02" in full
    for html in (masked, listed):
        assert "梁*" in html and "138****8000" in html
        assert "梁萍" not in html and "13800138000" not in html and "1950-03-02" not in html
    assert "梁*" in public and "梁萍" not in public and "138" not in public


def test_the_erasure_command_erases_an_application_by_phone(recruiting):
    a = application(recruiting["call"], phone="138 0013 8000")
    out = StringIO()
    with time_machine.travel(REVIEWING, tick=False):
        call_command("erase_personal_data", phone=["+86 13800138000"], stdout=out)
    a.refresh_from_db()
    assert (a.name, a.phone, a.birth_date, a.birth_year, a.erased_at) == (
        "",
        "",
        None,
        None,
        REVIEWING,
    )
    assert RecruitmentEvent.objects.filter(application=a, kind="erased").count() == 1
    assert "1" in out.getvalue()
    with pytest.raises(TownshipRefused):
        review(recruiting["chief"], a, accept=True, now=REVIEWING)


def test_a_refused_application_is_erased_exactly_when_the_retention_period_ends(
    recruiting, small_city
):
    DistrictPolicy.objects.update_or_create(
        district=small_city.district, defaults={"personal_data_retention_days": 30}
    )
    refused = application(recruiting["call"])
    accepted = application(recruiting["call"], phone="13900139000", name="王小明")
    waiting = application(recruiting["call"], phone="13700137000", name="陈")
    review(recruiting["chief"], refused, accept=False, reason="名额已满", now=REVIEWING)
    review(recruiting["chief"], accepted, accept=True, now=REVIEWING)

    assert erase_expired_applications(REVIEWING + timedelta(days=30) - timedelta(seconds=1)) == 0
    assert erase_expired_applications(REVIEWING + timedelta(days=30)) == 1
    for a in (refused, accepted, waiting):
        a.refresh_from_db()
    assert (refused.name, accepted.name, waiting.name) == ("", "王小明", "陈")
    # `--expired` runs the same pass.
    with time_machine.travel(REVIEWING + timedelta(days=31), tick=False):
        call_command("erase_personal_data", expired=True, stdout=StringIO())


# Pages ------------------------------------------------------------------------------------


def answer(client) -> str:
    cookie = client.cookies.get(captcha.COOKIE)
    challenge = captcha.opened(cookie.value)
    assert challenge is not None
    return str(challenge.answer)


def form(call, client, **changes):
    return {
        "name": "梁萍",
        "phone": "13800138000",
        "birth_date": "1950-03-02",
        "healthy": "on",
        "communicates": "on",
        "party_member": "on",
        "lanes": [lane.pk for lane in call.lanes.all()],
        "captcha": answer(client),
        **changes,
    }


def test_the_public_page_takes_an_application_with_the_captcha_and_shows_its_status(
    client, recruiting
):
    call = recruiting["call"]
    with time_machine.travel(APPLYING, tick=False):
        listed = client.get(reverse("stewards:calls")).content.decode()
        assert "龙潭街道公开招募小巷管家" in listed and "18 周岁" in listed
        client.get(reverse("stewards:apply", args=[call.pk]))
        wrong = client.post(
            reverse("stewards:apply", args=[call.pk]), form(call, client, captcha="999")
        )
        assert wrong.status_code == 400 and StewardApplication.objects.count() == 0
        too_young = client.post(
            reverse("stewards:apply", args=[call.pk]), form(call, client, birth_date="1999-04-26")
        )
        assert too_young.status_code == 400
        assert "您尚未年满 18 周岁" in too_young.content.decode()
        response = client.post(
            reverse("stewards:apply", args=[call.pk]), form(call, client, captcha="")
        )
    a = StewardApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("stewards:status", args=[a.reference])
    with time_machine.travel(APPLYING, tick=False):
        status = client.get(response["Location"]).content.decode()
    assert a.reference in status and "待审核" in status


def test_a_closed_call_and_an_unknown_reference_are_not_found(client, recruiting):
    call = recruiting["call"]
    with time_machine.travel(bj(5, 11, 9, year=2017), tick=False):
        assert client.get(reverse("stewards:apply", args=[call.pk])).status_code == 404
        assert "龙潭街道公开招募" not in client.get(reverse("stewards:calls")).content.decode()
        assert client.get(reverse("stewards:status", args=["ABCDEFGHJK"])).status_code == 404


def test_the_review_page_accepts_with_lanes_and_refuses_its_own_reviewer(client, recruiting):
    a = application(recruiting["call"], phone="010-67112233")
    page = reverse("township:application", args=[a.pk])
    with time_machine.travel(REVIEWING, tick=False):
        client.force_login(recruiting["office"])
        html = client.get(page).content.decode()
        assert "这是您本人的报名" in html and 'name="decision"' not in html
        assert client.post(page, {"decision": "accept"}).status_code == 403
        client.force_login(recruiting["chief"])
        response = client.post(
            page,
            {
                "decision": "accept",
                "lanes": [recruiting["renmin_lane"].pk],
                "new_team": "人民市场管家团",
            },
        )
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == "accepted" and a.team.name == "人民市场管家团"


def test_the_township_publishes_a_call_from_its_page(client, recruiting):
    client.force_login(recruiting["chief"])
    with time_machine.travel(REVIEWING, tick=False):
        response = client.post(
            reverse("township:call_new"),
            {
                "township": recruiting["longtan"].pk,
                "title": "第二批小巷管家招募",
                "lanes": [recruiting["lane"].pk],
                "opens_on": "2017-05-12",
                "closes_on": "2017-05-31",
                "party_preferred": "on",
            },
        )
        assert response.status_code == 302
        assert StewardCall.objects.filter(title="第二批小巷管家招募").exists()
        home = client.get(reverse("township:recruitment")).content.decode()
    assert "第二批小巷管家招募" in home
