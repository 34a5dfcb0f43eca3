"""Chiefs' offices appoint street and lane chiefs to lanes, from a day to a day, and the
chiefs' assessment counts each chief only on the lanes they held at the time. The lane's
chiefs page lists the chiefs who hold the post without an appointment and records theirs."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import make_person
from tests.fixtures_cases import assert_the_database_keeps
from tests.fixtures_measures import bj
from whistle.assessment.chiefs import chief_scores
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.organisation.models import Role, RoleAssignment
from whistle.patrols.appointments import appoint_chief, end_appointment
from whistle.patrols.models import AppointmentEvent, ChiefAppointment, Patrol

pytestmark = pytest.mark.django_db

NOW = bj(8, 16, 10)


@pytest.fixture
def office(small_city):
    """The chiefs' office of 龙潭街道."""
    return make_person("longtan-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.longtan)


@pytest.fixture
def chief(small_city):
    """A cadre who is not yet anyone's chief."""
    return make_person("liu-cadre", Role.RESIDENT)


@pytest.fixture
def appointment(office, chief, small_city):
    """The chief, appointed by the office lane chief of 人民市场东巷 from 1 August."""
    return appoint_chief(
        office,
        person=chief,
        lane=small_city.renmin_lane,
        role=Role.LANE_CHIEF,
        starts_on=date(2026, 8, 1),
        now=NOW,
    )


def holds(person, role, lane) -> bool:
    return RoleAssignment.objects.filter(person=person, role=role, lane=lane).exists()


def test_the_townships_chiefs_office_appoints_a_lane_chief_with_a_log(office, chief, small_city):
    lane = small_city.renmin_lane

    appointment = appoint_chief(
        office, person=chief, lane=lane, role=Role.LANE_CHIEF, starts_on=date(2026, 8, 16), now=NOW
    )

    assert (appointment.starts_on, appointment.ends_on) == (date(2026, 8, 16), None)
    assert holds(chief, Role.LANE_CHIEF, lane)
    [event] = AppointmentEvent.objects.filter(appointment=appointment)
    assert (event.kind, event.actor, event.actor_role, event.at) == (
        "appointed",
        office,
        Role.CHIEFS_OFFICE,
        NOW,
    )


def test_the_districts_chiefs_office_appoints_in_any_township_and_a_lane_has_two_chiefs(
    office, chief, small_city
):
    district_office = make_person("dc-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.district)
    other = make_person("chen-cadre", Role.RESIDENT)
    lane = small_city.renmin_lane

    appoint_chief(office, person=chief, lane=lane, role=Role.LANE_CHIEF, starts_on=NOW.date())
    appoint_chief(
        district_office, person=other, lane=lane, role=Role.STREET_CHIEF, starts_on=NOW.date()
    )

    assert ChiefAppointment.objects.filter(lane=lane, ends_on__isnull=True).count() == 2


@pytest.mark.parametrize("who", ["township_chief", "other_office", "lane_chief"])
def test_only_a_chiefs_office_over_the_lane_appoints(small_city, chief, who):
    actor = {
        "township_chief": lambda: make_person(
            "sun", Role.TOWNSHIP_CHIEF, jurisdiction=small_city.longtan
        ),
        "other_office": lambda: make_person(
            "dongsi-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.dongsi
        ),
        "lane_chief": lambda: make_person("li", Role.LANE_CHIEF, lane=small_city.renmin_lane),
    }[who]()

    with pytest.raises(PermissionRefused):
        appoint_chief(
            actor,
            person=chief,
            lane=small_city.renmin_lane,
            role=Role.LANE_CHIEF,
            starts_on=NOW.date(),
            now=NOW,
        )

    assert not ChiefAppointment.objects.exists() and not AppointmentEvent.objects.exists()
    assert not holds(chief, Role.LANE_CHIEF, small_city.renmin_lane)


def test_nobody_appoints_themselves(office, small_city):
    with pytest.raises(PermissionRefused):
        appoint_chief(
            office,
            person=office,
            lane=small_city.renmin_lane,
            role=Role.LANE_CHIEF,
            starts_on=NOW.date(),
            now=NOW,
        )
    assert not ChiefAppointment.objects.exists()


def test_an_appointment_from_a_day_to_come_or_in_another_role_is_refused(office, chief, small_city):
    lane = small_city.renmin_lane
    # 00:30 in Beijing on 17 August is still 16 August in UTC: the day is Beijing's.
    with pytest.raises(InvalidInput) as refused:
        appoint_chief(
            office,
            person=chief,
            lane=lane,
            role=Role.LANE_CHIEF,
            starts_on=date(2026, 8, 18),
            now=bj(8, 17, 0, 30),
        )
    assert refused.value.field == "starts_on"
    appoint_chief(
        office,
        person=chief,
        lane=lane,
        role=Role.LANE_CHIEF,
        starts_on=date(2026, 8, 17),
        now=bj(8, 17, 0, 30),
    )
    with pytest.raises(InvalidInput):
        appoint_chief(
            office, person=chief, lane=lane, role=Role.STEWARD, starts_on=NOW.date(), now=NOW
        )


def test_the_same_chief_twice_on_a_lane_is_refused(office, chief, small_city):
    lane = small_city.renmin_lane
    appoint_chief(office, person=chief, lane=lane, role=Role.LANE_CHIEF, starts_on=NOW.date())

    with pytest.raises(ActionRefused):
        appoint_chief(office, person=chief, lane=lane, role=Role.LANE_CHIEF, starts_on=NOW.date())

    assert ChiefAppointment.objects.count() == 1


def test_ending_an_appointment_takes_the_role_off_the_lane_with_a_log(
    office, chief, small_city, appointment
):
    lane = small_city.renmin_lane
    end_appointment(office, appointment, ends_on=date(2026, 8, 10), reason="调任", now=NOW)

    appointment.refresh_from_db()
    assert (appointment.ends_on, appointment.end_reason) == (date(2026, 8, 10), "调任")
    assert not holds(chief, Role.LANE_CHIEF, lane)
    assert list(appointment.events.values_list("kind", flat=True)) == ["appointed", "ended"]
    with pytest.raises(ActionRefused):
        end_appointment(office, appointment, ends_on=date(2026, 8, 11), reason="再次", now=NOW)


def test_the_database_refuses_to_change_or_remove_an_entry_of_the_appointment_log(
    office, appointment
):
    end_appointment(office, appointment, ends_on=date(2026, 8, 10), reason="调任", now=NOW)
    assert_the_database_keeps(AppointmentEvent)


@pytest.mark.parametrize(
    ("ends_on", "reason", "field"),
    [
        (date(2026, 7, 31), "调任", "ends_on"),
        (date(2026, 8, 17), "调任", "ends_on"),
        (date(2026, 8, 10), "  ", "reason"),
        (date(2026, 8, 10), "长" * 201, "reason"),
    ],
)
def test_an_end_before_the_start_after_today_or_without_a_reason_is_refused(
    office, chief, small_city, appointment, ends_on, reason, field
):
    with pytest.raises(InvalidInput) as refused:
        end_appointment(office, appointment, ends_on=ends_on, reason=reason, now=NOW)

    assert refused.value.field == field
    appointment.refresh_from_db()
    assert appointment.ends_on is None and holds(chief, Role.LANE_CHIEF, small_city.renmin_lane)


def test_a_chief_is_assessed_only_on_the_days_they_held_each_lane(office, chief, small_city):
    lane = small_city.renmin_lane
    successor = make_person("zhou-cadre", Role.RESIDENT)
    first = appoint_chief(
        office,
        person=chief,
        lane=lane,
        role=Role.LANE_CHIEF,
        starts_on=date(2026, 7, 1),
        now=bj(7, 1, 9),
    )
    # Held 1 to 14 August: two weeks, two patrols required; it made one.
    Patrol.objects.create(
        person=chief,
        lane=lane,
        role=Role.LANE_CHIEF,
        started_at=bj(8, 3, 9),
        ended_at=bj(8, 3, 10),
        last_activity_at=bj(8, 3, 10),
        distance_m=200,
        covered_ratio=1.0,
    )
    end_appointment(office, first, ends_on=date(2026, 8, 14), reason="调任", now=bj(8, 15, 9))
    # Held 15 to 31 August: 17 days, two patrols required.
    appoint_chief(
        office,
        person=successor,
        lane=lane,
        role=Role.LANE_CHIEF,
        starts_on=date(2026, 8, 15),
        now=bj(8, 15, 9),
    )

    scores = {s.person: s for s in chief_scores(small_city.district, "2026-08", now=bj(9, 1, 9))}

    # The chief who left is still assessed on the lane, for the days held.
    [left] = scores[chief].lanes
    assert (left.lane, left.patrols, left.required, left.covered) == (lane, 1, 2, False)
    [came] = scores[successor].lanes
    assert (came.lane, came.patrols, came.required) == (lane, 0, 2)
    # In July the successor held nothing and is not listed.
    july = {s.person for s in chief_scores(small_city.district, "2026-07", now=bj(9, 1, 9))}
    assert july == {chief}


def test_a_chief_given_the_role_without_an_appointment_holds_the_lane_all_period(small_city):
    li = make_person("li", Role.LANE_CHIEF, lane=small_city.renmin_lane)

    [score] = chief_scores(small_city.district, "2026-08", now=bj(9, 1, 9))

    assert score.person == li
    # 31 days, every 7: four patrols.
    assert score.lanes[0].required == 4


def test_the_chiefs_office_appoints_and_ends_from_the_lanes_page(client, office, chief, small_city):
    lane = small_city.renmin_lane
    client.force_login(office)
    index = client.get(reverse("lanes:index")).content.decode()
    assert reverse("lanes:appointments", args=[lane.pk]) in index

    with time_machine.travel(NOW, tick=False):
        answer = client.post(
            reverse("lanes:appoint", args=[lane.pk]),
            {"username": "liu-cadre", "role": "lane_chief", "starts_on": "2026-08-16"},
        )
        assert answer.status_code == 302
        appointment = ChiefAppointment.objects.get(person=chief, lane=lane)
        page = client.get(reverse("lanes:appointments", args=[lane.pk])).content.decode()
        assert "liu-cadre" in page
        ended = client.post(
            reverse("lanes:end-appointment", args=[lane.pk, appointment.pk]),
            {f"end-{appointment.pk}-ends_on": "2026-08-16", f"end-{appointment.pk}-reason": "调任"},
        )

    assert ended.status_code == 302
    appointment.refresh_from_db()
    assert appointment.ends_on == date(2026, 8, 16)
    log = client.get(reverse("lanes:appointments", args=[lane.pk])).content.decode()
    assert "调任" in log


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"username": "nobody", "role": "lane_chief", "starts_on": "2026-08-16"}, "没有"),
        ({"username": "liu-cadre", "role": "lane_chief", "starts_on": "2026-13-45"}, "2026-08-16"),
        ({"username": "liu-cadre", "role": "mayor", "starts_on": "2026-08-16"}, "mayor"),
        ({"username": "liu-cadre", "role": "lane_chief", "starts_on": "2026-09-01"}, "今天"),
    ],
)
def test_a_bad_appointment_comes_back_with_the_error_and_writes_nothing(
    client, office, chief, small_city, data, field_error
):
    client.force_login(office)

    with time_machine.travel(NOW, tick=False):
        answer = client.post(reverse("lanes:appoint", args=[small_city.renmin_lane.pk]), data)

    assert answer.status_code in {400, 409}
    assert field_error in answer.content.decode()
    assert not ChiefAppointment.objects.exists()


def test_the_appointments_page_is_only_for_the_chiefs_office_over_the_lane(client, small_city):
    url = reverse("lanes:appointments", args=[small_city.renmin_lane.pk])
    assert client.get(url).status_code == 302
    client.force_login(
        make_person("dongsi-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.dongsi)
    )
    assert client.get(url).status_code == 403
    assert (
        client.post(reverse("lanes:appoint", args=[small_city.renmin_lane.pk]), {}).status_code
        == 403
    )


# The chiefs page and the chiefs who hold the post without an appointment.

NOTE = {
    "zh-hans": "由系统管理员设置，未经任命",
    "en": "given in the administration, not by appointment",
}
NOBODY = {
    "zh-hans": "这条街巷目前没有街长或巷长。",
    "en": "Nobody holds the post of street or lane chief on this lane.",
}
WHOLE_PERIOD = {"zh-hans": "按整个考核期计算", "en": "as holding it for the whole period"}
LANE_CHIEF = {"zh-hans": "巷长", "en": "Lane chief"}


@pytest.fixture
def given(small_city):
    """A lane chief of 人民市场东巷 whose post was given in the administration."""
    return make_person("li-given", Role.LANE_CHIEF, lane=small_city.renmin_lane)


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def chiefs_page(client, lane, language: str = "zh-hans") -> str:
    with time_machine.travel(NOW, tick=False):
        answer = client.get(
            reverse("lanes:appointments", args=[lane.pk]), HTTP_ACCEPT_LANGUAGE=language
        )
    assert answer.status_code == 200
    return answer.content.decode()


def held_rows(html: str) -> list[str]:
    """Who the page lists as holding the post without an appointment, a line each."""
    return [words(row) for row in re.findall(r"<li data-held>(.*?)</p>", html, re.S)]


def record(client, lane, person, language: str = "zh-hans", starts_on: str = "2026-08-03"):
    row = RoleAssignment.objects.get(person=person, lane=lane, role=Role.LANE_CHIEF)
    with time_machine.travel(NOW, tick=False):
        return client.post(
            reverse("lanes:record-appointment", args=[lane.pk, row.pk]),
            {f"record-{row.pk}-starts_on": starts_on},
            HTTP_ACCEPT_LANGUAGE=language,
        )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_chiefs_page_lists_a_chief_given_in_the_administration_beside_the_appointed_one(
    client, office, small_city, given, appointment, language
):
    lane = small_city.renmin_lane
    make_person("wang-steward", Role.STEWARD, lane=lane)
    closed = make_person("zhao-left", Role.LANE_CHIEF, lane=lane)
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    client.force_login(office)

    html = chiefs_page(client, lane, language)

    assert held_rows(html) == [f"li-given · {LANE_CHIEF[language]} · {NOTE[language]}"]
    appointed = words(html[html.index("data-running") : html.index("<li data-held>")])
    assert "liu-cadre" in appointed and NOTE[language] not in appointed
    assert WHOLE_PERIOD[language] in words(html)
    assert NOBODY[language] not in words(html)
    row = RoleAssignment.objects.get(person=given, lane=lane)
    form = html[html.index(reverse("lanes:record-appointment", args=[lane.pk, row.pk])) :]
    # The first day offered is today.
    assert f'name="record-{row.pk}-starts_on" value="2026-08-16"' in form[: form.index("</form>")]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_chiefs_page_says_nobody_holds_the_lane_only_when_nobody_does(
    client, office, small_city, language
):
    lane = small_city.renmin_lane
    client.force_login(office)

    empty = chiefs_page(client, lane, language)
    make_person("li-given", Role.LANE_CHIEF, lane=lane)
    held = chiefs_page(client, lane, language)

    assert NOBODY[language] in words(empty) and held_rows(empty) == []
    assert WHOLE_PERIOD[language] not in words(empty)
    assert NOBODY[language] not in words(held) and len(held_rows(held)) == 1


@pytest.mark.parametrize(
    ("language", "done", "already"),
    [
        ("zh-hans", "已记录对li-given的巷长任命。", "li-given已是人民市场东巷的巷长。"),
        (
            "en",
            "The appointment of li-given as lane chief is recorded.",
            "li-given is already lane chief of 人民市场东巷.",
        ),
    ],
)
def test_recording_the_appointment_of_a_chief_given_in_the_administration_keeps_their_role(
    client, office, small_city, given, language, done, already
):
    lane = small_city.renmin_lane
    RoleAssignment.objects.filter(person=given).update(public_phone="010-6711 2345")
    client.force_login(office)

    answer = record(client, lane, given, language)

    assert answer.status_code == 302
    appointment = ChiefAppointment.objects.get(person=given, lane=lane)
    assert (appointment.role, appointment.starts_on, appointment.ends_on) == (
        Role.LANE_CHIEF,
        date(2026, 8, 3),
        None,
    )
    [event] = AppointmentEvent.objects.filter(appointment=appointment)
    assert (event.kind, event.actor, event.actor_role, event.at) == (
        "appointed",
        office,
        Role.CHIEFS_OFFICE,
        NOW,
    )
    # The same role row, its published number kept: no second one.
    [role] = RoleAssignment.objects.filter(person=given, lane=lane)
    assert (role.role, role.public_phone) == (Role.LANE_CHIEF, "010-6711 2345")
    html = chiefs_page(client, lane, language)
    assert done in words(html)
    assert held_rows(html) == [] and "li-given" in words(html)
    # A second tap records nothing more and says why.
    again = record(client, lane, given, language)
    assert again.status_code == 302 and ChiefAppointment.objects.count() == 1
    assert AppointmentEvent.objects.count() == 1
    assert already in words(chiefs_page(client, lane, language))


def test_the_chiefs_office_of_another_township_cannot_record_an_appointment(
    client, small_city, given
):
    client.force_login(
        make_person("dongsi-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.dongsi)
    )

    answer = record(client, small_city.renmin_lane, given)

    assert answer.status_code == 403
    assert not ChiefAppointment.objects.exists() and not AppointmentEvent.objects.exists()


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("zh-hans", "任何人都不能任命自己或免去自己的任职。"),
        ("en", "Nobody appoints themselves or ends their own appointment."),
    ],
)
def test_nobody_records_their_own_appointment(client, office, small_city, language, refusal):
    lane = small_city.renmin_lane
    RoleAssignment.objects.create(person=office, role=Role.LANE_CHIEF, lane=lane)
    client.force_login(office)

    answer = record(client, lane, office, language)

    assert answer.status_code == 409
    assert refusal in words(answer.content.decode())
    assert not ChiefAppointment.objects.exists() and not AppointmentEvent.objects.exists()
    assert RoleAssignment.objects.filter(person=office, lane=lane).count() == 1


@pytest.mark.parametrize(
    ("starts_on", "status", "error"),
    [("2026-09-01", 409, "今天"), ("", 400, "请填写任职的第一天。"), ("16/08", 400, "2026-08-16")],
)
def test_a_bad_first_day_comes_back_on_the_chiefs_row_and_records_nothing(
    client, office, small_city, given, starts_on, status, error
):
    lane = small_city.renmin_lane
    client.force_login(office)

    answer = record(client, lane, given, starts_on=starts_on)

    assert answer.status_code == status
    [row] = re.findall(r"<li data-held>.*?</form>", answer.content.decode(), re.S)
    assert "<details open>" in row and error in words(row)
    assert not ChiefAppointment.objects.exists()


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("zh-hans", "人民市场东巷现有 2 名巷长：li-given、liu-cadre。"),
        ("en", "人民市场东巷 now has 2 lane chiefs: li-given, liu-cadre."),
    ],
)
def test_appointing_a_chief_names_the_one_who_holds_the_post_without_an_appointment(
    client, office, chief, small_city, given, language, said
):
    lane = small_city.renmin_lane
    client.force_login(office)

    with time_machine.travel(NOW, tick=False):
        client.post(
            reverse("lanes:appoint", args=[lane.pk]),
            {"username": "liu-cadre", "role": "lane_chief", "starts_on": "2026-08-16"},
            HTTP_ACCEPT_LANGUAGE=language,
        )

    assert said in words(chiefs_page(client, lane, language))
