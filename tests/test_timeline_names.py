"""The case's timeline names the departments its events recorded in the reader's language:
the English name an event kept, or for an event recorded before, the department's English
name of today; the name recorded wherever there is no English name."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import case_url
from whistle.cases import actions
from whistle.cases.models import Event
from whistle.cases.trail import EventKind, record
from whistle.cases.verify import verify_database
from whistle.desk import timeline
from whistle.organisation.models import Department, Role

NOW = beijing(2026, 3, 10, 10, 0)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def english(department: Department, name_en: str) -> None:
    department.name_en = name_en
    department.save(update_fields=["name_en"])


def lines_of(case, kind: str, label: str, language: str) -> list[str]:
    """The values of the lines labelled `label` of the case's `kind` events, as a reader in
    `language` reads the timeline."""
    events = Event.objects.filter(case=case).select_related("actor", "summons__department")
    with translation.override(language):
        return [
            line.value
            for entry in timeline.entries(events.order_by("seq"), case=case)
            if entry.kind == kind
            for line in entry.lines
            if line.label == str(translation.gettext(label))
        ]


def old_event(case, city, **data) -> Event:
    """A decline as the trail recorded it before it kept English names."""
    return record(
        case,
        EventKind.DECLINED,
        actor=city.police_officer,
        role=Role.DEPARTMENT_OFFICER,
        at=NOW,
        data=data,
    )


def test_new_events_keep_the_english_name_and_an_english_reader_reads_it(whistle_city):
    city = whistle_city
    english(city.urban, "Urban Management Bureau")
    english(city.police, "Longtan Police Station")
    english(city.fire, "Tiantan Fire and Rescue Station")
    case, _whistle, summonses = whistled_case(city, at=NOW)
    actions.decline(
        city.police_officer,
        summonses[city.police.pk],
        reason="消防通道占用",
        named_department=city.fire,
        now=NOW,
    )
    # Renamed since: the events read as they were recorded.
    english(city.fire, "Fire Station (renamed)")

    assert lines_of(case, EventKind.WHISTLE_BLOWN, "Departments", "en") == [
        "Urban Management Bureau, Longtan Police Station"
    ]
    assert sorted(lines_of(case, EventKind.SUMMONED, "Department", "en")) == [
        "Longtan Police Station",
        "Urban Management Bureau",
    ]
    assert lines_of(case, EventKind.DECLINED, "Department named as responsible", "en") == [
        "Tiantan Fire and Rescue Station"
    ]
    assert lines_of(case, EventKind.WHISTLE_BLOWN, "Departments", "zh-hans") == [
        "东城区城管执法局、龙潭派出所"
    ]
    assert lines_of(case, EventKind.DECLINED, "Department named as responsible", "zh-hans") == [
        "天坛消防救援站"
    ]
    # The English names are part of what the hash covers: the trail still verifies.
    assert verify_database(references=[case.reference]).ok


def test_an_event_recorded_before_reads_the_departments_english_name_of_today(whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city, at=NOW)
    old_event(
        case,
        city,
        departments=[{"code": city.urban.code, "name": "东城区城管局"}],
        # Found by its id, though its code has changed since.
        named_department={"id": city.fire.pk, "code": "dc-xfz-old", "name": "天坛消防站"},
    )
    english(city.urban, "Urban Management Bureau")
    english(city.fire, "Tiantan Fire and Rescue Station")

    assert lines_of(case, EventKind.DECLINED, "Departments", "en") == ["Urban Management Bureau"]
    assert lines_of(case, EventKind.DECLINED, "Department named as responsible", "en") == [
        "Tiantan Fire and Rescue Station"
    ]
    # A Chinese reader reads the names as recorded.
    assert lines_of(case, EventKind.DECLINED, "Departments", "zh-hans") == ["东城区城管局"]
    assert lines_of(case, EventKind.DECLINED, "Department named as responsible", "zh-hans") == [
        "天坛消防站"
    ]


def test_a_department_without_an_english_name_or_gone_is_named_as_recorded(whistle_city):
    city = whistle_city
    english(city.police, "Longtan Police Station")
    case, _whistle, _summonses = whistled_case(city, at=NOW)
    old_event(
        case,
        city,
        departments=[{"code": "dc-gone", "name": "已撤销的部门"}],
        named_department={"id": 10**6, "code": city.police.code, "name": "另一个部门"},
    )

    # Urban management has no English name: the one its summons kept is empty.
    assert lines_of(case, EventKind.WHISTLE_BLOWN, "Departments", "en") == [
        "东城区城管执法局, Longtan Police Station"
    ]
    assert lines_of(case, EventKind.DECLINED, "Departments", "en") == ["已撤销的部门"]
    # An id no department has any more: not another department that took its code.
    assert lines_of(case, EventKind.DECLINED, "Department named as responsible", "en") == [
        "另一个部门"
    ]


def test_a_department_given_its_english_name_after_the_event_is_read_in_english(whistle_city):
    city = whistle_city
    case, _whistle, _summonses = whistled_case(city, at=NOW)
    english(city.urban, "Urban Management Bureau")

    assert sorted(lines_of(case, EventKind.SUMMONED, "Department", "en")) == [
        "Urban Management Bureau",
        "龙潭派出所",
    ]


def page_queries(client, case) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return len(queries)


def test_the_case_page_looks_up_every_department_of_the_trail_at_once(client, whistle_city):
    city = whistle_city
    for department, name in (
        (city.urban, "Urban Management Bureau"),
        (city.police, "Longtan Police Station"),
        (city.fire, "Tiantan Fire and Rescue Station"),
        (city.housing, "Housing Bureau"),
    ):
        english(department, name)
    case, _whistle, _summonses = whistled_case(city, at=NOW)
    old_event(case, city, departments=[{"code": city.urban.code, "name": "城管"}])
    client.force_login(city.dispatcher)
    page_queries(client, case)  # what the process caches is read once
    one = page_queries(client, case)
    old_event(
        case,
        city,
        departments=[
            {"code": d.code, "name": d.name} for d in (city.police, city.fire, city.housing)
        ],
        named_department={"id": city.fire.pk, "code": city.fire.code, "name": city.fire.name},
    )
    assert page_queries(client, case) == one
    html = client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        "<dt>Departments</dt><dd>Longtan Police Station, Tiantan Fire and Rescue Station, "
        "Housing Bureau</dd>"
    ) in html
