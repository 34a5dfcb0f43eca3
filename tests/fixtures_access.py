"""The city of the page access matrix (tests/test_page_access_matrix.py): the case tests'
东城区 (龙潭街道 and 东四街道) with every persona of the matrix, among them a dispatcher of
东四街道 and an officer of 东四派出所 (a department neither summoned to the scene's case
nor serving 龙潭街道), and 西城区 beside it with a township dispatcher, a district
chief and an administrator of its own, and a case its dispatcher reported in 新街口街道.

The city and its scene (one object of each kind a page names in its address) are built once
for the module, in a transaction rolled back at the end; each test runs in a savepoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from tests.conftest import build_small_city, make_person, square
from tests.fixtures_assessment import scheme_one_third
from tests.fixtures_cases import (
    ON_THE_LANE,
    WhistleCity,
    beijing,
    build_whistle_city,
    on_site,
    png_bytes,
)
from whistle.api import tokens
from whistle.assessment.engine import update_scores
from whistle.cases import actions
from whistle.cases.checkpoints import create_checkpoint
from whistle.cases.models import Attachment, Summons
from whistle.cases.signing import init_key
from whistle.duty import actions as duty
from whistle.duty.models import Rotation
from whistle.notifications.models import Channel, Notification
from whistle.organisation.models import CentreMembership, Department, Jurisdiction, Person, Role
from whistle.patrols import actions as patrols
from whistle.patrols import training
from whistle.policies.offices import UnitInput, save_unit
from whistle.township import actions as township
from whistle.township import recruitment, stationed_actions

START = beijing(2026, 3, 10, 8, 0)
NOW = beijing(2026, 3, 10, 11, 0)
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANE: dict[str, Any] = {"lon": ON_THE_LANE[0], "lat": ON_THE_LANE[1]}
# Inside 新街口街道 of 西城区.
XINJIEKOU: dict[str, Any] = {"lon": 116.365, "lat": 39.945}


@dataclass
class AccessCity:
    city: WhistleCity
    people: dict[str, Person | None]  # by persona; None for the anonymous visitor
    # The values of the addresses' parameters, by parameter name.
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Each signed-in persona's session key.
    sessions: dict[str, str] = field(default_factory=dict)


def _xicheng(city: WhistleCity) -> dict[str, Person]:
    xicheng = Jurisdiction.objects.create(
        level="district",
        code="110102",
        name="西城区",
        parent=city.city.city,
        boundary=square(116.34, 39.88, 0.05),
    )
    xinjiekou = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110102003",
        name="新街口街道",
        parent=xicheng,
        boundary=square(116.36, 39.94),
    )
    admin = make_person("xicheng-admin", Role.ADMINISTRATOR, jurisdiction=xicheng)
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    return {
        "other_dispatcher": make_person(
            "xinjiekou-dispatcher", Role.DISPATCHER, jurisdiction=xinjiekou
        ),
        "other_district_chief": make_person(
            "xicheng-chief", Role.DISTRICT_CHIEF, jurisdiction=xicheng
        ),
        "other_admin": admin,
    }


def _dongsi_police_officer(city: WhistleCity) -> Person:
    """An officer of a department that serves 东四街道 alone: a department serving no
    township in particular serves the whole district, 龙潭街道 too."""
    station = Department.objects.create(
        code="dc-dongsi-pcs",
        name="东四派出所",
        kind="dispatched",
        sector=city.police.sector,
        district=city.district,
    )
    station.serves.add(city.city.dongsi)
    return make_person("dongsi-police-officer", Role.DEPARTMENT_OFFICER, department=station)


def _personas(city: WhistleCity) -> dict[str, Person | None]:
    district = city.district
    district_admin = make_person("dongcheng-admin", Role.ADMINISTRATOR, jurisdiction=district)
    superuser = make_person("superuser", Role.ADMINISTRATOR)
    district_admin.is_staff = superuser.is_staff = superuser.is_superuser = True
    district_admin.save(update_fields=["is_staff"])
    superuser.save(update_fields=["is_staff", "is_superuser"])
    district_staff = {
        "district_assessor": make_person(
            "dongcheng-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=district
        ),
        "chiefs_office": city.district_office,
        "district_chief": city.district_chief,
    }
    for person in district_staff.values():
        person.is_staff = True
        person.save(update_fields=["is_staff"])
    return {
        "anonymous": None,
        "resident": city.resident,
        "steward": city.steward,
        "lane_chief": city.lane_chief,
        "officer": city.urban_officer,
        "dispatcher": city.dispatcher,
        "township_chief": city.township_chief,
        "department_head": city.urban_head,
        **district_staff,
        "district_admin": district_admin,
        "superuser": superuser,
        "other_township_dispatcher": city.dongsi_dispatcher,
        "other_department_officer": _dongsi_police_officer(city),
        **_xicheng(city),
    }


def _scene(city: WhistleCity, people: dict[str, Person | None]) -> dict[str, Any]:
    """One object of each kind an address names, all of 东城区."""
    moments = iter(START + timedelta(minutes=n) for n in range(1, 180))
    scheme_one_third(city.district)
    reported = actions.report_case(
        city.steward, description="占道经营", **LANE, photos=[png_bytes()], now=next(moments)
    )
    actions.file_case(city.dispatcher, reported, category=city.street_vending, now=next(moments))
    whistle = actions.blow_whistle(
        city.dispatcher, reported, kind="routine", departments=[city.urban], now=next(moments)
    )
    summons = Summons.objects.get(whistle=whistle)
    on_site(city, summons, acknowledged_at=next(moments), at=next(moments))
    resident_case = actions.report_resident_case(
        name="王女士", description="垃圾", **LANE, reporter=city.resident, now=next(moments)
    ).case
    at = next(moments)
    with time_machine.travel(at, tick=False):
        patrol = patrols.start_patrol(city.steward, lane=city.lane, now=at)
        update_scores()
    roster = duty.start_roster(city.urban_head, department=city.urban, now=next(moments))
    rotation = duty.save_rotation(
        city.urban_head,
        roster,
        days=Rotation.Days.EVERY_DAY,
        handovers="08:00",
        turn=Rotation.Turn.DAY,
        starts_on=date(2026, 3, 1),
        members=[(city.urban_officer, None), (city.urban_head, None)],
        now=next(moments),
    )
    notification = Notification.objects.filter(
        recipient=city.urban_officer, channel=Channel.INBOX
    ).first()
    assert notification is not None
    token = tokens.issue_token(city.dispatcher, person=city.dispatcher, name="matrix")
    at = next(moments)
    matter = township.register_matter(
        city.district_office,
        city.district,
        kind="plan",
        title="农贸市场搬迁规划",
        description="征求意见",
        townships=[city.longtan],
        opinions_due_at=at + timedelta(days=10),
        responses_due_at=at + timedelta(days=20),
        now=at,
    )
    recommendation = township.file_recommendation(
        city.township_chief,
        city.longtan,
        department=city.police,
        leader_name="赵所长",
        leader_post="所长",
        proposal="reward",
        reasons="按时到场",
        now=next(moments),
    )
    call = recruitment.publish_call(
        city.township_chief,
        city.longtan,
        title="公开招募小巷管家",
        description="",
        lanes=[city.lane],
        opens_on=date(2026, 3, 10),
        closes_on=date(2026, 3, 31),
        now=next(moments),
    )
    applicant = recruitment.apply(
        call,
        name="梁萍",
        phone="13800138111",
        birth_date=date(1960, 5, 1),
        birth_year=None,
        healthy=True,
        communicates=True,
        party_member=True,
        lanes=[city.lane],
        now=next(moments),
    )
    session = training.record_training(
        city.district_office,
        organiser=city.district,
        topic="街巷长制",
        held_on=date(2026, 3, 9),
        place="区政府",
        trainer="王老师",
        audience="both",
        now=next(moments),
    )
    unit = save_unit(
        city.township_chief,
        city.longtan,
        UnitInput(kind="enforcement", name="综合执法队", categories=[city.street_vending]),
    )
    stationing = stationed_actions.station_person(
        city.township_chief,
        CentreMembership.objects.get(township=city.longtan, department=city.urban),
        city.urban_officer,
        started_on=date(2026, 3, 1),
        now=next(moments),
    )
    # A case of 西城区, for the pages a 东城 person must not open (and the reverse).
    xicheng_dispatcher = people["other_dispatcher"]
    assert xicheng_dispatcher is not None
    xicheng_case = actions.report_case(
        xicheng_dispatcher, description="共享单车占道", **XINJIEKOU, now=next(moments)
    )
    # A signed checkpoint over the scene's trails, as the worker writes them.
    init_key()
    checkpoint = create_checkpoint(now=timezone.now())
    return {
        "checkpoint": checkpoint.number,
        "reference": reported.reference,
        "xicheng_reference": xicheng_case.reference,
        "pk": Attachment.objects.get(case=reported).pk,
        "lane": city.lane.pk,
        "patrol": patrol.uuid,
        "rotation_pk": rotation.pk,
        "roster": roster.pk,
        "matter": matter.pk,
        "opinion": matter.opinions.get().pk,
        "recommendation": recommendation.pk,
        "steward_call": call.pk,
        "steward_application": applicant.pk,
        "steward_reference": applicant.reference,
        "training_session": session.pk,
        "unit": unit.pk,
        "stationing": stationing.pk,
        "file_format": "csv",
        "period": "2026-03",
        "department": city.urban.code,
        "year": 2026,
        "public_id": notification.uuid,
        "token_id": token.token.uuid,
        "resident_reference": resident_case.reference,
        "uidb64": "MQ",
        "token": "wrong-token",
        "code": f"{city.street_vending.major.kind}-{city.street_vending.full_code}",
    }


def _sessions(people: dict[str, Person | None]) -> dict[str, str]:
    """Signed in with the password alone: the second factor has its own tests
    (tests/test_two_factor.py)."""
    sessions = {}
    for persona, person in people.items():
        if person is not None:
            client = Client()
            client.force_login(person)
            sessions[persona] = client.session.session_key or ""
    return sessions


@pytest.fixture(name="access_city", scope="module")
def access_city_fixture(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[AccessCity]:
    folder = tmp_path_factory.mktemp("access")
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=FAST_HASHER,
            MEDIA_ROOT=str(folder / "media"),
            WHISTLE_TWO_FACTOR_ROLES=[],
            WHISTLE_SIGNING_KEY_FILE=str(folder / "keys" / "signing-key.pem"),
        ),
        transaction.atomic(),
        time_machine.travel(NOW, tick=False),
    ):
        city = build_whistle_city(build_small_city())
        people = _personas(city)
        kwargs = _scene(city, people)
        yield AccessCity(city, people, kwargs, _sessions(people))
        transaction.set_rollback(True)
