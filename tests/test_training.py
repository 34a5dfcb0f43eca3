"""Training sessions for chiefs and stewards, their attendance and recognitions: recorded by
the chiefs' offices (and the township's chief of lanes for training), never by the person
they concern, and shown in the chiefs' assessment."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import make_person
from tests.fixtures_measures import bj
from whistle.assessment.chiefs import chiefs_and_stewards
from whistle.cases.errors import InvalidInput, PermissionRefused
from whistle.organisation.models import Jurisdiction, Role
from whistle.patrols.models import Recognition, TrainingAttendance, TrainingSession
from whistle.patrols.training import recognise, record_attendance, record_training

pytestmark = pytest.mark.django_db

NOW = bj(8, 20, 10)


@pytest.fixture
def people(small_city):
    lane = small_city.renmin_lane
    return {
        "office": make_person(
            "longtan-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.longtan
        ),
        "district_office": make_person(
            "dc-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.district
        ),
        "township_chief": make_person(
            "sun-chief", Role.TOWNSHIP_CHIEF, jurisdiction=small_city.longtan
        ),
        "liu": make_person("刘跃明", Role.LANE_CHIEF, lane=lane),
        "liang": make_person("梁萍", Role.STEWARD, lane=lane),
        "dongsi_chief": make_person("东四巷长", Role.LANE_CHIEF, lane=small_city.dongsi_lane),
    }


def session(actor, organiser, audience="both", held_on=date(2026, 8, 18)):
    return record_training(
        actor,
        organiser=organiser,
        topic="街巷长制与“十无”标准",
        held_on=held_on,
        place="龙潭街道办事处三楼会议室",
        trainer="王老师",
        audience=audience,
        now=NOW,
    )


def test_the_townships_office_records_a_session_and_who_attended(people, small_city):
    s = session(people["office"], small_city.longtan)

    added = record_attendance(
        people["office"], s, people=[people["liu"].pk, people["liang"].pk], now=NOW
    )
    # Recorded twice, kept once.
    again = record_attendance(people["office"], s, people=[people["liu"].pk], now=NOW)

    assert (added, again) == (2, 0)
    assert (s.recorded_by, s.recorded_role, s.recorded_at) == (
        people["office"],
        Role.CHIEFS_OFFICE,
        NOW,
    )
    assert set(TrainingAttendance.objects.values_list("person__username", flat=True)) == {
        "刘跃明",
        "梁萍",
    }


def test_the_township_chief_and_the_districts_office_record_sessions_too(people, small_city):
    session(people["township_chief"], small_city.longtan)
    s = session(people["district_office"], small_city.district)
    # The district's office trains chiefs of every township of the district.
    record_attendance(
        people["district_office"], s, people=[people["dongsi_chief"].pk, people["liu"].pk]
    )
    assert TrainingSession.objects.count() == 2


def test_nobody_records_their_own_attendance_and_only_those_the_session_was_for_attend(
    people, small_city
):
    chiefs_only = session(people["office"], small_city.longtan, audience="chiefs")
    with pytest.raises(InvalidInput):
        # A steward at a session for chiefs.
        record_attendance(people["office"], chiefs_only, people=[people["liang"].pk])
    with pytest.raises(InvalidInput):
        # A chief of another township at 龙潭's session.
        record_attendance(people["office"], chiefs_only, people=[people["dongsi_chief"].pk])
    # A chief who is also on the office's staff cannot record themselves.
    people["liu"].roles.create(role=Role.CHIEFS_OFFICE, jurisdiction=small_city.longtan)
    with pytest.raises(PermissionRefused):
        record_attendance(people["liu"], chiefs_only, people=[people["liu"].pk])
    assert TrainingAttendance.objects.count() == 0


def test_only_the_office_holding_it_records_a_session_and_never_ahead(people, small_city):
    dongsi_office = make_person("dongsi-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.dongsi)
    with pytest.raises(PermissionRefused):
        session(dongsi_office, small_city.longtan)
    with pytest.raises(PermissionRefused):
        session(people["liu"], small_city.longtan)
    with pytest.raises(InvalidInput) as refused:
        session(people["office"], small_city.longtan, held_on=date(2026, 8, 21))
    assert refused.value.field == "held_on"
    assert TrainingSession.objects.count() == 0


def test_a_recognition_needs_a_chiefs_office_and_reasons_and_nobody_recognises_themselves(
    people, small_city
):
    with pytest.raises(PermissionRefused):
        recognise(
            people["township_chief"], office=small_city.longtan, person=people["liang"], reasons="x"
        )
    with pytest.raises(InvalidInput):
        recognise(people["office"], office=small_city.longtan, person=people["liang"], reasons=" ")
    with pytest.raises(InvalidInput):
        # Not a chief or steward of 龙潭街道.
        recognise(
            people["office"], office=small_city.longtan, person=people["dongsi_chief"], reasons="x"
        )
    people["office"].roles.create(role=Role.STEWARD, lane=small_city.renmin_lane)
    with pytest.raises(PermissionRefused):
        recognise(people["office"], office=small_city.longtan, person=people["office"], reasons="x")
    assert Recognition.objects.count() == 0


def test_attendance_and_recognitions_appear_in_the_chiefs_assessment_of_the_period(
    people, small_city
):
    august = session(people["office"], small_city.longtan)
    july = session(people["office"], small_city.longtan, held_on=date(2026, 7, 31))
    for s in (august, july):
        record_attendance(people["office"], s, people=[people["liu"].pk, people["liang"].pk])
    recognise(
        people["office"],
        office=small_city.longtan,
        person=people["liang"],
        reasons="坚持每日巡查夕照寺西里，带动邻里参与",
        now=NOW,
    )

    chiefs, stewards = chiefs_and_stewards(
        small_city.district, "2026-08", township=small_city.longtan, now=NOW
    )
    [liu] = chiefs
    [liang] = stewards
    assert (liu.trainings, liu.recognitions) == (1, ())
    assert liang.trainings == 1
    assert [r.reasons for r in liang.recognitions] == ["坚持每日巡查夕照寺西里，带动邻里参与"]
    _chiefs, stewards = chiefs_and_stewards(
        small_city.district, "2026-Q3", township=small_city.longtan, now=NOW
    )
    assert stewards[0].trainings == 2


def test_the_chiefs_page_shows_attendance_and_the_recognitions(client, people, small_city):
    s = session(people["office"], small_city.longtan)
    record_attendance(people["office"], s, people=[people["liu"].pk])
    recognise(
        people["office"],
        office=small_city.longtan,
        person=people["liu"],
        reasons="巡查认真",
        now=NOW,
    )
    client.force_login(people["office"])
    with time_machine.travel(NOW, tick=False):
        html = client.get(
            reverse("district:chiefs"), {"period": "2026-08", "township": "110101015"}
        ).content.decode()
    assert "参加培训" in html and "巡查认真" in html


def test_the_training_pages_record_a_session_and_its_attendance(client, people, small_city):
    client.force_login(people["office"])
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("district:training"),
            {
                "organiser": small_city.longtan.pk,
                "topic": "小巷管家工作方法",
                "held_on": "2026-08-19",
                "place": "夕照寺社区活动室",
                "trainer": "王老师",
                "audience": "stewards",
            },
        )
        s = TrainingSession.objects.get()
        assert response.status_code == 302
        page = client.get(reverse("district:training-session", args=[s.pk])).content.decode()
        assert "梁萍" in page and "刘跃明" not in page
        client.post(
            reverse("district:training-session", args=[s.pk]), {"people": [people["liang"].pk]}
        )
        assert list(s.attendances.values_list("person", flat=True)) == [people["liang"].pk]
        response = client.post(
            reverse("district:recognitions"),
            {"office": small_city.longtan.pk, "person": people["liang"].pk, "reasons": "热心"},
        )
        assert response.status_code == 302
        assert Recognition.objects.get().recorded_by == people["office"]
    # A lane chief may not open them.
    client.force_login(people["liu"])
    assert client.get(reverse("district:training")).status_code == 403


def test_the_steward_reads_their_training_and_recognitions_on_their_patrol_page(
    client, people, small_city
):
    s = session(people["office"], small_city.longtan)
    record_attendance(people["office"], s, people=[people["liang"].pk])
    recognise(
        people["office"],
        office=small_city.longtan,
        person=people["liang"],
        reasons="热心肠",
        now=NOW,
    )
    client.force_login(people["liang"])
    html = client.get(reverse("patrol:history")).content.decode()
    assert "您参加了 1 次培训。" in html
    assert "受到龙潭街道街巷长办公室表彰" in html and "热心肠" in html
    # In English, the office's township by its English name.
    Jurisdiction.objects.filter(pk=small_city.longtan.pk).update(name_en="Longtan Subdistrict")
    english = client.get(reverse("patrol:history"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Recognised by the chiefs' office of Longtan Subdistrict" in english
